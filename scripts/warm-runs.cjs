// Run by scripts/warm-code-cache.mjs: loads the bundled CLI as bin/mpip.js does (src/code-cache.ts
// loadBundle, with no cache there yet) and runs, in this one process, each command line given as a JSON
// array of arguments, one after another. The code cache of KIND (`full`, or `locked` for the runs that
// install from a lock) written when the process exits then holds every function those runs compiled:
// the union of the paths they take, which no single run covers.
//
//   node scripts/warm-runs.cjs full|locked '[["install", ...], ["lock", ...], ...]'
"use strict";
const path = require("node:path");

const dist = path.join(__dirname, "..", "dist");
const { loadBundle } = require(path.join(dist, "start.cjs"));
const kind = process.argv[2];
if (kind !== "full" && kind !== "locked") throw new Error(`warm-runs.cjs: the kind of cache is full or locked, not ${kind}`);
const runs = JSON.parse(process.argv[3] ?? "[]");
let failed = false;
let cli;
// As bin/mpip.js: a run that did not complete writes no full cache, and the V8 flag the CLI sets for
// WebAssembly is set back before the cache is made.
cli = loadBundle(path.join(dist, "mpip.cjs"), { partial: false, locked: kind === "locked", endedEarly: () => failed, beforeCaching: () => cli?.restoreWasmTiering?.() }).exports;
cli.useBaselineWasm?.();

(async () => {
  for (const args of runs) {
    const code = await cli.main(["node", "mpip", ...args]);
    if (code !== 0) {
      failed = true;
      process.stderr.write(`\`mpip ${args.join(" ")}\` exited with ${code}\n`);
      process.exitCode = 1;
      return;
    }
  }
})().catch((error) => {
  failed = true;
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exitCode = 1;
});
