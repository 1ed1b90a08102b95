// `mpip cache dir|info|clean` through the built CLI, and the cache shared by runs that go at once: two
// installs filling one cache together, and `cache clean` removing entries while an install uses them.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { startMpip } from "../helpers/process.js";

interface Setup {
  server: IndexServer;
  mip: MipIndex;
  work: string;
  cache: string;
  mpip(args: string[]): ReturnType<typeof runMpip>;
}

/** A server with `packages` sdists, `pebble0` needing `pebble1` needing ..., and as many mip packages `moss<n>`. */
async function startServer(packages: number): Promise<{ server: IndexServer; mip: MipIndex }> {
  const server = await startIndexServer();
  const mip = serveMipIndex(server);
  for (let index = 0; index < packages; index++) {
    const name = `pebble${index}`;
    await server.addSdist({ name, version: "1.0", files: { [`${name}.py`]: `WEIGHT = ${index}\n` }, requires: index + 1 < packages ? [`pebble${index + 1}`] : [] });
    await mip.publish({ name: `moss${index}`, version: "0.1", files: { [`moss${index}.py`]: `DAMP = ${index}\n` }, mpy: false });
  }
  return { server, mip };
}

function setupIn(server: IndexServer, mip: MipIndex, dir: string): Setup {
  const cache = path.join(dir, "cache");
  return { server, mip, work: dir, cache, mpip: (args) => runMpip(args, { env: { MPIP_CACHE_DIR: cache } }) };
}

async function setup(t: TestContext, packages = 4): Promise<Setup> {
  const { server, mip } = await startServer(packages);
  const { dir, cleanup } = await tempDir("mpip-cachecmd-");
  t.after(async () => {
    await server.close();
    await cleanup();
  });
  return setupIn(server, mip, dir);
}

/**
 * The starting states of the `clean` tests, each made once per file on one server of two packages (cache
 * entries are keyed by URL: a cache serves only the server it was filled from), in folders of their own:
 * `installed`, `pebble0` (and so `pebble1`) installed into `image` with an empty cache; `listed`, that
 * and then `list --size` (which adds compiled sizes). A test gets a copy of the cache and the image.
 */
type Start = "installed" | "listed";
let cleanServer: Promise<{ server: IndexServer; mip: MipIndex; dir: string; cleanup: () => Promise<void> }> | undefined;
/** A starting state: the exit codes and messages of the runs that made it, and its folder. */
interface Made {
  codes: number[];
  stderr: string;
  dir: string;
}
const starts = new Map<Start, Promise<Made>>();
after(async () => {
  if (cleanServer === undefined) return;
  const { server, cleanup } = await cleanServer;
  await server.close();
  await cleanup();
});
async function setupFrom(t: TestContext, start: Start): Promise<Setup> {
  cleanServer ??= (async () => ({ ...(await startServer(2)), ...(await tempDir("mpip-cachecmd-starts-")) }))();
  const { server, mip, dir } = await cleanServer;
  const make = (which: Start): Promise<Made> => {
    let made = starts.get(which);
    if (made === undefined) {
      made = (async (): Promise<Made> => {
        const template = setupIn(server, mip, path.join(dir, which));
        const image = path.join(template.work, "image");
        if (which === "installed") {
          const installed = await template.mpip(["install", "-p", image, "-i", server.url, "pebble0"]);
          return { codes: [installed.code], stderr: installed.stderr, dir: template.work };
        }
        const before = await make("installed");
        if (before.codes.some((code) => code !== 0)) return before;
        await cp(before.dir, template.work, { recursive: true });
        const listed = await template.mpip(["list", "-p", image, "--size"]);
        return { codes: [...before.codes, listed.code], stderr: `${before.stderr}${listed.stderr}`, dir: template.work };
      })();
      starts.set(which, made);
    }
    return made;
  };
  const made = await make(start);
  assert.deepEqual(made.codes, made.codes.map(() => 0), made.stderr);
  const { dir: work, cleanup } = await tempDir("mpip-cachecmd-");
  t.after(cleanup);
  await cp(made.dir, work, { recursive: true });
  server.requests.length = 0;
  return setupIn(server, mip, work);
}

/** Every file below `dir`, relative, sorted. */
async function filesBelow(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => !entry.isDirectory()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name))).sort();
}

/** The store holds only whole entries, each hashing to its name; each by-URL entry names a body the store has; no temporary file is left. */
async function assertConsistent(cache: string): Promise<void> {
  const files = await filesBelow(cache);
  assert.deepEqual(files.filter((file) => file.endsWith(".tmp") || file.startsWith("tmp/")), [], "no temporary file is left");
  const stored = new Set<string>();
  for (const file of files.filter((name) => name.startsWith("content/"))) {
    const name = path.basename(file);
    assert.equal(createHash("sha256").update(await readFile(path.join(cache, file))).digest("hex"), name, `${file} holds other bytes`);
    stored.add(name);
  }
  for (const file of files.filter((name) => name.startsWith("http/"))) {
    const entry = JSON.parse(await readFile(path.join(cache, file), "utf8")) as { status: string; sha256?: string };
    if (entry.status === "ok") assert.ok(stored.has(entry.sha256!), `${file} names a body the store lacks`);
  }
}

describe("mpip cache dir, info and clean", () => {
  test("dir: --cache-dir, else MPIP_CACHE_DIR (as it is, for scripts)", async (t) => {
    const s = await setup(t, 0);
    const fromEnv = await s.mpip(["cache", "dir"]);
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stdout, `${s.cache}\n`);
    const given = await s.mpip(["cache", "dir", "--cache-dir", path.join(s.work, "elsewhere")]);
    assert.equal(given.stdout, `${path.join(s.work, "elsewhere")}\n`);
    const url = await s.mpip(["cache", "dir", "--cache-dir", "https://example.com/cache"]);
    assert.equal(url.code, 2);
    await writeFile(path.join(s.work, "a-file"), "not a folder\n");
    for (const command of ["info", "clean"]) {
      const notFolder = await s.mpip(["cache", command, "--cache-dir", path.join(s.work, "a-file")]);
      assert.equal(notFolder.code, 2);
      assert.match(notFolder.stderr, /^error: the cache folder `.*a-file` is not a folder$/m);
    }
  });

  test("info: entries and bytes of downloaded files, index documents and compiled sizes, as a table and as JSON", async (t) => {
    const s = await setup(t);
    const empty = await s.mpip(["cache", "info"]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /^Cache: `.*` \(does not exist yet: nothing was cached\)$/m);
    const target = path.join(s.work, "image");
    assert.equal((await s.mpip(["install", "-p", target, "-i", s.server.url, "pebble0"])).code, 0);
    assert.equal((await s.mpip(["install", "-p", target, "-i", `mip+${s.mip.base}`, "moss0"])).code, 0);
    assert.equal((await s.mpip(["list", "-p", target, "--size"])).code, 0);
    const text = await s.mpip(["cache", "info"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^content\/ +downloaded files \(by sha256\) +\d+ +[\d.]+ (bytes|KiB)$/m);
    assert.match(text.stdout, /^http\/ +index documents \(by URL\) +\d+ /m);
    assert.match(text.stdout, /^mpy\/ +compiled sizes \(list --size\) +\d+ /m);
    const json = JSON.parse((await s.mpip(["cache", "info", "--json"])).stdout) as { ok: boolean; dir: string; exists: boolean; parts: Record<string, { entries: number; bytes: number }>; total: { entries: number; bytes: number } };
    assert.equal(json.ok, true);
    assert.equal(json.dir, s.cache);
    assert.equal(json.exists, true);
    // By hash, documents' bodies included: 4 sdists, 4 project documents, index.json, 1 package document and its module.
    assert.equal(json.parts.content!.entries, 11);
    assert.equal(json.parts.content!.entries, (await filesBelow(path.join(s.cache, "content"))).length);
    // 4 project documents, then index.json, the package document and its file.
    assert.equal(json.parts.http!.entries, 7);
    assert.ok(json.parts.mpy!.entries >= 1);
    assert.equal(json.total.entries, json.parts.content!.entries + json.parts.http!.entries + json.parts.mpy!.entries + json.parts.tmp!.entries);
    let bytes = 0;
    for (const file of await filesBelow(s.cache)) bytes += (await stat(path.join(s.cache, file))).size;
    assert.equal(json.total.bytes, bytes);
  });

  test("clean --older-than removes only entries not used for that long; the next install fetches them again", async (t) => {
    // pebble0 (and pebble1) installed once into the cache.
    const s = await setupFrom(t, "installed");
    const run = (target: string) => s.mpip(["install", "-p", path.join(s.work, target), "-i", s.server.url, "pebble0"]);
    // Age every entry 40 days, then use some again: a warm install touches what it reads.
    const old = new Date(Date.now() - 40 * 86_400_000);
    const files = await filesBelow(s.cache);
    for (const file of files) await utimes(path.join(s.cache, file), old, old);
    const pebble1 = s.server.projects.get("pebble1")!.releases.get("1.0")![0]!.body;
    const pebble1Entry = `content/sha256/${createHash("sha256").update(pebble1).digest("hex").slice(0, 2)}/${createHash("sha256").update(pebble1).digest("hex")}`;
    const now = new Date();
    await utimes(path.join(s.cache, pebble1Entry), now, now);
    const bad = await s.mpip(["cache", "clean", "--older-than", "30"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--older-than must be a number above 0 and a unit/);
    const cleaned = await s.mpip(["cache", "clean", "--older-than", "30d"]);
    assert.equal(cleaned.code, 0, cleaned.stderr);
    assert.match(cleaned.stderr, new RegExp(`^Removed ${files.length - 1} entries not used for longer than 30d \\(.*\\) from \``, "m"));
    assert.deepEqual(await filesBelow(s.cache), [pebble1Entry]);
    s.server.requests.length = 0;
    assert.equal((await run("b")).code, 0);
    assert.deepEqual(s.server.requests.filter((request) => request.includes("/files/")), ["GET /files/pebble0/1.0/pebble0-1.0.tar.gz"], "only what was removed is fetched again");
    await assertConsistent(s.cache);
  });

  test("compiled sizes that `list --size` uses again count as used: clean --older-than keeps them", async (t) => {
    // Installed, then `list --size`: the cache holds compiled sizes.
    const s = await setupFrom(t, "listed");
    const target = path.join(s.work, "image");
    const old = new Date(Date.now() - 10 * 86_400_000);
    for (const file of await filesBelow(s.cache)) await utimes(path.join(s.cache, file), old, old);
    assert.equal((await s.mpip(["list", "-p", target, "--size"])).code, 0);
    const cleaned = await s.mpip(["cache", "clean", "--older-than", "1w", "--json"]);
    const report = JSON.parse(cleaned.stdout) as { removed: Record<string, { entries: number }> };
    assert.equal(report.removed.mpy!.entries, 0);
    assert.ok(report.removed.content!.entries > 0);
    assert.ok((await filesBelow(s.cache)).every((file) => file.startsWith("mpy/")));
  });

  test("clean removes every entry (compiled sizes and left-over temporary files too), and nothing else in the folder", async (t) => {
    // Installed, then `list --size`: the cache holds compiled sizes.
    const s = await setupFrom(t, "listed");
    await mkdir(path.join(s.cache, "tmp"), { recursive: true });
    await writeFile(path.join(s.cache, "tmp", "4242-deadbeef.tmp"), "half an entry");
    await writeFile(path.join(s.cache, "notes.txt"), "the user's own file\n");
    const result = await s.mpip(["cache", "clean", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { ok: boolean; removed: Record<string, { entries: number }>; total: { entries: number } };
    assert.equal(report.removed.tmp!.entries, 1);
    assert.ok(report.removed.mpy!.entries >= 1);
    assert.deepEqual(await filesBelow(s.cache), ["notes.txt"]);
    const again = await s.mpip(["cache", "clean"]);
    assert.match(again.stderr, /^Removed 0 entries \(0 bytes\) from `/m);
  });

  test("`mpip cache` alone shows its help (exit 2); an unknown subcommand is a usage error that lists them", async (t) => {
    const s = await setup(t, 0);
    const bare = await s.mpip(["cache"]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /Usage: mpip cache/);
    const unknown = await s.mpip(["cache", "purge"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^error: unknown command 'purge' for `mpip cache`$/m);
    assert.match(unknown.stderr, /^hint: `mpip cache` takes `dir`, `info` or `clean`; `mpip cache --help` describes them$/m);
    const extra = await s.mpip(["cache", "clean", "now"]);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /^hint: `mpip cache clean --help` shows its usage and options$/m);
  });
});

describe("runs sharing one cache", () => {
  test("two installs at once into one cache: both succeed with the same image, and the store is whole and consistent", async (t) => {
    const s = await setup(t, 6);
    s.server.delayFor = () => Math.floor(Math.random() * 15);
    const env = { MPIP_CACHE_DIR: s.cache };
    const runs = ["a", "b"].map((name) => startMpip(["install", "-p", path.join(s.work, name), "-i", s.server.url, "pebble0"], { env }));
    const mipRuns = ["c", "d"].map((name) => startMpip(["install", "-p", path.join(s.work, name), "-i", `mip+${s.mip.base}`, "moss0", "moss1", "moss2"], { env }));
    for (const running of [...runs, ...mipRuns]) {
      const exit = await running.exited;
      assert.equal(exit.code, 0, exit.stderr);
      assert.doesNotMatch(exit.stderr, /warning/);
    }
    assert.deepEqual(await snapshot(path.join(s.work, "a")), await snapshot(path.join(s.work, "b")));
    assert.deepEqual(await snapshot(path.join(s.work, "c")), await snapshot(path.join(s.work, "d")));
    await assertConsistent(s.cache);
    // And the cache they made together serves a third run with no request for a file.
    s.server.requests.length = 0;
    assert.equal((await s.mpip(["install", "-p", path.join(s.work, "e"), "-i", s.server.url, "pebble0"])).code, 0);
    assert.deepEqual(s.server.requests.filter((request) => request.includes("/files/")), []);
  });

  test("cache clean while an install uses the cache: the install succeeds (fetching again what it no longer finds), and no half entry is ever left", async (t) => {
    const s = await setup(t, 8);
    const env = { MPIP_CACHE_DIR: s.cache };
    assert.equal((await s.mpip(["install", "-p", path.join(s.work, "warm"), "-i", s.server.url, "pebble0"])).code, 0);
    s.server.delayMs = 5;
    for (let round = 0; round < 3; round++) {
      const install = startMpip(["install", "-p", path.join(s.work, `run${round}`), "-i", s.server.url, "pebble0"], { env });
      while (!install.done) {
        const cleaned = await s.mpip(["cache", "clean"]);
        assert.equal(cleaned.code, 0, cleaned.stderr);
      }
      const exit = await install.exited;
      assert.equal(exit.code, 0, exit.stderr);
      assert.doesNotMatch(exit.stderr, /warning/);
      assert.deepEqual(await snapshot(path.join(s.work, `run${round}`)), await snapshot(path.join(s.work, "warm")));
      await assertConsistent(s.cache);
    }
  });
});

describe("tests' own cache", () => {
  test("runMpip gives each run a private cache folder of its own, removed afterwards: never the user's ~/.cache", async () => {
    const first = await runMpip(["cache", "dir"]);
    const second = await runMpip(["cache", "dir"]);
    const [a, b] = [first.stdout.trim(), second.stdout.trim()];
    assert.notEqual(a, b);
    for (const dir of [a, b]) {
      assert.ok(dir.startsWith(os.tmpdir()), dir);
      assert.ok(!existsSync(dir), `${dir} is removed once the run ends`);
    }
  });
});
