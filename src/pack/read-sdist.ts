// Reads any sdist into memory for `repack`: any deflate window (inflated at windowBits 15), ustar, pax or
// GNU tar (applied by the same strict reader `install` uses, so repack accepts what install accepts). Entry
// names are hostile input: the same path rules as install, and only regular files and folders are taken.
// In memory because the output is rebuilt whole and MicroPython packages are small; the limits bound it.

import { gunzipSync } from "node:zlib";
import { MpipError } from "../errors.js";
import { stripEntryPath } from "../archive/entry-path.js";
import { scanGzip } from "../archive/gzip-scan.js";
import { TarFormatError, TarReader, type TarEntry } from "../archive/tar-reader.js";
import { DEFAULT_LIMITS, formatBytes, type Limits } from "../limits.js";
import { printable } from "../text.js";

export interface SdistFile {
  /** The path below the top folder, e.g. `pkg/__init__.py`. */
  path: string;
  data: Buffer;
}

export interface SdistContents {
  /** The one top folder, e.g. `foo-1.0`. */
  top: string;
  /** Regular files in archive order. */
  files: SdistFile[];
  /** The largest deflate distance of the input: above 4096 it needed more than a device's window. */
  maxDistance: number;
}

export type ReadLimits = Pick<Limits, "maxUnpackedBytes" | "maxEntries">;

/** `label` names the archive in errors, e.g. "`foo-1.0.tar.gz`". */
export function readSdist(data: Buffer, label: string, limits: ReadLimits = DEFAULT_LIMITS): SdistContents {
  const { tar, maxDistance } = inflate(data, label, limits);
  const reader = new TarReader();
  const files: SdistFile[] = [];
  const seen = new Set<string>();
  let top: string | undefined;
  let current: { entry: TarEntry; path: string; chunks: Buffer[] } | undefined;
  let entries = 0;
  try {
    for (const event of reader.push(tar)) {
      if (event.kind === "data") {
        current?.chunks.push(event.bytes);
        continue;
      }
      if (event.kind === "entry-end") {
        if (current !== undefined) files.push({ path: current.path, data: Buffer.concat(current.chunks) });
        current = undefined;
        continue;
      }
      const { entry } = event;
      if (++entries > limits.maxEntries) throw new MpipError("limit-exceeded", `${label} has more than ${limits.maxEntries} entries`);
      const stripped = stripEntryPath(entry.name);
      if (!stripped.ok) throw refuse(label, entry.name, stripped.reason);
      const first = entry.name.split("/").find((segment) => segment !== "" && segment !== ".") ?? "";
      if (top === undefined) top = first;
      else if (first !== top) throw refuse(label, entry.name, `it lies outside the top folder \`${printable(top)}\`; an sdist has exactly one`);
      if (entry.type === "directory") continue;
      if (entry.type !== "file") throw refuse(label, entry.name, `it is a ${entry.type === "unknown" ? `type \`${printable(entry.typeflag)}\`` : entry.type} entry; only regular files and folders are taken`);
      if (stripped.path === "") throw refuse(label, entry.name, "it is a file outside the archive's top folder");
      if (seen.has(stripped.path)) throw refuse(label, entry.name, "the archive holds this path twice");
      seen.add(stripped.path);
      current = { entry, path: stripped.path, chunks: [] };
    }
    reader.finish();
  } catch (error) {
    if (error instanceof TarFormatError) throw corrupt(label, error.message, error);
    throw error;
  }
  if (top === undefined || files.length === 0) throw corrupt(label, "it holds no files", undefined);
  return { top, files, maxDistance };
}

function inflate(data: Buffer, label: string, limits: ReadLimits): { tar: Buffer; maxDistance: number } {
  let size: number;
  let maxDistance: number;
  try {
    const scan = scanGzip(data);
    if (scan.end !== data.length) throw new MpipError("archive-corrupt", `it has ${data.length - scan.end} bytes of trailing data after its gzip stream`);
    size = scan.uncompressedSize;
    maxDistance = scan.maxDistance;
  } catch (error) {
    if (error instanceof MpipError) throw corrupt(label, error.message, error);
    throw error;
  }
  if (size > limits.maxUnpackedBytes) {
    throw new MpipError("limit-exceeded", `${label} unpacks to ${size} bytes, more than the limit of ${formatBytes(limits.maxUnpackedBytes)}`);
  }
  try {
    return { tar: gunzipSync(data, { windowBits: 15, maxOutputLength: Math.max(limits.maxUnpackedBytes, 1) }), maxDistance };
  } catch (error) {
    throw corrupt(label, `its gzip layer does not inflate (${(error as Error).message})`, error);
  }
}

function refuse(label: string, name: string, reason: string): MpipError {
  return new MpipError("unsafe-path", `refused entry \`${printable(name, 400)}\` of ${label}: ${reason}`, {
    hint: "the archive is malformed or malicious; nothing was written",
  });
}

function corrupt(label: string, reason: string, cause: unknown): MpipError {
  return new MpipError("archive-corrupt", `${label} is not a valid .tar.gz sdist: ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
    hint: "pass an sdist (`name-version.tar.gz`) as setuptools or `python -m build` make it",
  });
}
