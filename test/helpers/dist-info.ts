// Builds install records by hand in a test's target, as pip writes them for `--target` (PEP 376/627,
// the wheel spec's RECORD, PEP 610), plus mpip's own mpip.json: the input the read side must understand
// whoever wrote it.

import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export interface RecordedPackage {
  name: string;
  version: string;
  summary?: string;
  requires?: string[];
  /** Installed files, relative to the target: written and listed in RECORD with their hash and size. */
  files: Record<string, string | Uint8Array>;
  installer?: string;
  requested?: boolean;
  directUrl?: unknown;
  mpip?: unknown;
  /** Replaces the RECORD that would be written. */
  record?: string;
  /** Replaces METADATA. */
  metadata?: string | Uint8Array;
}

/** PEP 503 normalized, then `-` to `_`: the dist-info folder's name part. */
export function distInfoName(name: string, version: string): string {
  return `${name.replace(/[-_.]+/g, "_").toLowerCase()}-${version}.dist-info`;
}

export function recordHash(data: string | Uint8Array): string {
  return `sha256=${createHash("sha256").update(data).digest("base64url")}`;
}

/** Writes the package's files and its dist-info folder into `target`; returns the folder's name. */
export async function writeRecordedPackage(target: string, pkg: RecordedPackage): Promise<string> {
  const folder = distInfoName(pkg.name, pkg.version);
  const rows: string[] = [];
  for (const [file, data] of Object.entries(pkg.files)) {
    await mkdir(path.dirname(path.join(target, file)), { recursive: true });
    await writeFile(path.join(target, file), data);
    rows.push(`${csvField(file)},${recordHash(data)},${Buffer.byteLength(data)}`);
  }
  await mkdir(path.join(target, folder), { recursive: true });
  const metadata = pkg.metadata ?? [
    "Metadata-Version: 2.1",
    `Name: ${pkg.name}`,
    `Version: ${pkg.version}`,
    ...(pkg.summary === undefined ? [] : [`Summary: ${pkg.summary}`]),
    ...(pkg.requires ?? []).map((requirement) => `Requires-Dist: ${requirement}`),
    "",
  ].join("\n");
  const own: Record<string, string | Uint8Array> = { METADATA: metadata, INSTALLER: `${pkg.installer ?? "pip"}\n` };
  if (pkg.requested !== false) own.REQUESTED = "";
  if (pkg.directUrl !== undefined) own["direct_url.json"] = JSON.stringify(pkg.directUrl);
  if (pkg.mpip !== undefined) own["mpip.json"] = JSON.stringify(pkg.mpip);
  for (const [name, data] of Object.entries(own)) {
    await writeFile(path.join(target, folder, name), data);
    rows.push(`${folder}/${name},${recordHash(data)},${Buffer.byteLength(data)}`);
  }
  rows.push(`${folder}/RECORD,,`);
  await writeFile(path.join(target, folder, "RECORD"), pkg.record ?? `${rows.join("\n")}\n`);
  return folder;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
