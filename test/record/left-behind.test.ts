// What an upgrade (`install` over a recorded version, `-U`) and `mpip sync` leave of the versions they
// replace or remove, by `mpip uninstall`'s rule: a file changed since it was installed (its bytes no
// longer match its RECORD row) that nothing ships again is kept and warned about, never deleted without
// a word; an unchanged one goes; a changed one the new version ships is replaced by it (as pip does). A
// package whose RECORD is missing, unreadable or empty is installed over, with a warning naming it and
// saying its old files stay.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { baselineRun } from "../helpers/baseline.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = () => path.join(work.dir, `image-${++counter}`);

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-left-behind-");
  await server.addSdist({ name: "shrinky", version: "1.0", files: { "shrinky/__init__.py": "V = 1\n", "shrinky/old.py": "OLD = 1\n", "shrinky/gone/deep.py": "D = 1\n", "shrinky_extra.py": "E = 1\n" } });
  await server.addSdist({ name: "shrinky", version: "2.0", files: { "shrinky/__init__.py": "V = 2\n", "shrinky/new.py": "NEW = 2\n" } });
  await server.addSdist({ name: "leaving", version: "1.0", files: { "leaving.py": "L = 1\n", "leaving_too.py": "T = 1\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, ...args: string[]) => runMpip(["install", "-i", server.url, "-p", target, ...args]);
const packageFiles = async (target: string) => (await listFiles(target)).filter((file) => !file.includes(".dist-info/"));
const recordPaths = async (target: string, distInfo: string) => (await readFile(path.join(target, distInfo, "RECORD"), "utf8")).split("\n").filter(Boolean).map((line) => line.split(",")[0]);

/** A lock (in a folder of its own) of `specs` from the index. */
async function lockOf(...specs: string[]): Promise<string> {
  const dir = path.join(work.dir, `lock-${++counter}`);
  await mkdir(dir);
  const lockFile = path.join(dir, "pylock.toml");
  const locked = await runMpip(["lock", "-o", lockFile, "-i", server.url, ...specs]);
  assert.equal(locked.code, 0, locked.stderr);
  return lockFile;
}

/** The lock of shrinky 2.0 the sync tests use: made once (sync only reads it). */
let shrinky2Lock: Promise<string> | undefined;
const lockOfShrinky2 = () => (shrinky2Lock ??= lockOf("shrinky==2.0"));

/** shrinky 1.0 as installed: the starting state of every upgrade here, installed once and copied per test. */
const withShrinky1 = baselineRun((dir) => install(dir, "shrinky==1.0"), () => work.dir);

/** shrinky 1.0 installed, then edited: `old.py` and `__init__.py` changed, `shrinky_extra.py` and `gone/deep.py` as installed. */
async function editedShrinky(): Promise<string> {
  const target = await withShrinky1.copyTo(fresh());
  await writeFile(path.join(target, "shrinky", "old.py"), "OLD = 'edited on the board'\n");
  await writeFile(path.join(target, "shrinky", "__init__.py"), "V = 'edited'\n");
  return target;
}

/** What every run over `editedShrinky` to shrinky 2.0 must leave, and say. */
async function checkUpgraded(target: string, stderr: string): Promise<void> {
  assert.deepEqual(await packageFiles(target), ["shrinky/__init__.py", "shrinky/new.py", "shrinky/old.py"]);
  assert.equal(await readFile(path.join(target, "shrinky", "old.py"), "utf8"), "OLD = 'edited on the board'\n", "the changed file no version ships is kept");
  assert.equal(await readFile(path.join(target, "shrinky", "__init__.py"), "utf8"), "V = 2\n", "a changed file the new version ships is replaced by it");
  assert.match(stderr, /warning: `shrinky\/old\.py` of `shrinky 1\.0` was changed since it was installed, and `shrinky 2\.0` does not ship it; kept, and in no record from now on \(remove it by hand if it is not wanted\)/);
  assert.doesNotMatch(stderr, /`shrinky_extra\.py` of|`shrinky\/gone\/deep\.py` of|`shrinky\/__init__\.py` of/, "only the kept file is warned about");
  assert.ok(!(await recordPaths(target, "shrinky-2.0.dist-info")).includes("shrinky/old.py"));
  assert.ok(!existsSync(path.join(target, "shrinky-1.0.dist-info")));
}

describe("an upgrade keeps a file changed since it was installed that the new version does not ship", () => {
  test("install over the old version: the changed file stays and is named, the unchanged ones go, the shipped one is replaced", async () => {
    const target = await editedShrinky();
    const dry = await install(target, "--dry-run", "shrinky==2.0");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /warning: `shrinky\/old\.py` of `shrinky 1\.0` was changed since it was installed, and `shrinky 2\.0` does not ship it; it would be kept, in no record/);
    const upgraded = await install(target, "shrinky==2.0");
    assert.equal(upgraded.code, 0, upgraded.stderr);
    await checkUpgraded(target, upgraded.stderr);
    // In no record now: uninstalling the new version leaves it, silently (it is nobody's).
    const removed = await runMpip(["uninstall", "-y", "-p", target, "shrinky"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await packageFiles(target), ["shrinky/old.py"]);
  });

  test("-U: the same rule, and --json does not report the kept file removed", async () => {
    const target = await editedShrinky();
    const upgraded = await install(target, "-U", "--json", "shrinky");
    assert.equal(upgraded.code, 0, upgraded.stderr);
    await checkUpgraded(target, upgraded.stderr);
    const report = JSON.parse(upgraded.stdout) as { removed: string[] };
    assert.ok(report.removed.includes("shrinky_extra.py") && report.removed.includes("shrinky/gone/deep.py"));
    assert.ok(!report.removed.includes("shrinky/old.py"));
  });

  test("sync to a lock of the new version: the same rule; a package sync removes keeps its changed file too", async () => {
    const target = await editedShrinky();
    const other = await install(target, "leaving");
    assert.equal(other.code, 0, other.stderr);
    await writeFile(path.join(target, "leaving.py"), "L = 'mine'\n");
    const lockFile = await lockOfShrinky2();
    const synced = await runMpip(["sync", lockFile, "-p", target]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stderr, /warning: `leaving\.py` of `leaving 1\.0` was changed since it was installed, and `leaving 1\.0` is removed; kept, and in no record from now on/);
    assert.equal(await readFile(path.join(target, "leaving.py"), "utf8"), "L = 'mine'\n");
    assert.ok(!existsSync(path.join(target, "leaving_too.py")), "the unchanged file of the removed package goes");
    await rm(path.join(target, "leaving.py"));
    await checkUpgraded(target, synced.stderr);
  });
});

describe("an upgrade or sync over a package whose RECORD tells nothing of its files", () => {
  const spoilers: Array<[string, (record: string) => Promise<void>]> = [
    ["missing", (record) => rm(record)],
    ["empty", (record) => writeFile(record, "")],
    ["unreadable (not UTF-8)", (record) => writeFile(record, Buffer.from([0xff, 0xfe, 0x00, 0x2c]))],
    ["listing only rows mpip refuses", (record) => writeFile(record, "../../bin/shrinky,,\n/etc/passwd,,\n")],
  ];
  for (const [what, spoil] of spoilers) {
    test(`RECORD ${what}: the install goes ahead, and a warning names the package and says its old files stay`, async () => {
      const target = await withShrinky1.copyTo(fresh());
      await spoil(path.join(target, "shrinky-1.0.dist-info", "RECORD"));
      const upgraded = await install(target, "shrinky==2.0");
      assert.equal(upgraded.code, 0, upgraded.stderr);
      assert.match(upgraded.stderr, /warning: the RECORD of `shrinky 1\.0` \(`shrinky-1\.0\.dist-info\/RECORD`\) is missing, unreadable or lists nothing mpip accepts, so mpip cannot tell which files were its: its record is replaced by that of `shrinky 2\.0`, and its old files stay, in no record, where `shrinky 2\.0` does not replace them/);
      assert.deepEqual(await packageFiles(target), ["shrinky/__init__.py", "shrinky/gone/deep.py", "shrinky/new.py", "shrinky/old.py", "shrinky_extra.py"]);
      assert.equal(await readFile(path.join(target, "shrinky", "__init__.py"), "utf8"), "V = 2\n");
      assert.ok(!existsSync(path.join(target, "shrinky-1.0.dist-info")));
      assert.deepEqual((await recordPaths(target, "shrinky-2.0.dist-info")).filter((file) => !file!.includes(".dist-info/")).sort(), ["shrinky/__init__.py", "shrinky/new.py"]);
    });
  }

  test("sync removing such a package: it goes ahead, its record goes and the warning says its files stay", async () => {
    const target = fresh();
    assert.equal((await install(target, "leaving")).code, 0);
    await rm(path.join(target, "leaving-1.0.dist-info", "RECORD"));
    const lockFile = await lockOfShrinky2();
    const dry = await runMpip(["sync", lockFile, "-p", target, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /warning: the RECORD of `leaving 1\.0` .* its record would be removed, and its files stay, in no record/);
    const synced = await runMpip(["sync", lockFile, "-p", target]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stderr, /warning: the RECORD of `leaving 1\.0` \(`leaving-1\.0\.dist-info\/RECORD`\) is missing, unreadable or lists nothing mpip accepts, so mpip cannot tell which files were its: its record is removed, and its files stay, in no record/);
    assert.deepEqual(await packageFiles(target), ["leaving_too.py", "leaving.py", "shrinky/__init__.py", "shrinky/new.py"]);
    assert.ok(!existsSync(path.join(target, "leaving-1.0.dist-info")));
  });
});
