// Undoing a commit from its journal, and cleaning up after runs that were killed.
//
// Each step of a commit is "move the existing file to backup (if any), then move the staged file in",
// both renames, so what the disk shows says how far a step got, without trusting any record of it:
//   staged file present          → the new file was not moved in (yet, or any more)
//   staged file gone             → the target holds the new file: move it back to staging
//   backup present               → the old file is out of the target: move it back
// Undoing steps this way is idempotent, so a roll-back that is itself killed is simply run again.
// Folders the commit created are removed last, deepest first, and only if empty.

import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import type { Reporter } from "../log.js";
import { errnoCode } from "./io-error.js";
import { readJournal, removeJournal, stepPaths, syncDir, type Journal } from "./journal.js";
import { nodeFs, type CommitFs } from "./fs-ops.js";
import type { Siblings } from "./siblings.js";
import { testDelay } from "./test-delay.js";

/** Puts the target back as it was before the journal's commit. Throws the first failure, after trying every step. */
export async function rollBack(journal: Journal, names: Siblings, fs: CommitFs = nodeFs): Promise<void> {
  const staging = path.join(names.parent, journal.staging);
  if (!(await exists(staging))) {
    throw new MpipError("io", `cannot undo the interrupted install into \`${names.target}\`: its staging folder \`${staging}\`, which holds the files it replaced, is gone`, {
      hint: `check \`${names.target}\` by hand, then remove \`${names.journal}\``,
    });
  }
  let failure: unknown;
  for (const step of [...journal.steps].reverse()) {
    const paths = stepPaths(journal, names, step);
    try {
      if (!(await exists(paths.from)) && (await exists(paths.to))) await fs.rename(paths.to, paths.from);
      if (step.backup && (await exists(paths.backup))) await fs.rename(paths.backup, paths.to);
    } catch (error) {
      failure ??= error;
    }
    await testDelay();
  }
  for (const dir of [...journal.dirs].reverse()) {
    await fs.rmdir(path.join(names.target, dir)).catch((error: unknown) => {
      if (!["ENOENT", "ENOTEMPTY", "EEXIST"].includes(errnoCode(error) ?? "")) failure ??= error;
    });
  }
  if (failure !== undefined) throw failure;
  await syncDir(names.target);
}

/** If a run was killed during its commit, rolls that commit back and says so. Call with the lock held. */
export async function recoverInterrupted(names: Siblings, reporter: Reporter, fs: CommitFs = nodeFs): Promise<void> {
  const journal = await readJournal(names);
  if (journal === undefined) return;
  try {
    await rollBack(journal, names, fs);
  } catch (error) {
    if (error instanceof MpipError) throw error;
    throw new MpipError("io", `found an install into \`${names.target}\` that was interrupted during its commit, and could not undo it (${errnoCode(error) ?? String(error)})`, {
      cause: error,
      hint: `make \`${names.target}\` writable and run mpip again: the journal \`${names.journal}\` is kept until the undo succeeds`,
    });
  }
  await removeJournal(names);
  reporter.warn(`an earlier mpip (pid ${journal.pid}, started ${journal.since}) was stopped while it was changing \`${names.target}\`; rolled that install back, so the folder is as it was before it`);
}

/** Removes staging folders left by killed runs (never the journal's: recover first). Call with the lock held. */
export async function sweepLeftovers(names: Siblings, reporter: Reporter): Promise<void> {
  const entries = await readdir(names.parent).catch(() => [] as string[]);
  for (const entry of entries.filter((name) => name.startsWith(names.stagingPrefix)).sort()) {
    await rm(path.join(names.parent, entry), { recursive: true, force: true, maxRetries: 3 });
    reporter.info(`Removed \`${entry}\` beside \`${names.target}\`, left by an mpip run that was stopped`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}
