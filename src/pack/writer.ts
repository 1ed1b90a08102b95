// The archive mpip writes: a plain ustar tar, gzip level 9 with a 4 KiB window, byte for byte reproducible.
// Plain ustar because device readers (upip's, MicroPython's `tarfile`) read only the 100-byte name field and
// decide "folder" from a trailing `/`: they write pax headers out as files and ignore the ustar `prefix`
// field (upip's utarfile and micropython-lib's tarfile read plain ustar only). So a longer name is refused here rather than split or extended. Every name
// must also be one FAT holds as written, and no two paths one on FAT (archive/fat-names.ts): `mpip install`
// refuses such an archive, and a device's card cannot hold it.
//
// Reproducible: entries sorted by the bytes of their path, a folder entry before its contents, owner 0/0
// with empty owner names, modes 0644 (files) and 0755 (folders), one mtime for every entry, and a fixed gzip
// header (mtime 0, OS byte 3 "Unix", as zlib writes it on Linux and as sdist_upip's archives carry it).
// The mtime is `options.mtime`, else `SOURCE_DATE_EPOCH` when it is a whole number of seconds, else
// DEFAULT_MTIME (1980-01-01T00:00:00Z, the earliest time a zip can hold; chosen as the reproducible-builds
// convention). An invalid SOURCE_DATE_EPOCH is ignored, as if it were unset.
//
// The whole archive is built in memory: MicroPython packages are a few KiB to a few hundred KiB.

import * as pako from "pako";
import { CaseIndex, describeClash } from "../archive/case-fold.js";
import { FAT_LIMITS, fatPathProblem } from "../archive/fat-names.js";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";

export interface ArchiveFile {
  /** Relative to the archive root, including the top folder: `name-1.0/pkg/__init__.py`. */
  path: string;
  data: Uint8Array;
}

export interface WriteOptions {
  /** Seconds since the epoch for every entry; see the module comment for the default. */
  mtime?: number;
}

export const DEFAULT_MTIME = 315532800; // 1980-01-01T00:00:00Z
export const MAX_NAME_BYTES = 100; // the ustar name field: all a device reader looks at
export const GZIP_OS_UNIX = 3;
const MAX_OCTAL_11 = 0o77777777777; // what 11 octal digits hold: sizes and mtimes

const BLOCK = 512;
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/** Orders paths by their UTF-8 bytes (the same as by code point): the same on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** The mtime written when the caller gives none: SOURCE_DATE_EPOCH if valid, else DEFAULT_MTIME. */
export function defaultMtime(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.SOURCE_DATE_EPOCH?.trim();
  if (value !== undefined && /^\d{1,12}$/.test(value) && Number(value) <= MAX_OCTAL_11) return Number(value);
  return DEFAULT_MTIME;
}

/** The .tar.gz bytes. Throws `archive-name` for a path a device reader could not take, naming it. */
export function writeSdist(files: ArchiveFile[], options: WriteOptions = {}): Buffer {
  return gzipFixed(writeTar(files, options));
}

/** The uncompressed tar (exported for tests and for `check`'s own round trips). */
export function writeTar(files: ArchiveFile[], options: WriteOptions = {}): Buffer {
  const mtime = options.mtime ?? defaultMtime();
  if (!Number.isInteger(mtime) || mtime < 0 || mtime > MAX_OCTAL_11) {
    throw new MpipError("usage", `the archive mtime must be a whole number of seconds from 0 to ${MAX_OCTAL_11}, not ${mtime}`);
  }
  const sorted = [...files].sort((a, b) => comparePaths(a.path, b.path));
  const filePaths = new Set<string>();
  const fat = new CaseIndex<undefined>();
  for (const file of sorted) {
    checkPath(file.path);
    if (filePaths.has(file.path)) throw nameError(file.path, "the archive would hold it twice");
    filePaths.add(file.path);
  }
  for (const file of sorted) {
    // The very same path as a file and a folder is said below, as such.
    const clash = fat.add(file.path, undefined).find((found) => found.path !== found.other.path);
    if (clash !== undefined) throw nameError(file.path, describeClash(clash), RENAME_HINT);
  }
  const blocks: Buffer[] = [];
  const folders = new Set<string>();
  for (const file of sorted) {
    const parts = file.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join("/");
      if (filePaths.has(folder)) throw nameError(file.path, `\`${folder}\` is both a file and a folder`);
      if (folders.has(folder)) continue;
      folders.add(folder);
      blocks.push(header(`${folder}/`, "5", DIR_MODE, 0, mtime));
    }
    blocks.push(header(file.path, "0", FILE_MODE, file.data.length, mtime));
    blocks.push(Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength));
    const rest = file.data.length % BLOCK;
    if (rest !== 0) blocks.push(Buffer.alloc(BLOCK - rest));
  }
  blocks.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker
  return Buffer.concat(blocks);
}

/** gzip level 9, 4 KiB window, memLevel 8 (sdist_upip's `zlib.compressobj(9, DEFLATED, 16 + 12)`), fixed header. */
export function gzipFixed(tar: Uint8Array): Buffer {
  // pako, not node:zlib: the archive must be byte-identical on any machine, and node:zlib is whatever zlib
  // the Node binary was built with (Chromium's bundled fork, or the system's with --shared-zlib), whose
  // deflate output can differ between versions. pako is pinned in the lock file; archives are small, so
  // its slower deflate (bench/inflate.ts) costs milliseconds. Installing still inflates with node:zlib.
  const gz = Buffer.from(pako.gzip(tar, { level: 9, windowBits: 12, memLevel: 8 }));
  gz.writeUInt32LE(0, 4); // MTIME: none (node writes 0 already; kept explicit)
  gz[9] = GZIP_OS_UNIX; // zlib writes the build platform here; fixed so every machine agrees
  return gz;
}

const RENAME_HINT = `${FAT_LIMITS}, and mpip install refuses them; rename the file or folder`;
const LENGTH_HINT = `device tar readers (upip, MicroPython's tarfile) read names of at most ${MAX_NAME_BYTES} bytes including the top folder; shorten the package, module or file name`;

function nameError(path: string, reason: string, hint = LENGTH_HINT): MpipError {
  return new MpipError("archive-name", `cannot write \`${printable(path, 400)}\` into the archive: ${reason}`, { hint });
}

/** A relative path of non-empty segments, no `.`/`..`, no backslash or control characters, names FAT holds, ≤ 100 UTF-8 bytes. */
function checkPath(path: string): void {
  if (path === "" || path.startsWith("/")) throw nameError(path, "the path must be relative and not empty");
  if (path.includes("\\")) throw nameError(path, "it contains a backslash");
  if (/[\x00-\x1f\x7f-\x9f]/.test(path)) throw nameError(path, "it contains a control character");
  // mpip install refuses `:` (a drive or a Windows data stream), so an archive mpip writes never holds one.
  if (path.includes(":")) throw nameError(path, "it contains `:`, which Windows and FAT read as a drive or a data stream");
  if (/[\ud800-\udfff]/.test(path.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ""))) throw nameError(path, "it is not valid Unicode (a lone surrogate)");
  const segments = path.split("/");
  if (segments.length < 2) throw nameError(path, "every file must lie inside the archive's top folder (`name-version/`)");
  if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) throw nameError(path, "it has an empty, `.` or `..` segment");
  const problem = fatPathProblem(path);
  if (problem !== undefined) throw nameError(path, problem, RENAME_HINT);
  const bytes = Buffer.byteLength(path, "utf8");
  // A folder's entry (its path and a trailing `/`) is always shorter than the files inside it.
  if (bytes > MAX_NAME_BYTES) throw nameError(path, `its name is ${bytes} bytes long, more than the ${MAX_NAME_BYTES} that plain ustar holds`);
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** One ustar header, the fields as Python's tarfile writes them (USTAR_FORMAT, no prefix). */
function header(name: string, typeflag: "0" | "5", mode: number, size: number, mtime: number): Buffer {
  if (size > MAX_OCTAL_11) throw nameError(name, `it is ${size} bytes long, more than ustar's size field holds`);
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, MAX_NAME_BYTES, "utf8");
  block.write(octal(mode, 8), 100, "latin1");
  block.write(octal(0, 8), 108, "latin1"); // uid
  block.write(octal(0, 8), 116, "latin1"); // gid
  block.write(octal(size, 12), 124, "latin1");
  block.write(octal(mtime, 12), 136, "latin1");
  block.write(typeflag, 156, "latin1");
  block.write("ustar\u000000", 257, "latin1"); // magic "ustar\0", version "00"; uname and gname stay empty
  block.write(octal(0, 8), 329, "latin1"); // devmajor
  block.write(octal(0, 8), 337, "latin1"); // devminor
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return block;
}
