// The install record, read: every `NAME-VERSION.dist-info/` folder at the top of a target, in the
// standard form (PEP 376 / PEP 627 as pip writes them for `--target`, PEP 610 `direct_url.json`, the
// wheel spec's RECORD), so that records written by pip, pipkin or mpip read alike; plus mpip's own
// optional `mpip.json` (where a package came from: index and kind).
//
// An image may have been copied from anywhere: every record is hostile input. Nothing here throws for
// what a record holds. A file that cannot be used (too large, not a regular file, not UTF-8, malformed)
// becomes a problem naming the file, kept on its distribution; a RECORD row whose path leaves the target
// or names one of mpip's own files is dropped, so no caller can ever act on it. A dist-info folder whose
// METADATA gives no usable name and version is left out (its files then count as unrecorded).
//
// This is the one reader of records: `list`, `show`, `freeze` and `manifest` (through inventory.ts) and
// `install` and `uninstall` (readRecordsIn) all see the same distributions, versions, files and problems.
// Several records whose names PEP 503 normalizes to one (`Foo-1.0.dist-info` and `foo-2.0.dist-info`,
// `foo_bar` and `foo.bar`) are one package installed more than once: each is read, and the image's
// `duplicates` and a warning say so; `install` and `uninstall` act on all of them at once.

import { lstat, readdir } from "node:fs/promises";
import { lstatSync, type Dirent } from "node:fs";
import path from "node:path";
import { MpipError } from "../errors.js";
import { isReservedName, layoutsOf } from "../image/layout.js";
import { mapInOrder } from "../pool.js";
import { errnoCode, ioError } from "../image/io-error.js";
import { resolveTarget } from "../image/target-path.js";
import type { TargetOperation } from "../image/operation.js";
import { readHeaders } from "../pack/pkg-info.js";
import { isMipName, mipNameFrom, normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { parseRecordCsv } from "./csv.js";
import { parseDirectUrl, parseOrigin, type DirectUrl, type MpipOrigin } from "./origin.js";
import { readSmallFile, whileDescriptorsRunOut } from "../local-file.js";
import { escapeName, INSTALLER_NAME, isRecordableVersion } from "./format.js";

export type { DirectUrl, MpipOrigin } from "./origin.js";

/** One row of RECORD: a path relative to the target (`/`-separated, normalized), its digest and size when given. */
export interface RecordRow {
  path: string;
  /** `sha256=<urlsafe base64, no padding>` split at the first `=`; absent for the record's own files. */
  hash?: { algorithm: string; digest: string };
  size?: number;
}

/** One installed distribution, as its `.dist-info` folder describes it. */
export interface Distribution {
  /** `Name:` of METADATA, as written. */
  name: string;
  /** PEP 503 normalized name: how distributions are compared. */
  key: string;
  version: string;
  summary?: string;
  /** `Requires-Dist:` values, as written (markers included). */
  requiresDist: string[];
  /** The folder's name, e.g. `foo-1.0.dist-info`. */
  distInfo: string;
  /** RECORD's rows that passed every check, in order, each path once. Empty when RECORD is unreadable. */
  rows: RecordRow[];
  /** Whether RECORD was read whole: false when it is missing or unreadable, or any row was dropped. */
  recordComplete: boolean;
  /** RECORD's modification time (ms), or 0: the later of two records that list one file owns it. */
  recordTime: number;
  /** `REQUESTED` is present: the user asked for this distribution, it is not only a dependency. */
  requested: boolean;
  /** Every regular file at the top of its `.dist-info` folder, as target-relative paths (RECORD may not list them all). */
  infoFiles: string[];
  /** First line of `INSTALLER` (`mpip`, `pip`), when present and readable. */
  installer?: string;
  directUrl?: DirectUrl;
  origin?: MpipOrigin;
  /** What is wrong with this record, each naming the file (`foo-1.0.dist-info/RECORD line 3: ...`). */
  problems: string[];
}

export interface ImageRecords {
  /** The target, absolute with links resolved. */
  target: string;
  /** Sorted by key, then version. */
  distributions: Distribution[];
  /** Records of one name (PEP 503) found more than once: each group sorted as `distributions`. */
  duplicates: Distribution[][];
  /** Every problem found (those of each distribution included, and each duplicate name), each naming its file. */
  warnings: string[];
}

/** The largest size read of each record file: far above real ones, low enough to read whole. */
export const RECORD_FILE_LIMITS = {
  RECORD: 16 * 1024 * 1024,
  METADATA: 1024 * 1024,
  json: 64 * 1024,
  INSTALLER: 1024,
} as const;

const DIST_INFO = /\.dist-info$/i;
/**
 * The dist-info folders read at once. Two take most of the time one after the other took (400 records:
 * 2.6 s -> 1.0 s; four: 0.93 s), and hold at most two more files open than one did: a run near its limit
 * of open files reads them as before (local-file.ts whileDescriptorsRunOut tries again).
 */
const FOLDERS_AT_ONCE = 2;
const MAX_FIELD = 500;

/**
 * Reads every `*.dist-info` folder at the top of `target`.
 * @throws MpipError `bad-target` when the target does not exist or is not a folder; `io` when it cannot
 *   be listed. Problems with the records themselves are never thrown: see `Distribution.problems`.
 * Follows PEP 376, PEP 627 (core metadata 2.1), PEP 610 and the wheel spec's RECORD.
 */
export async function readRecords(target: string): Promise<ImageRecords> {
  const resolved = await existingTarget(target);
  let entries;
  try {
    entries = await whileDescriptorsRunOut(() => readdir(resolved, { withFileTypes: true }));
  } catch (error) {
    throw ioError(`cannot list the target \`${printable(target)}\``, error, "check its permissions");
  }
  const records = await readEntries(resolved, entries);
  const journal = layoutsOf(resolved).map((layout) => layout.journal).find((file) => lstatSync(file, { throwIfNoEntry: false }) !== undefined);
  if (journal !== undefined) {
    records.warnings.unshift(`\`${printable(resolved)}\` is in the middle of a commit (the journal \`${printable(journal)}\` is there): an install or uninstall is changing it now, or one was stopped half-way, so what is read may be part old, part new; the next \`mpip install\` or \`mpip uninstall\` on it rolls a stopped one back`);
  }
  return records;
}

/**
 * The records of a target an install or an uninstall holds (`folder`: absolute, links resolved, as
 * TargetSession gives it); none when the folder does not exist yet. Reads as `readRecords` does.
 * @throws MpipError `io` when the folder cannot be listed.
 */
export async function readRecordsIn(folder: string): Promise<ImageRecords> {
  let entries;
  try {
    entries = await whileDescriptorsRunOut(() => readdir(folder, { withFileTypes: true }));
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { target: folder, distributions: [], duplicates: [], warnings: [] };
    throw ioError(`cannot list \`${printable(folder)}\` to read its install records`, error, "check the permissions of the target folder");
  }
  return readEntries(folder, entries);
}

async function readEntries(resolved: string, entries: Dirent[]): Promise<ImageRecords> {
  const warnings: string[] = [];
  const distributions: Distribution[] = [];
  const infos = entries.filter((entry) => DIST_INFO.test(entry.name) && !isReservedName(entry.name)).sort((a, b) => compareText(a.name, b.name));
  // The folders side by side, each reading its files one after another, and what they hold said in the
  // folders' order, whatever order the reads end in.
  const reads = await mapInOrder(infos, FOLDERS_AT_ONCE, async (entry) => {
    if (entry.isDirectory()) return readDistInfo(resolved, entry.name);
    return `\`${entry.name}\` is not a folder (${entry.isSymbolicLink() ? "a symbolic link" : "a file"}); it is not read as a record`;
  });
  for (const read of reads) {
    if (typeof read === "string") warnings.push(read);
    else {
      distributions.push(read);
      warnings.push(...read.problems);
    }
  }
  distributions.sort((a, b) => compareText(a.key, b.key) || compareText(a.version, b.version));
  const byKey = new Map<string, Distribution[]>();
  for (const distribution of distributions) byKey.set(distribution.key, [...(byKey.get(distribution.key) ?? []), distribution]);
  const duplicates = [...byKey.values()].filter((group) => group.length > 1);
  for (const group of duplicates) warnings.push(duplicateWarning(group));
  return { target: resolved, distributions, duplicates, warnings };
}

/** The records of one name found more than once, as a list: `` `Foo-1.0.dist-info` (Foo 1.0), `foo-2.0.dist-info` (foo 2.0) ``. */
export function describeDuplicates(group: readonly Distribution[]): string {
  return group.map((distribution) => `\`${printable(distribution.distInfo)}\` (${printable(distribution.name)} ${printable(distribution.version)})`).join(", ");
}

function duplicateWarning(group: readonly Distribution[]): string {
  const key = group[0]!.key;
  return `\`${key}\` is recorded ${group.length} times: ${describeDuplicates(group)}; PEP 503 makes these names one, so they are one package installed more than once. \`mpip uninstall ${key}\` removes them all, and installing \`${key}\` replaces them all`;
}

/**
 * The target as an existing folder, absolute with links resolved; `operation` names the run in the
 * messages of a target that is no folder (`cannot uninstall from`, `cannot read`).
 * @throws MpipError `bad-target` for a target that does not exist, and what resolveTarget throws.
 */
export async function existingTarget(target: string, operation: TargetOperation = "read"): Promise<string> {
  const resolved = await resolveTarget(target, operation);
  if (!resolved.exists) {
    throw new MpipError("bad-target", `the target \`${printable(target)}\` does not exist`, {
      hint: "name the folder packages were installed into with -p (`mpip install -p DIR NAME` creates one)",
    });
  }
  return resolved.path;
}

/**
 * A dist-info folder's listing, read once: which of the record's files to open (one the listing lacks in
 * any case is not tried: a case-insensitive filesystem would open `metadata` as `METADATA`), and its
 * regular files. Undefined where the folder cannot be listed (it may still be searched): then every file
 * is tried.
 */
interface Listing {
  has(name: string): boolean;
  files: string[];
}

async function listDistInfo(dir: string): Promise<Listing | undefined> {
  const entries = await whileDescriptorsRunOut(() => readdir(dir, { withFileTypes: true })).catch(() => undefined);
  if (entries === undefined) return undefined;
  const folded = new Set(entries.map((entry) => entry.name.toLowerCase()));
  return { has: (name) => folded.has(name.toLowerCase()), files: entries.filter((entry) => entry.isFile()).map((entry) => entry.name) };
}

/** One dist-info folder, or the reason it is left out. */
async function readDistInfo(target: string, folder: string): Promise<Distribution | string> {
  const dir = path.join(target, folder);
  const problems: string[] = [];
  const listing = await listDistInfo(dir);
  const read = async (name: string, limit: number): Promise<FileRead> => {
    if (listing !== undefined && !listing.has(name)) return { ok: false, missing: true, problem: `\`${folder}/${name}\` is missing` };
    return readRecordFile(dir, folder, name, limit);
  };
  const metadata = await read("METADATA", RECORD_FILE_LIMITS.METADATA);
  if (!metadata.ok) return `${metadata.problem}; the folder is not read as a record, its files count as unrecorded`;
  const headers = readHeaders(metadata.text);
  const recorded = headers.get("name")?.[0] ?? "";
  const version = headers.get("version")?.[0] ?? "";
  const installer = await read("INSTALLER", RECORD_FILE_LIMITS.INSTALLER);
  const installedBy = installer.ok ? installer.text.split(/\r?\n/)[0]!.trim() : "";
  // mip's rule, not PEP 508's: mpip records what a micropython-lib index installs, such as `__future__`.
  // Earlier builds of mpip recorded a package known by a file or folder name under that name as it was
  // (`weird@name!`, in `weird_name_-0.dist-info`): its record is read under the name mpip makes of it
  // now (spec/names.ts `mipNameFrom`: `weird-name`), so that it is listed, replaced and uninstalled.
  const name = isMipName(recorded) ? recorded : installedBy === INSTALLER_NAME ? mipNameFrom(recorded) : undefined;
  if (name === undefined) {
    return `\`${folder}/METADATA\`: ${recorded === "" ? "it has no `Name:` header" : `\`Name: ${printable(recorded, 80)}\` is not a valid project name`}; the folder is not read as a record, its files count as unrecorded`;
  }
  if (!isRecordableVersion(version)) {
    return `\`${folder}/METADATA\`: ${version === "" ? "it has no `Version:` header" : `\`Version: ${printable(version, 80)}\` is not a version`}; the folder is not read as a record, its files count as unrecorded`;
  }
  const expected = /^(.+?)-([^-]+)\.dist-info$/i.exec(folder);
  if (expected !== null && normalizeName(expected[1]!) !== normalizeName(name) && expected[1] !== escapeName(recorded)) {
    problems.push(`\`${folder}\` holds the record of \`${name}\`: the folder's name says \`${printable(expected[1]!, 80)}\``);
  }
  // One file open at a time: the folders are read side by side (readEntries).
  const recordFile = await read("RECORD", RECORD_FILE_LIMITS.RECORD);
  const directUrlFile = await read("direct_url.json", RECORD_FILE_LIMITS.json);
  const originFile = await read("mpip.json", RECORD_FILE_LIMITS.json);
  const requested = listing === undefined || listing.has("REQUESTED") ? await exists(path.join(dir, "REQUESTED")) : false;
  const record = readRecordRows(recordFile, folder, problems);
  const summary = headers.get("summary")?.[0];
  const distribution: Distribution = {
    name,
    key: normalizeName(name),
    version,
    ...(summary === undefined || summary === "" ? {} : { summary: summary.slice(0, MAX_FIELD) }),
    requiresDist: (headers.get("requires-dist") ?? []).filter((value) => value !== ""),
    distInfo: folder,
    rows: record.rows,
    recordComplete: record.complete,
    recordTime: record.time,
    requested,
    infoFiles: (listing?.files ?? []).map((file) => `${folder}/${file}`).sort(compareText),
    problems,
  };
  if (installer.ok) {
    if (installedBy !== "") distribution.installer = installedBy.slice(0, 100);
  } else if (!installer.missing) problems.push(installer.problem);
  const directUrl = parseJson(directUrlFile, folder, "direct_url.json", problems);
  if (directUrl !== undefined) {
    const parsed = parseDirectUrl(directUrl);
    if (typeof parsed === "string") problems.push(`\`${folder}/direct_url.json\`: ${parsed}`);
    else distribution.directUrl = parsed;
  }
  const origin = parseJson(originFile, folder, "mpip.json", problems);
  if (origin !== undefined) {
    const parsed = parseOrigin(origin);
    if (typeof parsed === "string") problems.push(`\`${folder}/mpip.json\`: ${parsed}`);
    else distribution.origin = parsed;
  }
  return distribution;
}

function readRecordRows(file: FileRead, folder: string, problems: string[]): { rows: RecordRow[]; complete: boolean; time: number } {
  if (!file.ok) {
    problems.push(file.missing ? `\`${folder}\` has no RECORD: mpip cannot tell which files are this package's` : file.problem);
    return { rows: [], complete: false, time: 0 };
  }
  const parsed = parseRecordCsv(file.text);
  let complete = parsed.error === undefined;
  if (parsed.error !== undefined) problems.push(`\`${folder}/RECORD\` line ${parsed.error.line}: ${parsed.error.message}; the rows after it are not read`);
  const rows: RecordRow[] = [];
  const seen = new Set<string>();
  for (const { fields, line } of parsed.rows) {
    const where = `\`${folder}/RECORD\` line ${line}`;
    if (fields.length !== 3) {
      problems.push(`${where}: a row has ${fields.length} field${fields.length === 1 ? "" : "s"}, not 3 (path, hash, size); it is ignored`);
      complete = false;
      continue;
    }
    const [rawPath, rawHash, rawSize] = fields as [string, string, string];
    const checked = checkRecordPath(rawPath);
    if (!checked.ok) {
      problems.push(`${where}: \`${printable(rawPath, 120)}\` ${checked.reason}; the row is ignored`);
      complete = false;
      continue;
    }
    const top = checked.path.split("/")[0]!;
    if (DIST_INFO.test(top) && top !== folder) {
      problems.push(`${where}: \`${printable(checked.path, 120)}\` lies in another package's record folder; the row is ignored`);
      complete = false;
      continue;
    }
    if (seen.has(checked.path)) continue;
    seen.add(checked.path);
    const row: RecordRow = { path: checked.path };
    if (rawHash !== "") {
      const hash = /^([a-z0-9_]{1,20})=([A-Za-z0-9_-]{1,200}={0,2})$/.exec(rawHash);
      if (hash === null) problems.push(`${where}: \`${printable(rawHash, 80)}\` is not a hash (\`sha256=<urlsafe base64>\`); \`${printable(checked.path)}\` cannot be checked for changes`);
      else row.hash = { algorithm: hash[1]!, digest: hash[2]!.replace(/=+$/, "") };
    }
    if (rawSize !== "") {
      const size = /^\d{1,15}$/.test(rawSize) ? Number(rawSize) : undefined;
      if (size === undefined) problems.push(`${where}: \`${printable(rawSize, 40)}\` is not a size in bytes; it is ignored`);
      else row.size = size;
    }
    rows.push(row);
  }
  return { rows, complete, time: file.time };
}

/**
 * A RECORD path, checked: relative to the target, `/`-separated, inside it, naming none of mpip's own
 * files. Returns the normalized path (`./a//b` is `a/b`) or why it is refused.
 */
export function checkRecordPath(raw: string): { ok: true; path: string } | { ok: false; reason: string } {
  if (raw === "") return { ok: false, reason: "is an empty path" };
  if (/[\0-\x1f\x7f-\x9f]/.test(raw)) return { ok: false, reason: "holds a control character" };
  if (raw.includes("\\")) return { ok: false, reason: "holds a backslash (RECORD paths use `/`)" };
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) return { ok: false, reason: "is absolute: it lies outside the target" };
  const normalized = path.posix.normalize(raw).replace(/\/+$/, "");
  if (normalized === "." || normalized === "") return { ok: false, reason: "names the target itself, not a file" };
  if (normalized === ".." || normalized.startsWith("../")) return { ok: false, reason: "lies outside the target" };
  if (normalized.split("/").some(isReservedName)) return { ok: false, reason: "names one of mpip's own files (its lock, journal or staging folder)" };
  return { ok: true, path: normalized };
}

export type FileRead = { ok: true; text: string; time: number } | { ok: false; missing: boolean; problem: string };

/**
 * A small file of a dist-info folder as UTF-8 text: a regular file only (no link is followed, no FIFO
 * waited on), at most `limit` bytes.
 */
export async function readRecordFile(dir: string, folder: string, name: string, limit: number): Promise<FileRead> {
  const where = `\`${folder}/${name}\``;
  const read = await readSmallFile(path.join(dir, name), limit, { follow: false });
  switch (read.kind) {
    case "missing":
      return { ok: false, missing: true, problem: `${where} is missing` };
    case "link":
      return { ok: false, missing: false, problem: `${where} is a symbolic link; mpip reads record files only as regular files` };
    case "not-regular":
      return { ok: false, missing: false, problem: `${where} is not a regular file` };
    case "too-large":
      return { ok: false, missing: false, problem: `${where} is ${read.size} bytes, more than the ${limit} mpip reads` };
    case "unreadable":
      return { ok: false, missing: false, problem: `${where} cannot be read (${read.error.code ?? String(read.error)})` };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(read.data);
  } catch {
    return { ok: false, missing: false, problem: `${where} is not UTF-8 text` };
  }
  return { ok: true, text: text.replace(/^\uFEFF/, ""), time: read.stats.mtimeMs };
}

function parseJson(file: FileRead, folder: string, name: string, problems: string[]): unknown {
  if (!file.ok) {
    if (!file.missing) problems.push(file.problem);
    return undefined;
  }
  try {
    return JSON.parse(file.text) as unknown;
  } catch (error) {
    problems.push(`\`${folder}/${name}\` is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(() => true, () => false);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
