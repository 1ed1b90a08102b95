// Preloaded into a benchmarked mpip process: writes its peak RSS (KiB) to $MPIP_BENCH_RSS_FILE at exit.
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  if (process.env.MPIP_BENCH_RSS_FILE) writeFileSync(process.env.MPIP_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
