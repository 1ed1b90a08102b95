// Locks of packages that lie on this machine, through the built CLI: locked from local indexes of every
// kind given with `-i` (a folder `mpip download` filled, holding a v2 index and sdists; PyPI's JSON API
// laid out as files; a simple index) and from a `-f` folder, the lock names every file by a path relative
// to itself and holds no path of this machine, and `install --lock` / `sync` read those files, from any
// folder, giving the plain install's image byte for byte; the project moved elsewhere locks to the same
// bytes and syncs from its new place. And what a hostile lock may not make mpip read: files outside the
// lock's folder (or the git clone holding it, or a folder given with -i), by path, `file:` URL or symbolic
// link, git's own data, project folders elsewhere, FIFOs: refused before anything is read, nothing changed.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { BIN, runCommand, runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex } from "../helpers/mip-index.js";
import { buildSdist } from "../helpers/sdist.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = (name = "image") => path.join(work.dir, `${name}-${++counter}`);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-lock-local-");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/**
 * `app/`, a project holding every kind of folder a package can come from: `vendor/` (what `mpip download`
 * wrote: a v2 index with sdists at its top), `pypi files/` (PyPI's JSON API as files), `simple/` (a simple
 * index), `wheelhouse/` (sdists, for -f). The server that filled them is not needed afterwards.
 */
async function project(): Promise<{ app: string; args: string[] }> {
  const mip = serveMipIndex(server);
  await server.addSdist({ name: "meter", version: "2.0", files: { "meter/__init__.py": "from scale import k\n" }, requires: ["scale"] });
  await server.addSdist({ name: "scale", version: "0.7", files: { "scale.py": "k = 7\n" } });
  await mip.publish({ name: "tick", version: "1.0", files: { "tick.py": "T = 1\n" }, mpy: false });
  await mip.publish({ name: "clock", version: "0.4", files: { "clock/__init__.py": "import tick\n", "clock/alarm.py": "A = 0\n" }, deps: [["tick", "latest"], ["meter", ""]], mpy: false });
  const app = path.join(work.dir, "app");
  const downloaded = await runMpip(["download", "-d", path.join(app, "vendor"), "-i", mip.base, "-i", server.url, "clock"]);
  assert.equal(downloaded.code, 0, downloaded.stderr);
  const gizmo = await buildSdist({ name: "gizmo", version: "1.1", files: { "gizmo.py": "G = 11\n" } });
  const knob = await buildSdist({ name: "knob", version: "3.0", files: { "knob.py": "K = 3\n" } });
  const lever = await buildSdist({ name: "lever", version: "0.2", files: { "lever.py": "L = 2\n" } });
  await writeTree(app, {
    "pypi files/gizmo/json": JSON.stringify({ info: { name: "gizmo", version: "1.1" }, releases: { "1.1": [{ filename: "gizmo-1.1.tar.gz", url: "../dist/gizmo-1.1.tar.gz", packagetype: "sdist", digests: { sha256: sha256(gizmo) } }] } }),
    "pypi files/dist/gizmo-1.1.tar.gz": gizmo,
    "simple/knob/index.html": `<a href="../files/knob-3.0.tar.gz#sha256=${sha256(knob)}">knob-3.0.tar.gz</a>`,
    "simple/files/knob-3.0.tar.gz": knob,
    "wheelhouse/lever-0.2.tar.gz": lever,
  });
  return { app, args: ["-i", "vendor", "-i", "pypi+pypi files", "-i", "simple+simple", "-f", "wheelhouse", "clock", "gizmo", "knob", "lever"] };
}

describe("a lock of packages on this machine", () => {
  test("made from local indexes of every kind and a -f folder: relative paths only; install --lock and sync read them from anywhere, giving the plain install's image; moved, it locks to the same bytes", async () => {
    const { app, args } = await project();
    const plain = fresh("plain");
    const installed = await runMpip(["install", "-p", plain, ...args], { cwd: app });
    assert.equal(installed.code, 0, installed.stderr);
    server.requests.length = 0;
    const locked = await runMpip(["lock", ...args], { cwd: app });
    assert.equal(locked.code, 0, locked.stderr);
    assert.match(locked.stderr, /^Locked 7 packages into `pylock\.toml`/m);
    const text = await readFile(path.join(app, "pylock.toml"), "utf8");
    assert.doesNotMatch(text, new RegExp(work.dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "no absolute path of this machine");
    assert.doesNotMatch(text, /file:/);
    assert.match(text, /document = \{ path = "vendor\/package\/py\/clock\/0\.4\.json"/);
    assert.match(text, /\{ dest = "clock\/alarm\.py", path = "vendor\/file\/[0-9a-f]{2}\/[0-9a-f]{8}"/);
    assert.match(text, /sdist = \{ name = "meter-2\.0\.tar\.gz", path = "vendor\/meter-2\.0\.tar\.gz"/);
    assert.match(text, /sdist = \{ name = "gizmo-1\.1\.tar\.gz", path = "pypi files\/dist\/gizmo-1\.1\.tar\.gz"/);
    assert.match(text, /sdist = \{ name = "knob-3\.0\.tar\.gz", path = "simple\/files\/knob-3\.0\.tar\.gz"/);
    assert.match(text, /sdist = \{ name = "lever-0\.2\.tar\.gz", path = "wheelhouse\/lever-0\.2\.tar\.gz"/);
    assert.match(text, /folder = "vendor"\nkind = "mip"/);
    assert.match(text, /folder = "vendor"\nkind = "find-links"/);
    assert.match(text, /folder = "pypi files"\nkind = "pypi"/);
    assert.match(text, /folder = "simple"\nkind = "simple"/);
    // The -f folder as every local folder: relative to the lock.
    assert.match(text, /folder = "wheelhouse"\nkind = "find-links"/);
    assert.deepEqual(server.requests, []);

    // From another folder, as install --lock and as sync: the plain install's image, records included.
    for (const command of [["install", "--lock", path.join(app, "pylock.toml")], ["sync", path.join(app, "pylock.toml")]]) {
      const target = fresh();
      const result = await runMpip([...command, "-p", target], { cwd: work.dir });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await snapshot(target), await snapshot(plain), command[0]);
    }
    assert.deepEqual(server.requests, []);

    // The project moved elsewhere: the same lock bytes, up to date, and it syncs from its new place alone.
    const moved = fresh("moved");
    await cp(app, moved, { recursive: true });
    await rm(path.join(moved, "pylock.toml"));
    const again = await runMpip(["lock", ...args], { cwd: moved });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await readFile(path.join(moved, "pylock.toml"), "utf8"), text);
    assert.equal((await runMpip(["lock", "--check", ...args], { cwd: moved })).code, 0);
    // Checked from another folder, the folders named from there: the lock keeps the -i and -f folders it
    // was made with relative to itself, so the same folders are the same inputs (before, they were kept as
    // typed: relative to where it was made, and found changed from anywhere else).
    const sub = path.join(moved, "sub");
    await mkdir(sub);
    const fromSub = ["-o", "../pylock.toml", "-i", "../vendor", "-i", "pypi+../pypi files", "-i", "simple+../simple", "-f", "../wheelhouse", "clock", "gizmo", "knob", "lever"];
    const checked = await runMpip(["lock", "--check", ...fromSub], { cwd: sub });
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(await readFile(path.join(moved, "pylock.toml"), "utf8"), text);
    // With nothing named, the command offered names the folders from where it is run, and it checks the lock there.
    const bare = await runMpip(["lock", "--check", "-o", "../pylock.toml"], { cwd: sub });
    const offered = /as in `(mpip lock --check [^`]+)`$/m.exec(bare.stderr)?.[1];
    assert.ok(offered !== undefined, bare.stderr);
    assert.match(offered, / -f \.\.\/wheelhouse /);
    const rerun = await runCommand("sh", ["-c", offered.replace(/^mpip /, `"${process.execPath}" "${BIN}" `)], { cwd: sub });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, /is up to date/);
    await rm(app, { recursive: true });
    const target = fresh();
    const synced = await runMpip(["sync", "-p", target], { cwd: moved });
    assert.equal(synced.code, 0, synced.stderr);
    assert.deepEqual(Object.keys(await snapshot(target)), Object.keys(await snapshot(plain)));
  });
});

describe("what a lock may not make mpip read", () => {
  /** A lock of one package: an sdist at `where` (a `path = ...` or `url = ...` pair) with `hash`. */
  const sdistLock = (where: string, hash: string) => `lock-version = "1.0"\ncreated-by = "mpip"\n\n[[packages]]\nname = "secret"\nversion = "1.0"\nsdist = { name = "secret-1.0.tar.gz", ${where}, hashes = { sha256 = "${hash}" } }\n`;

  test("files outside the lock's folder, by path, absolute path, file: URL or symbolic link, git's data, a project elsewhere: refused before anything is read, even with the right hash; -i DIR allows a folder", async () => {
    const secret = await buildSdist({ name: "secret", version: "1.0", files: { "secret.py": "TOKEN = 'hunter2'\n" } });
    const outside = await writeTree(fresh("outside"), {
      "secret-1.0.tar.gz": secret,
      "loot.py": "TOKEN = 'hunter2'\n",
      "project/pyproject.toml": '[project]\nname = "secret"\nversion = "1.0"\n',
      "project/secret.py": "TOKEN = 'hunter2'\n",
    });
    const hash = sha256(secret);
    const repo = await writeTree(fresh("repo"), { ".git/config": "[remote]\n\ttoken = hunter2\n", "shared/secret-1.0.tar.gz": secret });
    const app = path.join(repo, "app");
    await mkdir(app);
    await symlink(path.join(outside, "secret-1.0.tar.gz"), path.join(app, "linked-1.0.tar.gz"));
    const relative = path.relative(app, outside).split(path.sep).join("/");
    const hostile: Array<[string, string, string]> = [
      ["a path climbing out", sdistLock(`path = "${relative}/secret-1.0.tar.gz"`, hash), `the sdist of \`secret 1.0\` at \`${path.join(outside, "secret-1.0.tar.gz")}\``],
      ["an absolute path", sdistLock(`path = "${path.join(outside, "secret-1.0.tar.gz")}"`, hash), `at \`${path.join(outside, "secret-1.0.tar.gz")}\``],
      ["a file: URL (as pip lock writes)", sdistLock(`url = "${pathToFileURL(path.join(outside, "secret-1.0.tar.gz")).href}"`, hash), `at \`${path.join(outside, "secret-1.0.tar.gz")}\``],
      ["a symbolic link out of the folder", sdistLock(`path = "linked-1.0.tar.gz"`, hash), `(a symbolic link to \`${path.join(outside, "secret-1.0.tar.gz")}\`)`],
      ["git's own data", sdistLock(`path = "../.git/config"`, sha256(Buffer.from("[remote]\n\ttoken = hunter2\n"))), `at \`${path.join(repo, ".git", "config")}\``],
      ["a module's file", `lock-version = "1.0"\n\n[[packages]]\nname = "loot"\n\n[packages.tool.mpip]\nartifact = "module"\nfiles = [{ dest = "loot.py", path = "${relative}/loot.py", hashes = { sha256 = "${sha256(Buffer.from("TOKEN = 'hunter2'\n"))}" } }]\n`, `\`loot.py\` of \`loot\` at \`${path.join(outside, "loot.py")}\``],
      ["a project folder elsewhere", `lock-version = "1.0"\n\n[[packages]]\nname = "secret"\ndirectory = { path = "${relative}/project" }\n`, `the project folder of \`secret\` at \`${path.join(outside, "project")}\``],
    ];
    const target = fresh();
    await writeTree(target, { "keep.py": "K = 1\n" });
    const before = await snapshot(target);
    const lockFile = path.join(app, "pylock.toml");
    // Each hostile lock is refused by `install --lock`; `sync` and `download --lock` each meet four of
    // them, every one of the seven by two commands or more. All three read the lock through the same
    // check (src/lock/local-files.ts), which the seven cases exercise branch by branch: every command
    // meets four distinct cases, not each of the 21 pairs.
    const commands = {
      install: ["install", "--lock", lockFile, "-p", target],
      sync: ["sync", lockFile, "--no-remove", "-p", target],
      download: ["download", "--lock", lockFile, "-d", path.join(work.dir, "never")],
    };
    const alsoBy: Array<Array<keyof typeof commands>> = [["sync"], ["download"], ["download"], ["sync"], ["download"], ["sync"], ["sync", "download"]];
    for (const [index, [what, text, named]] of hostile.entries()) {
      await writeFile(lockFile, text);
      for (const command of [commands.install, ...alsoBy[index]!.map((name) => commands[name])]) {
        const result = await runMpip(command);
        assert.equal(result.code, 1, `${what}, ${command[0]}: ${result.stderr}`);
        assert.match(result.stderr, /^error: refused to read what `.*pylock\.toml` names outside the folder that may hold a lock's files \(`[^`]+`\): .*; nothing was read$/m, what);
        assert.ok(result.stderr.includes(named), `${what}: ${result.stderr}`);
        assert.match(result.stderr, /^hint: a lock's local files must lie in its own folder or below, or in the git clone that holds it \(never in `\.git`\); if you trust this lock, give the folder that holds them with `-i DIR`/m);
        assert.doesNotMatch(result.stderr, /hunter2/);
        assert.deepEqual(await snapshot(target), before, what);
        assert.equal(existsSync(path.join(work.dir, "never")), false);
      }
    }
    // Inside the git clone that holds the lock (not only its folder): read, and installed.
    await writeFile(lockFile, sdistLock('path = "../shared/secret-1.0.tar.gz"', hash));
    const fromClone = fresh();
    const cloned = await runMpip(["install", "--no-record", "--lock", lockFile, "-p", fromClone]);
    assert.equal(cloned.code, 0, cloned.stderr);
    assert.deepEqual(Object.keys(await snapshot(fromClone)), ["secret.py"]);
    // A folder the user gives with -i may hold the lock's files: the same lock that was refused installs.
    await writeFile(lockFile, sdistLock(`path = "${relative}/secret-1.0.tar.gz"`, hash));
    const allowed = fresh();
    const given = await runMpip(["install", "--no-record", "--lock", lockFile, "-i", outside, "-p", allowed]);
    assert.equal(given.code, 0, given.stderr);
    assert.deepEqual(Object.keys(await snapshot(allowed)), ["secret.py"]);
    // A file: URL inside the lock's folder (as pip lock writes a --find-links file) is read as its path.
    await writeTree(app, { "wheels/secret-1.0.tar.gz": secret });
    await writeFile(lockFile, sdistLock(`url = "${pathToFileURL(path.join(app, "wheels", "secret-1.0.tar.gz")).href}"`, hash));
    const byUrl = fresh();
    const read = await runMpip(["install", "--no-record", "--lock", lockFile, "-p", byUrl]);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(Object.keys(await snapshot(byUrl)), ["secret.py"]);
  });

  test("a lock made from files outside its folder says that install --lock will refuse them unless given the folder with -i", async () => {
    const gizmo = await buildSdist({ name: "gizmo", version: "1.1", files: { "gizmo.py": "G = 11\n" } });
    const elsewhere = await writeTree(fresh("elsewhere"), { "gizmo-1.1.tar.gz": gizmo });
    const app = await writeTree(fresh("outside-app"), { "wheels/gizmo-1.1.tar.gz": gizmo });
    const lockFile = path.join(app, "pylock.toml");
    const warning = /^warning: `.*pylock\.toml` names files outside the folder that may hold a lock's files \(`[^`]+`\): the sdist of `gizmo 1\.1` at `[^`]+gizmo-1\.1\.tar\.gz`; `mpip install --lock` refuses to read them unless given the folder that holds them with `-i DIR`/m;
    // From a -f folder outside: written, with the warning; the install it names is refused, and allowed with -i.
    for (const check of [false, true]) {
      const locked = await runMpip(["lock", "--no-index", "-f", elsewhere, "-o", lockFile, ...(check ? ["--check"] : []), "gizmo"], { cwd: app });
      assert.equal(locked.code, 0, locked.stderr);
      assert.match(locked.stderr, warning, check ? "--check" : "lock");
    }
    assert.equal((await runMpip(["install", "--lock", lockFile, "-p", fresh()])).code, 1);
    const given = await runMpip(["install", "--no-record", "--lock", lockFile, "-i", elsewhere, "-p", fresh()]);
    assert.equal(given.code, 0, given.stderr);
    // The same folder given to lock as a local index with -i: the lock records it, but an install trusts
    // only the folders on its own command line, so that warns too.
    const fromIndex = await runMpip(["lock", "-i", elsewhere, "-o", lockFile, "gizmo"], { cwd: app });
    assert.equal(fromIndex.code, 0, fromIndex.stderr);
    assert.match(fromIndex.stderr, warning);
    assert.equal((await runMpip(["install", "--lock", lockFile, "-p", fresh()])).code, 1);
    // From files inside the project: no warning.
    const inside = await runMpip(["lock", "--no-index", "-f", path.join(app, "wheels"), "-o", lockFile, "gizmo"], { cwd: app });
    assert.equal(inside.code, 0, inside.stderr);
    assert.doesNotMatch(inside.stderr, /warning/);
  });

  test("inside the lock's folder, only regular files are read: a FIFO or a folder is an error naming it, never a hang", async (t) => {
    const app = await writeTree(fresh("fifo"), { "folder-1.0.tar.gz/x": "x" });
    try {
      execFileSync("mkfifo", [path.join(app, "pipe-1.0.tar.gz")]);
    } catch {
      t.skip("mkfifo is not available");
      return;
    }
    const lockFile = path.join(app, "pylock.toml");
    for (const name of ["pipe-1.0.tar.gz", "folder-1.0.tar.gz"]) {
      await writeFile(lockFile, sdistLock(`path = "${name}"`, "0".repeat(64)));
      const target = fresh();
      const result = await runMpip(["install", "--lock", lockFile, "-p", target]);
      assert.equal(result.code, 1, result.stderr);
      assert.ok(result.stderr.includes(`from \`${path.join(app, name)}\`: it is not a regular file`), result.stderr);
      assert.equal(existsSync(target), false);
    }
  });
});
