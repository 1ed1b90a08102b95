// A disk that is full, a target that is read-only, and things in the way: each is a clear error, the
// target is left as it was, and nothing is left beside it. The tests run as root, where file modes
// stop nothing, so a read-only folder is made with `chattr +i` and a full disk with a small tmpfs;
// where those cannot be had (no root, no CAP_SYS_ADMIN) the tests say so and skip, and
// test/image/commit.test.ts still covers a failure at every step of a commit by injecting it.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, runCommand, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { beside } from "./helpers/process.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let template: string;
let sdists: string;
let counter = 0;

function tryCommand(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why `chattr +i` or a tmpfs mount cannot be used here, or undefined when they can. */
let noChattr: string | undefined;
let noMount: string | undefined;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-disk-");
  await server.addSdist({ name: "disk-app", version: "1.0", files: { "disk_app/__init__.py": "V = 1\n", "disk_app/a.py": "A = 1\n" } });
  await server.addSdist({
    name: "disk-app",
    version: "2.0",
    requires: ["disk-lib"],
    files: { "disk_app/__init__.py": "V = 2\n", "disk_app/a.py": "A = 2\n", "disk_app/b.py": "B = 2\n", "disk_app/sub/c.py": "C = 2\n" },
  });
  await server.addSdist({ name: "disk-lib", version: "1.0", files: { "disk_lib/__init__.py": "L = 1\n", "disk_lib/deep/er.py": "D = 1\n" } });
  await server.addSdist({ name: "disk-big", version: "1.0", files: { "disk_big/__init__.py": "", "disk_big/blob.bin": randomBytes(600 * 1024) } });
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  for (const project of server.projects.values()) {
    for (const files of project.releases.values()) for (const file of files) await writeFile(path.join(sdists, file.filename), file.body);
  }
  template = path.join(work.dir, "template", "image");
  assert.equal((await runMpip(["install", "-i", server.url, "-p", template, "disk-app==1.0"])).code, 0);
  await writeFile(path.join(template, "mine.txt"), "not mpip's\n");

  const probe = await mkdtemp(path.join(work.dir, "probe-"));
  noChattr = tryCommand("chattr", ["+i", probe]) && tryCommand("chattr", ["-i", probe]) ? undefined : "`chattr +i` is not available here (needs root and an ext4-like filesystem)";
  noMount = tryCommand("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]) && tryCommand("umount", [probe]) ? undefined : "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)";
  if (noChattr !== undefined) process.stderr.write(`# skipping read-only tests: ${noChattr}\n`);
  if (noMount !== undefined) process.stderr.write(`# skipping full-disk tests: ${noMount}\n`);
});
after(async () => {
  await server.close();
  await work.cleanup();
});

async function sceneIn(parent: string) {
  await mkdir(parent, { recursive: true });
  const target = path.join(parent, "image");
  await cp(template, target, { recursive: true });
  return { parent, target, before: await snapshot(target) };
}

// From a local folder of the index's sdists: no network, so each of the many runs below is quick.
const upgrade = (target: string, spec = "disk-app==2.0") => runMpip(["install", "--no-index", "-f", sdists, "-p", target, spec]);

async function withTmpfs<T>(options: string, body: (mountPoint: string) => Promise<T>): Promise<T> {
  const mountPoint = path.join(work.dir, `tmpfs-${++counter}`);
  await mkdir(mountPoint);
  execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", mountPoint]);
  try {
    return await body(mountPoint);
  } finally {
    execFileSync("umount", [mountPoint]);
    await rm(mountPoint, { recursive: true });
  }
}

describe("disk faults", () => {
  test("a read-only target folder: a clear error, and the target as it was", async (t) => {
    if (noChattr !== undefined) return t.skip(noChattr);
    const scene = await sceneIn(path.join(work.dir, `case-${++counter}`));
    execFileSync("chattr", ["+i", scene.target]);
    try {
      const result = await upgrade(scene.target);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^error: could not write into `.*image`; it was rolled back, nothing was changed \(EPERM: operation not permitted\)$/m);
      assert.match(result.stderr, /^hint: .*`lsattr` for the immutable flag/m);
    } finally {
      execFileSync("chattr", ["-i", scene.target]);
    }
    assert.deepEqual(await snapshot(scene.target), scene.before);
    assert.deepEqual(await beside(scene.parent, "image"), []);
  });

  test("a read-only parent folder: the install is staged inside the target, and nothing is left there", async (t) => {
    if (noChattr !== undefined) return t.skip(noChattr);
    const scene = await sceneIn(path.join(work.dir, `case-${++counter}`));
    const expected = await sceneIn(path.join(work.dir, `case-${++counter}`));
    assert.equal((await upgrade(expected.target)).code, 0);
    execFileSync("chattr", ["+i", scene.parent]);
    try {
      const result = await upgrade(scene.target);
      assert.equal(result.code, 0, result.stderr);
    } finally {
      execFileSync("chattr", ["-i", scene.parent]);
    }
    assert.deepEqual(await snapshot(scene.target), await snapshot(expected.target));
    assert.deepEqual(await beside(scene.parent, "image"), []);
  });

  test("a read-only parent and a read-only target: a clear error before anything is staged", async (t) => {
    if (noChattr !== undefined) return t.skip(noChattr);
    const scene = await sceneIn(path.join(work.dir, `case-${++counter}`));
    execFileSync("chattr", ["+i", scene.parent]);
    execFileSync("chattr", ["+i", scene.target]);
    try {
      const result = await upgrade(scene.target);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^error: cannot lock the target folder `.*image`: cannot create `.*image\/\.mpip-lock` \(EPERM: operation not permitted\)$/m);
      assert.match(result.stderr, /^hint: mpip keeps a lock file, a staging folder and a journal in `.*image` while it installs: make it writable/m);
    } finally {
      execFileSync("chattr", ["-i", scene.target]);
      execFileSync("chattr", ["-i", scene.parent]);
    }
    assert.deepEqual(await snapshot(scene.target), scene.before);
    assert.deepEqual(await beside(scene.parent, "image"), []);
  });

  test("a file where the install needs a folder: a clear error, nothing changed", async () => {
    const scene = await sceneIn(path.join(work.dir, `case-${++counter}`));
    await writeFile(path.join(scene.target, "disk_lib"), "a file named like the package's folder\n");
    const before = await snapshot(scene.target);
    const result = await upgrade(scene.target);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: cannot install `disk_lib\/__init__\.py`: `disk_lib` in `.*image` is a file, where a folder is needed; nothing was changed$/m);
    assert.match(result.stderr, /^hint: remove or rename that file, then run mpip again$/m);
    assert.deepEqual(await snapshot(scene.target), before);
    assert.deepEqual(await beside(scene.parent, "image"), []);
  });

  test("a target that is a file: a clear error, nothing changed", async () => {
    const parent = path.join(work.dir, `case-${++counter}`);
    await mkdir(parent);
    await writeFile(path.join(parent, "image"), "a file\n");
    const result = await upgrade(path.join(parent, "image"));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: cannot install into `.*image`: it is a file, not a folder; nothing was changed$/m);
    assert.deepEqual(await beside(parent, "image"), []);
  });

  test("a disk too small for the unpacked files: a clear error, nothing changed", async (t) => {
    if (noMount !== undefined) return t.skip(noMount);
    await withTmpfs("size=512k", async (mountPoint) => {
      const scene = await sceneIn(path.join(mountPoint, "parent"));
      const result = await upgrade(scene.target, "disk-big");
      assert.equal(result.code, 1);
      assert.match(result.stderr, /ENOSPC/);
      assert.match(result.stderr, /^hint: the disk is full/m);
      assert.deepEqual(await snapshot(scene.target), scene.before);
      assert.deepEqual(await beside(scene.parent, "image"), []);
    });
  });

  test("a file larger than the file size limit (`ulimit -f`): EFBIG said once, a hint about the limit, nothing changed", async () => {
    const scene = await sceneIn(path.join(work.dir, `efbig-${++counter}`));
    // 100 KiB at most: the 600 KiB file of disk-big cannot be written (Node ignores SIGXFSZ, so the write fails).
    const command = `ulimit -f 100 && exec "$0" "$@"`;
    const result = await runCommand("bash", ["-c", command, process.execPath, BIN, "install", "--no-cache", "--no-index", "-f", sdists, "-p", scene.target, "disk-big"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: could not write `disk-big 1\.0` \(`disk-big-1\.0\.tar\.gz`\) to the staging folder \(EFBIG: file too large, write\)$/m);
    assert.match(result.stderr, /^hint: a file is larger than the filesystem or the file size limit allows \(`ulimit -f`\)/m);
    assert.deepEqual(await snapshot(scene.target), scene.before);
    assert.deepEqual(await beside(scene.parent, "image"), []);
  });

  test("a disk that runs out of room at every possible point of an install loses nothing", async (t) => {
    if (noMount !== undefined) return t.skip(noMount);
    // tmpfs counts inodes exactly: with room for n more files or folders, the install runs out at its
    // n-th (the lock file, the staging folder, an unpacked file, the journal, a backup or target folder).
    const failures = new Map<string, number>();
    let succeededWith: number | undefined;
    const inodesOfCopy = countInodes(Object.keys(await snapshot(template)).length);
    for (let room = 0; room < 80 && succeededWith === undefined; room++) {
      await withTmpfs("size=4m,nr_inodes=" + String(inodesOfCopy + room), async (mountPoint) => {
        const scene = await sceneIn(path.join(mountPoint, "parent"));
        const result = await upgrade(scene.target);
        if (result.code === 0) {
          succeededWith = room;
          return;
        }
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /ENOSPC/, `room for ${room}: ${result.stderr}`);
        assert.match(result.stderr, /^hint: the disk is full/m, `room for ${room}: ${result.stderr}`);
        assert.doesNotMatch(result.stderr, /bug in mpip/);
        assert.deepEqual(await snapshot(scene.target), scene.before, `room for ${room}`);
        assert.deepEqual(await beside(scene.parent, "image"), [], `room for ${room}`);
        const where = /^error: (.*?)[`(]/m.exec(result.stderr)?.[1]?.trim() ?? "?";
        failures.set(where, (failures.get(where) ?? 0) + 1);
      });
    }
    assert.ok(succeededWith !== undefined, "with enough room the install succeeds");
    t.diagnostic(`ran out of room at ${succeededWith} points before succeeding: ${[...failures].map(([where, n]) => `${where} (${n})`).join("; ")}`);
    assert.ok(failures.size >= 3, `failures at several stages: ${[...failures.keys()].join("; ")}`);
  });
});

/** Inodes the tmpfs needs for the target's copy: its entries, the target, the parent folder and the root. */
function countInodes(entries: number): number {
  return entries + 3;
}
