// Preloaded into a benchmarked process (`node --require`): writes its peak RSS (KiB) to
// $MPIP_BENCH_RSS_FILE at exit. A CommonJS preload on purpose: `--import` would start Node's ES module
// loader, which then loads bin/mpip.js too, adding ~10-15 ms to every mpip run that users do not pay.
"use strict";
const { writeFileSync } = require("node:fs");

process.on("exit", () => {
  if (process.env.MPIP_BENCH_RSS_FILE) writeFileSync(process.env.MPIP_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
