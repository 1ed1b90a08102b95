// `--compile` on its own: the same generated modules (a few KiB each) through the WebAssembly
// mpy-cross with --jobs 1 (one worker thread), with mpip's default --jobs (workers up to the core
// count), and all on the main thread (how it ran before worker threads). Every run starts with no
// workers, as a CLI run does, so worker start-up and wasm loading are counted. Prints the median
// times, the ratios, and whether every run wrote the same bytes. Not a test: it prints figures.
//
//   node --import tsx bench/compile.ts [--modules N] [--runs N] [--src]
//
// It measures the built code in dist/ (what the CLI runs; `npm run bench` builds first) unless
// `--src` is given or dist/ is missing; the sources' workers start slower (tsx loads in each).

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_JOBS } from "../src/install.js";

type CompileModule = typeof import("../src/mpy/compile.js");

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const moduleCount = option("--modules", 60);
const runs = option("--runs", 3);
const built = path.join(root, "dist", "mpy", "compile.js");
const fromDist = !process.argv.includes("--src") && existsSync(built);
const { compileTree, stopWasmWorkers, wasmCompiler } = (await import(
  fromDist ? pathToFileURL(built).href : "../src/mpy/compile.js"
)) as CompileModule;

/** A module of roughly 3 KiB: a class, some functions and tables, different in every module. */
function moduleSource(index: number): string {
  const lines = [`# generated module ${index}`, "import math", "", `SCALE = ${index + 1}`, `NAMES = ${JSON.stringify(Array.from({ length: 8 }, (_, i) => `name_${index}_${i}`))}`, ""];
  lines.push(`class Shape${index}:`, "    def __init__(self, width, height):", "        self.width = width", "        self.height = height");
  lines.push("    def area(self):", "        return self.width * self.height * SCALE", "    def __repr__(self):", `        return 'Shape${index}(%d, %d)' % (self.width, self.height)`, "");
  for (let f = 0; f < 12; f++) {
    lines.push(`def f${f}(values, limit=${f + index}):`, "    total = 0", "    for i, value in enumerate(values):", `        if value % ${f + 2} == 0 and i < limit:`);
    lines.push(`            total += value * ${f + 1}`, "        elif value > limit:", "            total -= math.floor(value / 3)", "    return {'total': total, 'name': NAMES[total % len(NAMES)]}", "");
  }
  return lines.join("\n");
}

async function compileOnce(dir: string, files: string[], jobs: number, mainThread: boolean): Promise<{ seconds: number; bytes: Buffer[] }> {
  await stopWasmWorkers();
  const compiler = mainThread ? wasmCompiler({ pool: "main-thread" }) : wasmCompiler();
  const started = performance.now();
  const result = await compileTree(dir, files, { compiler, keepSources: true, jobs });
  const seconds = (performance.now() - started) / 1000;
  const bytes = await Promise.all(result.compiled.map((file) => readFile(path.join(dir, file))));
  return { seconds, bytes };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dir = await mkdtemp(path.join(os.tmpdir(), "mpip-bench-compile-"));
try {
  const files = Array.from({ length: moduleCount }, (_, i) => `mod${String(i).padStart(3, "0")}.py`);
  let sourceBytes = 0;
  for (const [i, file] of files.entries()) {
    const source = moduleSource(i);
    sourceBytes += source.length;
    await writeFile(path.join(dir, file), source);
  }
  const cases = [
    { label: "--jobs 1 (one worker)", jobs: 1, mainThread: false },
    { label: `--jobs ${DEFAULT_JOBS} (default)`, jobs: DEFAULT_JOBS, mainThread: false },
    { label: "main thread (before)", jobs: DEFAULT_JOBS, mainThread: true },
  ];
  const seconds: number[][] = cases.map(() => []);
  let reference: Buffer[] | undefined;
  let identical = true;
  // Interleaved, after one unmeasured warm-up, so neither case gets the process's warm caches alone.
  for (let run = -1; run < runs; run++) {
    for (const [i, entry] of cases.entries()) {
      const measured = await compileOnce(dir, files, entry.jobs, entry.mainThread);
      if (run >= 0) seconds[i]!.push(measured.seconds);
      reference ??= measured.bytes;
      identical &&= measured.bytes.length === reference.length && measured.bytes.every((bytes, at) => bytes.equals(reference![at]!));
    }
  }
  await stopWasmWorkers();
  const medians = seconds.map(median);
  console.log(`${moduleCount} modules, ${(sourceBytes / moduleCount / 1024).toFixed(1)} KiB each on average; ${os.availableParallelism()} cores; code from ${fromDist ? "dist/" : "src/ (tsx)"}; median of ${runs} runs`);
  for (const [i, entry] of cases.entries()) {
    console.log(`${entry.label.padEnd(28)} ${medians[i]!.toFixed(3)} s  (${((medians[i]! * 1000) / moduleCount).toFixed(1)} ms/module)`);
  }
  console.log(`ratio --jobs 1 / default: ${(medians[0]! / medians[1]!).toFixed(2)}x; main thread / default: ${(medians[2]! / medians[1]!).toFixed(2)}x`);
  console.log(`output bytes identical: ${identical ? "yes" : "no"}`);
  if (!identical) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
