// For bench/install.ts: runs mpip command lines one after another in this one process, with the bundled
// CLI loaded once (as bin/mpip.js loads it, src/code-cache.ts), and prints each run's wall time in ms as a
// JSON array. After the first runs, every function the command runs is compiled and optimized: what a run
// then takes is its work alone (requests, hashing, unpacking, files, the commit), with none of a new
// process's start-up and first execution. A figure measured from a new process cannot go below it.
//
//   node bench/warm-floor.cjs DIST '[["install", ...], ["install", ...], ...]'
"use strict";
const path = require("node:path");

const [dist, runsJson] = process.argv.slice(2);
const { loadBundle } = require(path.join(dist, "start.cjs"));
let cli;
// Never writes the full code cache: these runs are not what a user's runs compile.
cli = loadBundle(path.join(dist, "mpip.cjs"), { partial: false, endedEarly: () => true, beforeCaching: () => cli?.restoreWasmTiering?.() }).exports;
cli.useBaselineWasm?.();

(async () => {
  const times = [];
  for (const args of JSON.parse(runsJson)) {
    const started = performance.now();
    const code = await cli.main(["node", "mpip", ...args]);
    if (code !== 0) throw new Error(`\`mpip ${args.join(" ")}\` exited with ${code}`);
    times.push(performance.now() - started);
  }
  process.stdout.write(`${JSON.stringify(times)}\n`);
})().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exitCode = 1;
});
