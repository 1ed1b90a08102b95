// `npm run bench`: mpip's speed and memory, as ratios against baselines measured in the same run (never
// as absolute goals: the machine may be shared). Packages are built here and served on loopback by the
// test index server, which answers PyPI's JSON API, a simple index and a micropython-lib v2 index at once,
// with a delay per answer standing for a network round trip. Two kinds of server:
// - keep-alive: keeps connections open, as a real index or a CDN does;
// - closing: closes the connection after each answer and listens with a backlog of 5, as
//   `python -m http.server` does (the server people put in front of a folder of packages); a burst of
//   new connections beyond its accept queue waits for TCP's SYN retry, about a second.
// The figures, each with its goal (issue 13):
// 1. A graph of 21 packages 4 levels deep, at 40 ms per answer, for each index kind and server kind:
//    the default against `--jobs 1` (one request at a time, as upip and mip fetch; goal: 3x faster) and
//    against the ideal, Node's start-up + 2 round trips per level (a package's metadata, then its
//    archive, which names the next level; goal: within 1.5x).
// 2. The same graph with no delay: the install beyond Node's start-up (goal: 150 ms); `--version` and
//    `--help` beyond Node's start-up (goal: 30 ms). Under it, the floor: the same install run again and
//    again in one process (bench/warm-floor.cjs), every function compiled, the work alone.
// 3. A locked install with a warm cache: the requests it sends (goal: none) and its time beyond Node's
//    start-up (goal: 100 ms); beside it the cold and warm installs it replaces, and its floor as above.
// 4. Peak memory of an install of 200 packages (goal: under 100 MiB).
// 5. The 60-package graph (12 chains 5 deep) with --compile, as a ratio of the plain install.
// Node's start-up is `node -e 0`, timed just before each run it is taken from (see `measure`). Targets and caches are made in os.tmpdir():
// `TMPDIR=/dev/shm` keeps ext4's slower inode allocation after mass removals out of the figures (README).
//
//   node --import tsx bench/install.ts [--delay MS] [--runs N] [--only NAME,...] [--bin PATH]
//
// --only: start, graph, nodelay, locked, memory, compile. --bin: the mpip to measure (default this
// checkout's bin/mpip.js), e.g. an older build's, to give before-and-after figures from one machine.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withoutMachineSettings } from "../scripts/machine-env.js";
import { startIndexServer, type IndexServer } from "../test/helpers/index-server.js";
import { serveMipIndex } from "../test/helpers/mip-index.js";
import { serveSimple } from "../test/helpers/simple-index.js";
import { asksForHelp, BENCH_USAGE, graphHeader, graphRow, loadNote, ms, parseBenchArgs, preamble, seconds, startLine, verdict, type BenchArgs } from "./report.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let parsed: BenchArgs;
if (asksForHelp(process.argv.slice(2))) {
  console.log(BENCH_USAGE);
  process.exit(0);
}
try {
  parsed = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exit(2);
}
const { delayMs, runs, only } = parsed;
const bin = path.resolve(parsed.bin ?? path.join(root, "bin", "mpip.js"));
const wanted = (part: (typeof only)[number]) => only.includes(part);

interface Measure {
  seconds: number;
  /**
   * With `paired`: the median of Node's start-up (`node -e 0`) timed just before each run, and the median
   * of each run's time less that start-up, in seconds.
   */
  nodeSeconds?: number;
  beyond?: number;
  /** Peak resident memory of the process, KiB. */
  rssKiB: number;
  /** Requests the index server received. */
  requests: number;
}

/** One graph: each package's name and the packages it requires. */
type Graph = Array<{ name: string; requires: string[] }>;

/**
 * Levels of the given widths; every package requires two of the next level, and every package of the
 * next level is required by at least one: shared dependencies, as real graphs have.
 */
function layeredGraph(prefix: string, widths: number[]): { graph: Graph; roots: string[] } {
  const names = widths.map((width, level) => Array.from({ length: width }, (_, i) => `${prefix}-l${level}-p${i}`));
  const graph: Graph = [];
  names.forEach((level, depth) => {
    const next = names[depth + 1] ?? [];
    level.forEach((name, i) => {
      const requires = next.length === 0 ? [] : [...new Set([next[(2 * i) % next.length]!, next[(2 * i + 1) % next.length]!])];
      graph.push({ name, requires });
    });
    // Any package of the next level nobody picked is required by the last of this level.
    const picked = new Set(graph.filter((node) => level.includes(node.name)).flatMap((node) => node.requires));
    for (const orphan of next.filter((name) => !picked.has(name))) graph.find((node) => node.name === level.at(-1))!.requires.push(orphan);
  });
  return { graph, roots: names[0]! };
}

/** Chains: `chains` roots, each requiring the next of its chain, `depth` deep. */
function chainGraph(prefix: string, chains: number, depth: number): { graph: Graph; roots: string[] } {
  const graph: Graph = [];
  for (let chain = 0; chain < chains; chain++) {
    for (let level = 0; level < depth; level++) graph.push({ name: `${prefix}-c${chain}-l${level}`, requires: level + 1 < depth ? [`${prefix}-c${chain}-l${level + 1}`] : [] });
  }
  return { graph, roots: Array.from({ length: chains }, (_, chain) => `${prefix}-c${chain}-l0`) };
}

// Each package carries a few KiB of code, as a small MicroPython library does.
const body = (name: string) => `# ${name}\n` + Array.from({ length: 80 }, (_, i) => `def f${i}(x):\n    return x * ${i} + ${name.length}\n`).join("");

interface Served {
  server: IndexServer;
  pypi: string;
  simple: string;
  mip: string;
}

/** A server of the given kind publishing the graphs on all three faces. */
async function serve(kind: "keep-alive" | "closing", graphs: Graph[]): Promise<Served> {
  const server = await startIndexServer(kind === "closing" ? { closeEachAnswer: true, backlog: 5 } : {});
  const mip = serveMipIndex(server);
  const simple = serveSimple(server);
  for (const { name, requires } of graphs.flat()) {
    const files = { [`${name.replace(/-/g, "_")}.py`]: body(name) };
    await server.addSdist({ name, version: "1.0", files, requires });
    await mip.publish({ name, version: "1.0", files, mpy: false, deps: requires.map((dep): [string, string] => [dep, "1.0"]) });
  }
  return { server, pypi: server.url, simple: `simple+${simple}`, mip: `mip+${mip.base}` };
}

const work = await mkdtemp(path.join(os.tmpdir(), "mpip-bench-"));
let runCounter = 0;

/**
 * The environment of every timed run: the bench's own without what would make the figures depend on the
 * shell (scripts/machine-env.ts): mpip's MPIP_* settings and proxies, and NODE_EXTRA_CA_CERTS, which Node
 * reads and parses at each start-up (a system bundle: ~90 ms, more than the rest of Node's start-up) and
 * which no run here uses (the servers are on loopback, over plain HTTP).
 */
const RUN_ENV = withoutMachineSettings(process.env);

/** Runs a command (argv after `node`), with `env` added; its wall time and peak RSS. */
async function timeNode(argv: string[], env: Record<string, string> = {}): Promise<{ seconds: number; rssKiB: number }> {
  const rssFile = path.join(work, `rss-${++runCounter}`);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ["--require", path.join(root, "bench", "rss-probe.cjs"), ...argv], { env: { ...RUN_ENV, ...env, MPIP_BENCH_RSS_FILE: rssFile } }, (error, _stdout, stderr) =>
      error ? reject(new Error(`node ${argv.join(" ")} failed: ${stderr}`)) : resolve(),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, rssKiB: Number(await readFile(rssFile, "utf8")) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Median time, peak RSS and median requests of `count` runs of mpip. Each run gets a fresh target and an
 * empty download cache, unless `cache` is given: then all share it (kept). With `paired`, `node -e 0` is
 * timed just before each run, and the figure beyond Node's start-up is the median of the runs' own
 * differences: this machine's speed drifts (it runs at two speeds) more than the goals' margins, and a
 * start-up measured minutes earlier would put that drift into the figure.
 */
async function measure(args: (target: string) => string[], options: { server?: IndexServer; cache?: string; count?: number; paired?: boolean } = {}): Promise<Measure> {
  const samples: Measure[] = [];
  const starts: number[] = [];
  for (let run = 0; run < (options.count ?? runs); run++) {
    if (options.paired) starts.push((await timeNode(["-e", "0"])).seconds);
    const target = path.join(work, `target-${++runCounter}`);
    const cache = options.cache ?? path.join(work, `cache-${runCounter}`);
    const before = options.server?.requests.length ?? 0;
    const timed = await timeNode([bin, ...args(target)], { MPIP_CACHE_DIR: cache });
    samples.push({ ...timed, requests: (options.server?.requests.length ?? 0) - before });
    await rm(target, { recursive: true, force: true });
    if (options.cache === undefined) await rm(cache, { recursive: true, force: true });
  }
  const measured: Measure = { seconds: median(samples.map((s) => s.seconds)), rssKiB: Math.max(...samples.map((s) => s.rssKiB)), requests: median(samples.map((s) => s.requests)) };
  if (!options.paired) return measured;
  return { ...measured, nodeSeconds: median(starts), beyond: median(samples.map((s, i) => s.seconds - starts[i]!)) };
}

const install = (index: string, roots: string[], extra: string[] = []) => (target: string) => ["install", "-q", "-i", index, "-p", target, ...extra, ...roots];

/**
 * The floor under a figure: the same mpip command run again and again in one process (bench/warm-floor.cjs),
 * each run with a target of its own, and `cache` (a fresh download cache each run where it is undefined).
 * The median of the runs after the first two, in seconds: by then every function the command runs is
 * compiled and optimized, so this is the work alone, with none of a new process's start-up and first
 * execution: what is left of a figure when those are taken out of it.
 */
async function warmFloor(args: (target: string) => string[], cache?: string): Promise<number> {
  const made: string[] = [];
  const lists = Array.from({ length: Math.max(runs, 5) + 2 }, () => {
    const target = path.join(work, `warm-target-${++runCounter}`);
    const own = cache ?? path.join(work, `warm-cache-${runCounter}`);
    made.push(target, ...(cache === undefined ? [own] : []));
    return [...args(target), "--cache-dir", own];
  });
  const dist = path.join(path.dirname(bin), "..", "dist");
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [path.join(root, "bench", "warm-floor.cjs"), dist, JSON.stringify(lists)], { env: RUN_ENV }, (error, out, stderr) =>
        error ? reject(new Error(`the runs in one process failed: ${stderr}`)) : resolve(out),
      );
    });
    return median((JSON.parse(stdout) as number[]).slice(2)) / 1000;
  } finally {
    for (const folder of made) await rm(folder, { recursive: true, force: true });
  }
}
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const loadPerCore = () => os.loadavg()[0]! / Math.max(1, os.availableParallelism());

const small = layeredGraph("g21", [3, 6, 8, 4]);
const LEVELS = 4;
const chains = chainGraph("c60", 12, 5);
const large = layeredGraph("g200", [20, 45, 45, 45, 45]);
const servers: Served[] = [];
const loadBefore = loadPerCore();
try {
  // `node -e 0`, as the issue measures it, through the same launcher as every mpip run.
  const startSamples: number[] = [];
  const startRuns = Math.max(runs, 9);
  for (let run = 0; run < startRuns; run++) startSamples.push((await timeNode(["-e", "0"])).seconds);
  const nodeStart = median(startSamples);
  console.log(preamble({ nodeStart, runs, startRuns, delayMs, bin: path.relative(process.cwd(), bin) || bin }).join("\n"));

  if (wanted("start")) {
    console.log("\nStart-up: mpip's time with no work to do, and what it adds to Node's start-up (goal: at most 30 ms)");
    for (const args of [["--version"], ["--help"], ["install", "--help"]]) {
      const m = await measure(() => args, { count: startRuns, paired: true });
      console.log(startLine(`mpip ${args.join(" ")}`, m.seconds, m.beyond!, 0.03));
    }
  }

  if (wanted("graph")) {
    const roundTrips = (LEVELS * 2 * delayMs) / 1000;
    const ideal = nodeStart + roundTrips;
    console.log(`\n${graphHeader({ packages: small.graph.length, levels: LEVELS, delayMs, ideal }).join("\n")}`);
    for (const kind of ["keep-alive", "closing"] as const) {
      const served = await serve(kind, [small.graph]);
      servers.push(served);
      served.server.delayMs = delayMs;
      for (const face of ["pypi", "simple", "mip"] as const) {
        const parallel = await measure(install(served[face], small.roots), { server: served.server, paired: true });
        const serial = await measure(install(served[face], small.roots, ["--jobs", "1"]), { server: served.server });
        console.log(graphRow({ server: kind, index: face, parallel: parallel.seconds, serial: serial.seconds, ideal: parallel.nodeSeconds! + roundTrips, requests: parallel.requests }));
      }
      await served.server.close();
      servers.pop();
    }
  }

  if (wanted("nodelay") || wanted("locked")) {
    const served = await serve("keep-alive", [small.graph]);
    servers.push(served);
    served.server.delayMs = 0;
    if (wanted("nodelay")) {
      console.log("\nThe 21 packages with no delay (a keep-alive server): what the install adds to Node's start-up (goal: at most 150 ms)");
      for (const face of ["pypi", "simple", "mip"] as const) {
        const m = await measure(install(served[face], small.roots), { server: served.server, paired: true });
        console.log(startLine(`index ${face}`, m.seconds, m.beyond!, 0.15));
      }
      const floor = await warmFloor(install(served.pypi, small.roots));
      console.log(`  ${"pypi, one process".padEnd(22)} ${seconds(floor)}  the same install run again and again in one process, every function compiled: the work alone, without a new process's start-up and first execution`);
    }
    if (wanted("locked")) {
      served.server.delayMs = delayMs;
      const shared = path.join(work, "cache-shared");
      const cold = await measure(install(served.pypi, small.roots), { server: served.server });
      await measure(install(served.pypi, small.roots), { cache: shared, count: 1 });
      const warm = await measure(install(served.pypi, small.roots), { server: served.server, cache: shared });
      const lockFile = path.join(work, "pylock.toml");
      await measure(() => ["lock", "-q", "-i", served.pypi, "-o", lockFile, ...small.roots], { count: 1 });
      const locked = await measure(() => ["install", "-q", "--lock", lockFile, "-p", path.join(work, `target-locked-${++runCounter}`)], { server: served.server, cache: shared, paired: true });
      const beyond = locked.beyond!;
      console.log(`\nThe 21 packages cold, warm and locked with a warm cache, ${delayMs} ms per answer (goal for locked: no request, 100 ms beyond start-up)`);
      console.log(`  cold cache          ${seconds(cold.seconds)}  ${String(cold.requests).padStart(3)} requests`);
      console.log(`  warm cache          ${seconds(warm.seconds)}  ${String(warm.requests).padStart(3)} requests (conditional)  ${(warm.seconds / cold.seconds).toFixed(2)}x cold`);
      console.log(`  locked, warm cache  ${seconds(locked.seconds)}  ${String(locked.requests).padStart(3)} requests  ${ms(beyond)} beyond start-up  ${verdict(locked.requests === 0 && beyond <= 0.1)}`);
      const floor = await warmFloor((target) => ["install", "-q", "--lock", lockFile, "-p", target], shared);
      console.log(`  locked, one process ${seconds(floor)}  the locked install run again and again in one process, every function compiled: the work alone, without a new process's start-up and first execution`);
    }
    await served.server.close();
    servers.pop();
  }

  if (wanted("memory")) {
    const served = await serve("keep-alive", [large.graph]);
    servers.push(served);
    const m = await measure(install(served.pypi, large.roots), { server: served.server, count: Math.min(runs, 3) });
    console.log(`\n${large.graph.length} packages, no delay: ${seconds(m.seconds)}, peak RSS ${mib(m.rssKiB)} (goal: under 100 MiB) ${verdict(m.rssKiB < 100 * 1024)}`);
    await served.server.close();
    servers.pop();
  }

  if (wanted("compile")) {
    const served = await serve("keep-alive", [chains.graph]);
    servers.push(served);
    served.server.delayMs = delayMs;
    const plain = await measure(install(served.pypi, chains.roots), { server: served.server, count: Math.min(runs, 3) });
    const compiled = await measure(install(served.pypi, chains.roots, ["--compile"]), { server: served.server, count: Math.min(runs, 3) });
    console.log(`\n${chains.graph.length} packages (12 chains 5 deep), ${delayMs} ms per answer: plain ${seconds(plain.seconds)}, --compile ${seconds(compiled.seconds)} = ${(compiled.seconds / plain.seconds).toFixed(2)}x (every module through mpy-cross; a figure to compare builds by, with no goal)`);
    await served.server.close();
    servers.pop();
  }
  console.log(loadNote(loadBefore, loadPerCore()));
} finally {
  for (const served of servers) await served.server.close();
  await rm(work, { recursive: true, force: true });
}
