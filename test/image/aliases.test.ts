// One file, two names: on a filesystem that folds names (FAT and exFAT on any host, macOS, Windows),
// `Mod.py` from one package and `mod.py` from another are one file. The commit must take them for one
// step (backing the existing file up once), and a roll-back at any point, in the same run or in the
// next one after a kill, must give back every original byte under its own name.
//
// In-process, through the commit's filesystem layer with folding (test/helpers/folding-fs.ts); the same
// on a real FAT filesystem is in test/image/fat-target.test.ts.

import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { commit, type Placement } from "../../src/image/commit.js";
import type { CommitFs, FullCommitFs } from "../../src/image/fs-ops.js";
import { nodeFs } from "../../src/image/fs-ops.js";
import { readJournal } from "../../src/image/journal.js";
import { besideLayout } from "../../src/image/layout.js";
import { EXACT, foldPath, probeNameRules, type NameRules } from "../../src/image/name-rules.js";
import { recoverInterrupted } from "../../src/image/recover.js";
import { Reporter } from "../../src/log.js";
import { snapshot, tempDir } from "../helpers/cli.js";
import { APFS_RULES, FAT_RULES, FoldingFs } from "../helpers/folding-fs.js";
import { prng } from "../helpers/prng.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-aliases-");
});
after(async () => {
  await work.cleanup();
});

const quiet = () => new Reporter({ stream: new PassThrough() as unknown as NodeJS.WriteStream, color: false });

interface SceneSpec {
  /** Files in the target before the commit (real spellings). */
  existing: Record<string, string>;
  /** Staged files per package, in plan order: [package, destination, content]. */
  staged: Array<[string, string, string]>;
  rules: NameRules;
}

async function scene(spec: SceneSpec) {
  const parent = path.join(work.dir, `scene-${++counter}`);
  const target = path.join(parent, "image");
  const layout = besideLayout(target);
  const stagingDir = path.join(parent, layout.stagingName(1, "0000beef"));
  await mkdir(target, { recursive: true });
  for (const [name, text] of Object.entries(spec.existing)) {
    await mkdir(path.dirname(path.join(target, name)), { recursive: true });
    await writeFile(path.join(target, name), text);
  }
  const placements: Placement[] = [];
  for (const [pkg, to, text] of spec.staged) {
    const from = path.join(stagingDir, "packages", pkg, to);
    await mkdir(path.dirname(from), { recursive: true });
    await writeFile(from, text);
    placements.push({ from, to });
  }
  return { parent, target, layout, stagingDir, placements, fs: new FoldingFs(parent, spec.rules) };
}

/** Every operation that changes something stops working for good after `limit` of them: a process killed there. */
function dying(inner: FullCommitFs, limit: number): FullCommitFs & { count: number } {
  const ops = {
    ...inner,
    count: 0,
  };
  const step = () => {
    if (ops.count++ >= limit) throw Object.assign(new Error("the process died here"), { code: "EDIED" });
  };
  ops.rename = async (from, to) => (step(), inner.rename(from, to));
  ops.mkdir = async (dir) => (step(), inner.mkdir(dir));
  ops.rmdir = async (dir) => (step(), inner.rmdir(dir));
  ops.writeFile = async (file, data) => (step(), inner.writeFile(file, data));
  ops.unlink = async (file) => (step(), inner.unlink(file));
  return ops;
}

/** Exactly the `at`-th changing operation fails with `code`, as a full disk would. */
function failingOnce(inner: FullCommitFs, at: number, code: string): CommitFs {
  let count = 0;
  const check = () => {
    if (count++ === at) throw Object.assign(new Error(`${code}: simulated`), { code });
  };
  return {
    ...inner,
    rename: async (from, to) => (check(), inner.rename(from, to)),
    mkdir: async (dir) => (check(), inner.mkdir(dir)),
    rmdir: async (dir) => (check(), inner.rmdir(dir)),
    writeFile: async (file, data) => (check(), inner.writeFile(file, data)),
    unlink: async (file) => (check(), inner.unlink(file)),
  };
}

const FAT_SCENE: SceneSpec = {
  existing: { "MOD.py": "ORIGINAL = 1\n", "keep.txt": "the user's own file\n", "lib/Util.py": "OLD_UTIL = 1\n" },
  staged: [
    ["a", "Mod.py", "FROM_A = 1\n"],
    ["a", "lib/util.py", "UTIL_A = 1\n"],
    ["b", "mod.py", "FROM_B = 1\n"],
    ["b", "LIB/UTIL.PY", "UTIL_B = 1\n"],
    ["b", "new.py", "NEW = 1\n"],
    ["c", "mod.py.", "FROM_C_TRAILING_DOT = 1\n"],
  ],
  rules: FAT_RULES,
};

describe("one file, two names", () => {
  test("the name probe reads the filesystem's rules: exact here, folded through the folding layer", async () => {
    const plain = path.join(work.dir, `probe-${++counter}`);
    await mkdir(plain);
    assert.deepEqual(await probeNameRules(path.join(plain, "p"), nodeFs), EXACT);
    for (const rules of [FAT_RULES, APFS_RULES]) {
      const root = path.join(work.dir, `probe-${++counter}`);
      await mkdir(root);
      const found = await probeNameRules(path.join(root, "p"), new FoldingFs(root, rules));
      assert.deepEqual(found, rules.unicodeCase ? { ...rules, asciiCase: true } : rules);
    }
  });

  test("names of one file become one step: the existing file is backed up once, the last package's copy is installed", async () => {
    const s = await scene(FAT_SCENE);
    await commit(s.layout, s.stagingDir, s.placements, { fs: s.fs });
    const backups = s.fs.renames.filter((move) => move.to.startsWith(path.join(s.stagingDir, "backup")));
    assert.equal(backups.length, 2, "MOD.py and lib/Util.py, each once");
    const after = await snapshot(s.target);
    const mods = Object.keys(after).filter((name) => foldPath(name, FAT_RULES) === "mod.py");
    assert.equal(mods.length, 1, `one file for mod.py: ${mods.join(", ")}`);
    const utils = Object.keys(after).filter((name) => foldPath(name, FAT_RULES) === "lib/util.py");
    assert.equal(utils.length, 1);
    const { readFile } = await import("node:fs/promises");
    assert.equal(await readFile(path.join(s.target, mods[0]!), "utf8"), "FROM_C_TRAILING_DOT = 1\n");
    assert.equal(await readFile(path.join(s.target, utils[0]!), "utf8"), "UTIL_B = 1\n");
  });

  test("a failure at any step of the commit gives back every original byte, under its own name", async () => {
    const probe = await scene(FAT_SCENE);
    const counting = dying(probe.fs, Number.POSITIVE_INFINITY);
    await commit(probe.layout, probe.stagingDir, probe.placements, { fs: counting });
    assert.ok(counting.count >= 6, `a commit of several steps, got ${counting.count}`);
    for (let at = 0; at < counting.count; at++) {
      const s = await scene(FAT_SCENE);
      const beforeCommit = await snapshot(s.target);
      const error = await commit(s.layout, s.stagingDir, s.placements, { fs: failingOnce(s.fs, at, "ENOSPC") }).then(() => undefined, (e: unknown) => e);
      // A probe file that cannot be written leaves that rule unknown, and the commit goes on: its result must still be whole.
      if (error === undefined) continue;
      assert.ok(error instanceof MpipError, `ENOSPC at ${at}: ${String(error)}`);
      assert.deepEqual(await snapshot(s.target), beforeCommit, `ENOSPC at operation ${at}`);
    }
  });

  test("killed at any step, and the next run's roll-back killed at any step too: nothing is lost", async () => {
    const probe = await scene(FAT_SCENE);
    const counting = dying(probe.fs, Number.POSITIVE_INFINITY);
    await commit(probe.layout, probe.stagingDir, probe.placements, { fs: counting });
    let pairs = 0;
    for (let killAt = 0; killAt < counting.count; killAt++) {
      for (const secondKillAt of [0, 1, 2, 3, 5, 8, Number.POSITIVE_INFINITY]) {
        const s = await scene(FAT_SCENE);
        const beforeCommit = await snapshot(s.target);
        const outcome = await commit(s.layout, s.stagingDir, s.placements, { fs: dying(s.fs, killAt) }).then(() => "done", (e: unknown) => e);
        if (outcome === "done") continue;
        if ((await readJournal(s.layout)) === undefined) {
          assert.deepEqual(await snapshot(s.target), beforeCommit, `killed at ${killAt} before the journal`);
          continue;
        }
        pairs++;
        await recoverInterrupted(s.layout, quiet(), dying(s.fs, secondKillAt)).catch(() => undefined);
        await recoverInterrupted(s.layout, quiet(), s.fs);
        assert.deepEqual(await snapshot(s.target), beforeCommit, `killed at ${killAt}, then the roll-back at ${secondKillAt}`);
      }
    }
    assert.ok(pairs > 20, `tried ${pairs} pairs of kill points`);
  });

  test("composed and decomposed names on a filesystem that normalizes (macOS)", async () => {
    const nfd = "cafe\u0301.py";
    const nfc = "caf\u00e9.py";
    const spec: SceneSpec = {
      existing: { [nfd]: "ORIGINAL = 1\n" },
      staged: [["a", nfc, "A = 1\n"], ["b", "CAF\u00c9.py", "B = 1\n"], ["b", "z.py", "Z = 1\n"]],
      rules: APFS_RULES,
    };
    const probe = await scene(spec);
    const counting = dying(probe.fs, Number.POSITIVE_INFINITY);
    await commit(probe.layout, probe.stagingDir, probe.placements, { fs: counting });
    assert.deepEqual(await readdir(probe.target).then((names) => names.length), 2);
    for (let at = 0; at < counting.count; at++) {
      const s = await scene(spec);
      const beforeCommit = await snapshot(s.target);
      const error = await commit(s.layout, s.stagingDir, s.placements, { fs: failingOnce(s.fs, at, "EIO") }).then(() => undefined, (e: unknown) => e);
      if (error === undefined) continue;
      assert.deepEqual(await snapshot(s.target), beforeCommit, `EIO at ${at}`);
    }
  });

  test("fuzz: random sets of names that fold together, failed at random steps, always roll back byte for byte", async (t) => {
    const random = prng(0x616c6961);
    const spellings = ["mod.py", "Mod.py", "MOD.py", "mod.py.", "mod.py ", "mOd.Py", "pkg/a.py", "PKG/a.py", "Pkg/A.py", "pkg/A.py.", "x.py"];
    let cases = 0;
    for (let round = 0; round < 60; round++) {
      const pick = () => spellings[Math.floor(random() * spellings.length)]!;
      const existing: Record<string, string> = {};
      for (let i = 0; i < 1 + Math.floor(random() * 2); i++) {
        const name = pick();
        if (!Object.keys(existing).some((other) => foldPath(other, FAT_RULES) === foldPath(name, FAT_RULES) || foldPath(other, FAT_RULES).split("/")[0] === foldPath(name, FAT_RULES).split("/")[0])) existing[name] = `ORIGINAL ${name}\n`;
      }
      const staged: Array<[string, string, string]> = [];
      for (let i = 0; i < 2 + Math.floor(random() * 4); i++) {
        const pkg = `p${i}`;
        const name = pick();
        const clash = staged.some(([, other]) => {
          const [a, b] = [foldPath(other, FAT_RULES).split("/"), foldPath(name, FAT_RULES).split("/")];
          return a.length !== b.length && a[0] === b[0]; // a file where another needs a folder: refused before the commit, not this test's business
        }) || Object.keys(existing).some((other) => {
          const [a, b] = [foldPath(other, FAT_RULES).split("/"), foldPath(name, FAT_RULES).split("/")];
          return a.length !== b.length && a[0] === b[0];
        });
        if (!clash) staged.push([pkg, name, `NEW ${pkg} ${name}\n`]);
      }
      const spec: SceneSpec = { existing, staged, rules: FAT_RULES };
      const probe = await scene(spec);
      const counting = dying(probe.fs, Number.POSITIVE_INFINITY);
      await commit(probe.layout, probe.stagingDir, probe.placements, { fs: counting });
      const killAt = Math.floor(random() * (counting.count + 1));
      const s = await scene(spec);
      const beforeCommit = await snapshot(s.target);
      const outcome = await commit(s.layout, s.stagingDir, s.placements, { fs: dying(s.fs, killAt) }).then(() => "done", () => "killed");
      if (outcome === "killed") {
        await recoverInterrupted(s.layout, quiet(), s.fs);
        assert.deepEqual(await snapshot(s.target), beforeCommit, `round ${round}: ${JSON.stringify(spec)} killed at ${killAt}`);
      }
      cases++;
    }
    t.diagnostic(`${cases} random scenes`);
  });

  test("a file where another package needs a folder of that name on this filesystem is refused before anything changes", async () => {
    for (const [rules, file] of [[FAT_RULES, "Lib"], [FAT_RULES, "LIB."], [EXACT, "lib"]] as const) {
      for (const order of ["file first", "folder first"]) {
        const staged: Array<[string, string, string]> = [["fa", "lib/x.py", "X = 1\n"], ["fb", file, "FILE\n"]];
        const s = await scene({ existing: { "keep.py": "KEEP = 1\n" }, staged: order === "file first" ? staged.reverse() : staged, rules });
        const beforeCommit = await snapshot(s.target);
        await assert.rejects(commit(s.layout, s.stagingDir, s.placements, { fs: s.fs }), (error: unknown) => {
          assert.ok(error instanceof MpipError, String(error));
          assert.match(error.message, /cannot install both `.*` \(a file\) and `lib\/x\.py`, which needs a folder of that name/);
          return true;
        });
        assert.deepEqual(await snapshot(s.target), beforeCommit, `${file}, ${order}`);
        assert.equal(await readJournal(s.layout), undefined);
      }
    }
  });
});
