// The commit journal: what a commit is about to do to the target, written before it changes anything,
// so that a run killed half-way (kill -9, a crash) can be undone by the next one. (Against a power
// cut, the journal and the folders are fsynced, but the staged files themselves are not yet.)
//
// It lives at a fixed place beside the target (`.<name>.mpip-journal`, see siblings.ts), where the next
// run looks for it, and names the staging folder that holds the staged files and the backups. It is
// written whole into the staging folder, fsynced, renamed into place (atomic), and the parent folder
// fsynced, all before the first change to the target; it never changes after that. Its removal is the
// commit point: while it exists the install has not happened and is rolled back; once it is gone the
// install is complete. Steps are written so that the state of each is read off the disk (see
// recover.ts), which makes a roll-back safe to repeat after being interrupted itself.

import { open, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import * as v from "valibot";
import { MpipError } from "../errors.js";
import { errnoCode, ioError } from "./io-error.js";
import type { Siblings } from "./siblings.js";

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
  /** Whether a file was already there: it is moved to `backup/<to>` in the staging folder first. */
  backup: v.boolean(),
});

const JournalSchema = v.object({
  mpip: v.literal(1),
  pid: v.number(),
  since: v.string(),
  /** The staging folder's name, in the target's parent. */
  staging: v.pipe(v.string(), v.minLength(1), v.check((name) => !/[/\\\0]/.test(name) && name !== "." && name !== "..", "a plain folder name")),
  /** Folders the commit creates, relative to the target ("" is the target itself), parents first. */
  dirs: v.array(RelativePath),
  steps: v.array(StepSchema),
});

export type Journal = v.InferOutput<typeof JournalSchema>;
export type JournalStep = v.InferOutput<typeof StepSchema>;

/** Absolute paths of one step. */
export function stepPaths(journal: Journal, names: Siblings, step: JournalStep): { from: string; to: string; backup: string } {
  const staging = path.join(names.parent, journal.staging);
  return { from: path.join(staging, step.from), to: path.join(names.target, step.to), backup: path.join(staging, "backup", step.to) };
}

export async function writeJournal(names: Siblings, stagingDir: string, journal: Journal): Promise<void> {
  const draft = path.join(stagingDir, "journal.json");
  try {
    const handle = await open(draft, "wx");
    try {
      await handle.writeFile(`${JSON.stringify(journal)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(draft, names.journal);
  } catch (error) {
    throw ioError(`cannot write the commit journal for \`${names.target}\`; nothing was changed`, error, `make \`${names.parent}\` writable`);
  }
  await syncDir(names.parent);
}

/** The journal of an interrupted commit, or undefined when there is none. */
export async function readJournal(names: Siblings): Promise<Journal | undefined> {
  let text: string;
  try {
    text = await readFile(names.journal, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(`cannot read the commit journal \`${names.journal}\``, error, "check the permissions of the folder that holds the target");
  }
  let parsed: ReturnType<typeof v.safeParse<typeof JournalSchema>> | undefined;
  try {
    parsed = v.safeParse(JournalSchema, JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (parsed?.success !== true) {
    throw new MpipError("io", `the commit journal \`${names.journal}\` of an interrupted install into \`${names.target}\` is damaged, so mpip cannot tell how to undo that install`, {
      hint: `check \`${names.target}\` (its backups are in the \`.${path.basename(names.target)}.mpip-staging-*\` folder beside it), then remove the journal and that folder`,
    });
  }
  return parsed.output;
}

/** The commit point (or the end of a roll-back). */
export async function removeJournal(names: Siblings): Promise<void> {
  try {
    await unlink(names.journal);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw ioError(`cannot remove the commit journal \`${names.journal}\``, error, `make \`${names.parent}\` writable`);
  }
  await syncDir(names.parent);
}

/** Makes a folder's entries (created, renamed, removed files) durable. Best effort: not every system can open a folder. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot fsync a folder; a filesystem that refuses has nothing more to offer.
  }
}
