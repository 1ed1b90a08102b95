// A lock and the download cache together, through the built CLI, counting the requests on a real index
// server: a locked install with a warm cache sends no request at all and makes the same image byte for
// byte; `--offline` with a warm cache succeeds, and with a cold (or partly cold) cache fails before
// anything is fetched, naming every file the cache lacks, with nothing changed; `lock --check` with a
// warm cache asks only conditional questions; and the cache's variables (MPIP_OFFLINE, MPIP_CACHE_DIR,
// MPIP_NO_CACHE) work on every command that fetches: install, lock, sync and download.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { parse as parseToml } from "smol-toml";
import { runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { image, serveGraph, type Graph } from "./graph.js";

let graph: Graph;
let work: { dir: string; cleanup: () => Promise<void> };
let lockFile: string;
let counter = 0;
const fresh = (name = "image") => path.join(work.dir, `${name}-${++counter}`);

/** The lock's files: each sdist, and each mip package's document and files, with their sha256. */
interface Pinned {
  name: string;
  sha256: string;
}
let pinned: Pinned[];

before(async () => {
  graph = await serveGraph();
  work = await tempDir("mpip-lock-cache-");
  lockFile = path.join(work.dir, "pylock.toml");
  // Locked with a cache of its own: the caches below start cold.
  const locked = await runMpip(["lock", "-o", lockFile, ...graph.indexes, ...graph.specs], { env: { MPIP_CACHE_DIR: path.join(work.dir, "lock-cache") } });
  assert.equal(locked.code, 0, locked.stderr);
  const lock = parseToml(await readFile(lockFile, "utf8")) as unknown as { packages: Array<{ sdist?: { name: string; hashes: { sha256: string } }; tool: { mpip: { document?: { url: string; hashes: { sha256: string } }; files?: Array<{ dest: string; hashes: { sha256: string } }> } } }> };
  pinned = lock.packages.flatMap((item) => [
    ...(item.sdist === undefined ? [] : [{ name: item.sdist.name, sha256: item.sdist.hashes.sha256 }]),
    ...(item.tool.mpip.document === undefined ? [] : [{ name: item.tool.mpip.document.url.split("/").slice(-2).join("/"), sha256: item.tool.mpip.document.hashes.sha256 }]),
    ...(item.tool.mpip.files ?? []).map((file) => ({ name: file.dest, sha256: file.hashes.sha256 })),
  ]);
});
after(async () => {
  await graph.server.close();
  await work.cleanup();
});
beforeEach(() => {
  graph.server.requests.length = 0;
  graph.server.received.length = 0;
  graph.server.notModified = 0;
});

const withCache = (cache: string, extra: NodeJS.ProcessEnv = {}) => ({ env: { MPIP_CACHE_DIR: cache, ...extra } });

/**
 * A locked install into a fresh target with a cold cache of its own, which it fills: made once per file
 * (the first test checks the run and the requests it sent); a test that changes the cache works on a copy.
 */
let coldInstall: Promise<{ cache: string; target: string; result: RunResult; requests: string[] }> | undefined;
function warmedCache(): Promise<{ cache: string; target: string; result: RunResult; requests: string[] }> {
  coldInstall ??= (async () => {
    const cache = fresh("cache");
    const target = fresh();
    graph.server.requests.length = 0;
    const result = await runMpip(["install", "--lock", lockFile, "-p", target], withCache(cache));
    return { cache, target, result, requests: [...graph.server.requests] };
  })();
  return coldInstall;
}

describe("a locked install and the cache", () => {
  test("a warm cache: the second locked install, into a fresh target, sends no request at all and makes the same image", async () => {
    const { cache, target: first, result: cold, requests } = await warmedCache();
    assert.equal(cold.code, 0, cold.stderr);
    // Cold: one request per pinned file (7: two sdists, two documents, three files), nothing else.
    assert.equal(requests.length, pinned.length, requests.join("\n"));
    graph.server.requests.length = 0;
    const second = fresh();
    const warm = await runMpip(["install", "--lock", lockFile, "-p", second], withCache(cache));
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(graph.server.requests, []);
    assert.deepEqual(await image(second), await image(first));
    // And with --offline (sync, too), the same: no request, the same image.
    const offline = fresh();
    const synced = await runMpip(["sync", lockFile, "--offline", "-p", offline], withCache(cache));
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(graph.server.requests, []);
    assert.deepEqual(await image(offline), await image(first));
  });

  test("--offline with a cold cache fails before fetching anything, naming every file the cache lacks; nothing changes", async () => {
    const cache = fresh("cache");
    const target = fresh();
    await mkdir(target);
    await writeFile(path.join(target, "keep.py"), "K = 1\n");
    const before = await image(target);
    for (const command of [["install", "--lock", lockFile], ["sync", lockFile]]) {
      const result = await runMpip([...command, "--offline", "-p", target], withCache(cache));
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^error: ${pinned.length} of the ${pinned.length} files the lock \`.*pylock\\.toml\` pins are not in the cache \`[^\`]+\`, and --offline forbids fetching them: .*; nothing was changed$`, "m"));
      for (const file of pinned) assert.ok(result.stderr.includes(`sha256 ${file.sha256}`), `${file.name} is named: ${result.stderr}`);
      assert.match(result.stderr, /`sensor-lib 1\.0` \(`sensor-lib-1\.0\.tar\.gz`\) \(from `http:\/\/127\.0\.0\.1:\d+\/files\/sensor-lib\/1\.0\/sensor-lib-1\.0\.tar\.gz`, sha256 [0-9a-f]{64}\)/);
      assert.match(result.stderr, /`blinker\/led\.py` of `blinker 0\.3` \(from `http:\/\/127\.0\.0\.1:\d+\/mip\/v2\/file\/[0-9a-f]{2}\/[0-9a-f]{8}`, sha256 [0-9a-f]{64}\)/);
      assert.match(result.stderr, /^hint: run the same command once with the network to fill the cache .*`mpip download -d DIR --lock`/m);
      assert.deepEqual(graph.server.requests, []);
      assert.deepEqual(await image(target), before);
      assert.equal(existsSync(cache), false, "offline, no cache folder is made");
    }
    // A warm cache missing one file: that one alone is named. (A copy of the cache a locked install filled.)
    const warmed = await warmedCache();
    assert.equal(warmed.result.code, 0, warmed.result.stderr);
    await cp(warmed.cache, cache, { recursive: true });
    const gone = pinned.find((file) => file.name === "ticker.py")!;
    await rm(path.join(cache, "content", "sha256", gone.sha256.slice(0, 2), gone.sha256));
    graph.server.requests.length = 0;
    const partly = await runMpip(["install", "--lock", lockFile, "--offline", "-p", target], withCache(cache));
    assert.equal(partly.code, 1, partly.stderr);
    assert.match(partly.stderr, new RegExp(`^error: 1 of the ${pinned.length} files the lock \`.*pylock\\.toml\` pins is not in the cache \`[^\`]+\`, and --offline forbids fetching it: \`ticker\\.py\` of \`ticker 1\\.0\` \\(from \`[^\`]+\`, sha256 ${gone.sha256}\\); nothing was changed$`, "m"));
    assert.deepEqual(graph.server.requests, []);
    assert.deepEqual(await image(target), before);
    // With --no-cache, nothing remote can come: each file is named as one that cannot be fetched.
    const uncached = await runMpip(["install", "--lock", lockFile, "--offline", "--no-cache", "-p", target], withCache(cache));
    assert.equal(uncached.code, 1, uncached.stderr);
    assert.match(uncached.stderr, new RegExp(`^error: ${pinned.length} of the ${pinned.length} files the lock \`.*pylock\\.toml\` pins cannot be fetched: --offline forbids the network, and --no-cache leaves no cache to answer from: `, "m"));
  });

  test("lock --check with a warm cache asks only conditional questions, of documents; no sdist is fetched", async () => {
    const cache = fresh("cache");
    const again = path.join(fresh("locks"), "pylock.toml");
    await mkdir(path.dirname(again));
    // Locking fills the cache it is given: documents by URL with their validators, files by sha256. The
    // file's lock was made so (in \`before\`, with a cache of its own): a copy of both.
    await cp(lockFile, again);
    await cp(path.join(work.dir, "lock-cache"), cache, { recursive: true });
    graph.server.requests.length = 0;
    graph.server.received.length = 0;
    graph.server.notModified = 0;
    const check = await runMpip(["lock", "--check", "-o", again, ...graph.indexes, ...graph.specs], withCache(cache));
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /is up to date \(4 packages\)/);
    assert.deepEqual(graph.server.unconditional(), []);
    assert.ok(graph.server.received.length > 0 && graph.server.notModified === graph.server.received.length, `${graph.server.notModified} of ${graph.server.received.length} answered 304`);
    assert.deepEqual(graph.server.requests.filter((request) => request.includes("/files/")), []);
  });
});

describe("the cache's variables, on every command that fetches", () => {
  test("MPIP_OFFLINE=1, MPIP_CACHE_DIR and MPIP_NO_CACHE=1 act as --offline, --cache-dir and --no-cache on install, lock, sync and download (with and without --lock)", async () => {
    const commands: Array<[string, (place: string) => string[]]> = [
      ["install", (place) => ["install", "-p", place, ...graph.indexes, ...graph.specs]],
      ["lock", (place) => ["lock", "-o", path.join(place, "pylock.toml"), ...graph.indexes, ...graph.specs]],
      ["sync", (place) => ["sync", lockFile, "-p", place]],
      ["download", (place) => ["download", "-d", place, ...graph.indexes, ...graph.specs]],
      ["download --lock", (place) => ["download", "-d", place, "--lock", lockFile]],
    ];
    for (const [name, args] of commands) {
      const cache = fresh("cache");
      // Offline with a cold cache: no request, an `offline` error, nothing made.
      const place = fresh(name.replace(/\W+/g, "-"));
      graph.server.requests.length = 0;
      const cold = await runMpip([...args(place), "--json"], { env: { MPIP_CACHE_DIR: cache, MPIP_OFFLINE: "1" } });
      assert.equal(cold.code, 1, `${name}: ${cold.stderr}`);
      assert.equal(JSON.parse(cold.stdout).error.code, "offline", name);
      assert.deepEqual(graph.server.requests, [], name);
      // MPIP_NO_CACHE=1: the work is done, and the cache folder is never made.
      const uncached = await runMpip(args(fresh(name.replace(/\W+/g, "-"))), { env: { MPIP_CACHE_DIR: cache, MPIP_NO_CACHE: "1" } });
      assert.equal(uncached.code, 0, `${name}: ${uncached.stderr}`);
      assert.equal(existsSync(cache), false, `${name}: MPIP_NO_CACHE writes no cache`);
      // MPIP_CACHE_DIR alone: the cache is filled there, and then MPIP_OFFLINE=1 needs no network.
      const filled = await runMpip(args(fresh(name.replace(/\W+/g, "-"))), { env: { MPIP_CACHE_DIR: cache } });
      assert.equal(filled.code, 0, `${name}: ${filled.stderr}`);
      assert.ok((await readdir(path.join(cache, "content", "sha256"))).length > 0, `${name}: files stored in MPIP_CACHE_DIR`);
      graph.server.requests.length = 0;
      const warm = fresh(name.replace(/\W+/g, "-"));
      const offline = await runMpip(args(warm), { env: { MPIP_CACHE_DIR: cache, MPIP_OFFLINE: "1" } });
      assert.equal(offline.code, 0, `${name}: ${offline.stderr}`);
      assert.deepEqual(graph.server.requests, [], `${name}: offline from the warm cache`);
    }
  });
});
