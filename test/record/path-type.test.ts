// A path that changes type between what the image holds and what an install writes: a file where the
// old version (by its record) had a folder, a folder where it had a file, at the top or at any depth;
// for an upgrade or a downgrade, `--force-reinstall` from another kind of source, a `--compile` rebuild,
// and a package whose old folder another package's new file takes in the same install. The old
// version's files go and the path changes type in one journaled commit; a folder that still holds a
// file the install does not remove is an error naming that file, with the image unchanged; a kill -9 at
// any point is rolled back by the next run. The built CLI against a real index on 127.0.0.1.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { runMicroPython } from "../helpers/micropython.js";
import { beside, prng, sleep, startMpip, until } from "../helpers/process.js";
import { buildSdist } from "../helpers/sdist.js";
import { baselineRun } from "../helpers/baseline.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = () => path.join(work.dir, `image-${++counter}`);

const modules = (folder: string, count: number, version: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${folder}/m${i}.py`, `V = "${version}"\n`]));

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-path-type-");
  // A folder at the top, then a file of that name; and back.
  await server.addSdist({ name: "flipper", version: "1.0", files: { "flipper/__init__.py": "V = 1\n", "flipper/util.py": "U = 1\n", "flipper/sub/deep.py": "D = 1\n" } });
  await server.addSdist({ name: "flipper", version: "2.0", files: { "flipper": "a data file now\n", "flipper_main.py": "V = 2\n" } });
  // At depth: `tiles/maps/level` a file, then `tiles/maps/level/…` modules.
  await server.addSdist({ name: "tiles", version: "1.0", files: { "tiles/__init__.py": "T = 1\n", "tiles/maps/level": "raw level data\n" } });
  await server.addSdist({ name: "tiles", version: "2.0", files: { "tiles/__init__.py": "T = 2\n", "tiles/maps/level/__init__.py": "L = 2\n", "tiles/maps/level/one.py": "ONE = 2\n" } });
  // A --compile rebuild: sources in a folder `fonts/`, then a data file `fonts`.
  await server.addSdist({ name: "fonts", version: "1.0", files: { "fonts/small.py": "S = 1\n", "fonts/big.py": "B = 1\n" } });
  await server.addSdist({ name: "fonts", version: "2.0", files: { "fonts": "glyph table\n", "fonts_loader.py": "def load():\n    return 2\n" } });
  // Another package's new file takes the path of a folder the upgrade empties.
  await server.addSdist({ name: "alpha", version: "1.0", files: { "alpha.py": "A = 1\n", "slot/a.py": "SA = 1\n" } });
  await server.addSdist({ name: "alpha", version: "2.0", files: { "alpha.py": "A = 2\n" } });
  await server.addSdist({ name: "beta", version: "1.0", files: { "beta.py": "B = 1\n", "slot": "beta's slot file\n" } });
  // The reverse: a file the upgrade removes gives its path to another package's folder.
  await server.addSdist({ name: "gamma", version: "1.0", files: { "gamma.py": "G = 1\n", "nest": "gamma's nest file\n" } });
  await server.addSdist({ name: "gamma", version: "2.0", files: { "gamma.py": "G = 2\n" } });
  await server.addSdist({ name: "delta", version: "1.0", files: { "delta.py": "D = 1\n", "nest/delta_part.py": "P = 1\n" } });
  // A kept package with a file in the folder the upgrade would turn into a file.
  await server.addSdist({ name: "boxer", version: "1.0", files: { "box/a.py": "A = 1\n" } });
  await server.addSdist({ name: "boxer", version: "2.0", files: { "box": "box is a file now\n" } });
  await server.addSdist({ name: "lodger", version: "1.0", files: { "box/lodger.py": "L = 1\n" } });
  // For the crash tests: many files on both sides of the change.
  await server.addSdist({ name: "kflip", version: "1.0", files: { "kflip/__init__.py": "V = 1\n", ...modules("kflip/parts", 6, "1.0"), ...modules("kflip/more/deeper", 3, "1.0"), "kflip_cfg": "old cfg\n" } });
  await server.addSdist({ name: "kflip", version: "2.0", files: { "kflip": "now a file\n", ...modules("kflip_cfg", 5, "2.0") } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, ...args: string[]) => runMpip(["install", "-i", server.url, "-p", target, ...args]);
// Starting states several tests begin from, each installed once and copied per test (each test that used
// to make it checked only its exit code, as the build does).
const installed = (...args: string[]) => baselineRun((dir) => install(dir, ...args), () => work.dir);
const withFlipper1 = installed("flipper==1.0");
const withAlphaAndGamma1 = installed("alpha==1.0", "gamma==1.0");
const packageFiles = async (target: string) => (await listFiles(target)).filter((file) => !file.includes(".dist-info/"));
const distInfos = async (target: string) => [...new Set((await listFiles(target)).filter((file) => file.includes(".dist-info/")).map((file) => file.split("/")[0]))].sort();
const isFile = async (file: string) => (await lstat(file)).isFile();

describe("a path that changes type in an install over the image", () => {
  test("a folder of the old version where the new one ships a file, and back again", async () => {
    const target = await withFlipper1.copyTo(fresh());
    await writeFile(path.join(target, "boot.py"), "# the user's\n");
    const unchanged = await snapshot(target);
    const dry = await install(target, "--dry-run", "flipper==2.0");
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(await snapshot(target), unchanged);
    const up = await install(target, "flipper==2.0");
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await packageFiles(target), ["boot.py", "flipper", "flipper_main.py"]);
    assert.ok(await isFile(path.join(target, "flipper")));
    assert.equal(await readFile(path.join(target, "flipper"), "utf8"), "a data file now\n");
    assert.deepEqual(await distInfos(target), ["flipper-2.0.dist-info"]);
    assert.match(up.stderr, /flipper==2\.0 \(replacing 1\.0\)/);
    const down = await install(target, "flipper==1.0");
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await packageFiles(target), ["boot.py", "flipper/__init__.py", "flipper/sub/deep.py", "flipper/util.py"]);
    const run = await runMicroPython("import flipper.sub.deep as d\nprint(d.D)", { libDir: target });
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.stdout.trim(), "1");
  });

  test("at depth: a file where the new version needs a folder, and a folder where it ships a file", async () => {
    const target = fresh();
    assert.equal((await install(target, "tiles==1.0")).code, 0);
    const up = await install(target, "tiles==2.0");
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await packageFiles(target), ["tiles/__init__.py", "tiles/maps/level/__init__.py", "tiles/maps/level/one.py"]);
    const run = await runMicroPython("from tiles.maps.level import one\nprint(one.ONE)", { libDir: target });
    assert.equal(run.stdout.trim(), "2", run.error);
    const down = await install(target, "tiles==1.0");
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await packageFiles(target), ["tiles/__init__.py", "tiles/maps/level"]);
    assert.ok(await isFile(path.join(target, "tiles", "maps", "level")));
  });

  test("--force-reinstall from another kind of source (a local sdist, then the index) changes the path's type", async () => {
    const target = fresh();
    await mkdir(path.join(work.dir, "local"), { recursive: true });
    const local = path.join(work.dir, "local", "flipper-2.0.tar.gz");
    // The same name and version as the index's 2.0, laid out as 1.0 is: a folder `flipper/`.
    await writeFile(local, await buildSdist({ name: "flipper", version: "2.0", files: { "flipper/__init__.py": "LOCAL = 1\n", "flipper/extra.py": "E = 1\n" } }));
    const first = await install(target, local);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await packageFiles(target), ["flipper/__init__.py", "flipper/extra.py"]);
    const forced = await install(target, "--force-reinstall", "flipper==2.0");
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(await packageFiles(target), ["flipper", "flipper_main.py"]);
    assert.deepEqual(await distInfos(target), ["flipper-2.0.dist-info"]);
    assert.ok(!existsSync(path.join(target, "flipper-2.0.dist-info", "direct_url.json")), "the index's record replaced the local one");
  });

  test("a --compile rebuild over sources: the old folder of sources gives way to a file, and the image runs", async () => {
    const target = fresh();
    assert.equal((await install(target, "fonts==1.0")).code, 0);
    const compiled = await install(target, "--compile", "fonts==2.0");
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.deepEqual(await packageFiles(target), ["fonts", "fonts_loader.mpy"]);
    const run = await runMicroPython("import fonts_loader\nprint(fonts_loader.load())", { libDir: target });
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.stdout.trim(), "2");
    // And back, compiled: the file `fonts` gives way to the folder of .mpy files.
    const back = await install(target, "--compile", "fonts==1.0");
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(await packageFiles(target), ["fonts/big.mpy", "fonts/small.mpy"]);
  });

  test("another package's new file takes a folder the upgrade empties; another's new folder takes a file it removes", async () => {
    const target = await withAlphaAndGamma1.copyTo(fresh());
    const both = await install(target, "alpha==2.0", "beta", "gamma==2.0", "delta");
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(await packageFiles(target), ["alpha.py", "beta.py", "delta.py", "gamma.py", "nest/delta_part.py", "slot"]);
    assert.equal(await readFile(path.join(target, "slot"), "utf8"), "beta's slot file\n");
    // Each package's record lists what is its own now, so uninstalling it removes exactly that.
    const removed = await runMpip(["uninstall", "-y", "-p", target, "beta", "delta"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await packageFiles(target), ["alpha.py", "gamma.py"]);
  });

  test("a folder that still holds a file of no package: the error names that file, and nothing changes", async () => {
    const target = await withFlipper1.copyTo(fresh());
    await writeFile(path.join(target, "flipper", "sub", "notes.txt"), "the user's notes\n");
    const before = await snapshot(target);
    // A dry run decides the commit too, and fails as the install does.
    const dry = await install(target, "--dry-run", "flipper==2.0");
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(dry.stderr, /^error: cannot install `flipper`: the folder `flipper` in `.*` still holds `flipper\/sub\/notes\.txt`/m);
    const result = await install(target, "flipper==2.0");
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: cannot install `flipper`: the folder `flipper` in `.*` still holds `flipper\/sub\/notes\.txt` \(a file of no package's record\), which this install does not remove; nothing was changed$/m);
    assert.match(result.stderr, /^hint: move `flipper\/sub\/notes\.txt` out of `flipper` \(or remove it\), then run mpip again$/m);
    assert.doesNotMatch(result.stderr, /flipper\/__init__\.py|flipper\/util\.py/, "the package's own files are not what blocks it");
    assert.deepEqual(await snapshot(target), before);
    assert.deepEqual((await readdir(work.dir)).filter((name) => name.includes("mpip")), [], "no lock, journal or staging folder is left");
  });

  test("a folder that holds another package's file: the error names the file and its package", async () => {
    const target = fresh();
    assert.equal((await install(target, "boxer==1.0", "lodger")).code, 0);
    const before = await snapshot(target);
    const result = await install(target, "boxer==2.0");
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: cannot install `box`: the folder `box` in `.*` still holds `box\/lodger\.py` \(a file of `lodger`\), which this install does not remove; nothing was changed$/m);
    assert.match(result.stderr, /^hint: uninstall `lodger` first, or install into another target$/m);
    assert.deepEqual(await snapshot(target), before);
  });

  test("a file of no package where the new version needs a folder: the error names it, and nothing changes", async () => {
    const target = fresh();
    await mkdir(path.join(target, "tiles", "maps"), { recursive: true });
    await writeFile(path.join(target, "tiles", "maps", "level"), "copied by hand\n");
    const before = await snapshot(target);
    const result = await install(target, "tiles==2.0");
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: cannot install `tiles\/maps\/level\/.*\.py`: `tiles\/maps\/level` in `.*` is a file, where a folder is needed; nothing was changed$/m);
    assert.match(result.stderr, /^hint: remove or rename that file, then run mpip again$/m);
    assert.deepEqual(await snapshot(target), before);
  });

  test("uninstall after the type changed removes the new shape; a stale record listing files below a file passes over them", async () => {
    const target = await withFlipper1.copyTo(fresh());
    assert.equal((await install(target, "flipper==2.0")).code, 0);
    const gone = await runMpip(["uninstall", "-y", "-p", target, "flipper"]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual(await listFiles(target), []);
    // alpha's record lists `nest/ghost.py`, while `nest` is gamma's file: there is nothing of alpha's there to remove.
    const stale = await withAlphaAndGamma1.copyTo(fresh());
    const record = path.join(stale, "alpha-1.0.dist-info", "RECORD");
    await writeFile(record, `${await readFile(record, "utf8")}nest/ghost.py,sha256=AAAA,4\n`);
    const removed = await runMpip(["uninstall", "-y", "-p", stale, "alpha"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await packageFiles(stale), ["gamma.py", "nest"]);
  });
});

describe("kill -9 in the middle of an upgrade that changes paths' types", () => {
  let template: string;
  before(async () => {
    template = path.join(work.dir, "kill-template", "image");
    const first = await install(template, "kflip==1.0");
    assert.equal(first.code, 0, first.stderr);
    await writeFile(path.join(template, "main.py"), "# the user's\n");
  });

  const copy = async () => {
    const parent = path.join(work.dir, `kill-${++counter}`);
    const target = path.join(parent, "image");
    await mkdir(parent);
    await cp(template, target, { recursive: true });
    return { parent, target, journal: path.join(parent, ".image.mpip-journal") };
  };
  const recover = (target: string) => runMpip(["uninstall", "-y", "-p", target, "no-such-package"]);

  test("killed at random points (folder steps included): always the state before or after, once the next run is done", async () => {
    const beforeState = await snapshot(template);
    const reference = await copy();
    assert.equal((await install(reference.target, "kflip==2.0")).code, 0);
    const afterState = await snapshot(reference.target);
    assert.ok(afterState["kflip"] !== undefined && afterState["kflip_cfg/"] === "dir", "the reference changed both paths' types");
    const random = prng(20261201);
    // Which of the two outcomes a kill gives depends on when it lands, so no run is sure to see both: each
    // kill is checked to give one of them, and the one that fits what the next run said: a kill while the
    // journal is there leaves it, and the next run must roll back and say so; a kill after the commit removed
    // it (or after the run ended) leaves none, and the next run must find nothing to roll back.
    for (let i = 0; i < 8; i++) {
      const { parent, target, journal } = await copy();
      const run = startMpip(["install", "-i", server.url, "-p", target, "kflip==2.0"], { env: { MPIP_TEST_COMMIT_DELAY_MS: "4" } });
      await until(() => existsSync(journal), run);
      await sleep(random() * 120);
      run.child.kill("SIGKILL");
      await run.exited;
      const next = await recover(target);
      assert.doesNotMatch(next.stderr, /could not undo|This is a bug/, next.stderr);
      assert.equal(next.code, 1, `kill ${i}: ${next.stderr}`);
      assert.match(next.stderr, /`no-such-package` is not installed/, `kill ${i}`);
      const state = await snapshot(target);
      const which = JSON.stringify(state) === JSON.stringify(beforeState) ? "before" : JSON.stringify(state) === JSON.stringify(afterState) ? "after" : "neither";
      assert.notEqual(which, "neither", `kill ${i}: the target is half-changed`);
      if (which === "before") assert.match(next.stderr, /rolled that install back/, `kill ${i}: the state before, so the next run rolled back`);
      else assert.doesNotMatch(next.stderr, /rolled that/, `kill ${i}: the state after, so there was nothing to roll back`);
      assert.deepEqual(await beside(parent, "image"), [], `kill ${i}: nothing left beside the target`);
    }
  });
});
