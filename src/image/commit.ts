// Moves staged files into the target and takes removed files out, all or none, in a way that survives
// being killed at any point.
//
// 1. Plan: look at the target once (the lock keeps other mpip runs out) and decide, before changing
//    anything, which files go, which folders go and come, and which files go where. What the target
//    holds is judged after the removals: a file they take away may give its path to a folder (`a/b`, a
//    file of the old version, where the new one has `a/b/c.py`), and a folder that held only files they
//    take away may give its path to a file (`pkg/` of the old version, a file `pkg` of the new one). A
//    file where a folder is needed, a folder where a file goes that still holds anything the change
//    does not remove (the error names that file), a link in the way, a folder on another filesystem (a
//    mount point inside the target) or one of mpip's own names is an error here, with nothing changed.
//    Destinations the target's filesystem takes for one file (`Mod.py` and `mod.py` on FAT:
//    name-rules.ts) become one step, so no file is ever backed up twice; each new file's size and
//    sha256 go into the plan.
// 2. Journal: write the plan and fsync it (journal.ts).
// 3. Apply, in this order: move each file the commit removes to the staging folder's `backup/<step>`;
//    remove the folders those removals emptied whose path a file needs (deepest first); create the
//    folders (parents first); for each file, move whatever is at its destination to `backup/<step>`,
//    then move the staged file in; then remove the other folders removals left empty. Every move is a
//    rename within one filesystem.
// 4. Remove the journal: the commit point. The caller then removes the staging folder and its backups.
//
// Any failure or interrupt during 3 rolls back from the journal (recover.ts), the same code a later
// run uses after kill -9; if even that fails, the journal stays and the next run finishes the job.
// Every message names the operation the run is doing (operation.ts): install, uninstall, sync. The plan
// (step 1) is commit-plan.ts.

import path from "node:path";
import { joinInside } from "../archive/entry-path.js";
import { MpipError } from "../errors.js";
import { FILE_JOBS, mapInOrder } from "../pool.js";
import { printable } from "../text.js";
import { plan, type Placement } from "./commit-plan.js";
import { completeFs, removeIfEmpty, type CommitFs, type FullCommitFs } from "./fs-ops.js";
import { interruptedError } from "./interrupt.js";
import { errnoCode, ioError } from "./io-error.js";
import { nextCheck } from "../event-loop.js";
import { makeDirs } from "./make-dirs.js";
import type { TargetLayout } from "./layout.js";
import { actions, isRemoveStep, removeJournal, stepPaths, syncDir, writeJournal, type CommitAction, type Journal } from "./journal.js";
import { widestFold } from "./name-rules.js";
import type { TargetOperation } from "./operation.js";
import { rollBack } from "./recover.js";
import { testDelay } from "./test-delay.js";

export type { Placement } from "./commit-plan.js";

export interface CommitOptions {
  signal?: AbortSignal;
  /**
   * Files of the target (relative, `/`-separated) the commit removes: moved to the backup like a file a
   * placement replaces, and put back by a roll-back. One that is not there, is a folder, or lies below a
   * file is passed over; one the filesystem takes for a placement's destination is that placement's to
   * replace. Folders they leave empty are removed too, and a folder they empty whose path a placement
   * needs for a file is removed before that file goes in; a file they remove where a placement needs a
   * folder makes way for that folder.
   */
  removals?: readonly string[];
  /** What the run is doing, named in every message (default `install`). */
  operation?: TargetOperation;
  /**
   * Files of the target that stay a package's (by its record), with that package's name: when one is in
   * the way of the change, the error names its package.
   */
  owners?: ReadonlyMap<string, string>;
  fs?: CommitFs;
}

/**
 * Decides a commit as `commit` does (step 1 of the header), changing nothing in the target: what
 * `install --dry-run` runs, so that it fails where the install would. Returns the files it would remove.
 * @throws MpipError as `commit` does before it changes anything (`io`, `unsafe-path`).
 */
export async function checkCommit(layout: TargetLayout, stagingDir: string, placements: Placement[], options: Omit<CommitOptions, "signal"> = {}): Promise<string[]> {
  return removedBy(await plan({ layout, stagingDir, fs: completeFs(options.fs), operation: options.operation ?? "install", owners: options.owners ?? new Map() }, placements, options.removals ?? []));
}

/**
 * Moves `placements` in and takes `options.removals` out of the target, all or none (see the header).
 * Returns the files it removed (`removedBy`).
 * @throws MpipError `io` (something in the way, nothing changed; or a failure, rolled back), `unsafe-path`,
 *   `interrupted` (the signal, rolled back).
 */
export async function commit(layout: TargetLayout, stagingDir: string, placements: Placement[], options: CommitOptions = {}): Promise<string[]> {
  const fs = completeFs(options.fs);
  const operation = options.operation ?? "install";
  const journal: Journal = {
    mpip: 4,
    operation,
    pid: process.pid,
    since: new Date().toISOString(),
    staging: path.basename(stagingDir),
    ...(await plan({ layout, stagingDir, fs, operation, owners: options.owners ?? new Map() }, placements, options.removals ?? [])),
  };
  options.signal?.throwIfAborted();
  await writeJournal(layout, stagingDir, journal);
  try {
    await apply(journal, layout, fs, options.signal);
  } catch (error) {
    try {
      await rollBack(journal, layout, fs);
      await removeJournal(layout);
    } catch (rollBackError) {
      throw new MpipError("io", `the commit into \`${layout.target}\` stopped half-way, and putting back what it had changed failed too (${errnoCode(rollBackError) ?? String(rollBackError)})`, {
        cause: error,
        hint: `run mpip again on \`${layout.target}\`: it finds the journal \`${layout.journal}\` and finishes putting the folder back`,
      });
    }
    if (options.signal?.aborted === true) throw interruptedError(options.signal, layout.target, " during the commit (it was rolled back)");
    if (error instanceof MpipError) throw error;
    throw ioError(`could not write into \`${layout.target}\`; it was rolled back, nothing was changed`, error, `check that \`${layout.target}\` is writable`);
  }
  await removeJournal(layout);
  return removedBy(journal);
}

/**
 * The removals a commit takes out: those of `options.removals` that are files in the target (a path
 * already gone, a folder, or one a placement writes again is no removal), target-relative.
 */
function removedBy(journal: Pick<Journal, "steps">): string[] {
  return journal.steps.filter(isRemoveStep).map((step) => step.to);
}

/**
 * How long the commit's blocking calls (fs-ops.ts `nodeFs`) may hold the event loop before they let it
 * run. A signal's handler runs only then: Ctrl-C, SIGTERM or SIGHUP during the commit of thousands of
 * files must find it half-way and roll it back (exit 130, 143, 129), not find it done once it ends.
 */
const HOLD_MS = 5;

async function apply(journal: Journal, layout: TargetLayout, fs: FullCommitFs, signal: AbortSignal | undefined): Promise<void> {
  const touched = new Set<string>([layout.target]);
  let heldSince = Date.now();
  let backupDir: Promise<unknown> | undefined;
  const backUp = async (from: string, backup: string) => {
    backupDir ??= makeDirs(path.dirname(backup));
    await backupDir;
    await fs.rename(from, backup);
  };
  const run = async (action: CommitAction): Promise<void> => {
    if (Date.now() - heldSince >= HOLD_MS) {
      await nextCheck();
      heldSince = Date.now();
    }
    signal?.throwIfAborted();
    switch (action.kind) {
      case "make-folder": {
        const dir = joinInside(layout.target, action.dir);
        await fs.mkdir(dir).catch((error: unknown) => {
          if (errnoCode(error) !== "EEXIST") throw error;
        });
        touched.add(path.dirname(dir));
        await testDelay("folder", signal);
        break;
      }
      case "remove-folder": {
        // A folder still holding something (a file of no package, written since the plan) stays; a file
        // that needs its path then finds it in the way, and the commit is rolled back.
        const dir = joinInside(layout.target, action.dir);
        if (await removeIfEmpty(fs, dir)) touched.add(path.dirname(dir));
        await testDelay("folder", signal);
        break;
      }
      case "remove": {
        const paths = stepPaths(journal, layout, action.index);
        if (await present(fs, paths.to)) await backUp(paths.to, paths.backup);
        touched.add(path.dirname(paths.to));
        await testDelay("commit", signal);
        break;
      }
      case "place": {
        const paths = stepPaths(journal, layout, action.index);
        // Whatever is there now is backed up, planned or not: a name the filesystem took for an earlier
        // step's file is that file, and the roll-back puts it back too. Never a folder: one there now
        // was not there when the commit was planned. Also in a folder this commit has just made: another
        // program may have written into it since, and its file must come back with a roll-back.
        const existing = await fs.lstatIfAny(paths.to);
        if (existing?.isDirectory() === true) {
          throw new MpipError("io", `a folder \`${printable(action.step.to)}\` appeared in \`${layout.target}\` while mpip was committing; it was rolled back, nothing was changed`, {
            hint: "something else is writing into the target: stop it, then run mpip again",
          });
        }
        if (existing !== undefined) await backUp(paths.to, paths.backup);
        await fs.rename(paths.from!, paths.to);
        touched.add(path.dirname(paths.to));
        await testDelay("commit", signal);
        break;
      }
    }
  };
  for (const batch of batches(actions(journal))) {
    // Each batch's actions are independent, each a few renames or one mkdir: they run side by side, and
    // all of them settle before the next batch (or a roll-back) starts. The roll-back reads how far each
    // step got from the disk, so any set of finished steps is one it undoes.
    if (batch.length === 1) await run(batch[0]![0]!);
    else await mapInOrder(batch, FILE_JOBS, async (chain) => {
      for (const action of chain) await run(action);
    });
  }
  // Past the last check, a signal finds the install complete: it stands, and mpip exits 0.
  signal?.throwIfAborted();
  // The folders' fsyncs side by side: all of them are done before the journal goes (the commit point).
  await mapInOrder([...touched], FILE_JOBS, syncDir);
}

/**
 * The commit's actions, in their order, cut into batches of chains: the actions of one batch may run side
 * by side, each chain's in its order. File steps (removals, then placements) are independent but for two
 * whose destinations any filesystem could take for one name (`Mod.py`, `mod.py`): those share a chain,
 * in journal order. Folders to create go a depth at a time (parents first); folders to remove one by
 * one (deepest first: each must be empty when its turn comes).
 */
function batches(list: readonly CommitAction[]): CommitAction[][][] {
  const result: CommitAction[][][] = [];
  let at = 0;
  while (at < list.length) {
    const first = list[at]!;
    let end = at + 1;
    if (first.kind === "remove" || first.kind === "place") {
      while (end < list.length && list[end]!.kind === first.kind) end++;
      const chains = new Map<string, CommitAction[]>();
      for (const action of list.slice(at, end)) {
        const key = widestFold((action as { step: { to: string } }).step.to);
        chains.set(key, [...(chains.get(key) ?? []), action]);
      }
      result.push([...chains.values()]);
    } else if (first.kind === "make-folder") {
      // Sorted by depth (stable: a folder's parent is shallower, so it still comes first), one batch a depth.
      while (end < list.length && list[end]!.kind === "make-folder") end++;
      const depth = (action: CommitAction) => {
        const { dir } = action as { dir: string };
        return dir === "" ? 0 : dir.split("/").length; // "": the target itself
      };
      const byDepth = new Map<number, CommitAction[][]>();
      for (const action of list.slice(at, end)) byDepth.set(depth(action), [...(byDepth.get(depth(action)) ?? []), [action]]);
      for (const level of [...byDepth.keys()].sort((a, b) => a - b)) result.push(byDepth.get(level)!);
    } else {
      result.push([[first]]);
    }
    at = end;
  }
  return result;
}

async function present(fs: FullCommitFs, file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}
