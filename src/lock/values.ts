// What each value a lock gives must be before mpip acts on it. A lock is usually committed where anyone
// who can change a pull request can change it, or was edited by hand: its names become record folders,
// its versions METADATA lines, its file names paths of a download folder, its destinations paths in the
// target, its specs and refs URLs and install records (which `mpip freeze` prints as requirement lines),
// its firmware a build. Each check here is lexical (no file is looked at: a lock is read before anything
// it names is) and returns the problem in words, to follow the key in read.ts's `bad-lock` error, or
// undefined for a value that is fine. Pure.

import { checkEntryPath } from "../archive/entry-path.js";
import { MpipError } from "../errors.js";
import { isMpyArch, MPY_ARCHES } from "../mpy/header.js";
import { expandShorthand, isShorthand, splitRef, type GitHosts } from "../sources/git-hosts.js";
import { splitIndexEntry } from "../sources/index-kind.js";
import { printable } from "../text.js";
import { parseUrl, urlFormProblem } from "../url.js";
import { versionProblem } from "../versions.js";
import { isLocalSpec, NAMED_URL } from "./format.js";

/** The longest text a lock's version, ref or path may be (a package document's version may be 256 characters). */
const MAX_TEXT = 4096;
/** C0 and C1 controls and DEL: never part of a name, a version, a path or a URL a lock may give. */
const CONTROL = /[\0-\x1f\x7f-\x9f]/;

/**
 * A version: for an sdist or archive, a PEP 440 version mpip can compare (as every index and folder of
 * sdists gives it); for a mip package or a module, whose document may declare any text, at most 256
 * characters and no control character. "" (none) is fine for either.
 */
export function versionValueProblem(version: string, artifact: "dist" | "package-json" | "module" | "project"): string | undefined {
  if (version === "") return undefined;
  if (artifact === "dist") {
    const problem = versionProblem(version);
    return problem === undefined ? undefined : `${problem}, as an sdist's version must be`;
  }
  if (version.length > 256) return "is longer than the 256 characters a package document's version may have";
  return CONTROL.test(version) ? "holds a control character" : undefined;
}

/** An sdist's file name: a plain `.tar.gz` name (no folder, no `..`, no leading `.`, no control character). */
export function fileNameProblem(name: string): string | undefined {
  if (!/\.tar\.gz$/i.test(name)) return undefined; // said by the caller: mpip does not unpack it
  if (/[/\\]/.test(name)) return "names a folder too: it must be a plain file name";
  if (name.startsWith(".")) return "starts with `.`: it must be a plain file name";
  return CONTROL.test(name) ? "holds a control character" : undefined;
}

/** An http or https URL (or a `file:` URL where `file` is allowed) as WHATWG and mpip read it: no control character, white space or backslash. */
export function urlProblem(url: string, options: { file?: boolean } = {}): string | undefined {
  if (CONTROL.test(url) || /[\s\\]/.test(url)) return "holds a control character, white space or a backslash";
  const protocol = parseUrl(url)?.protocol;
  if (protocol === "http:" || protocol === "https:" || (options.file === true && protocol === "file:")) return undefined;
  return `is not an http or https URL${options.file === true ? ", nor a `file:` URL" : ""}`;
}

/** The `file:` URL of a `name @ file:` spec: relative (`file:../x`) or absolute, with no query (it names a file, not a request) and no white space. */
function namedFileProblem(url: string): { key: "spec"; problem: string } | undefined {
  if (CONTROL.test(url) || /[\s\\]/.test(url)) return { key: "spec", problem: "holds a control character, white space or a backslash" };
  if (url.includes("?")) return { key: "spec", problem: "is a `file:` URL with a query, which names no file" };
  if (/^file:(?!\/)/i.test(url)) return undefined;
  const problem = urlFormProblem(url.replace(/#.*$/s, ""));
  return problem === undefined ? undefined : { key: "spec", problem };
}

/** A path on this machine (relative to the lock, or absolute): not empty, no control character. Where it may lead is local-files.ts's business. */
export function pathProblem(text: string): string | undefined {
  if (text === "") return "is empty";
  if (text.length > MAX_TEXT) return `is longer than ${MAX_TEXT} characters`;
  return CONTROL.test(text) ? "holds a control character" : undefined;
}

/** A folder below a project (PEP 751 `subdirectory`): relative, `/`-separated, no `..`. */
export function subdirectoryProblem(text: string): string | undefined {
  const problem = pathProblem(text);
  if (problem !== undefined) return problem;
  if (text.startsWith("/") || /^[A-Za-z]:/.test(text) || text.includes("\\")) return "is not a relative `/`-separated path";
  return text.split("/").includes("..") ? "has a `..` segment: it must lie inside the project" : undefined;
}

/** Where a mip package's file goes in the target: install's rules for a package document's destination (no `..`, absolute path, backslash, `:` or name FAT cannot hold). */
export function destProblem(dest: string): string | undefined {
  const checked = checkEntryPath(dest);
  return checked.ok ? undefined : checked.reason;
}

/** A destination as install stages it (`./a//b.py` is `a/b.py`), for one that destProblem passed. */
export function normalizedDest(dest: string): string {
  return dest.split("/").filter((segment) => segment !== "" && segment !== ".").join("/");
}

/**
 * A direct source's spec (`tool.mpip.spec`) and the git ref it was fetched at (`tool.mpip.ref`): a URL
 * (http or https, or PEP 508's `name @ URL`, whose URL may be a `file:` one, relative to the lock or absolute), a `github:`/`gitlab:`/`codeberg:` shorthand that expands
 * to a URL, or a local path; a ref only with a shorthand, one git allows in a ref name, and the spec's own
 * `@ref` when it has one.
 */
export function specProblem(spec: string, ref: string | undefined, hosts: GitHosts): { key: "spec" | "ref"; problem: string } | undefined {
  if (spec === "" || CONTROL.test(spec) || spec.length > MAX_TEXT) return { key: "spec", problem: spec === "" ? "is empty" : "holds a control character or is too long" };
  const own = splitRef(spec);
  if (isShorthand(spec)) {
    try {
      expandShorthand(own.spec, own.ref, hosts);
      if (ref !== undefined) expandShorthand(own.spec, ref, hosts);
    } catch (error) {
      if (!(error instanceof MpipError)) throw error;
      return { key: ref !== undefined && own.ref === undefined ? "ref" : "spec", problem: `is no source mpip can fetch: ${error.message}` };
    }
    if (ref !== undefined && own.ref !== undefined && ref !== own.ref) return { key: "ref", problem: `is another ref than the spec's own (\`@${printable(own.ref, 100)}\`)` };
    return undefined;
  }
  if (ref !== undefined) return { key: "ref", problem: "is given for a spec that is no `github:`, `gitlab:` or `codeberg:` shorthand, which alone is fetched at a ref" };
  if (isLocalSpec(spec)) return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(spec) && !/^file:/i.test(spec) ? { key: "spec", problem: "is a URL of a scheme mpip does not fetch (http and https only)" } : undefined;
  const url = NAMED_URL.exec(spec)?.[2] ?? spec;
  // `name @ file:` (a local sdist or project folder, named): relative to the lock (`file:../dist/v1.tar.gz`) or absolute.
  if (url !== spec && /^file:/i.test(url)) return namedFileProblem(url);
  const problem = urlProblem(url);
  return problem === undefined ? undefined : { key: "spec", problem };
}

/** An index the lock records (`tool.mpip.index-urls`): an http(s) or `file:` URL, or a folder, after an optional `mip+`, `pypi+` or `simple+`. */
export function indexEntryProblem(entry: string): string | undefined {
  const { rest, url } = splitIndexEntry(entry);
  return url ? urlProblem(rest, { file: true }) : pathProblem(rest);
}

/** The firmware (`tool.mpip.mpy`, `tool.mpip.arch`): an `.mpy` version mpip knows (`5`, `6`, `6.0` to `6.3`), and an architecture it knows (as `--arch` names it), with a version only. */
export function firmwareProblem(mpy: string | undefined, arch: string | undefined): { key: "mpy" | "arch"; problem: string } | undefined {
  if (mpy === undefined) return arch === undefined ? undefined : { key: "arch", problem: "is given without `mpy`: an architecture belongs to an .mpy version" };
  const match = /^(\d+)(?:\.(\d+))?$/.exec(mpy);
  if (match === null || !(match[1] === "6" || (match[1] === "5" && match[2] === undefined)) || Number(match[2] ?? 0) > 3) {
    return { key: "mpy", problem: "is not an .mpy version mpip knows (`5`, `6`, or `6.0` to `6.3`)" };
  }
  if (arch !== undefined && (arch !== arch.toLowerCase() || arch === "" || !isMpyArch(arch))) {
    return { key: "arch", problem: `is not a native architecture mpip knows (${MPY_ARCHES.slice(1).join(", ")})` };
  }
  return undefined;
}
