// `mpip uninstall` and `mpip install --dry-run`: the built CLI against a real index on 127.0.0.1.

import assert from "node:assert/strict";
import { readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, listFiles, runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { projectOf } from "../../src/commands/uninstall.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { baselineRun } from "../helpers/baseline.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = () => path.join(work.dir, `image-${++counter}`);

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-uninstall-");
  await server.addSdist({ name: "webapp", version: "1.0", files: { "webapp/__init__.py": "W = 1\n", "webapp/views/home.py": "H = 1\n", "webapp/config.py": "PORT = 80\n" }, requires: ["router", "templ"] });
  await server.addSdist({ name: "router", version: "1.0", files: { "router.py": "R = 1\n" }, requires: ["pathy"] });
  await server.addSdist({ name: "pathy", version: "1.0", files: { "pathy.py": "P = 1\n" } });
  await server.addSdist({ name: "templ", version: "1.0", files: { "templ.py": "T = 1\n" } });
  await server.addSdist({ name: "templ", version: "2.0", files: { "templ.py": "T = 2\n", "templ_fast.py": "F = 2\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, ...args: string[]) => runMpip(["install", "-i", server.url, "-p", target, ...args]);
const uninstall = (target: string, ...args: string[]) => runMpip(["uninstall", "-p", target, ...args]);
// Starting states many tests begin from, each installed once and copied per test: the installs are not
// what those tests check (each checks its run's exit code as it is made).
const installed = (...args: string[]) => baselineRun((dir) => install(dir, ...args), () => work.dir);
const withWebapp = installed("webapp");
const withTemplAndPathy = installed("templ==1.0", "pathy");
const withTempl1 = installed("templ==1.0");
const packageFiles = async (target: string) => (await listFiles(target)).filter((file) => !file.includes(".dist-info/"));

describe("mpip uninstall", () => {
  test("removes the recorded files, emptied folders and the record; keeps files no record lists; lists orphans", async () => {
    const target = await withWebapp.copyTo(fresh());
    await writeFile(path.join(target, "webapp", "local_settings.py"), "DEBUG = True\n");
    await writeFile(path.join(target, "boot.py"), "# the user's\n");
    const result = await uninstall(target, "-y", "WebApp");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await packageFiles(target), ["boot.py", "pathy.py", "router.py", "templ_fast.py", "templ.py", "webapp/local_settings.py"]);
    assert.deepEqual((await readdir(target)).filter((name) => name.endsWith(".dist-info")).sort(), ["pathy-1.0.dist-info", "router-1.0.dist-info", "templ-2.0.dist-info"]);
    assert.match(result.stderr, /Uninstalled 1 package/);
    // The exact orphan list: webapp's two dependencies and pathy, which only router needs (transitively orphaned).
    assert.match(result.stderr, /^No longer needed by any installed package \(remove them with --with-orphans\): `router==1\.0`, `templ==2\.0`, `pathy==1\.0`$/m);
    assert.ok(!(await listFiles(target)).some((file) => file.startsWith("webapp/views")), "the emptied folder is gone");
  });

  test("--with-orphans removes the dependencies nothing else needs, transitively, but not one the user asked for", async () => {
    const target = fresh();
    assert.equal((await install(target, "webapp", "templ")).code, 0);
    const result = await uninstall(target, "-y", "--with-orphans", "webapp");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await packageFiles(target), ["templ_fast.py", "templ.py"]);
  });

  test("a file changed since install is kept and reported; --force removes it", async () => {
    const target = await withWebapp.copyTo(fresh());
    await writeFile(path.join(target, "webapp", "config.py"), "PORT = 8080\n");
    const kept = await uninstall(target, "-y", "webapp");
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stderr, /warning: `webapp\/config\.py` of `webapp` was changed since it was installed; kept/);
    // The record is gone with the package, so the warning does not send the user back to `uninstall --force`.
    assert.match(kept.stderr, /kept, and in no record from now on \(remove it by hand/);
    assert.equal((await uninstall(target, "-y", "--force", "webapp")).code, 1, "nothing left to uninstall");
    assert.deepEqual((await packageFiles(target)).filter((file) => file.startsWith("webapp")), ["webapp/config.py"]);
    assert.equal(await readFile(path.join(target, "webapp", "config.py"), "utf8"), "PORT = 8080\n");

    const again = await withWebapp.copyTo(fresh());
    await writeFile(path.join(again, "webapp", "config.py"), "PORT = 8080\n");
    const dry = await uninstall(again, "--dry-run", "webapp");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /was changed since it was installed; it would be kept \(uninstall with --force to remove it too\)/);
    const forced = await uninstall(again, "-y", "--force", "webapp");
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /removed anyway \(--force\)/);
    assert.deepEqual((await packageFiles(again)).filter((file) => file.startsWith("webapp")), []);
  });

  test("--dry-run and --json say what would go and change nothing; a name not installed is an error when nothing else is", async () => {
    const target = await withWebapp.copyTo(fresh());
    const before = await snapshot(path.dirname(target));
    const dry = await uninstall(target, "--dry-run", "--json", "webapp", "nosuch");
    assert.equal(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout);
    assert.equal(report.done, false);
    assert.deepEqual(report.notInstalled, ["nosuch"]);
    assert.ok(report.packages[0].files.includes("webapp/views/home.py"));
    assert.deepEqual(await snapshot(path.dirname(target)), before);
    const missing = await uninstall(target, "-y", "nosuch");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error: `nosuch` is not installed in/);
    assert.doesNotMatch(missing.stderr, /warning:/, "the error names it; no warning says it first");
    assert.match(missing.stderr, /hint: /);
    // The hint's command names the target itself.
    assert.ok(missing.stderr.includes(`hint: \`mpip list -p ${/[^A-Za-z0-9_@%+=:,./-]/.test(target) ? `'${target}'` : target}\` shows what is installed`), missing.stderr);
    // A misspelt name: the recorded names close to it, in the error's hint and in the warning of a name skipped.
    const typo = await uninstall(target, "-y", "--dry-run", "webap");
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /^hint: `webap`: did you mean `webapp`\?$/m);
    const skipped = await uninstall(target, "-y", "--dry-run", "webapp", "webapq");
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /warning: `webapq` is not installed in `.*` \(no record names it\); skipped \(did you mean `webapp`\?\)/);
    const both = await uninstall(target, "-y", "nosuch", "nosuch2");
    assert.equal(both.code, 1);
    assert.match(both.stderr, /error: none of `nosuch`, `nosuch2` is installed in/);
    assert.deepEqual(await snapshot(path.dirname(target)), before);
  });

  test("declined at the question on a terminal: nothing changed, said once, without the plan or the orphans again", async (t) => {
    if (spawnSync("script", ["--version"]).status !== 0) return t.skip("util-linux `script` (a pseudo-terminal) is not installed");
    const target = await withWebapp.copyTo(fresh());
    const before = await listFiles(target);
    const command = [process.execPath, BIN, "uninstall", "-p", target, "webapp"].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ");
    const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env;
    const ran = spawnSync("script", ["-qec", command, "/dev/null"], { input: "n\n", encoding: "utf8", env });
    const shown = ran.stdout.replace(/\r\n/g, "\n");
    assert.match(shown, /Proceed \(y\/N\)\?/, `${ran.stderr}\n${shown}`);
    const answer = shown.slice(shown.indexOf("Proceed"));
    assert.match(answer, /Uninstalled nothing: `.*` is unchanged/);
    assert.doesNotMatch(answer, /No longer needed|webapp==1\.0/);
    assert.deepEqual(await listFiles(target), before);
  });

  test("projectOf: the package a requirement names, mip's names too", () => {
    for (const [given, name] of [["foo>=1", "foo"], ["foo == 1.0", "foo"], ["foo[x]", "foo"], ["foo @ https://h/x.tar.gz", "foo"], ["foo ; os_name == 'nt'", "foo"], ["foo@1.0", "foo"], ["_priv>=1", "_priv"], ["__future__@0.1", "__future__"], ["umqtt.simple==1.3", "umqtt.simple"], ["foo", "foo"], ["??", "??"]] as const) {
      assert.equal(projectOf(given), name, given);
    }
  });

  test("a requirement names its package, as pip takes it: `templ>=1`, `pathy==1.0`, mip's `router@1.0`, whatever version is installed", async () => {
    const target = fresh();
    assert.equal((await install(target, "templ==1.0", "router")).code, 0);
    const result = await uninstall(target, "-y", "templ>=1", "pathy == 1.0", "router@1.0");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await packageFiles(target), []);
  });

  test("a target that does not exist is the error, not the names; nothing is created", async () => {
    const target = fresh();
    for (const args of [["-y"], ["--dry-run"]]) {
      const run = await uninstall(target, ...args, "webapp");
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /error: the target `[^`]+` does not exist/);
      assert.doesNotMatch(run.stderr, /is not installed/);
    }
    assert.deepEqual(await readdir(path.dirname(target)).then((names) => names.includes(path.basename(target))), false);
  });

  test("a file another package's record lists stays when its first owner goes", async () => {
    const target = await withTempl1.copyTo(fresh());
    assert.equal((await install(target, "webapp")).code, 0);
    assert.equal((await uninstall(target, "-y", "templ")).code, 0);
    assert.ok(!(await packageFiles(target)).includes("templ.py"));
    assert.ok((await packageFiles(target)).includes("router.py"));
  });
});

describe("mpip install --dry-run", () => {
  test("resolves and fetches, says what would be added, replaced and removed, and changes nothing", async () => {
    const target = await withTempl1.copyTo(fresh());
    const before = await snapshot(path.dirname(target));
    const dry = await install(target, "--dry-run", "templ==2.0", "pathy");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /Would install 2 packages into .* \(dry run: nothing was changed\)/);
    assert.match(dry.stderr, /~ templ==2\.0 \(replacing 1\.0\)/);
    assert.match(dry.stderr, /\+ pathy==1\.0/);
    assert.match(dry.stderr, /templ_fast\.py/);
    assert.match(dry.stderr, /Would remove 5 files of replaced versions/);
    // What is already there is counted apart from what the run would install.
    const partly = await install(target, "--dry-run", "templ==1.0", "pathy");
    assert.match(partly.stderr, /^Would install 1 package into .* \(1 already installed\) \(dry run: nothing was changed\)$/m);
    const nothing = await install(target, "templ==1.0");
    assert.equal(nothing.code, 0, nothing.stderr);
    assert.match(nothing.stderr, /^Nothing to install: 1 package already installed in `.*`$/m);
    assert.doesNotMatch(nothing.stderr, /Installed/);
    assert.deepEqual(await snapshot(path.dirname(target)), before);
    const json = JSON.parse((await install(target, "--dry-run", "--json", "templ==2.0")).stdout);
    assert.equal(json.dryRun, true);
    assert.equal(json.packages[0].replaced, "1.0");
    assert.ok(json.removed.includes("templ-1.0.dist-info/RECORD"));
    assert.deepEqual(await snapshot(path.dirname(target)), before);
    // Into a folder that does not exist: nothing is created.
    const none = path.join(work.dir, "never-made");
    assert.equal((await install(none, "--dry-run", "pathy")).code, 0);
    await assert.rejects(readdir(none));
  });
});

describe("records in an image are hostile input", () => {
  test("a RECORD that is a FIFO, a METADATA linked to /dev/zero: install over them and uninstall finish, reading neither", { timeout: 120_000 }, async () => {
    const target = await withTemplAndPathy.copyTo(fresh());
    await rm(path.join(target, "templ-1.0.dist-info", "RECORD"));
    execFileSync("mkfifo", [path.join(target, "templ-1.0.dist-info", "RECORD")]);
    await rm(path.join(target, "pathy-1.0.dist-info", "METADATA"));
    await symlink("/dev/zero", path.join(target, "pathy-1.0.dist-info", "METADATA"));
    const upgraded = await install(target, "templ==2.0");
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.equal(await readFile(path.join(target, "templ.py"), "utf8"), "T = 2\n");
    assert.doesNotMatch(upgraded.stderr, /This is a bug|bad_alloc|Invalid string length/);
    const removed = await uninstall(target, "-y", "templ");
    assert.equal(removed.code, 0, removed.stderr);
    assert.doesNotMatch(removed.stderr, /This is a bug|bad_alloc|Invalid string length/);
  });
  test("a package whose RECORD is missing, unreadable or refused whole cannot be uninstalled (as pip): an error naming it, nothing changed", async () => {
    for (const spoil of [
      (record: string) => rm(record),
      async (record: string) => {
        await rm(record);
        execFileSync("mkfifo", [record]);
      },
      (record: string) => writeFile(record, "../outside.py,,\n/abs.py,,\n"),
      // Empty, as a card pulled out mid-write leaves it.
      (record: string) => writeFile(record, ""),
    ]) {
      const target = await withTemplAndPathy.copyTo(fresh());
      await spoil(path.join(target, "templ-1.0.dist-info", "RECORD"));
      // Names only: a FIFO is never opened.
      const names = async () => ((await readdir(target, { recursive: true })) as string[]).sort();
      const before = await names();
      const result = await uninstall(target, "-y", "templ", "pathy");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: cannot uninstall `templ 1\.0` \(`templ-1\.0\.dist-info\/RECORD`\) from `.*`: its RECORD is missing, unreadable or lists nothing mpip accepts, so mpip cannot tell which files are its; nothing was changed$/m);
      assert.match(result.stderr, /^hint: install it again over itself \(`mpip install --force-reinstall -p .* templ`\)/m);
      assert.deepEqual(await names(), before);
      assert.ok(before.includes("templ.py"));
    }
  });

  test("a RECORD listing another package's record files or mpip's own names: uninstall and upgrade never remove them", async () => {
    const target = await withTemplAndPathy.copyTo(fresh());
    const record = path.join(target, "templ-1.0.dist-info", "RECORD");
    await writeFile(record, `${await readFile(record, "utf8")}pathy-1.0.dist-info/METADATA,,\npathy-1.0.dist-info/RECORD,,\n.mpip-lock,,\n`);
    const dry = await uninstall(target, "--dry-run", "templ");
    assert.equal(dry.code, 0, dry.stderr);
    assert.doesNotMatch(dry.stderr, /pathy-1\.0\.dist-info/);
    const upgraded = await install(target, "templ==2.0");
    assert.equal(upgraded.code, 0, upgraded.stderr);
    const gone = await uninstall(target, "-y", "templ");
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual((await readdir(path.join(target, "pathy-1.0.dist-info"))).sort(), ["INSTALLER", "METADATA", "RECORD", "REQUESTED", "mpip.json"].sort());
    assert.match((await runMpip(["list", "-p", target])).stdout, /pathy/);
  });
});

describe("install --max-size", () => {
  test("an image whose files would take more fails with nothing changed; one that fits installs; removed files are not counted", async () => {
    const target = fresh();
    assert.equal((await install(target, "templ==2.0")).code, 0);
    await writeFile(path.join(target, "boot.py"), "x".repeat(3000));
    const before = await snapshot(target);
    const bytes = async () => {
      let total = 0;
      for (const file of await listFiles(target)) total += (await readFile(path.join(target, file))).length;
      return total;
    };
    const now = await bytes();
    // webapp brings five packages and their records: far more than 100 bytes over what is there.
    const tooBig = await install(target, "--max-size", String(now + 100), "webapp");
    assert.equal(tooBig.code, 1, tooBig.stderr);
    assert.match(tooBig.stderr, /^error: the image would hold .* of files, more than --max-size .*; nothing was changed in `.*image-\d+`$/m);
    assert.match(tooBig.stderr, /^hint: .*mpip list --size/m);
    assert.deepEqual(await snapshot(target), before);
    // Downgrading templ removes templ_fast.py (and its 2.0 record): the limit counts the image after the change.
    const downgrade = await install(target, "--max-size", String(now), "templ==1.0");
    assert.equal(downgrade.code, 0, downgrade.stderr);
    assert.ok((await bytes()) <= now);
    const fits = await install(target, "--max-size", "1MiB", "webapp");
    assert.equal(fits.code, 0, fits.stderr);
    const bad = await install(target, "--max-size", "lots", "webapp");
    assert.equal(bad.code, 2, bad.stderr);
  });
});
