// Staging one distribution's record: its `.dist-info` files are written into the install's staging
// folder beside the package's own staged files, and committed with them in the same journaled commit
// (image/commit.ts), so a killed run leaves records and files consistent: both old, or both new.

import { writeFileSync } from "node:fs";
import path from "node:path";
import type { FileDigest } from "../image/commit-plan.js";
import { digestOf, hashInChunks } from "../image/fs-ops.js";
import { makeDirsSync } from "../image/make-dirs.js";
import { FILE_JOBS, mapInOrder, Pool } from "../pool.js";
import {
  DIRECT_URL, distInfoName, formatMetadata, formatRecord, INSTALLER, INSTALLER_NAME, METADATA, PROVENANCE, RECORD, recordedVersion, recordHash, REQUESTED,
  type CoreMetadata, type Provenance, type RecordRow,
} from "./format.js";

/** PEP 610's `direct_url.json`: an archive (with its hash) or a local folder. */
export type DirectUrl =
  | { url: string; archive_info: { hashes?: { sha256: string }; hash?: string } }
  | { url: string; dir_info: Record<string, never> };

export interface RecordInput {
  name: string;
  /** As the source gave it ("" when it gave none: recorded as `0`). */
  version: string;
  summary?: string;
  requiresDist: string[];
  /** Whether the user asked for it (not only a dependency): writes `REQUESTED`. */
  requested: boolean;
  directUrl?: DirectUrl;
  provenance: Provenance;
  /**
   * The package's files this record lists, relative to the target, with the staged copy to hash, or its
   * size and sha256 when the caller knows them (written and hashed while unpacking).
   */
  files: Array<{ path: string; staged: string; digest?: FileDigest }>;
}

export interface StagedRecord {
  /** `name-version.dist-info`. */
  distInfo: string;
  /**
   * The staged folder that holds the record's own files, by name: each of `files` (relative to the target,
   * `{distInfo}/{name}`) is staged as `{dir}/{name}` (`stagedRecordFile`). The folder's name is not the
   * record's: a folder less to make and remove per package.
   */
  dir: string;
  files: string[];
  /**
   * The size and sha256 of every file the record lists that has content: the package's files as read
   * from staging here, and the record's own files as written; by target-relative path. The commit's
   * journal takes them (commit-plan.ts `Placement.digest`) instead of reading each file again.
   */
  digests: Map<string, FileDigest>;
}

/**
 * Writes `{dir}/{name}-{version}.dist-info/` with METADATA, INSTALLER, REQUESTED (when requested),
 * direct_url.json (for a direct source), mpip.json and RECORD, which lists every file of `input.files`
 * with its sha256 and size, then the record's own files (RECORD itself without a hash), as the binary
 * distribution format's RECORD does. Throws what the filesystem throws.
 */
export async function stageRecord(dir: string, input: RecordInput): Promise<StagedRecord> {
  const distInfo = distInfoName(input.name, input.version);
  const metadata: CoreMetadata = {
    name: input.name,
    version: recordedVersion(input.version),
    ...(input.summary === undefined ? {} : { summary: input.summary }),
    requiresDist: input.requiresDist,
  };
  const own: Array<[string, string]> = [
    [INSTALLER, `${INSTALLER_NAME}\n`],
    [METADATA, formatMetadata(metadata)],
    ...(input.requested ? [[REQUESTED, ""] as [string, string]] : []),
    ...(input.directUrl === undefined ? [] : [[DIRECT_URL, `${JSON.stringify(input.directUrl)}\n`] as [string, string]]),
    [PROVENANCE, `${JSON.stringify(input.provenance)}\n`],
  ];
  // The record's own files are a few small files in a folder of the run's own: written in blocking calls,
  // one after the other. Handed to libuv's threads, each file took three trips there and back (open,
  // write, close), each costing more CPU than making the file (on a 2-core virtual machine, 21 packages
  // from a server answering at once: 364 -> 341 ms, 399 -> 364 ms of CPU, medians of 21 alternating runs).
  // A file of the package whose hash is not known yet (a package document's) is read without blocking:
  // it may be megabytes. Each such read holds a turn of `fileCalls`, shared by every record staged in the process.
  makeDirsSync(dir);
  const digests = new Map<string, FileDigest>();
  // mapInOrder waits for every call before it throws: nothing is still reading when the run cleans up.
  const hashed = await mapInOrder(input.files, FILE_JOBS, async (file) => file.digest ?? fileCalls.run(() => hashInChunks(file.staged)));
  const rows: RecordRow[] = input.files.map((file, at) => {
    const { size, sha256 } = hashed[at]!;
    digests.set(file.path, { size, sha256 });
    return { path: file.path, hash: recordHash(sha256), size };
  });
  const written = own.map(([name, text]) => [name, Buffer.from(text, "utf8")] as const);
  for (const [name, data] of written) writeFileSync(childPath(dir, name), data);
  for (const [name, data] of written) {
    const digest = digestOf(data);
    digests.set(`${distInfo}/${name}`, digest);
    rows.push({ path: `${distInfo}/${name}`, hash: recordHash(digest.sha256), size: data.length });
  }
  rows.push({ path: `${distInfo}/${RECORD}` });
  const record = Buffer.from(formatRecord(rows), "utf8");
  writeFileSync(childPath(dir, RECORD), record);
  digests.set(`${distInfo}/${RECORD}`, digestOf(record));
  return { distInfo, dir, files: [...own.map(([name]) => `${distInfo}/${name}`), `${distInfo}/${RECORD}`], digests };
}

/**
 * The file handles records hold open at once, whatever stages them: an install stages a record per package
 * side by side, each ahead (record/stage.ts RecordsAhead) while packages still unpack, and each record's
 * files side by side too. Bounded per record only, 40 packages of 40 files took hundreds of descriptors
 * at once and an install under `ulimit -n 256` failed (EMFILE) where its files were being unpacked.
 */
const fileCalls = new Pool(FILE_JOBS);

/**
 * `path.join(dir, name)` for a folder `dir` that path.join or path.resolve made (normalized, with no
 * trailing separator) and `name` one plain segment (a record file's name, a counter): the same string,
 * without join's pass over every character of the whole path, which a short run makes interpreted
 * (~10 µs a call; an install makes several a package for its records).
 */
export function childPath(dir: string, name: string): string {
  return `${dir}${path.sep}${name}`;
}

/** Where the record file `file` (`{distInfo}/{name}`, one of `record.files`) is staged. */
export function stagedRecordFile(record: Pick<StagedRecord, "dir">, file: string): string {
  return childPath(record.dir, path.posix.basename(file));
}

/**
 * Stages a rewritten RECORD for a distribution already in the target that loses files to another one
 * (a file two packages ship belongs to the later): `rows` without the lost paths. Returns the staged file.
 */
export async function stageRewrittenRecord(dir: string, rows: readonly RecordRow[]): Promise<string> {
  makeDirsSync(dir);
  const file = path.join(dir, RECORD);
  writeFileSync(file, formatRecord(rows));
  return file;
}
