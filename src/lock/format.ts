// The lock: what `mpip lock` pins and `mpip install --lock` / `mpip sync` installs, as data, and how
// mpip writes it as PEP 751 `pylock.toml` (packaging.python.org, "pylock.toml Specification"). Pure: no I/O. Reading a lock (mpip's or another tool's) is read.ts.
//
// What the standard expresses is written in its own keys: `name` (PEP 503 normalized), `version`,
// `index`, `dependencies` (informational, as the spec says), and where the bytes are: `sdist` for an sdist
// chosen from an index or a `--find-links` folder, `archive` for one named directly (URL or path),
// `directory` for a project folder. What it cannot express goes in the package's `[packages.tool.mpip]`:
// a mip package document (its URL and full sha256, and every file's destination, URL, size and full
// sha256: a v2 index gives only 8 hex digits, mpip hashes the bytes at lock time), a single module, the
// spec a direct source was named by (`github:org/repo@v1`), the kind of index (`mip`, `pypi`, `simple`),
// whether the user asked for it, and the name as the source spells it. The lock's own `[tool.mpip]` holds
// what it was made from and for: the requirements, indexes and folders, and the firmware and build
// (`--mpy`/`--target-version`/`--arch`, `--compile`), which a locked install must match.
//
// Deterministic: the same lock gives the same bytes. Keys are written in the order the specification
// lists them (mpip's own tables in alphabetical order), packages sorted by name (then by source),
// dependencies sorted by name, a package document's files in the document's order (which its install
// record keeps), no timestamps, no absolute path mpip made (files on this machine, and the folder of a
// local index, are written relative to the lock's folder); the order packages install in
// (the resolution's, which decides who owns a file two packages ship) is the `install-order` list.

import path from "node:path";
import { pathToFileURL } from "node:url";
import type { SourceKind } from "../record/format.js";
import { fileUrlPath, isFileUrl } from "../http/file-url.js";
import { isShorthand } from "../sources/git-hosts.js";
import { splitIndexEntry } from "../sources/index-kind.js";
import { normalizeName } from "../spec/names.js";
import type { Location } from "../sources/types.js";
import { encodeSegment } from "../url.js";
import { formatKey, keyValue, tableBody, type TomlInline, type TomlValue } from "./toml.js";

export const LOCK_VERSION = "1.0";
export const CREATED_BY = "mpip";
/** `[tool.<name>]` and `[packages.tool.<name>]`. */
export const TOOL = "mpip";
/** The largest lock file read: a lock of a thousand packages of a hundred files each is a few MiB. */
export const MAX_LOCK_BYTES = 16 * 1024 * 1024;

/** A file a lock pins: where it is, its full sha256 (lowercase hex), and its size when known. */
export interface PinnedFile {
  location: Location;
  sha256: string;
  size?: number;
}

/** A file of a mip package (or a module) and where in the target it goes. */
export interface PinnedDest extends PinnedFile {
  dest: string;
}

/**
 * What a locked package installs from, tagged as the install record's `artifact` is:
 * - `dist`: an sdist (from an index or folder: `sdist`; named directly: `archive`);
 * - `project`: a project folder, packed when installed (`directory`; it has no hash, as PEP 751 allows);
 * - `package-json`: a mip package document and its files (`[packages.tool.mpip]`);
 * - `module`: one `.py`/`.mpy` file at the top of the target (`[packages.tool.mpip]`).
 */
export type LockedArtifact =
  | { type: "dist"; filename: string; file: PinnedFile }
  | { type: "project"; path: string }
  | { type: "package-json"; document: PinnedFile; files: PinnedDest[] }
  | { type: "module"; file: PinnedDest };

/**
 * Where the package was chosen from: an index (or `--find-links` folder: kind `find-links`, `index` its
 * folder as given), or named directly. A direct source's `spec` is what its record names it by: the spec
 * as given for a URL or a shorthand (credentials removed), the absolute path for a local one (written
 * relative to the lock's folder).
 * `local`: the index is a folder on this machine that mpip names by its absolute `file:` URL (a local
 * index given with `-i`) or absolute path (the sdists at the top of such a folder, kind `find-links`):
 * the lock writes the folder relative to its own (`folder`), so that it is the same wherever the two lie.
 */
export type LockedOrigin =
  | { type: "index"; index: string; kind: SourceKind; local?: true }
  | { type: "direct"; spec: string; ref?: string };

export interface LockedPackage {
  /** As its source spells it (`Sensor_Lib`): the record's name. The lock's `name` is its PEP 503 form. */
  name: string;
  /** "" when the source gives none (a package.json without `version`, a module, a project folder). */
  version: string;
  origin: LockedOrigin;
  /** The user asked for it (not only another package): its record gets `REQUESTED`. */
  requested: boolean;
  /** PEP 503 names of the locked packages it requires (informational: the lock lists every package). */
  dependencies: string[];
  artifact: LockedArtifact;
  /** PEP 508 marker: the package is installed only where it holds (locks other tools write). */
  marker?: string;
}

/** How the image is built; a locked install must be asked for the same. */
export interface LockBuild {
  compile: "no" | "mpy" | "mpy+sources";
  /** The firmware: its .mpy version (`6`, `6.2`) and native architecture; undefined for sources. */
  firmware?: { mpy: string; arch?: string };
}

/** What the lock was made from (`[tool.mpip]`), so that a change of inputs changes the lock. */
export interface LockInputs {
  /** The requirements and specs, in the order given (the command line, then each `-r` file, or pyproject.toml's). */
  requirements: string[];
  /**
   * The constraints the resolution applied (`-c` files, on the command line or named by a `-r` file), each
   * as written, in the order read; `[]` when there were none (and in a lock written before mpip recorded them).
   */
  constraints: string[];
  /** The files those constraints were read from (absolute; the lock writes them relative to itself), in the order read. */
  constraintFiles: string[];
  /** Index URLs with any credentials removed; `[]` with --no-index. */
  indexUrls: string[];
  findLinks: string[];
  pre: boolean;
  noDeps: boolean;
}

export interface Lock {
  /** In install order (the resolution's, breadth-first). */
  packages: LockedPackage[];
  /** mpip's `[tool.mpip]`; undefined in a lock another tool wrote. */
  build?: LockBuild;
  inputs?: LockInputs;
}

/**
 * The lock as `pylock.toml` text. Local paths are written relative to `lockDir` (the folder the lock is
 * written to), with `/` separators, as PEP 751 asks. Throws MpipError `bad-metadata` for text that is
 * not valid Unicode (see toml.ts).
 */
export function renderLock(lock: Lock, lockDir: string): string {
  const lines: string[] = [keyValue("lock-version", LOCK_VERSION), keyValue("created-by", CREATED_BY)];
  // `packages` is required: a lock of nothing says so, rather than leaving the key out.
  if (lock.packages.length === 0) lines.push(keyValue("packages", []));
  for (const item of sortedPackages(lock.packages)) {
    lines.push("", "[[packages]]", ...tableBody(standardKeys(item, lockDir)));
    lines.push("", `[packages.tool.${formatKey(TOOL)}]`, ...tableBody(packageTool(item, lockDir)));
  }
  if (lock.build !== undefined && lock.inputs !== undefined) {
    const { build, inputs } = lock;
    lines.push("", `[tool.${formatKey(TOOL)}]`, ...tableBody({
      arch: build.firmware?.arch,
      compile: build.compile,
      // Written only when there are some, so that a lock made without constraints reads as it did before they were recorded.
      "constraint-files": inputs.constraintFiles.length === 0 ? undefined : inputs.constraintFiles.map((entry) => relativeInput(entry, "file", lockDir)),
      constraints: inputs.constraints.length === 0 ? undefined : inputs.constraints,
      "find-links": inputs.findLinks.map((entry) => relativeInput(entry, "find-links", lockDir)),
      "index-urls": inputs.indexUrls.map((entry) => relativeInput(entry, "index", lockDir)),
      "install-order": lock.packages.map((item) => normalizeName(item.name)),
      mpy: build.firmware?.mpy,
      "no-deps": inputs.noDeps,
      pre: inputs.pre,
      requirements: inputs.requirements,
    }));
  }
  return `${lines.join("\n")}\n`;
}

/** Sorted by PEP 503 name, then (two direct sources of one name) by what they were named by. */
export function sortedPackages(packages: readonly LockedPackage[]): LockedPackage[] {
  const sortKey = (item: LockedPackage) => [normalizeName(item.name), packageSource(item)];
  return [...packages].sort((a, b) => {
    const [nameA, sourceA] = sortKey(a);
    const [nameB, sourceB] = sortKey(b);
    return compareText(nameA!, nameB!) || compareText(sourceA!, sourceB!);
  });
}

/** Code-point order, the same on every machine (never the locale's). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The keys PEP 751 defines, in its order. */
function standardKeys(item: LockedPackage, lockDir: string): TomlInline {
  const { artifact, origin } = item;
  // PEP 751: no version for a source tree, whose code may change under the same version.
  const version = artifact.type === "project" || item.version === "" ? undefined : item.version;
  // A folder (`-f`, or a local index) is no index URL: mpip's table names it.
  const index = origin.type === "index" && origin.kind !== "find-links" && origin.local !== true ? origin.index : undefined;
  const dependencies = item.dependencies.length === 0 ? undefined : [...new Set(item.dependencies.map(normalizeName))].sort(compareText).map((name) => ({ name }));
  const file = artifact.type === "dist" ? pinned(artifact.file, lockDir) : undefined;
  return {
    name: normalizeName(item.name),
    version,
    marker: item.marker,
    dependencies,
    directory: artifact.type === "project" ? { path: relativePath(artifact.path, lockDir) } : undefined,
    archive: origin.type === "direct" ? file : undefined,
    index,
    sdist: origin.type === "index" && file !== undefined && artifact.type === "dist" ? { name: artifact.filename, ...file } : undefined,
    // A package document or a module has no place in the standard: [packages.tool.mpip] holds it.
  };
}

/** `[packages.tool.mpip]`, keys in alphabetical order. */
function packageTool(item: LockedPackage, lockDir: string): TomlInline {
  const { artifact, origin } = item;
  // A document's files stay in its own order: the install record lists them so, as a plain install does.
  const files = artifact.type === "package-json" ? artifact.files : artifact.type === "module" ? [artifact.file] : undefined;
  return {
    artifact: artifact.type,
    document: artifact.type === "package-json" ? pinned(artifact.document, lockDir) : undefined,
    files: files?.map((file) => ({ dest: file.dest, ...pinned(file, lockDir) })),
    "find-links": origin.type === "index" && origin.kind === "find-links" && origin.local !== true ? origin.index : undefined,
    folder: origin.type === "index" && origin.local === true ? relativePath(localFolderPath(origin.index), lockDir) : undefined,
    kind: origin.type === "index" ? origin.kind : undefined,
    name: item.name === normalizeName(item.name) ? undefined : item.name,
    ref: origin.type === "direct" ? origin.ref : undefined,
    requested: item.requested,
    spec: origin.type === "direct" ? specInLock(origin.spec, lockDir) : undefined,
  };
}

/** A file as PEP 751 writes one: `url` or `path`, `size`, `hashes`. */
function pinned(file: PinnedFile, lockDir: string): TomlInline {
  const where: TomlInline = file.location.type === "remote" ? { url: file.location.url } : { path: relativePath(file.location.path, lockDir) };
  return { ...where, size: file.size, hashes: { sha256: file.sha256 } as Record<string, TomlValue> };
}

/** A local path relative to the lock's folder, `/`-separated (PEP 751: relative to the lock file). */
export function relativePath(file: string, lockDir: string): string {
  const relative = path.relative(lockDir, file).split(path.sep).join("/");
  return relative === "" ? "." : relative;
}

/**
 * What `[tool.mpip]` records of an input: an index (`index-urls`: a URL, or a folder by path after any
 * `mip+`, `pypi+` or `simple+` prefix, as `-i` takes it), a `--find-links` folder or a constraints file
 * (`file`: always a path, as `-f` and `-c` take them: a folder named `simple+d` or `http:x` is that folder).
 */
export type InputKind = "index" | "find-links" | "file";

/**
 * An entry that names a folder on this machine by a path: the prefix (an index's kind, if any) and the
 * path. Undefined for a URL (http, https, `file:`, or any `scheme://`), which is the same wherever the lock
 * lies. As `-i` reads it (sources/index-kind.ts `splitIndexEntry`): `a:b` and `C:\dist` are paths.
 */
export function localInput(entry: string, kind: InputKind): { prefix: string; folder: string } | undefined {
  if (entry === "") return undefined;
  // `-f` and `-c` take paths only (a URL is refused): every entry is a path.
  if (kind !== "index") return { prefix: "", folder: entry };
  const { prefix, rest, url } = splitIndexEntry(entry);
  return url || rest === "" ? undefined : { prefix, folder: rest };
}

/**
 * A local entry (`localInput`) resolved against `base`, the folder it was given in: absolute, as the lock
 * keeps inputs in memory. A URL is returned as it is.
 */
export function absoluteInput(entry: string, kind: InputKind, base: string): string {
  const local = localInput(entry, kind);
  return local === undefined ? entry : `${local.prefix}${path.resolve(base, local.folder)}`;
}

/**
 * An absolute local entry (`absoluteInput`) written relative to `base` (`/`-separated, `.` for `base`
 * itself): to the lock's folder in the lock, as PEP 751 writes every path, so that the lock means the
 * same folders wherever it is checked from; to the current folder in a command offered to the user.
 */
export function relativeInput(entry: string, kind: InputKind, base: string): string {
  const local = localInput(entry, kind);
  if (local === undefined || !path.isAbsolute(local.folder)) return entry;
  const relative = relativePath(local.folder, base);
  // A folder whose own name would read back as a prefix or a URL (`simple+d`, `http:x`) is written `./simple+d`.
  const written = `${local.prefix}${relative}`;
  const back = localInput(written, kind);
  return back !== undefined && back.prefix === local.prefix && back.folder === relative ? written : `${local.prefix}./${relative}`;
}

/**
 * The command-line words that give `inputs`' sources again: `--no-index` for no index, `-i` for each
 * index, `-f` for each folder, local ones relative to `base` (the folder the command is offered in).
 * Index URLs are as the lock records them (credentials removed).
 */
export function sourceArguments(inputs: Pick<LockInputs, "indexUrls" | "findLinks">, base: string): string[] {
  return [
    ...(inputs.indexUrls.length === 0 ? ["--no-index"] : inputs.indexUrls.flatMap((url) => ["-i", relativeInput(url, "index", base)])),
    ...inputs.findLinks.flatMap((folder) => ["-f", relativeInput(folder, "find-links", base)]),
  ];
}

/**
 * The command-line words that give all of `inputs` but the requirements again: `sourceArguments`, then
 * `-c` for each constraints file (relative to `base`), `--pre`, `--no-deps`.
 */
export function inputArguments(inputs: LockInputs, base: string): string[] {
  return [
    ...sourceArguments(inputs, base),
    ...inputs.constraintFiles.flatMap((file) => ["-c", relativeInput(file, "file", base)]),
    ...(inputs.pre ? ["--pre"] : []),
    ...(inputs.noDeps ? ["--no-deps"] : []),
  ];
}

/** The path of a local index's folder: its `file:` URL decoded, or the path a folder of sdists is named by. */
function localFolderPath(index: string): string {
  return (isFileUrl(index) ? fileUrlPath(index) : undefined) ?? index;
}

/** Where a locked package comes from, as an install reports and records it: its index (or folder), or its spec. */
export function packageSource(item: LockedPackage): string {
  return item.origin.type === "index" ? item.origin.index : item.origin.spec;
}

/** A spec that is a local path: not a URL (http, https), not PEP 508's `name @ URL` (of any scheme), not a `github:`-style shorthand. */
export function isLocalSpec(spec: string): boolean {
  return !isShorthand(spec) && !/^https?:\/\//i.test(spec) && !NAMED_URL.test(spec);
}

/**
 * PEP 508's `name @ URL`: a URL of any scheme, named (`foo @ https://...`, `foo @ file:///...`,
 * `foo @ file:../dist/v1.tar.gz`). Group 1 is the name, group 2 the URL. Which schemes mpip takes is
 * values.ts's business (`specProblem`).
 */
export const NAMED_URL = /^([A-Za-z0-9._-]+)\s*@\s*([A-Za-z][A-Za-z0-9+.-]*:.*)$/is;

/** A local path as a lock writes a spec: relative to the lock's folder, starting with `./` or `../`. */
export function localSpec(file: string, lockDir: string): string {
  const relative = relativePath(file, lockDir);
  return relative === "." || relative.startsWith("../") || relative === ".." ? relative : `./${relative}`;
}

/**
 * A direct source's spec as a lock writes it (`tool.mpip.spec`, and each of `tool.mpip.requirements`): a
 * local path relative to the lock's folder (localSpec); `name @ file:///abs/path` as `name @ file:REL`,
 * REL that path relative to the lock's folder (`./` or `../` first, each segment percent-encoded), which
 * pip and mpip read as a path relative to where it is read (specFromLock reads it against the lock's
 * folder); any other (a URL, `name @ https://...`, a shorthand) as it is.
 */
export function specInLock(spec: string, lockDir: string): string {
  if (isLocalSpec(spec)) return localSpec(spec, lockDir);
  const named = NAMED_URL.exec(spec);
  const file = named === null ? undefined : fileUrlPath(named[2]!);
  if (named === null || file === undefined) return spec;
  return `${named[1]} @ file:${localSpec(file, lockDir).split("/").map(encodeSegment).join("/")}`;
}

/**
 * A spec as a lock gives it (`tool.mpip.spec`), made as an install names the source: a local path
 * absolute (relative ones against `lockDir`); `name @ file:REL` as `name @ file:///abs/path` (REL
 * percent-decoded, against `lockDir`); any other as it is.
 */
export function specFromLock(spec: string, lockDir: string): string {
  if (isLocalSpec(spec)) return path.isAbsolute(spec) ? path.resolve(spec) : path.resolve(lockDir, ...spec.split("/"));
  const named = NAMED_URL.exec(spec);
  const relative = named === null ? undefined : /^file:(?!\/)([^?#]+)$/i.exec(named[2]!)?.[1];
  if (relative === undefined) return spec;
  return `${named![1]} @ ${pathToFileURL(path.resolve(lockDir, ...decodeSegment(relative).split("/"))).href}`;
}

function decodeSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
