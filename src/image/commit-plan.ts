// Step 1 of a commit (commit.ts): look at the target once and decide every action before anything
// changes: which files go, which folders go and come, which files go where, and each new file's size
// and sha256. What the target holds is judged after the removals: a file they take away may give its
// path to a folder, and a folder that held only files they take away may give its path to a file.
// Anything else in the way (a file or a link where a folder is needed, a folder where a file goes that
// still holds a file the change does not remove, another filesystem, one of mpip's own names) is an
// error here, with nothing changed (in-the-way.ts says which).

import type { Stats } from "node:fs";
import path from "node:path";
import { MpipError } from "../errors.js";
import { isInside, isPlainlyInside } from "../archive/entry-path.js";
import { printable } from "../text.js";
import { FILE_JOBS, mapInOrder } from "../pool.js";
import { hashFile, type FullCommitFs } from "./fs-ops.js";
import { errnoCode, ioError } from "./io-error.js";
import { folderInTheWay, inTheWay, otherFilesystem } from "./in-the-way.js";
import type { Journal, JournalStep } from "./journal.js";
import { isReservedName, type TargetLayout } from "./layout.js";
import { NAME_MAX, NAME_MAX_HINT, nameTooLong } from "../limits.js";
import { isMountPoint } from "./mounts.js";
import { EXACT, foldPath, mayAlias, probeNameRules, widestFold, type NameRules } from "./name-rules.js";
import { words, type TargetOperation } from "./operation.js";

export interface Placement {
  /** The staged file (absolute, inside the staging folder). */
  from: string;
  /** Its path relative to the target, `/`-separated. */
  to: string;
  /**
   * The staged file's size and sha256, when the caller has just read or written it (the install record
   * hashes every file it lists): the journal takes them as they are. Without it, the plan reads the file.
   */
  digest?: FileDigest;
}

/** A file's size in bytes and its sha256 (lowercase hex), as the journal keeps them. */
export interface FileDigest {
  size: number;
  sha256: string;
}

export interface PlanContext {
  layout: TargetLayout;
  stagingDir: string;
  fs: FullCommitFs;
  operation: TargetOperation;
  owners: ReadonlyMap<string, string>;
}

/**
 * Reads the target once and decides every action; throws, with nothing changed, if something is in the
 * way. What the target will hold is judged after the removals: a file they take away may give its path
 * to a folder, and a folder they empty may give its path to a file.
 */
export async function plan(context: PlanContext, placements: Placement[], removals: readonly string[]): Promise<Pick<Journal, "dirs" | "steps" | "emptied" | "cleared">> {
  const { layout, stagingDir, fs, operation } = context;
  const { target } = layout;
  const checked = placements.map((placement) => checkPlacement(layout, stagingDir, placement, operation));
  const removed = removals.map((file) => checkRemoval(layout, file, operation));
  // Files and the folders they need: two of them that could be one name call for asking the filesystem.
  const names = new Set<string>();
  for (const to of [...checked.map((placement) => placement.to), ...removed]) {
    const segments = to.split("/");
    for (let i = 1; i <= segments.length; i++) names.add(segments.slice(0, i).join("/"));
  }
  const rules = mayAlias(names) ? await probeNameRules(path.join(stagingDir, "name-probe"), fs).catch((error: unknown) => {
    throw ioError(`cannot write into the staging folder \`${stagingDir}\`; nothing was changed in \`${target}\``, error, `check that \`${layout.home}\` is writable`);
  }) : EXACT;
  const fold = (relative: string) => foldPath(relative, rules);
  // One step per file of the target: of two names for one file, the later placement wins, as for one name.
  const byFile = new Map<string, { from: string; to: string }>();
  for (const placement of checked) byFile.set(fold(placement.to), placement);
  // A file where another file needs a folder (`Lib` and `lib/x.py` on FAT) cannot both be installed.
  const folders = new Map<string, string>();
  for (const { to } of byFile.values()) {
    const segments = to.split("/");
    for (let i = 1; i < segments.length; i++) folders.set(fold(segments.slice(0, i).join("/")), to);
  }
  const said = words(operation);
  for (const [key, { to }] of byFile) {
    const other = folders.get(key);
    if (other === undefined) continue;
    throw new MpipError("io", `cannot ${said.verb} both \`${printable(to)}\` (a file) and \`${printable(other)}\`, which needs a folder of that name${rules === EXACT ? "" : " on this filesystem"}; nothing was changed`, {
      hint: "the two come from different packages: install them into different targets, or leave one of them out",
    });
  }
  const stagingDevice = (await fs.stat(stagingDir)).dev;
  const look = lookOnce(context, rules);
  // What the steps below ask, asked side by side up front: every folder a placement needs and the path
  // itself (lookOnce keeps each answer, and a failure surfaces only where a step asks), and the digest
  // of every staged file the caller did not give.
  for (const { to } of byFile.values()) {
    const segments = to.split("/");
    for (let i = 0; i <= segments.length; i++) look.ahead(segments.slice(0, i).join("/"));
  }
  const digests = new Map<string, Promise<FileDigest>>();
  const given = new Map(placements.map((placement) => [placement.to.split(path.sep).join("/"), placement.digest]));
  const toRead = [...byFile.values()].filter(({ to }) => given.get(to) === undefined);
  const reads = mapInOrder(toRead, FILE_JOBS, ({ from }) => hashFile(fs, path.join(stagingDir, from)));
  toRead.forEach(({ to }, at) => digests.set(to, reads.then((list) => list[at]!)));
  reads.catch(() => undefined); // surfaces below, where the loop awaits it

  // The removals first: whatever they take away no longer stands in the way of what follows.
  const { removing, steps, emptied } = await planRemovals(context, look, removed, (file) => byFile.has(fold(file)), fold, stagingDevice);

  // The folders the placements need, parents first: there, to create, or in the way.
  const dirs: string[] = [];
  const state = new Map<string, "dir" | "create">();
  const folder = async (relative: string, forFile: string): Promise<"dir" | "create"> => {
    const key = fold(relative);
    const known = state.get(key);
    if (known !== undefined) return known;
    let result: "dir" | "create" = "create";
    if (relative === "" || (await folder(parentOf(relative), forFile)) === "dir") {
      const info = await look(relative);
      if (info?.isDirectory() === true) {
        // A bind mount of the same filesystem keeps the device number, but a rename across it fails too.
        if (info.dev !== stagingDevice || (relative !== "" && isMountPoint(path.join(target, relative)))) throw otherFilesystem(context, forFile, relative, "place");
        result = "dir";
      } else if (info !== undefined && !removing.has(key)) {
        throw inTheWay(context, forFile, relative, info.isSymbolicLink() ? "a symbolic link" : "a file", "place");
      }
      // Missing, or a file the removals take away: the folder is created in its place.
    }
    if (result === "create") dirs.push(relative);
    state.set(key, result);
    return result;
  };

  const listings = new Map<string, string[]>();
  const cleared = new Set<string>();
  for (const { from, to } of byFile.values()) {
    const parent = parentOf(to);
    let backup = false;
    let restoreAs: string | undefined;
    if ((await folder(parent, to)) === "dir") {
      const existing = await look(to);
      if (existing?.isDirectory() === true) {
        // Under the folder's own spelling (`Pkg/` for a file `pkg` on FAT), so that a roll-back makes it again as it was.
        const own = (await ownSpelling(fs, target, parent, to, listings, rules)) ?? to;
        for (const dir of await clearable(context, look, removing, fold, own, to, stagingDevice)) cleared.add(dir);
      } else if (existing !== undefined) {
        if (existing.dev !== stagingDevice) throw otherFilesystem(context, to, to, "place");
        backup = true;
        restoreAs = await ownSpelling(fs, target, parent, to, listings, rules);
      }
    }
    const { size, sha256 } = given.get(to) ?? (await digests.get(to)!);
    const step: JournalStep = { from, to, backup, size, sha256, ...(restoreAs === undefined ? {} : { restoreAs }) };
    steps.push(step);
  }
  // Deepest first: a folder is removed only once what it held is gone.
  const deepestFirst = (set: Iterable<string>) => [...set].sort((a, b) => b.split("/").length - a.split("/").length || a.localeCompare(b));
  const clearedKeys = new Set([...cleared].map(fold));
  const leftEmpty = deepestFirst([...emptied].filter((dir) => !clearedKeys.has(fold(dir))));
  return {
    dirs,
    steps,
    ...(cleared.size === 0 ? {} : { cleared: deepestFirst(cleared) }),
    ...(leftEmpty.length === 0 ? {} : { emptied: leftEmpty }),
  };
}

interface Look {
  (relative: string): Promise<Stats | undefined>;
  /** Starts looking at `relative` now, for a step that may ask later; its failure is kept for that step. */
  ahead(relative: string): void;
}

/**
 * The removal steps: each file of `removed` that is there (not one a placement replaces, which backs it
 * up itself; not one below a file or a missing folder, where there is nothing to remove), the folded
 * paths they free, and the folders they may leave empty.
 */
async function planRemovals(context: PlanContext, look: Look, removed: readonly string[], placed: (file: string) => boolean, fold: (relative: string) => string, stagingDevice: number): Promise<{ removing: Set<string>; steps: Journal["steps"]; emptied: Set<string> }> {
  const removing = new Set<string>();
  const steps: Journal["steps"] = [];
  const emptied = new Set<string>();
  for (const to of removed) {
    const key = fold(to);
    if (placed(to) || removing.has(key)) continue; // listed twice, perhaps under two spellings of one name
    const parent = parentOf(to);
    if (!(await holdsFiles(context, look, parent, to, stagingDevice))) continue;
    const existing = await look(to);
    if (existing === undefined || existing.isDirectory()) continue;
    if (existing.dev !== stagingDevice) throw otherFilesystem(context, to, to, "remove");
    removing.add(key);
    steps.push({ to, remove: true });
    for (let dir = parent; dir !== ""; dir = parentOf(dir)) emptied.add(dir);
  }
  return { removing, steps, emptied };
}

/**
 * Looks at each path of the target once (not following links, but the target itself may be one), by its
 * folded name. What a step asks of a path is never more than what the plan learns from its folder: below
 * anything but a folder (missing, a file, a link) the answer is "nothing", with no system call, and in a
 * folder the answer for a name it does not hold is "nothing" too. A folder's names are read once (one
 * `readdir`, not a failing `lstat` per new file of a fresh install); a name counts as held when any
 * filesystem could take it for one of them (`widestFold`), and is then looked at itself. A folder that
 * cannot be listed has each name looked at. Of the names a folder does not hold, the first asked is
 * looked at all the same: a folder that can be listed but not searched (no `x` permission) fails the
 * plan there, as a lookup of each name did, and not the apply half-way.
 */
function lookOnce(context: PlanContext, rules: NameRules): Look {
  const { fs, layout } = context;
  const seen = new Map<string, Promise<Stats | undefined>>();
  const listings = new Map<string, Promise<Set<string> | undefined>>();
  /** By folder: the lookup of the first name asked that its listing does not hold. */
  const firstMissing = new Map<string, { relative: string; info: Promise<Stats | undefined> }>();
  const held = (folder: string): Promise<Set<string> | undefined> => {
    const key = foldPath(folder, rules);
    let known = listings.get(key);
    if (known === undefined) {
      known = fs.readdir(folder === "" ? layout.target : path.join(layout.target, folder)).then(
        (names) => new Set(names.map(widestFold)),
        () => undefined,
      );
      listings.set(key, known);
    }
    return known;
  };
  const below = async (relative: string): Promise<Stats | undefined> => {
    const folder = parentOf(relative);
    if ((await look(folder))?.isDirectory() !== true) return undefined;
    const names = await held(folder);
    if (names === undefined || names.has(widestFold(path.posix.basename(relative)))) return inspect(fs, path.join(layout.target, relative), false);
    const key = foldPath(folder, rules);
    let first = firstMissing.get(key);
    if (first === undefined) {
      first = { relative, info: inspect(fs, path.join(layout.target, relative), false) };
      firstMissing.set(key, first);
    }
    // Throws what looking in the folder throws; for any other name, the listing's answer stands.
    const info = await first.info;
    return first.relative === relative ? info : undefined;
  };
  const look = (relative: string): Promise<Stats | undefined> => {
    const key = foldPath(relative, rules);
    let known = seen.get(key);
    if (known === undefined) {
      known = relative === "" ? inspect(fs, layout.target, true) : below(relative);
      seen.set(key, known);
    }
    return known;
  };
  return Object.assign(look, {
    ahead: (relative: string) => {
      look(relative).catch(() => undefined);
    },
  });
}

/**
 * Whether `relative` is a folder of the target that may hold the removal `file`: false when it (or a
 * folder above it) is missing or a file, so there is nothing to remove. A link or another filesystem
 * on the way is an error: mpip removes nothing through either.
 */
async function holdsFiles(context: PlanContext, look: Look, relative: string, file: string, stagingDevice: number): Promise<boolean> {
  if (relative !== "" && !(await holdsFiles(context, look, parentOf(relative), file, stagingDevice))) return false;
  const info = await look(relative);
  if (info === undefined) return false;
  if (info.isSymbolicLink() && relative !== "") throw inTheWay(context, file, relative, "a symbolic link", "remove");
  if (!info.isDirectory()) {
    if (relative === "") throw inTheWay(context, file, relative, "a file", "remove");
    return false;
  }
  if (info.dev !== stagingDevice || (relative !== "" && isMountPoint(path.join(context.layout.target, relative)))) throw otherFilesystem(context, file, relative, "remove");
  return true;
}

/**
 * The folders to remove so that the file `to` can take the path of the folder `folder` (the same path,
 * as the folder itself spells it): `folder` and every folder below it. Allowed only when everything
 * below holds nothing but files this commit removes (at least one: an empty folder that no removal
 * emptied is not mpip's to remove); otherwise an error that names the first file in the way.
 */
async function clearable(context: PlanContext, look: Look, removing: ReadonlySet<string>, fold: (relative: string) => string, folder: string, to: string, stagingDevice: number): Promise<string[]> {
  const found: string[] = [];
  let removedInside = 0;
  const visit = async (dir: string): Promise<void> => {
    const info = await look(dir);
    if (info === undefined || info.dev !== stagingDevice || isMountPoint(path.join(context.layout.target, dir))) throw otherFilesystem(context, to, dir, "place");
    found.push(dir);
    const entries = await context.fs.readdir(path.join(context.layout.target, dir)).catch((error: unknown) => {
      throw ioError(`cannot list \`${printable(dir)}\` in \`${context.layout.target}\``, error, "check the permissions of the target folder");
    });
    for (const name of entries.sort()) {
      const child = `${dir}/${name}`;
      const entry = await look(child);
      if (entry === undefined) continue;
      if (entry.isDirectory()) await visit(child);
      else if (removing.has(fold(child))) removedInside++;
      else throw folderInTheWay(context, to, child);
    }
  };
  await visit(folder);
  if (removedInside === 0) {
    throw new MpipError("io", `cannot ${words(context.operation).verb} \`${printable(to)}\`: a folder of that name exists in \`${context.layout.target}\`; nothing was changed`, {
      hint: "remove or rename that folder, then run mpip again",
    });
  }
  return found;
}

/** The folder of a target-relative path (`/`-separated), "" for the target itself. */
export function parentOf(relative: string): string {
  const parent = path.posix.dirname(relative);
  return parent === "." ? "" : parent;
}

/** `to` resolved against `root` stays inside it: plainly so (no resolving, for thousands of files), or once resolved. */
function staysInside(root: string, to: string): boolean {
  return isPlainlyInside(to) || isInside(root, path.resolve(root, to), path.sep);
}

/** `file`, an absolute path, relative to `folder` and `/`-separated. */
function relativeTo(folder: string, file: string): string {
  const prefix = folder + path.sep;
  // What the staging writes: the folder's own spelling, then a plain path (path.relative resolves both).
  if (file.startsWith(prefix)) {
    const rest = path.sep === "/" ? file.slice(prefix.length) : file.slice(prefix.length).split(path.sep).join("/");
    if (isPlainlyInside(rest)) return rest;
  }
  return path.relative(folder, file).split(path.sep).join("/");
}

function checkPlacement(layout: TargetLayout, stagingDir: string, placement: Placement, operation: TargetOperation): { from: string; to: string } {
  const to = path.sep === "/" ? placement.to : placement.to.split(path.sep).join("/");
  const from = relativeTo(stagingDir, placement.from);
  const verb = words(operation).verb;
  if (!staysInside(layout.target, to) || !staysInside(stagingDir, from)) {
    throw new MpipError("unsafe-path", `refused to ${verb} \`${printable(placement.to)}\`: it is not a path inside \`${layout.target}\``);
  }
  const reserved = to.split("/").find(isReservedName);
  if (reserved !== undefined) {
    throw new MpipError("unsafe-path", `refused to ${verb} \`${printable(to)}\`: \`${printable(reserved)}\` is a name mpip keeps for its own lock, journal and staging folders; nothing was changed`, {
      hint: "no package needs such a name; the package is broken or malicious",
    });
  }
  // Checked before any change, so that the commit never meets ENAMETOOLONG half-way.
  const long = nameTooLong(to);
  if (long !== undefined) {
    throw new MpipError("limit-exceeded", `cannot ${verb} \`${printable(to, 120)}\`: the name \`${printable(long.name, 60)}\` is ${long.bytes} bytes long, more than the ${NAME_MAX} a file or folder name can have; nothing was changed`, { hint: NAME_MAX_HINT });
  }
  return { from, to };
}

/** A file to remove, as a `/`-separated path that stays inside the target and names none of mpip's own files. */
function checkRemoval(layout: TargetLayout, file: string, operation: TargetOperation): string {
  const to = file.split(path.sep).join("/");
  const said = words(operation);
  if (!isInside(layout.target, path.resolve(layout.target, to), path.sep) || to.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
    throw new MpipError("unsafe-path", `refused to remove \`${printable(file)}\` while it would ${said.onTarget} \`${layout.target}\`: it is not a path inside that folder; nothing was changed`);
  }
  const reserved = to.split("/").find(isReservedName);
  if (reserved !== undefined) {
    throw new MpipError("unsafe-path", `refused to remove \`${printable(to)}\` while it would ${said.onTarget} \`${layout.target}\`: \`${printable(reserved)}\` is a name mpip keeps for its own lock, journal and staging folders; nothing was changed`);
  }
  return to;
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

async function inspect(fs: FullCommitFs, file: string, follow: boolean) {
  try {
    return await (follow ? fs.stat(file) : fs.lstat(file));
  } catch (error) {
    // ENOTDIR: a file stands where the path needs a folder, so nothing is at the path itself.
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return undefined;
    throw ioError(`cannot look at \`${file}\``, error, "check the permissions of the target folder");
  }
}
