// `npm run bench`: install an index of 60 packages (12 chains, 5 deep) served on loopback with a delay
// per response standing for a network round trip; mpip with its default --jobs against --jobs 1 (one
// request at a time, as upip does), and against the ideal for this graph; then the same graph from a
// micropython-lib v2 index and from a simple index, and with --compile, each as a ratio of the PyPI JSON
// run measured here; and, side by side, a cold install (an empty download cache, as every other run
// here), a warm one (the cache a first install filled: documents revalidated, sdists not fetched) and a
// locked one with that warm cache (`install --lock`: no resolution, every file from the cache by its
// sha256, no request at all), with the requests each sent. Not a test: it prints figures.
//
//   node --import tsx bench/install.ts [--delay MS] [--runs N]

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startIndexServer } from "../test/helpers/index-server.js";
import { serveMipIndex } from "../test/helpers/mip-index.js";
import { serveSimple } from "../test/helpers/simple-index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const option = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const delayMs = option("--delay", 40);
const runs = option("--runs", 3);
const CHAINS = 12;
const DEPTH = 5;

interface Measure {
  seconds: number;
  rssKiB: number;
  /** Requests the index server received per run. */
  requests: number;
}

async function timeCommand(args: string[], work: string, cache: string): Promise<Measure> {
  const rssFile = path.join(work, "rss");
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ["--import", path.join(root, "bench", "rss-probe.mjs"), path.join(root, "bin", "mpip.js"), ...args], { env: { ...process.env, MPIP_BENCH_RSS_FILE: rssFile, MPIP_CACHE_DIR: cache } }, (error, _stdout, stderr) =>
      error ? reject(new Error(`mpip ${args.join(" ")} failed: ${stderr}`)) : resolve(),
    );
  });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, rssKiB: Number(await readFile(rssFile, "utf8")), requests: 0 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median time and peak RSS of `runs` runs, each with an empty download cache, or all with `cache` (kept). */
async function measure(label: string, args: (target: string) => string[], work: string, cache?: string): Promise<Measure> {
  const samples: Measure[] = [];
  for (let run = 0; run < runs; run++) {
    const target = path.join(work, `target-${label}-${run}`);
    const runCache = cache ?? path.join(work, `cache-${label}-${run}`);
    const before = server.requests.length;
    samples.push({ ...(await timeCommand(args(target), work, runCache)), requests: server.requests.length - before });
    await rm(target, { recursive: true, force: true });
    if (cache === undefined) await rm(runCache, { recursive: true, force: true });
  }
  return { seconds: median(samples.map((s) => s.seconds)), rssKiB: Math.max(...samples.map((s) => s.rssKiB)), requests: median(samples.map((s) => s.requests)) };
}

const server = await startIndexServer();
const work = await mkdtemp(path.join(os.tmpdir(), "mpip-bench-"));
try {
  // Each package carries a few KiB of code, as a small MicroPython library does.
  const body = (name: string) => `# ${name}\n` + Array.from({ length: 80 }, (_, i) => `def f${i}(x):\n    return x * ${i} + ${name.length}\n`).join("");
  const roots: string[] = [];
  const mip = serveMipIndex(server);
  const simple = serveSimple(server);
  for (let chain = 0; chain < CHAINS; chain++) {
    for (let level = 0; level < DEPTH; level++) {
      const name = `bench-c${chain}-l${level}`;
      if (level === 0) roots.push(name);
      const requires = level + 1 < DEPTH ? [`bench-c${chain}-l${level + 1}`] : [];
      const files = { [`${name.replace(/-/g, "_")}.py`]: body(name) };
      await server.addSdist({ name, version: "1.0", files, requires });
      await mip.publish({ name, version: "1.0", files, mpy: false, deps: requires.map((dep): [string, string] => [dep, "1.0"]) });
    }
  }
  server.delayMs = delayMs;
  const install = (extra: string[], index = server.url) => (target: string) => ["install", "-q", "-i", index, "-p", target, ...extra, ...roots];

  const startup = await measure("startup", () => ["--version"], work);
  const parallel = await measure("default", install([]), work);
  const serial = await measure("jobs1", install(["--jobs", "1"]), work);
  const ideal = startup.seconds + (DEPTH * 2 * delayMs) / 1000;
  const fromMip = await measure("mip", install([], `mip+${mip.base}`), work);
  const fromSimple = await measure("simple", install([], `simple+${simple}`), work);
  const compiled = await measure("compile", install(["--compile"]), work);
  const shared = path.join(work, "cache-shared");
  await timeCommand(install([])(path.join(work, "target-prime")), work, shared);
  const warm = await measure("warm", install([]), work, shared);
  // The same graph locked (with a cache of its own), then installed from the lock with the warm cache.
  const lockFile = path.join(work, "pylock.toml");
  await timeCommand(["lock", "-q", "-i", server.url, "-o", lockFile, ...roots], work, path.join(work, "cache-lock"));
  const lockedWarm = await measure("locked-warm", (target) => ["install", "-q", "--lock", lockFile, "-p", target], work, shared);

  const row = (name: string, m: Measure) => `  ${name.padEnd(22)} ${m.seconds.toFixed(3).padStart(7)} s   peak RSS ${(m.rssKiB / 1024).toFixed(1).padStart(6)} MiB`;
  console.log(`mpip install: ${CHAINS * DEPTH} packages, chains ${DEPTH} deep, ${delayMs} ms per response, median of ${runs} runs`);
  console.log(row("node start-up", startup));
  console.log(row("--jobs 1 (like upip)", serial));
  console.log(row("default --jobs", parallel));
  console.log(`  ideal (start-up + ${DEPTH} levels x 2 round trips): ${ideal.toFixed(3)} s`);
  console.log(`  speed-up of the default over --jobs 1: ${(serial.seconds / parallel.seconds).toFixed(2)}x`);
  console.log(`  default vs ideal: ${(parallel.seconds / ideal).toFixed(2)}x the ideal`);
  const ratio = (m: Measure) => `${(m.seconds / parallel.seconds).toFixed(2)}x the PyPI JSON run`;
  console.log(row("from a v2 index (mip)", fromMip), ` ${ratio(fromMip)} (a document, then its files: 3 round trips a level)`);
  console.log(row("from a simple index", fromSimple), ` ${ratio(fromSimple)}`);
  console.log(row("PyPI JSON --compile", compiled), ` ${ratio(compiled)} (${CHAINS * DEPTH} modules through mpy-cross)`);
  const requests = (m: Measure) => `${String(m.requests).padStart(4)} requests`;
  const of = (m: Measure, base: Measure, name: string) => `${(m.seconds / base.seconds).toFixed(2)}x ${name}`;
  console.log(`The same graph, cold, warm and locked (${runs} runs each):`);
  console.log(row("cold cache (as above)", parallel), requests(parallel));
  console.log(row("warm cache", warm), requests(warm), ` ${of(warm, parallel, "cold")} (${DEPTH} levels x 1 conditional round trip, no sdist fetched)`);
  console.log(row("locked, warm cache", lockedWarm), requests(lockedWarm), ` ${of(lockedWarm, parallel, "cold")}, ${of(lockedWarm, warm, "warm")} (no resolution: every sdist from the cache by its sha256)`);
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
