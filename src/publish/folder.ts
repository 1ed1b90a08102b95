// Planning what `mpip index build` changes in its output folder, which may hold an earlier build: the
// files it publishes once (sdists, `pypi/{name}/{version}/json`, v2 package documents `{version}.json`,
// content-addressed `file/HH/HASH`) are written when missing and kept when there, and a release the
// folder holds with other content is an error (bump the version): caches and CDNs may keep them forever.
// Only the listings follow what the folder holds: index.json and each `latest.json` of the v2 face,
// `pypi/{name}/json`, and the simple pages. Each is written only when its bytes change, so building the
// same inputs again writes nothing. The caller commits the staged files all at once (image/commit.ts).

import { lstat, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { checkNamedFiles, folderChanges, isRecord, parseJson, readDocument, readIndex, updatedNow, type FolderPlan, type Writes } from "../download/folder.js";
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
  shortHashes,
  type DownloadedArtifact,
  type IndexJson,
} from "../download/layout.js";
import { MpipError } from "../errors.js";
import { normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { compareVersions, isComparableVersion, isPep440Version } from "../versions.js";
import { pypiProjectDocument, pypiSpellings, pypiVersionDocument, projectFolder, SDIST_FOLDER, simpleProjectHtml, simpleProjectJson, simpleRootHtml, simpleRootJson, type ListedRelease } from "./faces.js";
import type { PublishedRelease } from "./inputs.js";

/** A release with its v2 package in each flavor: "py" (sources) and an .mpy major such as "6". */
export interface IndexRelease extends PublishedRelease {
  flavors: Array<{ flavor: string; files: PublishedRelease["files"] }>;
}

export interface IndexFolderOptions {
  /** Makes the PyPI and simple faces' file URLs absolute below it. */
  baseUrl?: string;
  maxMetadataBytes: number;
  /** index.json's `updated` when it changes; default now, or SOURCE_DATE_EPOCH. */
  updated?: number;
  /** Told what the build could not do as asked (a spelling this filesystem cannot hold beside another). */
  warn?: (message: string) => void;
}

const ADDING = { run: "this index build", hint: "build into an empty folder, or into one an earlier `mpip index build` (or micropython-lib's tools/build.py) wrote" };

/**
 * Plans the folder `folder` after publishing `releases`: stages what is to be written below `outDir` and
 * returns the placements, what was written and what was already there (see the module comment).
 * @throws MpipError `version-conflict` for a release the folder holds with other content; `bad-metadata`
 *   for a listing of the folder that is not one an index build writes; `io`, `limit-exceeded`.
 */
export async function planIndexFolder(folder: string, outDir: string, releases: IndexRelease[], options: IndexFolderOptions): Promise<FolderPlan> {
  const changes = indexChanges(folder, outDir, releases, options);
  for (const [index, release] of releases.entries()) await changes.publishOnce(index, `${SDIST_FOLDER}/${sdistName(release)}`, release.sdist.data, release.sdist.sha256);
  await planV2Face(changes, releases, options);
  await planPypiFaces(changes, releases, options);
  return changes.plan;
}

type IndexChanges = ReturnType<typeof indexChanges>;

/**
 * folderChanges, and the two ways an index build writes: `publishOnce` (a file published once, kept when the
 * folder holds it as it is, or says the same by `same`; an error when it holds other content; written when
 * missing; `sha256` compares a file by digest, else the document's bytes are read) and `writeListing` (a
 * listing, written when its bytes change).
 */
function indexChanges(folder: string, outDir: string, releases: IndexRelease[], options: IndexFolderOptions) {
  const changes = folderChanges(folder, outDir, releases.length);
  const { plan, place, keep, look } = changes;
  const read = (relative: string) => readDocument(folder, relative, options.maxMetadataBytes);
  const publishOnce = async (index: number, relative: string, bytes: Buffer | string, sha256: string | undefined, same: (there: Buffer) => boolean = () => false): Promise<void> => {
    plan.paths[index]!.push(relative);
    if (sha256 !== undefined) {
      const there = await look(relative);
      if (there.kind === "file" && there.sha256 === sha256) return keep(relative);
      if (there.kind === "file") throw changedRelease(folder, relative, releases[index]!);
      return place(relative, bytes);
    }
    const there = await read(relative);
    if (there === undefined) return place(relative, bytes);
    if (there.equals(bytes as Buffer) || same(there)) return keep(relative);
    throw changedRelease(folder, relative, releases[index]!);
  };
  const writeListing = async (relative: string, bytes: Buffer): Promise<void> => {
    const there = await read(relative);
    if (there?.equals(bytes) === true) keep(relative);
    else await place(relative, bytes);
  };
  return { ...changes, folder, outDir, read, publishOnce, writeListing };
}

/**
 * The v2 face: each file content-addressed, a document per release and flavor (with every file's full
 * sha256), index.json merged, each `latest.json` a copy of the latest release's document (latestVersion).
 */
async function planV2Face(changes: IndexChanges, releases: IndexRelease[], options: IndexFolderOptions): Promise<void> {
  const { folder, look, keep, place, read, publishOnce, writeListing } = changes;
  const allFiles = releases.flatMap((release) => release.flavors.flatMap((flavor) => flavor.files));
  const shorts = await shortHashes(allFiles.map((file) => file.sha256), async (short) => {
    const there = await look(hashedFilePath(short));
    return there.kind === "file" ? there.sha256 : there.kind === "other" ? "" : undefined;
  });
  for (const [index, release] of releases.entries()) {
    for (const file of release.flavors.flatMap((flavor) => flavor.files)) await publishOnce(index, hashedFilePath(shorts.get(file.sha256)!), file.file, file.sha256);
  }
  const writes: Writes = (flavor, name, version) => releases.some((release) => normalizeName(release.name) === normalizeName(name) && release.version === version && release.flavors.some((item) => item.flavor === flavor));
  const oldIndex = await readIndex(folder, options.maxMetadataBytes, ADDING, writes);
  for (const release of releases) checkSpelling(folder, release, oldIndex?.json);
  const merged = mergeIndex(oldIndex?.json, releases.flatMap((release) => release.flavors.map(({ flavor }) => ({ name: release.name, version: documentVersion(release.name, release.version)!, flavor }))), oldIndex?.json.updated ?? 0);
  describeEntries(merged, releases);
  const entryOf = (name: string) => merged.packages.find((entry) => normalizeName(entry.name) === normalizeName(name));
  const entryName = (name: string) => entryOf(name)?.name;
  const ours = new Map<string, Buffer>();
  for (const [index, release] of releases.entries()) {
    for (const { flavor, files } of release.flavors) {
      const deps = release.deps.map(([name, version]) => indexSpelling(entryOf(name), flavor, name, version));
      const artifact: Extract<DownloadedArtifact, { type: "mip" }> = { type: "mip", name: release.name, version: release.version, source: release.source, files, deps };
      const bytes = documentBytes(packageDocument(artifact, shorts, { fullHashes: true }));
      const relative = documentPath(flavor, entryName(release.name)!, release.version);
      ours.set(relative, bytes);
      const published = await read(relative);
      await publishOnce(index, relative, bytes, undefined, (there) => {
        // Published before this index held a dependency, a document spells it as the metadata does: the same release.
        const document = parseJson(there);
        const publishedDeps = isRecord(document) ? (document.deps ?? []) : undefined;
        return sameDeps(publishedDeps, deps) && sameDocument(document, { ...artifact, deps: publishedDeps as Array<[string, string]> }) && sameFullHashes(document, files);
      });
      if (published !== undefined) await checkNamedFiles(changes, release, relative, parseJson(published), files);
    }
  }
  for (const name of new Set(releases.map((release) => entryName(release.name)!))) {
    const entry = merged.packages.find((candidate) => candidate.name === name)!;
    for (const flavor of new Set(releases.flatMap((release) => release.flavors.map((item) => item.flavor)))) {
      const highest = latestVersion(entry.versions[flavor] ?? []);
      const source = highest === undefined ? undefined : ours.get(documentPath(flavor, name, highest)) ?? (await read(documentPath(flavor, name, highest)));
      if (source !== undefined) await writeListing(documentPath(flavor, name, undefined), source);
    }
  }
  // `updated` moves only when the list changes, so that building the same inputs again changes nothing.
  if (oldIndex !== undefined && oldIndex.bytes.equals(indexBytes(merged))) keep("index.json");
  else await place("index.json", indexBytes({ ...merged, updated: options.updated ?? updatedNow() }));
}

/**
 * The PyPI JSON face (a document per release, published once, and each project's listing, under every
 * spelling a client may ask for: spellingsOf) and the simple face (each project's page in both forms, by
 * PEP 503 name, and the list of projects).
 */
async function planPypiFaces(changes: IndexChanges, releases: IndexRelease[], options: IndexFolderOptions): Promise<void> {
  const { folder, place, read, publishOnce, writeListing } = changes;
  const spellings = await spellingsOf(folder, releases);
  // A disk that folds case holds one folder for `Tiny_Util` and `tiny_util`: one is written, which this
  // disk (and a host serving it as it is) answers for both, and the others are said, since a copy on a
  // case-sensitive host answers only that one.
  if (await foldsCase(changes.outDir)) {
    for (const [key, list] of spellings) {
      const kept = list.filter((spelling, at) => list.findIndex((other) => other.toLowerCase() === spelling.toLowerCase()) === at);
      const dropped = list.filter((spelling) => !kept.includes(spelling));
      if (dropped.length === 0) continue;
      spellings.set(key, kept);
      options.warn?.(`the PyPI face of \`${printable(key)}\` is written as ${kept.map((spelling) => `\`pypi/${printable(spelling)}/\``).join(" and ")} only: this filesystem folds case, so it cannot also hold ${dropped.map((spelling) => `\`pypi/${printable(spelling)}/\``).join(", ")}; served from a case-sensitive host, a copy of the folder answers upip's \`${printable(dropped[0]!)}\` (names are asked as typed) with 404: build on a case-sensitive filesystem to publish every spelling`);
    }
  }
  const projects = new Map<string, Array<{ listed: ListedRelease; index: number }>>();
  for (const [index, release] of releases.entries()) {
    const listed: ListedRelease = { version: release.version, info: infoOf(release), file: { filename: sdistName(release), sha256: release.sdist.sha256, size: release.sdist.data.length } };
    const key = projectFolder(release.name);
    projects.set(key, [...(projects.get(key) ?? []), { listed, index }]);
  }
  // A project published before that a release of this build names by a new spelling is listed under it too.
  for (const key of spellings.keys()) if (!projects.has(key) && (await read(`pypi/${key}/json`)) !== undefined) projects.set(key, []);
  for (const [key, ours] of projects) {
    const all = mergeListed(await readListing(folder, `pypi/${key}/json`, options.maxMetadataBytes), ours.map((item) => item.listed));
    for (const spelling of spellings.get(key) ?? [key]) {
      for (const listed of all) {
        const relative = `pypi/${spelling}/${listed.version}/json`;
        const own = ours.find((item) => item.listed.version === listed.version);
        if (own !== undefined) {
          await publishOnce(own.index, relative, pypiVersionDocument(listed, relative, options.baseUrl), undefined, (there) => sdistOf(parseJson(there)) === listed.file.sha256);
        } else if ((await read(relative)) === undefined) {
          // An earlier build's release, under a spelling it was not written under: a copy of its document.
          const earlier = await read(`pypi/${key}/${listed.version}/json`);
          if (earlier !== undefined) await place(relative, earlier);
        }
      }
      await writeListing(`pypi/${spelling}/json`, pypiProjectDocument(all, `pypi/${spelling}/json`, options.baseUrl));
    }
    await writeListing(`simple/${key}/index.html`, simpleProjectHtml(key, all, options.baseUrl));
    await writeListing(`simple/${key}/index.json`, simpleProjectJson(key, all, options.baseUrl));
  }
  const names = [...(await readProjectNames(folder, options.maxMetadataBytes)), ...projects.keys()];
  await writeListing("simple/index.html", simpleRootHtml(names));
  await writeListing("simple/index.json", simpleRootJson(names));
}

/**
 * For each project (by PEP 503 name), the spellings its PyPI JSON pages are written under: pypiSpellings
 * of its own name, of every name this build's releases give it in their dependencies (upip and mpip ask
 * for a dependency as its dependent spells it), and of every folder an earlier build wrote for it.
 */
async function spellingsOf(folder: string, releases: IndexRelease[]): Promise<Map<string, string[]>> {
  const names = [
    ...releases.map((release) => release.name),
    ...releases.flatMap((release) => release.sdist.requiresDist.map((line) => /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)?.[1]).filter((name): name is string => name !== undefined)),
    ...(await readdir(path.join(folder, "pypi")).catch(() => [] as string[])).filter((name) => /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name)),
  ];
  const spellings = new Map<string, string[]>();
  for (const name of names) {
    const key = projectFolder(name);
    const known = spellings.get(key) ?? [];
    // Every spelling, case included (pypiSpellings); one the filesystem cannot hold beside another is left to planPypiFaces.
    for (const spelling of pypiSpellings(name)) if (!known.includes(spelling)) known.push(spelling);
    spellings.set(key, known);
  }
  return spellings;
}

/**
 * Whether the filesystem of `dir` (created if missing) takes two names that differ only by case for one:
 * a probe file is made in it and looked up in upper case. macOS and Windows disks, and FAT, fold case.
 */
async function foldsCase(dir: string): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  const probe = path.join(dir, "case-probe");
  await writeFile(probe, "");
  try {
    return await lstat(path.join(dir, "CASE-PROBE")).then(() => true, () => false);
  } finally {
    await rm(probe, { force: true });
  }
}

/**
 * A v2 `deps` pair as this index spells the package it names, when the index publishes it (`entry`): mip
 * asks for `package/{flavor}/{name}/{version}.json` verbatim, so `Tiny_Util` is asked for as `tiny-util`, and a
 * pinned version as the index spells the same PEP 440 version in that flavor (`==1.0.0` as `1.0`, `==v2` as `2`).
 * A version ("" for the latest) or a package the index does not publish stays as the metadata says it.
 */
function indexSpelling(entry: IndexJson["packages"][number] | undefined, flavor: string, name: string, version: string): [string, string] {
  if (entry === undefined) return [name, version];
  const same = version === "" || !isComparableVersion(version) ? undefined : (entry.versions[flavor] ?? []).find((listed) => isComparableVersion(listed) && compareVersions(listed, version) === 0);
  return [entry.name, same ?? version];
}

/** The file name an sdist is published under: a plain `.tar.gz` name. */
function sdistName(release: IndexRelease): string {
  const name = release.sdist.filename;
  if (!isPlainSdistName(name)) {
    throw new MpipError("unsafe-path", `refused to publish the sdist of \`${printable(release.name)}\` as \`${printable(name)}\`: it is not a plain \`.tar.gz\` file name`, { hint: "rename the file to `NAME-VERSION.tar.gz`" });
  }
  return name;
}

/** A plain `.tar.gz` file name: no separator, control character or leading `.`. */
function isPlainSdistName(name: string): boolean {
  return /^[^/\\\0-\x1f\x7f]+\.tar\.gz$/i.test(name) && !name.startsWith(".");
}

/** index.json's `description`, `license` and `author` of each package published here, from its latest release (latestVersion). */
function describeEntries(index: IndexJson, releases: IndexRelease[]): void {
  for (const release of releases) {
    const entry = index.packages.find((candidate) => normalizeName(candidate.name) === normalizeName(release.name));
    if (entry === undefined || entry.version !== release.version) continue;
    Object.assign(entry, { author: release.author, description: release.summary, license: release.license });
  }
}

function infoOf(release: IndexRelease): ListedRelease["info"] {
  return { name: release.name, version: release.version, summary: release.summary, license: release.license, author: release.author, requires_dist: release.sdist.requiresDist.length === 0 ? null : release.sdist.requiresDist };
}

/**
 * Whether a published document's `deps` name the same packages at the same versions as `ours`, however each
 * is spelled: PEP 503 names, PEP 440 versions ("" the latest), in the same order.
 */
function sameDeps(published: unknown, ours: Array<[string, string]>): boolean {
  if (!Array.isArray(published) || published.length !== ours.length) return false;
  return ours.every(([name, version], index) => {
    const pair: unknown = published[index];
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") return false;
    const [otherName, otherVersion] = pair as [string, string];
    const sameVersion = otherVersion === version || (isComparableVersion(otherVersion) && isComparableVersion(version) && compareVersions(otherVersion, version) === 0);
    return normalizeName(otherName) === normalizeName(name) && sameVersion;
  });
}

/** Whether a document's `sha256` field, if it has one, gives each file the full sha256 we have for it. */
function sameFullHashes(document: unknown, files: PublishedRelease["files"]): boolean {
  if (!isRecord(document) || document.sha256 === undefined) return true;
  return JSON.stringify(document.sha256) === JSON.stringify(files.map(({ dest, sha256 }) => [dest, sha256]));
}

/** The sha256 of the one sdist a `pypi/{name}/{version}/json` lists, if it is one. */
function sdistOf(document: unknown): string | undefined {
  if (!isRecord(document) || !Array.isArray(document.urls)) return undefined;
  const [file] = document.urls as unknown[];
  return isRecord(file) && isRecord(file.digests) && typeof file.digests.sha256 === "string" ? file.digests.sha256 : undefined;
}

/**
 * The releases an earlier build listed in `pypi/{name}/json`, or none. Its `info` belongs to its latest release
 * (latestVersion), which keeps it while no later one is published.
 * @throws MpipError `bad-metadata` for a listing an index build did not write (a version that is no PEP 440
 *   version, a file name that is no plain `.tar.gz` name, a digest that is no sha256).
 */
async function readListing(folder: string, relative: string, maxBytes: number): Promise<ListedRelease[]> {
  const bytes = await readDocument(folder, relative, maxBytes);
  if (bytes === undefined) return [];
  const document = parseJson(bytes);
  const listed: ListedRelease[] = [];
  const releases = isRecord(document) && isRecord(document.releases) ? document.releases : undefined;
  const info = isRecord(document) && isRecord(document.info) ? (document.info as unknown as ListedRelease["info"]) : undefined;
  for (const [version, files] of Object.entries(releases ?? {})) {
    const file = Array.isArray(files) && files.length === 1 && isRecord(files[0]) ? files[0] : undefined;
    const sha256 = file !== undefined && isRecord(file.digests) ? file.digests.sha256 : undefined;
    // A version becomes a path (`pypi/{name}/{version}/json`) and a file name a URL: only what a build writes.
    if (!isPep440Version(version) || file === undefined || typeof file.filename !== "string" || !isPlainSdistName(file.filename) || typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256) || typeof file.size !== "number") return notOurs(folder, relative);
    listed.push({ version, info: info?.version === version ? info : { name: "", version, summary: "", license: "", author: "", requires_dist: null }, file: { filename: file.filename, sha256, size: file.size } });
  }
  if (releases === undefined || info === undefined) return notOurs(folder, relative);
  return listed;
}

/** Our releases over the listed ones (the same version is the same release: publishOnce checked it). */
function mergeListed(listed: ListedRelease[], ours: ListedRelease[]): ListedRelease[] {
  const versions = new Set(ours.map((release) => release.version));
  return [...listed.filter((release) => !versions.has(release.version)), ...ours];
}

/** The projects `simple/index.json` lists, or none. */
async function readProjectNames(folder: string, maxBytes: number): Promise<string[]> {
  const bytes = await readDocument(folder, "simple/index.json", maxBytes);
  if (bytes === undefined) return [];
  const document = parseJson(bytes);
  const projects = isRecord(document) && Array.isArray(document.projects) ? document.projects : undefined;
  if (projects === undefined || !projects.every((project) => isRecord(project) && typeof project.name === "string")) return notOurs(folder, "simple/index.json");
  return projects.map((project) => (project as { name: string }).name);
}

function notOurs(folder: string, relative: string): never {
  throw new MpipError("bad-metadata", `\`${printable(path.join(folder, ...relative.split("/")), 300)}\` is not a listing \`mpip index build\` writes, so this index build cannot add to it; nothing was written`, { hint: ADDING.hint });
}

/**
 * A release whose version the folder publishes under another spelling (`1.00` where `1.0` is, the same
 * PEP 440 version) would be a second document of one release: refused, as a changed release is.
 * @throws MpipError `version-conflict`.
 */
function checkSpelling(folder: string, release: IndexRelease, index: IndexJson | undefined): void {
  const entry = index?.packages.find((candidate) => normalizeName(candidate.name) === normalizeName(release.name));
  const other = Object.values(entry?.versions ?? {}).flat().find((version) => version !== release.version && isPep440Version(version) && compareVersions(version, release.version) === 0);
  if (other === undefined) return;
  throw new MpipError("version-conflict", `\`${printable(release.name)} ${printable(release.version)}\` from \`${printable(release.source)}\` is the version \`${printable(other)}\` that \`${printable(folder, 300)}\` already publishes, spelled otherwise; nothing was written`, {
    hint: "a published release never changes: give the package a new version, or the same spelling if it is the same release",
  });
}

/** A release the folder already publishes with other content: releases are immutable once published. */
function changedRelease(folder: string, relative: string, release: IndexRelease): MpipError {
  return new MpipError("version-conflict", `\`${printable(release.name)} ${printable(release.version)}\` from \`${printable(release.source)}\` is already published in \`${printable(folder, 300)}\` with other content (\`${printable(relative, 200)}\` differs); nothing was written`, {
    hint: "a published release never changes, so that caches and CDNs may keep it: bump the version of the package that changed",
  });
}
