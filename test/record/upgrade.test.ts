// Installing over an existing image: a recorded package is replaced as a whole (files its old record
// lists and the new version does not ship are removed, with the old record), a file two packages ship
// belongs to the later one, files no record lists are never deleted, `--compile` over sources leaves no
// shadowing `.py`, and a requirement the image already satisfies is not downloaded again (pip's rule).

import assert from "node:assert/strict";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { runMicroPython } from "../helpers/micropython.js";
import { baselineRun } from "../helpers/baseline.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = () => path.join(work.dir, `image-${++counter}`);

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-upgrade-");
  await server.addSdist({ name: "shrinky", version: "1.0", files: { "shrinky/__init__.py": "V = 1\n", "shrinky/old.py": "OLD = 1\n", "shrinky/gone/deep.py": "D = 1\n", "shrinky_extra.py": "E = 1\n" } });
  await server.addSdist({ name: "shrinky", version: "2.0", files: { "shrinky/__init__.py": "V = 2\n", "shrinky/new.py": "NEW = 2\n" } });
  await server.addSdist({ name: "mathy", version: "1.0", files: { "mathy/__init__.py": "from mathy.ops import double\n", "mathy/ops.py": "def double(x):\n    return 2 * x\n" } });
  await server.addSdist({ name: "sharer-a", version: "1.0", files: { "sharer_a.py": "A = 1\n", "common.py": "C = 'a'\n" } });
  await server.addSdist({ name: "sharer-a", version: "2.0", files: { "sharer_a.py": "A = 2\n" } });
  await server.addSdist({ name: "sharer-b", version: "1.0", files: { "sharer_b.py": "B = 1\n", "common.py": "C = 'b'\n" } });
  await server.addSdist({ name: "needy", version: "1.0", files: { "needy.py": "N = 1\n" }, requires: ["needed>=1"] });
  await server.addSdist({ name: "needed", version: "1.0", files: { "needed.py": "X = 1\n" } });
  await server.addSdist({ name: "needed", version: "1.5", files: { "needed.py": "X = 15\n" } });
  await server.addSdist({ name: "clobber", version: "1.0", files: { "clobber.py": "K = 1\n", "handmade.py": "FROM_PACKAGE = 1\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, ...args: string[]) => runMpip(["install", "-i", server.url, "-p", target, ...args]);
// shrinky 1.0, the starting state of two upgrade tests: installed once, copied per test.
const withShrinky1 = baselineRun((dir) => install(dir, "shrinky==1.0"), () => work.dir);
const packageFiles = async (target: string) => (await listFiles(target)).filter((file) => !file.includes(".dist-info/"));
const distInfos = async (target: string) => [...new Set((await listFiles(target)).filter((file) => file.includes(".dist-info/")).map((file) => file.split("/")[0]))].sort();
const recordPaths = async (target: string, distInfo: string) => (await readFile(path.join(target, distInfo, "RECORD"), "utf8")).split("\n").filter(Boolean).map((line) => line.split(",")[0]);

describe("installing over an existing image", () => {
  test("an upgrade removes the files the new version dropped, emptied folders and the old record; a downgrade too", async () => {
    const target = await withShrinky1.copyTo(fresh());
    await writeFile(path.join(target, "shrinky", "user_notes.txt"), "mine\n");
    const upgraded = await install(target, "shrinky==2.0");
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.deepEqual(await packageFiles(target), ["shrinky/__init__.py", "shrinky/new.py", "shrinky/user_notes.txt"]);
    assert.deepEqual(await distInfos(target), ["shrinky-2.0.dist-info"]);
    assert.equal(await readFile(path.join(target, "shrinky", "__init__.py"), "utf8"), "V = 2\n");
    assert.match(upgraded.stderr, /shrinky==2\.0 \(replacing 1\.0\)/);
    const downgraded = await install(target, "shrinky==1.0");
    assert.equal(downgraded.code, 0, downgraded.stderr);
    assert.deepEqual(await packageFiles(target), ["shrinky/__init__.py", "shrinky/gone/deep.py", "shrinky/old.py", "shrinky/user_notes.txt", "shrinky_extra.py"]);
    assert.deepEqual(await distInfos(target), ["shrinky-1.0.dist-info"]);
  });

  test("--compile over an image of sources leaves no .py to shadow the .mpy, and the image runs; --keep-sources keeps both on purpose", async () => {
    const target = fresh();
    assert.equal((await install(target, "mathy")).code, 0);
    const compiled = await install(target, "--compile", "mathy");
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.deepEqual(await packageFiles(target), ["mathy/__init__.mpy", "mathy/ops.mpy"]);
    assert.doesNotMatch(compiled.stderr, /warning/);
    const run = await runMicroPython("import mathy\nprint(mathy.double(21))", { libDir: target });
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.stdout.trim(), "42");
    // Both kept by the user's choice, then compiled again without: the sources go.
    assert.equal((await install(target, "--compile", "--keep-sources", "mathy")).code, 0);
    assert.deepEqual(await packageFiles(target), ["mathy/__init__.mpy", "mathy/__init__.py", "mathy/ops.mpy", "mathy/ops.py"]);
    assert.equal((await install(target, "--compile", "mathy")).code, 0);
    assert.deepEqual(await packageFiles(target), ["mathy/__init__.mpy", "mathy/ops.mpy"]);
    // Back to sources: the .mpy files go.
    assert.equal((await install(target, "mathy")).code, 0);
    assert.deepEqual(await packageFiles(target), ["mathy/__init__.py", "mathy/ops.py"]);
  });

  test("a .py of no package beside an installed .mpy is kept and warned about", async () => {
    const target = fresh();
    await mkdir(path.join(target, "mathy"), { recursive: true });
    await writeFile(path.join(target, "mathy", "ops.py"), "# copied by hand\n");
    const result = await install(target, "--compile", "mathy");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: `mathy\/ops\.py` \(of no installed package\) stays beside `mathy\/ops\.mpy` \(of `mathy`\)/);
    assert.equal(await readFile(path.join(target, "mathy", "ops.py"), "utf8"), "# copied by hand\n");
  });

  test("a file of no package is found below a subfolder and through a target that is a link to a folder", async () => {
    const real = fresh();
    await mkdir(path.join(real, "mathy"), { recursive: true });
    await writeFile(path.join(real, "mathy", "ops.py"), "# copied by hand\n");
    const target = fresh();
    await symlink(real, target);
    const result = await install(target, "mathy");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: `mathy\/ops\.py` in `.*` belongs to no installed package .*the copy from `mathy` replaces it/);
    assert.doesNotMatch(result.stderr, /mathy\/__init__\.py/, "only the file that was there is warned about");
    assert.equal(await readFile(path.join(real, "mathy", "ops.py"), "utf8"), "def double(x):\n    return 2 * x\n");
  });

  test("a file two packages ship belongs to the later one: upgrading or removing the first never deletes it", async () => {
    const target = fresh();
    assert.equal((await install(target, "sharer-a==1.0")).code, 0);
    assert.equal((await install(target, "sharer-b")).code, 0);
    assert.equal(await readFile(path.join(target, "common.py"), "utf8"), "C = 'b'\n");
    assert.ok(!(await recordPaths(target, "sharer_a-1.0.dist-info")).includes("common.py"), "the earlier record gives the file up");
    assert.ok((await recordPaths(target, "sharer_b-1.0.dist-info")).includes("common.py"));
    // sharer-a 2.0 no longer ships common.py: it stays, as sharer-b's.
    const upgraded = await install(target, "sharer-a==2.0");
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.equal(await readFile(path.join(target, "common.py"), "utf8"), "C = 'b'\n");
    const removed = await runMpip(["uninstall", "-y", "-p", target, "sharer-a"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await packageFiles(target), ["common.py", "sharer_b.py"]);
  });

  test("in one install, the later package owns a shared file; the earlier one's record does not list it", async () => {
    const target = fresh();
    assert.equal((await install(target, "sharer-a==1.0", "sharer-b")).code, 0);
    assert.ok(!(await recordPaths(target, "sharer_a-1.0.dist-info")).includes("common.py"));
    assert.ok((await recordPaths(target, "sharer_b-1.0.dist-info")).includes("common.py"));
  });

  test("a file no record lists is never deleted; an install that overwrites one says so", async () => {
    const target = fresh();
    await mkdir(target, { recursive: true });
    await writeFile(path.join(target, "handmade.py"), "# mine\n");
    await writeFile(path.join(target, "other.py"), "# mine too\n");
    const result = await install(target, "clobber");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: `handmade\.py` in `.*` belongs to no installed package .*the copy from `clobber` replaces it/);
    // Installed without a record (as upip would), then by mpip with one: upip's files are the package's now.
    const upipTarget = fresh();
    assert.equal((await install(upipTarget, "--no-record", "shrinky==1.0")).code, 0);
    const over = await install(upipTarget, "shrinky==2.0");
    assert.equal(over.code, 0, over.stderr);
    assert.deepEqual(await packageFiles(upipTarget), ["shrinky/__init__.py", "shrinky/gone/deep.py", "shrinky/new.py", "shrinky/old.py", "shrinky_extra.py"]);
    assert.equal((await runMpip(["uninstall", "-y", "-p", upipTarget, "shrinky"])).code, 0);
    assert.deepEqual(await packageFiles(upipTarget), ["shrinky/gone/deep.py", "shrinky/old.py", "shrinky_extra.py"]);
    assert.equal(await readFile(path.join(target, "other.py"), "utf8"), "# mine too\n");
  });

  test("a requirement the image satisfies is not downloaded again; -U upgrades what was named; --force-reinstall reinstalls all", async () => {
    const target = fresh();
    assert.equal((await install(target, "needy", "needed==1.0")).code, 0);
    const files = () => server.requests.filter((line) => /\.tar\.gz$/.test(line)).length;
    let before = files();
    const again = await install(target, "needy");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(files(), before, "nothing downloaded");
    // Not "(from TARGET)": the target is where it is, not where it came from.
    assert.match(again.stderr, /^ = needy==1\.0 \(already installed\)$/m);
    assert.match(again.stderr, /needed==1\.0 \(already installed\)/);
    const json = JSON.parse((await install(target, "--json", "needy")).stdout);
    assert.deepEqual(json.packages.map((item: { name: string; alreadyInstalled?: boolean }) => [item.name, item.alreadyInstalled]), [["needy", true], ["needed", true]]);
    // -U on the dependency: its newest allowed version.
    before = files();
    const upgraded = await install(target, "-U", "needed");
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.equal(files(), before + 1);
    assert.equal(await readFile(path.join(target, "needed.py"), "utf8"), "X = 15\n");
    // -U again: the image holds the newest allowed version already, so nothing is downloaded (pip's
    // "Requirement already satisfied"), and the report does not call it a replacement of itself.
    before = files();
    const upToDate = await install(target, "-U", "needed");
    assert.equal(upToDate.code, 0, upToDate.stderr);
    assert.equal(files(), before, "nothing downloaded");
    assert.match(upToDate.stderr, /needed==1\.5 \(already installed\)/);
    assert.doesNotMatch(upToDate.stderr, /replacing/);
    before = files();
    const forced = await install(target, "--force-reinstall", "needy");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(files(), before + 2);
    assert.deepEqual(await distInfos(target), ["needed-1.5.dist-info", "needy-1.0.dist-info"]);
    // A pin the image does not satisfy is fetched.
    before = files();
    assert.equal((await install(target, "needed==1.0")).code, 0);
    assert.equal(files(), before + 1);
  });

  test("-U keeps a version newer than any the indexes offer, or one they do not offer at all (pip's rule); a request it does not meet still changes it", async () => {
    // Another index, which has a newer `needed` than the one asked below, and a package that one lacks.
    const other = await startIndexServer();
    try {
      await other.addSdist({ name: "needed", version: "2.0", files: { "needed.py": "X = 20\n" } });
      await other.addSdist({ name: "needed", version: "3.0", files: { "needed.py": "X = 30\n" } });
      await other.addSdist({ name: "solo", version: "1.0", files: { "solo.py": "S = 1\n" } });
      const files = () => server.requests.filter((line) => /\.tar\.gz$/.test(line)).length;
      for (const [how, spec] of [["from another index", "needed==2.0"], ["by its URL", `needed @ ${new URL("/files/needed/3.0/needed-3.0.tar.gz", other.url)}`]] as const) {
        const target = fresh();
        const first = await runMpip(["install", "-i", other.url, "-p", target, spec, "solo"]);
        assert.equal(first.code, 0, first.stderr);
        const held = await readFile(path.join(target, "needed.py"), "utf8");
        const before = files();
        // The index asked has `needed` 1.0 and 1.5 only, and no `solo`: nothing is downgraded or refused.
        const upgraded = await install(target, "-U", "needed", "solo");
        assert.equal(upgraded.code, 0, `${how}: ${upgraded.stderr}`);
        assert.equal(files(), before, `${how}: nothing downloaded`);
        assert.equal(await readFile(path.join(target, "needed.py"), "utf8"), held, how);
        assert.match(upgraded.stderr, /needed==[23]\.0 \(already installed\)/, how);
        assert.match(upgraded.stderr, /solo==1\.0 \(already installed\)/, how);
        assert.doesNotMatch(upgraded.stderr, /replacing/, how);
        // The index has the name but no version the request accepts; the one held does: it stays.
        const none = await install(target, "-U", "needed>=2");
        assert.equal(none.code, 0, `${how}: ${none.stderr}`);
        assert.equal(await readFile(path.join(target, "needed.py"), "utf8"), held, how);
        // A request the installed version does not meet is met from the index, downgrade or not.
        const lower = await install(target, "-U", "needed<2");
        assert.equal(lower.code, 0, lower.stderr);
        assert.equal(await readFile(path.join(target, "needed.py"), "utf8"), "X = 15\n", how);
        // And one nothing meets is still an error, with the image left as it was.
        const nothing = await install(target, "-U", "solo>1");
        assert.equal(nothing.code, 1, nothing.stderr);
        assert.match(nothing.stderr, /solo/);
        assert.equal(await readFile(path.join(target, "solo.py"), "utf8"), "S = 1\n");
      }
    } finally {
      await other.close();
    }
  });

  test("what an upgrade reports removed is what it removes: not a recorded path already gone, not a recorded folder it keeps", async () => {
    const target = await withShrinky1.copyTo(fresh());
    // A hand-edited RECORD: a folder of the user's files, and a file already deleted by hand.
    await mkdir(path.join(target, "notes"));
    await writeFile(path.join(target, "notes", "mine.txt"), "mine\n");
    const record = path.join(target, "shrinky-1.0.dist-info", "RECORD");
    await writeFile(record, `${await readFile(record, "utf8")}notes,,\ngone_by_hand.py,,\n`);
    for (const dryRun of [["--dry-run"], []]) {
      const run = await install(target, "shrinky==2.0", "--json", ...dryRun);
      assert.equal(run.code, 0, run.stderr);
      const removed = (JSON.parse(run.stdout) as { removed: string[] }).removed;
      assert.deepEqual(removed.filter((file) => !file.includes(".dist-info/")), ["shrinky/gone/deep.py", "shrinky/old.py", "shrinky_extra.py"], `${dryRun.join(" ")}: ${removed.join(", ")}`);
    }
    assert.deepEqual(await packageFiles(target), ["notes/mine.txt", "shrinky/__init__.py", "shrinky/new.py"]);
  });
});
