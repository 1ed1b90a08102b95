// `mpip install --lock pylock.toml` and `mpip sync`: install exactly what a lock says, with no
// resolution and no index metadata: every file the lock pins is fetched in one parallel round (up to
// --jobs at once, fetch-locked.ts) and checked against its full sha256; then the image is fitted to the
// firmware, the records staged and everything committed at once, by the same code as a plain install (install.ts
// `commitStaged`). Any mismatch, missing file, a lock for another firmware or a malformed lock stops it
// with nothing changed in the target. Files on this machine are read only where a lock may name them
// (local-files.ts).
//
// `sync` (uv's `pip sync`) also removes the recorded packages the lock does not list, in the same
// commit; `install --lock` (uv's `pip install -r`) keeps them. A package the target already records at
// the locked version, from the same file (its record's sha256), built the same way, is kept as it is
// (pip's "already satisfied"), unless --force-reinstall.

import path from "node:path";
import { RunScope } from "../cancel.js";
import { buildOf, closeRun, commitStaged, openSources, prepareContext, recordsAhead, settleCompiler, stageAhead, type InstallOptions, type InstallReport } from "../install.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import type { Staged } from "../prepare/index.js";
import type { Provenance, SourceKind } from "../record/format.js";
import type { RecordContext } from "../record/provenance.js";
import { readRecordsIn, type Distribution } from "../record/read.js";
import type { RecordsAhead } from "../record/stage.js";
import type { Prepared, Release, ResolvedPackage } from "../resolve/resolve.js";
import { TargetSession } from "../image/session.js";
import { asInterrupted } from "../image/interrupt.js";
import { allowManyListeners } from "../signals.js";
import { normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { normalizeVersion } from "../versions.js";
import { checkLockBuild, lockBuildOf } from "./build.js";
import { fetchLocked, lockedIndexUrls, readLockFile } from "./fetch-locked.js";
import type { LockedPackage } from "./format.js";
import { checkLockedPaths, localFolders } from "./local-files.js";

export interface LockedInstallOptions extends Pick<InstallOptions,
  "target" | "firmware" | "compile" | "jobs" | "timeoutMs" | "retries" | "certFile" | "cacheDir" | "offline" | "wait" | "signal" | "limits" | "forceReinstall" | "dryRun" | "maxSize" | "record" | "strictWindow" | "hosts" | "cwd" | "reporter"> {
  /** The `pylock.toml` to install. */
  lockFile: string;
  /** `mpip sync`: remove the recorded packages the lock does not list (in the same commit). */
  remove: boolean;
  /**
   * Index URLs given on the command line (`-i`): not asked anything, but credentials they carry are sent
   * with the lock's URLs of the same origin, as they would be in a plain install (a lock holds none), and
   * a local folder among them may hold files the lock names (see local-files.ts).
   */
  indexUrls?: string[];
}

/**
 * Installs what `options.lockFile` pins into `options.target`.
 * @throws MpipError `bad-lock` (malformed, unsupported version or packages: see read.ts), `usage` (a lock
 *   for another firmware or build), `unsafe-path` (a local file outside where a lock may name one),
 *   `offline` (every file the cache lacks, with --offline), `digest-mismatch`, `not-found`, and whatever
 *   an install throws.
 */
export async function installLocked(options: LockedInstallOptions): Promise<InstallReport> {
  const { reporter } = options;
  const lock = await readLockFile(options.lockFile);
  for (const warning of lock.warnings) reporter.warn(warning);
  for (const { name, marker } of lock.skipped) reporter.info(`Skipping \`${printable(name)}\` (\`${printable(options.lockFile)}\`): its marker \`${printable(marker, 120)}\` does not apply to MicroPython`);
  checkLockBuild(lock.build, lockBuildOf(options.firmware, options.compile), options.lockFile);
  const given = options.indexUrls ?? [];
  await checkLockedPaths(lock, options.lockFile, localFolders(given, options.cwd));
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.signal !== undefined) allowManyListeners(options.signal);
  const scope = new RunScope(options.signal);
  // No source is asked: the client only downloads, with netrc's `default` login for the lock's index hosts.
  const { http } = await openSources({ indexUrls: [...new Set([...given, ...lockedIndexUrls(lock)])], findLinks: [], reporter, ...pick(options, "firmware", "timeoutMs", "retries", "certFile", "cacheDir", "offline") }, limits, scope);
  const target = path.resolve(options.target);
  const image = await TargetSession.open(options.target, { wait: options.wait ?? true, operation: options.remove ? "sync" : "install", reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const context = prepareContext(options, { http, staging: image.staging, limits, scope });
  let ahead: RecordsAhead | undefined;
  try {
    const compiler = await settleCompiler(options, image, scope);
    const installed = (await readRecordsIn(image.target)).distributions;
    const build = buildOf(options);
    const keep = options.forceReinstall === true ? undefined : (item: LockedPackage, release: Release) => keptAsInstalled(installed, item, release, build);
    // What each record says of its package's index and request, learnt as the package is fetched.
    const kinds = new Map<string, SourceKind>();
    const requested = new Map<ResolvedPackage<Staged>, boolean>();
    const learn = (node: ResolvedPackage<Staged>, at: number) => {
      const item = lock.packages[at]!;
      if (item.origin.type === "index") kinds.set(node.source, item.origin.kind);
      requested.set(node, item.requested);
    };
    const recordContext: RecordContext = { kindOf: (source) => kinds.get(source), build, requested: (node) => requested.get(node) === true };
    // Records are staged while other packages are still read and unpacked, as a plain install stages them
    // while it waits for the network (install.ts).
    ahead = recordsAhead(options, image, compiler);
    const onPrepared = (node: ResolvedPackage<Staged>, at: number) => {
      learn(node, at);
      if (ahead !== undefined) stageAhead(ahead, node, installed, recordContext);
    };
    const nodes = await fetchLocked({ lock, lockFile: options.lockFile, given, context, jobs: options.jobs, reporter, onPrepared, ...(keep === undefined ? {} : { keep }) });
    // Learnt again in the lock's order, whatever order the packages came in: where a lock gives one index
    // two kinds, the last one listed is the one recorded (a record staged ahead with the other is staged again).
    kinds.clear();
    nodes.forEach(learn);
    const listed = new Set(lock.packages.map((item) => normalizeName(item.name)));
    const removing = options.remove ? new Set(installed.filter((item) => !listed.has(item.key)).map((item) => item.key)) : undefined;
    return await commitStaged(nodes, { image, installed, compiler, recordContext, scope, ...(ahead === undefined ? {} : { ahead }), ...(removing === undefined ? {} : { removing }) }, options);
  } catch (error) {
    reporter.clearProgress();
    throw asInterrupted(error, options.signal, target);
  } finally {
    await ahead?.settled();
    await closeRun(image, http.close(), scope);
  }
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

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) picked[key] = value[key];
  return picked;
}
