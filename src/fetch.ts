// The bytes of one distribution file, from the network or disk, verified against the index's sha256.
// Archives are held in memory (MicroPython packages are kilobytes, capped below): the exact gzip
// window check parses the whole deflate stream, and nothing is unpacked before the digest matches.

import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { isInside } from "./archive/entry-path.js";
import { MpipError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { redactUrl } from "./http.js";
import type { Location } from "./sources/types.js";
import { printable } from "./text.js";

/** What to fetch: a location, and the sha256 (or, for mip's short hashes, a prefix of it) it must have. */
export interface Expected {
  location: Location;
  sha256?: string;
}

export interface FetchOptions {
  /**
   * Bytes the file may have, remote or local. Over it, the error's message ends in "is larger than
   * {maxBytes} bytes" (the HTTP client's wording), so callers can name their own limit (`isTooLarge`).
   */
  maxBytes?: number;
  /** Who vouches for the hash and the URL, for messages: "the index" (default), "the package document". */
  authority?: string;
  /** Named by the user (a URL or path given as a spec): a 404 is then a wrong URL, not a broken index. */
  direct?: boolean;
  /**
   * A local file must lie inside this folder once symbolic links are resolved: a local package document
   * named it, and may name only files in its own folder (a lexical check cannot see a link out).
   */
  within?: string;
}

export const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

export interface Fetched {
  data: Buffer;
  sha256: string;
  /** Where the bytes came from, safe to print. */
  origin: string;
}

export async function fetchFile(file: Expected, http: HttpClient, label: string, options: FetchOptions = {}): Promise<Fetched> {
  const location = file.location;
  const authority = options.authority ?? "the index";
  const maxBytes = options.maxBytes ?? MAX_ARCHIVE_BYTES;
  let data: Buffer;
  let origin: string;
  if (location.type === "local") {
    origin = location.path;
    const real = options.within === undefined ? location.path : await confinedPath(location.path, options.within, label, authority);
    data = await readLocal(real, maxBytes, label);
  } else {
    origin = redactUrl(location.url);
    const response = await http.get(location.url, { maxBytes });
    if (response.status === "not-found" && options.direct === true) {
      // A direct spec may also come from a package document's `deps`: the hint blames no one.
      throw new MpipError("not-found", `${label}: \`${origin}\` answered 404 (not found)`, { hint: "check the URL, or the package that names it" });
    }
    if (response.status === "not-found") {
      throw new MpipError("not-found", `${authority} lists ${label} at \`${origin}\`, but that URL answered 404`, {
        hint: `${authority} is out of date or broken; try again later, or tell its maintainers`,
      });
    }
    data = response.body;
  }
  const sha256 = createHash("sha256").update(data).digest("hex");
  const expected = file.sha256?.toLowerCase();
  // mip's package documents give only the first hex digits of the sha256: check as many as there are.
  if (expected !== undefined && (expected.length < 64 ? !sha256.startsWith(expected) : expected !== sha256)) {
    const whose = authority === "the index" ? "the index's sha256" : `the sha256 in ${authority}`;
    throw new MpipError("digest-mismatch", `${label} from \`${origin}\` does not match ${whose} (expected ${expected}${expected.length < 64 ? "…" : ""}, got ${sha256}); nothing of it was written`, {
      hint: options.direct === true
        ? "the file at that URL is not the one the hash was taken from; check the hash, or that the URL serves what you expect"
        : "the download was altered or the index is wrong; try again, and report it to the index if it persists",
    });
  }
  return { data, sha256, origin };
}

/** `file` with its links resolved, refused unless it is inside `root` (links resolved too). */
async function confinedPath(file: string, root: string, label: string, authority: string): Promise<string> {
  const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]).catch((error: NodeJS.ErrnoException) => {
    throw cannotRead(label, file, error);
  });
  if (realFile === realRoot || !isInside(realRoot, realFile, path.sep)) {
    throw new MpipError("unsafe-path", `${authority} names ${label} at \`${printable(file, 300)}\`, which is a symbolic link (or inside one) to \`${printable(realFile, 300)}\`, outside the document's folder \`${printable(realRoot, 300)}\``, {
      hint: "a local package.json may only name files in its own folder or below; nothing was written",
    });
  }
  return realFile;
}

/** A regular file's bytes, refused before reading when it is over `maxBytes` (and checked again after). */
async function readLocal(file: string, maxBytes: number, label: string): Promise<Buffer> {
  // Opening a FIFO blocks until a writer comes (and cannot be interrupted): look before opening, and open
  // without blocking, then check again what was opened.
  const before = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw cannotRead(label, file, error);
  });
  if (!before.isFile()) throw notRegular(label, file);
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
    throw cannotRead(label, file, error);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(label, file);
    if (stats.size > maxBytes) throw localTooLarge(file, maxBytes);
    const data = await handle.readFile();
    if (data.length > maxBytes) throw localTooLarge(file, maxBytes); // it grew while being read
    return data;
  } catch (error) {
    if (error instanceof MpipError) throw error;
    throw cannotRead(label, file, error as NodeJS.ErrnoException);
  } finally {
    await handle.close();
  }
}

function notRegular(label: string, file: string): MpipError {
  return new MpipError("io", `cannot read ${label} from \`${printable(file, 300)}\`: it is not a regular file`, { hint: "name a regular file (not a folder, a pipe or a device)" });
}

function cannotRead(label: string, file: string, error: NodeJS.ErrnoException): MpipError {
  return new MpipError("io", `cannot read ${label} from \`${printable(file, 300)}\` (${error.code ?? error.message})`, { cause: error });
}

/** Worded like the HTTP client's size error (http/body.ts), so `isTooLarge` recognizes both. */
function localTooLarge(file: string, maxBytes: number): MpipError {
  return new MpipError("limit-exceeded", `the file \`${printable(file, 300)}\` is larger than ${maxBytes} bytes`, {
    hint: "this is not a MicroPython package file; check the path",
  });
}
