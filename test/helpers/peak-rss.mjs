// Preloaded into a child mpip (`NODE_OPTIONS=--import=<this file>`, see test/memory.test.ts): when the
// process exits, it writes its peak resident set size in KiB to the file named by
// MPIP_TEST_PEAK_RSS_FILE. The figure is VmHWM from /proc/self/status, the high-water mark of this
// process's own memory since it was exec'd (every thread included). getrusage's ru_maxrss is not used:
// Linux carries it over from the forking parent, so a child of a big test runner reports the runner's size.
// Plain JavaScript, so that the child needs no TypeScript loader (which would change its baseline).
import { readFileSync, writeFileSync } from "node:fs";

const file = process.env.MPIP_TEST_PEAK_RSS_FILE;
if (file !== undefined && file !== "") {
  process.on("exit", () => {
    const match = /^VmHWM:\s*(\d+)\s*kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    writeFileSync(file, match === null ? "unknown" : match[1]);
  });
}
