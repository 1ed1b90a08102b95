// Packages that are a list of files (mip package documents, single modules): fetch every file,
// verify it against its hash, and write it to its destination in the package's staging folder.
// Destinations come from the internet: each is checked like a tar entry's name (the document parser
// already did; this checks the resolved path is inside the folder, as node-tar checks twice).

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { checkEntryPath, isInside } from "../archive/entry-path.js";
import { MpipError } from "../errors.js";
import { fetchFile, type Fetched } from "../fetch.js";
import { makeDirs } from "../image/make-dirs.js";
import { formatBytes } from "../limits.js";
import { Pool } from "../pool.js";
import { isTooLarge } from "../sources/metadata.js";
import type { PlannedFile } from "../sources/types.js";
import { printable } from "../text.js";
import type { PrepareContext } from "./context.js";

/** Files of one package fetched at once (the install's own pool is already holding a slot for it). */
const FILES_AT_ONCE = 8;

/** Who names the files: for messages, and for a local document, the folder its files must stay in. */
export interface FilesSource {
  /** "the package document `…`": vouches for the hashes and URLs. */
  authority: string;
  /** A local document's folder: a local file must be inside it, symbolic links resolved. */
  within?: string;
}

/** Fetches, checks and writes `files` into `dir`; returns their destinations in document order. */
export async function stageFiles(files: PlannedFile[], dir: string, label: string, source: FilesSource, context: PrepareContext): Promise<string[]> {
  const { limits } = context;
  if (files.length > limits.maxEntries) {
    throw new MpipError("limit-exceeded", `${label} lists ${files.length} files, more than the limit of ${limits.maxEntries}`, { hint: "if you trust this package, raise the limit with --max-entries" });
  }
  const root = path.resolve(dir);
  const pool = new Pool(FILES_AT_ONCE);
  let total = 0;
  await makeDirs(root);
  await Promise.all(files.map((file) => pool.run(async () => {
    destination(root, file.dest, label, limits.maxPathLength);
    context.signal?.throwIfAborted();
    // No file may be larger than what is left of the budget: a huge one is cut off while it downloads.
    const maxBytes = limits.maxUnpackedBytes - total;
    const fetched = await fetchWithin(maxBytes, limits.maxUnpackedBytes, label, () => fetchFile(file, context.http, `\`${file.dest}\` of ${label}`, {
      authority: source.authority,
      maxBytes,
      ...(source.within === undefined ? {} : { within: source.within }),
    }));
    total += fetched.data.length;
    if (total > limits.maxUnpackedBytes) throw unpackedTooLarge(label, limits.maxUnpackedBytes);
    await writeStagedFile(root, file.dest, fetched.data, label, limits.maxPathLength);
  })));
  return files.map((file) => normalizeDest(file.dest));
}

/** Runs `fetch` (given `maxBytes`), turning its size error into the `--max-unpacked-bytes` limit's. */
export async function fetchWithin(maxBytes: number, limit: number, label: string, fetch: () => Promise<Fetched>): Promise<Fetched> {
  try {
    return await fetch();
  } catch (error) {
    throw isTooLarge(error, maxBytes) ? unpackedTooLarge(label, limit) : error;
  }
}

function unpackedTooLarge(label: string, limit: number): MpipError {
  return new MpipError("limit-exceeded", `${label} is larger than the limit of ${formatBytes(limit)}`, { hint: "if you trust this package, raise the limit with --max-unpacked-bytes" });
}

/** Writes one file at its (checked) destination below `root`; returns the normalized destination. */
export async function writeStagedFile(root: string, dest: string, data: Buffer, label: string, maxPathLength: number): Promise<string> {
  const target = destination(path.resolve(root), dest, label, maxPathLength);
  try {
    await makeDirs(path.dirname(target));
    await writeFile(target, data, { flag: "wx" });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    throw new MpipError("io", `cannot stage \`${printable(dest, 200)}\` of ${label} (${err.code ?? err.message})`, { cause: error });
  }
  return normalizeDest(dest);
}

function destination(root: string, dest: string, label: string, maxPathLength: number): string {
  const checked = checkEntryPath(dest);
  if (!checked.ok) {
    throw new MpipError("unsafe-path", `refused \`${printable(dest, 200)}\` of ${label}: ${checked.reason}`, { hint: "the package is broken or malicious; nothing was written to the target" });
  }
  const relative = checked.path;
  const resolved = path.resolve(root, relative);
  if (relative === "" || !isInside(root, resolved, path.sep) || resolved === root) {
    throw new MpipError("unsafe-path", `refused \`${printable(dest, 200)}\` of ${label}: it would be written outside the target`, {
      hint: "the package is broken or malicious; nothing was written",
    });
  }
  if (Buffer.byteLength(relative) > maxPathLength) {
    throw new MpipError("limit-exceeded", `refused \`${printable(dest, 200)}\` of ${label}: its path is longer than the limit of ${maxPathLength} bytes`, { hint: "raise the limit with --max-path-length" });
  }
  return resolved;
}

/** `./a//b.py` → `a/b.py`: the form reports, overlaps and the commit use. */
export function normalizeDest(dest: string): string {
  return dest.split("/").filter((segment) => segment !== "" && segment !== ".").join("/");
}
