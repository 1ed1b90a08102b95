// Locked installs that must not go through, and `mpip sync`, through the built CLI against a real index
// server: a file changed on the server after locking (one byte: an sdist, a v2 package's file, its
// document) or gone fails the install with the target unchanged; `sync` removes the recorded packages
// the lock does not list, in the same commit, `--no-remove` and `install --lock` keep them; a package
// already installed from the locked file is not fetched again; `lock --check` passes an up-to-date lock
// and fails, showing what changed, one that is not; a malformed lock is a usage error naming it.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { image, leftovers, lockAndInstall, serveGraph, type Graph } from "./graph.js";

let graph: Graph;
let work: { dir: string; cleanup: () => Promise<void> };
let lockFile: string;
let counter = 0;
const fresh = () => path.join(work.dir, `image-${++counter}`);

before(async () => {
  graph = await serveGraph();
  work = await tempDir("mpip-lock-sync-");
  lockFile = path.join(work.dir, "pylock.toml");
  const locked = await lockAndInstall.lock(graph, lockFile);
  assert.equal(locked.code, 0, locked.stderr);
});
after(async () => {
  await graph.server.close();
  await work.cleanup();
});

/**
 * A target holding `unlisted-lib` (recorded), which the lock does not list: installed once per file, and
 * each test given a copy of it (files and record as the install wrote them).
 */
let unlistedInstall: Promise<{ target: string; result: RunResult }> | undefined;
async function targetWithUnlisted(): Promise<string> {
  unlistedInstall ??= (async () => {
    const target = path.join(work.dir, "unlisted-original");
    return { target, result: await runMpip(["install", "-p", target, "-i", graph.server.url, "unlisted-lib"]) };
  })();
  const { target: original, result } = await unlistedInstall;
  assert.equal(result.code, 0, result.stderr);
  const target = fresh();
  await cp(original, target, { recursive: true });
  return target;
}

/** `mpip sync -p TARGET` run in the lock's folder, naming no lock: once per file, as two tests check it. */
let syncedByDefault: Promise<{ target: string; result: RunResult }> | undefined;
function syncByDefault(): Promise<{ target: string; result: RunResult }> {
  syncedByDefault ??= (async () => {
    const target = fresh();
    return { target, result: await runMpip(["sync", "-p", target], { cwd: work.dir }) };
  })();
  return syncedByDefault;
}

const packagesIn = async (target: string) => [...new Set((await listFiles(target)).filter((file) => file.includes(".dist-info/")).map((file) => file.split("/")[0]))].sort();

describe("a locked install that cannot go through changes nothing", () => {
  const tampered: Array<[string, (requestPath: string) => boolean, RegExp]> = [
    ["an sdist", (requestPath) => requestPath.endsWith("/helper_lib-1.2.tar.gz") || requestPath.endsWith("/Helper_Lib-1.2.tar.gz"), /`Helper_Lib 1\.2` \(`Helper_Lib-1\.2\.tar\.gz`\) from `http:\/\/127\.0\.0\.1:\d+\/files\/helper-lib\/1\.2\/Helper_Lib-1\.2\.tar\.gz` does not match the sha256 in the lock `.*pylock\.toml`/],
    ["a file of a v2 package", (requestPath) => requestPath.includes("/mip/v2/file/"), /`blinker\/(__init__|led)\.py` of `blinker 0\.3` \(`0\.3\.json`\) from `.*\/mip\/v2\/file\/.*` does not match the sha256 in the lock|`ticker\.py` of `ticker 1\.0` \(`1\.0\.json`\) from .* does not match the sha256 in the lock/],
    ["a v2 package's document", (requestPath) => requestPath.endsWith("/package/py/blinker/0.3.json"), /`blinker 0\.3` \(`0\.3\.json`\) from `.*\/package\/py\/blinker\/0\.3\.json` does not match the sha256 in the lock/],
  ];
  for (const [what, matches, message] of tampered) {
    test(`${what} changed on the server by one byte after locking: a digest mismatch naming the package and file`, async () => {
      const target = await targetWithUnlisted();
      const before = await image(target);
      const fault = graph.server.fault((request) => matches(request.path), { type: "wrong-digest" });
      try {
        for (const command of [["install", "--lock", lockFile], ["sync", lockFile]]) {
          const result = await runMpip([...command, "-p", target]);
          assert.equal(result.code, 1, result.stderr);
          assert.match(result.stderr, /^error: /m);
          assert.match(result.stderr, message);
          assert.match(result.stderr, /nothing of it was written/);
          assert.deepEqual(await image(target), before);
          assert.deepEqual(await leftovers(path.dirname(target)), []);
        }
        assert.ok(fault.hits >= 2);
      } finally {
        fault.remove();
      }
    });
  }

  test("a file the lock pins that the server no longer has (404): the error names the package and the URL; nothing changes", async () => {
    const target = await targetWithUnlisted();
    const before = await image(target);
    const fault = graph.server.fault((request) => request.path.endsWith("/sensor-lib-1.0.tar.gz"), { type: "status", status: 404 });
    try {
      const result = await lockAndInstall.installLocked(lockFile, target);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: the lock `.*pylock\.toml` lists `sensor-lib 1\.0` \(`sensor-lib-1\.0\.tar\.gz`\) at `http:\/\/127\.0\.0\.1:\d+\/files\/sensor-lib\/1\.0\/sensor-lib-1\.0\.tar\.gz`, but that URL answered 404$/m);
      assert.deepEqual(await image(target), before);
    } finally {
      fault.remove();
    }
  });

  test("a malformed lock is a usage error (exit 2) naming the file, the package and the field; nothing is created", async () => {
    const bad = path.join(work.dir, "pylock.bad.toml");
    const text = await readFile(lockFile, "utf8");
    for (const [broken, fragment] of [
      [text.replace(/sha256 = "[0-9a-f]{64}"/, 'sha256 = "beef"'), "package `blinker` (packages[0]): `tool.mpip.document.hashes` gives no sha256 (64 hex digits)"],
      [text.replace('lock-version = "1.0"', 'lock-version = "3.1"'), "is a lock of version 3.1; mpip reads lock-version 1.x"],
      [text.replace("[[packages]]", "[[packages]\n"), "is not valid TOML"],
    ] as const) {
      await writeFile(bad, broken);
      const target = fresh();
      const result = await lockAndInstall.installLocked(bad, target);
      assert.equal(result.code, 2, result.stderr);
      assert.ok(result.stderr.includes(fragment), result.stderr);
      assert.match(result.stderr, /pylock\.bad\.toml/);
      assert.equal(existsSync(target), false);
    }
  });

  test("a lock whose `size` disagrees with the file its sha256 names (an edited lock) is refused; nothing changes", async () => {
    const edited = path.join(work.dir, "pylock.sizes.toml");
    const text = await readFile(lockFile, "utf8");
    // One entry at a time: the first `size` of an sdist, of a v2 package's file, of a package document.
    const sdist = /(sdist = \{ name = "[^"]+", url = "[^"]+", size = )(\d+)/;
    const file = /(\{ dest = "blinker\/__init__\.py", url = "[^"]+", size = )(\d+)/;
    const documentSize = /(document = \{ url = "[^"]+", size = )(\d+)/;
    for (const [pattern, fragment] of [[sdist, /gives its file of `[^`]+` a size of \d+ bytes, but the file with its sha256 is \d+ bytes/], [file, /gives `blinker\/__init__\.py` of `blinker` a size of/], [documentSize, /gives its package document of `[^`]+` a size of/]] as const) {
      assert.match(text, pattern);
      await writeFile(edited, text.replace(pattern, (_all, head: string, size: string) => `${head}${Number(size) + 1}`));
      const target = await targetWithUnlisted();
      const before = await image(target);
      const result = await lockAndInstall.installLocked(edited, target);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, fragment);
      assert.deepEqual(await image(target), before);
    }
  });
});

describe("mpip sync", () => {
  test("removes the recorded packages the lock does not list, in the same commit; --no-remove and install --lock keep them", async () => {
    const target = await targetWithUnlisted();
    const kept = await runMpip(["sync", lockFile, "-p", target, "--no-remove"]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.deepEqual(await packagesIn(target), ["blinker-0.3.dist-info", "helper_lib-1.2.dist-info", "sensor_lib-1.0.dist-info", "ticker-1.0.dist-info", "unlisted_lib-1.0.dist-info"]);
    const other = await targetWithUnlisted();
    const installed = await lockAndInstall.installLocked(lockFile, other);
    assert.equal(installed.code, 0, installed.stderr);
    assert.ok((await listFiles(other)).includes("unlisted_lib.py"));

    const dry = await runMpip(["sync", lockFile, "-p", target, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /^ - unlisted-lib==1\.0 \(would be removed: not in the lock\)$/m);
    // The headline counts the removal too.
    assert.match(dry.stderr, /^Nothing to install: 4 packages already installed in `.+`; would remove 1 package not in the lock \(dry run: nothing was changed\)$/m);
    assert.ok((await listFiles(target)).includes("unlisted_lib.py"), "a dry run changes nothing");

    graph.server.requests.length = 0;
    const synced = await runMpip(["sync", lockFile, "-p", target, "--json"]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(await packagesIn(target), ["blinker-0.3.dist-info", "helper_lib-1.2.dist-info", "sensor_lib-1.0.dist-info", "ticker-1.0.dist-info"]);
    assert.equal((await listFiles(target)).includes("unlisted_lib.py"), false);
    const report = JSON.parse(synced.stdout) as { uninstalled: Array<{ name: string; version: string }>; packages: Array<{ name: string; alreadyInstalled?: boolean }> };
    assert.deepEqual(report.uninstalled, [{ name: "unlisted-lib", version: "1.0" }]);
    // Everything the lock lists was installed from the locked files already: nothing is fetched again.
    assert.ok(report.packages.every((item) => item.alreadyInstalled === true));
    assert.deepEqual(graph.server.requests, []);
    // An image synced twice is the image of a fresh locked install (here the lock found in the current
    // folder, which the next test checks).
    const { target: fromScratch, result: scratch } = await syncByDefault();
    assert.equal(scratch.code, 0, scratch.stderr);
    assert.deepEqual(await image(target), await image(fromScratch));
  });

  test("reads pylock.toml in the current folder by default; without one it is a usage error", async () => {
    const { result } = await syncByDefault();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Installed 4 packages into /m);
    const empty = await writeTree(path.join(work.dir, "empty"), { "README.md": "" });
    const none = await runMpip(["sync", "-p", fresh()], { cwd: empty });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /`pylock\.toml` \(the lock file `mpip sync` reads by default\): there is nothing at that path/);
  });

  test("a package installed before from another file (another version) is replaced, not kept", async () => {
    const target = fresh();
    await graph.server.addSdist({ name: "sensor-lib", version: "0.9", files: { "sensor_lib/__init__.py": "OLD = 1\n", "sensor_lib/old.py": "" } });
    assert.equal((await runMpip(["install", "-p", target, "-i", graph.server.url, "sensor-lib==0.9", "--no-deps"])).code, 0);
    const result = await runMpip(["sync", lockFile, "-p", target]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^ ~ sensor-lib==1\.0 \(replacing 0\.9\)/m);
    assert.equal((await listFiles(target)).includes("sensor_lib/old.py"), false);
  });
});

describe("mpip lock --check", () => {
  test("exit 0 for a lock that is up to date; exit 1, saying what changed, when a new version is out or the inputs changed; the lock is never written", async () => {
    const dir = await writeTree(path.join(work.dir, "check"), {});
    // The file's lock (made in \`before\`, which checks its run), copied: the same command made it.
    const checked = path.join(dir, "pylock.toml");
    await cp(lockFile, checked);
    const before = await readFile(checked);
    const ok = await lockAndInstall.lock(graph, checked, "--check");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /^`.*pylock\.toml` is up to date \(4 packages\)$/m);

    await graph.server.addSdist({ name: "Helper_Lib", version: "1.3", files: { "helper_lib/__init__.py": "def scale(x):\n    return 3 * x\n" } });
    try {
      const outdated = await lockAndInstall.lock(graph, checked, "--check");
      assert.equal(outdated.code, 1, outdated.stderr);
      assert.match(outdated.stderr, /^~ helper-lib: version 1\.2 → 1\.3, sha256 of the sdist [0-9a-f]{12}… → [0-9a-f]{12}…$/m);
      assert.match(outdated.stderr, /^error: `.*pylock\.toml` is out of date with its inputs: 1 change$/m);
      assert.match(outdated.stderr, /^hint: run the same `mpip lock` command without --check to update it/m);
      const json = await lockAndInstall.lock(graph, checked, "--check", "--json");
      assert.equal(json.code, 1);
      const document = JSON.parse(json.stdout) as { ok: boolean; error: { code: string }; changes: Array<{ type: string; name: string }> };
      assert.equal(document.ok, false);
      assert.equal(document.error.code, "lock-outdated");
      assert.deepEqual(document.changes.map((change) => [change.type, change.name]), [["changed", "helper-lib"]]);
    } finally {
      graph.server.projects.get("helper-lib")!.releases.delete("1.3");
    }
    const fewer = await runMpip(["lock", "--check", "-o", checked, ...graph.indexes, "sensor-lib"]);
    assert.equal(fewer.code, 1);
    assert.match(fewer.stderr, /^- blinker 0\.3$/m);
    assert.match(fewer.stderr, /^- ticker 1\.0$/m);
    assert.match(fewer.stderr, /^~ \[tool\.mpip\] requirements: \["sensor-lib", "blinker"\] → \["sensor-lib"\]$/m);
    const firmware = await lockAndInstall.lock(graph, checked, "--check", "--compile");
    assert.equal(firmware.code, 1);
    assert.match(firmware.stderr, /^~ \[tool\.mpip\] compile: "no" → "mpy"$/m);
    assert.ok(before.equals(await readFile(checked)), "--check never writes");
    const missing = await lockAndInstall.lock(graph, path.join(dir, "pylock.none.toml"), "--check");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /there is no lock file at `.*pylock\.none\.toml` to check/);
  });
});
