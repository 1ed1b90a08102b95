// Unpack one sdist into a staging folder: check the gzip layer exactly, inflate it with the window a
// device would use, read the tar with pax/GNU names applied, and write only what upip would install.

import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar, { type Extract } from "tar-stream";
import { MpipError } from "../errors.js";
import { isInside, stripEntryPath } from "./entry-path.js";
import { SMALL_WINDOW, scanGzip } from "./gzip-scan.js";
import { isPkgInfo, isRequiresTxt, upipSkips } from "./skip-rules.js";

type Entry = Extract extends AsyncIterable<infer T> ? T : never;

export interface UnpackLimits {
  maxUnpackedBytes: number;
  maxEntries: number;
}

export const DEFAULT_LIMITS: UnpackLimits = { maxUnpackedBytes: 64 * 1024 * 1024, maxEntries: 10_000 };

export interface Unpacked {
  /** Paths written, relative to the staging folder, in archive order. */
  files: string[];
  /** The largest back-reference distance of the deflate stream: above 4096 a small device cannot inflate it. */
  maxDistance: number;
  requiresTxt?: string;
  pkgInfo?: string;
}

/** `label` names the archive in errors, e.g. "`foo 1.0` (`foo-1.0.tar.gz`)". */
export async function unpackSdist(data: Buffer, into: string, label: string, limits: UnpackLimits = DEFAULT_LIMITS): Promise<Unpacked> {
  const scan = scanGzip(data);
  if (scan.end !== data.length) {
    throw new MpipError("archive-corrupt", `${label} has ${data.length - scan.end} bytes of trailing data after its gzip stream`, {
      hint: "the archive is damaged or not a plain .tar.gz; download it again or ask its publisher",
    });
  }
  if (scan.uncompressedSize > limits.maxUnpackedBytes) {
    throw new MpipError("archive-corrupt", `${label} unpacks to ${scan.uncompressedSize} bytes, more than the limit of ${limits.maxUnpackedBytes}`, {
      hint: "MicroPython packages are small; this archive is not one",
    });
  }
  const windowBits = scan.maxDistance <= SMALL_WINDOW ? 12 : 15;
  const result: Unpacked = { files: [], maxDistance: scan.maxDistance };
  const root = path.resolve(into);
  const seen = new Set<string>();
  const extract = tar.extract();
  const reading = pipeline(Readable.from([data]), createGunzip({ windowBits }), extract);
  let entries = 0;
  try {
    for await (const entry of extract) {
      if (++entries > limits.maxEntries) throw unsafe(label, entry.header.name, `the archive has more than ${limits.maxEntries} entries`);
      const target = await unpackEntry(entry, root, label, seen, result);
      if (target === undefined) entry.resume();
    }
    await reading;
  } catch (error) {
    extract.destroy();
    await reading.catch(() => undefined);
    throw asArchiveError(error, label);
  }
  return result;
}

async function unpackEntry(entry: Entry, root: string, label: string, seen: Set<string>, result: Unpacked): Promise<string | undefined> {
  const { name, type } = entry.header;
  const stripped = stripEntryPath(name);
  if (!stripped.ok) throw unsafe(label, name, stripped.reason);
  if (type === "directory") return undefined;
  if (type !== "file" && type !== "contiguous-file") throw unsafe(label, name, `it is a ${type ?? "special"} entry; only regular files and folders are installed`);
  const relative = stripped.path;
  if (relative === "") throw unsafe(label, name, "it is a file outside the archive's top folder");
  if (seen.has(relative)) throw unsafe(label, name, "the archive holds this path twice");
  seen.add(relative);

  if (upipSkips(relative)) {
    if (isRequiresTxt(relative)) result.requiresTxt = await readText(entry);
    else if (isPkgInfo(relative) && (result.pkgInfo === undefined || relative === "PKG-INFO")) result.pkgInfo = await readText(entry);
    else return undefined;
    return relative;
  }
  const destination = path.resolve(root, relative);
  if (!isInside(root, destination, path.sep)) throw unsafe(label, name, "it would be written outside the install folder");
  await mkdir(path.dirname(destination), { recursive: true });
  await pipeline(entry, createWriteStream(destination, { flags: "wx" }));
  result.files.push(relative);
  return relative;
}

async function readText(entry: Entry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function unsafe(label: string, entryName: string, reason: string): MpipError {
  return new MpipError("unsafe-path", `refused entry \`${printable(entryName)}\` of ${label}: ${reason}`, {
    hint: "the archive is malformed or malicious; nothing was installed from it",
  });
}

function printable(text: string): string {
  return text.replace(/[\0-\x1f\x7f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function asArchiveError(error: unknown, label: string): MpipError {
  if (error instanceof MpipError) return error;
  const err = error as NodeJS.ErrnoException;
  if (err.code !== undefined && /^E[A-Z]+$/.test(err.code) && err.syscall !== undefined) {
    return new MpipError("io", `could not write ${label} to the staging folder (${err.code}: ${err.message})`, {
      cause: error,
      hint: err.code === "ENOSPC" ? "the disk is full; free some space and try again" : "check that the install folder's parent is writable",
    });
  }
  return new MpipError("archive-corrupt", `${label} is not a valid .tar.gz archive (${err.message})`, {
    cause: error,
    hint: "the archive is damaged; download it again or ask its publisher",
  });
}
