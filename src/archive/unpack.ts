// Unpack one sdist into a staging folder: check the gzip layer exactly and against the limits before
// inflating a byte, inflate with the window a device would use, read the tar strictly (tar-reader.ts),
// and write only what upip would install, refusing any entry that is unsafe. On failure the folder may
// hold part of the archive: the caller's staging is removed, the target was never touched.

import { createHash, type Hash } from "node:crypto";
import { digestOf } from "../image/fs-ops.js";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { writeFileSync } from "node:fs";
import { makeDirs, makeDirsSync } from "../image/make-dirs.js";
import { ioError } from "../image/io-error.js";
import path from "node:path";
import { createGunzip, gunzipSync } from "node:zlib";
import { MpipError } from "../errors.js";
import { DEFAULT_LIMITS, formatBytes, NAME_MAX, NAME_MAX_HINT, nameTooLong, RATIO_FLOOR_BYTES, type Limits } from "../limits.js";
import { printable, quantity } from "../text.js";
import { isInside } from "./entry-path.js";
import { SMALL_WINDOW, scanGzip, type GzipScan } from "./gzip-scan.js";
import { ArchiveLayout } from "./layout.js";
import { isPkgInfo, isRequiresTxt } from "./skip-rules.js";
import { TarFormatError, TarReader, type TarEntry, type TarEvent } from "./tar-reader.js";

/** `maxMetadataBytes` also caps the requires.txt and PKG-INFO read into memory. */
export type UnpackLimits = Pick<Limits, "maxUnpackedBytes" | "maxEntries" | "maxRatio" | "maxPathLength" | "maxMetadataBytes">;
export { DEFAULT_LIMITS };

export interface Unpacked {
  /** Paths written, relative to the staging folder, in archive order. */
  files: string[];
  /**
   * The size in bytes and sha256 (lowercase hex) of each file written, by its path in `files`: hashed
   * as it was written, so that the install record need not read it back.
   */
  digests: Map<string, { size: number; sha256: string }>;
  /** The largest back-reference distance of the deflate stream: above 4096 a small device cannot inflate it. */
  maxDistance: number;
  requiresTxt?: string;
  /** The PKG-INFO core metadata is read from: the top-level one, else the first `*.egg-info/PKG-INFO`. */
  pkgInfo?: string;
  /**
   * Every PKG-INFO of the archive (top-level and egg-info), each of which must name the same package: the
   * one in `pkgInfo` first, the others in archive order.
   */
  pkgInfos: string[];
}

/** `label` names the archive in errors, e.g. "`foo 1.0` (`foo-1.0.tar.gz`)". */
export async function unpackSdist(data: Buffer, into: string, label: string, limits: UnpackLimits = DEFAULT_LIMITS): Promise<Unpacked> {
  const scan = checkGzip(data, label, limits);
  const windowBits = scan.maxDistance <= SMALL_WINDOW ? 12 : 15;
  // A small archive (the scan knows its exact size) is inflated in one call and its files written with
  // blocking calls, on this thread: a stream and promise-based writes would cost a trip to libuv's
  // threads per chunk and per call, several times what the work itself takes for files of a few KiB
  // (measured: half the time for a hundred such files, more on a loaded machine). A larger one streams.
  const atOnce = scan.uncompressedSize <= INFLATE_AT_ONCE_BYTES;
  const unpacker = new Unpacker(path.resolve(into), label, limits, scan.maxDistance, atOnce);
  if (atOnce) {
    const reader = new TarReader();
    try {
      for (const event of reader.push(gunzipSync(data, { windowBits }))) await unpacker.handle(event);
      reader.finish();
    } catch (error) {
      await unpacker.abort();
      throw asArchiveError(error, label);
    }
    return unpacker.result;
  }
  // A larger archive can hold thousands of entries: it is read whole once with every check and nothing
  // written, so that one refused for what its headers say (more entries than the limit, an unsafe or too
  // long path, a link; wherever it comes in the archive) is refused before a file is made, rather than
  // after thousands of them are written and removed again. What the first reading found, the second
  // writes: both read the same bytes with the same checks.
  await streamInto(data, windowBits, label, new Unpacker(path.resolve(into), label, limits, scan.maxDistance, false, true));
  await streamInto(data, windowBits, label, unpacker);
  return unpacker.result;
}

/** Inflates `data` as a stream and hands the tar's events to `unpacker`; errors become MpipErrors. */
async function streamInto(data: Buffer, windowBits: number, label: string, unpacker: Unpacker): Promise<void> {
  const reader = new TarReader();
  const inflater = createGunzip({ windowBits });
  inflater.end(data);
  try {
    for await (const chunk of inflater) {
      for (const event of reader.push(chunk as Buffer)) await unpacker.handle(event);
    }
    reader.finish();
  } catch (error) {
    inflater.destroy();
    await unpacker.abort();
    throw asArchiveError(error, label);
  }
}

/** Archives that unpack to at most this are inflated in one call (a few times more than a typical MicroPython package). */
export const INFLATE_AT_ONCE_BYTES = 256 * 1024;

/** The exact deflate scan, then the limits: all before anything is inflated. */
function checkGzip(data: Buffer, label: string, limits: UnpackLimits): GzipScan {
  let scan: GzipScan;
  try {
    scan = scanGzip(data);
  } catch (error) {
    if (error instanceof MpipError) throw corrupt(label, error.message, error);
    throw error;
  }
  if (scan.end !== data.length) {
    throw new MpipError("archive-corrupt", `${label} has ${quantity(data.length - scan.end, "byte")} of trailing data after its gzip stream`, {
      hint: "the archive is damaged or not a plain .tar.gz; download it again or ask its publisher",
    });
  }
  const size = scan.uncompressedSize;
  if (size > limits.maxUnpackedBytes) {
    throw new MpipError("limit-exceeded", `${label} unpacks to ${size} bytes, more than the limit of ${formatBytes(limits.maxUnpackedBytes)}`, {
      hint: "MicroPython packages are small, so this looks like a decompression bomb; if you trust the archive, raise the limit with --max-unpacked-bytes",
    });
  }
  const ratio = size / data.length;
  if (size > RATIO_FLOOR_BYTES && ratio > limits.maxRatio) {
    throw new MpipError("limit-exceeded", `${label} is compressed ${Math.round(ratio)}:1 (${data.length} bytes unpack to ${size}), more than the limit of ${limits.maxRatio}:1 for archives over ${formatBytes(RATIO_FLOOR_BYTES)}`, {
      hint: "real packages compress far less than that, so this looks like a decompression bomb; if you trust the archive, raise the limit with --max-ratio",
    });
  }
  return scan;
}

type Sink =
  | { kind: "discard" }
  | { kind: "file"; handle: FileHandle; relative: string; hash: Hash; size: number }
  | { kind: "memory"; destination: string; relative: string; chunks: Buffer[] }
  | { kind: "text"; field: "requiresTxt" | "pkgInfo"; name: string; chunks: Buffer[]; bytes: number; topLevel?: boolean };

const DISCARD: Sink = { kind: "discard" };

class Unpacker {
  readonly result: Unpacked;
  private sink: Sink = DISCARD;
  private entries = 0;
  /** What is installed where, and what the archive may not hold (layout.ts). */
  private readonly layout = new ArchiveLayout();
  /** Folders made for files so far. */
  private readonly folders = new Set<string>();

  /**
   * `atOnce`: the archive is inflated already, and small: each file is written whole, by blocking calls.
   * `checkOnly`: every check is made and nothing is written (no folder, no file; `files` stays empty).
   */
  constructor(private readonly root: string, private readonly label: string, private readonly limits: UnpackLimits, maxDistance: number, private readonly atOnce = false, private readonly checkOnly = false) {
    this.result = { files: [], digests: new Map(), maxDistance, pkgInfos: [] };
  }

  async handle(event: TarEvent): Promise<void> {
    switch (event.kind) {
      case "entry":
        this.sink = await this.open(event.entry);
        return;
      case "data":
        if (this.sink.kind === "file") {
          await this.sink.handle.write(event.bytes);
          this.sink.hash.update(event.bytes);
          this.sink.size += event.bytes.length;
        } else if (this.sink.kind === "memory") this.sink.chunks.push(event.bytes);
        else if (this.sink.kind === "text") this.readText(this.sink, event.bytes);
        return;
      case "entry-end": {
        const sink = this.sink;
        this.sink = DISCARD;
        if (sink.kind === "file") {
          await sink.handle.close();
          this.result.digests.set(sink.relative, { size: sink.size, sha256: sink.hash.digest("hex") });
        } else if (sink.kind === "memory") {
          const data = sink.chunks.length === 1 ? sink.chunks[0]! : Buffer.concat(sink.chunks);
          writeFileSync(sink.destination, data, { flag: "wx" });
          this.result.digests.set(sink.relative, digestOf(data));
        }
        else if (sink.kind === "text") {
          const text = Buffer.concat(sink.chunks).toString("utf8");
          if (sink.field === "requiresTxt") this.result.requiresTxt = text;
          else {
            if (sink.topLevel === true) this.result.pkgInfos.unshift(text);
            else this.result.pkgInfos.push(text);
            this.result.pkgInfo = this.result.pkgInfos[0];
          }
        }
        return;
      }
    }
  }

  async abort(): Promise<void> {
    if (this.sink.kind === "file") await this.sink.handle.close().catch(() => undefined);
    this.sink = DISCARD;
  }

  private async open(entry: TarEntry): Promise<Sink> {
    const { name } = entry;
    if (++this.entries > this.limits.maxEntries) {
      throw new MpipError("limit-exceeded", `${this.label} has more than ${quantity(this.limits.maxEntries, "entry", "entries")}`, {
        hint: "MicroPython packages hold a few dozen files, so this looks like an archive bomb; if you trust the archive, raise the limit with --max-entries",
      });
    }
    const admitted = this.layout.admit(entry);
    if (!admitted.ok) throw this.refuse(name, admitted.reason, admitted.hint);
    if (admitted.kind === "folder") return DISCARD; // folders are made for the files inside them
    const relative = admitted.path;
    if (admitted.skipped) {
      if (isRequiresTxt(relative)) return { kind: "text", field: "requiresTxt", name, chunks: [], bytes: 0 };
      if (isPkgInfo(relative)) return { kind: "text", field: "pkgInfo", name, chunks: [], bytes: 0, topLevel: relative === "PKG-INFO" };
      return DISCARD;
    }
    const long = nameTooLong(relative);
    if (long !== undefined) {
      throw new MpipError("limit-exceeded", `refused entry \`${printable(name, 400)}\` of ${this.label}: its name \`${printable(long.name, 80)}\` is ${long.bytes} bytes long, more than the ${NAME_MAX} a file or folder name can have`, { hint: NAME_MAX_HINT });
    }
    const length = Buffer.byteLength(relative);
    if (length > this.limits.maxPathLength) {
      throw new MpipError("limit-exceeded", `refused entry \`${printable(name, 400)}\` of ${this.label}: its path is ${length} bytes long, more than the limit of ${this.limits.maxPathLength}`, {
        hint: "device filesystems (FAT, littlefs) take names of at most 255 bytes; if your target takes longer paths, raise the limit with --max-path-length",
      });
    }
    const destination = path.resolve(this.root, relative);
    if (!isInside(this.root, destination, path.sep)) throw this.refuse(name, "it would be written outside the install folder");
    if (this.checkOnly) return DISCARD;
    // Each folder once per archive (the staging folder is this run's alone).
    const folder = path.dirname(destination);
    if (!this.folders.has(folder)) {
      // not mkdir({ recursive }) alone: it hides ENOSPC as ENOENT
      if (this.atOnce) makeDirsSync(folder);
      else await makeDirs(folder);
      this.folders.add(folder);
    }
    if (this.atOnce) {
      this.result.files.push(relative);
      return { kind: "memory", destination, relative, chunks: [] };
    }
    const handle = await open(destination, "wx");
    this.result.files.push(relative);
    return { kind: "file", handle, relative, hash: createHash("sha256"), size: 0 };
  }

  private readText(sink: Extract<Sink, { kind: "text" }>, bytes: Buffer): void {
    sink.bytes += bytes.length;
    if (sink.bytes > this.limits.maxMetadataBytes) {
      throw new MpipError("limit-exceeded", `refused entry \`${printable(sink.name, 400)}\` of ${this.label}: it is larger than the limit of ${formatBytes(this.limits.maxMetadataBytes)} for metadata`, {
        hint: "a real requires.txt or PKG-INFO is a few KiB; if you trust the archive, raise the limit with --max-metadata-bytes",
      });
    }
    sink.chunks.push(Buffer.from(bytes));
  }

  private refuse(entryName: string, reason: string, hint = "the archive is malformed or malicious; nothing was installed from it"): MpipError {
    return new MpipError("unsafe-path", `refused entry \`${printable(entryName, 400)}\` of ${this.label}: ${reason}`, { hint });
  }
}

function corrupt(label: string, reason: string, cause: unknown): MpipError {
  return new MpipError("archive-corrupt", `${label} is not a valid .tar.gz archive: ${reason}`, {
    cause,
    hint: "the archive is damaged; download it again or ask its publisher",
  });
}

/** Known failures from zlib, the tar reader and the filesystem become MpipErrors; anything else is a bug and stays one. */
function asArchiveError(error: unknown, label: string): unknown {
  if (error instanceof MpipError) return error;
  if (error instanceof TarFormatError) return corrupt(label, error.message, error);
  const err = error as NodeJS.ErrnoException;
  if (typeof err?.code === "string" && err.code.startsWith("Z_")) return corrupt(label, `its gzip layer does not inflate (${err.message})`, error);
  if (typeof err?.code === "string" && /^E[A-Z]+$/.test(err.code) && err.syscall !== undefined) {
    return ioError(`could not write ${label} to the staging folder`, error, "check that the install folder's parent is writable");
  }
  return error;
}
