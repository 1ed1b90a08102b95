// What the commit asks of the target's filesystem to decide and apply a change: a wide install into a
// fresh or mostly fresh target makes hundreds of new files in folders of its own, and looking each one up
// (a failing lstat, with an error object made and thrown away, in the plan and again in the apply) was
// most of the commit's work. The plan learns what a folder holds from one listing and looks below
// nothing that is not a folder; the apply looks each destination up once, just before it moves a file
// there. What must hold all the same: a file already there, under any spelling the filesystem takes for
// its name, is found, backed up and given back by a roll-back, even where a folder cannot be listed; a
// folder that can be listed but not searched fails the plan, as before; and a file another program
// writes into a folder the commit has just made comes back with a roll-back.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { lstat, mkdir, readdir, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { checkCommit, commit, type Placement } from "../../src/image/commit.js";
import { completeFs, nodeFs, type CommitFs } from "../../src/image/fs-ops.js";
import { besideLayout } from "../../src/image/layout.js";
import { FAT_RULES, FoldingFs } from "../helpers/folding-fs.js";
import { snapshot, tempDir } from "../helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-commit-lookups-");
});
after(() => work.cleanup());

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
}

/** A target holding `existing`, and a staging folder holding `staged`, with one placement per staged file. */
async function scene(existing: Record<string, string>, staged: Record<string, string>) {
  const parent = path.join(work.dir, `scene-${++counter}`);
  const target = path.join(parent, "image");
  const names = besideLayout(target);
  const stagingDir = path.join(parent, names.stagingName(1, "0000cafe"));
  await mkdir(target, { recursive: true });
  await writeTree(target, existing);
  await writeTree(path.join(stagingDir, "p"), staged);
  const placements: Placement[] = Object.keys(staged).map((to) => ({ from: path.join(stagingDir, "p", to), to }));
  return { target, names, stagingDir, placements };
}

/** Node's operations, each path the commit looked up (lstat or stat) kept, target-relative. */
function recording(target: string, base: Partial<CommitFs> = {}): CommitFs & { looked: string[] } {
  const looked: string[] = [];
  const note = (file: string) => looked.push(path.relative(target, file).split(path.sep).join("/"));
  return {
    looked,
    rename: base.rename ?? rename,
    mkdir: base.mkdir ?? ((dir: string) => mkdir(dir)),
    rmdir: base.rmdir ?? (async () => undefined),
    ...(base.readdir === undefined ? {} : { readdir: base.readdir }),
    lstat: async (file: string): Promise<Stats> => (note(file), base.lstat === undefined ? lstat(file) : base.lstat(file)),
    stat: async (file: string): Promise<Stats> => (note(file), base.stat === undefined ? stat(file) : base.stat(file)),
  };
}

/** How `snapshot` gives a file's text: its sha256. */
const digest = (text: string) => createHash("sha256").update(text).digest("hex");

/** `count` packages as an install lays them out: a package folder, a module, a `.dist-info` folder. */
function packages(count: number, text: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    files[`pkg${i}/__init__.py`] = `${text} ${i}\n`;
    files[`pkg${i}/data/page.html`] = `<p>${text} ${i}</p>\n`;
    files[`mod${i}.py`] = `M = ${i}\n`;
    files[`pkg${i}-1.0.dist-info/METADATA`] = `Name: pkg${i}\n`;
    files[`pkg${i}-1.0.dist-info/RECORD`] = "";
  }
  return files;
}

describe("what a commit looks up", () => {
  test("a destination looked up: nothing there is no error, any other failure is; a filesystem's own lstat answers", async () => {
    const s = await scene({ "there.py": "X = 1\n" }, {});
    assert.equal(await nodeFs.lstatIfAny(path.join(s.target, "missing.py")), undefined);
    assert.equal((await nodeFs.lstatIfAny(path.join(s.target, "there.py")))?.isFile(), true);
    await assert.rejects(nodeFs.lstatIfAny(path.join(s.target, "there.py", "below")), { code: "ENOTDIR" });
    const failing = (code: string): CommitFs => ({
      rename,
      mkdir: (dir) => mkdir(dir),
      rmdir: async () => undefined,
      lstat: async (file) => {
        throw Object.assign(new Error(`${code}: simulated, lstat '${file}'`), { code });
      },
    });
    assert.equal(await completeFs(failing("ENOENT")).lstatIfAny(path.join(s.target, "there.py")), undefined, "the given lstat, not Node's, is asked");
    await assert.rejects(completeFs(failing("EACCES")).lstatIfAny(path.join(s.target, "missing.py")), { code: "EACCES" });
  });

  test("the plan looks below nothing that is not there; the apply looks each destination up once", async () => {
    const staged = { ...packages(20, "new"), "lib/new.py": "NEW = 1\n" };
    const s = await scene({ "keep.txt": "the user's", "lib/old.py": "OLD = 1\n" }, staged);
    const madeFolders = /^pkg\d+(-1\.0\.dist-info)?\//;
    // The plan alone (what a dry run decides).
    const planning = recording(s.target);
    await checkCommit(s.names, s.stagingDir, s.placements, { fs: planning });
    assert.deepEqual(planning.looked.filter((file) => madeFolders.test(file)), [], "no path below a folder the commit will make is looked up");
    // In the target: the target itself, the folder it holds (lib/), and in each folder it reads the first
    // name that folder lacks (the check that it can be searched); not a lookup per new file or folder.
    const inTarget = planning.looked.filter((file) => !file.startsWith("../"));
    assert.ok(inTarget.length <= 4, `the plan looked up ${inTarget.length} paths of the target: ${inTarget.join(", ")}`);
    const fs = recording(s.target);
    await commit(s.names, s.stagingDir, s.placements, { fs });
    const after = await snapshot(s.target);
    for (const [file, text] of Object.entries(staged)) assert.equal(after[file], digest(text), file);
    assert.equal(after["keep.txt"], digest("the user's"));
    assert.equal(after["lib/old.py"], digest("OLD = 1\n"));
    // Each file in a folder the commit made once, by the apply; and the few paths the plan looked up.
    const placed = Object.keys(staged);
    for (const file of placed.filter((name) => madeFolders.test(name))) assert.equal(fs.looked.filter((looked) => looked === file).length, 1, file);
    assert.ok(fs.looked.length <= placed.length + planning.looked.length, `${fs.looked.length} lookups for ${placed.length} files`);
  });

  test("a file already there is found, backed up and given back by a roll-back, whatever the folder's listing says", async () => {
    const existing = { "a.py": "A = 'old'\n", "pkg/__init__.py": "# old\n", "pkg/sub/deep.py": "DEEP = 'old'\n" };
    const staged = { "a.py": "A = 'new'\n", "pkg/__init__.py": "# new\n", "pkg/sub/deep.py": "DEEP = 'new'\n", "pkg/sub/more.py": "MORE = 1\n", "z.py": "Z = 1\n" };
    const unlistable: CommitFs = {
      rename,
      mkdir: (dir) => mkdir(dir),
      rmdir: async () => undefined,
      readdir: async (dir) => {
        throw Object.assign(new Error(`EACCES: permission denied, scandir '${dir}'`), { code: "EACCES" });
      },
    };
    for (const [name, base] of [["listed", {}], ["unlistable", unlistable]] as const) {
      // Succeeds: the new files are in, the old ones were moved aside (the backup holds them).
      const done = await scene(existing, staged);
      await commit(done.names, done.stagingDir, done.placements, { fs: recording(done.target, base) });
      const after = await snapshot(done.target);
      for (const [file, text] of Object.entries(staged)) assert.equal(after[file], digest(text), `${name}: ${file}`);
      assert.equal((await readdir(path.join(done.stagingDir, "backup"))).length, 3, `${name}: the three replaced files are backed up`);
      // Fails at the last rename: everything is given back.
      const failing = await scene(existing, staged);
      const before = await snapshot(failing.target);
      let renames = 0;
      const last = Object.keys(staged).length + 3 - 1; // a rename per file placed and per file backed up
      const dying = recording(failing.target, {
        ...base,
        rename: async (from, to) => {
          if (renames++ === last) throw Object.assign(new Error("ENOSPC: simulated"), { code: "ENOSPC" });
          await rename(from, to);
        },
      });
      const error = await commit(failing.names, failing.stagingDir, failing.placements, { fs: dying }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof MpipError && /rolled back/.test(error.message), `${name}: ${String(error)}`);
      assert.deepEqual(await snapshot(failing.target), before, `${name}: the roll-back gives every replaced file back`);
    }
  });

  test("a file the filesystem takes for the destination under another spelling is found in the listing, backed up and given back", async () => {
    // On FAT, `MOD.py` and `mod.py` are one file, and `Pkg/` is the folder `pkg/`.
    const s = await scene({ "MOD.py": "OLD = 1\n", "Pkg/Data.txt": "old data\n" }, { "mod.py": "NEW = 1\n", "pkg/data.txt": "new data\n", "pkg/other.txt": "other\n" });
    const fs = new FoldingFs(s.target, FAT_RULES);
    const before = await snapshot(s.target);
    let renames = 0;
    const error = await commit(s.names, s.stagingDir, s.placements, {
      fs: {
        ...fs,
        rename: async (from: string, to: string) => {
          if (renames++ === 4) throw Object.assign(new Error("ENOSPC: simulated"), { code: "ENOSPC" });
          await fs.rename(from, to);
        },
      },
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof MpipError && /rolled back/.test(error.message), String(error));
    assert.deepEqual(await snapshot(s.target), before, "both files given back under their own spellings");
    await commit(s.names, s.stagingDir, s.placements, { fs: new FoldingFs(s.target, FAT_RULES) });
    const after = await snapshot(s.target);
    // The replaced file was moved aside and the new one put in under its own spelling; the folder kept its.
    assert.deepEqual(Object.keys(after).sort(), ["Pkg/", "Pkg/data.txt", "Pkg/other.txt", "mod.py"]);
    assert.equal(after["mod.py"], digest("NEW = 1\n"));
    assert.equal(after["Pkg/data.txt"], digest("new data\n"));
    assert.equal(after["Pkg/other.txt"], digest("other\n"));
  });

  test("a folder that can be listed but not searched fails the plan, before anything changes", async () => {
    const s = await scene({ "a.py": "A = 'old'\n", "pkg/keep.py": "KEEP = 1\n" }, { "a.py": "A = 'new'\n", "pkg/__init__.py": "# new\n", "pkg/more.py": "MORE = 1\n" });
    const before = await snapshot(s.target);
    // As a folder of mode 644 is to a user who is not its owner: its names can be read, nothing in it looked up.
    const unsearchable = recording(s.target, {
      lstat: async (file) => {
        if (path.dirname(file) === path.join(s.target, "pkg")) throw Object.assign(new Error(`EACCES: permission denied, lstat '${file}'`), { code: "EACCES" });
        return lstat(file);
      },
    });
    for (const run of [() => checkCommit(s.names, s.stagingDir, s.placements, { fs: unsearchable }), () => commit(s.names, s.stagingDir, s.placements, { fs: unsearchable })]) {
      const error = await run().then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof MpipError && /cannot look at `.*pkg.*` .*EACCES/.test(error.message), String(error));
      assert.deepEqual(await snapshot(s.target), before, "nothing changed");
    }
  });

  test("a file another program writes into a folder the commit has just made comes back with a roll-back", async () => {
    const staged = { "fresh/one.py": "ONE = 1\n", "fresh/two.py": "TWO = 2\n", "z.py": "Z = 1\n" };
    const s = await scene({ "keep.txt": "the user's" }, staged);
    let renames = 0;
    const fs = recording(s.target, {
      // Right after the commit makes `fresh/`, another program writes a file where one of the package's goes.
      mkdir: async (dir) => {
        await mkdir(dir);
        if (path.basename(dir) === "fresh") await writeFile(path.join(dir, "two.py"), "THEIRS\n");
      },
      rename: async (from, to) => {
        if (++renames === Object.keys(staged).length + 1) throw Object.assign(new Error("ENOSPC: simulated"), { code: "ENOSPC" });
        await rename(from, to);
      },
    });
    const error = await commit(s.names, s.stagingDir, s.placements, { fs }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof MpipError && /rolled back/.test(error.message), String(error));
    const after = await snapshot(s.target);
    assert.equal(after["fresh/two.py"], digest("THEIRS\n"), "the other program's file is given back");
    assert.equal(after["fresh/one.py"], undefined);
    assert.equal(after["keep.txt"], digest("the user's"));
  });
});
