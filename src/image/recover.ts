// Undoing a commit from its journal, and cleaning up after runs that were killed.
//
// Each file step of a commit is "move what is at the destination to backup/<step> (if anything), then
// move the staged file in" (a removal step only does the first), all renames; each folder step creates
// or removes one folder. So what the disk shows says how far a step got, without trusting any record
// of it, and each is undone in the reverse order of the commit (journal.ts `actions`):
//   staged file gone, destination holds the new file   → move the new file back to staging
//   backup present, destination empty                  → move the old file back
//   a folder the commit created                        → removed, if empty
//   a folder the commit removed                        → created again
// "The new file" is checked by size and sha256 (from the journal): a file another install put there
// since (a run on a folder holding this target, after this one was killed) is left alone, and so is the
// backup that would have replaced it. Undoing steps this way is idempotent, so a roll-back that is
// itself killed is simply run again. A removed file whose place is taken (by another run's file) is
// left as that run wrote it, and said, like a placement's.

import type { Stats } from "node:fs";
import path from "node:path";
import { isInside, joinInside } from "../archive/entry-path.js";
import { MpipError } from "../errors.js";
import type { Reporter } from "../log.js";
import { printable } from "../text.js";
import { completeFs, removeIfEmpty, type CommitFs, type FullCommitFs, sha256Hex } from "./fs-ops.js";
import { errnoCode, ioHint } from "./io-error.js";
import { actions, readJournal, removeJournal, stepPaths, syncDir, type Journal, type JournalStep } from "./journal.js";
import { recordedOperation, words, type TargetOperation } from "./operation.js";
import type { TargetLayout } from "./layout.js";
import type { Found } from "./overlap.js";
import { isLeftStaging, removeLeftStaging } from "./staging.js";
import { testDelay } from "./test-delay.js";

/**
 * Puts the target back as it was before the journal's commit, undoing its actions (journal.ts
 * `actions`) in reverse order. Returns the paths it left as another run wrote them. Throws the first
 * failure, after trying every action.
 */
export async function rollBack(journal: Journal, layout: TargetLayout, fs: CommitFs = completeFs()): Promise<string[]> {
  const ops = completeFs(fs);
  const staging = path.join(layout.home, journal.staging);
  if (!(await exists(ops, staging))) {
    const said = words(journalOperation(journal));
    throw new MpipError("io", `cannot undo the interrupted ${said.runOn} \`${layout.target}\`: its staging folder \`${staging}\`, which holds the files it replaced, is gone`, {
      hint: `check \`${layout.target}\` by hand, then remove \`${layout.journal}\``,
    });
  }
  const guarded = await journalGuard(journal, layout, ops);
  let failure: unknown;
  const leftAlone: string[] = [];
  for (const action of actions(journal).reverse()) {
    try {
      switch (action.kind) {
        case "place": {
          const paths = stepPaths(journal, layout, action.index);
          if (paths.from !== undefined && !(await exists(ops, paths.from)) && (await exists(ops, paths.to))) {
            if (await isOurs(ops, paths.to, action.step)) await guarded.rename(paths.to, paths.from);
            else leftAlone.push(action.step.to);
          }
          if ((await exists(ops, paths.backup)) && !(await exists(ops, paths.to)) && !(await exists(ops, paths.restore))) await guarded.rename(paths.backup, paths.restore);
          break;
        }
        case "remove": {
          const paths = stepPaths(journal, layout, action.index);
          if (!(await exists(ops, paths.backup))) break;
          // Its place is taken (by what another run wrote there since, or a folder that could not be
          // removed again): that stays, as for a placement whose file is not this commit's.
          if ((await exists(ops, paths.to)) || !(await isFolder(ops, path.dirname(paths.to)))) leftAlone.push(action.step.to);
          else await guarded.rename(paths.backup, paths.restore);
          break;
        }
        case "make-folder": {
          // Removed only when empty: a folder that holds anything (a file another run wrote) stays. And
          // only a folder: a file at its path is the one the commit had not yet moved away when it stopped
          // (a path that changes from file to folder), never made by it; in a folder mpip may not write,
          // removing it would fail for want of permission and leave the roll-back undone for good.
          const dir = path.join(layout.target, action.dir);
          if ((await lookAt(ops, dir))?.isDirectory() !== true) break;
          await removeIfEmpty(ops, dir, (folder) => guarded.rmdir(folder));
          break;
        }
        case "remove-folder": {
          // Created again (parents come first in this order), so that removed files have somewhere to return to.
          const dir = path.join(layout.target, action.dir);
          await guarded.mkdir(dir).catch(async (error: unknown) => {
            if (errnoCode(error) !== "EEXIST") throw error;
            if (!(await isFolder(ops, dir))) leftAlone.push(action.dir);
          });
          break;
        }
      }
    } catch (error) {
      failure ??= error;
    }
    if (action.kind === "place" || action.kind === "remove") await testDelay();
  }
  if (failure !== undefined) throw failure;
  await syncDir(layout.target);
  return leftAlone;
}

/** The operation a journal's commit was part of (an install, for journals of older mpip versions). */
function journalOperation(journal: Journal): TargetOperation {
  return recordedOperation(journal.operation);
}

async function isFolder(fs: FullCommitFs, dir: string): Promise<boolean> {
  return fs.lstat(dir).then((info) => info.isDirectory(), () => false);
}

/**
 * Whether the file at `file` is the one the step put there, by the size and sha256 the journal gives. A
 * step with none (journals of version 1, or a journal mpip did not write) proves nothing: its file is
 * left where it is, and said, rather than moved into the staging folder that is removed next.
 */
async function isOurs(fs: FullCommitFs, file: string, step: JournalStep): Promise<boolean> {
  if (step.sha256 === undefined) return false;
  const info = await fs.lstat(file);
  if (!info.isFile() || info.size !== step.size) return false;
  return sha256Hex(await fs.readFile(file)) === step.sha256;
}

/**
 * If a run was killed during its commit into `layout`'s target, rolls that commit back and says so.
 * Call only while no run on an overlapping target can be committing (the lock, see lock.ts).
 */
export async function recoverInterrupted(layout: TargetLayout, reporter: Reporter, fs?: CommitFs): Promise<void> {
  const journal = await readJournal(layout);
  if (journal === undefined) return;
  let leftAlone: string[];
  try {
    leftAlone = await rollBack(journal, layout, fs);
  } catch (error) {
    if (error instanceof MpipError) throw error;
    throw new MpipError("io", `found an ${words(journalOperation(journal)).runOn} \`${layout.target}\` that was interrupted during its commit, and could not undo it (${errnoCode(error) ?? String(error)})`, {
      cause: error,
      hint: `${ioHint(error, `make \`${layout.target}\` writable`)}. The journal \`${layout.journal}\` is kept until the undo succeeds: the next run of mpip on the target finishes it`,
    });
  }
  await removeJournal(layout);
  reporter.warn(`an earlier mpip (pid ${journal.pid}, started ${printable(journal.since)}) was stopped while it was changing \`${layout.target}\`; rolled that ${words(journalOperation(journal)).noun} back, so the folder is as it was before it`);
  if (leftAlone.length > 0) {
    reporter.warn(`kept ${leftAlone.map((file) => `\`${printable(file)}\``).join(", ")} in \`${layout.target}\` as a later install wrote ${leftAlone.length === 1 ? "it" : "them"}, rather than putting back the stopped install's version`);
  }
}

/**
 * Rolls back every interrupted commit of a target overlapping this one (in either layout), newest
 * first, so that no half-done commit of another run lies in the files this run is about to change.
 */
export async function recoverOverlapping(journals: Found[], reporter: Reporter, fs?: CommitFs): Promise<void> {
  const dated: Array<{ layout: TargetLayout; since: string }> = [];
  for (const found of journals) {
    const journal = await readJournal(found.layout);
    if (journal !== undefined) dated.push({ layout: found.layout, since: journal.since });
  }
  dated.sort((a, b) => (a.since < b.since ? 1 : a.since > b.since ? -1 : 0));
  for (const { layout } of dated) await recoverInterrupted(layout, reporter, fs);
}

/**
 * Removes the staging folders killed runs left in `layout`'s home (never one that lacks mpip's marker
 * for this target, or whose run is still going), and what those runs started. Call with the lock held.
 */
export async function sweepLeftovers(layout: TargetLayout, reporter: Reporter, others: Found[] = []): Promise<void> {
  const entries = await completeFs().readdir(layout.home).catch(() => [] as string[]);
  const candidates = [
    ...entries.filter((name) => layout.isStagingName(name)).sort().map((name) => ({ dir: path.join(layout.home, name), layout })),
    ...others.map((found) => ({ dir: found.file, layout: found.layout })),
  ];
  for (const { dir, layout: owner } of candidates) {
    if (!(await isLeftStaging(dir, owner))) continue;
    await removeLeftStaging(dir);
    reporter.info(`Removed \`${printable(path.basename(dir))}\` in \`${owner.home}\`, left by an mpip run that was stopped`);
  }
}

/**
 * A journal comes with the folder it lies in (an image copied, unpacked or cloned from elsewhere can carry
 * one, and links beside it), so a roll-back moves nothing it has not checked:
 * - its staging folder must be one of mpip's for this target (by name) and a real folder, not a link;
 * - nothing on the way to a path it names (a step's file, its staged copy or backup, a folder the commit
 *   made or removed) may be a link, in the target or in the staging folder: a rename through one would
 *   move files into or out of a place outside both. Checked for every path before anything moves, and
 *   again for both ends of every move, since a move (a link put back from a backup) can make a path that
 *   was clear lead through a link.
 * Returns the operations, their moves and folder changes so checked. @throws MpipError `unsafe-path`, with nothing moved.
 */
async function journalGuard(journal: Journal, layout: TargetLayout, fs: FullCommitFs): Promise<FullCommitFs> {
  const staging = path.join(layout.home, journal.staging);
  const said = words(journalOperation(journal));
  const hint = `this journal may not be mpip's (a folder copied from elsewhere can carry one): check \`${layout.target}\`, then remove \`${layout.journal}\` and \`${staging}\``;
  const refuse = (where: string, link: string) =>
    new MpipError("unsafe-path", `the journal \`${layout.journal}\` of an interrupted ${said.runOn} \`${layout.target}\` names \`${printable(where)}\`, which lies through the link \`${printable(link)}\`; mpip moves nothing through links, so it cannot undo that ${said.noun}`, { hint });
  if (!layout.isStagingName(journal.staging)) {
    throw new MpipError("unsafe-path", `the journal \`${layout.journal}\` of an interrupted ${said.runOn} \`${layout.target}\` names \`${printable(journal.staging)}\` as its staging folder, which is no name mpip gives one; mpip moves nothing into it, so it cannot undo that ${said.noun}`, { hint });
  }
  if (!(await fs.lstat(staging)).isDirectory()) throw refuse(staging, staging);
  /** Refuses `full` when a folder on its way from `base` (`self`: or `full` itself) is a link. */
  const check = async (base: string, full: string, self = false) => {
    const parts = path.relative(base, full).split(path.sep).filter((part) => part !== "");
    let at = base;
    for (const part of self ? parts : parts.slice(0, -1)) {
      at = path.join(at, part);
      const found = await lookAt(fs, at);
      if (found === undefined) return;
      if (found.isSymbolicLink()) throw refuse(full, at);
      // Nothing deeper exists, or a file stands there (a commit that changes a path's type, half undone): nothing to go through.
      if (!found.isDirectory()) return;
    }
  };
  const base = (full: string) => (isInside(staging, full, path.sep) ? staging : layout.target);
  for (const [index, step] of journal.steps.entries()) {
    const paths = stepPaths(journal, layout, index);
    for (const full of [paths.to, paths.from, paths.backup, paths.restore]) if (full !== undefined) await check(base(full), full);
  }
  for (const dir of [...journal.dirs, ...(journal.emptied ?? []), ...(journal.cleared ?? [])]) await check(layout.target, joinInside(layout.target, dir), true);
  return {
    ...fs,
    rename: async (from, to) => {
      await check(base(from), from);
      await check(base(to), to);
      await fs.rename(from, to);
    },
    mkdir: async (dir) => {
      await check(base(dir), dir);
      return fs.mkdir(dir);
    },
    rmdir: async (dir) => {
      await check(base(dir), dir);
      await fs.rmdir(dir);
    },
  };
}

async function exists(fs: FullCommitFs, file: string): Promise<boolean> {
  return (await lookAt(fs, file)) !== undefined;
}

/** What is at `file` (not following a link), or undefined where nothing is; other failures are thrown. */
async function lookAt(fs: FullCommitFs, file: string): Promise<Stats | undefined> {
  return fs.lstat(file).catch((error: unknown) => {
    // ENOTDIR: a file stands where the path needs a folder, so nothing is at the path itself.
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return undefined;
    throw error;
  });
}
