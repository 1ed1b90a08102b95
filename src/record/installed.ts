// The records already in a target, as an install or an uninstall needs them: which distributions are
// there, at which version, which files each one's RECORD lists, and where each came from. Any tool's
// `.dist-info` (pip's, pipkin's) counts; a folder without a readable METADATA names nothing and is
// passed over, and its files count as no one's.

import { readdir } from "node:fs/promises";
import { readRecordFile, RECORD_FILE_LIMITS } from "./read.js";
import path from "node:path";
import { normalizeName } from "../spec/names.js";
import { errnoCode, ioError } from "../image/io-error.js";
import { isReservedName } from "../image/layout.js";
import { isDistInfoName, METADATA, parseMetadata, parseRecord, PROVENANCE, RECORD, REQUESTED, type Provenance, type RecordRow } from "./format.js";

export interface InstalledDistribution {
  /** The `.dist-info` folder's name, at the top of the target. */
  distInfo: string;
  name: string;
  /** PEP 503 normalized name. */
  key: string;
  version: string;
  summary?: string;
  requiresDist: string[];
  /** RECORD's rows (empty when it has none). */
  rows: RecordRow[];
  /** Every file inside the `.dist-info` folder, as target-relative paths (RECORD may not list them all). */
  infoFiles: string[];
  requested: boolean;
  provenance?: Provenance;
}

/**
 * The distributions recorded at the top of `target`, sorted by folder name; [] when the target does not
 * exist. Throws MpipError `io` when the target cannot be listed.
 */
export async function readInstalled(target: string): Promise<InstalledDistribution[]> {
  let entries: string[];
  try {
    entries = await readdir(target);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw ioError(`cannot list \`${target}\` to read its install records`, error, "check the permissions of the install folder");
  }
  const found: InstalledDistribution[] = [];
  for (const entry of entries.filter(isDistInfoName).sort()) {
    const distribution = await readDistribution(target, entry);
    if (distribution !== undefined) found.push(distribution);
  }
  return found;
}

async function readDistribution(target: string, distInfo: string): Promise<InstalledDistribution | undefined> {
  const folder = path.join(target, distInfo);
  const files = await readdir(folder, { withFileTypes: true }).catch(() => undefined);
  if (files === undefined) return undefined;
  // The same guarded reads as `mpip list` (read.ts): regular files only, no links, no FIFOs, bounded.
  const text = async (name: string) => {
    const read = await readRecordFile(folder, distInfo, name, name === RECORD ? RECORD_FILE_LIMITS.RECORD : name === METADATA ? RECORD_FILE_LIMITS.METADATA : RECORD_FILE_LIMITS.json);
    return read.ok ? read.text : undefined;
  };
  const metadataText = await text(METADATA);
  const metadata = metadataText === undefined ? undefined : parseMetadata(metadataText);
  if (metadata === undefined) return undefined;
  const recordText = await text(RECORD);
  const provenance = parseProvenance(await text(PROVENANCE));
  return {
    distInfo,
    name: metadata.name,
    key: normalizeName(metadata.name),
    version: metadata.version,
    ...(metadata.summary === undefined ? {} : { summary: metadata.summary }),
    requiresDist: metadata.requiresDist,
    rows: recordText === undefined ? [] : ownRows(distInfo, parseRecord(recordText)),
    infoFiles: files.filter((file) => file.isFile()).map((file) => `${distInfo}/${file.name}`).sort(),
    requested: files.some((file) => file.name === REQUESTED),
    ...(provenance === undefined ? {} : { provenance }),
  };
}

/**
 * The rows of a RECORD mpip may act on for this distribution: a row naming a file in another
 * `.dist-info` folder (another package's record) or one of mpip's own files is hostile or broken, and
 * is dropped, as read.ts drops it for `mpip list`: no uninstall or upgrade of this package removes it.
 */
function ownRows(distInfo: string, rows: RecordRow[]): RecordRow[] {
  return rows.filter((row) => {
    const segments = row.path.split("/");
    if (segments.some(isReservedName)) return false;
    return !(isDistInfoName(segments[0]!) && segments[0] !== distInfo);
  });
}

function parseProvenance(text: string | undefined): Provenance | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Provenance> | null;
    return value !== null && typeof value === "object" && typeof value.kind === "string" ? (value as Provenance) : undefined;
  } catch {
    return undefined;
  }
}

/** The target-relative paths a distribution's RECORD lists, outside its own `.dist-info` folder. */
export function recordedFiles(distribution: InstalledDistribution): string[] {
  const prefix = `${distribution.distInfo}/`;
  return distribution.rows.map((row) => row.path).filter((file) => !file.startsWith(prefix) && isSafeRecordPath(file));
}

/**
 * A RECORD path mpip acts on: relative, `/`-separated, inside the target. Paths that leave it (pip
 * writes `../../bin/x` for scripts) or are absolute are never removed by mpip.
 */
export function isSafeRecordPath(file: string): boolean {
  return file !== "" && !file.startsWith("/") && !/^[A-Za-z]:/.test(file) && !file.includes("\\") && !file.includes("\0") && !file.split("/").some((part) => part === ".." || part === "." || part === "");
}
