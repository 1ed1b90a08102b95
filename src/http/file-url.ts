// A local index, read the way an index is read over HTTP: `-i` takes a folder or a `file:` URL, and every
// source asks the same client for `file:` URLs (the folder's documents, and the files their links name)
// as for http(s) ones, so that each index kind reads a folder exactly as it reads a server. This is the
// one place such a URL is read. The rules a static web server (and pip, for a `file:` index) follows:
// a folder's URL answers with the folder's index page (`index.v1_json` or `index.v1_html` as bandersnatch
// writes PEP 691 pages, else `index.html`, else `index.json`), at the folder's URL with a trailing slash,
// which the page's relative links resolve against; nothing there is "not found", as a 404.
// What a web server does not need to check: a `file:` URL is read only inside a folder the user gave as an
// index (symbolic links resolved, as fetch.ts's `within` checks a local package document's files), only
// when it is a regular file (local-file.ts: never a FIFO or a device), and never beyond the request's size
// limit, drawing on the request's budgets as an HTTP body does.

import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isInside } from "../archive/entry-path.js";
import { Draw, type Lease } from "../budget.js";
import { MpipError } from "../errors.js";
import type { Answer, GetOptions } from "../http.js";
import { openRegularFile } from "../local-file.js";
import type { BodySink } from "../sink.js";
import { printable, quantity } from "../text.js";
import { parseUrl } from "../url.js";

/** A folder's index page, first found wins: PEP 691 JSON before HTML, as mpip's Accept header prefers it. */
export const INDEX_PAGES = ["index.v1_json", "index.v1_html", "index.html", "index.json"] as const;

const CHUNK_BYTES = 64 * 1024;

/** Whether `url` is a `file:` URL (any case), which the local reader answers instead of the network. */
export function isFileUrl(url: string): boolean {
  return /^file:/i.test(url);
}

/**
 * The local path a `file:` URL names, or undefined for one that names none on this machine (a host other
 * than `localhost`, a malformed percent-escape of a separator). Never throws.
 */
export function fileUrlPath(url: string | URL): string | undefined {
  const parsed = typeof url === "string" ? parseUrl(url) : url;
  if (parsed === undefined || parsed.protocol !== "file:") return undefined;
  try {
    return path.resolve(fileURLToPath(parsed));
  } catch {
    return undefined;
  }
}

/**
 * Whether the `file:` URL `link` names a path inside the local index whose folder's `file:` URL is `root`
 * (the folder itself excluded), compared lexically on the decoded paths; symbolic links are checked when
 * the file is read. False for anything that is not such a URL.
 */
export function isInsideFolder(link: string | URL, root: string): boolean {
  const file = fileUrlPath(link);
  const folder = fileUrlPath(root);
  return file !== undefined && folder !== undefined && file !== folder && isInside(folder, file, path.sep);
}

/** The folders whose files `file:` URLs may name, and the reading of those files. */
export class LocalIndexFiles {
  /** Absolute paths of the index folders, as given (links not resolved), with their resolved form once known. */
  private readonly roots = new Map<string, Promise<string>>();

  /** Lets `get` read the files inside the folder of this `file:` URL (a local index given with `-i`). */
  allow(folderUrl: string): void {
    const folder = fileUrlPath(folderUrl);
    if (folder !== undefined && !this.roots.has(folder)) this.roots.set(folder, realpath(folder).catch(() => folder));
  }

  /**
   * GET a `file:` URL into `sink`, as HttpClient.getInto does for http(s): the answer is "not-found" for
   * nothing at that path (or a folder without an index page), else the body with the URL it was read at.
   * @throws MpipError `unsafe-path` (outside every allowed folder, or a link out of it), `io` (not a regular
   *   file, unreadable), `limit-exceeded` (over `options.maxBytes`, worded as the HTTP client words it);
   *   the budgets' own errors; the signal's reason once it aborts.
   */
  async getInto<T>(url: string, options: GetOptions, sink: BodySink<T>, lease: Lease | undefined, signal: AbortSignal | undefined): Promise<Answer<T>> {
    signal?.throwIfAborted();
    const parsed = parseUrl(url);
    const asked = parsed === undefined ? undefined : fileUrlPath(parsed);
    if (parsed === undefined || asked === undefined) {
      throw new MpipError("io", `\`${printable(url)}\` names no file on this machine`, { hint: "a local index is a folder on this machine, given as a path or a `file:///` URL" });
    }
    const root = this.rootOf(asked);
    if (root === undefined) {
      throw new MpipError("unsafe-path", `refused to read \`${printable(asked, 300)}\`: it is outside every local index folder given with -i`, {
        hint: "a local index's documents may name only files inside the index's own folder",
      });
    }
    const found = await this.locate(asked, parsed);
    if (found === undefined) return { status: "not-found", url: parsed.href };
    const real = await this.confined(found.file, root);
    const opened = await openRegularFile(real, { follow: false });
    if (opened.kind === "missing") return { status: "not-found", url: found.url };
    if (opened.kind !== "opened") {
      const why = opened.kind === "unreadable" ? (opened.error.code ?? opened.error.message) : "it is not a regular file";
      throw new MpipError("io", `cannot read \`${printable(found.file, 300)}\` of a local index (${why})`, {
        hint: "a local index holds regular files only; check the folder",
        ...(opened.kind === "unreadable" ? { cause: opened.error } : {}),
      });
    }
    const { handle, stats } = opened;
    const draw = new Draw({ quota: options.quota, lease, signal });
    try {
      if (stats.size > options.maxBytes) throw tooLarge(found.file, options.maxBytes);
      await draw.cover(stats.size);
      await sink.begin(stats.size);
      for (let total = 0; ; ) {
        signal?.throwIfAborted();
        // A fresh buffer each time: a memory sink may keep the chunk it is given.
        const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null).catch((error: NodeJS.ErrnoException) => {
          throw new MpipError("io", `cannot read \`${printable(found.file, 300)}\` of a local index (${error.code ?? error.message})`, { cause: error });
        });
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > options.maxBytes) throw tooLarge(found.file, options.maxBytes); // it grew while being read
        await draw.cover(total);
        await sink.write(chunk.subarray(0, bytesRead));
      }
      return { status: "ok", url: found.url, body: await sink.end(), contentType: contentTypeOf(found.file) };
    } catch (error) {
      draw.refund();
      if (signal?.aborted === true) throw signal.reason;
      throw error;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /** The innermost allowed folder that holds `file` (lexically), if any. */
  private rootOf(file: string): string | undefined {
    let best: string | undefined;
    for (const root of this.roots.keys()) {
      if (isInside(root, file, path.sep) && (best === undefined || root.length > best.length)) best = root;
    }
    return best;
  }

  /**
   * The file a URL names: itself, or for a folder its index page, answered at the folder's URL with a
   * trailing slash (where its relative links resolve). Undefined when there is nothing to read.
   */
  private async locate(file: string, url: URL): Promise<{ file: string; url: string } | undefined> {
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw new MpipError("io", `cannot read \`${printable(file, 300)}\` of a local index (${error.code ?? error.message})`, { cause: error });
    });
    if (info === undefined) return undefined;
    if (!info.isDirectory()) return url.pathname.endsWith("/") ? undefined : { file, url: url.href };
    for (const page of INDEX_PAGES) {
      const candidate = path.join(file, page);
      const pageInfo = await stat(candidate).catch(() => undefined);
      if (pageInfo?.isFile() === true) return { file: candidate, url: folderUrl(url) };
    }
    return undefined;
  }

  /** `file` with its links resolved, refused unless still inside `root` (links resolved too). */
  private async confined(file: string, root: string): Promise<string> {
    const [realRoot, realFile] = await Promise.all([this.roots.get(root)!, realpath(file)]).catch((error: NodeJS.ErrnoException) => {
      throw new MpipError("io", `cannot read \`${printable(file, 300)}\` of a local index (${error.code ?? error.message})`, { cause: error });
    });
    if (realFile === realRoot || !isInside(realRoot, realFile, path.sep)) {
      throw new MpipError("unsafe-path", `refused to read \`${printable(file, 300)}\`: it is a symbolic link (or inside one) to \`${printable(realFile, 300)}\`, outside the local index folder \`${printable(root, 300)}\``, {
        hint: "a local index's documents may name only files inside the index's own folder; nothing was written",
      });
    }
    return realFile;
  }
}

/** A folder's URL with one trailing slash, without query or fragment. */
function folderUrl(url: URL): string {
  const folder = new URL(url.href);
  folder.search = "";
  folder.hash = "";
  if (!folder.pathname.endsWith("/")) folder.pathname += "/";
  return folder.href;
}

/** What a static web server would say the file is; documents' parsers look at their bodies too. */
function contentTypeOf(file: string): string {
  const name = path.basename(file).toLowerCase();
  if (name.endsWith(".v1_json")) return "application/vnd.pypi.simple.v1+json";
  if (name.endsWith(".v1_html")) return "application/vnd.pypi.simple.v1+html";
  if (name.endsWith(".json") || name === "json") return "application/json";
  if (name.endsWith(".html") || name.endsWith(".htm")) return "text/html";
  return "application/octet-stream";
}

/** Worded like the HTTP client's size error (http/body.ts), so that `isTooLarge` recognizes both. */
function tooLarge(file: string, maxBytes: number): MpipError {
  return new MpipError("limit-exceeded", `the file \`${printable(file, 300)}\` of a local index is larger than ${quantity(maxBytes, "byte")}`, {
    hint: "this is not a MicroPython package or index document; check the folder",
  });
}

/** The `file:` URL of a folder, without a trailing slash (how index URLs are kept). */
export function folderFileUrl(folder: string): string {
  return pathToFileURL(folder).href.replace(/\/+$/, "");
}
