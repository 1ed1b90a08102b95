// Fetching what a lock pins, with no resolution and no index asked anything: each locked package becomes
// the release a plain install would have chosen (its file or files, and its source as records name it),
// and every file the lock pins is fetched in one parallel round (up to --jobs at once) and checked
// against the lock's full sha256 (prepare/, prepare-locked.ts). Two commands use it and differ only in
// where the staged packages go: the locked install (install-locked.ts) commits them into a target, and
// `mpip download --lock` (download.ts) lays them out as a folder index.
// Before the round: the lock's files on this machine must lie where a lock may name them (local-files.ts),
// and with --offline every remote file the cache lacks is named in one error, so nothing is half-fetched.

import { lstat } from "node:fs/promises";
import { offlineMissingFiles, type MissingFile } from "../cache/offline.js";
import { MpipError } from "../errors.js";
import { redactUrl, type HttpClient } from "../http.js";
import type { Reporter } from "../log.js";
import { readSmallFile } from "../local-file.js";
import { Pool } from "../pool.js";
import { describeRelease, type PrepareContext, type Staged } from "../prepare/context.js";
import { prepareRelease } from "../prepare/index.js";
import type { Prepared, Release, Request, ResolvedPackage } from "../resolve/resolve.js";
import { isShorthand, shorthandRepo } from "../sources/git-hosts.js";
import { mipDocumentLocation } from "../sources/mip-v2.js";
import type { Artifact, Location } from "../sources/types.js";
import { normalizeName } from "../spec/names.js";
import { printable, quantity } from "../text.js";
import { MAX_LOCK_BYTES, packageSource, type LockedPackage } from "./format.js";
import { prepareLockedDocument } from "./prepare-locked.js";
import { parseLock, type ReadLock } from "./read.js";

export interface LockedFetch {
  lock: ReadLock;
  /** The lock file as given, for messages. */
  lockFile: string;
  /**
   * Index URLs given on the command line (`-i`): asked nothing, but credentials they carry are sent with
   * the lock's URLs of the same origin, as a plain install sends them (a lock holds none).
   */
  given: readonly string[];
  /** Where and how packages are staged; its `pinnedBy` is set here, to the lock. */
  context: PrepareContext;
  jobs: number;
  reporter: Reporter;
  /**
   * A package that need not be fetched, as the target already holds it (pip's "already satisfied"), or
   * undefined to fetch it. Default: fetch every package.
   */
  keep?(item: LockedPackage, release: Release): Prepared<Staged> | undefined;
  /** Told of each package as soon as it is staged (or kept), with its place in the lock's install order. */
  onPrepared?(node: ResolvedPackage<Staged>, at: number): void;
}

/**
 * Every package of `run.lock`, fetched, verified and staged, in the lock's install order, as the
 * resolution of a plain install would give them (each one's `requests` name the lock).
 * @throws MpipError `offline` (naming every file the cache lacks, before anything is fetched),
 *   `digest-mismatch`, `not-found`, `bad-lock` (a folder that now holds another package), and what
 *   staging throws (network, limits, unsafe paths).
 */
export async function fetchLocked(run: LockedFetch): Promise<Array<ResolvedPackage<Staged>>> {
  const { lock, given, reporter } = run;
  const label = `\`${printable(run.lockFile)}\``;
  const authority = `the lock ${label}`;
  const context: PrepareContext = { ...run.context, pinnedBy: authority };
  // Fetched with the credentials of a given index URL; recorded without, as a plain install records the index's file URLs.
  const releases = lock.packages.map((item) => ({ item, release: releaseOf(item, given, false), fetched: releaseOf(item, given, true) }));
  const kept = releases.map(({ item, release }) => run.keep?.(item, release));
  if (context.http.offline) await checkOfflineCache(releases.filter((_, at) => kept[at] === undefined).map(({ item }) => item), context.http, label);
  const pool = new Pool(run.jobs, context.scope.signal);
  let done = 0;
  reporter.progress(`Fetching: 0 of ${quantity(releases.length, "package")}`);
  return context.scope.all(releases.map(({ item, release, fetched }, at) => async (): Promise<ResolvedPackage<Staged>> => {
    const requests: Request[] = [{ requirement: { name: item.name, extras: [], specifier: "", text: item.name }, requestedBy: label }];
    const prepared = kept[at] ?? await pool.run(() => prepareLocked(item, fetched, given, authority, context));
    reporter.progress(`Fetching: ${++done} of ${quantity(releases.length, "package")}`);
    const name = prepared.name ?? release.name;
    if (normalizeName(name) !== normalizeName(item.name)) {
      throw new MpipError("bad-lock", `${label} locks \`${printable(item.name)}\` at \`${printable(release.source)}\`, which now holds \`${printable(name)}\``, { hint: "lock again: the folder is not what the lock was made from" });
    }
    const node: ResolvedPackage<Staged> = { ...release, name: item.name, version: prepared.version ?? release.version, requests, dependencies: prepared.dependencies, prepared: prepared.value };
    run.onPrepared?.(node, at);
    return node;
  }));
}

/** The http(s) index URLs the lock's packages came from: netrc's `default` login is sent to their hosts only. */
export function lockedIndexUrls(lock: ReadLock): string[] {
  return lock.packages.flatMap((item) => (item.origin.type === "index" && /^https?:\/\//i.test(item.origin.index) ? [item.origin.index] : []));
}

/** The lock file read and checked (see read.ts). @throws MpipError `usage` (missing, unreadable), `bad-lock`. */
export async function readLockFile(file: string): Promise<ReadLock> {
  const read = await readSmallFile(file, MAX_LOCK_BYTES);
  switch (read.kind) {
    case "read":
      return parseLock(read.data.toString("utf8"), file);
    case "missing":
      throw new MpipError("usage", `there is no lock file at \`${printable(file)}\``, { hint: "make one with `mpip lock`, or name the pylock.toml to install" });
    case "too-large":
      throw new MpipError("bad-lock", `\`${printable(file)}\` is ${read.size} bytes, more than the ${MAX_LOCK_BYTES} a lock file may hold`, { hint: "check that it is a pylock.toml" });
    case "not-regular":
    case "link":
      throw new MpipError("usage", `\`${printable(file)}\` is not a regular file`, { hint: "name the pylock.toml itself" });
    case "unreadable":
      throw new MpipError("usage", `cannot read the lock file \`${printable(file)}\` (${read.error.code ?? read.error.message})`, { cause: read.error, hint: "check its permissions" });
  }
}

/**
 * `--offline`: every remote file of `items` must be in the cache's store (by its sha256, the only way
 * a locked file is ever taken from the cache). All that are not are named in one error, before anything
 * is fetched; an entry found here and bad when read is still refused then, by the fetch.
 * @throws MpipError `offline`.
 */
async function checkOfflineCache(items: readonly LockedPackage[], http: HttpClient, lockLabel: string): Promise<void> {
  const files = items.flatMap(remoteFiles);
  const store = http.cache?.store;
  const present = await Promise.all(files.map((file) => (store === undefined ? false : lstat(store.pathOf(file.sha256)).then((info) => info.isFile(), () => false))));
  const missing = files.filter((_, at) => !present[at]);
  if (missing.length > 0) throw offlineMissingFiles(missing, files.length, `the lock ${lockLabel}`, http.cache?.dir);
}

/** The files of a locked package that come from the network, as messages name them. */
function remoteFiles(item: LockedPackage): MissingFile[] {
  const { artifact } = item;
  const remote = (location: Location, what: string, sha256: string): MissingFile[] => (location.type === "remote" ? [{ what, url: redactUrl(location.url), sha256 }] : []);
  switch (artifact.type) {
    case "dist":
      return remote(artifact.file.location, describeRelease(item.name, item.version, artifact.filename), artifact.file.sha256);
    case "module":
      return remote(artifact.file.location, describeRelease(item.name, item.version, artifact.file.dest), artifact.file.sha256);
    case "package-json": {
      const shown = `\`${printable(item.name, 100)}${item.version === "" ? "" : ` ${printable(item.version, 60)}`}\``;
      return [
        ...remote(artifact.document.location, `the package document of ${shown}`, artifact.document.sha256),
        ...artifact.files.flatMap((file) => remote(file.location, `\`${printable(file.dest)}\` of ${shown}`, file.sha256)),
      ];
    }
    case "project":
      return [];
  }
}

/**
 * What a locked package installs from, as a release (what a plain install would have chosen); with
 * `credentials`, its URLs carry those of a given index URL of their origin (for fetching, not recording).
 */
function releaseOf(item: LockedPackage, given: readonly string[], credentials: boolean): Release {
  const { artifact, origin } = item;
  const key = normalizeName(item.name);
  const source = origin.type === "index" ? indexLabel(origin.index, given) : packageSource(item);
  const remote = (location: Location) => (credentials ? withCredentials(location, given) : location);
  let release: Artifact;
  switch (artifact.type) {
    case "dist":
      release = { type: "dist", file: { filename: artifact.filename, location: remote(artifact.file.location), packagetype: "sdist", sha256: artifact.file.sha256, yanked: false } };
      break;
    case "project":
      release = { type: "project", path: artifact.path };
      break;
    case "module":
      release = { type: "module", location: remote(artifact.file.location), dest: artifact.file.dest, sha256: artifact.file.sha256 };
      break;
    case "package-json": {
      const location = remote(artifact.document.location);
      const place = location.type === "remote" ? mipDocumentLocation(location.url) : undefined;
      const spec = origin.type === "direct" ? origin.spec : undefined;
      const ref = origin.type === "direct" ? origin.ref : undefined;
      const repo = ref !== undefined && spec !== undefined && isShorthand(spec) ? shorthandRepo(spec) : undefined;
      release = {
        type: "package-json",
        location,
        sha256: artifact.document.sha256,
        ...(place === undefined ? {} : { mip: { base: place.base, flavor: place.flavor } }),
        ...(repo === undefined || ref === undefined ? {} : { ref: { repo, ref } }),
      };
      break;
    }
  }
  return { key, name: item.name, version: item.version, source, artifact: release, ...(origin.type === "direct" ? { direct: true } : {}) };
}

/**
 * The index as a plain install's records name it: the URL given on the command line with its
 * credentials shown as `***` when one is the lock's index with credentials added, else the lock's.
 */
function indexLabel(index: string, given: readonly string[]): string {
  for (const text of given) {
    const url = text.replace(/^(mip|pypi|simple)\+(?=https?:)/i, "").replace(/\/+$/, "");
    try {
      const parsed = new URL(url);
      if (parsed.username === "" && parsed.password === "") continue;
      const bare = new URL(url);
      bare.username = "";
      bare.password = "";
      if (bare.toString().replace(/\/+$/, "") === index.replace(/\/+$/, "")) {
        parsed.username = "***";
        parsed.password = "";
        return parsed.toString().replace(/\/+$/, "");
      }
    } catch {
      continue;
    }
  }
  return index;
}

/** A lock URL with the credentials of a given index URL of the same origin (scheme, host, port). */
function withCredentials(location: Location, given: readonly string[]): Location {
  if (location.type !== "remote") return location;
  let url: URL;
  try {
    url = new URL(location.url);
  } catch {
    return location;
  }
  for (const text of given) {
    try {
      const index = new URL(text.replace(/^(mip|pypi|simple)\+(?=https?:)/i, ""));
      if ((index.username === "" && index.password === "") || index.origin !== url.origin) continue;
      url.username = index.username;
      url.password = index.password;
      return { ...location, url: url.toString() };
    } catch {
      continue;
    }
  }
  return location;
}

async function prepareLocked(item: LockedPackage, release: Release, given: readonly string[], authority: string, context: PrepareContext): Promise<Prepared<Staged>> {
  const { artifact } = item;
  if (artifact.type === "package-json" && release.artifact.type === "package-json") {
    const files = artifact.files.map((file) => ({ ...file, location: withCredentials(file.location, given) }));
    const prepared = await prepareLockedDocument(release, release.artifact, files, authority, context);
    checkSizes(item, [{ what: "its package document", pinned: artifact.document, bytes: prepared.value.fetched?.artifact.bytes }, ...artifact.files.map((file, at) => ({ what: `\`${printable(file.dest, 200)}\``, pinned: file, bytes: prepared.value.fetched?.files?.[at]?.bytes }))], authority);
    return prepared;
  }
  const prepared = await prepareRelease(release, context);
  const pinned = artifact.type === "dist" ? artifact.file : artifact.type === "module" ? artifact.file : undefined;
  if (pinned !== undefined) checkSizes(item, [{ what: "its file", pinned, bytes: prepared.value.fetched?.artifact.bytes }], authority);
  return prepared;
}

/**
 * A file that matched its sha256 but not the `size` the lock gives beside it: the lock says two
 * different things about one file (it was edited, or written wrong), so it is not installed from.
 * @throws MpipError `bad-lock`.
 */
function checkSizes(item: LockedPackage, files: Array<{ what: string; pinned: { size?: number }; bytes: number | undefined }>, authority: string): void {
  for (const { what, pinned, bytes } of files) {
    if (pinned.size === undefined || bytes === undefined || pinned.size === bytes) continue;
    throw new MpipError("bad-lock", `${authority} gives ${what} of \`${printable(item.name)}\` a size of ${pinned.size} bytes, but the file with its sha256 is ${bytes} bytes; nothing was changed`, {
      hint: "the lock was edited or written wrong: lock again (`mpip lock`)",
    });
  }
}
