// `mpip install --lock pylock.toml` and `mpip sync`: install exactly what a lock says, with no
// resolution and no index metadata: every file the lock pins is fetched in one parallel round (up to
// --jobs at once) and checked against its full sha256; then the image is fitted to the firmware, the
// records staged and everything committed at once, by the same code as a plain install (install.ts
// `commitStaged`). Any mismatch, missing file, a lock for another firmware or a malformed lock stops it
// with nothing changed in the target.
//
// `sync` (uv's `pip sync`) also removes the recorded packages the lock does not list, in the same
// commit; `install --lock` (uv's `pip install -r`) keeps them. A package the target already records at
// the locked version, from the same file (its record's sha256), built the same way, is kept as it is
// (pip's "already satisfied"), unless --force-reinstall.

import path from "node:path";
import { RunScope } from "../cancel.js";
import { MpipError } from "../errors.js";
import { buildOf, commitStaged, openSources, settleCompiler, type InstallOptions, type InstallReport } from "../install.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import { readSmallFile } from "../local-file.js";
import { Pool } from "../pool.js";
import { prepareRelease, type PrepareContext, type Staged } from "../prepare/index.js";
import type { Provenance, SourceKind } from "../record/format.js";
import type { RecordContext } from "../record/provenance.js";
import { readRecordsIn, type Distribution } from "../record/read.js";
import type { Prepared, Release, Request, ResolvedPackage } from "../resolve/resolve.js";
import { gitHostsFromEnv, isShorthand, shorthandRepo } from "../sources/git-hosts.js";
import { mipDocumentLocation } from "../sources/mip-v2.js";
import type { Artifact, Location } from "../sources/types.js";
import { TargetSession } from "../image/session.js";
import { asInterrupted } from "../image/interrupt.js";
import { allowManyListeners } from "../signals.js";
import { normalizeName } from "../spec/names.js";
import { printable, quantity } from "../text.js";
import { normalizeVersion } from "../versions.js";
import { checkLockBuild, lockBuildOf } from "./build.js";
import { MAX_LOCK_BYTES, packageSource, type LockedPackage } from "./format.js";
import { prepareLockedDocument } from "./prepare-locked.js";
import { parseLock, type ReadLock } from "./read.js";

export interface LockedInstallOptions extends Pick<InstallOptions,
  "target" | "firmware" | "compile" | "jobs" | "timeoutMs" | "retries" | "certFile" | "cacheDir" | "offline" | "wait" | "signal" | "limits" | "forceReinstall" | "dryRun" | "maxSize" | "record" | "strictWindow" | "hosts" | "cwd" | "reporter"> {
  /** The `pylock.toml` to install. */
  lockFile: string;
  /** `mpip sync`: remove the recorded packages the lock does not list (in the same commit). */
  remove: boolean;
  /**
   * Index URLs given on the command line (`-i`): not asked anything, but credentials they carry are sent
   * with the lock's URLs of the same origin, as they would be in a plain install (a lock holds none).
   */
  indexUrls?: string[];
}

/**
 * Installs what `options.lockFile` pins into `options.target`.
 * @throws MpipError `bad-lock` (malformed, unsupported version or packages: see read.ts), `usage` (a lock
 *   for another firmware or build), `digest-mismatch`, `not-found`, and whatever an install throws.
 */
export async function installLocked(options: LockedInstallOptions): Promise<InstallReport> {
  const { reporter } = options;
  const lock = await readLockFile(options.lockFile);
  for (const warning of lock.warnings) reporter.warn(warning);
  for (const { name, marker } of lock.skipped) reporter.info(`Skipping \`${printable(name)}\` (\`${printable(options.lockFile)}\`): its marker \`${printable(marker, 120)}\` does not apply to MicroPython`);
  checkLockBuild(lock.build, lockBuildOf(options.firmware, options.compile), options.lockFile);
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.signal !== undefined) allowManyListeners(options.signal);
  const scope = new RunScope(options.signal);
  const given = options.indexUrls ?? [];
  const lockIndexes = lock.packages.flatMap((item) => (item.origin.type === "index" && /^https?:\/\//i.test(item.origin.index) ? [item.origin.index] : []));
  // No source is asked: the client only downloads, with netrc's `default` login for the lock's index hosts.
  const { http } = await openSources({ indexUrls: [...new Set([...given, ...lockIndexes])], findLinks: [], reporter, ...pick(options, "firmware", "timeoutMs", "retries", "certFile", "cacheDir", "offline") }, limits, scope);
  const target = path.resolve(options.target);
  const image = await TargetSession.open(options.target, { wait: options.wait ?? true, operation: options.remove ? "sync" : "install", reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const authority = `the lock \`${printable(options.lockFile)}\``;
  const context: PrepareContext = {
    http,
    staging: image.staging,
    limits,
    strictWindow: options.strictWindow,
    scope,
    signal: scope.signal,
    spec: { hosts: options.hosts ?? gitHostsFromEnv(), cwd: options.cwd ?? process.cwd() },
    pinnedBy: authority,
  };
  try {
    const compiler = await settleCompiler(options, image, scope);
    const installed = (await readRecordsIn(image.target)).distributions;
    const build = buildOf(options);
    const pool = new Pool(options.jobs, scope.signal);
    const label = `\`${printable(options.lockFile)}\``;
    // Fetched with the credentials of a given index URL; recorded without, as a plain install records the index's file URLs.
    const releases = lock.packages.map((item) => ({ item, release: releaseOf(item, given, false), fetched: releaseOf(item, given, true) }));
    let done = 0;
    reporter.progress(`Fetching: 0 of ${quantity(releases.length, "package")}`);
    const nodes = await scope.all(releases.map(({ item, release, fetched }) => async (): Promise<ResolvedPackage<Staged>> => {
      const requests: Request[] = [{ requirement: { name: item.name, extras: [], specifier: "", text: item.name }, requestedBy: label }];
      const kept = options.forceReinstall === true ? undefined : keptAsInstalled(installed, item, release, build);
      const prepared = kept ?? await pool.run(() => prepareLocked(item, fetched, given, authority, context));
      reporter.progress(`Fetching: ${++done} of ${quantity(releases.length, "package")}`);
      const name = prepared.name ?? release.name;
      if (normalizeName(name) !== normalizeName(item.name)) {
        throw new MpipError("bad-lock", `${label} locks \`${printable(item.name)}\` at \`${printable(release.source)}\`, which now holds \`${printable(name)}\``, { hint: "lock again: the folder is not what the lock was made from" });
      }
      return { ...release, name: item.name, version: prepared.version ?? release.version, requests, dependencies: prepared.dependencies, prepared: prepared.value };
    }));
    const kinds = new Map(releases.flatMap(({ item, release }) => (item.origin.type === "index" ? [[release.source, item.origin.kind] as [string, SourceKind]] : [])));
    const requested = new Map(nodes.map((node, at) => [node, lock.packages[at]!.requested]));
    const recordContext: RecordContext = { kindOf: (source) => kinds.get(source), build, requested: (node) => requested.get(node) === true };
    const listed = new Set(lock.packages.map((item) => normalizeName(item.name)));
    const removing = options.remove ? new Set(installed.filter((item) => !listed.has(item.key)).map((item) => item.key)) : undefined;
    return await commitStaged(nodes, { image, installed, compiler, recordContext, scope, ...(removing === undefined ? {} : { removing }) }, options);
  } catch (error) {
    reporter.clearProgress();
    throw asInterrupted(error, options.signal, target);
  } finally {
    await image.close();
    await http.close();
    scope.dispose();
  }
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

/**
 * pip's "already satisfied", for a lock: the target records the package at the locked version, from
 * the very file the lock pins (its record's sha256), built the same way. Nothing is fetched for it.
 */
function keptAsInstalled(installed: readonly Distribution[], item: LockedPackage, release: Release, build: Provenance["build"]): Prepared<Staged> | undefined {
  // A name recorded several times is installed again, which replaces every record of it (as install does).
  const records = installed.filter((candidate) => candidate.key === normalizeName(item.name));
  const distribution = records.length === 1 ? records[0] : undefined;
  const expected = release.artifact.type === "dist" ? release.artifact.file.sha256 : release.artifact.type === "package-json" || release.artifact.type === "module" ? release.artifact.sha256 : undefined;
  const provenance = distribution?.origin;
  if (distribution === undefined || provenance === undefined || expected === undefined || provenance.sha256 !== expected) return undefined;
  if ((normalizeVersion(distribution.version) ?? distribution.version) !== (normalizeVersion(item.version === "" ? "0" : item.version) ?? item.version)) return undefined;
  const built = provenance.build ?? { compile: "no", mpy: null };
  if (built.compile !== build.compile || (built.mpy ?? null) !== build.mpy) return undefined;
  return { dependencies: [], value: { dir: "", files: [], sha256: expected, origin: distribution.distInfo, filename: distribution.distInfo, smallWindow: true, warnings: [], alreadyInstalled: true } };
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
    throw new MpipError("bad-lock", `${authority} gives ${what} of \`${printable(item.name)}\` a size of ${pinned.size} bytes, but the file with its sha256 is ${bytes} bytes; nothing was installed`, {
      hint: "the lock was edited or written wrong: lock again (`mpip lock`)",
    });
  }
}

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) picked[key] = value[key];
  return picked;
}
