// Moves staged files into the target, all or none, in a way that survives being killed at any point.
//
// 1. Plan: look at the target once (the lock keeps other mpip runs out) and decide, before changing
//    anything, which folders to create and which files replace existing ones. A file where a folder is
//    needed, a folder where a file goes, or a link in the way is an error here, with nothing changed.
// 2. Journal: write the plan beside the target and fsync it (journal.ts).
// 3. Apply: create the folders; for each file, move the existing one (if any) to the staging folder's
//    `backup/`, then move the staged file in. Every move is a rename within one filesystem.
// 4. Remove the journal: the commit point. The caller then removes the staging folder and its backups.
//
// Any failure or interrupt during 3 rolls back from the journal (recover.ts), the same code a later
// run uses after kill -9; if even that fails, the journal stays and the next run finishes the job.

import { lstat, stat } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { isInside } from "../archive/entry-path.js";
import { nodeFs, type CommitFs } from "./fs-ops.js";
import { interruptedError } from "./interrupt.js";
import { errnoCode, ioError } from "./io-error.js";
import { makeDirs } from "./make-dirs.js";
import { removeJournal, stepPaths, syncDir, writeJournal, type Journal, type JournalStep } from "./journal.js";
import { rollBack } from "./recover.js";
import type { Siblings } from "./siblings.js";
import { testDelay } from "./test-delay.js";

export interface Placement {
  /** The staged file (absolute, inside the staging folder). */
  from: string;
  /** Its path relative to the target, `/`-separated. */
  to: string;
}

export interface CommitOptions {
  signal?: AbortSignal;
  fs?: CommitFs;
}

export async function commit(names: Siblings, stagingDir: string, placements: Placement[], options: CommitOptions = {}): Promise<void> {
  const fs = options.fs ?? nodeFs;
  const journal: Journal = {
    mpip: 1,
    pid: process.pid,
    since: new Date().toISOString(),
    staging: path.basename(stagingDir),
    ...(await plan(names, stagingDir, placements)),
  };
  options.signal?.throwIfAborted();
  await writeJournal(names, stagingDir, journal);
  try {
    await apply(journal, names, fs, options.signal);
  } catch (error) {
    try {
      await rollBack(journal, names, fs);
      await removeJournal(names);
    } catch (rollBackError) {
      throw new MpipError("io", `the commit into \`${names.target}\` stopped half-way, and putting back what it had changed failed too (${errnoCode(rollBackError) ?? String(rollBackError)})`, {
        cause: error,
        hint: `run mpip again on \`${names.target}\`: it finds the journal \`${names.journal}\` and finishes putting the folder back`,
      });
    }
    if (options.signal?.aborted === true) throw interruptedError(options.signal, names.target, " during the commit (it was rolled back)");
    if (error instanceof MpipError) throw error;
    throw ioError(`could not write into \`${names.target}\`; it was rolled back, nothing was changed`, error, `check that \`${names.target}\` is writable`);
  }
  await removeJournal(names);
}

async function apply(journal: Journal, names: Siblings, fs: CommitFs, signal: AbortSignal | undefined): Promise<void> {
  for (const dir of journal.dirs) {
    signal?.throwIfAborted();
    await fs.mkdir(path.join(names.target, dir)).catch((error: unknown) => {
      if (errnoCode(error) !== "EEXIST") throw error;
    });
  }
  const touched = new Set<string>([names.target]);
  for (const step of journal.steps) {
    signal?.throwIfAborted();
    const paths = stepPaths(journal, names, step);
    if (step.backup) {
      await makeDirs(path.dirname(paths.backup));
      await fs.rename(paths.to, paths.backup);
    }
    await fs.rename(paths.from, paths.to);
    touched.add(path.dirname(paths.to));
    await testDelay();
  }
  // Past the last check, a signal finds the install complete: it stands, and mpip exits 0.
  signal?.throwIfAborted();
  for (const dir of touched) await syncDir(dir);
}

/** Reads the target once and decides every step; throws, with nothing changed, if something is in the way. */
async function plan(names: Siblings, stagingDir: string, placements: Placement[]): Promise<Pick<Journal, "dirs" | "steps">> {
  const { target } = names;
  const dirs: string[] = [];
  const state = new Map<string, "dir" | "missing">();
  const folder = async (relative: string, forFile: string): Promise<"dir" | "missing"> => {
    const known = state.get(relative);
    if (known !== undefined) return known;
    const parent = relative === "" ? undefined : path.posix.dirname(relative) === "." ? "" : path.posix.dirname(relative);
    let result: "dir" | "missing" = "missing";
    if (parent === undefined || (await folder(parent, forFile)) === "dir") {
      // The target itself may be a link to a folder (e.g. ~/.micropython/lib); links inside it are not followed.
      const info = await inspect(relative === "" ? target : path.join(target, relative), relative === "");
      if (info !== undefined && !info.isDirectory()) throw inTheWay(names, forFile, relative, info.isSymbolicLink() ? "a symbolic link" : "a file");
      if (info !== undefined) result = "dir";
    }
    if (result === "missing") dirs.push(relative);
    state.set(relative, result);
    return result;
  };
  const steps: JournalStep[] = [];
  for (const placement of placements) {
    const to = placement.to.split(path.sep).join("/");
    const from = path.relative(stagingDir, placement.from).split(path.sep).join("/");
    if (!isInside(target, path.resolve(target, to), path.sep) || !isInside(stagingDir, path.resolve(stagingDir, from), path.sep)) {
      throw new MpipError("unsafe-path", `refused to install \`${placement.to}\`: it is not a path inside \`${target}\``);
    }
    const parent = path.posix.dirname(to) === "." ? "" : path.posix.dirname(to);
    let backup = false;
    if ((await folder(parent, to)) === "dir") {
      const existing = await inspect(path.join(target, to), false);
      if (existing?.isDirectory()) {
        throw new MpipError("io", `cannot install \`${to}\`: a folder of that name exists in \`${target}\`; nothing was changed`, {
          hint: "remove or rename that folder, then run mpip again",
        });
      }
      backup = existing !== undefined;
    }
    steps.push({ from, to, backup });
  }
  return { dirs, steps };
}

async function inspect(file: string, follow: boolean) {
  try {
    return await (follow ? stat(file) : lstat(file));
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(`cannot look at \`${file}\``, error, "check the permissions of the install folder");
  }
}

function inTheWay(names: Siblings, file: string, folder: string, what: string): MpipError {
  if (folder === "") {
    return new MpipError("io", `cannot install into \`${names.target}\`: it is ${what}, not a folder; nothing was changed`, {
      hint: "choose a folder with -p, or move that file away",
    });
  }
  return new MpipError("io", `cannot install \`${file}\`: \`${folder}\` in \`${names.target}\` is ${what}, where a folder is needed; nothing was changed`, {
    hint: what === "a file" ? "remove or rename that file, then run mpip again" : "mpip does not install through links; replace the link with a folder, then run mpip again",
  });
}
