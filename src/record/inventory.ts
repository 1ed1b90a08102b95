// What a target holds, file by file, and whose each file is: the files every record lists (read.ts), set
// against the files really there. A file two records list is owned by the one that wrote it last (see
// `takeInventory`); a file no record lists is unrecorded (copied by hand, installed by upip or mip).
// mpip's own lock, journal and staging folders are never part of an image and are passed over.
//
// The walk follows no link: a link is listed as a file of its own, and nothing behind a linked folder is
// looked at, so a record cannot make mpip read (or a caller remove) anything outside the target.

import { createHash } from "node:crypto";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { isReservedName } from "../image/layout.js";
import { errnoCode, ioError } from "../image/io-error.js";
import { printable } from "../text.js";
import { readRecords, type Distribution, type ImageRecords, type RecordRow } from "./read.js";
import { isSafeRecordPath } from "./installed.js";
import { diskSpelling } from "./twins.js";
import { widestFold } from "../image/name-rules.js";
import { openRegularFile } from "../local-file.js";

/** One entry of the target that is not a folder. */
export interface ImageFile {
  /** Relative to the target, `/`-separated. */
  path: string;
  size: number;
  kind: "file" | "link" | "other";
}

export interface Inventory extends ImageRecords {
  /** Every file below the target (links and special files included; mpip's own names left out), sorted by path. */
  files: Map<string, ImageFile>;
  /** The distribution each recorded file that is there belongs to. */
  owners: Map<string, Distribution>;
  /** Files two or more records list: every record that lists it, the owner first. */
  shared: Map<string, Distribution[]>;
  /** Files no record lists, sorted. */
  unrecorded: string[];
  /**
   * Recorded paths the target lists under another spelling that its filesystem takes for the same file
   * (FAT, macOS: `pkg/a.py` recorded, `Pkg/A.py` on the disk), with that spelling. See `onDiskPath`.
   */
  spellings: Map<string, string>;
}

/** The most entries a target may hold before mpip stops looking through it. */
export const MAX_IMAGE_ENTRIES = 200_000;

/**
 * Reads the records of `target` (see readRecords) and walks it, telling for every file whose it is.
 * A file inside a distribution's own `.dist-info/` folder is that distribution's whether RECORD lists it
 * or not. When two records list one file, its owner is the one whose recorded hash matches the file as it
 * is now; when both or neither match, the one whose RECORD was written last (then the first by name).
 * @throws MpipError `bad-target` (no such folder), `io` (cannot be listed), `limit-exceeded` (more than
 *   MAX_IMAGE_ENTRIES entries).
 */
export async function takeInventory(target: string): Promise<Inventory> {
  const records = await readRecords(target);
  const warnings = [...records.warnings];
  const files = await walk(records.target, warnings);
  // A recorded path not listed as it is spelt may be one the filesystem folds into a listed one (FAT).
  const spellings = new Map<string, string>();
  const spell = diskSpelling(records.target);
  let folded: Set<string> | undefined; // the walk's paths as widestFold makes them: only a path among them is looked for
  for (const distribution of records.distributions) {
    for (const row of distribution.rows) {
      if (files.has(row.path) || spellings.has(row.path) || !isSafeRecordPath(row.path)) continue;
      folded ??= new Set([...files.keys()].map(widestFold));
      if (!folded.has(widestFold(row.path))) continue;
      const found = spell(row.path);
      if (found !== undefined && files.has(found)) spellings.set(row.path, found);
    }
  }
  const at = (file: string) => spellings.get(file) ?? file;
  const claims = new Map<string, Distribution[]>();
  const claim = (file: string, distribution: Distribution) => {
    const list = claims.get(file) ?? [];
    if (!list.includes(distribution)) list.push(distribution);
    claims.set(file, list);
  };
  for (const distribution of records.distributions) {
    for (const row of distribution.rows) if (files.has(at(row.path))) claim(at(row.path), distribution);
  }
  const byFolder = new Map(records.distributions.map((distribution) => [distribution.distInfo, distribution]));
  for (const file of files.keys()) {
    const distribution = byFolder.get(file.slice(0, file.indexOf("/")));
    if (distribution !== undefined) claim(file, distribution);
  }
  const owners = new Map<string, Distribution>();
  const shared = new Map<string, Distribution[]>();
  for (const [file, claimants] of claims) {
    if (claimants.length === 1) {
      owners.set(file, claimants[0]!);
      continue;
    }
    const ordered = await orderClaimants(records.target, file, claimants);
    owners.set(file, ordered[0]!);
    shared.set(file, ordered);
  }
  const unrecorded = [...files.keys()].filter((file) => !owners.has(file)).sort();
  return { ...records, warnings, files, owners, shared, unrecorded, spellings };
}

/**
 * Where a recorded path (a RECORD row's) is in the inventory: under the spelling the target's folders give
 * it where its filesystem folds names (`Pkg/A.py` for `pkg/a.py` on FAT), else as it is.
 */
export function onDiskPath(inventory: Pick<Inventory, "spellings">, file: string): string {
  return inventory.spellings.get(file) ?? file;
}


/** The files a distribution owns in the inventory (recorded, present and not taken by a later record), sorted. */
export function ownedFiles(inventory: Inventory, distribution: Distribution): string[] {
  return [...inventory.owners].filter(([, owner]) => owner === distribution).map(([file]) => file).sort();
}

/** Files the record lists that are not in the target. */
export function missingFiles(inventory: Inventory, distribution: Distribution): string[] {
  return distribution.rows.filter((row) => !inventory.files.has(onDiskPath(inventory, row.path))).map((row) => row.path);
}

export type FileState = "unchanged" | "changed" | "missing" | "unchecked";

/**
 * Whether a recorded file is as the record says: its digest (sha256, sha384 or sha512) and size match.
 * `unchecked` for a row with no hash (the record's own files) or an algorithm mpip does not know, and
 * for a link or special file; `changed` also when a regular file became a link.
 */
export async function fileState(inventory: Inventory, row: RecordRow): Promise<FileState> {
  return judgeFile(inventory.target, row, inventory.files.get(onDiskPath(inventory, row.path)));
}

/**
 * `fileState` for one file, looked at on the disk now (no inventory): what `uninstall` checks before it
 * removes a file. A folder at the path counts as missing (there is no file to remove).
 */
export async function fileStateOnDisk(target: string, row: RecordRow): Promise<FileState> {
  const info = await lstat(path.join(target, ...row.path.split("/"))).catch(() => undefined);
  if (info === undefined || info.isDirectory()) return "missing";
  return judgeFile(target, row, { path: row.path, size: info.size, kind: info.isFile() ? "file" : info.isSymbolicLink() ? "link" : "other" });
}

async function judgeFile(target: string, row: RecordRow, file: ImageFile | undefined): Promise<FileState> {
  if (file === undefined) return "missing";
  if (row.hash === undefined || !["sha256", "sha384", "sha512"].includes(row.hash.algorithm)) return "unchecked";
  if (file.kind !== "file") return "changed";
  if (row.size !== undefined && row.size !== file.size) return "changed";
  const digest = await digestOf(path.join(target, file.path), row.hash.algorithm);
  return digest === row.hash.digest ? "unchanged" : digest === undefined ? "unchecked" : "changed";
}

async function orderClaimants(target: string, file: string, claimants: Distribution[]): Promise<Distribution[]> {
  const digests = new Map<string, string | undefined>();
  const matches = async (distribution: Distribution): Promise<boolean> => {
    const hash = distribution.rows.find((row) => row.path === file)?.hash;
    if (hash === undefined) return false;
    if (!digests.has(hash.algorithm)) digests.set(hash.algorithm, await digestOf(path.join(target, file), hash.algorithm));
    return digests.get(hash.algorithm) === hash.digest;
  };
  const scored = await Promise.all(claimants.map(async (distribution) => ({ distribution, match: await matches(distribution) })));
  scored.sort((a, b) => Number(b.match) - Number(a.match) || b.distribution.recordTime - a.distribution.recordTime || (a.distribution.distInfo < b.distribution.distInfo ? -1 : 1));
  return scored.map((entry) => entry.distribution);
}

/** urlsafe base64 digest (no padding) of a regular file, read without following a link; undefined if it cannot be read. */
async function digestOf(file: string, algorithm: string): Promise<string | undefined> {
  const opened = await openRegularFile(file, { follow: false });
  if (opened.kind !== "opened") return undefined;
  const { handle } = opened;
  try {
    const hash = createHash(algorithm);
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest("base64url");
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Every non-folder entry below `root`, links not followed, mpip's own names and names that are not UTF-8 passed over. */
async function walk(root: string, warnings: string[]): Promise<Map<string, ImageFile>> {
  const files = new Map<string, ImageFile>();
  let entries = 0;
  const visit = async (relative: string): Promise<void> => {
    const dir = relative === "" ? root : path.join(root, relative);
    let names;
    try {
      names = await readdir(dir, { encoding: "buffer" });
    } catch (error) {
      if (relative !== "" && errnoCode(error) === "ENOENT") return; // removed while we looked
      if (relative !== "" && (errnoCode(error) === "EACCES" || errnoCode(error) === "EPERM")) {
        warnings.push(`the folder \`${printable(relative)}\` cannot be listed (${errnoCode(error)}); its files are not counted`);
        return;
      }
      throw ioError(`cannot list \`${printable(dir)}\``, error, "check its permissions");
    }
    for (const raw of names.sort(Buffer.compare)) {
      if (++entries > MAX_IMAGE_ENTRIES) {
        throw new MpipError("limit-exceeded", `the target \`${printable(root)}\` holds more than ${MAX_IMAGE_ENTRIES} entries; mpip does not look through it`, {
          hint: "is -p the folder you installed into? An image for a device holds far fewer files",
        });
      }
      const name = decodeName(raw);
      const shown = `${relative === "" ? "" : `${printable(relative)}/`}${byteByByte(raw)}`;
      if (name === undefined) {
        warnings.push(`\`${shown}\`: the name is not UTF-8 (shown byte by byte); it is passed over`);
        continue;
      }
      if (isReservedName(name)) continue;
      const child = relative === "" ? name : `${relative}/${name}`;
      let info;
      try {
        info = await lstat(path.join(root, child));
      } catch (error) {
        if (errnoCode(error) === "ENOENT") continue;
        warnings.push(`\`${printable(child)}\` cannot be looked at (${errnoCode(error) ?? String(error)}); it is passed over`);
        continue;
      }
      if (info.isDirectory()) await visit(child);
      else files.set(child, { path: child, size: info.size, kind: info.isFile() ? "file" : info.isSymbolicLink() ? "link" : "other" });
    }
  };
  await visit("");
  return files;
}

/** A name that is not UTF-8: printable ASCII as itself, every other byte as `\xHH`. */
function byteByByte(raw: Buffer): string {
  return [...raw].map((byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`)).join("");
}

function decodeName(raw: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return undefined;
  }
}
