// Preloaded into a benchmarked process (bench/cpu-path.ts): at exit, appends "<user+system CPU ms> <wall ms
// since the process started>" to $MPIP_BENCH_CPU_FILE. CPU time moves less than wall time when other work
// shares the machine, so the bench reports both.
import { appendFileSync } from "node:fs";

const file = process.env.MPIP_BENCH_CPU_FILE;
if (file !== undefined && file !== "") {
  process.on("exit", () => {
    const { user, system } = process.cpuUsage();
    appendFileSync(file, `${((user + system) / 1000).toFixed(1)} ${(performance.now()).toFixed(1)}\n`);
  });
}
