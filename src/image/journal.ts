// The commit journal: what a commit is about to do to the target, written before it changes anything,
// so that a run killed half-way (kill -9, a crash) can be undone by the next one. (Against a power
// cut, the journal and the folders are fsynced, but the staged files themselves are not yet.)
//
// It lives at a fixed place (`.<name>.mpip-journal` beside the target, or `.mpip-journal` inside it: see
// layout.ts), where the next run looks for it, and names the staging folder that holds the staged
// files and the backups. It is written whole into the staging folder, fsynced, renamed into place
// (atomic), and its folder fsynced, all before the first change to the target; it never changes after
// that. Its removal is the commit point: while it exists the install has not happened and is rolled
// back; once it is gone the install is complete. Steps are written so that the state of each is read
// off the disk (see recover.ts), which makes a roll-back safe to repeat after being interrupted itself.
//
// Version 2 names each step's backup by the step's number (`backup/<n>`), never by the file's name: on
// a filesystem that folds names, two names of one file would otherwise share one backup. It also
// records each new file's size and sha256, so a roll-back takes out only a file that is still the one
// this commit put there.
//
// Version 3 adds removal steps (`{to, remove: true}`: the file at `to` is moved to `backup/<n>`, and
// put back by a roll-back), and `emptied`: folders that removals may leave empty, removed after the
// steps when they are, and created again (parents first) before a roll-back puts files back into them.
//
// Version 4 lets a path change type: a file where the target had a folder, or a folder where it had a
// file (`pkg/` of one version, a file `pkg` of the next; `a/b` a file, then `a/b/c.py`). Its actions
// run in this order (see `actions`): the removal steps; `cleared`, the folders that held only files
// those removals took away and whose path a file now needs (deepest first); `dirs`, the folders to
// create (parents first), which may stand where a removed file stood; the placements; `emptied`. It
// also records the `operation` (install, uninstall, sync), so that the run that rolls it back names it.
// A roll-back undoes every action in the reverse order, each judged from what the disk shows.

import { close, closeSync, fsync, fsyncSync, open as fsOpen, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as v from "valibot";
import { MpipError } from "../errors.js";
import { joinInside } from "../archive/entry-path.js";
import { errnoCode, ioError } from "./io-error.js";
import type { TargetLayout } from "./layout.js";
import { recordedOperation, words } from "./operation.js";

/** A relative path with `/` separators that cannot leave the folder it is relative to ("" is the folder). */
const RelativePath = v.pipe(
  v.string(),
  v.check((text) => !text.startsWith("/") && !/[\\\0]/.test(text) && !/^[A-Za-z]:/.test(text) && !text.split("/").includes(".."), "a path that leaves its folder"),
);

const StepSchema = v.object({
  /** The staged file, relative to the staging folder. */
  from: v.pipe(RelativePath, v.minLength(1)),
  /** Where it goes, relative to the target. */
  to: v.pipe(RelativePath, v.minLength(1)),
  /** Whether a file was there when the commit was planned (the commit backs up whatever it finds). */
  backup: v.boolean(),
  /** The new file's size in bytes and sha256 (hex), to recognize it in the target (version 2). */
  size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  sha256: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))),
  /** The existing file's own spelling, where the filesystem found it under another one (version 2). */
  restoreAs: v.optional(v.pipe(RelativePath, v.minLength(1))),
});

/** A file of the target the commit removes (version 3): moved to `backup/<n>`, so a roll-back puts it back. */
const RemoveStepSchema = v.object({
  to: v.pipe(RelativePath, v.minLength(1)),
  remove: v.literal(true),
});

const JournalSchema = v.object({
  mpip: v.picklist([1, 2, 3, 4]),
  /** What the run was doing (version 4): `install`, `uninstall`, `sync`; read with `recordedOperation`. */
  operation: v.optional(v.pipe(v.string(), v.maxLength(40))),
  pid: v.number(),
  since: v.string(),
  /** The staging folder's name, in the layout's home folder. */
  staging: v.pipe(v.string(), v.minLength(1), v.check((name) => !/[/\\\0]/.test(name) && name !== "." && name !== "..", "a plain folder name")),
  /** Folders the commit creates, relative to the target ("" is the target itself), parents first. */
  dirs: v.array(RelativePath),
  steps: v.array(v.union([StepSchema, RemoveStepSchema])),
  /** Folders removals may leave empty, relative to the target, deepest first (version 3). */
  emptied: v.optional(v.array(v.pipe(RelativePath, v.minLength(1)))),
  /** Folders removed before any is created or any file placed, deepest first: a file takes their path (version 4). */
  cleared: v.optional(v.array(v.pipe(RelativePath, v.minLength(1)))),
});

export type Journal = v.InferOutput<typeof JournalSchema>;
export type JournalStep = v.InferOutput<typeof StepSchema>;
export type RemoveStep = v.InferOutput<typeof RemoveStepSchema>;

export function isRemoveStep(step: Journal["steps"][number]): step is RemoveStep {
  return "remove" in step;
}

/** One action of a commit, in the order the commit takes them. */
export type CommitAction =
  | { kind: "remove"; index: number; step: RemoveStep }
  | { kind: "place"; index: number; step: JournalStep }
  | { kind: "make-folder"; dir: string }
  | { kind: "remove-folder"; dir: string };

/**
 * Every action of the journal's commit, in the order it takes them (a roll-back takes them in reverse):
 * version 4 removes files, then the `cleared` folders, creates `dirs`, places files, removes `emptied`;
 * earlier versions created `dirs` first and took their steps in the order written.
 */
export function actions(journal: Journal): CommitAction[] {
  const steps = journal.steps.map((step, index): CommitAction => (isRemoveStep(step) ? { kind: "remove", index, step } : { kind: "place", index, step }));
  const make = journal.dirs.map((dir): CommitAction => ({ kind: "make-folder", dir }));
  const removeFolders = (dirs: readonly string[] | undefined) => (dirs ?? []).map((dir): CommitAction => ({ kind: "remove-folder", dir }));
  if (journal.mpip < 4) return [...make, ...steps, ...removeFolders(journal.emptied)];
  return [
    ...steps.filter((action) => action.kind === "remove"),
    ...removeFolders(journal.cleared),
    ...make,
    ...steps.filter((action) => action.kind === "place"),
    ...removeFolders(journal.emptied),
  ];
}

/** Absolute paths of step number `index` (`from` is undefined for a removal). */
export function stepPaths(journal: Journal, layout: TargetLayout, index: number): { from: string | undefined; to: string; backup: string; restore: string } {
  const step = journal.steps[index]!;
  // Each a plain join where the parts are plain (joinInside): a commit asks this of every step.
  const staging = joinInside(layout.home, journal.staging);
  const to = joinInside(layout.target, step.to);
  if (isRemoveStep(step)) return { from: undefined, to, backup: joinInside(staging, `backup/${index}`), restore: to };
  return {
    from: joinInside(staging, step.from),
    to,
    backup: journal.mpip === 1 ? path.join(staging, "backup", step.to) : joinInside(staging, `backup/${index}`),
    restore: step.restoreAs === undefined ? to : joinInside(layout.target, step.restoreAs),
  };
}

// The journal's calls block, as the commit's do (fs-ops.ts `nodeFs`): a few short calls, nothing to do meanwhile.

export async function writeJournal(layout: TargetLayout, stagingDir: string, journal: Journal): Promise<void> {
  const draft = path.join(stagingDir, "journal.json");
  try {
    const fd = openSync(draft, "wx");
    try {
      writeFileSync(fd, `${JSON.stringify(journal)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(draft, layout.journal);
  } catch (error) {
    throw ioError(`cannot write the commit journal for \`${layout.target}\`; nothing was changed`, error, `make \`${layout.home}\` writable`);
  }
  await syncDir(layout.home);
}

/** The journal of an interrupted commit, or undefined when there is none. */
export async function readJournal(layout: TargetLayout): Promise<Journal | undefined> {
  let text: string;
  try {
    text = await readFile(layout.journal, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(`cannot read the commit journal \`${layout.journal}\``, error, "check the permissions of the folder that holds it");
  }
  let parsed: ReturnType<typeof v.safeParse<typeof JournalSchema>> | undefined;
  try {
    parsed = v.safeParse(JournalSchema, JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (parsed?.success !== true) {
    // The operation, when the damage left it readable.
    const said = words(recordedOperation(/"operation":"(\w+)"/.exec(text)?.[1]));
    throw new MpipError("io", `the commit journal \`${layout.journal}\` of an interrupted ${said.runOn} \`${layout.target}\` is damaged, so mpip cannot tell how to undo that ${said.noun}`, {
      hint: `check \`${layout.target}\` (its backups are in the staging folder in \`${layout.home}\` named in the journal), then remove the journal and that folder`,
    });
  }
  return parsed.output;
}

/** The commit point (or the end of a roll-back). */
export async function removeJournal(layout: TargetLayout): Promise<void> {
  try {
    unlinkSync(layout.journal);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw ioError(`cannot remove the commit journal \`${layout.journal}\``, error, `make \`${layout.home}\` writable`);
  }
  await syncDir(layout.home);
}

/**
 * Makes a folder's entries (created, renamed, removed files) durable. Best effort: not every system can
 * open a folder. Not in a blocking call, unlike the commit's other calls: a flush waits on the device (a
 * USB stick or an SD card can take tens of milliseconds), and the commit's flushes run side by side.
 * Through fs's callbacks, not a FileHandle (no FileHandle object, no promise per call): for the 23
 * folders of a fresh 21-package image, 2.3 ms where 3.1 (medians of 40 runs each, a 2-core machine).
 */
export function syncDir(dir: string): Promise<void> {
  return new Promise((resolve) => {
    // Windows cannot fsync a folder; a filesystem that refuses has nothing more to offer.
    fsOpen(dir, "r", (openError, fd) => {
      if (openError !== null) return resolve();
      fsync(fd, () => close(fd, () => resolve()));
    });
  });
}
