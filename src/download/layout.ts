// What `mpip download` writes into its folder, as data: the folder is itself an index. sdists lie at its
// top under the name the index served them by (so `-f DIR` finds them), byte for byte as served; every
// mip package (from a v2 index, a package.json, a single module) becomes a package of a micropython-lib v2
// index laid out as micropython-lib's publisher (`tools/build.py`) lays out its output: each file at
// `file/{h[:2]}/{h}`, `h` the first 8 hex digits of its sha256 (more, should two files share 8: build.py
// stops there, mpip reads any length from 4), each release's document at `package/{flavor}/{name}/
// {version}.json` (minified, as build.py writes it) with `latest.json` a copy of the latest release's (latestVersion), and
// `index.json` (indent 2, packages sorted by name) listing every version per flavor. Pure functions only;
// the folder is read and written by folder.ts.

import { MpipError } from "../errors.js";
import { isMipName, normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { compareVersions, isPep440Version, isPreRelease } from "../versions.js";

/** The length build.py gives hashed file names (its `--hash-prefix` default). */
export const SHORT_HASH_LENGTH = 8;

/** One package as fetched, ready to be laid out; a `pylock.toml` read gives the same data as a resolution. */
export type DownloadedArtifact =
  | {
    type: "sdist";
    name: string;
    version: string;
    /** Where it was chosen from (an index URL, a folder, a spec), safe to print. */
    source: string;
    /** The name the index served it by. */
    filename: string;
    /** The archive, staged: its bytes are written to the folder unchanged. */
    file: string;
    sha256: string;
  }
  | {
    type: "mip";
    name: string;
    /** "" for a package that declares none (then only `latest.json` is written). */
    version: string;
    source: string;
    /** Each file's destination and its staged bytes' path and sha256, in the document's order. */
    files: Array<{ dest: string; file: string; sha256: string }>;
    /** `[name, version]` as mip reads them, each naming a package of the folder ("" for the latest). */
    deps: Array<[string, string]>;
  };

/** A v2 package document: the keys build.py writes, in its order (`deps` only when there are some). */
export interface PackageDocumentJson {
  v: 1;
  hashes: Array<[string, string]>;
  deps?: Array<[string, string]>;
  version: string;
  /** Each file's full sha256, `[dest, hex]` in `hashes`' order: mpip's index build adds it; mip ignores it. */
  sha256?: Array<[string, string]>;
}

/** One entry of index.json, as build.py writes it (keys it does not know are kept from an earlier file). */
export interface IndexEntry {
  name: string;
  version: string;
  author?: string;
  description?: string;
  license?: string;
  versions: Record<string, string[]>;
  [other: string]: unknown;
}

export interface IndexJson {
  v: number;
  updated: number;
  packages: IndexEntry[];
  [other: string]: unknown;
}

/**
 * The file name an sdist is written under: the index's own when it names the project (so that `-f DIR`
 * finds it), else `{name}-{version}.tar.gz`. Either must be a plain `.tar.gz` name.
 * @throws MpipError `unsafe-path` for a name that is not a plain file name.
 */
export function sdistFileName(artifact: Extract<DownloadedArtifact, { type: "sdist" }>, parsedName: string | undefined): string {
  const name = parsedName !== undefined && normalizeName(parsedName) === normalizeName(artifact.name) ? artifact.filename : `${artifact.name}-${artifact.version}.tar.gz`;
  if (!/^[^/\\\0-\x1f\x7f]+\.tar\.gz$/i.test(name) || name.startsWith(".")) {
    throw new MpipError("unsafe-path", `refused to write the sdist of \`${printable(artifact.name)}\` as \`${printable(name)}\`: it is not a plain \`.tar.gz\` file name`, {
      hint: "the index serves a file under a name no folder should hold; nothing was written",
    });
  }
  return name;
}

/**
 * Where a mip package's documents go, checked: a mip name (names.ts: no separators, no leading `.`), and
 * a version that is a PEP 440 version (whose characters are safe in a file name) or none.
 * Returns the version its `{version}.json` is written under, or undefined for one written as `latest.json` only.
 * @throws MpipError `unsafe-path` for a name no v2 index can hold.
 */
export function documentVersion(name: string, version: string): string | undefined {
  if (!isMipName(name)) {
    throw new MpipError("unsafe-path", `cannot lay out \`${printable(name)}\` in a micropython-lib v2 index: its name is not one mip can ask for (letters, digits, \`.\`, \`_\`, \`-\`)`, {
      hint: "the package's name comes from its source; download it into another folder with `-f`-style sdists, or install it from its source",
    });
  }
  return version !== "" && isPep440Version(version) ? version : undefined;
}

/**
 * The short hash each file is named by: the first 8 hex digits of its sha256, or as many more as it takes
 * to tell it from every other file of the folder. `taken` answers, for a short hash, the full sha256 of the
 * file the folder already holds under it (undefined: none); it is asked in a fixed order.
 */
export async function shortHashes(sha256s: Iterable<string>, taken: (short: string) => Promise<string | undefined>): Promise<Map<string, string>> {
  const chosen = new Map<string, string>();
  const used = new Map<string, string>();
  for (const full of [...new Set(sha256s)].sort()) {
    for (let length = SHORT_HASH_LENGTH; length <= full.length; length++) {
      const short = full.slice(0, length);
      const holder = used.get(short) ?? (await taken(short));
      if (holder === undefined || holder === full) {
        chosen.set(full, short);
        used.set(short, full);
        break;
      }
    }
  }
  return chosen;
}

/** The path of a hashed file below the folder. */
export function hashedFilePath(short: string): string {
  return `file/${short.slice(0, 2)}/${short}`;
}

/** The path of a package document below the folder. */
export function documentPath(flavor: string, name: string, version: string | undefined): string {
  return `package/${flavor}/${name}/${version ?? "latest"}.json`;
}

/**
 * A mip package's document, with its files named by their short hashes; with `fullHashes`, also each
 * file's full sha256 in the `sha256` field (after build.py's keys, so mip reads the document unchanged).
 */
export function packageDocument(artifact: Extract<DownloadedArtifact, { type: "mip" }>, shorts: Map<string, string>, options: { fullHashes?: boolean } = {}): PackageDocumentJson {
  return {
    v: 1,
    hashes: artifact.files.map(({ dest, sha256 }): [string, string] => [dest, shorts.get(sha256)!]),
    ...(artifact.deps.length === 0 ? {} : { deps: artifact.deps }),
    version: artifact.version,
    ...(options.fullHashes === true ? { sha256: artifact.files.map(({ dest, sha256 }): [string, string] => [dest, sha256]) } : {}),
  };
}

/** A package document's bytes as build.py writes them: minified JSON and a newline. */
export function documentBytes(document: PackageDocumentJson): Buffer {
  return Buffer.from(`${JSON.stringify(document)}\n`);
}

/**
 * Whether an existing document says the same as ours: the same version and dependencies, and the same
 * files (each of its short hashes a prefix of our file's full sha256). A folder written before by another
 * tool may spell the same release with other hash lengths or key order; that is the same release.
 */
export function sameDocument(existing: unknown, ours: Extract<DownloadedArtifact, { type: "mip" }>): boolean {
  if (typeof existing !== "object" || existing === null) return false;
  const doc = existing as { version?: unknown; hashes?: unknown; urls?: unknown; deps?: unknown };
  if ((doc.version ?? "") !== ours.version) return false;
  if (doc.urls !== undefined && !(Array.isArray(doc.urls) && doc.urls.length === 0)) return false;
  if (JSON.stringify(doc.deps ?? []) !== JSON.stringify(ours.deps)) return false;
  if (!Array.isArray(doc.hashes) || doc.hashes.length !== ours.files.length) return false;
  return ours.files.every(({ dest, sha256 }, index) => {
    const pair = (doc.hashes as unknown[])[index];
    return Array.isArray(pair) && pair[0] === dest && typeof pair[1] === "string" && pair[1].length >= 4 && sha256.startsWith(pair[1].toLowerCase());
  });
}

/** What one run adds to index.json: a package's release in a flavor ("" for one without a version). */
export interface IndexAddition {
  name: string;
  version: string;
  flavor: string;
}

/**
 * index.json with `additions` merged in: a package already listed (by PEP 503 name) keeps its entry and
 * spelling, gains the new versions per flavor (each list in PEP 440 order, once), and its `version` becomes
 * its latest (latestVersion: the highest final release it lists); a new one is added with empty `author`, `description` and `license`, as build.py
 * writes them when unknown. Packages are sorted by name. `updated` is given by the caller.
 */
export function mergeIndex(existing: IndexJson | undefined, additions: IndexAddition[], updated: number): IndexJson {
  const packages = (existing?.packages ?? []).map((entry) => ({ ...entry, versions: Object.fromEntries(Object.entries(entry.versions ?? {}).map(([flavor, list]) => [flavor, [...list]])) }));
  for (const addition of additions) {
    let entry = packages.find((candidate) => normalizeName(candidate.name) === normalizeName(addition.name));
    if (entry === undefined) {
      entry = { name: addition.name, version: "", author: "", description: "", license: "", versions: {} };
      packages.push(entry);
    }
    if (addition.version !== "") {
      const listed = (entry.versions[addition.flavor] ??= []);
      if (!listed.includes(addition.version)) listed.push(addition.version);
    }
    entry.version = latestVersion(Object.values(entry.versions).flat()) ?? addition.version;
  }
  for (const entry of packages) for (const list of Object.values(entry.versions)) list.sort(compareVersions);
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...(existing ?? {}), v: 2, updated, packages };
}

/** index.json's bytes as build.py writes them: indented by 2, and a newline. */
export function indexBytes(index: IndexJson): Buffer {
  return Buffer.from(`${JSON.stringify(index, null, 2)}\n`);
}

/**
 * The latest release of those listed, as pip and PyPI choose it when none is asked for: the highest final
 * release (PEP 440), or the highest pre-release when all are pre-releases (`1.0` over `2.0a1`, `2.0a1` when
 * alone). `latest.json` copies its document and index.json's `version` names it, so that mip, which takes
 * `latest.json`, installs what pip, upip and mpip install by default. Undefined when none is a PEP 440 version.
 */
export function latestVersion(versions: readonly string[]): string | undefined {
  const sorted = versions.filter(isPep440Version).sort(compareVersions);
  return sorted.filter((version) => !isPreRelease(version)).at(-1) ?? sorted.at(-1);
}
