// The per-package CPU path and memory of an install, with no network delay: what an install costs beyond
// Node's own start-up. Builds a graph like the (21 small packages, 4 levels deep, a few KiB of
// Python each) on a PyPI JSON index on loopback, then measures, interleaved run by run so that a shared
// machine's load falls on every figure alike:
//   - `node -e 0` (Node's start-up, the baseline every figure is read against),
//   - a cold install (its own empty download cache each run),
//   - a locked install with a warm cache (`install --lock` after a first locked install filled the cache;
//     it must send no request),
// and, once per build, the peak RSS (VmHWM) of a cold install of a 200-package graph at the default --jobs.
// `--compare DIR` measures another built checkout of mpip (DIR/bin/mpip.js) the same way, interleaved
// with this one: a before/after on one loaded machine. `--profile DIR` also writes a `--cpu-prof` profile
// of one run of each. Not a test: it prints medians.
//
//   npm run build && node --import tsx bench/cpu-path.ts [--runs N] [--big N] [--compare DIR] [--profile DIR]

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withoutMachineSettings } from "../scripts/machine-env.js";
import { startIndexServer } from "../test/helpers/index-server.js";
import { publishGraph } from "./cpu-path-graph.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const peakRss = path.join(root, "test", "helpers", "peak-rss.mjs");
const USAGE = `node --import tsx bench/cpu-path.ts [--runs N] [--big N] [--compare DIR] [--profile DIR]

  --runs N        interleaved runs of each figure, whose medians are printed (default 7)
  --big N         packages in the graph whose peak RSS is measured (default 200)
  --compare DIR   also measure another built checkout of mpip (DIR/bin/mpip.js), interleaved with this one
  --profile DIR   write a --cpu-prof profile of one run of each into DIR (the second of two
                  runs under the same options: the first makes their code cache)`;
const given = new Map<string, string>();
{
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  for (let at = 0; at < argv.length; at += 2) {
    const [name, value] = [argv[at]!, argv[at + 1]];
    const problem = !["--runs", "--big", "--compare", "--profile"].includes(name) ? `unknown option \`${name}\``
      : value === undefined || value.startsWith("--") ? `${name} needs a value`
        : (name === "--runs" || name === "--big") && !/^[1-9]\d*$/.test(value) ? `${name} takes a whole number from 1, not \`${value}\``
          : undefined;
    if (problem !== undefined) {
      console.error(`error: ${problem}\n\n${USAGE}`);
      process.exit(2);
    }
    given.set(name, value!);
  }
}
const argument = (name: string): string | undefined => given.get(name);
const runs = Number(argument("--runs") ?? "7");
const bigCount = Number(argument("--big") ?? "200");
const profileDir = argument("--profile");
const compare = argument("--compare");
const builds = [{ label: "this", bin: path.join(root, "bin", "mpip.js") }, ...(compare === undefined ? [] : [{ label: path.resolve(compare), bin: path.resolve(compare, "bin", "mpip.js") }])];

interface Sample {
  seconds: number;
  /** User and system CPU time of the process, in ms (cpu-probe.mjs). */
  cpuMs: number;
  requests: number;
}

const cpuProbe = path.join(root, "bench", "cpu-probe.mjs");
let probes = 0;

function run(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // Without what would tie the figures to the shell (scripts/machine-env.ts), as bench/install.ts runs.
    execFile(process.execPath, command, { env: { ...withoutMachineSettings(process.env), NO_COLOR: "1", ...env }, maxBuffer: 64 << 20 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${command.join(" ")} failed: ${stderr}`)) : resolve((performance.now() - started) / 1000),
    );
  });
}

/** Runs `command` under cpu-probe.mjs: its wall time in seconds and its CPU time in ms. */
async function measured(command: string[], env: NodeJS.ProcessEnv): Promise<{ seconds: number; cpuMs: number }> {
  const file = path.join(work, `cpu-${++probes}`);
  const seconds = await run(["--import", cpuProbe, ...command], { ...env, MPIP_BENCH_CPU_FILE: file });
  return { seconds, cpuMs: Number((await readFile(file, "utf8")).split(" ")[0]) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const server = await startIndexServer();
const work = await mkdtemp(path.join(os.tmpdir(), "mpip-cpu-bench-"));
try {
  const roots = await publishGraph(server, "small", [1, 4, 8, 8]);
  const bigRoots = bigCount > 0 ? await publishGraph(server, "big", Array.from({ length: Math.ceil(bigCount / 25) }, () => 25)) : [];
  const lockFile = path.join(work, "pylock.toml");
  await run([builds[0]!.bin, "lock", "-q", "-i", server.url, "-o", lockFile, ...roots], { MPIP_CACHE_DIR: path.join(work, "cache-lock") });
  const nodeSamples: Array<{ seconds: number; cpuMs: number }> = [];
  const perBuild = builds.map((build, b) => ({ ...build, warmCache: path.join(work, `cache-warm-${b}`), cold: [] as Sample[], locked: [] as Sample[], peak: "not measured (--big 0)" }));
  for (const build of perBuild) await run([build.bin, "install", "-q", "--lock", lockFile, "-p", path.join(work, "prime")], { MPIP_CACHE_DIR: build.warmCache });

  for (let i = 0; i < runs; i++) {
    nodeSamples.push(await measured(["-e", "0"], {}));
    for (const build of perBuild) {
      let before = server.requests.length;
      const cold = await measured([build.bin, "install", "-q", "-i", server.url, "-p", path.join(work, `cold-${i}`), ...roots], { MPIP_CACHE_DIR: path.join(work, `cache-cold-${i}`) });
      build.cold.push({ ...cold, requests: server.requests.length - before });
      before = server.requests.length;
      const locked = await measured([build.bin, "install", "-q", "--lock", lockFile, "-p", path.join(work, `locked-${i}`)], { MPIP_CACHE_DIR: build.warmCache });
      build.locked.push({ ...locked, requests: server.requests.length - before });
      for (const folder of [`cold-${i}`, `cache-cold-${i}`, `locked-${i}`]) await rm(path.join(work, folder), { recursive: true, force: true });
    }
  }
  if (profileDir !== undefined) {
    await mkdir(profileDir, { recursive: true });
    const prof = (name: string) => ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name", `${name}.cpuprofile`];
    // Node's options tag the code cache (src/code-cache.ts): the first run of each under these options finds
    // none and makes it, so only the second, which profiles a run as users have it, is kept.
    for (const [b, build] of perBuild.entries()) {
      for (const round of [0, 1]) {
        await run([...prof(`cold-${b}`), build.bin, "install", "-q", "-i", server.url, "-p", path.join(work, `prof-cold-${b}-${round}`), ...roots], { MPIP_CACHE_DIR: path.join(work, `cache-prof-${b}-${round}`) });
        await run([...prof(`locked-${b}`), build.bin, "install", "-q", "--lock", lockFile, "-p", path.join(work, `prof-locked-${b}-${round}`)], { MPIP_CACHE_DIR: build.warmCache });
      }
    }
  }
  // 200 packages: 8 levels of 25, each requiring its share of the next and a neighbour's.
  for (const [b, build] of perBuild.entries()) {
    if (bigRoots.length === 0) continue;
    const rssFile = path.join(work, `rss-${b}`);
    await run(["--import", peakRss, build.bin, "install", "-q", "-i", server.url, "-p", path.join(work, `big-${b}`), ...bigRoots], { MPIP_CACHE_DIR: path.join(work, `cache-big-${b}`), MPIP_TEST_PEAK_RSS_FILE: rssFile });
    build.peak = `${(Number(await readFile(rssFile, "utf8")) / 1024).toFixed(1)} MiB`;
  }

  const node = median(nodeSamples.map((s) => s.seconds));
  const nodeCpu = median(nodeSamples.map((s) => s.cpuMs));
  const line = (label: string, list: Sample[]) => {
    const seconds = median(list.map((s) => s.seconds));
    const cpuMs = median(list.map((s) => s.cpuMs));
    return `  ${label.padEnd(28)} ${seconds.toFixed(3)} s = node + ${((seconds - node) * 1000).toFixed(0).padStart(4)} ms;  CPU ${cpuMs.toFixed(0).padStart(4)} ms = node + ${(cpuMs - nodeCpu).toFixed(0).padStart(4)} ms  (${median(list.map((s) => s.requests))} requests)`;
  };
  console.log(`mpip per-package path: 21 packages, 4 levels, no delay; median of ${runs} interleaved runs (wall, and user+system CPU)`);
  console.log(`  ${"node -e 0".padEnd(28)} ${node.toFixed(3)} s;  CPU ${nodeCpu.toFixed(0)} ms`);
  for (const build of perBuild) {
    console.log(`${build.label}:`);
    console.log(line("install, cold cache", build.cold));
    console.log(line("install --lock, warm cache", build.locked));
    console.log(`  peak RSS, cold install of ${bigCount} packages (${bigRoots.length} roots), default --jobs: ${build.peak}`);
  }
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
