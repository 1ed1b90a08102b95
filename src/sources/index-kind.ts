// Which protocol an index speaks, and where it is. `-i` takes an http(s) URL, or a local folder (a path,
// relative to the current folder, or a `file:` URL), each with an optional kind prefix (`mip+`, `pypi+`,
// `simple+`); without one, an http(s) index's kind is guessed from the URL's last path segment (`.../pypi`,
// `.../simple`, `.../v2`) and otherwise detected by asking the index once per run, and a folder's is
// detected from what it holds (detect.ts). A folder is kept as its `file:` URL: every source reads it
// through the same client as a server (http/file-url.ts).

import { statSync } from "node:fs";
import path from "node:path";
import { MpipError } from "../errors.js";
import { EXAMPLE_USERINFO } from "../secrets.js";
import { editDistance, printable } from "../text.js";
import { redactUrl } from "../http.js";
import { fileUrlPath, folderFileUrl } from "../http/file-url.js";
import { parseUrl, trimPathSlashes, urlFormProblem } from "../url.js";

export type IndexKind = "mip" | "pypi" | "simple";

export const INDEX_KINDS: Record<IndexKind, string> = {
  mip: "micropython-lib v2 index (mip)",
  pypi: "PyPI JSON API",
  simple: "simple repository API (PEP 503/691)",
};

export interface IndexLocation {
  /** The index's base URL, without the kind prefix or a trailing slash; for a folder, its `file:` URL. */
  url: string;
  /** Given with a prefix; otherwise guessed or detected. */
  kind?: IndexKind;
  /** A local index: its folder's absolute path (links not resolved). */
  folder?: string;
}

const PREFIX = /^(mip|pypi|simple)\+/i;
/** A URL's scheme and `//`: what is not a path, whatever the folder holds. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * An index as `-i` gives it, split as parseIndexLocation reads it: the kind prefix as typed (`simple+`,
 * with its `+`; "" for none), the rest, and whether the rest is a URL (http, https, `file:`, any
 * `scheme://`) rather than a folder's path (`./dl`, `a:b`, `C:\dl`). Never throws.
 */
export function splitIndexEntry(text: string): { prefix: string; rest: string; url: boolean } {
  const prefix = PREFIX.exec(text)?.[0] ?? "";
  const rest = text.slice(prefix.length);
  return { prefix, rest, url: /^(https?|file):/i.test(rest) || URL_SCHEME.test(rest) };
}

/**
 * The index `-i` names: `simple+https://host/simple/` → { url: "https://host/simple", kind: "simple" };
 * `./dl`, `mip+/srv/v2` or `file:///srv/v2` → { url: "file:///srv/v2", folder: "/srv/v2" } (with the
 * kind, for a prefix). A path is taken as typed (`%` included) and resolved against `cwd`; a `file:` URL
 * is percent-decoded. Throws MpipError("usage") for another scheme, and for a path or `file:` URL that
 * names no folder (the message never shows credentials that a URL typed without its scheme carries).
 * `option` (`-i/--index-url`) names where a URL with no host or no path was given, in its error.
 */
export function parseIndexLocation(text: string, cwd: string = process.cwd(), option?: string): IndexLocation {
  const given = option === undefined ? "" : ` (given with ${option})`;
  const { prefix, rest } = splitIndexEntry(text);
  const kind = prefix === "" ? {} : { kind: prefix.slice(0, -1).toLowerCase() as IndexKind };
  if (/^https?:/i.test(rest)) {
    const url = trimPathSlashes(rest);
    const protocol = parseUrl(url)?.protocol;
    if (protocol === "http:" || protocol === "https:") return { url, ...kind };
    const problem = urlFormProblem(url);
    if (problem !== undefined) throw new MpipError("usage", `the index URL \`${printable(redactUrl(url).replace(/^([a-z]+:\/\/)[^/]*@/i, "$1***@"))}\`${given} is not a valid URL: it ${problem}`, { hint: "an index is a URL such as `https://host/pypi` or a local folder" });
    throw notAnIndex(text, undefined, option);
  }
  if (/^file:/i.test(rest)) {
    const problem = urlFormProblem(rest);
    const folder = problem === undefined ? fileUrlPath(rest) : undefined;
    if (folder === undefined) {
      throw new MpipError("usage", `\`${printable(rest)}\`${given} is not a \`file:\` URL of a folder on this machine${problem === undefined ? "" : `: it ${problem}`}`, { hint: "write a local folder as a path, or as `file:///absolute/path` (percent-escaped)" });
    }
    return { url: folderFileUrl(checkFolder(folder, text, undefined, option)), folder, ...kind };
  }
  if (URL_SCHEME.test(rest) || rest === "") throw notAnIndex(text, undefined, option);
  const folder = path.resolve(cwd, rest);
  return { url: folderFileUrl(checkFolder(folder, text, cwd, option)), folder, ...kind };
}

/** Whether the index is a folder on this machine (its URL is a `file:` URL). */
export function isLocalIndex(location: IndexLocation): boolean {
  return location.folder !== undefined;
}

/**
 * `folder` when it is a folder; a usage error otherwise. A path that names nothing may be a URL typed
 * without its scheme: the error says both, with the credentials of such a URL hidden.
 */
function checkFolder(folder: string, typed: string, cwd?: string, option?: string): string {
  let isFolder: boolean | undefined;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    isFolder = undefined;
  }
  if (isFolder === true) return folder;
  const shown = printable(redactUrl(typed).replace(/^([a-z]+\+)?[^/]*@/i, "$1***@"));
  if (isFolder === false) {
    throw new MpipError("usage", `\`${shown}\` (given with ${option?.split("/")[0] ?? "-i"}) is a file; a local index is a folder`, { hint: "give the folder that holds the index's files (`index.json`, `NAME/json`, `NAME/index.html`, or sdists)" });
  }
  if (cwd === undefined) throw new MpipError("usage", `\`${shown}\` (given with ${option?.split("/")[0] ?? "-i"}) names no folder on this machine`, { hint: "check the path in the `file:` URL" });
  throw notAnIndex(typed, { cwd, folder }, option);
}

/** Schemes that are not a slip of `http`/`https` however close they are (`ftp`), for notAnIndex's look-alike. */
const OTHER_SCHEMES = new Set(["ftp", "ftps", "sftp", "ssh", "git", "svn", "hg", "bzr", "s3", "gs", "ws", "wss", "smb", "nfs", "file", "data"]);

/** `http` or `https`, whichever `scheme` (`htps`, `htp`, `hhtps`) is a slip of the keyboard for; undefined for none. */
function nearHttp(scheme: string): "http" | "https" | undefined {
  const lower = scheme.toLowerCase();
  if (OTHER_SCHEMES.has(lower) || lower.length < 3) return undefined;
  const toHttps = editDistance(lower, "https");
  const toHttp = editDistance(lower, "http");
  if (Math.min(toHttps, toHttp) > 2) return undefined;
  return toHttps <= toHttp ? "https" : "http";
}

/** `micropython.org/pi/v2`, `localhost:8080/simple`, `user:token@host/pypi`: text whose first segment reads as a host (a URL typed without its scheme). */
function looksLikeHost(text: string): boolean {
  const first = /^[^/\\]*/.exec(text)![0];
  const host = first.slice(first.lastIndexOf("@") + 1).replace(/:\d*$/, "");
  return first.includes("@") || host === "localhost" || /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/.test(host) || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/**
 * What is wrong with an index that is no URL mpip fetches and no folder here, for each way it goes wrong:
 * nothing given; a kind with nothing after it; a scheme missing its `:` (`https//host`); another scheme,
 * with the look-alike for a slip (`htps://`: `https://`); a broken URL; a path to nothing (`./dl`, said
 * with the path it resolved to, `local` the folder looked for); a URL typed without its scheme
 * (`host/pypi`). `option` gives the flag a corrected value is offered with.
 */
function notAnIndex(text: string, local?: { cwd: string; folder: string }, option?: string): MpipError {
  const cwd = local?.cwd;
  /** The flag a corrected command gives the index with. */
  const flag = option?.split("/")[0] ?? "-i";
  /** The index written right, with its flag when the command line gave it (a -r file's line has its own option). */
  const write = (fixed: string) => `write \`${option === undefined ? fixed : `${flag} ${fixed}`}\``;
  if (text.trim() === "") {
    return new MpipError("usage", "an index was given as an empty value, with no URL or folder", { hint: "give a URL such as `https://host/pypi` or a folder's path (is a variable in the command unset?)" });
  }
  if (/^(mip|pypi|simple)\+$/i.test(text.trim())) {
    return new MpipError("usage", `an index was given as \`${printable(text)}\`, a kind with no URL or folder after it`, { hint: `give the index's URL or folder after the kind: \`${printable(text.trim())}https://host/...\`` });
  }
  const shown = printable(redactUrl(text).replace(/^([a-z]+\+)?[^/]*@/i, "$1***@"));
  const { prefix, rest } = splitIndexEntry(text.trim());
  const shownRest = shown.slice(prefix.length);
  // `https//host/v2`, `http;//host`: the scheme is there, its `:` is not.
  const colonless = /^(https?)(?:\/{1,3}|;\/\/)(?=[^/\\])/i.exec(rest);
  if (colonless !== null) {
    const fixed = `${prefix}${colonless[1]!.toLowerCase()}://${shownRest.slice(colonless[0].length)}`;
    return new MpipError("usage", `\`${shown}\` is not a URL: \`${printable(colonless[1]!, 10)}\` has no \`://\` after it, and there is no folder of that name here`, { hint: write(fixed) });
  }
  // Another scheme (`ftp://`): mpip fetches over http and https only (and reads folders).
  const scheme = /^(?:[a-z]+\+)?([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1];
  if (scheme !== undefined && !/^(https?|file)$/i.test(scheme)) {
    const near = nearHttp(scheme);
    const fixed = near === undefined ? undefined : `${prefix}${near}${shownRest.slice(scheme.length)}`;
    return new MpipError("usage", `\`${shown}\` is not an http or https URL: mpip does not fetch over ${printable(scheme, 20)}${near === undefined ? "" : ` (did you mean ${near}?)`}`, {
      hint: fixed === undefined ? "give the index's http or https URL, or a folder on this machine (a path, or a `file://` URL)" : write(fixed),
    });
  }
  // A scheme and `://` with a host that is no host (`http://[::1`): the URL is broken, its scheme is there.
  if (/^([a-z]+\+)?https?:\/\//i.test(text)) {
    return new MpipError("usage", `\`${shown}\` is not a valid URL`, { hint: "check the URL: it needs a host, a port (if any) from 1 to 65535, and brackets only around an IPv6 address" });
  }
  // `./dl`, `../x/y`, `dl`: a path, to nothing; no URL was meant.
  if (local !== undefined && !looksLikeHost(rest)) {
    return new MpipError("usage", `\`${shown}\` is not an http or https URL, nor a folder on this machine: there is nothing at \`${printable(local.folder)}\``, {
      hint: `check the path; it is relative to the current folder \`${printable(local.cwd)}\` (an index is a folder such as \`mpip download -d DIR\` writes, or a URL such as \`https://host/pypi\`)`,
    });
  }
  return new MpipError("usage", `\`${shown}\` is not an http or https URL${cwd === undefined ? "" : ", nor a folder on this machine"}; an index is a URL such as \`https://host/pypi\` or a local folder, optionally with a kind: \`mip+\`, \`pypi+\`, \`simple+\``, {
    hint: cwd === undefined
      ? `add the scheme, e.g. \`-i https://${EXAMPLE_USERINFO}@host/pypi\`${looksLikeHost(rest) ? `: \`${flag} ${prefix}https://${shownRest}\`` : ""}`
      : `for a URL, add the scheme (e.g. \`-i https://${EXAMPLE_USERINFO}@host/pypi\`)${looksLikeHost(rest) ? `, here \`${flag} ${prefix}https://${shownRest}\`` : ""}; a folder's path is relative to the current folder \`${printable(cwd)}\``,
  });
}

/** The kind a URL's shape tells, without asking: PyPI's `/pypi`, pip's `/simple`, micropython-lib's `/v2`. */
export function kindFromUrl(url: string): IndexKind | undefined {
  const last = (parseUrl(url)?.pathname ?? "").replace(/\/+$/, "").split("/").pop()?.toLowerCase() ?? "";
  if (last === "pypi") return "pypi";
  if (last === "simple" || last === "+simple") return "simple";
  if (last === "v2") return "mip";
  return undefined;
}
