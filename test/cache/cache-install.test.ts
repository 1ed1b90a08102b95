// The download cache through the built CLI, against the real test index server: a warm install asks
// only conditional questions (and nothing at all for files whose sha256 the index gives), makes the same
// image as a cold one, heals a bad entry, never lets the cache change what the index's hash accepts,
// keeps no credentials, honours `no-store`, and `--offline` / `--no-cache` / `--cache-dir` do what they say.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, lstat, mkdir, readdir, readFile, rm, stat, symlink, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { serveRepos } from "../helpers/repo-server.js";
import { buildSdist } from "../helpers/sdist.js";
import { serveSimple } from "../helpers/simple-index.js";

interface Setup {
  server: IndexServer;
  mip: MipIndex;
  simple: string;
  work: string;
  cache: string;
  /** `mpip install -p <work>/<target> ...` with MPIP_CACHE_DIR set to the shared `cache`. */
  install(target: string, args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof runMpip>;
  /** Forgets the requests seen so far. */
  reset(): void;
}

interface Graph {
  server: IndexServer;
  mip: MipIndex;
  simple: string;
}

/** A server with a small graph on every index kind: `orchard` needs `apple` needs `seed` (sdists), `vine` (mip). */
async function startGraph(): Promise<Graph> {
  const server = await startIndexServer();
  const mip = serveMipIndex(server);
  const simple = serveSimple(server);
  await server.addSdist({ name: "orchard", version: "1.0", files: { "orchard/__init__.py": "ROWS = 3\n" }, requires: ["apple"] });
  await server.addSdist({ name: "apple", version: "2.1", files: { "apple.py": "KIND = 'gala'\n" }, requires: ["seed"] });
  await server.addSdist({ name: "seed", version: "0.3", files: { "seed.py": "SIZE = 1\n" } });
  await mip.publish({ name: "tendril", version: "0.2", files: { "tendril.py": "CURL = 2\n" }, mpy: false });
  await mip.publish({ name: "vine", version: "1.4", files: { "vine/__init__.py": "LEAVES = 5\n", "vine/grape.py": "SWEET = True\n" }, deps: [["tendril", "latest"]], mpy: false });
  return { server, mip, simple };
}

function setupOn({ server, mip, simple }: Graph, dir: string): Setup {
  const cache = path.join(dir, "cache");
  return {
    server,
    mip,
    simple,
    work: dir,
    cache,
    install: (target, args, env = {}) => runMpip(["install", "-p", path.join(dir, target), ...args], { env: { MPIP_CACHE_DIR: cache, ...env } }),
    reset: () => {
      server.requests.length = 0;
      server.received.length = 0;
      server.notModified = 0;
    },
  };
}

/** A server of the test's own, for tests that change what it serves or how it answers. */
async function setup(t: TestContext): Promise<Setup> {
  const graph = await startGraph();
  const { dir, cleanup } = await tempDir("mpip-cache-");
  t.after(async () => {
    await graph.server.close();
    await cleanup();
  });
  return setupOn(graph, dir);
}

/**
 * The file's one server, for tests that leave its packages and answers as they are (the tests of a file
 * run one at a time): each test still has a folder and a cache of its own, and starts with no request seen.
 * Cache entries are keyed by URL, so a cache made against this server serves only this server.
 */
let sharedGraph: Promise<Graph & { dir: string; cleanup: () => Promise<void> }> | undefined;
after(async () => {
  if (sharedGraph === undefined) return;
  const { server, cleanup } = await sharedGraph;
  await server.close();
  await cleanup();
});
async function sharedSetup(t: TestContext): Promise<Setup> {
  sharedGraph ??= (async () => ({ ...(await startGraph()), ...(await tempDir("mpip-cache-shared-")) }))();
  const graph = await sharedGraph;
  const { dir, cleanup } = await tempDir("mpip-cache-");
  t.after(cleanup);
  const s = setupOn(graph, dir);
  s.reset();
  return s;
}

/** The cold installs that tests start from, each into an empty cache: by the index kind, and what they install. */
const COLD = {
  pypi: (s: Setup) => ["-i", s.server.url, "orchard"],
  simple: (s: Setup) => ["-i", `simple+${s.simple}`, "orchard"],
  mip: (s: Setup) => ["-i", `mip+${s.mip.base}`, "vine"],
  seed: (s: Setup) => ["-i", s.server.url, "seed"],
} as const;
type ColdKind = keyof typeof COLD;

interface Cold {
  result: Awaited<ReturnType<typeof runMpip>>;
  /** The requests the shared server saw during the cold install. */
  requests: string[];
  /** The cache and the image it left, to be copied, never changed. */
  cache: string;
  image: string;
}

/**
 * Each cold install is run once per file, on the shared server; a test that starts from it gets a copy of
 * the cache it filled (as `s.cache`) and of the image it made (as `<work>/<image>`), and no request seen.
 * fs.cp keeps every file's bytes, which is all the cache and the snapshots compare.
 */
const colds = new Map<ColdKind, Promise<Cold>>();
async function fromCold(s: Setup, kind: ColdKind, image = "cold"): Promise<Cold> {
  let cold = colds.get(kind);
  if (cold === undefined) {
    cold = (async () => {
      // Only tests on the shared server start from these caches (fromCold follows sharedSetup).
      const shared = await sharedGraph!;
      const template = setupOn(shared, path.join(shared.dir, kind));
      template.reset();
      const result = await template.install("image", COLD[kind](template));
      const requests = [...template.server.requests];
      return { result, requests, cache: template.cache, image: path.join(template.work, "image") };
    })();
    colds.set(kind, cold);
  }
  const made = await cold;
  assert.equal(made.result.code, 0, made.result.stderr);
  await cp(made.cache, s.cache, { recursive: true });
  await cp(made.image, path.join(s.work, image), { recursive: true });
  s.reset();
  return made;
}

/** Every file of the store, each checked to hash to its name. */
async function storeEntries(cache: string): Promise<string[]> {
  const root = path.join(cache, "content", "sha256");
  const names: string[] = [];
  for (const shard of existsSync(root) ? await readdir(root) : []) {
    for (const name of await readdir(path.join(root, shard))) {
      const bytes = await readFile(path.join(root, shard, name));
      assert.equal(createHash("sha256").update(bytes).digest("hex"), name, `store entry ${name} holds other bytes`);
      names.push(name);
    }
  }
  return names.sort();
}

/** The entries by URL (`http/ab/<key>.json`), sorted. */
async function byUrlEntries(cache: string): Promise<string[]> {
  const root = path.join(cache, "http");
  const files: string[] = [];
  for (const shard of existsSync(root) ? await readdir(root) : []) {
    for (const name of await readdir(path.join(root, shard))) if (name.endsWith(".json")) files.push(path.join(root, shard, name));
  }
  return files.sort();
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const fileRequests = (server: IndexServer) => server.requests.filter((request) => request.includes("/files/"));

describe("a warm cache: only conditional requests, and none for files with a known sha256", () => {
  test("PyPI JSON: the second install asks only If-None-Match questions about documents, fetches no sdist, and makes the same image", async (t) => {
    const s = await sharedSetup(t);
    const cold = await fromCold(s, "pypi");
    assert.equal(cold.requests.filter((request) => request.includes("/files/")).length, 3);
    const warm = await s.install("warm", ["-i", s.server.url, "orchard"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.unconditional(), [], "every request of a warm install is conditional");
    assert.deepEqual(fileRequests(s.server), [], "no sdist is asked for: the index gives their sha256");
    assert.equal(s.server.requests.length, 3, "one conditional request per project document");
    assert.equal(s.server.notModified, 3);
    assert.ok(s.server.received.every((request) => request.headers["if-none-match"] !== undefined));
    assert.deepEqual(await snapshot(path.join(s.work, "warm")), await snapshot(path.join(s.work, "cold")), "the same image, records included");
    await storeEntries(s.cache);
  });

  test("a simple index: pages are revalidated, files with `#sha256=` are not asked for", async (t) => {
    const s = await sharedSetup(t);
    await fromCold(s, "simple");
    const warm = await s.install("warm", ["-i", `simple+${s.simple}`, "orchard"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.unconditional(), []);
    assert.deepEqual(fileRequests(s.server), []);
    assert.deepEqual(await snapshot(path.join(s.work, "warm")), await snapshot(path.join(s.work, "cold")));
  });

  test("a v2 index: index.json, package documents and files known by mip's short hash are all revalidated", async (t) => {
    const s = await sharedSetup(t);
    const coldRequests = [...(await fromCold(s, "mip")).requests];
    const warm = await s.install("warm", ["-i", `mip+${s.mip.base}`, "vine"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.unconditional(), []);
    assert.deepEqual([...s.server.requests].sort(), coldRequests.sort(), "the same URLs, each asked only whether it changed");
    assert.equal(s.server.notModified, coldRequests.length);
    assert.ok(s.server.requests.some((request) => request.includes("/file/")), "short-hash files are revalidated like documents");
    assert.deepEqual(await snapshot(path.join(s.work, "warm")), await snapshot(path.join(s.work, "cold")));
  });

  test("direct sources: a URL with `#sha256=` is not asked for again; a module URL and a github: package.json without one are revalidated", async (t) => {
    const s = await setup(t);
    const repos = serveRepos(s.server);
    repos.addRepo("github", "grower", "trellis", "main", {
      "package.json": JSON.stringify({ urls: [["trellis.py", "trellis.py"]], version: "0.1" }),
      "trellis.py": "POSTS = 4\n",
      "extra/twine.py": "KNOTS = 2\n",
    });
    const env = { MPIP_GITHUB_URL: repos.hosts.github };
    const sdist = await buildSdist({ name: "pinned", version: "1.0", files: { "pinned.py": "P = 1\n" } });
    s.server.addFile("pinned", "1.0", { filename: "pinned-1.0.tar.gz", body: sdist });
    const pinned = `${s.server.origin}/files/pinned/1.0/pinned-1.0.tar.gz#sha256=${sha256(sdist)}`;
    const args = ["--no-index", pinned, "github:grower/trellis", `${s.server.origin}/gh/grower/trellis/main/extra/twine.py`];
    const cold = await s.install("cold", args, env);
    assert.equal(cold.code, 0, cold.stderr);
    s.reset();
    const warm = await s.install("warm", args, env);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.unconditional(), []);
    assert.ok(!s.server.requests.some((request) => request.includes("/files/pinned/")), "the sdist with #sha256= came from the cache");
    assert.ok(s.server.requests.some((request) => request.endsWith("/package.json")), "the package.json is revalidated");
    assert.ok(s.server.requests.some((request) => request.endsWith("/twine.py")), "the module is revalidated");
    assert.deepEqual(await snapshot(path.join(s.work, "warm")), await snapshot(path.join(s.work, "cold")));
  });

  test("Last-Modified alone is revalidated with If-Modified-Since; with no validators documents are asked for again, sdists still not", async (t) => {
    const s = await setup(t);
    s.server.validators = "last-modified";
    assert.equal((await s.install("a", ["-i", s.server.url, "orchard"])).code, 0);
    s.reset();
    const warm = await s.install("b", ["-i", s.server.url, "orchard"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.unconditional(), []);
    assert.ok(s.server.received.every((request) => request.headers["if-modified-since"] !== undefined && request.headers["if-none-match"] === undefined));
    assert.equal(s.server.notModified, 3);

    s.server.validators = "none";
    await rm(s.cache, { recursive: true, force: true });
    assert.equal((await s.install("c", ["-i", s.server.url, "orchard"])).code, 0);
    s.reset();
    const again = await s.install("d", ["-i", s.server.url, "orchard"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(s.server.unconditional().length, 3, "documents without validators cannot be revalidated: asked for whole");
    assert.deepEqual(fileRequests(s.server), [], "sdists are still taken from the cache by their sha256");
  });

  test("a document that changed is fetched anew: a release published since is installed, never the cached answer", async (t) => {
    const s = await setup(t);
    assert.equal((await s.install("a", ["-i", s.server.url, "seed"])).code, 0);
    await s.server.addSdist({ name: "seed", version: "0.4", files: { "seed.py": "SIZE = 2\n" } });
    s.reset();
    const warm = await s.install("b", ["-i", s.server.url, "seed"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.match(warm.stderr, /\+ seed==0\.4/);
    assert.equal(await readFile(path.join(s.work, "b", "seed.py"), "utf8"), "SIZE = 2\n");
    assert.equal(s.server.notModified, 0);
  });
});

describe("the cache is trusted for nothing but its hash", () => {
  const corruptions: Array<[string, (file: string, good: Buffer) => Promise<void>]> = [
    ["a flipped byte", async (file, good) => {
      const bad = Buffer.from(good);
      bad.writeUInt8(bad.readUInt8(bad.length >> 1) ^ 0x01, bad.length >> 1);
      await writeFile(file, bad);
    }],
    ["a truncated file", async (file, good) => truncate(file, good.length - 7)],
    ["an empty file", async (file) => truncate(file, 0)],
    ["a symbolic link (to the right bytes)", async (file, good) => {
      await writeFile(`${file}.elsewhere`, good);
      await rm(file);
      await symlink(`${file}.elsewhere`, file);
    }],
    ["a folder", async (file) => {
      await rm(file);
      await mkdir(path.join(file, "inside"), { recursive: true });
    }],
    // Entries are opened in blocking calls (cache/store.ts): neither may hang the run.
    ["a FIFO", async (file) => {
      await rm(file);
      execFileSync("mkfifo", [file]);
    }],
    ["a symbolic link to a device that never ends", async (file) => {
      await rm(file);
      await symlink("/dev/zero", file);
    }],
  ];
  for (const [what, corrupt] of corruptions) {
    test(`an entry that is ${what} is dropped with a note at -v, fetched again, and stored right`, { timeout: 60_000 }, async (t) => {
      const s = await sharedSetup(t);
      await fromCold(s, "seed");
      const sdist = s.server.projects.get("seed")!.releases.get("0.3")![0]!.body;
      const entry = path.join(s.cache, "content", "sha256", sha256(sdist).slice(0, 2), sha256(sdist));
      await corrupt(entry, sdist);
      const healed = await s.install("healed", ["-v", "-i", s.server.url, "seed"]);
      assert.equal(healed.code, 0, healed.stderr);
      assert.match(healed.stderr, /the cache entry `[^`]+` (does not hash to its name|is a symbolic link|is not a regular file)[^;]*; it is dropped and fetched again/);
      assert.deepEqual(fileRequests(s.server), ["GET /files/seed/0.3/seed-0.3.tar.gz"]);
      assert.deepEqual(await snapshot(path.join(s.work, "healed")), await snapshot(path.join(s.work, "cold")));
      assert.ok((await stat(entry)).isFile());
      assert.deepEqual(await readFile(entry), sdist);
    });
  }

  // The entries by URL (`http/ab/<key>.json`), read in blocking calls before each request (cache/documents.ts).
  const byUrlDamage: Array<[string, (file: string) => Promise<void>]> = [
    ["a FIFO", async (file) => {
      execFileSync("mkfifo", [file]);
    }],
    ["a symbolic link to a device that never ends", async (file) => symlink("/dev/zero", file)],
    ["a folder", async (file) => {
      await mkdir(path.join(file, "inside"), { recursive: true });
    }],
    ["a file of more than 1 MiB", async (file) => writeFile(file, Buffer.alloc((1 << 20) + 1, 0x20))],
    ["not JSON", async (file) => writeFile(file, "{ not json")],
  ];
  for (const [what, damage] of byUrlDamage) {
    // A run that hangs on the entry fails the test (after a minute) rather than the suite.
    test(`an entry by URL that is ${what} is dropped with a note at -v, the document is fetched again whole, and the run neither hangs nor fails`, { timeout: 60_000 }, async (t) => {
      const s = await sharedSetup(t);
      await fromCold(s, "seed");
      const entries = await byUrlEntries(s.cache);
      assert.equal(entries.length, 1, `one document: ${entries.join(", ")}`);
      await rm(entries[0]!);
      await damage(entries[0]!);
      const healed = await s.install("healed", ["-v", "-i", s.server.url, "seed"]);
      assert.equal(healed.code, 0, healed.stderr);
      assert.match(healed.stderr, /the cache entry `[^`]+\.json` (cannot be read \([^)]+\)|is not one mpip wrote); it is dropped/);
      // Asked again with no validators (nothing was remembered), and remembered again as a file.
      assert.equal(s.server.notModified, 0);
      assert.ok(s.server.received.some((request) => request.url.endsWith("/seed/json") && request.headers["if-none-match"] === undefined));
      assert.deepEqual(await snapshot(path.join(s.work, "healed")), await snapshot(path.join(s.work, "cold")));
      const healedEntries = await byUrlEntries(s.cache);
      assert.deepEqual(healedEntries, entries);
      assert.ok((await lstat(healedEntries[0]!)).isFile());
    });
  }

  test("bytes planted in the store under the index's hash are never installed; a file the index now hashes otherwise is downloaded", async (t) => {
    const s = await setup(t);
    assert.equal((await s.install("cold", ["-i", s.server.url, "seed"])).code, 0);
    // The release is replaced on the server (same name and URL, new bytes and digest): the cached old bytes
    // do not have the digest the index now gives, so they are not used.
    const fresh = await buildSdist({ name: "seed", version: "0.3", files: { "seed.py": "SIZE = 'rebuilt'\n" } });
    s.server.addFile("seed", "0.3", { filename: "seed-0.3.tar.gz", body: fresh });
    // And bytes planted under the new digest's name are not taken for it.
    const planted = path.join(s.cache, "content", "sha256", sha256(fresh).slice(0, 2), sha256(fresh));
    await mkdir(path.dirname(planted), { recursive: true });
    await writeFile(planted, await buildSdist({ name: "seed", version: "0.3", files: { "seed.py": "import evil\n" } }));
    s.reset();
    const result = await s.install("again", ["-v", "-i", s.server.url, "seed"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(s.work, "again", "seed.py"), "utf8"), "SIZE = 'rebuilt'\n");
    assert.deepEqual(fileRequests(s.server), ["GET /files/seed/0.3/seed-0.3.tar.gz"]);
    await storeEntries(s.cache);
  });

  test("a file known by mip's short hash that came altered is not kept: the next run fetches it whole, not a 304 for the bad copy", async (t) => {
    const s = await setup(t);
    // The server's validators describe the right bytes, but one answer carries altered ones.
    const fault = s.server.fault((request) => request.path.endsWith(`/${s.mip.hashOf("py", "tendril", "tendril.py")}`), { type: "wrong-digest" }, { times: 1 });
    const bad = await s.install("bad", ["-i", `mip+${s.mip.base}`, "vine"]);
    assert.equal(bad.code, 1);
    // tendril is vine's dependency: the error names the package that led there, as for any dependency.
    assert.match(bad.stderr, /^error: while getting `tendril` \(required by `vine 1\.4`\): `tendril\.py` of `tendril 0\.2` .* does not match the sha256 in the package document/m);
    assert.equal(fault.hits, 1);
    s.reset();
    const good = await s.install("good", ["-i", `mip+${s.mip.base}`, "vine"]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(await readFile(path.join(s.work, "good", "tendril.py"), "utf8"), "CURL = 2\n\n\n__version__ = '0.2'\n");
    assert.deepEqual(s.server.unconditional().filter((request) => request.includes("/file/")), [`GET /mip/v2/file/${s.mip.hashOf("py", "tendril", "tendril.py").slice(0, 2)}/${s.mip.hashOf("py", "tendril", "tendril.py")}`]);
  });

  test("a 304 for a document whose body the store has lost: asked again unconditionally, and installed", async (t) => {
    const s = await sharedSetup(t);
    await fromCold(s, "seed");
    await rm(path.join(s.cache, "content"), { recursive: true });
    const result = await s.install("again", ["-i", s.server.url, "seed"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(s.server.requests, ["GET /pypi/seed/json", "GET /pypi/seed/json", "GET /files/seed/0.3/seed-0.3.tar.gz"]);
    assert.deepEqual(s.server.received.map((request) => request.conditional), [true, false, false]);
  });
});

describe("what the cache keeps", () => {
  test("credentials never enter the cache: not the index URL's user and token, not the Authorization header", async (t) => {
    const s = await setup(t);
    s.server.requireAuth("cache-user", "s3cr3t-t0ken");
    const url = s.server.url.replace("http://", "http://cache-user:s3cr3t-t0ken@");
    const cold = await s.install("cold", ["-i", url, "orchard"]);
    assert.equal(cold.code, 0, cold.stderr);
    const token = Buffer.from("cache-user:s3cr3t-t0ken").toString("base64");
    const walk = async (dir: string): Promise<string[]> => (await readdir(dir, { withFileTypes: true, recursive: true })).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
    const files = await walk(s.cache);
    assert.ok(files.length > 0);
    for (const file of files) {
      const text = (await readFile(file)).toString("latin1");
      for (const secret of ["s3cr3t-t0ken", token, "cache-user"]) assert.ok(!text.includes(secret), `${file} holds ${secret}`);
    }
    s.reset();
    const warm = await s.install("warm", ["-i", url, "orchard"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.unconditional(), []);
  });

  test("an answer with `Cache-Control: no-store` is not kept: the next run asks for it whole", async (t) => {
    const s = await setup(t);
    s.server.headersFor = (requestPath) => (requestPath === "/pypi/apple/json" ? { "Cache-Control": "private, no-store" } : undefined);
    assert.equal((await s.install("cold", ["-i", s.server.url, "orchard"])).code, 0);
    s.reset();
    const warm = await s.install("warm", ["-i", s.server.url, "orchard"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.unconditional(), ["GET /pypi/apple/json"]);
  });

  test("--no-cache neither reads nor writes: nothing is created, and every request is made whole", async (t) => {
    const s = await sharedSetup(t);
    await fromCold(s, "pypi", "primed");
    const before = await snapshot(s.cache);
    const result = await s.install("none", ["--no-cache", "-i", s.server.url, "orchard"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(s.server.unconditional().length, 6, "3 documents and 3 sdists, none from the cache");
    assert.deepEqual(await snapshot(s.cache), before, "the cache is untouched");
    const fresh = path.join(s.work, "never");
    const alone = await runMpip(["install", "--no-cache", "-p", path.join(s.work, "alone"), "-i", s.server.url, "seed"], { env: { MPIP_CACHE_DIR: fresh } });
    assert.equal(alone.code, 0, alone.stderr);
    assert.ok(!existsSync(fresh), "no cache folder is made");
  });

  test("--cache-dir is the cache, whatever MPIP_CACHE_DIR says", async (t) => {
    const s = await sharedSetup(t);
    const chosen = path.join(s.work, "chosen");
    const result = await s.install("a", ["--cache-dir", chosen, "-i", s.server.url, "seed"]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(existsSync(path.join(chosen, "content")));
    assert.ok(!existsSync(s.cache));
    const empty = await s.install("b", ["--cache-dir", "", "seed"]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--cache-dir/);
  });
});

describe("--offline", () => {
  test("with a cold cache: an error naming what is missing, with a hint; no request is made and the target is untouched", async (t) => {
    const s = await sharedSetup(t);
    const target = path.join(s.work, "image");
    await mkdir(target);
    await writeFile(path.join(target, "keep.py"), "K = 1\n");
    const before = await snapshot(target);
    const result = await s.install("image", ["--offline", "-i", s.server.url, "orchard"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^error: \`${s.server.url.replace(/[.]/g, "\\.")}/orchard/json\` is not in the cache \`[^\`]+\`, and --offline forbids fetching it$`, "m"));
    assert.match(result.stderr, /^hint: run the same command once with the network to fill the cache .*`mpip download`$/m);
    assert.deepEqual(s.server.requests, []);
    assert.deepEqual(await snapshot(target), before);
    assert.ok(!existsSync(s.cache), "offline, no cache folder is made");
    const json = await s.install("image", ["--offline", "--json", "-i", s.server.url, "orchard"]);
    assert.equal(JSON.parse(json.stdout).error.code, "offline");
  });

  test("with a warm cache: the same image, with no request at all, from every index kind", async (t) => {
    const s = await sharedSetup(t);
    for (const [name, index, spec] of [["pypi", s.server.url, "orchard"], ["simple", `simple+${s.simple}`, "orchard"], ["mip", `mip+${s.mip.base}`, "vine"]] as const) {
      // Each kind's cold install, added to the cache the kinds before it filled.
      await fromCold(s, name, `${name}-cold`);
      const offline = await s.install(`${name}-offline`, ["--offline", "-i", index, spec]);
      assert.equal(offline.code, 0, offline.stderr);
      assert.deepEqual(s.server.requests, [], `${name}: no request`);
      assert.deepEqual(await snapshot(path.join(s.work, `${name}-offline`)), await snapshot(path.join(s.work, `${name}-cold`)));
    }
  });

  test("a file missing from a warm cache is named, with its sha256; an index that answered 404 is answered from the cache", async (t) => {
    const s = await sharedSetup(t);
    // Two indexes: the first has none of these (404s, remembered), the second has them.
    const first = `${s.server.origin}/nothing/pypi`;
    assert.equal((await s.install("cold", ["-i", first, "-i", s.server.url, "seed"])).code, 0);
    s.reset();
    const warm = await s.install("warm", ["--offline", "-i", first, "-i", s.server.url, "seed"]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.deepEqual(s.server.requests, []);
    const sdist = s.server.projects.get("seed")!.releases.get("0.3")![0]!.body;
    await rm(path.join(s.cache, "content", "sha256", sha256(sdist).slice(0, 2), sha256(sdist)));
    const missing = await s.install("missing", ["--offline", "-i", first, "-i", s.server.url, "seed"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`^error: \`seed 0\\.3\` \\(\`seed-0\\.3\\.tar\\.gz\`\\) \\(from \`[^\`]+/files/seed/0\\.3/seed-0\\.3\\.tar\\.gz\`\\) is not in the cache \`[^\`]+\` \\(sha256 ${sha256(sdist)}\\), and --offline forbids fetching it$`, "m"));
    assert.deepEqual(s.server.requests, []);
  });

  test("a dependency missing from the cache is named with the package that required it", async (t) => {
    const s = await sharedSetup(t);
    assert.equal((await s.install("roots-only", ["--no-deps", "-i", s.server.url, "orchard"])).code, 0);
    s.reset();
    const result = await s.install("deps", ["--offline", "-i", s.server.url, "orchard"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^error: while getting \`apple\` \\(required by \`orchard 1\\.0\`\\): \`${s.server.url.replace(/[.]/g, "\\.")}/apple/json\` is not in the cache \`[^\`]+\`, and --offline forbids fetching it$`, "m"));
    assert.match(result.stderr, /^hint: run the same command once with the network to fill the cache/m);
    assert.deepEqual(s.server.requests, []);
  });

  test("--cache-dir, --no-cache and --offline are in install's --help", async () => {
    const help = await runMpip(["install", "--help"]);
    assert.match(help.stdout, /--cache-dir <dir>\s+the download cache's folder/);
    assert.match(help.stdout, /--no-cache\s+neither read nor write the download cache/);
    assert.match(help.stdout, /--offline\s+never use the network/);
  });

  test("with --no-cache, --offline can only install local files; anything remote is an error that says why", async (t) => {
    const s = await sharedSetup(t);
    const result = await s.install("x", ["--offline", "--no-cache", "-i", s.server.url, "seed"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot be fetched: --offline forbids the network, and --no-cache leaves no cache to answer from/);
    assert.deepEqual(s.server.requests, []);
    const folder = path.join(s.work, "sdists");
    await mkdir(folder);
    await writeFile(path.join(folder, "seed-0.3.tar.gz"), await buildSdist({ name: "seed", version: "0.3", files: { "seed.py": "SIZE = 1\n" } }));
    const local = await s.install("local", ["--offline", "--no-cache", "--no-index", "-f", folder, "seed"]);
    assert.equal(local.code, 0, local.stderr);
    assert.equal(await readFile(path.join(s.work, "local", "seed.py"), "utf8"), "SIZE = 1\n");
  });
});
