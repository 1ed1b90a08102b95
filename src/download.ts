// `mpip download`: resolve and fetch exactly as `mpip install` does (the same sources, checks and
// options), but instead of a target image write everything the install needs into a folder that is
// itself an index (download/layout.ts): sdists as served, usable with `-f DIR`, and mip packages as a
// micropython-lib v2 index, so that `mpip install -i DIR ...` reproduces the install with no network.
// The folder is changed like a target: staged beside it, under its lock, committed all at once.
// Inputs: specs and -r files, resolved here; or a pylock.toml (`--lock`), which gives the releases
// themselves: they are fetched with no resolution, each file checked against the lock's full sha256, by
// the locked install's own code (lock/fetch-locked.ts), and laid out the same way.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { RunScope } from "./cancel.js";
import { planDownloadFolder } from "./download/folder.js";
import type { DownloadedArtifact } from "./download/layout.js";
import { asInterrupted } from "./image/interrupt.js";
import { TargetSession } from "./image/session.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import type { Reporter } from "./log.js";
import { mipFlavor, type MpyTarget } from "./mpy/target.js";
import { fitToFirmware } from "./prepare/firmware.js";
import type { PrepareContext, Staged } from "./prepare/index.js";
import { openSources, prepareContext, resolveAndPrepare } from "./install.js";
import { requesterInReport, type Constraint, type HashMode, type Request, type ResolvedPackage } from "./resolve/resolve.js";
import { allowManyListeners } from "./signals.js";
import type { GitHosts } from "./sources/git-hosts.js";
import type { PackageSpec } from "./spec/package-spec.js";
import { printable } from "./text.js";
import { isPep440Version } from "./versions.js";
import { lockedFirmware } from "./lock/build.js";
import { fetchLocked, lockedIndexUrls, readLockFile } from "./lock/fetch-locked.js";
import { checkLockedPaths, localFolders } from "./lock/local-files.js";
import type { ReadLock } from "./lock/read.js";
import { sha256Hex } from "./image/fs-ops.js";

export interface DownloadOptions {
  /** The folder to write into (created if missing; an earlier download there is added to). */
  dest: string;
  /** What to resolve; ignored with `lockFile`. */
  requests: Request[];
  /**
   * A `pylock.toml` to download exactly, instead of resolving `requests`: no index is asked anything
   * (`indexUrls` only lend their credentials, and a local folder among them may hold the lock's files);
   * the firmware is the lock's (`firmware`, when given, must be the same).
   */
  lockFile?: string;
  /** As for install: index URLs or folders, each optionally with a kind prefix. */
  indexUrls: string[];
  hosts?: GitHosts;
  cwd?: string;
  /** The firmware the install will be for: v2 packages are taken in its flavor, and every .mpy checked. */
  firmware?: MpyTarget;
  /** The release dependencies' markers see as `implementation_version` (install.ts InstallOptions). */
  implementationVersion?: string;
  findLinks: string[];
  /** The download cache (`--cache-dir`; none without it) and `--offline`, as for install. */
  cacheDir?: string;
  offline?: boolean;
  /** Constraints from `-c` files (pip's): narrow versions, never add packages. */
  constraints?: Constraint[];
  /** pip's hash-checking mode, from `--hash` in requirement files: every file must match an allowed hash. */
  hashMode?: HashMode;
  noDeps: boolean;
  pre: boolean;
  strictWindow: boolean;
  requireHashes?: boolean;
  jobs: number;
  timeoutMs?: number;
  retries?: number;
  certFile?: string;
  signal?: AbortSignal;
  limits?: Partial<Limits>;
  reporter: Reporter;
}

export interface DownloadedPackage {
  name: string;
  version: string;
  /** The index or spec it came from. */
  source: string;
  /** How the folder holds it: an sdist at its top, or a package of its v2 index. */
  kind: "sdist" | "mip";
  /** What was fetched (the archive, the package document or module), safe to print, and its sha256. */
  url: string;
  sha256: string;
  requestedBy: string[];
  /** The paths of the folder that hold it (an sdist's file; a v2 package's document, then its files). */
  files: string[];
}

export interface DownloadReport {
  dest: string;
  /** The v2 folder its mip packages are in: "py" for sources, or the .mpy major version. */
  flavor: string;
  packages: DownloadedPackage[];
  /** Paths of the folder this run wrote (new files, and index.json or a latest.json it changed). */
  written: string[];
  /** Paths of the folder that already held what was needed. */
  unchanged: string[];
  warnings: string[];
}

/**
 * Resolves `options.requests` as `install` would, fetches and verifies every package, and writes them
 * into `options.dest` as an index (see the module comment).
 * @throws MpipError as `install` does for resolving and fetching; `io` for a file the folder holds with
 *   other bytes; `bad-metadata` for a folder whose index.json is none; `version-conflict` for two
 *   packages under one name; `locked`/`interrupted` as for a target.
 */
export async function download(options: DownloadOptions): Promise<DownloadReport> {
  const { reporter } = options;
  const dest = path.resolve(options.dest);
  const locked = options.lockFile === undefined ? undefined : await openLock(options.lockFile, options);
  const firmware = locked === undefined ? options.firmware : locked.firmware;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.signal !== undefined) allowManyListeners(options.signal);
  const scope = new RunScope(options.signal);
  const flavor = mipFlavor(firmware);
  // A lock's packages are fetched from where it says: no source is asked, the client only downloads.
  const sourceOptions = locked === undefined ? options : { ...options, indexUrls: [...new Set([...options.indexUrls, ...lockedIndexUrls(locked.lock)])], findLinks: [] };
  const { http, sources, firstMip } = await openSources({ ...sourceOptions, ...(firmware === undefined ? {} : { firmware }) }, limits, scope);
  const session = await TargetSession.open(dest, { wait: true, operation: "download", reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const archives = new Map<string, { file: string; filename: string; sha256: string }>();
  const archiveDir = path.join(session.staging.dir, "download-archives");
  const context: PrepareContext = {
    ...prepareContext(options, { http, staging: session.staging, limits, scope, firstMip }),
    // Each archive as served, kept in the staging folder until the folder is written.
    onArchive: async (release, archive) => {
      const file = path.join(archiveDir, sha256Hex(release.key));
      await mkdir(archiveDir, { recursive: true });
      await writeFile(file, archive.data);
      archives.set(release.key, { file, filename: archive.filename, sha256: archive.sha256 });
    },
  };
  try {
    // What a lock pins, fetched as the locked install fetches it; or what the requests resolve to.
    const resolved = locked !== undefined
      ? await fetchLocked({ lock: locked.lock, lockFile: locked.file, given: options.indexUrls, context, jobs: options.jobs, reporter })
      : await resolveAndPrepare(options, { sources, scope, context });
    // The same .mpy checks as the install: what would not load on the firmware is not worth keeping.
    if (firmware !== undefined) {
      reporter.progress("Checking .mpy files");
      await fitToFirmware(resolved, { target: firmware }, scope.signal);
    }
    reporter.clearProgress();
    for (const node of resolved) {
      reporter.detail(`${node.name}${node.version === "" ? "" : ` ${node.version}`} from ${node.prepared.origin} (sha256 ${node.prepared.sha256})`);
      for (const warning of node.prepared.warnings) reporter.warn(warning);
    }
    const artifacts = await Promise.all(resolved.map((node) => artifactOf(node, resolved, archives)));
    const written = await writeDownloads(session, artifacts, { flavor, maxMetadataBytes: limits.maxMetadataBytes });
    const packages = resolved.map((node, index): DownloadedPackage => ({
      name: node.name,
      version: node.version,
      source: node.source,
      kind: artifacts[index]!.type,
      url: node.prepared.origin,
      sha256: node.prepared.sha256,
      requestedBy: node.requests.map((request) => requesterInReport(request.requestedBy)),
      files: written.paths[index]!,
    }));
    return { dest, flavor, packages, written: written.written, unchanged: written.unchanged, warnings: reporter.warnings };
  } catch (error) {
    reporter.clearProgress();
    throw asInterrupted(error, options.signal, dest);
  } finally {
    await session.close();
    await http.close();
    scope.dispose();
  }
}

/**
 * The lock `file` read and checked as a locked install checks it: its warnings and skipped packages said,
 * its files on this machine where a lock may name them (lock/local-files.ts), and the firmware it is for.
 * @throws MpipError `usage`, `bad-lock`, `unsafe-path`.
 */
async function openLock(file: string, options: DownloadOptions): Promise<{ file: string; lock: ReadLock; firmware: MpyTarget | undefined }> {
  const { reporter } = options;
  const lock = await readLockFile(file);
  for (const warning of lock.warnings) reporter.warn(warning);
  for (const { name, marker } of lock.skipped) reporter.info(`Skipping \`${printable(name)}\` (\`${printable(file)}\`): its marker \`${printable(marker, 120)}\` does not apply to MicroPython`);
  const firmware = lockedFirmware(lock.build, options.firmware, file);
  await checkLockedPaths(lock, file, localFolders(options.indexUrls, options.cwd));
  return { file, lock, firmware };
}

/**
 * Lays `artifacts` out in the session's folder (download/folder.ts) and commits them, all or none.
 * Returns what was written, what was already there, and each artifact's paths.
 */
export async function writeDownloads(session: TargetSession, artifacts: DownloadedArtifact[], options: { flavor: string; maxMetadataBytes: number }) {
  const plan = await planDownloadFolder(session.target, path.join(session.staging.dir, "download"), artifacts, options);
  if (plan.placements.length > 0) await session.commit(plan.placements);
  return plan;
}

/** What one resolved package is in the folder: its archive as an sdist, or its staged files as a v2 package. */
async function artifactOf(node: ResolvedPackage<Staged>, resolved: Array<ResolvedPackage<Staged>>, archives: Map<string, { file: string; filename: string; sha256: string }>): Promise<DownloadedArtifact> {
  const { artifact } = node;
  if (artifact.type === "dist" || artifact.type === "project") {
    const archive = archives.get(node.key);
    if (archive === undefined) throw new Error(`no archive was kept for ${node.key}`);
    return { type: "sdist", name: node.name, version: node.version, source: node.source, filename: archive.filename, file: archive.file, sha256: archive.sha256 };
  }
  if (artifact.type === "installed") throw new Error(`a download resolved ${node.key} to an installed package`);
  const files = await Promise.all(node.prepared.files.map(async (dest) => {
    const file = path.join(node.prepared.dir, ...dest.split("/"));
    return { dest, file, sha256: sha256Hex(await readFile(file)) };
  }));
  return { type: "mip", name: node.name, version: node.version, source: node.source, files, deps: node.dependencies.map((spec) => dependencyPair(spec, resolved)) };
}

/**
 * A dependency as the folder's v2 index names it (`[name, version]`, "" for the latest): a name with its
 * pinned version as written; a URL or shorthand as the package it resolved to (which the folder holds under
 * that name), pinned to its version when that is one mip can ask for. A direct source left unresolved
 * (`--no-deps`) stays as written.
 */
function dependencyPair(spec: PackageSpec, resolved: Array<ResolvedPackage<Staged>>): [string, string] {
  if (spec.type === "requirement") {
    const pinned = /^===?(.+)$/.exec(spec.requirement.specifier.trim())?.[1];
    return [spec.requirement.name, pinned ?? ""];
  }
  // A resolution keys a direct source by its spec; a lock's packages are keyed by name, with the spec as their source.
  const node = resolved.find((candidate) => candidate.key === spec.direct.key) ?? resolved.find((candidate) => candidate.direct === true && candidate.source === spec.direct.source);
  if (node === undefined) return [spec.direct.source, spec.direct.version ?? ""];
  return [node.name, isPep440Version(node.version) ? node.version : ""];
}
