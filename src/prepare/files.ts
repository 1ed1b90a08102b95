// Packages that are a list of files (mip package documents, single modules): fetch every file,
// verify it against its hash, and write it to its destination in the package's staging folder.
// Destinations come from the internet: each is checked like a tar entry's name (the document parser
// already did; this checks the resolved path is inside the folder, as node-tar checks twice).

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { isInside, stripEntryPath } from "../archive/entry-path.js";
import { MpipError } from "../errors.js";
import { fetchFile, type Fetched } from "../fetch.js";
import { makeDirs } from "../image/make-dirs.js";
import { formatBytes } from "../limits.js";
import { Pool } from "../pool.js";
import type { PlannedFile } from "../sources/types.js";
import { printable } from "../text.js";
import type { PrepareContext } from "./context.js";

/** Files of one package fetched at once (the install's own pool is already holding a slot for it). */
const FILES_AT_ONCE = 8;

/** Fetches, checks and writes `files` into `dir`; returns their destinations in document order. */
export async function stageFiles(files: PlannedFile[], dir: string, label: string, authority: string, context: PrepareContext): Promise<string[]> {
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
    const fetched: Fetched = await fetchFile(file, context.http, `\`${file.dest}\` of ${label}`, { authority });
    total += fetched.data.length;
    if (total > limits.maxUnpackedBytes) {
      throw new MpipError("limit-exceeded", `${label} is larger than the limit of ${formatBytes(limits.maxUnpackedBytes)}`, { hint: "if you trust this package, raise the limit with --max-unpacked-bytes" });
    }
    await writeStagedFile(root, file.dest, fetched.data, label, limits.maxPathLength);
  })));
  return files.map((file) => normalizeDest(file.dest));
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
  // The same name rules as a tar entry's (the top folder an archive entry has is supplied here).
  const checked = stripEntryPath(`top/${dest}`);
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
