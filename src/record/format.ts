// The install record's format: one `NAME-VERSION.dist-info/` folder per distribution in the target, as
// pip writes it for `--target` and pipkin on a device (PEP 376, PEP 627, PEP 610, the binary distribution
// format's RECORD), so that `pip list --path`, `importlib.metadata` and pipkin read
// what mpip installed. Pure functions only: names, the RECORD CSV, METADATA and mpip's own `mpip.json`,
// as written. I/O is in write.ts (staging a record); records in a target are read by read.ts alone.

import { normalizeVersion } from "../versions.js";
import { parseRecordCsv } from "./csv.js";

export const DIST_INFO_SUFFIX = ".dist-info";
export const METADATA = "METADATA";
export const RECORD = "RECORD";
export const INSTALLER = "INSTALLER";
export const REQUESTED = "REQUESTED";
export const DIRECT_URL = "direct_url.json";
/** mpip's own file: where the distribution came from (index, kind, artifact), beyond what PEP 610 says. */
export const PROVENANCE = "mpip.json";
export const INSTALLER_NAME = "mpip";
/** The version recorded for a package whose source gives none (a package.json without `version`, a bare module). */
export const UNKNOWN_VERSION = "0";

/** One row of RECORD: a path relative to the folder that holds the `.dist-info`, `/`-separated. */
export interface RecordRow {
  path: string;
  /** `sha256=<urlsafe base64, no padding>`; undefined for RECORD itself (and rows another tool left bare). */
  hash?: string;
  size?: number;
}

/** The core metadata fields mpip writes and reads (Metadata-Version 2.1). */
export interface CoreMetadata {
  name: string;
  version: string;
  summary?: string;
  /** PEP 508 requirement strings, one per `Requires-Dist:` line. */
  requiresDist: string[];
}

/** How a distribution's source is named in `mpip.json` (`kind`). */
export type SourceKind = "pypi" | "simple" | "mip" | "find-links" | "url" | "path" | "github" | "gitlab" | "codeberg";

/** `mpip.json`: where a distribution came from and how it was built into the image. */
export interface Provenance {
  /** The index URL (credentials removed) or find-links folder it was chosen from; null for a direct source. */
  index: string | null;
  kind: SourceKind;
  /** What was fetched: an sdist, a package document, one module, or a project folder packed on the spot. */
  artifact: "dist" | "package-json" | "module" | "project";
  /** The artifact's URL or path (credentials removed). */
  url: string | null;
  /** sha256 (hex) of the fetched artifact, when there is one. */
  sha256: string | null;
  /** The spec as the user gave it, for a direct source; null for one chosen from an index. */
  spec: string | null;
  /** How its files were built: compiled to .mpy (keeping sources or not), and for which .mpy version. */
  build: { compile: "no" | "mpy" | "mpy+sources"; mpy: string | null };
}

/**
 * The binary distribution format's escaping of a name: every run of characters other than letters and
 * digits (`-`, `_`, `.` in a valid name) becomes `_`, lowercased.
 */
export function escapeName(name: string): string {
  const escaped = name.replace(/[^A-Za-z0-9]+/g, "_").toLowerCase();
  return escaped === "" || escaped === "_" ? "unknown" : escaped;
}

/** The longest `Version:` a record is read with. */
export const MAX_RECORDED_VERSION_LENGTH = 100;
/** What a `Version:` header cannot hold and still be read back (read.ts): space, control characters, `,;#`. */
const UNRECORDABLE = /[\s\0-\x1f\x7f-\x9f,;#]+/g;

/** Whether `version` is one a record is read with (the rule read.ts applies and recordedVersion keeps). */
export function isRecordableVersion(version: string): boolean {
  return version !== "" && version.length <= MAX_RECORDED_VERSION_LENGTH && !new RegExp(UNRECORDABLE.source).test(version);
}

/**
 * The version as core metadata gives it: PEP 440 normalized; `0` for none; else the text as it is, but
 * with what a record cannot be read back with (a package document's `version` is free text: `v1.2 beta`,
 * or a line break) as `_`, and at most 100 characters, so that every package installed is recorded.
 */
export function recordedVersion(version: string): string {
  if (version === "") return UNKNOWN_VERSION;
  const normalized = normalizeVersion(version);
  if (normalized !== undefined) return normalized;
  const characters = [...version.replace(UNRECORDABLE, "_")];
  while (characters.join("").length > MAX_RECORDED_VERSION_LENGTH) characters.pop();
  return characters.join("");
}

/** The version as a folder name carries it: normalized, and anything but `[A-Za-z0-9.+!]` as `_`. */
export function escapeVersion(version: string): string {
  return recordedVersion(version).replace(/[^A-Za-z0-9.+!]+/g, "_");
}

/** `{escaped name}-{escaped version}.dist-info`, e.g. `foo_bar-1.0rc1.dist-info` for `Foo.Bar 1.0-RC1`. */
export function distInfoName(name: string, version: string): string {
  return `${escapeName(name)}-${escapeVersion(version)}${DIST_INFO_SUFFIX}`;
}

/** RECORD's hash of a file whose sha256 is `sha256` (lowercase hex): `sha256=` and the digest in urlsafe base64 without `=` padding. */
export function recordHash(sha256: string): string {
  return `sha256=${Buffer.from(sha256, "hex").toString("base64url")}`;
}

/** One CSV field as Python's `csv` module writes it (QUOTE_MINIMAL): quoted only when it must be. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RECORD's text: one `path,hash,size` line per row, `\n`-terminated, as pip writes it. */
export function formatRecord(rows: readonly RecordRow[]): string {
  return rows.map((row) => `${csvField(row.path)},${row.hash ?? ""},${row.size ?? ""}\n`).join("");
}

/**
 * The rows of a RECORD file, read by the one RECORD reader (csv.ts, as Python's csv module reads it;
 * rows after a quoted field never closed are not read). A row with a size that is not a whole number
 * keeps its path and hash and has no size. Rows without a path are skipped. (read.ts also checks each
 * path; this is the plain form of a row, as `formatRecord` writes it.)
 */
export function parseRecord(text: string): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const { fields } of parseRecordCsv(text).rows) {
    const [file = "", hash = "", size = ""] = fields;
    if (file === "") continue;
    rows.push({ path: file, ...(hash === "" ? {} : { hash }), ...(/^\d+$/.test(size) ? { size: Number(size) } : {}) });
  }
  return rows;
}

/** One header value: core metadata is RFC 822-style, so a line break would start a field of its own. */
function headerValue(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ").trim();
}

/** METADATA's text (Metadata-Version 2.1): Name, Version, Summary when known, one Requires-Dist per requirement. */
export function formatMetadata(metadata: CoreMetadata): string {
  const lines = ["Metadata-Version: 2.1", `Name: ${headerValue(metadata.name)}`, `Version: ${headerValue(metadata.version)}`];
  if (metadata.summary !== undefined && headerValue(metadata.summary) !== "") lines.push(`Summary: ${headerValue(metadata.summary)}`);
  for (const requirement of metadata.requiresDist) lines.push(`Requires-Dist: ${headerValue(requirement)}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The fields of a METADATA (or PKG-INFO) file mpip uses; headers end at the first empty line (the body
 * is the description). Undefined when it has no Name or no Version.
 */
export function parseMetadata(text: string): CoreMetadata | undefined {
  const fields = new Map<string, string[]>();
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    const match = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (match === null) continue;
    const key = match[1]!.toLowerCase();
    fields.set(key, [...(fields.get(key) ?? []), match[2]!.trim()]);
  }
  const name = fields.get("name")?.[0];
  const version = fields.get("version")?.[0];
  if (name === undefined || name === "" || version === undefined || version === "") return undefined;
  const summary = fields.get("summary")?.[0];
  return { name, version, ...(summary === undefined || summary === "" ? {} : { summary }), requiresDist: fields.get("requires-dist") ?? [] };
}
