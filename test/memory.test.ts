// Peak memory of a real install is bounded by the limits, not by what a hostile index serves: several
// v2 package documents at once, each listing files of 6.5 or 7 MiB, installed through the built CLI with
// `--max-unpacked-bytes 8MiB`. The child's peak resident set size (VmHWM, written at exit by the
// preloaded test/helpers/peak-rss.mjs) is compared with the peak of a tiny install from the same
// server: the difference must stay within what README's memory rule allows for these limits, plus room
// for garbage the collector has not reclaimed yet.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir, type RunResult } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { beside } from "./helpers/process.js";

const MiB = 1024 * 1024;
const LIMIT = 8 * MiB;
const METADATA_LIMIT = 1 * MiB;
/**
 * README's rule: downloads held in memory at once total at most twice the largest one allowed, i.e.
 * 2 × max(--max-unpacked-bytes plus gzip's overhead, --max-metadata-bytes). Document files are written
 * to disk as they arrive, so they should not even come near it.
 */
const RULE_BYTES = 2 * Math.max(LIMIT + LIMIT / 1024 + 64 * 1024, METADATA_LIMIT);
/**
 * Network buffers already let go of but not yet collected, and jitter between runs: V8 collects unused
 * Buffers (memory outside its heap) only once about 64 MiB of them have piled up, so streaming even one
 * file of a few MiB to disk raises the peak by 10 to 50 MiB, however many files there are.
 */
const SLACK_BYTES = 64 * MiB;

const HOOK = path.join(path.dirname(fileURLToPath(import.meta.url)), "helpers", "peak-rss.mjs");

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
let runs = 0;

/** Python source of about `bytes` bytes. */
function bigModule(bytes: number): string {
  const line = `# ${"x".repeat(98)}\n`;
  return `BIG = True\n${line.repeat(Math.ceil(bytes / line.length))}`;
}

// Eight documents of eight files, and sixteen of one (as many as mpip prepares at once with its default
// --jobs). Files with the same bytes have the same hash, so the server keeps one copy while mpip
// downloads each.
const OVER = [..."abcdefgh"].map((letter) => `over-${letter}`);
const WITHIN = [..."abcdefghijklmnop"].map((letter) => `within-${letter}`);
const moduleName = (name: string) => name.replace("-", "_");

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  work = await tempDir("mpip-memory-");
  await mip.publish({ name: "tiny", version: "1.0", files: { "tiny.py": "T = 1\n" }, mpy: false });
  // Each document lists eight files of 6.5 MiB: any two of them already exceed the 8 MiB limit.
  const big = bigModule(6.5 * MiB);
  for (const name of OVER) {
    const files = Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [`${moduleName(name)}/f${i}.py`, big]));
    await mip.publish({ name, version: "1.0", files, mpy: false });
  }
  // Each document lists one file of 7 MiB: within the limit.
  const within = bigModule(7 * MiB);
  for (const name of WITHIN) await mip.publish({ name, version: "1.0", files: { [`${moduleName(name)}.py`]: within }, mpy: false });
  // Archives of bytes that do not compress: their download is about as large as what they unpack to.
  await server.addSdist({ name: "big-archive", version: "1.0", files: { "big_archive/__init__.py": "", "big_archive/blob.bin": randomBytes(3 * MiB) } });
  await server.addSdist({ name: "fair-archive", version: "1.0", files: { "fair_archive/__init__.py": "", "fair_archive/blob.bin": randomBytes(900 * 1024) } });
});
after(async () => {
  await server?.close();
  await work?.cleanup();
});

/** Runs `mpip install` with the limits above and returns what it printed and its peak RSS in bytes. */
async function measuredInstall(target: string, ...specs: string[]): Promise<{ result: RunResult; peak: number }> {
  const report = path.join(work.dir, `peak-rss-${++runs}`);
  const args = ["install", "--no-record", "-i", mip.base, "-p", target, "--max-unpacked-bytes", "8MiB", "--max-metadata-bytes", "1MiB", ...specs];
  const result = await runMpip(args, { env: { NODE_OPTIONS: `--import=${pathToFileURL(HOOK).href}`, MPIP_TEST_PEAK_RSS_FILE: report } });
  const kib = Number((await readFile(report, "utf8")).trim());
  assert.ok(Number.isInteger(kib) && kib > 0, `no peak RSS reported: ${kib}`);
  return { result, peak: kib * 1024 };
}

/**
 * The peak of a tiny install from the same server: node, undici and mpip loaded, nearly nothing downloaded.
 * Measured once for the file: both tests compare against the same install.
 */
let baselinePeak: Promise<number> | undefined;
function baseline(): Promise<number> {
  baselinePeak ??= (async () => {
    const { result, peak } = await measuredInstall(path.join(work.dir, "baseline", "image"), "tiny");
    assert.equal(result.code, 0, result.stderr);
    return peak;
  })();
  return baselinePeak;
}

function assertBounded(peak: number, base: number, what: string): void {
  const over = peak - base;
  assert.ok(over <= RULE_BYTES + SLACK_BYTES, `${what}: peak RSS ${(peak / MiB).toFixed(1)} MiB is ${(over / MiB).toFixed(1)} MiB over the baseline ${(base / MiB).toFixed(1)} MiB; at most ${((RULE_BYTES + SLACK_BYTES) / MiB).toFixed(1)} MiB allowed`);
}

describe("memory is bounded by the limits for the whole install", () => {
  test("documents whose files together exceed --max-unpacked-bytes fail with limit-exceeded, and peak memory stays near the baseline", async () => {
    const base = await baseline();
    const parent = path.join(work.dir, "over");
    const target = path.join(parent, "image");
    await mkdir(parent);
    const { result, peak } = await measuredInstall(target, ...OVER);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: `over-[a-h] 1\.0` \(`(latest|1\.0)\.json`\) is larger than the limit of 8 MiB$/m);
    assert.match(result.stderr, /^hint: .*--max-unpacked-bytes/m);
    assert.doesNotMatch(result.stderr, /bug in mpip|aborted|cancel/i);
    assert.equal(existsSync(target), false, "nothing was installed");
    assert.deepEqual(await beside(parent, "image"), [], "no staging folder or lock is left");
    assertBounded(peak, base, "over the limit");
  });

  test("documents within the limit install, and peak memory stays near the baseline", async () => {
    const base = await baseline();
    const target = path.join(work.dir, "within", "image");
    const { result, peak } = await measuredInstall(target, ...WITHIN);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), WITHIN.map((name) => `${moduleName(name)}.py`).sort());
    const installed = await readFile(path.join(target, "within_p.py"), "utf8");
    assert.ok(installed.startsWith("BIG = True\n") && installed.length > 7 * MiB, "the file arrived whole");
    assertBounded(peak, base, "within the limit");
  });
});

describe("an archive's download is cut off once no archive unpacking within the limit could be that large", () => {
  const sdists = async () => {
    const folder = path.join(work.dir, "sdists");
    await mkdir(folder, { recursive: true });
    for (const project of server.projects.values()) {
      for (const files of project.releases.values()) for (const file of files) await writeFile(path.join(folder, file.filename), file.body);
    }
    return folder;
  };

  test("from an index and from a folder: limit-exceeded naming --max-unpacked-bytes, before it is unpacked", async () => {
    const folder = await sdists();
    for (const source of [["-i", server.url], ["--no-index", "-f", folder]]) {
      const target = path.join(work.dir, `cut-${source[0]}`, "image");
      const result = await runMpip(["install", "--no-record", "-p", target, ...source, "--max-unpacked-bytes", "1MiB", "big-archive"]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: `big-archive 1\.0` \(`big-archive-1\.0\.tar\.gz`\) is larger than the limit of 1 MiB$/m, source.join(" "));
      assert.match(result.stderr, /^hint: .*--max-unpacked-bytes/m);
      assert.equal(existsSync(target), false);
    }
  });

  test("an archive that does not compress but unpacks within the limit still installs", async () => {
    const folder = await sdists();
    for (const source of [["-i", server.url], ["--no-index", "-f", folder]]) {
      const target = path.join(work.dir, `fair-${source[0]}`, "image");
      const result = await runMpip(["install", "--no-record", "-p", target, ...source, "--max-unpacked-bytes", "1MiB", "fair-archive"]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(target), ["fair_archive/__init__.py", "fair_archive/blob.bin"]);
    }
  });
});
