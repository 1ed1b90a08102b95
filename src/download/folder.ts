// Planning what `mpip download` changes in its folder, which may already hold an earlier download: read
// what is there (index.json, the documents and files this run would write), decide per file whether it is
// new, the same, or a clash, and stage what is to be written; the caller commits the staged files into the
// folder all at once (image/commit.ts), so that a failure leaves the folder as it was. What an index
// publishes once is never rewritten (build.py's rule: a `{version}.json` is locked the first time it is
// seen, hashed files are never replaced): an sdist or a release the folder holds with other bytes is an
// error. index.json is merged (deterministic order) and each `latest.json` follows the latest release (latestVersion).

import { createHash } from "node:crypto";
import { lstat, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import type { Placement } from "../image/commit.js";
import { openRegularFile, readSmallFile } from "../local-file.js";
import { MIP_INDEX_FORMATS } from "../sources/mip-v2.js";
import { parseArchiveName } from "../sources/find-links.js";
import { isMipName, normalizeName } from "../spec/names.js";
import { isPep440Version } from "../versions.js";
import { printable } from "../text.js";
import {
  documentBytes,
  documentPath,
  documentVersion,
  hashedFilePath,
  indexBytes,
  latestVersion,
  mergeIndex,
  packageDocument,
  sameDocument,
  sdistFileName,
  shortHashes,
  type DownloadedArtifact,
  type IndexJson,
} from "./layout.js";

export interface FolderPlan {
  /** Staged files to move into the folder (relative `to`, `/`-separated). */
  placements: Placement[];
  /** Paths of the folder this download writes (new, or changed: index.json, a `latest.json`). */
  written: string[];
  /** Paths of the folder that already held what this download needs. */
  unchanged: string[];
  /** For each artifact, in order: the paths of the folder that hold it. */
  paths: string[][];
}

export interface FolderOptions {
  /** The v2 flavor the packages were resolved for: "py", or an .mpy major such as "6". */
  flavor: string;
  /** The largest document read from the folder (index.json, a package document). */
  maxMetadataBytes: number;
  /** index.json's `updated` when it changes (seconds since 1970); default now, or SOURCE_DATE_EPOCH. */
  updated?: number;
}

export type Existing = { kind: "missing" } | { kind: "file"; sha256: string } | { kind: "other" };

/**
 * What a plan of a folder's changes is built with: the plan itself (`items` lists of paths, one per thing
 * laid out); `place` a file (a staged path, or bytes staged below `outDir` now) at a path of the folder, once;
 * `keep` a path the folder already holds as needed; `look` at what the folder holds at a path (read once).
 */
export function folderChanges(folder: string, outDir: string, items: number) {
  const plan: FolderPlan = { placements: [], written: [], unchanged: [], paths: Array.from({ length: items }, () => []) };
  const staged = new Set<string>();
  const place = async (relative: string, from: string | Buffer): Promise<void> => {
    if (staged.has(relative)) return;
    staged.add(relative);
    let source = from;
    if (Buffer.isBuffer(from)) {
      source = path.join(outDir, ...relative.split("/"));
      await mkdir(path.dirname(source), { recursive: true });
      await writeFile(source, from, { flag: "wx" });
    }
    plan.placements.push({ from: source as string, to: relative });
    plan.written.push(relative);
  };
  const keep = (relative: string): void => {
    if (!plan.unchanged.includes(relative)) plan.unchanged.push(relative);
  };
  const existing = new Map<string, Promise<Existing>>();
  const look = (relative: string): Promise<Existing> => {
    let known = existing.get(relative);
    if (known === undefined) {
      known = digestOf(path.join(folder, ...relative.split("/")));
      existing.set(relative, known);
    }
    return known;
  };
  return { plan, place, keep, look };
}

/**
 * Plans the folder `folder` after this download: stages the files to write below `outDir` (inside the
 * staging folder) and returns the placements with what each artifact occupies.
 * @throws MpipError `io` (an sdist, release or hashed file the folder holds with other bytes; an
 *   unreadable file), `bad-metadata` (an index.json that is none), `unsafe-path` (a name no folder may
 *   hold), `version-conflict` (two packages of this download under one name).
 */
export async function planDownloadFolder(folder: string, outDir: string, artifacts: DownloadedArtifact[], options: FolderOptions): Promise<FolderPlan> {
  checkNames(artifacts);
  const { plan, place, keep, look } = folderChanges(folder, outDir, artifacts.length);

  for (const [index, artifact] of artifacts.entries()) {
    if (artifact.type !== "sdist") continue;
    const name = sdistFileName(artifact, parseArchiveName(artifact.filename)?.name);
    plan.paths[index]!.push(name);
    const there = await look(name);
    if (there.kind === "file" && there.sha256 === artifact.sha256) keep(name);
    else if (there.kind === "file") throw clash(folder, name, `the sdist of \`${printable(artifact.name)} ${printable(artifact.version)}\` from \`${printable(artifact.source)}\``);
    else await place(name, artifact.file);
  }

  const mips = artifacts.map((artifact, index) => ({ artifact, index })).filter((item): item is { artifact: Extract<DownloadedArtifact, { type: "mip" }>; index: number } => item.artifact.type === "mip");
  if (mips.length === 0) return plan;
  const shorts = await shortHashes(mips.flatMap(({ artifact }) => artifact.files.map((file) => file.sha256)), async (short) => {
    const there = await look(hashedFilePath(short));
    return there.kind === "file" ? there.sha256 : there.kind === "other" ? "" : undefined;
  });
  const writes: Writes = (flavor, name, version) => flavor === options.flavor && mips.some(({ artifact }) => normalizeName(artifact.name) === normalizeName(name) && artifact.version === version);
  const oldIndex = await readIndex(folder, options.maxMetadataBytes, undefined, writes);
  const additions = mips.map(({ artifact }) => ({ name: artifact.name, version: documentVersion(artifact.name, artifact.version) ?? "", flavor: options.flavor }));
  const merged = mergeIndex(oldIndex?.json, additions, oldIndex?.json.updated ?? 0);
  const entryName = (name: string) => merged.packages.find((entry) => normalizeName(entry.name) === normalizeName(name))!.name;
  const ours = new Map<string, Buffer>();

  for (const { artifact, index } of mips) {
    const name = entryName(artifact.name);
    const version = documentVersion(artifact.name, artifact.version);
    if (version === undefined) checkUnversioned(folder, artifact, merged.packages.find((entry) => entry.name === name)!, options.flavor);
    const bytes = documentBytes(packageDocument(artifact, shorts));
    for (const file of artifact.files) {
      const relative = hashedFilePath(shorts.get(file.sha256)!);
      plan.paths[index]!.push(relative);
      const there = await look(relative);
      if (there.kind === "file" && there.sha256 === file.sha256) keep(relative);
      else await place(relative, file.file);
    }
    const relative = documentPath(options.flavor, name, version);
    plan.paths[index]!.unshift(relative);
    ours.set(relative, bytes);
    if (version === undefined) continue; // written as latest.json below
    const there = await readDocument(folder, relative, options.maxMetadataBytes);
    if (there === undefined) await place(relative, bytes);
    else if (there.equals(bytes) || sameDocument(parseJson(there), artifact)) {
      await checkNamedFiles({ folder, look }, artifact, relative, parseJson(there), artifact.files);
      keep(relative);
    }
    else throw clash(folder, relative, `\`${printable(artifact.name)} ${printable(artifact.version)}\` from \`${printable(artifact.source)}\` (a release is published once; its document differs)`);
  }

  // Each package's latest.json: a copy of its latest release's document (ours, or one already there).
  for (const name of new Set(mips.map(({ artifact }) => entryName(artifact.name)))) {
    const entry = merged.packages.find((candidate) => candidate.name === name)!;
    const highest = latestVersion(entry.versions[options.flavor] ?? []);
    const unversioned = ours.get(documentPath(options.flavor, name, undefined));
    const source = highest === undefined ? unversioned : ours.get(documentPath(options.flavor, name, highest)) ?? (await readDocument(folder, documentPath(options.flavor, name, highest), options.maxMetadataBytes)) ?? unversioned;
    if (source === undefined) continue;
    const relative = documentPath(options.flavor, name, undefined);
    const there = await readDocument(folder, relative, options.maxMetadataBytes);
    if (there?.equals(source) === true) keep(relative);
    else await place(relative, source);
  }

  // index.json: `updated` moves only when the list changes, so that downloading again changes nothing.
  const unchanged = oldIndex !== undefined && oldIndex.bytes.equals(indexBytes(merged));
  if (unchanged) keep("index.json");
  else await place("index.json", indexBytes({ ...merged, updated: options.updated ?? updatedNow() }));
  return plan;
}

/**
 * A v2 document kept as the same release (a download or an index build finding it already there) names
 * each file by the short hash it was written under, which may be another than this run chose (a longer
 * one, after a collision). Each such file must be there, a regular file with this release's bytes: one
 * that holds other bytes, is a link or is missing (changed since, or planted beside a document that says
 * what this run fetched) is an error, rather than a release left naming it while the run says all is
 * well, and installs other code, or nothing.
 * @throws MpipError `digest-mismatch`.
 */
export async function checkNamedFiles(
  changes: { folder: string; look: (relative: string) => Promise<Existing> },
  release: { name: string; version: string },
  relative: string,
  document: unknown,
  files: ReadonlyArray<{ dest: string; sha256: string }>,
): Promise<void> {
  const hashes = isRecord(document) && Array.isArray(document.hashes) ? (document.hashes as unknown[]) : [];
  for (const [index, file] of files.entries()) {
    const pair = hashes[index];
    const short = Array.isArray(pair) && typeof pair[1] === "string" ? pair[1].toLowerCase() : undefined;
    if (short === undefined || !/^[0-9a-f]{4,64}$/.test(short) || !file.sha256.startsWith(short)) continue;
    const there = await changes.look(hashedFilePath(short));
    if (there.kind === "file" && there.sha256 === file.sha256) continue;
    const owner = `${printable(release.name)}${release.version === "" ? "" : ` ${printable(release.version)}`}`;
    // Other bytes, or no regular file at all (a link, a folder: never followed, never this release's file).
    const holds = there.kind === "file" ? `holds other bytes (sha256 ${there.sha256}, expected ${file.sha256})` : there.kind === "missing" ? "is not there" : "is not a regular file";
    throw new MpipError("digest-mismatch", `\`${printable(hashedFilePath(short))}\` in \`${printable(changes.folder, 300)}\`, which the \`${printable(relative)}\` there names for \`${printable(file.dest, 200)}\` of \`${owner}\`, ${holds}; nothing was written`, {
      hint: "the folder was changed after it was written: restore the file from a backup or an earlier copy of the folder, or write into a new folder (a written file is never rewritten)",
    });
  }
}

/**
 * A package with no version (or one that is no PEP 440 version) is written as its `latest.json` only,
 * which is a copy of the latest release the folder lists: where the folder lists releases of the package
 * in this flavor, its latest.json is theirs, and the package downloaded would be reported where another
 * release is. Refused, rather than said to be where it is not.
 * @throws MpipError `version-conflict`.
 */
function checkUnversioned(folder: string, artifact: Extract<DownloadedArtifact, { type: "mip" }>, entry: IndexJson["packages"][number], flavor: string): void {
  const listed = entry.versions[flavor] ?? [];
  if (listed.length === 0) return;
  const what = artifact.version === "" ? "has no version" : `has the version \`${printable(artifact.version, 60)}\`, which is no PEP 440 version`;
  throw new MpipError("version-conflict", `\`${printable(artifact.name)}\` from \`${printable(artifact.source)}\` ${what}, so it could only be \`${documentPath(flavor, entry.name, undefined)}\`, but \`${printable(folder, 300)}\` lists \`${printable(entry.name)}\` ${listed.map((version) => printable(version, 40)).join(", ")}, whose latest release that file holds; nothing was written`, {
    hint: "download it into another folder, or give the package a PEP 440 version (its package.json's `version`), which the folder then lists beside the others",
  });
}

/** Two packages of one download that one folder cannot hold side by side. */
function checkNames(artifacts: DownloadedArtifact[]): void {
  const seen = new Map<string, DownloadedArtifact>();
  for (const artifact of artifacts) {
    const key = normalizeName(artifact.name);
    const other = seen.get(key);
    if (other !== undefined) {
      const describe = (item: DownloadedArtifact) => `\`${printable(item.name)}${item.version === "" ? "" : ` ${printable(item.version)}`}\` from \`${printable(item.source)}\``;
      throw new MpipError("version-conflict", `this download has two packages named \`${printable(artifact.name)}\`: ${describe(other)} and ${describe(artifact)}; an index lists one package per name`, {
        hint: "leave one of them out (the other source names a different package under the same name), or download them into different folders",
      });
    }
    seen.set(key, artifact);
  }
}

/**
 * The folder's index.json, if it has one: its bytes and its content, checked to be a v2 index's. `adding`
 * names the run that would add to it, and how to run it instead, for the error about one that is none.
 * @throws MpipError `bad-metadata`, and readDocument's errors.
 */
export async function readIndex(folder: string, maxBytes: number, adding = { run: "this download", hint: "download into an empty folder, or into one that `mpip download` (or micropython-lib's tools/build.py) wrote" }, writes: Writes = () => false): Promise<{ bytes: Buffer; json: IndexJson } | undefined> {
  const bytes = await readDocument(folder, "index.json", maxBytes);
  if (bytes === undefined) return undefined;
  const json = parseJson(bytes) as Partial<IndexJson> | undefined;
  const valid = json !== undefined && typeof json === "object" && json !== null && !Array.isArray(json) && MIP_INDEX_FORMATS.includes(json.v) && Array.isArray(json.packages)
    && json.packages.every((entry) => isRecord(entry) && typeof entry.name === "string" && (entry.versions === undefined || (isRecord(entry.versions) && Object.values(entry.versions).every((list) => Array.isArray(list) && list.every((item) => typeof item === "string")))));
  if (!valid) {
    throw new MpipError("bad-metadata", `\`${printable(path.join(folder, "index.json"), 300)}\` is not a micropython-lib index.json (\`"v": 2\` and a \`packages\` list), so ${adding.run} cannot add to it; nothing was written`, {
      hint: adding.hint,
    });
  }
  // What the folder lists is copied into the index this run writes: a name no package can have (a path,
  // markup), a flavor that is none (`py` or an .mpy major), a version that is no PEP 440 version, an
  // entry's `version` that is not one it lists, or a listed release whose document is not there (a
  // listing that would send mip and mpip to a 404) is refused rather than published again.
  for (const entry of json.packages!) {
    const problem = await entryProblem(folder, entry as IndexJson["packages"][number], writes);
    if (problem !== undefined) throw new MpipError("bad-metadata", `\`${printable(path.join(folder, "index.json"), 300)}\` lists ${problem}, so ${adding.run} cannot add to it; nothing was written`, { hint: problem.includes(", whose document ") ? `put the document back, or take the version out of index.json; else ${adding.hint}` : adding.hint });
  }
  return { bytes, json: { ...json, updated: typeof json.updated === "number" ? json.updated : 0, packages: json.packages!.map((entry) => ({ ...entry, versions: entry.versions ?? {} })) } as IndexJson };
}

/** Whether this run writes the release's document (`flavor`, the package by any spelling, `version` as listed): one missing is then put back. */
export type Writes = (flavor: string, name: string, version: string) => boolean;

/** A flavor of a v2 index: `py` (sources) or an .mpy major version (`6`), a folder name under `package/`. */
const FLAVOR = /^(py|[0-9]{1,3})$/;

/**
 * What is wrong with one index.json entry of the folder (as `lists ...` words), or undefined: its name,
 * each flavor key and version, its own `version` (none, or one it lists), and that each listed release's
 * document `package/{flavor}/{name}/{version}.json` is a regular file there (or one this run `writes`).
 */
async function entryProblem(folder: string, entry: IndexJson["packages"][number], writes: Writes): Promise<string | undefined> {
  const { name, versions } = entry;
  const shownName = `\`${printable(name, 100)}\``;
  if (!isMipName(name)) return `the package ${shownName}, which is no package name`;
  for (const [flavor, list] of Object.entries(versions ?? {})) {
    if (!FLAVOR.test(flavor)) return `the flavor \`${printable(flavor, 40)}\` for ${shownName}, which is neither \`py\` nor an .mpy version`;
    const bad = list.find((version) => !isPep440Version(version));
    if (bad !== undefined) return `\`${printable(bad, 100)}\` for ${shownName}, which is no PEP 440 version`;
  }
  const listed = Object.values(versions ?? {}).flat();
  const own = entry.version as unknown;
  if (own !== undefined && own !== "" && (typeof own !== "string" || !listed.includes(own))) {
    return `${shownName} at the version \`${printable(typeof own === "string" ? own : JSON.stringify(own), 100)}\`, which is not one of the versions it lists`;
  }
  for (const [flavor, list] of Object.entries(versions ?? {})) {
    for (const version of list) {
      if (writes(flavor, name, version)) continue;
      const relative = documentPath(flavor, name, version);
      const file = path.join(folder, ...relative.split("/"));
      const info = await lstat(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
        throw new MpipError("io", `cannot read \`${printable(file, 300)}\` (${error.code ?? error.message}); nothing was written`, { cause: error, hint: "check the folder's permissions" });
      });
      if (info?.isFile() !== true) return `${shownName} ${printable(version, 40)} (${flavor}), whose document \`${relative}\` ${info === undefined ? "is not there" : "is not a regular file"}`;
    }
  }
  return undefined;
}

/**
 * A document of the folder (`relative`, `/`-separated), or undefined when there is none.
 * @throws MpipError `limit-exceeded` past `maxBytes`, `io` when it cannot be read.
 */
export async function readDocument(folder: string, relative: string, maxBytes: number): Promise<Buffer | undefined> {
  const file = path.join(folder, ...relative.split("/"));
  const read = await readSmallFile(file, maxBytes, { follow: false });
  switch (read.kind) {
    case "read":
      return read.data;
    case "missing":
    case "link":
    case "not-regular":
      return undefined; // not a document this folder publishes: the commit replaces what is in the way
    case "too-large":
      throw new MpipError("limit-exceeded", `\`${printable(file, 300)}\` is larger than the limit of ${maxBytes} bytes for a document; nothing was written`, { hint: "if it is yours, raise the limit with --max-metadata-bytes" });
    case "unreadable":
      throw new MpipError("io", `cannot read \`${printable(file, 300)}\` (${read.error.code ?? read.error.message}); nothing was written`, { cause: read.error, hint: "check the download folder's permissions" });
  }
}

/** The sha256 of a regular file of the folder, streamed; what else is at the path, if anything. @throws MpipError `io`. */
export async function digestOf(file: string): Promise<Existing> {
  const opened = await openRegularFile(file, { follow: false });
  if (opened.kind === "missing") return { kind: "missing" };
  if (opened.kind === "unreadable") throw new MpipError("io", `cannot read \`${printable(file, 300)}\` (${opened.error.code ?? opened.error.message}); nothing was written`, { cause: opened.error, hint: "check the download folder's permissions" });
  if (opened.kind !== "opened") return { kind: "other" };
  const hash = createHash("sha256");
  try {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await opened.handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
    }
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    throw new MpipError("io", `cannot read \`${printable(file, 300)}\` (${err.code ?? err.message}); nothing was written`, { cause: error });
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
  return { kind: "file", sha256: hash.digest("hex") };
}

/** A JSON object: not null, not an array (`typeof` says "object" for both). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON in `bytes`, or undefined when it is none. */
export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function clash(folder: string, relative: string, what: string): MpipError {
  return new MpipError("io", `\`${printable(path.join(folder, ...relative.split("/")), 300)}\` is already there with other bytes than ${what}; nothing was written`, {
    hint: "download into another folder, or remove that file from this one first",
  });
}

/** Seconds since 1970: SOURCE_DATE_EPOCH when set (reproducible builds' variable), else now. */
export function updatedNow(): number {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch !== undefined && /^\d+$/.test(epoch) ? Number(epoch) : Math.floor(Date.now() / 1000);
}
