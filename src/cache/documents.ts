// The by-URL part of the cache: index documents (PyPI JSON, simple pages, v2 index.json and package
// documents, package.json) and files that come with no full sha256 (mip's 8-hex short hashes, or none),
// each remembered with the HTTP validators its answer carried (ETag, Last-Modified, RFC 9110 §8.8), so
// that the next run asks again with a conditional request (If-None-Match, If-Modified-Since) and a
// `304 Not Modified` is answered from the cache. The body itself is in the content store, by its sha256;
// an entry here (`http/ab/<key>.json`) holds the answer's metadata and that hash.
//
// The key is the URL asked for, with any credentials taken out (the HTTP client never puts them in a
// URL), and the Accept header (a simple index answers HTML or JSON by it). No header of the request, and
// so no Authorization, is stored. The URLs an entry holds (asked for, answered at) are written without
// credentials (storedUrl): no userinfo, and a query parameter that holds one (`?token=`, `X-Amz-Signature=`:
// secrets.ts SECRET_QUERY_NAME) with its value as `***`; the key, a hash, is still of the URL with its
// query as asked, so that two tokens never share an answer. A 404 or 410 is remembered too (a later index in the list may be the
// one that has the package), so `--offline` can answer it.

import { randomBytes } from "node:crypto";
import { unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { rm, unlink } from "node:fs/promises";
import path from "node:path";
import { FolderMaker } from "../image/make-dirs.js";
import { outOfDescriptors, readSmallFile, readSmallFileSync } from "../local-file.js";
import { ignoreFailure, renameIntoSync, type StoreEvents } from "./store.js";
import { sha256Hex } from "../image/fs-ops.js";
import { isSecretName } from "../secrets.js";

/** A remembered answer. `url`: where it was finally answered (after redirects), for relative links. */
export type CachedAnswer =
  | { status: "ok"; url: string; contentType: string; sha256: string; size: number; etag?: string; lastModified?: string }
  | { status: "not-found"; url: string; etag?: string; lastModified?: string };

const ENTRY_FORMAT = 1;
/** The largest entry read (its URLs and validators: a few hundred bytes); a larger file is not one mpip wrote. */
const MAX_ENTRY_BYTES = 1 << 20;

export class DocumentCache {
  /** The folders this run made here (each asked for once). */
  private readonly folders = new FolderMaker();

  constructor(readonly root: string, private readonly events: StoreEvents) {}

  /** The key of a request: the URL (with no credentials and no fragment) and what it accepts. */
  keyFor(url: URL, accept: string | undefined): string {
    const bare = new URL(url.href);
    bare.username = "";
    bare.password = "";
    bare.hash = "";
    return sha256Hex(`${accept ?? ""}\n${bare.href}`);
  }

  private pathOf(key: string): string {
    return path.join(this.root, key.slice(0, 2), `${key}.json`);
  }

  /**
   * The answer remembered under `key`, marked as used; undefined when there is none or it is unreadable.
   * Its `url` is `asked` (the URL the key is of, with any credentials in its query) when it was answered
   * there, as stored without them (storedUrl). An entry an earlier mpip wrote with credentials in its URLs
   * is written again without them.
   */
  async lookup(key: string, asked?: URL): Promise<CachedAnswer | undefined> {
    const file = this.pathOf(key);
    // Read in blocking calls: each request for a document waits for this look-up before it is sent, and
    // in libuv's queue it waited behind the cache's writes of the answers just received (1-12 ms for each
    // document of a 21-package install, on the way of every level). Where no file descriptor is free, it
    // is read the way that waits for one.
    let read = readSmallFileSync(file, MAX_ENTRY_BYTES);
    if (read.kind === "unreadable" && outOfDescriptors(read.error)) read = await readSmallFile(file, MAX_ENTRY_BYTES);
    if (read.kind === "missing") return undefined;
    if (read.kind !== "read") {
      const why = read.kind === "unreadable" ? (read.error.code ?? read.error.message) : read.kind === "too-large" ? `more than ${MAX_ENTRY_BYTES} bytes` : "not a regular file";
      this.events.note(`the cache entry \`${file}\` cannot be read (${why}); it is dropped`);
      await rm(file, { recursive: true, force: true }).catch(() => undefined);
      return undefined;
    }
    const answer = parseEntry(read.data.toString("utf8"));
    if (answer === undefined) {
      this.events.note(`the cache entry \`${file}\` is not one mpip wrote; it is dropped`);
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    const requested = requestedOf(read.data.toString("utf8"));
    if (requested !== undefined && (storedUrl(answer.url) !== answer.url || storedUrl(requested) !== requested)) {
      await this.remember(key, requested, answer);
    } else {
      try {
        const now = new Date();
        utimesSync(file, now, now);
      } catch {
        // Only a mark of use, for `mpip cache clean --older-than`.
      }
    }
    return asked !== undefined && answer.url === storedUrl(asked) ? { ...answer, url: asked.href } : answer;
  }

  /**
   * Remembers `answer` under `key`: the request's URL (kept for people reading the cache) and the answer's
   * as storedUrl writes them, without credentials.
   */
  async remember(key: string, requested: URL | string, answer: CachedAnswer): Promise<void> {
    const file = this.pathOf(key);
    const temporary = `${file}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
    try {
      // In blocking calls, as the content store writes (store.ts StoreWriter): a few hundred bytes.
      this.folders.makeSync(path.dirname(file));
      writeFileSync(temporary, `${JSON.stringify({ v: ENTRY_FORMAT, requested: storedUrl(requested), ...answer, url: storedUrl(answer.url) })}\n`, { mode: 0o600, flag: "wx" });
      renameIntoSync(temporary, file, this.folders);
    } catch (error) {
      this.folders.forget(path.dirname(file)); // perhaps removed meanwhile: asked for again next time
      ignoreFailure(() => unlinkSync(temporary)); // not written, or gone already
      // ENOENT: `mpip cache clean` removed the folder while this was written; nothing is wrong.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.events.cannotWrite(error);
    }
  }

  /** Forgets `key` (the server said `no-store`, or the body it names is gone). */
  async forget(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch(() => undefined);
  }
}

/**
 * A URL as the cache writes it: without userinfo or fragment, and with the value of each query parameter
 * whose name says it holds a credential (secrets.ts SECRET_QUERY_NAME: `token`, `access_token`,
 * `private_token`, `sig`, `X-Amz-Signature`, ...) written `***`; the rest of the query as it was (same
 * order, same escapes). Text that is no URL is returned with such parameters written so too.
 */
export function storedUrl(url: URL | string): string {
  let text: string;
  try {
    const bare = new URL(typeof url === "string" ? url : url.href);
    bare.username = "";
    bare.password = "";
    bare.hash = "";
    text = bare.href;
  } catch {
    text = String(url);
  }
  const query = text.indexOf("?");
  if (query < 0) return text;
  const parameters = text.slice(query + 1).split("&").map((parameter) => {
    const equals = parameter.indexOf("=");
    const name = equals < 0 ? parameter : parameter.slice(0, equals);
    return equals >= 0 && isSecretName(name) ? `${name}=***` : parameter;
  });
  return `${text.slice(0, query)}?${parameters.join("&")}`;
}

/** The `requested` URL of an entry's text, or undefined. */
function requestedOf(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { requested?: unknown };
    return typeof value.requested === "string" ? value.requested : undefined;
  } catch {
    return undefined;
  }
}

/** The validators to send when revalidating `answer`: If-None-Match for an ETag, else If-Modified-Since. */
export function conditionalHeaders(answer: CachedAnswer): Record<string, string> | undefined {
  // RFC 9110 §13.1.3: a client that has an entity tag sends If-None-Match; If-Modified-Since only without one.
  if (answer.etag !== undefined) return { "if-none-match": answer.etag };
  if (answer.lastModified !== undefined) return { "if-modified-since": answer.lastModified };
  return undefined;
}

/** The validators an answer's headers carry, as they are to be stored. */
export function validatorsOf(headers: Record<string, string | string[] | undefined>): { etag?: string; lastModified?: string } {
  const etag = single(headers.etag);
  const lastModified = single(headers["last-modified"]);
  return {
    ...(etag !== undefined && isEntityTag(etag) ? { etag } : {}),
    ...(lastModified !== undefined && isHttpDate(lastModified) ? { lastModified } : {}),
  };
}

// The same checks when an answer is stored and when an entry is read back: an entry edited on disk (or
// damaged) must not put a header into the next request that the HTTP client refuses (CR, LF, characters
// beyond Latin-1), which would fail the run as if the network had.
/** RFC 9110 §8.8.3: `[W/]"…"`, with no `"`, control characters or characters outside Latin-1 inside. */
function isEntityTag(value: string): boolean {
  return /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/.test(value);
}

/** A date as Last-Modified gives it: printable ASCII that parses as a date. */
function isHttpDate(value: string): boolean {
  return /^[\x20-\x7e]+$/.test(value) && !Number.isNaN(Date.parse(value));
}

/** `Cache-Control: no-store` (RFC 9111 §5.2.2.5): the answer must not be kept. */
export function forbidsStoring(headers: Record<string, string | string[] | undefined>): boolean {
  const value = headers["cache-control"];
  const text = Array.isArray(value) ? value.join(",") : value ?? "";
  return text.split(",").some((directive) => directive.trim().toLowerCase() === "no-store");
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value.trim() : undefined;
}

function parseEntry(text: string): CachedAnswer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const entry = value as Record<string, unknown>;
  if (entry.v !== ENTRY_FORMAT || typeof entry.url !== "string") return undefined;
  if (entry.etag !== undefined && (typeof entry.etag !== "string" || !isEntityTag(entry.etag))) return undefined;
  if (entry.lastModified !== undefined && (typeof entry.lastModified !== "string" || !isHttpDate(entry.lastModified))) return undefined;
  const validators = {
    ...(typeof entry.etag === "string" ? { etag: entry.etag } : {}),
    ...(typeof entry.lastModified === "string" ? { lastModified: entry.lastModified } : {}),
  };
  if (entry.status === "not-found") return { status: "not-found", url: entry.url, ...validators };
  if (entry.status !== "ok" || typeof entry.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(entry.sha256)) return undefined;
  if (typeof entry.size !== "number" || typeof entry.contentType !== "string") return undefined;
  return { status: "ok", url: entry.url, contentType: entry.contentType, sha256: entry.sha256, size: entry.size, ...validators };
}
