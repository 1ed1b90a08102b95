// Packages that are a list of files (mip package documents, single modules): fetch every file,
// verify it against its hash, and write it to its destination in the package's staging folder as its
// bytes arrive (nothing of it is held in memory). Destinations come from the internet: each is checked
// like a tar entry's name (the document parser already did; this checks the resolved path is inside
// the folder, as node-tar checks twice). A document's files share one count against
// --max-unpacked-bytes, drawn as bytes arrive, and the first file that fails stops the others.

import path from "node:path";
import { checkEntryPath, isInside } from "../archive/entry-path.js";
import { Quota } from "../budget.js";
import { MpipError } from "../errors.js";
import { fetchToFile } from "../fetch.js";
import { ioHint } from "../image/io-error.js";
import { makeDirs } from "../image/make-dirs.js";
import { formatBytes, NAME_MAX, NAME_MAX_HINT, nameTooLong } from "../limits.js";
import { Pool } from "../pool.js";
import { FileSink } from "../sink.js";
import { isTooLarge } from "../sources/metadata.js";
import type { PlannedFile } from "../sources/types.js";
import { printable, quantity } from "../text.js";
import type { FetchedFile, PrepareContext } from "./context.js";

/** Files of one package fetched at once (the install's own pool is already holding a slot for it). */
const FILES_AT_ONCE = 8;

/** Who names the files: for messages, and for a local document, the folder its files must stay in. */
export interface FilesSource {
  /** "the package document `…`": vouches for the hashes and URLs. */
  authority: string;
  /** A local document's folder: a local file must be inside it, symbolic links resolved. */
  within?: string;
  /** What `within` is, for messages (see FetchOptions.withinName). */
  withinName?: string;
}

/**
 * Fetches, checks and writes `files` into `dir`; returns each one's destination (normalized, see
 * normalizeDest) with its full sha256 and size, in document order.
 */
export async function stageFiles(files: PlannedFile[], dir: string, label: string, source: FilesSource, context: PrepareContext, within?: AbortSignal): Promise<Array<FetchedFile & { dest: string }>> {
  const { limits } = context;
  if (files.length > limits.maxEntries) {
    throw new MpipError("limit-exceeded", `${label} lists ${quantity(files.length, "file")}, more than the limit of ${limits.maxEntries}`, { hint: "if you trust this package, raise the limit with --max-entries" });
  }
  const root = path.resolve(dir);
  for (const file of files) destination(root, file.dest, label, limits.maxPathLength);
  // One count for all the files, drawn as bytes arrive (a declared size at once): files downloading
  // together cannot each take what is left, and the document fails as soon as the total is over.
  const limit = limits.maxUnpackedBytes;
  const quota = new Quota(limit, () => unpackedTooLarge(label, limit));
  const pool = new Pool(FILES_AT_ONCE, context.signal);
  await makeDirs(root);
  // Once a file fails, those listed after it are aborted (RunScope.parts): they can no longer be the error.
  return context.scope.parts(files.map((file) => (signal) => pool.run(async () => {
    signal.throwIfAborted();
    const fileLabel = `\`${file.dest}\` of ${label}`;
    const fetched = await stageFile(root, file.dest, label, limits.maxPathLength, (sink) => fetchWithin(limit, limit, label, () => fetchToFile(file, context.http, fileLabel, sink, {
      authority: source.authority,
      maxBytes: limit,
      quota,
      signal,
      ...(source.within === undefined ? {} : { within: source.within }),
      ...(source.withinName === undefined ? {} : { withinName: source.withinName }),
    })));
    return { dest: normalizeDest(file.dest), location: file.location, sha256: fetched.sha256, bytes: fetched.bytes };
  }), within));
}

/** Runs `fetch` (given `maxBytes`), turning its size error into the `--max-unpacked-bytes` limit's. */
export async function fetchWithin<T>(maxBytes: number, limit: number, label: string, fetch: () => Promise<T>): Promise<T> {
  try {
    return await fetch();
  } catch (error) {
    throw isTooLarge(error, maxBytes) ? unpackedTooLarge(label, limit) : error;
  }
}

export function unpackedTooLarge(label: string, limit: number): MpipError {
  return new MpipError("limit-exceeded", `${label} is larger than the limit of ${formatBytes(limit)}`, { hint: "if you trust this package, raise the limit with --max-unpacked-bytes" });
}

/**
 * Creates the file for `dest` (checked) below `root` and has `fetch` write into it; a failed fetch leaves
 * no file behind. Returns what `fetch` returned. `ownFile`: `dest` is the name of a file the user named on
 * this machine, so a name that cannot be installed is theirs to change (a usage error), not a sign of a
 * broken or malicious package.
 */
export async function stageFile<T>(root: string, dest: string, label: string, maxPathLength: number, fetch: (sink: FileSink) => Promise<T>, ownFile = false): Promise<T> {
  const target = destination(path.resolve(root), dest, label, maxPathLength, ownFile);
  const cannotStage = (error: unknown) => {
    const err = error as NodeJS.ErrnoException;
    return new MpipError("io", `cannot stage \`${printable(dest, 200)}\` of ${label} (${err.code ?? err.message})`, { cause: error, hint: ioHint(error, "mpip stages files in a folder beside the target (or inside it, where its parent is not writable): make it writable") });
  };
  await makeDirs(path.dirname(target)).catch((error: unknown) => {
    throw cannotStage(error);
  });
  const sink = await FileSink.create(target, cannotStage);
  try {
    const result = await fetch(sink);
    await sink.close();
    return result;
  } catch (error) {
    await sink.discard();
    throw error;
  }
}

function destination(root: string, dest: string, label: string, maxPathLength: number, ownFile = false): string {
  const checked = checkEntryPath(dest);
  if (!checked.ok && ownFile) {
    throw new MpipError("usage", `cannot install \`${printable(dest, 200)}\` of ${label} under its own name: ${checked.reason}`, {
      hint: "a module is installed under its file's name, which must be one a device's filesystem takes: rename the file (or copy it under another name) and install that",
    });
  }
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
  const long = nameTooLong(relative);
  if (long !== undefined) {
    throw new MpipError("limit-exceeded", `refused \`${printable(dest, 200)}\` of ${label}: its name \`${printable(long.name, 80)}\` is ${long.bytes} bytes long, more than the ${NAME_MAX} a file or folder name can have`, { hint: NAME_MAX_HINT });
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
