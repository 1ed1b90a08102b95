// `mpip download -d DIR --lock pylock.toml` through the built CLI, against a real index server: it fetches
// exactly the files the lock pins (no index asked anything), checks each against the lock's full sha256,
// and writes the folder a download of the same specs writes, byte for byte. Then, with the server switched
// off, `install -i DIR` from the folder and `install --lock --offline` from the cache the download filled
// both give the locked install's image. The graph mixes sdists (PyPI JSON), micropython-lib v2 packages and
// a `github:` package.json whose `deps` name another repo, so every way a folder names a dependency is met;
// and a lock of every other kind of source (URLs, a module, a project folder, a local package.json, -f).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { serveRepos } from "../helpers/repo-server.js";
import { buildSdist } from "../helpers/sdist.js";
import { metadataRequests } from "./graph.js";

interface Setup {
  dir: string;
  server: IndexServer;
  mip: MipIndex;
  /** The forge hosts pointed at the test server, and a fixed `updated` for index.json. */
  env: NodeJS.ProcessEnv;
  indexes: string[];
  specs: string[];
  /** mpip with `env` and the cache `cache` (a folder below `dir`). */
  mpip(args: string[], cache: string, extra?: NodeJS.ProcessEnv): ReturnType<typeof runMpip>;
}

async function setup(t: TestContext, options: { mpy?: boolean } = {}): Promise<Setup> {
  const { dir, cleanup } = await tempDir("mpip-lock-download-");
  const server = await startIndexServer();
  t.after(async () => {
    await server.close();
    await cleanup();
  });
  const mpy = options.mpy ?? false;
  const mip = serveMipIndex(server);
  await server.addSdist({ name: "gauge-core", version: "3.0", files: { "gauge_core/__init__.py": "from dial import turn\nMAX = 9\n", "gauge_core/face.bin": "\x00\x01face" }, requires: ["dial>=1"] });
  await server.addSdist({ name: "dial", version: "1.4", files: { "dial.py": "def turn(x):\n    return -x\n" } });
  await server.addSdist({ name: "dial", version: "2.0", files: { "dial.py": "def turn(x):\n    return x\n" } });
  await mip.publish({ name: "ring", version: "0.2", files: { "ring.py": "SIZE = 8\n" }, mpy });
  await mip.publish({ name: "beacon", version: "1.1", files: { "beacon/__init__.py": "import ring\n", "beacon/pulse.py": "RATE = 2\n" }, deps: [["ring", "0.2"], ["gauge-core", ""]], mpy });
  const repos = serveRepos(server);
  repos.addRepo("github", "lab", "panel", "v1", {
    "package.json": JSON.stringify({ version: "0.5", urls: [["panel/__init__.py", "panel.py"]], deps: [["beacon", "latest"], ["github:lab/glyphs", "v3"]] }),
    "panel.py": "import beacon\n",
  });
  repos.addRepo("github", "lab", "glyphs", "v3", { "package.json": JSON.stringify({ version: "3.0", urls: [["glyphs.py", "glyphs.py"]] }), "glyphs.py": "G = 3\n" });
  const env = { MPIP_GITHUB_URL: repos.hosts.github, SOURCE_DATE_EPOCH: "1700000000" };
  return {
    dir,
    server,
    mip,
    env,
    indexes: ["-i", mip.base, "-i", server.url],
    specs: ["github:lab/panel@v1", "dial<2"],
    mpip: (args, cache, extra = {}) => runMpip(args, { env: { ...env, MPIP_CACHE_DIR: path.join(dir, cache), ...extra } }),
  };
}

describe("mpip download --lock", () => {
  test("fetches only what the lock pins, into the folder a download of the same packages writes; with the network off, the folder and the cache it filled both give the locked image", async (t) => {
    const s = await setup(t);
    const lockFile = path.join(s.dir, "pylock.toml");
    const locked = await s.mpip(["lock", "-o", lockFile, ...s.indexes, ...s.specs], "lock-cache");
    assert.equal(locked.code, 0, locked.stderr);
    const resolved = path.join(s.dir, "resolved");
    const plain = await s.mpip(["download", "-d", resolved, ...s.indexes, ...s.specs], "plain-cache");
    assert.equal(plain.code, 0, plain.stderr);

    s.server.requests.length = 0;
    const folder = path.join(s.dir, "from lock");
    const result = await s.mpip(["download", "-d", folder, "--lock", lockFile], "cache");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Downloaded 6 packages into `.*from lock` in [\d.]+s \(\d+ files written\)$/m);
    assert.ok(result.stderr.includes(` + gauge-core==3.0 (from ${s.server.url}) as gauge-core-3.0.tar.gz`), result.stderr);
    assert.ok(result.stderr.includes(" + panel==0.5 (from github:lab/panel@v1) as package/py/panel/0.5.json and 1 file"), result.stderr);
    assert.match(result.stderr, /^Install from it with no network: `mpip install -i .*from lock \.\.\.`$/m);
    // No index was asked anything: only the files the lock pins, each once.
    assert.deepEqual(metadataRequests(s.server), []);
    assert.equal(new Set(s.server.requests).size, s.server.requests.length, s.server.requests.join("\n"));
    // The same folder as the resolution's, byte for byte: sdists as served, the v2 index, deps by name.
    assert.deepEqual(await snapshot(folder), await snapshot(resolved));

    // The image to reproduce: the locked install, with and without records.
    const expected = path.join(s.dir, "expected");
    const expectedBare = path.join(s.dir, "expected-bare");
    assert.equal((await s.mpip(["install", "--lock", lockFile, "-p", expected], "lock-cache")).code, 0);
    assert.equal((await s.mpip(["install", "--no-record", "--lock", lockFile, "-p", expectedBare], "lock-cache")).code, 0);

    await s.server.close();
    const fromFolder = path.join(s.dir, "from-folder");
    const installed = await s.mpip(["install", "--no-record", "-p", fromFolder, "-i", folder, "panel", "dial<2"], "empty-cache");
    assert.equal(installed.code, 0, installed.stderr);
    assert.deepEqual(await snapshot(fromFolder), await snapshot(expectedBare));
    // The download filled its cache with every file by its sha256: the locked install needs nothing more.
    const fromCache = path.join(s.dir, "from-cache");
    const offline = await s.mpip(["install", "--offline", "--lock", lockFile, "-p", fromCache], "cache");
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual(await snapshot(fromCache), await snapshot(expected));
  });

  test("every other kind of source a lock holds: an sdist URL, a module URL, a project folder, a local package.json, an sdist in a -f folder and one by path: the folder a download of them writes", async (t) => {
    const s = await setup(t);
    const remote = await buildSdist({ name: "remote-kit", version: "0.1", files: { "remote_kit.py": "R = 1\n" } });
    s.server.routes.push(
      { name: "direct-sdist", pattern: /^\/dl\/remote-kit-0\.1\.tar\.gz$/, handle: () => ({ status: 200, body: remote }) },
      { name: "direct-module", pattern: /^\/dl\/probe\.py$/, handle: () => ({ status: 200, body: Buffer.from("PROBE = 1\n") }) },
    );
    const app = await writeTree(path.join(s.dir, "app"), {
      "proj/pyproject.toml": '[project]\nname = "bench-app"\nversion = "3.1"\ndependencies = ["dial<2"]\n',
      "proj/bench_app/__init__.py": "A = 1\n",
      "pj/package.json": JSON.stringify({ version: "0.9", urls: [["pj.py", "pj.py"]], deps: [["ring", "0.2"]] }),
      "pj/pj.py": "P = 1\n",
      "wheelhouse/local-dist-2.0.tar.gz": await buildSdist({ name: "local-dist", version: "2.0", files: { "local_dist.py": "L = 2\n" } }),
      "loose-1.1.tar.gz": await buildSdist({ name: "loose", version: "1.1", files: { "loose.py": "L = 1\n" } }),
    });
    const args = [...s.indexes, "-f", "wheelhouse", `${s.server.origin}/dl/remote-kit-0.1.tar.gz`, `${s.server.origin}/dl/probe.py`, "./proj", "./pj", "local-dist", "./loose-1.1.tar.gz"];
    const env = { ...s.env, MPIP_CACHE_DIR: path.join(s.dir, "cache") };
    const locked = await runMpip(["lock", ...args], { cwd: app, env });
    assert.equal(locked.code, 0, locked.stderr);
    const plain = await runMpip(["download", "-d", "resolved", ...args], { cwd: app, env });
    assert.equal(plain.code, 0, plain.stderr);
    const fromLock = await runMpip(["download", "-d", path.join(s.dir, "from-lock"), "--lock", path.join(app, "pylock.toml")], { cwd: s.dir, env });
    assert.equal(fromLock.code, 0, fromLock.stderr);
    assert.deepEqual(await snapshot(path.join(s.dir, "from-lock")), await snapshot(path.join(app, "resolved")));
  });

  test("the lock's firmware lays the folder out: a lock for .mpy 6 gives `package/6/`, another firmware asked for is a usage error", async (t) => {
    const s = await setup(t, { mpy: true });
    const lockFile = path.join(s.dir, "pylock.toml");
    assert.equal((await s.mpip(["lock", "--mpy", "6", "-o", lockFile, ...s.indexes, "beacon"], "cache")).code, 0);
    const folder = path.join(s.dir, "dl");
    const result = await s.mpip(["download", "-d", folder, "--lock", lockFile], "cache");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(path.join(folder, "package"))).sort(), ["6"]);
    assert.match(result.stderr, /^Install from it with no network: `mpip install -i .*dl --mpy 6 \.\.\.`$/m);
    // The same firmware given again is the lock's: the same folder.
    const same = await s.mpip(["download", "-d", path.join(s.dir, "same"), "--lock", lockFile, "--mpy", "6"], "cache");
    assert.equal(same.code, 0, same.stderr);
    assert.deepEqual(await snapshot(path.join(s.dir, "same")), await snapshot(folder));
    const refused5 = await s.mpip(["download", "-d", path.join(s.dir, "other"), "--lock", lockFile, "--mpy", "5"], "cache");
    assert.equal(refused5.code, 2, refused5.stderr);
    assert.match(refused5.stderr, /^error: `.*pylock\.toml` was locked for \.mpy 6, but this download is for \.mpy 5$/m);
    assert.equal(existsSync(path.join(s.dir, "other")), false);
    const sources = path.join(s.dir, "pylock.sources.toml");
    assert.equal((await s.mpip(["lock", "-o", sources, ...s.indexes, "beacon"], "cache")).code, 0);
    const refused = await s.mpip(["download", "-d", path.join(s.dir, "other"), "--lock", sources, "--mpy", "6"], "cache");
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /was locked for sources \(no --mpy or --target-version\), but this download is for \.mpy 6/);
  });

  test("a file changed on the server since locking fails the download, naming it; nothing is written into the folder", async (t) => {
    const s = await setup(t);
    const lockFile = path.join(s.dir, "pylock.toml");
    assert.equal((await s.mpip(["lock", "-o", lockFile, ...s.indexes, ...s.specs], "cache")).code, 0);
    for (const [what, matches] of [["an sdist", (p: string) => p.endsWith("/dial-1.4.tar.gz")], ["a v2 package's file", (p: string) => p.includes("/mip/v2/file/")], ["a package.json", (p: string) => p.endsWith("/panel/v1/package.json") || p.includes("/lab/panel/v1/package.json")]] as const) {
      const fault = s.server.fault((request) => matches(request.path), { type: "wrong-digest" });
      try {
        const folder = path.join(s.dir, `tampered-${what.replace(/\W+/g, "-")}`);
        // A fresh cache: the files must come from the server.
        const result = await s.mpip(["download", "-d", folder, "--lock", lockFile], `cache-${what.replace(/\W+/g, "-")}`);
        assert.equal(result.code, 1, `${what}: ${result.stderr}`);
        assert.match(result.stderr, /^error: .* does not match the sha256 in the lock `.*pylock\.toml` .*nothing of it was written$/m, what);
        assert.equal(existsSync(folder), false, what);
        assert.ok(fault.hits >= 1, what);
      } finally {
        fault.remove();
      }
    }
  });

  test("what resolves a download has no place beside --lock; the lock must be a file", async (t) => {
    const s = await setup(t);
    const lockFile = path.join(s.dir, "pylock.toml");
    assert.equal((await s.mpip(["lock", "-o", lockFile, ...s.indexes, "ring"], "cache")).code, 0);
    for (const [args, clash] of [[["ring"], "packages to download"], [["-r", lockFile], "-r"], [["-c", lockFile], "-c"], [["--no-deps"], "--no-deps"], [["--pre"], "--pre"], [["-f", s.dir], "-f (--find-links)"]] as const) {
      const result = await s.mpip(["download", "-d", path.join(s.dir, "x"), "--lock", lockFile, ...args], "cache");
      assert.equal(result.code, 2, result.stderr);
      assert.ok(result.stderr.includes(`error: ${clash} cannot be given with --lock: the lock says what to download`), result.stderr);
    }
    // Set by MPIP_* variables (a CI job's, for every step), they are passed over: the lock is downloaded.
    const env = { MPIP_REQUIREMENT: lockFile, MPIP_CONSTRAINT: lockFile, MPIP_NO_DEPS: "1", MPIP_PRE: "1", MPIP_FIND_LINKS: s.dir };
    const passed = await runMpip(["download", "-d", path.join(s.dir, "from-env"), "--lock", lockFile, "--offline", "--cache-dir", path.join(s.dir, "cache")], { env });
    assert.equal(passed.code, 0, passed.stderr);
    assert.ok(existsSync(path.join(s.dir, "from-env")));
    const missing = await s.mpip(["download", "-d", path.join(s.dir, "x"), "--lock", path.join(s.dir, "nothing.toml")], "cache");
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /nothing\.toml` \(given with --lock\)/);
    assert.equal(existsSync(path.join(s.dir, "x")), false);
    const help = await runMpip(["download", "--help"]);
    assert.match(help.stdout, /--lock <file>\s+download exactly what a pylock\.toml lists/);
  });
});
