// `npm run bench`: every benchmark, one after another (the build has run first). Its options go to the
// install benchmark (bench/install.ts), the one with goals; the others run with their defaults.
//
//   npm run bench [-- --runs N] [-- --only NAME,...] [-- --delay MS] [-- --bin PATH] [-- --help]

import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_USAGE } from "./report.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(`npm run bench [-- OPTIONS]: the install benchmark with OPTIONS, then the inflate, gzip-scan and compile benchmarks.\n\n${BENCH_USAGE}\n\nThe others, run alone:\n  node --import tsx bench/inflate.ts      node:zlib against pako at windowBits 12\n  node --import tsx bench/gzip-scan.ts    the exact gzip window check\n  node --import tsx bench/compile.ts [--modules N] [--runs N] [--src]   --compile through the WebAssembly mpy-cross\n  node --import tsx bench/cpu-path.ts --help   an install's own CPU cost, no network delay`);
  process.exit(0);
}
for (const [file, given] of [["install.ts", args], ["inflate.ts", []], ["gzip-scan.ts", []], ["compile.ts", []]] as const) {
  const run = spawnSync(process.execPath, ["--import", "tsx", path.join(here, file), ...given], { stdio: "inherit" });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
