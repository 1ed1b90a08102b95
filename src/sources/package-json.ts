// mip package documents: micropython-lib's v2 `package/{flavor}/{name}/{version}.json` and the
// `package.json` of third-party repos share one format (mip's `_install_json`). Parsing checks every
// destination like a tar entry's name before anything is fetched; planning turns the document into
// files with a location and the hash to check (mip itself checks none); dependencies stay data.

import path from "node:path";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import { CaseIndex, describeClash, sameName, type Clash } from "../archive/case-fold.js";
import { checkEntryPath, isInside } from "../archive/entry-path.js";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { isWellFormed, joinUrlPath, parseUrl } from "../url.js";
import { isShorthand, refFor, rewriteShorthand, splitRef, type GitHosts, type RepoRef } from "./git-hosts.js";
import { isMipName } from "../spec/names.js";
import { throughGitData } from "./local-root.js";
import { isFileUrl } from "../http/file-url.js";
import { badField, describeDocument, outsideLocalIndexHint, jsonObject, parseDocument, resolveHttpUrl, resolveLink, type DocumentOrigin } from "./metadata.js";
import type { Location, MipIndexRef, PlannedFile } from "./types.js";

/** A checked package document. Destinations are normalized (`./a//b.py` → `a/b.py`) and unique per list. */
export interface PackageDocument {
  origin: DocumentOrigin;
  /** undefined when the document gives none or `""` (build.py writes that for a manifest without one). */
  version?: string;
  /** `[dest, short sha256 (lowercase hex)]`: a file in the v2 index's `file/` folder, or the hash of a `urls` file. */
  hashes: Array<[string, string]>;
  /** `[dest, url]`, the URL as written (absolute, relative, or a shorthand). */
  urls: Array<[string, string]>;
  /** `[name, version]` as written: a name on the index, a URL or a shorthand; "" for one written with no version. */
  deps: Array<[string, string]>;
  /**
   * `[dest, full sha256 (lowercase hex)]` from the document's `sha256` field, which mpip's index build
   * writes beside `hashes` (mip reads only `hashes`, `urls`, `deps` and `version`, so it ignores it): each
   * names a file of `hashes` or `urls`, agrees with its short hash, and is what that file is checked against.
   * Absent when the document gives none.
   */
  sha256?: Array<[string, string]>;
  /** What was read leniently (a pair listed twice, a dependency with no version), said as warnings; absent when nothing was. */
  warnings?: string[];
}

export interface PlanContext {
  /**
   * Where the document was read from: its final http(s) URL (after redirects; relative `urls` resolve
   * against it), or for a local document its absolute path or `file:` URL (relative `urls` are then
   * files inside the document's folder). A document of a local v2 index (`mip.base` is a `file:` URL) is
   * read as on a server: its `file:` URL, which relative `urls` resolve against, inside the index's folder.
   */
  documentUrl: string;
  /**
   * The spec's `@ref` and the repo it was asked for: applied to shorthand `urls` into that same repo that
   * carry no ref of their own. Unlike mip, which applies it to every shorthand, another repo is fetched at
   * its default branch: a branch name means something only in its own repo.
   */
  ref?: RepoRef;
  /**
   * For a local document: the folder its relative `urls` must stay in, the nearest folder above it that
   * holds `.git` (see `localDocumentRoot`); default, the document's own folder.
   */
  localRoot?: string;
  hosts: GitHosts;
  /** The v2 index the document came from: where its bare `hashes` are. */
  mip?: MipIndexRef;
  /** Base of the first v2 index configured: where a third-party document's bare `hashes` are, as mip fetches them. */
  fallbackMip?: string;
}

export interface MipDependency {
  name: string;
  /** undefined for mip's "latest" and "". */
  version?: string;
}

const MAX_ENTRIES = 10_000;
const entryText = (max: number) => v.pipe(v.string(), v.maxLength(max, `must be at most ${max} characters`));
const urlText = v.pipe(
  entryText(8192),
  v.nonEmpty("must not be empty"),
  v.check((url) => !/[\0-\x1f\x7f-\x9f\\]/.test(url), "must not contain control characters or backslashes"),
);
const shortHash = v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{4,64}$/, "must be 4 to 64 hex digits"), v.toLowerCase());
const fullHash = v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{64}$/, "must be a full sha256 (64 hex digits)"), v.toLowerCase());
/** `[a, b]` exactly; an array of another length gets a message that says what is expected. */
const pair = <A extends v.GenericSchema, B extends v.GenericSchema>(first: A, second: B, shape: string) =>
  v.pipe(v.unknown(), v.check((input) => !Array.isArray(input) || input.length === 2, `must be a pair ${shape}`), v.strictTuple([first, second]));
const list = <T extends v.GenericSchema>(item: T) => v.optional(v.pipe(v.array(item), v.maxLength(MAX_ENTRIES, `must have at most ${MAX_ENTRIES} entries`)), []);

/**
 * A `deps` entry: `[name, version]`, or leniently `[name]`, `[name, null]` or a bare `"name"` (no version:
 * the latest, as mip takes a missing version), read as `[name, null]` so that the version can be warned about.
 */
const dependency = v.pipe(
  v.unknown(),
  v.check((input) => typeof input === "string" || !Array.isArray(input) || input.length === 1 || input.length === 2, "must be a pair `[name, version]`"),
  v.transform((input) => (typeof input === "string" ? [input, null] : Array.isArray(input) && input.length === 1 ? [input[0], null] : input)),
  v.strictTuple([v.pipe(entryText(2048), v.nonEmpty("must not be empty")), v.nullable(entryText(256))]),
);

const DocumentSchema = jsonObject(v.object({
  // Checked after parsing, for a message that says what the number means.
  v: v.optional(v.unknown()),
  version: v.optional(v.nullable(entryText(256))),
  hashes: list(pair(entryText(1024), shortHash, "`[destination, hash]`")),
  urls: list(pair(entryText(1024), urlText, "`[destination, url]`")),
  deps: list(dependency),
  // mpip's own field, which mip never reads: `null` says as little as its absence, so mip's install stands.
  sha256: v.nullish(v.pipe(v.array(pair(entryText(1024), fullHash, "`[destination, sha256]`")), v.maxLength(MAX_ENTRIES, `must have at most ${MAX_ENTRIES} entries`)), []),
}));

/** Parses and checks a package document; the caller has already limited its size. */
export function parsePackageDocument(body: Buffer, origin: DocumentOrigin): PackageDocument {
  const doc = parseDocument(DocumentSchema, body, origin);
  if (doc.v !== undefined && doc.v !== 1) {
    throw badField(origin, "v", `is ${printable(JSON.stringify(doc.v) ?? String(doc.v), 40)}, but mpip reads package documents of format 1 only`);
  }
  const warnings: string[] = [];
  const hashes = checkDests(doc.hashes, "hashes", origin, warnings);
  const urls = checkDests(doc.urls, "urls", origin, warnings);
  checkClashes(hashes, urls, origin);
  const sha256 = checkFullHashes(checkDests(doc.sha256, "sha256", origin, warnings), hashes, urls, origin);
  const deps = doc.deps.map(([name, version], index): [string, string] => {
    if (version === null) warnings.push(`${describeDocument(origin)} lists the dependency \`${printable(name, 200)}\` with no version (\`deps[${index}]\`): installing the latest; mip expects \`[name, version]\`, with \`""\` or \`"latest"\` for the latest`);
    return [name, version ?? ""];
  });
  checkDeps(deps, origin);
  const version = doc.version === null || doc.version === undefined || doc.version === "" ? undefined : doc.version;
  return { origin, ...(version === undefined ? {} : { version }), hashes, urls, deps, ...(sha256.length === 0 ? {} : { sha256 }), ...(warnings.length === 0 ? {} : { warnings }) };
}

/**
 * The `sha256` entries checked against the rest of the document: each must name a file the document lists
 * (in `hashes` or `urls`) and agree with that file's short hash, if it has one; otherwise the document
 * contradicts itself and nothing of it is fetched.
 */
function checkFullHashes(entries: Array<[string, string]>, hashes: Array<[string, string]>, urls: Array<[string, string]>, origin: DocumentOrigin): Array<[string, string]> {
  const shorts = new Map(hashes);
  const listed = new Set([...hashes, ...urls].map(([dest]) => dest));
  for (const [index, [dest, full]] of entries.entries()) {
    if (!listed.has(dest)) throw badField(origin, `sha256[${index}][0]`, `names \`${printable(dest, 200)}\`, which is in neither \`hashes\` nor \`urls\``);
    const short = shorts.get(dest);
    if (short !== undefined && !full.startsWith(short)) {
      throw badField(origin, `sha256[${index}][1]`, `is ${full}, which does not start with the short hash ${short} that \`hashes\` gives \`${printable(dest, 200)}\``);
    }
  }
  return entries;
}

/**
 * Normalizes and checks each destination. A destination listed again with the same source (the same
 * URL, or a hash that agrees with the first) is one file, listed once, with a warning, as mip installs
 * it; with another source it is an error, since which one the package means cannot be known.
 */
function checkDests(entries: Array<[string, string]>, field: string, origin: DocumentOrigin, warnings: string[]): Array<[string, string]> {
  const seen = new Map<string, { index: number; at: number }>();
  const kept: Array<[string, string]> = [];
  for (const [index, [raw, value]] of entries.entries()) {
    const checked = checkEntryPath(raw);
    if (!checked.ok) throw refusedDest(origin, raw, `${field}[${index}]`, checked.reason, checked.hint);
    const first = seen.get(checked.path);
    if (first === undefined) {
      seen.set(checked.path, { index, at: kept.length });
      kept.push([checked.path, value]);
      continue;
    }
    const earlier = kept[first.at]![1];
    const same = field === "urls" ? sameUrl(earlier, value) : sameHash(earlier, value);
    if (same === undefined) {
      throw badField(origin, `${field}[${index}][0]`, `names \`${printable(checked.path, 200)}\` again, already listed at \`${field}[${first.index}]\` with another ${field === "urls" ? "URL" : "hash"}`);
    }
    kept[first.at] = [checked.path, same];
    warnings.push(`${describeDocument(origin)} lists \`${printable(checked.path, 200)}\` twice, at \`${field}[${first.index}]\` and \`${field}[${index}]\`, with the same ${field === "urls" ? "URL" : "hash"}: installed once`);
  }
  return kept;
}

/** Two short hashes agree when one is a prefix of the other: the longer is kept, as it checks more. */
function sameHash(first: string, second: string): string | undefined {
  if (first.startsWith(second)) return first;
  return second.startsWith(first) ? second : undefined;
}

/** The same URL when written alike up to `./`, `a/../` and (for absolute URLs) the parser's normal form. */
function sameUrl(first: string, second: string): string | undefined {
  return urlKey(first) === urlKey(second) ? first : undefined;
}

function urlKey(url: string): string {
  if (isShorthand(url)) return url;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) return parseUrl(url)?.href ?? url;
  return path.posix.normalize(url);
}

function refusedDest(origin: DocumentOrigin, dest: string, field: string, reason: string, hint?: string): MpipError {
  return new MpipError("unsafe-path", `${describeDocument(origin)} lists the file \`${printable(dest, 200)}\` (\`${field}\`), refused: ${reason}`, {
    hint: `${hint ?? "the package is broken or malicious"}; nothing of it was fetched or written`,
  });
}

/**
 * The tar rules for names that clash: destinations that FAT (the devices' filesystem) makes one file (case,
 * Unicode normalization) are refused, and so is a destination that is also another's folder, which cannot
 * be written at all. A destination in both lists is one file.
 */
function checkClashes(hashes: Array<[string, string]>, urls: Array<[string, string]>, origin: DocumentOrigin): void {
  const hashed = new Set(hashes.map(([dest]) => dest));
  const entries: Array<[string, string]> = [
    ...hashes.map(([dest], index): [string, string] => [dest, `hashes[${index}]`]),
    ...urls.flatMap(([dest], index): Array<[string, string]> => (hashed.has(dest) ? [] : [[dest, `urls[${index}]`]])),
  ];
  const index = new CaseIndex<string>();
  for (const [dest, field] of entries) {
    const [clash] = index.add(dest, field);
    if (clash !== undefined) throw refusedDest(origin, dest, field, describeDestClash(clash));
  }
}

/** describeClash's reasons, naming the other entry; a file against a folder is said without "archive". */
function describeDestClash(clash: Clash<string>): string {
  const { path: name, kind, other } = clash;
  const where = `\`${other.owner}\``;
  if (kind === other.kind) return `${describeClash(clash)} (the other is ${where})`;
  const differs = name === other.path ? "" : `, which differs from it ${sameName(name, other.path).how}`;
  if (kind === "file") return `it is a file where ${where} needs the folder \`${printable(other.path, 200)}\`${differs}`;
  return name === other.path
    ? `its folder \`${printable(name, 200)}\` is also a file (${where})`
    : `its folder \`${printable(name, 200)}\` is also a file, \`${printable(other.path, 200)}\` (${where})${differs}`;
}

const UNSAFE_CHARACTERS = /[\s\0-\x1f\x7f-\x9f]/;
/** A version as mip reads it: exact (no operators, ranges or wildcards), a git ref, `latest`, or "". */
const DEP_VERSION = /^[^\s<>=~,;@#?*\\\0-\x1f\x7f-\x9f]*$/;

/** mip follows a dependency by name on its index, or by URL or shorthand: nothing else, and nothing more. */
function checkDeps(deps: Array<[string, string]>, origin: DocumentOrigin): void {
  for (const [index, [name, version]] of deps.entries()) {
    if (!isDependencyName(name)) {
      throw badField(origin, `deps[${index}][0]`, `is \`${printable(name, 120)}\`, but must be a project name, an http(s) URL, or a \`github:\`, \`gitlab:\` or \`codeberg:\` shorthand (no spaces, markers or \`name @ URL\`)`);
    }
    if (!DEP_VERSION.test(version) || !isWellFormed(version)) {
      throw badField(origin, `deps[${index}][1]`, `is \`${printable(version, 60)}\`, but must be an exact version, a git ref, \`latest\` or empty (no operators, wildcards, spaces or \`;\`)`);
    }
  }
}

function isDependencyName(name: string): boolean {
  if (UNSAFE_CHARACTERS.test(name) || !isWellFormed(name)) return false;
  if (isShorthand(name)) return true; // its form is checked when it becomes a spec
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(name)) return /^https?:\/\//i.test(name) && resolveHttpUrl(name, "https://index.invalid/") !== undefined;
  // mip looks a name up on its index verbatim: micropython-lib's names (`__future__`) follow mip's rule, not PEP 508's.
  return isMipName(name);
}

/**
 * The files to fetch: each `urls` entry from its URL (checked against the `hashes` entry for the same
 * destination, if any), each other `hashes` entry from the v2 index's `file/` folder. Order: `hashes`,
 * then the `urls` not already planned. A file the `sha256` field names is checked against that full
 * sha256 instead of the short hash (which still names it in the `file/` folder).
 */
export function planPackageFiles(doc: PackageDocument, context: PlanContext): PlannedFile[] {
  const urls = new Map(doc.urls.map(([dest, url], index) => [dest, { url, index }]));
  const full = new Map(doc.sha256 ?? []);
  const planned: PlannedFile[] = doc.hashes.map(([dest, sha256], index) => {
    const entry = urls.get(dest);
    const location = entry === undefined ? hashedFile(doc, dest, sha256, index, context) : entryLocation(doc, entry.url, `urls[${entry.index}][1]`, context);
    return { dest, location, sha256: full.get(dest) ?? sha256 };
  });
  const hashed = new Set(doc.hashes.map(([dest]) => dest));
  for (const [index, [dest, url]] of doc.urls.entries()) {
    if (hashed.has(dest)) continue;
    const sha256 = full.get(dest);
    planned.push({ dest, location: entryLocation(doc, url, `urls[${index}][1]`, context), ...(sha256 === undefined ? {} : { sha256 }) });
  }
  return planned;
}

/** The `deps` pairs, with mip's "latest" and "" meaning any version. */
export function dependenciesOf(doc: PackageDocument): MipDependency[] {
  return doc.deps.map(([name, version]) => (version === "" || version === "latest" ? { name } : { name, version }));
}

function hashedFile(doc: PackageDocument, dest: string, sha256: string, index: number, context: PlanContext): Location {
  const base = context.mip?.base ?? context.fallbackMip;
  if (base === undefined) {
    throw new MpipError("not-found", `${describeDocument(doc.origin)} lists \`${printable(dest, 200)}\` (\`hashes[${index}]\`) by hash only, and no micropython-lib index is configured to fetch it from`, {
      hint: "add a micropython-lib v2 index (such as https://micropython.org/pi/v2) to the indexes, as mip fetches such files from its index",
    });
  }
  return { type: "remote", url: joinUrlPath(base, `file/${sha256.slice(0, 2)}/${sha256}`) };
}

function entryLocation(doc: PackageDocument, url: string, field: string, context: PlanContext): Location {
  if (isShorthand(url)) return { type: "remote", url: shorthandEntry(doc, url, field, context) };
  const indexFolder = context.mip !== undefined && isFileUrl(context.mip.base) ? context.mip.base : undefined;
  if (indexFolder !== undefined) return localIndexEntry(doc, url, field, context.documentUrl, indexFolder);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) {
    if (!/^https?:\/\//i.test(url)) throw badField(doc.origin, field, `is \`${printable(url, 120)}\`: only http, https and \`github:\`/\`gitlab:\`/\`codeberg:\` URLs, or paths relative to the document, are fetched`);
    return { type: "remote", url: absoluteUrl(doc, url, undefined, field) };
  }
  const local = localDocument(context.documentUrl);
  if (local === undefined) return { type: "remote", url: relativeUrl(doc, url, field, context) };
  const folder = path.dirname(local);
  const root = context.localRoot ?? folder;
  const file = path.resolve(folder, url);
  if (!isInside(root, file, path.sep) || file === root) {
    const outside = root === folder ? `the document's folder \`${printable(folder)}\`` : `the git clone \`${printable(root)}\` that holds the document`;
    throw new MpipError("unsafe-path", `${describeDocument(doc.origin)} names \`${printable(url, 200)}\` (\`${field}\`), which is outside ${outside}`, {
      hint: "a local package.json may only name files in its own folder or below, or anywhere in the git clone it is in (the nearest folder above it that holds `.git`); nothing was fetched or written",
    });
  }
  if (throughGitData(path.relative(root, file))) {
    throw new MpipError("unsafe-path", `${describeDocument(doc.origin)} names \`${printable(url, 200)}\` (\`${field}\`), which is inside a \`.git\` folder: git's own data, not a file of the repository`, {
      hint: "a local package.json may name the repository's files, never git's data (its config can hold credentials); nothing was fetched or written",
    });
  }
  return { type: "local", path: file };
}

/**
 * An entry of a local v2 index's document (its URL is a `file:` URL below `root`, the index's folder): it
 * resolves against the document as on a server, to an http(s) URL or a file inside the index's folder.
 */
function localIndexEntry(doc: PackageDocument, url: string, field: string, documentUrl: string, root: string): Location {
  const resolved = resolveLink(url, documentUrl, root);
  if (resolved !== undefined) return { type: "remote", url: resolved };
  if (parseUrl(url, documentUrl)?.protocol === "file:") {
    throw new MpipError("unsafe-path", `${describeDocument(doc.origin)} names \`${printable(url, 200)}\` (\`${field}\`), which is outside the local index \`${printable(root)}\``, {
      hint: outsideLocalIndexHint({ ...doc.origin, root }, url, documentUrl) ?? "a local index's documents may name only files inside the index's own folder; nothing was fetched or written",
    });
  }
  throw badField(doc.origin, field, `is \`${printable(url, 120)}\`: only http, https and \`github:\`/\`gitlab:\`/\`codeberg:\` URLs, or paths inside the local index, are fetched`);
}

function shorthandEntry(doc: PackageDocument, url: string, field: string, context: PlanContext): string {
  const { spec, ref } = splitRef(url);
  try {
    return rewriteShorthand(spec, refFor(spec, ref, context.ref), context.hosts);
  } catch (error) {
    if (error instanceof MpipError && error.code === "bad-spec") throw badField(doc.origin, field, `is not a valid shorthand: ${error.message}`);
    throw error;
  }
}

/** mip joins a relative entry to the document's folder; codeberg's raw API keeps the ref in the query. */
function relativeUrl(doc: PackageDocument, url: string, field: string, context: PlanContext): string {
  const base = parseUrl(context.documentUrl);
  if (base === undefined) throw badField(doc.origin, field, `cannot be resolved: the document's own URL \`${printable(context.documentUrl, 120)}\` is not a valid URL`);
  const codebergRaw = `${context.hosts.codeberg.replace(/\/+$/, "")}/api/v1/repos/`;
  const keepQuery = `${base.origin}${base.pathname}`.startsWith(codebergRaw) && !url.includes("?") ? base.search : undefined;
  return absoluteUrl(doc, url, context.documentUrl, field, keepQuery);
}

function absoluteUrl(doc: PackageDocument, url: string, base: string | undefined, field: string, search?: string): string {
  const resolved = parseUrl(url, base);
  if (resolved === undefined) throw badField(doc.origin, field, `is \`${printable(url, 120)}\`, not a valid URL`);
  if (resolved.protocol !== "http:" && resolved.protocol !== "https:") throw badField(doc.origin, field, "must resolve to an http or https URL");
  if (search !== undefined) resolved.search = search;
  return resolved.toString();
}

/** The document's path when it is local, else undefined (it is an http(s) URL). */
function localDocument(documentUrl: string): string | undefined {
  if (/^https?:\/\//i.test(documentUrl)) return undefined;
  if (documentUrl.startsWith("file:")) return fileURLToPath(documentUrl);
  if (path.isAbsolute(documentUrl)) return documentUrl;
  throw new Error(`planPackageFiles needs an http(s) URL or an absolute path, not ${documentUrl}`);
}
