// The hint of a filesystem error says its own cause: a name or a path too long for the filesystem (with
// the limit), too many links, a file where a folder is needed, a folder where a file is, a read-only
// filesystem, a full disk, no file descriptors left, a mount point, a flag that forbids the operation,
// and only for a refusal for want of permission, the permissions. Through the CLI where the machine can
// make the fault (long paths, links, files in the way, a read-only tmpfs as root), and by errno code for
// the rest (a full quota, a busy mount point, the descriptor limits).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cp, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ioHint, PATH_MAX } from "../../src/image/io-error.js";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { buildSdist, sdistFilename } from "../helpers/sdist.js";
import { tmpfsUnavailable, withTmpfs } from "../helpers/mounts.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
let module: string;
const place = async () => {
  const dir = path.join(work.dir, `case-${++counter}`);
  await mkdir(dir);
  return dir;
};

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-io-hints-");
  module = path.join(work.dir, "tiny.py");
  await writeFile(module, "T = 1\n");
  await server.addSdist({ name: "deep-pkg", version: "1.0", files: { [`deep_pkg/${"d".repeat(200)}/${"e".repeat(200)}.py`]: "E = 1\n", "deep_pkg/__init__.py": "" } }, { format: "pax" });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const permissionWords = /permission|writable|lsattr/i;

describe("the hint of a filesystem error says its own cause", () => {
  test("a target whose folder name is longer than 255 bytes: the name, its length and the limit; nothing is created", async () => {
    const dir = await place();
    const result = await runMpip(["install", "-p", path.join(dir, "a".repeat(300), "img"), module]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\(ENAMETOOLONG: name too long\)/);
    assert.match(result.stderr, /^hint: the name `a+….* \(300 characters\)` is 300 bytes long, more than the 255 bytes a file or folder name can have/m);
    assert.doesNotMatch(result.stderr.split("\nhint: ")[1]!, permissionWords);
    assert.deepEqual(await readdir(dir), []);
  });

  test(`a target whose path is longer than the system takes (${PATH_MAX - 1} bytes): the path's length and the limit`, async () => {
    const dir = await place();
    const target = path.join(dir, ...Array.from({ length: 20 }, () => "b".repeat(250)));
    const result = await runMpip(["install", "-p", target, module]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\(ENAMETOOLONG: name too long\)/);
    assert.match(result.stderr, new RegExp(`^hint: the path is \\d+ bytes long, more than the ${PATH_MAX - 1} the system takes in one path; use a folder with a shorter path`, "m"));
    assert.doesNotMatch(result.stderr.split("\nhint: ")[1]!, permissionWords);
    assert.deepEqual(await readdir(dir), []);
  });

  test("a package's file whose path, below a deep target, is longer than the system takes: said so, and nothing changed", async () => {
    const dir = await place();
    // ~3,800 bytes of target path: the package's ~420-byte path goes over PATH_MAX where it is staged.
    const target = path.join(dir, ...Array.from({ length: 15 }, () => "c".repeat(250)), "img");
    await mkdir(target, { recursive: true });
    await writeFile(path.join(target, "mine.txt"), "mine\n");
    const before = await snapshot(target);
    const result = await runMpip(["install", "-i", server.url, "-p", target, "--max-path-length", "1000", "deep-pkg"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /ENAMETOOLONG/);
    assert.match(result.stderr, new RegExp(`^hint: the path is \\d+ bytes long, more than the ${PATH_MAX - 1} the system takes in one path`, "m"));
    assert.doesNotMatch(result.stderr.split("\nhint: ")[1]!, permissionWords);
    assert.deepEqual(await snapshot(target), before);
    assert.deepEqual(await readdir(path.dirname(target)), ["img"]);
  });

  test("a file where a folder is needed, a folder where a file is, a loop of links: each said as such", async () => {
    const dir = await place();
    const target = path.join(dir, "img");
    assert.equal((await runMpip(["install", "-p", target, module])).code, 0);
    await writeFile(path.join(dir, "plain.txt"), "a file\n");
    await mkdir(path.join(dir, "folder"));
    await symlink("loop", path.join(dir, "loop"));
    const cases: Array<[string, string, RegExp]> = [
      [path.join(dir, "plain.txt", "manifest.py"), "EEXIST", /^hint: a file \(not a folder\) stands on the path where a folder is needed/m],
      [path.join(dir, "folder"), "EISDIR", /^hint: a folder stands where a file is needed/m],
      [path.join(dir, "loop", "manifest.py"), "ELOOP", /^hint: too many symbolic links on the path \(a link that leads back to itself/m],
    ];
    for (const [output, code, hint] of cases) {
      const result = await runMpip(["manifest", "-p", target, "-o", output]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^error: cannot write \`.*\` \\(${code}: `, "m"), result.stderr);
      assert.match(result.stderr, hint);
      assert.doesNotMatch(result.stderr.split("\nhint: ")[1]!, permissionWords, code);
    }
    // An sdist repacked into a folder through a file (the temporary file that was never made is no bug to report).
    const sdist = path.join(dir, sdistFilename({ name: "tiny-dist", version: "1.0", files: {} }));
    await writeFile(sdist, await buildSdist({ name: "tiny-dist", version: "1.0", files: { "tiny_dist.py": "T = 1\n" } }));
    const repacked = await runMpip(["repack", sdist, "-o", path.join(dir, "plain.txt", "out")]);
    assert.equal(repacked.code, 1, repacked.stderr);
    assert.match(repacked.stderr, /^error: cannot write `.*` \((EEXIST|ENOTDIR)\)/m);
    assert.match(repacked.stderr, /^hint: (a file \(not a folder\) stands on the path where a folder is needed|a part of the path that must be a folder is a file)/m);
    assert.doesNotMatch(repacked.stderr, /bug in mpip|writable/);
    // A project packed into a folder through a file.
    const project = path.join(dir, "project");
    await mkdir(project);
    await writeFile(path.join(project, "pyproject.toml"), '[project]\nname = "lamp"\nversion = "1.0"\n');
    await writeFile(path.join(project, "lamp.py"), "L = 1\n");
    const packed = await runMpip(["pack", project, "-o", path.join(dir, "plain.txt", "out")]);
    assert.equal(packed.code, 1, packed.stderr);
    assert.match(packed.stderr, /^error: cannot write `.*` \((EEXIST|ENOTDIR)\)/m);
    assert.match(packed.stderr, /^hint: (a file \(not a folder\) stands on the path where a folder is needed|a part of the path that must be a folder is a file)/m);
    assert.doesNotMatch(packed.stderr, /bug in mpip|writable/);
    // A target through a file: said by the target's own check.
    const through = await runMpip(["install", "-p", path.join(dir, "plain.txt", "img"), module]);
    assert.equal(through.code, 1, through.stderr);
    assert.match(through.stderr, /on its path is a file, not a folder; nothing was changed/);
    assert.match(through.stderr, /^hint: check the path given with -p: a folder on it is a file$/m);
  });

  test("a target on a read-only filesystem: EROFS, a hint to remount it read-write, nothing changed", async (t) => {
    const why = await tmpfsUnavailable(work.dir);
    if (why !== undefined) return t.skip(why);
    const dir = await place();
    const seed = path.join(dir, "seed");
    assert.equal((await runMpip(["install", "-p", seed, module])).code, 0);
    await withTmpfs(path.join(dir, "ro"), "size=1m", async (mountPoint) => {
      const target = path.join(mountPoint, "img");
      await cp(seed, target, { recursive: true });
      execFileSync("mount", ["-o", "remount,ro", mountPoint]);
      const before = await snapshot(target);
      for (const command of [["install", "-p", target, "--force-reinstall", module], ["uninstall", "-y", "-p", target, "tiny"], ["install", "-p", path.join(target, "new", "img"), module]]) {
        const result = await runMpip(command);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /\(EROFS[:)]/, command.join(" "));
        assert.match(result.stderr, /^hint: the filesystem is mounted read-only; remount it read-write/m, command.join(" "));
      }
      assert.deepEqual(await snapshot(target), before);
    });
  });

  test("each errno code gets a hint about its own cause; only a refusal (EACCES, EPERM) takes the caller's words about permissions", () => {
    const fallback = "make `/x` writable";
    const hintOf = (code: string, extra: Partial<NodeJS.ErrnoException> = {}) => ioHint(Object.assign(new Error(code), { code, ...extra }), fallback);
    const expected: Array<[string, RegExp]> = [
      ["ENOSPC", /disk is full .*`df -i`/],
      ["EDQUOT", /quota .* is used up/],
      ["EROFS", /mounted read-only/],
      ["EMFILE", /as many files open as this process may \(`ulimit -n`\)/],
      ["ENFILE", /the system has as many files open as it allows/],
      ["EXDEV", /on another filesystem than mpip's staging folder/],
      ["EBUSY", /in use: a mount point/],
      ["ELOOP", /too many symbolic links/],
      ["ENOTDIR", /a part of the path that must be a folder is a file/],
      ["EISDIR", /a folder stands where a file is needed/],
      ["EFBIG", /file size limit/],
      ["EIO", /the device failed to read or write/],
    ];
    const hints = new Set<string>();
    for (const [code, words] of expected) {
      const hint = hintOf(code);
      assert.match(hint, words, code);
      assert.doesNotMatch(hint, permissionWords, code);
      hints.add(hint);
    }
    assert.equal(hints.size, expected.length, "no two codes share a hint");
    assert.match(hintOf("EACCES"), /^make `\/x` writable \(permission denied/);
    assert.match(hintOf("EPERM"), /^make `\/x` writable \(not permitted whatever the modes say: check `lsattr` for the immutable flag/);
    assert.notEqual(hintOf("EACCES"), hintOf("EPERM"));
    assert.match(hintOf("ENAMETOOLONG", { path: `/t/${"n".repeat(256)}/f` }), /is 256 bytes long, more than the 255 bytes/);
    assert.match(hintOf("ENAMETOOLONG", { path: `/${"p/".repeat(PATH_MAX)}` }), new RegExp(`more than the ${PATH_MAX - 1} the system takes`));
    assert.match(hintOf("ENAMETOOLONG"), /longer than this filesystem takes/);
    assert.match(hintOf("EEXIST", { syscall: "mkdir" }), /a file \(not a folder\) stands on the path/);
    assert.equal(hintOf("EEXIST", { syscall: "open" }), fallback);
    assert.equal(hintOf("EWHATEVER"), fallback);
    // What mpip keeps at that place is said with a hint about another cause; a refusal's fallback says it already.
    const about = "mpip keeps a staging folder in `/x` while it installs";
    assert.match(ioHint(Object.assign(new Error("ENOTDIR"), { code: "ENOTDIR" }), `${about}: make it writable`, about), /^a part of the path that must be a folder is a file.* \(mpip keeps a staging folder in `\/x` while it installs\)$/);
    assert.equal(ioHint(Object.assign(new Error("EACCES"), { code: "EACCES" }), `${about}: make it writable`, about).split(about).length, 2, "said once");
    assert.equal(ioHint(Object.assign(new Error("EWHATEVER"), { code: "EWHATEVER" }), `${about}: make it writable`, about), `${about}: make it writable`);
  });
});
