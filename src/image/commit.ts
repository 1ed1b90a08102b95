// Moves staged files into the target, all or none, in a way that survives being killed at any point.
//
// 1. Plan: look at the target once (the lock keeps other mpip runs out) and decide, before changing
//    anything, which folders to create and which files go where. A file where a folder is needed, a
//    folder where a file goes, a link in the way, a folder on another filesystem (a mount point inside
//    the target) or one of mpip's own names is an error here, with nothing changed. Destinations the
//    target's filesystem takes for one file (`Mod.py` and `mod.py` on FAT: name-rules.ts) become one
//    step, so no file is ever backed up twice; each new file's size and sha256 go into the plan.
// 2. Journal: write the plan and fsync it (journal.ts).
// 3. Apply: create the folders; for each file the commit removes (a replaced version's: journal version
//    3), move it to the staging folder's `backup/<step>`; for each file, move whatever is at its
//    destination to `backup/<step>`, then move the staged file in; then remove the folders removals left
//    empty. Every move is a rename within one filesystem.
// 4. Remove the journal: the commit point. The caller then removes the staging folder and its backups.
//
// Any failure or interrupt during 3 rolls back from the journal (recover.ts), the same code a later
// run uses after kill -9; if even that fails, the journal stays and the next run finishes the job.

import { createHash } from "node:crypto";
import path from "node:path";
import { MpipError } from "../errors.js";
import { isInside } from "../archive/entry-path.js";
import { printable } from "../text.js";
import { completeFs, type CommitFs, type FullCommitFs } from "./fs-ops.js";
import { interruptedError } from "./interrupt.js";
import { errnoCode, ioError } from "./io-error.js";
import { makeDirs } from "./make-dirs.js";
import { isReservedName, type TargetLayout } from "./layout.js";
import { isMountPoint } from "./mounts.js";
import { EXACT, foldPath, mayAlias, probeNameRules, widestFold, type NameRules } from "./name-rules.js";
import { removeJournal, stepPaths, syncDir, writeJournal, type Journal, type JournalStep } from "./journal.js";
import { rollBack } from "./recover.js";
import { testDelay } from "./test-delay.js";

export interface Placement {
  /** The staged file (absolute, inside the staging folder). */
  from: string;
  /** Its path relative to the target, `/`-separated. */
  to: string;
}

export interface CommitOptions {
  signal?: AbortSignal;
  /**
   * Files of the target (relative, `/`-separated) the commit removes: moved to the backup like a file a
   * placement replaces, and put back by a roll-back. One that is not there, or is a folder, is passed
   * over; one the filesystem takes for a placement's destination is that placement's to replace.
   * Folders they leave empty are removed too.
   */
  removals?: readonly string[];
  fs?: CommitFs;
}

export async function commit(layout: TargetLayout, stagingDir: string, placements: Placement[], options: CommitOptions = {}): Promise<void> {
  const fs = completeFs(options.fs);
  const journal: Journal = {
    mpip: 3,
    pid: process.pid,
    since: new Date().toISOString(),
    staging: path.basename(stagingDir),
    ...(await plan(layout, stagingDir, placements, options.removals ?? [], fs)),
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
}

async function apply(journal: Journal, layout: TargetLayout, fs: FullCommitFs, signal: AbortSignal | undefined): Promise<void> {
  for (const dir of journal.dirs) {
    signal?.throwIfAborted();
    await fs.mkdir(path.join(layout.target, dir)).catch((error: unknown) => {
      if (errnoCode(error) !== "EEXIST") throw error;
    });
  }
  const touched = new Set<string>([layout.target]);
  let backupDirMade = false;
  for (let index = 0; index < journal.steps.length; index++) {
    signal?.throwIfAborted();
    const paths = stepPaths(journal, layout, index);
    if (paths.from === undefined) {
      if (await present(fs, paths.to)) {
        if (!backupDirMade) await makeDirs(path.dirname(paths.backup));
        backupDirMade = true;
        await fs.rename(paths.to, paths.backup);
      }
      touched.add(path.dirname(paths.to));
      await testDelay("commit", signal);
      continue;
    }
    // Whatever is there now is backed up, planned or not: a name the filesystem took for an earlier
    // step's file is that file, and the roll-back puts it back too.
    if (await present(fs, paths.to)) {
      if (!backupDirMade) await makeDirs(path.dirname(paths.backup));
      backupDirMade = true;
      await fs.rename(paths.to, paths.backup);
    }
    await fs.rename(paths.from, paths.to);
    touched.add(path.dirname(paths.to));
    await testDelay("commit", signal);
  }
  for (const dir of journal.emptied ?? []) {
    await fs.rmdir(path.join(layout.target, dir)).then(() => touched.add(path.dirname(path.join(layout.target, dir))), (error: unknown) => {
      if (!["ENOENT", "ENOTEMPTY", "EEXIST", "ENOTDIR"].includes(errnoCode(error) ?? "")) throw error;
    });
  }
  // Past the last check, a signal finds the install complete: it stands, and mpip exits 0.
  signal?.throwIfAborted();
  for (const dir of touched) await syncDir(dir);
}

/** Reads the target once and decides every step; throws, with nothing changed, if something is in the way. */
async function plan(layout: TargetLayout, stagingDir: string, placements: Placement[], removals: readonly string[], fs: FullCommitFs): Promise<Pick<Journal, "dirs" | "steps" | "emptied">> {
  const { target } = layout;
  const checked = placements.map((placement) => checkPlacement(layout, stagingDir, placement));
  const removed = removals.map((file) => checkPlacement(layout, stagingDir, { from: stagingDir, to: file }).to);
  // Files and the folders they need: two of them that could be one name call for asking the filesystem.
  const names = new Set<string>();
  for (const to of [...checked.map((placement) => placement.to), ...removed]) {
    const segments = to.split("/");
    for (let i = 1; i <= segments.length; i++) names.add(segments.slice(0, i).join("/"));
  }
  const rules = mayAlias(names) ? await probeNameRules(path.join(stagingDir, "name-probe"), fs).catch((error: unknown) => {
    throw ioError(`cannot write into the staging folder \`${stagingDir}\`; nothing was changed in \`${target}\``, error, `check that \`${layout.home}\` is writable`);
  }) : EXACT;
  // One step per file of the target: of two names for one file, the later placement wins, as for one name.
  const byFile = new Map<string, { from: string; to: string }>();
  for (const placement of checked) byFile.set(foldPath(placement.to, rules), placement);
  // A file where another file needs a folder (`Lib` and `lib/x.py` on FAT) cannot both be installed.
  const folders = new Map<string, string>();
  for (const { to } of byFile.values()) {
    const segments = to.split("/");
    for (let i = 1; i < segments.length; i++) folders.set(foldPath(segments.slice(0, i).join("/"), rules), to);
  }
  for (const [key, { to }] of byFile) {
    const other = folders.get(key);
    if (other === undefined) continue;
    throw new MpipError("io", `cannot install both \`${printable(to)}\` (a file) and \`${printable(other)}\`, which needs a folder of that name${rules === EXACT ? "" : " on this filesystem"}; nothing was changed`, {
      hint: "the two come from different packages: install them into different targets, or leave one of them out",
    });
  }
  const stagingDevice = (await fs.stat(stagingDir)).dev;
  const dirs: string[] = [];
  const state = new Map<string, "dir" | "missing">();
  const folder = async (relative: string, forFile: string): Promise<"dir" | "missing"> => {
    const key = foldPath(relative, rules);
    const known = state.get(key);
    if (known !== undefined) return known;
    const parent = relative === "" ? undefined : path.posix.dirname(relative) === "." ? "" : path.posix.dirname(relative);
    let result: "dir" | "missing" = "missing";
    if (parent === undefined || (await folder(parent, forFile)) === "dir") {
      // The target itself may be a link to a folder (e.g. ~/.micropython/lib); links inside it are not followed.
      const info = await inspect(fs, relative === "" ? target : path.join(target, relative), relative === "");
      if (info !== undefined && !info.isDirectory()) throw inTheWay(layout, forFile, relative, info.isSymbolicLink() ? "a symbolic link" : "a file");
      // A bind mount of the same filesystem keeps the device number, but a rename across it fails too.
      const mounted = relative !== "" && isMountPoint(path.join(target, relative));
      if (info !== undefined && (info.dev !== stagingDevice || mounted)) throw otherFilesystem(layout, forFile, relative);
      if (info !== undefined) result = "dir";
    }
    if (result === "missing") dirs.push(relative);
    state.set(key, result);
    return result;
  };
  const listings = new Map<string, string[]>();
  const steps: Journal["steps"] = [];
  const emptied = new Set<string>();
  for (const to of new Set(removed)) {
    if (byFile.has(foldPath(to, rules))) continue; // replaced by a placement, which backs it up
    const parent = path.posix.dirname(to) === "." ? "" : path.posix.dirname(to);
    if ((await folder(parent, to)) !== "dir") continue;
    const existing = await inspect(fs, path.join(target, to), false);
    if (existing === undefined || existing.isDirectory()) continue;
    if (existing.dev !== stagingDevice) throw otherFilesystem(layout, to, to);
    steps.push({ to, remove: true });
    for (let dir = parent; dir !== ""; dir = path.posix.dirname(dir) === "." ? "" : path.posix.dirname(dir)) emptied.add(dir);
  }
  for (const { from, to } of byFile.values()) {
    const parent = path.posix.dirname(to) === "." ? "" : path.posix.dirname(to);
    let backup = false;
    let restoreAs: string | undefined;
    if ((await folder(parent, to)) === "dir") {
      const existing = await inspect(fs, path.join(target, to), false);
      if (existing?.isDirectory()) {
        throw new MpipError("io", `cannot install \`${printable(to)}\`: a folder of that name exists in \`${target}\`; nothing was changed`, {
          hint: "remove or rename that folder, then run mpip again",
        });
      }
      if (existing !== undefined && existing.dev !== stagingDevice) throw otherFilesystem(layout, to, to);
      backup = existing !== undefined;
      if (backup) restoreAs = await ownSpelling(fs, target, parent, to, listings, rules);
    }
    const data = await fs.readFile(path.join(stagingDir, from));
    const step: JournalStep = { from, to, backup, size: data.length, sha256: createHash("sha256").update(data).digest("hex"), ...(restoreAs === undefined ? {} : { restoreAs }) };
    steps.push(step);
  }
  // Deepest first: a folder is removed only once what it held is gone.
  const deepestFirst = [...emptied].sort((a, b) => b.split("/").length - a.split("/").length || a.localeCompare(b));
  return { dirs, steps, ...(deepestFirst.length === 0 ? {} : { emptied: deepestFirst }) };
}

function checkPlacement(layout: TargetLayout, stagingDir: string, placement: Placement): { from: string; to: string } {
  const to = placement.to.split(path.sep).join("/");
  const from = path.relative(stagingDir, placement.from).split(path.sep).join("/");
  if (!isInside(layout.target, path.resolve(layout.target, to), path.sep) || !isInside(stagingDir, path.resolve(stagingDir, from), path.sep)) {
    throw new MpipError("unsafe-path", `refused to install \`${printable(placement.to)}\`: it is not a path inside \`${layout.target}\``);
  }
  const reserved = to.split("/").find(isReservedName);
  if (reserved !== undefined) {
    throw new MpipError("unsafe-path", `refused to install \`${printable(to)}\`: \`${printable(reserved)}\` is a name mpip keeps for its own lock, journal and staging folders; nothing was changed`, {
      hint: "no package needs such a name; the package is broken or malicious",
    });
  }
  return { from, to };
}

/**
 * The spelling the existing file at `to` has in its folder, when the filesystem found it under another
 * one (`MOD.py` for `mod.py` on FAT), so that a roll-back gives it back under its own name.
 */
async function ownSpelling(fs: FullCommitFs, target: string, parent: string, to: string, listings: Map<string, string[]>, rules: NameRules): Promise<string | undefined> {
  let entries = listings.get(parent);
  if (entries === undefined) {
    entries = await fs.readdir(path.join(target, parent)).catch(() => []);
    listings.set(parent, entries);
  }
  const name = path.posix.basename(to);
  if (entries.includes(name)) return undefined;
  const fold = rules === EXACT ? widestFold : (text: string) => foldPath(text, rules);
  const candidates = entries.filter((entry) => fold(entry) === fold(name));
  return candidates.length === 1 ? (parent === "" ? candidates[0]! : `${parent}/${candidates[0]!}`) : undefined;
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

async function inspect(fs: FullCommitFs, file: string, follow: boolean) {
  try {
    return await (follow ? fs.stat(file) : fs.lstat(file));
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(`cannot look at \`${file}\``, error, "check the permissions of the install folder");
  }
}

function inTheWay(layout: TargetLayout, file: string, folder: string, what: string): MpipError {
  if (folder === "") {
    return new MpipError("io", `cannot install into \`${layout.target}\`: it is ${what}, not a folder; nothing was changed`, {
      hint: "choose a folder with -p, or move that file away",
    });
  }
  return new MpipError("io", `cannot install \`${printable(file)}\`: \`${printable(folder)}\` in \`${layout.target}\` is ${what}, where a folder is needed; nothing was changed`, {
    hint: what === "a file" ? "remove or rename that file, then run mpip again" : "mpip does not install through links; replace the link with a folder, then run mpip again",
  });
}

/** A folder (or file) of the target on another filesystem than the staging folder: a rename there would not be atomic. */
function otherFilesystem(layout: TargetLayout, file: string, where: string): MpipError {
  const place = where === "" ? `\`${layout.target}\`` : `\`${printable(where)}\` in \`${layout.target}\``;
  const full = where === "" ? layout.target : path.join(layout.target, where);
  return new MpipError("io", `cannot install \`${printable(file)}\`: ${place} is on another filesystem (a mount point) than mpip's staging folder in \`${layout.home}\`, so files cannot be moved into it all or none; nothing was changed`, {
    hint: `install into \`${printable(full)}\` with its own \`-p\`, or unmount what is mounted there`,
  });
}
