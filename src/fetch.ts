// The bytes of one distribution file, from the network or disk, verified against the index's sha256.
// Archives are held in memory (MicroPython packages are kilobytes, capped below): the exact gzip
// window check parses the whole deflate stream, and nothing is unpacked before the digest matches.
// What is held draws on the install's MemoryBudget (budget.ts). Files that need no processing in memory
// (a package document's files, modules) go straight to their file in the staging folder instead
// (`fetchToFile`), hashed on the way, and are removed again if the hash does not match.
// With a download cache (cache/), a file whose full sha256 is known is taken from the cache's store when
// it is there (no request at all), and a download of it is put there once it matches; any other remote
// file is cached by its URL by the HTTP client, and revalidated.

import { constants } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { isInside } from "./archive/entry-path.js";
import { Draw, type Lease, type Quota } from "./budget.js";
import { isOfflineMiss, offlineMiss } from "./cache/offline.js";
import { fullSha256, TeeSink } from "./cache/store.js";
import { MpipError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { redactUrl } from "./http.js";
import { tooLarge } from "./http/body.js";
import { MemorySink, type BodySink, type FileSink } from "./sink.js";
import { throughGitData } from "./sources/local-root.js";
import type { AllowedHashes } from "./resolve/constraints.js";
import { createHash } from "node:crypto";
import type { Location, UrlDigest } from "./sources/types.js";
import { printable, quantity } from "./text.js";
import { sha256Hex } from "./image/fs-ops.js";

/**
 * What to fetch: a location, the sha256 (or, for mip's short hashes, a prefix of it) it must have, and a
 * URL fragment's digest in another algorithm (`#md5=`, `#sha512=`) it must have too.
 */
export interface Expected {
  location: Location;
  sha256?: string;
  digest?: UrlDigest;
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
  /** What `within` is, for messages (default "the document's folder"): "the git clone `…` that holds the document". */
  withinName?: string;
  /** A limit this file shares with others (a package's files together): drawn as bytes arrive. */
  quota?: Quota;
  /**
   * The digests the user allows for this file (`--hash` in a requirements file): it must match one of
   * them, whatever its source says (and must still match the source's own hash, when it gives one).
   */
  allowed?: AllowedHashes;
  /** Ends this fetch alone (one made ahead that is no longer wanted), as the client's signal ends them all. */
  signal?: AbortSignal;
}

export interface InMemoryOptions extends FetchOptions {
  /**
   * The memory lease the bytes are held under, kept by the caller until it is done with them (an archive,
   * until it is unpacked). Default: a lease of the fetch's own, released on return.
   */
  lease?: Lease;
}

export const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

export interface Fetched {
  data: Buffer;
  sha256: string;
  /** Where the bytes came from, safe to print. */
  origin: string;
}

/** The file's bytes in memory, verified. */
export async function fetchFile(file: Expected, http: HttpClient, label: string, options: InMemoryOptions = {}): Promise<Fetched> {
  const lease = options.lease ?? http.memory.lease();
  try {
    const { body: data, origin } = await fetchInto(file, http, label, options, new MemorySink(), lease);
    const sha256 = sha256Hex(data);
    await verifyFetched(file, sha256, origin, label, options, http);
    if (file.digest !== undefined) await verifyDigest(file, file.digest, createHash(file.digest.algorithm).update(data).digest("hex"), origin, label, http);
    return { data, sha256, origin };
  } finally {
    if (options.lease === undefined) lease.release();
  }
}

export interface FetchedToFile {
  bytes: number;
  sha256: string;
  /** Where the bytes came from, safe to print. */
  origin: string;
}

/**
 * The file's bytes written into `sink` (a new file in the staging folder) as they arrive, then verified;
 * nothing of it is held in memory. On any failure the caller discards the sink.
 */
export async function fetchToFile(file: Expected, http: HttpClient, label: string, sink: FileSink, options: FetchOptions = {}): Promise<FetchedToFile> {
  const { body, origin } = await fetchInto(file, http, label, options, sink, undefined);
  await verifyFetched(file, body.sha256, origin, label, options, http);
  if (file.digest !== undefined) await verifyDigest(file, file.digest, await sink.digestOf(file.digest.algorithm), origin, label, http);
  return { bytes: body.bytes, sha256: body.sha256, origin };
}

/**
 * Checks the digest a URL's fragment gives in another algorithm than sha256 (`#md5=`, `#sha512=`)
 * against `actual`, the file's, as pip checks it; a mismatch forgets a cached answer as verifyFetched does.
 * @throws MpipError `digest-mismatch`.
 */
async function verifyDigest(file: Expected, digest: UrlDigest, actual: string, origin: string, label: string, http: HttpClient): Promise<void> {
  const { algorithm, hex } = digest;
  if (actual === hex) return;
  if (file.location.type === "remote" && fullSha256(file.sha256) === undefined) await http.forgetAnswer(file.location.url);
  throw new MpipError("digest-mismatch", `${label} from \`${origin}\` does not match the ${algorithm} in the URL's \`#${algorithm}=\` (expected ${hex}, got ${actual}); nothing of it was written`, {
    hint: "the file at that URL is not the one the hash was taken from; check the hash, or that the URL serves what you expect",
  });
}

/**
 * `verify`, and when a file cached by its URL (it had no full sha256: mip's short hash) does not match,
 * that answer is forgotten, so that the next run fetches the file whole instead of being told by a 304
 * that the bad copy is current (a server whose validators describe other bytes than it sent).
 */
async function verifyFetched(file: Expected, sha256: string, origin: string, label: string, options: FetchOptions, http: HttpClient): Promise<void> {
  try {
    verify(file, sha256, origin, label, options);
  } catch (error) {
    if (file.location.type === "remote" && fullSha256(file.sha256) === undefined) await http.forgetAnswer(file.location.url);
    throw error;
  }
}

async function fetchInto<T>(file: Expected, http: HttpClient, label: string, options: FetchOptions, sink: BodySink<T>, lease: Lease | undefined): Promise<{ body: T; origin: string }> {
  const location = file.location;
  const maxBytes = options.maxBytes ?? MAX_ARCHIVE_BYTES;
  if (location.type === "local") {
    const real = options.within === undefined ? location.path : await confinedPath(location.path, options.within, label, options.authority ?? "the index", options.withinName);
    const draw = new Draw({ quota: options.quota, lease, signal: http.signal });
    try {
      return { body: await readLocal(real, maxBytes, label, sink, draw), origin: location.path };
    } catch (error) {
      draw.refund();
      throw error;
    }
  }
  const origin = redactUrl(location.url);
  const store = http.cache?.store;
  const sha256 = fullSha256(file.sha256);
  if (store !== undefined && sha256 !== undefined) {
    // The store's entry is hashed again as it is read: only bytes with exactly this sha256 come from it.
    const draw = new Draw({ quota: options.quota, lease, signal: http.signal });
    try {
      const body = await store.readInto(sha256, sink, { maxBytes, draw, tooLarge: () => tooLarge(origin, maxBytes) });
      if (body !== undefined) return { body, origin };
      draw.refund();
    } catch (error) {
      draw.refund();
      throw error;
    }
  }
  if (http.offline && sha256 !== undefined) throw offlineMiss(label, origin, http.cache?.dir, sha256);
  const tee = store !== undefined && sha256 !== undefined ? new TeeSink(sink, store.writer()) : undefined;
  const getOptions = { maxBytes, cacheByUrl: sha256 === undefined, ...(options.quota === undefined ? {} : { quota: options.quota }), ...(options.signal === undefined ? {} : { signal: options.signal }) };
  try {
    const response = await http.getInto(location.url, getOptions, tee ?? sink, lease);
    if (response.status === "not-found") throw notFound(label, origin, options);
    // Stored only when it is the file the hash names (a mismatch is the caller's to report), behind the
    // caller: the client's close() waits for it.
    if (tee !== undefined) http.storeBehind(tee.commit(sha256));
    return { body: response.body, origin };
  } catch (error) {
    await tee?.discard();
    throw isOfflineMiss(error) ? offlineMiss(label, origin, http.cache?.dir) : error;
  }
}

function notFound(label: string, origin: string, options: FetchOptions): MpipError {
  if (options.direct === true) {
    // A direct spec may also come from a package document's `deps`: the hint blames no one.
    return new MpipError("not-found", `${label}: \`${origin}\` answered 404 (not found)`, { hint: "check the URL, or the package that names it" });
  }
  const authority = options.authority ?? "the index";
  return new MpipError("not-found", `${authority} lists ${label} at \`${origin}\`, but that URL answered 404`, {
    hint: `${authority} is out of date or broken; try again later, or tell its maintainers`,
  });
}

/** Checks `sha256` against what the file is expected to have; mip's short hashes are checked as prefixes. */
function verify(file: Expected, sha256: string, origin: string, label: string, options: FetchOptions): void {
  const authority = options.authority ?? "the index";
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
  const { allowed } = options;
  if (allowed !== undefined && !allowed.sha256.includes(sha256)) {
    const given = allowed.sha256.length === 0 ? "no digest, as they share none" : allowed.sha256.map((hash) => `sha256:${hash}`).join(", ");
    throw new MpipError("digest-mismatch", `${label} from \`${origin}\` has the sha256 ${sha256}, which is not one of the hashes ${allowed.origin} allows (${given}); nothing of it was written`, {
      hint: "the file is not the one the hashes were taken from: check the `--hash` values (`sha256sum FILE` prints a file's), or whether the source has changed the file",
    });
  }
}

/**
 * `file` with its links resolved, refused unless it is inside `root` (links resolved too) and not inside
 * a `.git` folder there: a link committed to a repository can point at git's own data as well as out.
 */
async function confinedPath(file: string, root: string, label: string, authority: string, rootName?: string): Promise<string> {
  const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]).catch((error: NodeJS.ErrnoException) => {
    throw cannotRead(label, file, error);
  });
  const where = rootName ?? "the document's folder";
  if (realFile === realRoot || !isInside(realRoot, realFile, path.sep)) {
    throw new MpipError("unsafe-path", `${authority} names ${label} at \`${printable(file, 300)}\`, which is a symbolic link (or inside one) to \`${printable(realFile, 300)}\`, outside ${where} \`${printable(realRoot, 300)}\``, {
      hint: "a local package.json may only name files in its own folder or below, or anywhere in the git clone it is in (the nearest folder above it that holds `.git`); nothing was written",
    });
  }
  if (throughGitData(path.relative(realRoot, realFile))) {
    throw new MpipError("unsafe-path", `${authority} names ${label} at \`${printable(file, 300)}\`, which is ${realFile === path.resolve(file) ? "" : `a symbolic link (or inside one) to \`${printable(realFile, 300)}\`, `}inside a \`.git\` folder: git's own data, not a file of the repository`, {
      hint: "a local package.json may name the repository's files, never git's data (its config can hold credentials); nothing was written",
    });
  }
  return realFile;
}

/**
 * A regular file's bytes into `sink`, refused before reading when it is over `maxBytes` (and checked
 * again as it is read), its size drawn on the budgets at once.
 */
async function readLocal<T>(file: string, maxBytes: number, label: string, sink: BodySink<T>, draw: Draw): Promise<T> {
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
    const stats = await handle.stat().catch((error: NodeJS.ErrnoException) => {
      throw cannotRead(label, file, error);
    });
    if (!stats.isFile()) throw notRegular(label, file);
    if (stats.size > maxBytes) throw localTooLarge(file, maxBytes);
    await draw.cover(stats.size);
    await sink.begin(stats.size);
    for (let total = 0; ; ) {
      // A fresh buffer each time: a memory sink may keep the chunk it is given.
      const chunk = Buffer.allocUnsafe(LOCAL_CHUNK_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null).catch((error: NodeJS.ErrnoException) => {
        throw cannotRead(label, file, error);
      });
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw localTooLarge(file, maxBytes); // it grew while being read
      await draw.cover(total);
      await sink.write(chunk.subarray(0, bytesRead));
    }
    return await sink.end();
  } finally {
    await handle.close();
  }
}

const LOCAL_CHUNK_BYTES = 64 * 1024;

function notRegular(label: string, file: string): MpipError {
  return new MpipError("io", `cannot read ${label} from \`${printable(file, 300)}\`: it is not a regular file`, { hint: "name a regular file (not a folder, a pipe or a device)" });
}

function cannotRead(label: string, file: string, error: NodeJS.ErrnoException): MpipError {
  return new MpipError("io", `cannot read ${label} from \`${printable(file, 300)}\` (${error.code ?? error.message})`, { cause: error });
}

/** Worded like the HTTP client's size error (http/body.ts), so `isTooLarge` recognizes both. */
function localTooLarge(file: string, maxBytes: number): MpipError {
  return new MpipError("limit-exceeded", `the file \`${printable(file, 300)}\` is larger than ${quantity(maxBytes, "byte")}`, {
    hint: "this is not a MicroPython package file; check the path",
  });
}
