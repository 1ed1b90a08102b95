// Staging one distribution's record: its `.dist-info` files are written into the install's staging
// folder beside the package's own staged files, and committed with them in the same journaled commit
// (image/commit.ts), so a killed run leaves records and files consistent: both old, or both new.

import { createHash } from "node:crypto";
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { FileDigest } from "../image/commit-plan.js";
import { makeDirs, makeDirsSync } from "../image/make-dirs.js";
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
  /** The package's files this record lists, relative to the target, with the staged copy to hash. */
  files: Array<{ path: string; staged: string }>;
}

export interface StagedRecord {
  /** `name-version.dist-info`. */
  distInfo: string;
  /** The staged folder that holds the `.dist-info` folder; `files` are relative to it and to the target. */
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
  // Blocking calls: a record is a few small files, and by now the run has nothing else to do; a trip to
  // libuv's threads per call would cost several times the work (see archive/unpack.ts).
  makeDirsSync(path.join(dir, distInfo));
  const digests = new Map<string, FileDigest>();
  const rows: RecordRow[] = [];
  for (const file of input.files) {
    const { size, sha256 } = hashFileSync(file.staged);
    digests.set(file.path, { size, sha256: sha256.toString("hex") });
    rows.push({ path: file.path, hash: `sha256=${sha256.toString("base64url")}`, size });
  }
  for (const [name, text] of own) {
    const data = Buffer.from(text, "utf8");
    writeFileSync(path.join(dir, distInfo, name), data);
    digests.set(`${distInfo}/${name}`, digestOf(data));
    rows.push({ path: `${distInfo}/${name}`, hash: recordHash(data), size: data.length });
  }
  rows.push({ path: `${distInfo}/${RECORD}` });
  const record = Buffer.from(formatRecord(rows), "utf8");
  writeFileSync(path.join(dir, distInfo, RECORD), record);
  digests.set(`${distInfo}/${RECORD}`, digestOf(record));
  return { distInfo, dir, files: [...own.map(([name]) => `${distInfo}/${name}`), `${distInfo}/${RECORD}`], digests };
}

const HASH_CHUNK_BYTES = 64 * 1024;
let hashChunk: Buffer | undefined;

/**
 * A staged file's size and sha256, read in chunks into one reused buffer: a package's files may be
 * megabytes, and reading each whole would leave that much garbage behind per file (RECORD's hash, PEP 376).
 */
function hashFileSync(file: string): { size: number; sha256: Buffer } {
  hashChunk ??= Buffer.allocUnsafe(HASH_CHUNK_BYTES);
  const hash = createHash("sha256");
  const fd = openSync(file, "r");
  let size = 0;
  try {
    for (;;) {
      const read = readSync(fd, hashChunk, 0, hashChunk.length, null);
      if (read === 0) break;
      hash.update(hashChunk.subarray(0, read));
      size += read;
    }
  } finally {
    closeSync(fd);
  }
  return { size, sha256: hash.digest() };
}

function digestOf(data: Uint8Array): FileDigest {
  return { size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}


/**
 * Stages a rewritten RECORD for a distribution already in the target that loses files to another one
 * (a file two packages ship belongs to the later): `rows` without the lost paths. Returns the staged file.
 */
export async function stageRewrittenRecord(dir: string, distInfo: string, rows: readonly RecordRow[]): Promise<string> {
  await makeDirs(path.join(dir, distInfo));
  const file = path.join(dir, distInfo, RECORD);
  await writeFile(file, formatRecord(rows));
  return file;
}
