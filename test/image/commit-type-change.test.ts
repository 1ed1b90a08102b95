// The commit when paths change type, in-process against a real folder: files the commit removes give
// their path to a folder it creates, and a folder those removals empty gives its path to a file it
// places. A process that dies at any step of such a commit, and again at any step of the next run's
// roll-back, leaves the target exactly as before; a failing disk at any step too. A folder that still
// holds a file the commit does not remove is refused before anything changes, naming that file.

import assert from "node:assert/strict";
import { lstat, mkdir, readFile, rename, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { Reporter } from "../../src/log.js";
import { commit, type Placement } from "../../src/image/commit.js";
import type { CommitFs } from "../../src/image/fs-ops.js";
import { readJournal } from "../../src/image/journal.js";
import { besideLayout } from "../../src/image/layout.js";
import { recoverInterrupted } from "../../src/image/recover.js";
import type { FullCommitFs } from "../../src/image/fs-ops.js";
import { snapshot, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { FAT_RULES, FoldingFs } from "../helpers/folding-fs.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-commit-type-");
});
after(async () => {
  await work.cleanup();
});

/** The old version: a folder `pkg/` (two levels) and a file `cfg`; the user's `keep.txt`. */
const BEFORE_FILES: Record<string, string> = {
  "keep.txt": "the user's own file",
  "pkg/__init__.py": "# old pkg\n",
  "pkg/sub/x.py": "X = 1\n",
  "pkg/sub/deeper/y.py": "Y = 1\n",
  "cfg": "old config file\n",
  "lib/cfgdata": "a file at depth\n",
};
const REMOVED = ["pkg/__init__.py", "pkg/sub/x.py", "pkg/sub/deeper/y.py", "cfg", "lib/cfgdata"];
/** The new version: a file `pkg`, a folder `cfg/`, and a folder at depth where a file was. */
const STAGED_FILES: Record<string, string> = {
  pkg: "pkg is a file now\n",
  "cfg/a.py": "A = 2\n",
  "cfg/b/c.py": "C = 2\n",
  "lib/cfgdata/part.py": "P = 2\n",
  "new.py": "N = 2\n",
};

async function scene(extra: Record<string, string> = {}) {
  const parent = path.join(work.dir, `scene-${++counter}`);
  const target = path.join(parent, "image");
  const names = besideLayout(target);
  const stagingDir = path.join(parent, names.stagingName(1, "0000beef"));
  await writeTree(target, { ...BEFORE_FILES, ...extra });
  await writeTree(path.join(stagingDir, "packages", "p"), STAGED_FILES);
  const placements: Placement[] = Object.keys(STAGED_FILES).map((to) => ({ from: path.join(stagingDir, "packages", "p", to), to }));
  return { parent, target, names, stagingDir, placements };
}

const expectedAfter = async () => {
  const scratch = path.join(work.dir, `expected-${++counter}`);
  await writeTree(scratch, { "keep.txt": BEFORE_FILES["keep.txt"]!, ...STAGED_FILES });
  return snapshot(scratch);
};

/** Operations that stop working for good after `limit` of them: a process killed at that point. */
class Dying implements CommitFs {
  count = 0;
  constructor(private readonly limit: number) {}
  private step(): void {
    if (this.count++ >= this.limit) throw Object.assign(new Error("the process died here"), { code: "EDIED" });
  }
  rename = async (from: string, to: string) => {
    this.step();
    await rename(from, to);
  };
  mkdir = async (dir: string) => {
    this.step();
    await mkdir(dir);
  };
  rmdir = async (dir: string) => {
    this.step();
    await rmdir(dir);
  };
}

function failingOnce(at: number, code: string): CommitFs {
  let count = 0;
  const check = () => {
    if (count++ === at) throw Object.assign(new Error(`${code}: simulated`), { code });
  };
  return {
    rename: async (from, to) => (check(), rename(from, to)),
    mkdir: async (dir) => (check(), mkdir(dir)),
    rmdir: async (dir) => (check(), rmdir(dir)),
  };
}

const quiet = () => new Reporter({ stream: new PassThrough() as unknown as NodeJS.WriteStream, color: false });
const exists = (file: string) => lstat(file).then(() => true, () => false);

describe("a commit that changes paths' types", () => {
  test("removes the old files, the folders they emptied, creates folders where files were, and places the new files", async () => {
    const s = await scene();
    await commit(s.names, s.stagingDir, s.placements, { removals: REMOVED });
    assert.deepEqual(await snapshot(s.target), await expectedAfter());
    assert.ok((await lstat(path.join(s.target, "pkg"))).isFile());
    assert.ok((await lstat(path.join(s.target, "lib", "cfgdata"))).isDirectory());
    assert.equal(await exists(s.names.journal), false);
  });

  test("a process that dies at any step, and again at any step of the next run's roll-back, loses nothing", async (t) => {
    const counting = new Dying(Number.POSITIVE_INFINITY);
    const probe = await scene();
    // Every scene is written alike: the state each must be rolled back to is this one.
    const beforeState = await snapshot(probe.target);
    await commit(probe.names, probe.stagingDir, probe.placements, { removals: REMOVED, fs: counting });
    const total = counting.count;
    // 5 file removals, 5 placements, 4 folders removed before (pkg/sub/deeper, pkg/sub, pkg) and 4 created (cfg, cfg/b, lib/cfgdata).
    assert.ok(total >= 15, `a commit of ${total} operations`);
    let combinations = 0;
    for (let killAt = 0; killAt < total; killAt++) {
      // Each step of the roll-back, and then none: the loop ends with the first roll-back that finishes
      // before its kill point, which is the roll-back that runs whole.
      for (let secondKillAt = 0; ; secondKillAt++) {
        assert.ok(secondKillAt <= total * 4, `the roll-back after a kill at ${killAt} ends`);
        combinations++;
        const s = await scene();
        const outcome = await commit(s.names, s.stagingDir, s.placements, { removals: REMOVED, fs: new Dying(killAt) }).then(() => "done", (error: unknown) => error);
        assert.ok(outcome instanceof MpipError && /run mpip again/.test(outcome.hint ?? ""), `killed at ${killAt}: ${String(outcome)}`);
        assert.ok((await readJournal(s.names)) !== undefined, "the journal survives the kill");
        const firstRollBack = new Dying(secondKillAt);
        await recoverInterrupted(s.names, quiet(), firstRollBack).catch(() => undefined);
        const warnings: string[] = [];
        const reporter = quiet();
        const warn = reporter.warn.bind(reporter);
        reporter.warn = (message) => {
          warnings.push(String(message));
          warn(message);
        };
        await recoverInterrupted(s.names, reporter);
        assert.deepEqual(await snapshot(s.target), beforeState, `killed at step ${killAt}, then the roll-back at step ${secondKillAt}`);
        assert.ok(!warnings.some((message) => message.startsWith("kept ")), `nothing is left as another run wrote it: ${warnings.join("; ")}`);
        assert.equal(await exists(s.names.journal), false);
        // Dying counts the step it refuses: a count within the limit is a roll-back that ran whole.
        if (firstRollBack.count <= secondKillAt) break;
      }
    }
    t.diagnostic(`${total} kill points in a commit of ${total} operations, ${combinations} pairs of (commit kill, roll-back kill) points`);
  });

  test("a failing disk at any step leaves the target as it was", async () => {
    const counting = new Dying(Number.POSITIVE_INFINITY);
    const probe = await scene();
    const beforeState = await snapshot(probe.target);
    await commit(probe.names, probe.stagingDir, probe.placements, { removals: REMOVED, fs: counting });
    for (let at = 0; at < counting.count; at++) {
      const s = await scene();
      const error = await commit(s.names, s.stagingDir, s.placements, { removals: REMOVED, fs: failingOnce(at, "ENOSPC") }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof MpipError, `ENOSPC at ${at}: ${String(error)}`);
      assert.match(error.message, /rolled back, nothing was changed \(ENOSPC/);
      assert.deepEqual(await snapshot(s.target), beforeState, `ENOSPC at ${at}`);
      assert.equal(await exists(s.names.journal), false);
    }
  });

  test("a folder mpip may not write, where a file becomes a folder: rolled back cleanly, the file it never moved left alone, no journal left", async () => {
    const s = await scene();
    const beforeState = await snapshot(s.target);
    // As a folder without write permission for a user that is not root: every change inside `lib` is refused.
    const locked = path.join(s.target, "lib");
    const refuse = (...paths: string[]) => {
      if (paths.some((file) => path.dirname(file) === locked)) throw Object.assign(new Error("EACCES: simulated"), { code: "EACCES" });
    };
    const readOnlyLib: CommitFs = {
      rename: async (from, to) => (refuse(from, to), rename(from, to)),
      mkdir: async (dir) => (refuse(dir), mkdir(dir)),
      rmdir: async (dir) => (refuse(dir), rmdir(dir)),
    };
    const error = await commit(s.names, s.stagingDir, s.placements, { removals: REMOVED, fs: readOnlyLib }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof MpipError, String(error));
    assert.match(error.message, /rolled back, nothing was changed \(EACCES/);
    assert.deepEqual(await snapshot(s.target), beforeState);
    assert.equal(await exists(s.names.journal), false);
  });

  test("a folder that still holds a file the commit does not remove is refused, naming that file (and its package)", async () => {
    for (const [extra, owners, blocker, hint] of [
      [{ "pkg/sub/deeper/notes.txt": "mine" }, new Map<string, string>(), "pkg/sub/deeper/notes.txt", /move `pkg\/sub\/deeper\/notes\.txt` out of `pkg`/],
      [{ "pkg/other.py": "O" }, new Map([["pkg/other.py", "Other-Pkg"]]), "pkg/other.py", /uninstall `Other-Pkg` first, or install into another target/],
    ] as const) {
      const s = await scene(extra);
      const beforeState = await snapshot(s.target);
      const error = await commit(s.names, s.stagingDir, s.placements, { removals: REMOVED, owners }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof MpipError, String(error));
      assert.ok(error.message.startsWith(`cannot install \`pkg\`: the folder \`pkg\` in \`${s.target}\` still holds \`${blocker}\``), error.message);
      assert.match(error.hint ?? "", hint);
      assert.deepEqual(await snapshot(s.target), beforeState);
      assert.equal(await exists(s.names.journal), false);
    }
  });

  test("a file the commit does not remove where a folder is needed is refused; a removal below a file is passed over", async () => {
    const s = await scene();
    const error = await commit(s.names, s.stagingDir, s.placements, { removals: REMOVED.filter((file) => file !== "cfg"), owners: new Map([["cfg", "cfg-owner"]]) }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof MpipError, String(error));
    assert.match(error.message, /^cannot install `cfg\/(a\.py|b\/c\.py)`: `cfg` in `.*` is a file, where a folder is needed; nothing was changed$/);
    assert.match(error.hint ?? "", /`cfg` is a file of `cfg-owner` \(by its record\): uninstall `cfg-owner` first/);
    // A record listing `keep.txt/x.py`: nothing there to remove, and no error.
    const t = await scene();
    await commit(t.names, t.stagingDir, t.placements, { removals: [...REMOVED, "keep.txt/x.py"] });
    assert.deepEqual(await snapshot(t.target), await expectedAfter());
  });

  test("the journal of an older mpip (version 3: folders created first, then the steps) still rolls back", async () => {
    const s = await scene();
    const staging = path.basename(s.stagingDir);
    // A version-3 uninstall killed after its first removal and the removal of the folder it emptied.
    await mkdir(path.join(s.stagingDir, "backup"), { recursive: true });
    await rename(path.join(s.target, "pkg", "sub", "deeper", "y.py"), path.join(s.stagingDir, "backup", "0"));
    await rmdir(path.join(s.target, "pkg", "sub", "deeper"));
    const journal = { mpip: 3, pid: 1, since: "2025-01-01T00:00:00.000Z", staging, dirs: [], steps: [{ to: "pkg/sub/deeper/y.py", remove: true }, { to: "pkg/sub/x.py", remove: true }], emptied: ["pkg/sub/deeper", "pkg/sub", "pkg"] };
    await writeFile(s.names.journal, JSON.stringify(journal));
    await recoverInterrupted(s.names, quiet());
    assert.equal(await readFile(path.join(s.target, "pkg", "sub", "deeper", "y.py"), "utf8"), "Y = 1\n");
    assert.equal(await exists(s.names.journal), false);
  });

  test("on a filesystem that folds names (FAT), a folder spelled `Pkg/` gives way to a file `pkg`, and a kill at any step gives it back under its own spelling", async () => {
    const make = async () => {
      const parent = path.join(work.dir, `fat-${++counter}`);
      const target = path.join(parent, "image");
      const names = besideLayout(target);
      const stagingDir = path.join(parent, names.stagingName(1, "0000fa70"));
      await writeTree(target, { "Pkg/x.py": "X = 1\n", "Pkg/Sub/y.py": "Y = 1\n", CFG: "old\n" });
      await writeTree(path.join(stagingDir, "packages", "p"), { pkg: "a file\n", "cfg/a.py": "A = 2\n" });
      const placements: Placement[] = ["pkg", "cfg/a.py"].map((to) => ({ from: path.join(stagingDir, "packages", "p", to), to }));
      return { parent, target, names, stagingDir, placements, removals: ["Pkg/x.py", "Pkg/Sub/y.py", "CFG"], fs: new FoldingFs(parent, FAT_RULES) };
    };
    const dying = (inner: FullCommitFs, limit: number): FullCommitFs & { count: number } => {
      const ops = { ...inner, count: 0 };
      const step = () => {
        if (ops.count++ >= limit) throw Object.assign(new Error("the process died here"), { code: "EDIED" });
      };
      ops.rename = async (from, to) => (step(), inner.rename(from, to));
      ops.mkdir = async (dir) => (step(), inner.mkdir(dir));
      ops.rmdir = async (dir) => (step(), inner.rmdir(dir));
      return ops;
    };
    const probe = await make();
    const beforeState = await snapshot(probe.target);
    const counting = dying(probe.fs, Number.POSITIVE_INFINITY);
    await commit(probe.names, probe.stagingDir, probe.placements, { removals: probe.removals, fs: counting });
    assert.deepEqual(Object.keys(await snapshot(probe.target)).sort(), ["cfg/", "cfg/a.py", "pkg"]);
    for (let killAt = 0; killAt < counting.count; killAt++) {
      const s = await make();
      await commit(s.names, s.stagingDir, s.placements, { removals: s.removals, fs: dying(s.fs, killAt) }).catch(() => undefined);
      await recoverInterrupted(s.names, quiet(), s.fs);
      assert.deepEqual(await snapshot(s.target), beforeState, `killed at step ${killAt}`);
    }
  });
});
