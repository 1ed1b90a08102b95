// The commit and its roll-back, in-process, against a real folder: every point where a commit can be
// cut short (a failing disk, or a process that dies), and every point where the roll-back after it can be
// cut short too, ends with the target exactly as before (or, for a commit that finished, as after).

import assert from "node:assert/strict";
import { lstat, mkdir, readdir, rename, rmdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { Reporter } from "../../src/log.js";
import { commit, type Placement } from "../../src/image/commit.js";
import type { CommitFs } from "../../src/image/fs-ops.js";
import { readJournal } from "../../src/image/journal.js";
import { recoverInterrupted } from "../../src/image/recover.js";
import { besideLayout } from "../../src/image/layout.js";
import { snapshot, tempDir } from "../helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-commit-");
});
after(async () => {
  await work.cleanup();
});

const BEFORE_FILES: Record<string, string> = {
  "keep.txt": "the user's own file",
  "a.py": "A = 'old'\n",
  "pkg/__init__.py": "# old pkg\n",
  "pkg/old.py": "OLD = 1\n",
};
const STAGED_FILES: Record<string, string> = {
  "a.py": "A = 'new'\n",
  "b.py": "B = 1\n",
  "pkg/__init__.py": "# new pkg\n",
  "pkg/new.py": "NEW = 1\n",
  "fresh/sub/deep.py": "DEEP = 1\n",
  "fresh/top.py": "TOP = 1\n",
};

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
}

/** A target with BEFORE_FILES and a staging folder holding STAGED_FILES, in a parent of its own. */
async function scene(options: { targetExists?: boolean } = {}) {
  const parent = path.join(work.dir, `scene-${++counter}`);
  const target = path.join(parent, "image");
  const names = besideLayout(target);
  const stagingDir = path.join(parent, names.stagingName(1, "0000cafe"));
  if (options.targetExists ?? true) await writeTree(target, BEFORE_FILES);
  else await mkdir(parent, { recursive: true });
  await writeTree(path.join(stagingDir, "packages", "p"), STAGED_FILES);
  const placements: Placement[] = Object.keys(STAGED_FILES).map((to) => ({ from: path.join(stagingDir, "packages", "p", to), to }));
  return { parent, target, names, stagingDir, placements };
}

const expectedAfter = async (targetExists = true) => {
  const scratch = path.join(work.dir, `expected-${++counter}`);
  if (targetExists) await writeTree(scratch, BEFORE_FILES);
  await writeTree(scratch, STAGED_FILES);
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

/** Operations where exactly one (the `at`-th) fails with `code`, as a full or read-only disk would. */
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

async function opsOfACleanCommit(targetExists: boolean): Promise<number> {
  const s = await scene({ targetExists });
  const counting = new Dying(Number.POSITIVE_INFINITY);
  await commit(s.names, s.stagingDir, s.placements, { fs: counting });
  return counting.count;
}

describe("commit", () => {
  test("moves every staged file in and leaves no journal", async () => {
    const s = await scene();
    await commit(s.names, s.stagingDir, s.placements);
    assert.deepEqual(await snapshot(s.target), await expectedAfter());
    assert.equal(await exists(s.names.journal), false);
    // The replaced files wait in the staging folder's backup/, named by step number, until the caller removes it.
    assert.deepEqual((await readdir(path.join(s.stagingDir, "backup"))).sort(), ["0", "2"]);
  });

  for (const targetExists of [true, false]) {
    test(`a failure at any step (full disk, read-only) leaves the target as it was (${targetExists ? "existing" : "new"} target)`, async () => {
      const total = await opsOfACleanCommit(targetExists);
      assert.ok(total >= 8, `expected a commit of several steps, got ${total}`);
      for (const code of ["ENOSPC", "EROFS", "EACCES"]) {
        for (let at = 0; at < total; at++) {
          const s = await scene({ targetExists });
          const before = await snapshot(s.target);
          const error = await commit(s.names, s.stagingDir, s.placements, { fs: failingOnce(at, code) }).then(() => undefined, (e: unknown) => e);
          assert.ok(error instanceof MpipError, `${code} at step ${at}: ${String(error)}`);
          assert.equal(error.code, "io");
          assert.match(error.message, new RegExp(`rolled back, nothing was changed \\(${code}`));
          if (code === "ENOSPC") assert.match(error.hint ?? "", /disk is full/);
          if (code === "EROFS") assert.match(error.hint ?? "", /read-only/);
          assert.deepEqual(await snapshot(s.target), before, `${code} at step ${at}`);
          assert.equal(await exists(s.target), targetExists, `${code} at step ${at}: a target that did not exist is not left behind`);
          assert.equal(await exists(s.names.journal), false);
        }
      }
    });
  }

  test("a process that dies at any step, and again at any step of the next run's roll-back, loses nothing", async (t) => {
    const total = await opsOfACleanCommit(true);
    let combinations = 0;
    for (let killAt = 0; killAt <= total; killAt++) {
      // How many operations the roll-back after this kill takes, so every one of them is a kill point too.
      const probe = await scene();
      await commit(probe.names, probe.stagingDir, probe.placements, { fs: new Dying(killAt) }).catch(() => undefined);
      const rollBackOps = new Dying(Number.POSITIVE_INFINITY);
      await recoverInterrupted(probe.names, quiet(), rollBackOps);
      for (let secondKillAt = 0; secondKillAt <= rollBackOps.count; secondKillAt++) {
        combinations++;
        const s = await scene();
        const before = await snapshot(s.target);
        const outcome = await commit(s.names, s.stagingDir, s.placements, { fs: new Dying(killAt) }).then(() => "done", (e: unknown) => e);
        if (killAt === total) {
          assert.equal(outcome, "done");
          assert.deepEqual(await snapshot(s.target), await expectedAfter());
          continue;
        }
        if (outcome instanceof MpipError && /rolled back, nothing was changed/.test(outcome.message)) {
          // Killed before it changed anything the roll-back must undo: the roll-back needed no step that
          // dies (it removes only folders the commit made), so it finished in the same process.
          assert.deepEqual(await snapshot(s.target), before, `killed at step ${killAt}, rolled back at once`);
          assert.equal(await exists(s.names.journal), false);
          continue;
        }
        // Killed mid-commit: the roll-back in the same process died too, so the journal is left.
        assert.ok(outcome instanceof MpipError && /run mpip again/.test(outcome.hint ?? ""), String(outcome));
        assert.ok((await readJournal(s.names)) !== undefined, "the journal survives the kill");
        await recoverInterrupted(s.names, quiet(), new Dying(secondKillAt)).catch(() => undefined);
        await recoverInterrupted(s.names, quiet());
        assert.deepEqual(await snapshot(s.target), before, `killed at step ${killAt}, then the roll-back at step ${secondKillAt}`);
        assert.equal(await exists(s.names.journal), false);
      }
    }
    t.diagnostic(`${total + 1} kill points in a commit of ${total} steps, ${combinations} pairs of (commit kill, roll-back kill) points`);
    assert.ok(combinations > 50, `tried ${combinations} pairs of kill points`);
  });

  test("a file where a folder is needed is refused before anything changes", async () => {
    const s = await scene();
    await writeFile(path.join(s.target, "fresh"), "a file, not a folder");
    const before = await snapshot(s.target);
    await assert.rejects(commit(s.names, s.stagingDir, s.placements), (error: unknown) => {
      assert.ok(error instanceof MpipError);
      assert.match(error.message, /cannot install `fresh\/(top|sub\/deep)\.py`: `fresh` in `.*image` is a file, where a folder is needed; nothing was changed/);
      return true;
    });
    assert.deepEqual(await snapshot(s.target), before);
    assert.equal(await exists(s.names.journal), false);
  });

  test("a folder where a file goes, and a link where a folder is needed, are refused before anything changes", async () => {
    const s = await scene();
    await mkdir(path.join(s.target, "b.py"));
    const before = await snapshot(s.target);
    await assert.rejects(commit(s.names, s.stagingDir, s.placements), /cannot install `b\.py`: a folder of that name exists/);
    assert.deepEqual(await snapshot(s.target), before);

    const t = await scene();
    await symlink(work.dir, path.join(t.target, "fresh"));
    await assert.rejects(commit(t.names, t.stagingDir, t.placements), /`fresh` in `.*` is a symbolic link, where a folder is needed/);
    assert.equal(await exists(t.names.journal), false);
  });

  test("a target that is a file is refused", async () => {
    const s = await scene({ targetExists: false });
    await writeFile(s.target, "not a folder");
    await assert.rejects(commit(s.names, s.stagingDir, s.placements), /cannot install into `.*image`: it is a file, not a folder/);
  });

  test("an aborted signal stops the commit and rolls it back", async () => {
    const s = await scene();
    const before = await snapshot(s.target);
    const controller = new AbortController();
    let renames = 0;
    const fs: CommitFs = {
      rename: async (from, to) => {
        if (++renames === 3) controller.abort("SIGTERM");
        await rename(from, to);
      },
      mkdir: (dir) => mkdir(dir),
      rmdir: (dir) => rmdir(dir),
    };
    await assert.rejects(commit(s.names, s.stagingDir, s.placements, { fs, signal: controller.signal }), (error: unknown) => {
      assert.ok(error instanceof MpipError);
      assert.equal(error.code, "interrupted");
      assert.match(error.message, /^interrupted by SIGTERM during the commit \(it was rolled back\); nothing was changed in `.*image`$/);
      return true;
    });
    assert.deepEqual(await snapshot(s.target), before);
    assert.equal(await exists(s.names.journal), false);
  });

  test("a damaged journal is an error that says what to do, and changes nothing", async () => {
    const s = await scene();
    await writeFile(s.names.journal, "{ not json");
    const before = await snapshot(s.target);
    await assert.rejects(recoverInterrupted(s.names, quiet()), (error: unknown) => {
      assert.ok(error instanceof MpipError);
      assert.match(error.message, /the commit journal `.*\.image\.mpip-journal` of an interrupted install into `.*image` is damaged/);
      assert.match(error.hint ?? "", /remove the journal/);
      return true;
    });
    assert.deepEqual(await snapshot(s.target), before);
  });

  test("a journal naming paths outside its folders is refused as damaged", async () => {
    const s = await scene();
    const journal = { mpip: 1, pid: 1, since: "", staging: path.basename(s.stagingDir), dirs: [], steps: [{ from: "packages/p/a.py", to: "../escape.py", backup: false }] };
    await writeFile(s.names.journal, JSON.stringify(journal));
    await assert.rejects(recoverInterrupted(s.names, quiet()), /is damaged/);
  });
});
