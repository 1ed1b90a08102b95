// Undoing a commit from its journal, and cleaning up after runs that were killed.
//
// Each step of a commit is "move what is at the destination to backup/<step> (if anything), then move
// the staged file in" (a removal step only does the first), all renames, so what the disk shows says how far a step got, without trusting
// any record of it:
//   staged file gone, destination holds the new file   → move the new file back to staging
//   backup present, destination empty                  → move the old file back
// "The new file" is checked by size and sha256 (from the journal): a file another install put there
// since (a run on a folder holding this target, after this one was killed) is left alone, and so is the
// backup that would have replaced it. Undoing steps this way is idempotent, so a roll-back that is
// itself killed is simply run again. Folders the commit created are removed last, deepest first, and
// only if empty.

import { createHash } from "node:crypto";
import path from "node:path";
import { MpipError } from "../errors.js";
import type { Reporter } from "../log.js";
import { printable } from "../text.js";
import { completeFs, type CommitFs, type FullCommitFs } from "./fs-ops.js";
import { errnoCode } from "./io-error.js";
import { isRemoveStep, readJournal, removeJournal, stepPaths, syncDir, type Journal, type JournalStep } from "./journal.js";
import type { TargetLayout } from "./layout.js";
import type { Found } from "./overlap.js";
import { isLeftStaging, removeLeftStaging } from "./staging.js";
import { testDelay } from "./test-delay.js";

/**
 * Puts the target back as it was before the journal's commit. Returns the destinations it left as
 * another install wrote them. Throws the first failure, after trying every step.
 */
export async function rollBack(journal: Journal, layout: TargetLayout, fs: CommitFs = completeFs()): Promise<string[]> {
  const ops = completeFs(fs);
  const staging = path.join(layout.home, journal.staging);
  if (!(await exists(ops, staging))) {
    throw new MpipError("io", `cannot undo the interrupted install into \`${layout.target}\`: its staging folder \`${staging}\`, which holds the files it replaced, is gone`, {
      hint: `check \`${layout.target}\` by hand, then remove \`${layout.journal}\``,
    });
  }
  let failure: unknown;
  const leftAlone: string[] = [];
  // Folders removals emptied come back first (parents first), so that removed files have somewhere to return to.
  for (const dir of [...(journal.emptied ?? [])].reverse()) {
    await ops.mkdir(path.join(layout.target, dir)).catch((error: unknown) => {
      if (errnoCode(error) !== "EEXIST") failure ??= error;
    });
  }
  for (let index = journal.steps.length - 1; index >= 0; index--) {
    const step = journal.steps[index]!;
    const paths = stepPaths(journal, layout, index);
    try {
      if (!isRemoveStep(step) && paths.from !== undefined && !(await exists(ops, paths.from)) && (await exists(ops, paths.to))) {
        if (await isOurs(ops, paths.to, step)) await ops.rename(paths.to, paths.from);
        else leftAlone.push(step.to);
      }
      if ((await exists(ops, paths.backup)) && !(await exists(ops, paths.to)) && !(await exists(ops, paths.restore))) await ops.rename(paths.backup, paths.restore);
    } catch (error) {
      failure ??= error;
    }
    await testDelay();
  }
  for (const dir of [...journal.dirs].reverse()) {
    await ops.rmdir(path.join(layout.target, dir)).catch((error: unknown) => {
      if (!["ENOENT", "ENOTEMPTY", "EEXIST"].includes(errnoCode(error) ?? "")) failure ??= error;
    });
  }
  if (failure !== undefined) throw failure;
  await syncDir(layout.target);
  return leftAlone;
}

/** Whether the file at `file` is the one the step put there (journals of version 1 carry no digest: assumed). */
async function isOurs(fs: FullCommitFs, file: string, step: JournalStep): Promise<boolean> {
  if (step.sha256 === undefined) return true;
  const info = await fs.lstat(file);
  if (!info.isFile() || info.size !== step.size) return false;
  return createHash("sha256").update(await fs.readFile(file)).digest("hex") === step.sha256;
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
    throw new MpipError("io", `found an install into \`${layout.target}\` that was interrupted during its commit, and could not undo it (${errnoCode(error) ?? String(error)})`, {
      cause: error,
      hint: `make \`${layout.target}\` writable and run mpip again: the journal \`${layout.journal}\` is kept until the undo succeeds`,
    });
  }
  await removeJournal(layout);
  reporter.warn(`an earlier mpip (pid ${journal.pid}, started ${printable(journal.since)}) was stopped while it was changing \`${layout.target}\`; rolled that install back, so the folder is as it was before it`);
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

async function exists(fs: FullCommitFs, file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}
