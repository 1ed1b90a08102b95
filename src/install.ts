// `mpip install`: plan → prepare → install. Resolve the graph while fetching and unpacking each
// release into a staging folder, then commit the staged files into the target all at once.

import { lstat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { MemoryBudget, memoryCapacity } from "./budget.js";
import { RunScope } from "./cancel.js";
import { Cache } from "./cache/cache.js";
import { HttpClient } from "./http.js";
import type { Reporter } from "./log.js";
import { Pool } from "./pool.js";
import { caseClashWarnings } from "./archive/case-fold.js";
import { DEFAULT_LIMITS, formatBytes, NAME_MAX, type Limits } from "./limits.js";
import { recordInputFor, type RecordContext } from "./record/provenance.js";
import { recordFiles, RecordsAhead, stageImageChange, type ImageChange } from "./record/stage.js";
import { imageBytesAfter } from "./record/image-size.js";
import { distInfoName, type Provenance, type SourceKind } from "./record/format.js";
import type { Placement } from "./image/commit-plan.js";
import { readRecordsIn, type Distribution } from "./record/read.js";
import { compareVersions, isComparableVersion, satisfiesSpecifier } from "./versions.js";
import { normalizeName } from "./spec/names.js";
import { formatRequirement, parseRequirement, type Requirement } from "./spec/requirement.js";
import { requirementsOf } from "./record/describe.js";
import { asInterrupted } from "./image/interrupt.js";
import { MpipError } from "./errors.js";
import { ioError } from "./image/io-error.js";
import { TargetSession } from "./image/session.js";
import type { Compiler } from "./mpy/compile.js";
import { mipFlavor, type MpyTarget } from "./mpy/target.js";
import { fitToFirmware, imageMpyWarnings } from "./prepare/firmware.js";
import { markerEnvironment } from "./spec/markers.js";
import { DocumentsAhead, prepareRelease, warmRelease, type PrepareContext, type Staged } from "./prepare/index.js";
import { lookRootsAhead, requesterInReport, resolve, type Constraint, type HashMode, type Release, type Request, type ResolvedPackage, type ResolveOptions } from "./resolve/resolve.js";
import type { Lookups } from "./resolve/lookups.js";
import { IndexSource } from "./sources/detect.js";
import { FindLinksSource } from "./sources/find-links.js";
import { gitHostsFromEnv, type GitHosts } from "./sources/git-hosts.js";
import { parseIndexLocation } from "./sources/index-kind.js";
import { allowManyListeners } from "./signals.js";
import type { Source } from "./sources/types.js";
import { retryNote } from "./render.js";
import { printable, quantity } from "./text.js";
import { looksLikeUrl } from "./usage.js";

export { DEFAULT_INDEXES, DEFAULT_JOBS } from "./defaults.js";

export interface InstallOptions {
  target: string;
  requests: Request[];
  /** Index URLs, each optionally with a kind prefix (`mip+`, `pypi+`, `simple+`); see sources/index-kind.ts. */
  indexUrls: string[];
  /** Hosts behind `github:`, `gitlab:` and `codeberg:` (default: from MPIP_*_URL, else the real ones). */
  hosts?: GitHosts;
  /** Where relative paths in specs resolve (default: the current folder). */
  cwd?: string;
  /** The firmware the image is for (`--target-version`, `--mpy`): v2 packages as .mpy, every .mpy checked. */
  firmware?: MpyTarget;
  /**
   * The MicroPython release dependencies' markers see as `implementation_version` (`1.22.0`: from
   * `--target-version` or `--mpy`, commands/install.ts `firmwareRelease`); default 1.27.0.
   */
  implementationVersion?: string;
  /** Compile every staged .py to .mpy (`--compile`): with a native mpy-cross at `mpyCross`, else WebAssembly. */
  compile?: { keepSources: boolean; mpyCross?: string };
  findLinks: string[];
  /** Constraints (`-c`, pip's): they narrow the versions chosen for their names and add no package. */
  constraints?: Constraint[];
  /** pip's hash-checking mode: every package must be pinned with `==` and have `--hash` digests. */
  hashMode?: HashMode;
  noDeps: boolean;
  pre: boolean;
  strictWindow: boolean;
  /** Refuse any remote file that comes with no hash to check (`--require-hashes`); without it, each is warned about. */
  requireHashes?: boolean;
  jobs: number;
  timeoutMs?: number;
  /** Retries for temporary network failures (default 3). */
  retries?: number;
  /** A PEM bundle of extra certificate authorities (`--cert`). */
  certFile?: string;
  /** The download cache's folder (see cache/cache.ts); none (the default) caches nothing (`--no-cache`). */
  cacheDir?: string;
  /** Never use the network (`--offline`): what is not local must come from the cache. */
  offline?: boolean;
  /** Wait for another mpip installing into the same target (default), or fail at once (`--no-wait`). */
  wait?: boolean;
  /**
   * Aborting it stops the install, leaving the target as it was (the CLI aborts it on SIGINT/SIGTERM).
   * Every concurrent request listens on it, so its listener limit is lifted (no MaxListenersExceededWarning).
   */
  signal?: AbortSignal;
  /** Limits against bombs and oversized input (`--max-*` options); each defaults to DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
  /**
   * Packages the target already holds at a version every request accepts (and built the same way) are
   * kept, not fetched again (pip's rule); `upgrade` asks for the newest allowed version of the packages
   * the user named (`-U`), `forceReinstall` reinstalls every package of the resolution.
   */
  upgrade?: boolean;
  forceReinstall?: boolean;
  /** Resolve, fetch, verify and stage everything, say what would change, and change nothing (`--dry-run`). */
  dryRun?: boolean;
  /** Fail, changing nothing, when the image's files would take more than this many bytes (`--max-size`). */
  maxSize?: number;
  /** Write an install record (`NAME-VERSION.dist-info/`) for each package (default); false: `--no-record`. */
  record?: boolean;
  reporter: Reporter;
}

export interface InstalledPackage {
  name: string;
  version: string;
  /** The index or spec it came from. */
  source: string;
  /** What it was installed from: "dist" (an sdist), "package-json" (a mip package), "module", "project". */
  kind: string;
  url: string;
  filename: string;
  sha256: string;
  requestedBy: string[];
  /** Whether a device with a 4 KiB inflate window can unpack the archive. */
  smallWindow: boolean;
  files: string[];
  /** The version it replaced, when the target held it already (by its record). */
  replaced?: string;
  /** The target held it already at a version every request accepts: nothing was fetched or changed. */
  alreadyInstalled?: boolean;
}

export interface InstallReport {
  target: string;
  packages: InstalledPackage[];
  /** Files of replaced versions the install removed from the target. */
  removed: string[];
  /** Recorded packages removed whole, though nothing replaces them (`mpip sync`: the lock does not list them). */
  uninstalled?: Array<{ name: string; version: string }>;
  /** A dry run: nothing was changed; `packages` and `removed` say what would be. */
  dryRun?: boolean;
  warnings: string[];
}

export async function install(options: InstallOptions): Promise<InstallReport> {
  const { reporter } = options;
  const target = path.resolve(options.target);
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.signal !== undefined) allowManyListeners(options.signal);
  // The first failure (or a signal) aborts every request, wait and queued task of the install at once.
  const scope = new RunScope(options.signal);
  const { http, sources, firstMip } = await openSources(options, limits, scope);
  // Into a target that does not exist yet, the roots' look-ups go out first, while the target is opened.
  const early = (await lstat(target).then(() => false, (error: NodeJS.ErrnoException) => error.code === "ENOENT")) ? lookRootsEarly(options, sources, scope) : undefined;
  let image: TargetSession;
  try {
    image = await TargetSession.open(options.target, { wait: options.wait ?? true, operation: "install", reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  } catch (error) {
    early?.lookups.endAll();
    await http.close().catch(() => undefined);
    scope.dispose();
    throw error;
  }
  const context = prepareContext(options, { http, staging: image.staging, limits, scope, firstMip });
  let closingHttp: Promise<void> | undefined;
  let ahead: RecordsAhead | undefined;
  try {
    const compiler = await settleCompiler(options, image, scope);
    const installed = (await readRecordsIn(image.target)).distributions;
    const roots = new Set(options.requests);
    const build = buildOf(options);
    const satisfiedContext: SatisfiedContext = { upgrade: options.upgrade, forceReinstall: options.forceReinstall, roots, build, target: image.target };
    const recordContext: RecordContext = {
      // Asked again each time: a source learns the kind of an index (PyPI JSON, simple, v2) when it first asks it.
      kindOf: (source) => sourceKinds(sources).get(source),
      build,
      requested: (node) => node.requests.some((request) => roots.has(request)),
    };
    ahead = recordsAhead(options, image, compiler);
    const onPrepared = ahead === undefined ? undefined : (node: ResolvedPackage<Staged>) => stageAhead(ahead!, node, installed, recordContext);
    const resolved = await resolveAndPrepare(options, { sources, scope, context, ...(onPrepared === undefined ? {} : { onPrepared }), ...(early === undefined ? {} : { early }), satisfied: (key, requests, chosen) => satisfiedBy(installed, key, requests, satisfiedContext, chosen) });
    // Everything is fetched: the connections close while the records are staged and the commit runs.
    closingHttp = http.close();
    closingHttp.catch(() => {});
    return await commitStaged(resolved, { image, installed, compiler, recordContext, scope, ...(ahead === undefined ? {} : { ahead }) }, options);
  } catch (error) {
    reporter.clearProgress();
    throw asInterrupted(error, options.signal, target);
  } finally {
    await ahead?.settled();
    await closeRun(image, closingHttp ?? http.close(), scope);
  }
}

/**
 * Where a run stages records ahead, while it waits for the network (record/stage.ts RecordsAhead): in the
 * staging folder, unless the run writes no records or compiles (the files change after they are
 * prepared, to .mpy). Shared by plain and locked installs.
 */
export function recordsAhead(options: Pick<InstallOptions, "record">, image: TargetSession, compiler: unknown): RecordsAhead | undefined {
  return options.record === false || compiler !== undefined ? undefined : new RecordsAhead(path.join(image.staging.dir, "records-ahead"));
}

/**
 * Starts staging the record of a package just prepared (`RecordsAhead`), as commitStaged will most
 * likely decide it: owning all its files, requested if the user named it or it replaces a version that
 * was. Not for a package the target already holds.
 */
export function stageAhead(ahead: RecordsAhead, node: ResolvedPackage<Staged>, installed: readonly Distribution[], context: RecordContext): void {
  if (node.prepared.alreadyInstalled === true) return;
  const key = normalizeName(node.name);
  const record = recordInputFor(node, context);
  const requested = record.requested || installed.some((item) => item.key === key && item.requested);
  ahead.start(key, { ...record, requested, files: recordFiles(node.prepared.dir, node.prepared.files, node.prepared.digests) });
}

/**
 * The end of an install's run, whatever became of it: the target's session closes (its staging folder
 * is removed, its lock released) while the connections `closingHttp` close, side by side, since each
 * waits on the system; then the scope goes. Throws the first failure of either close.
 */
export async function closeRun(image: TargetSession, closingHttp: Promise<void>, scope: RunScope): Promise<void> {
  const closed = await Promise.allSettled([image.close(), closingHttp]);
  scope.dispose();
  for (const result of closed) if (result.status === "rejected") throw result.reason;
}

/** The run's pool, and the roots' look-ups started on it before the resolution (resolve.ts lookRootsAhead). */
export interface EarlyRoots {
  pool: Pool;
  lookups: Lookups;
}

/**
 * Starts the roots' look-ups on the run's pool before anything else of the run (resolve.ts
 * lookRootsAhead): for a target that does not exist yet, where nothing installed can satisfy a root.
 * Opening the target (its lock, the overlap scan, the staging folder: several milliseconds of calls on
 * the disk) then overlaps the first round trip instead of coming before it.
 */
function lookRootsEarly(options: Pick<InstallOptions, "requests" | "jobs" | "constraints" | "hashMode">, sources: Source[], scope: RunScope): EarlyRoots {
  const pool = new Pool(options.jobs, scope.signal);
  const lookups = lookRootsAhead(options.requests, {
    sources,
    pool,
    ...(options.constraints === undefined ? {} : { constraints: options.constraints }),
    ...(options.hashMode === undefined ? {} : { hashMode: options.hashMode }),
  });
  return { pool, lookups };
}

/**
 * Resolves `options.requests` from `sources` and prepares (fetches, verifies, stages) each release with
 * `context`, with progress on the reporter: the resolution every command that resolves like install
 * runs (install, lock, download). `satisfied` is install's "already installed" rule (resolve.ts).
 * @throws what resolve and prepareRelease throw.
 */
export function resolveAndPrepare(
  options: Pick<InstallOptions, "requests" | "jobs" | "pre" | "noDeps" | "constraints" | "hashMode" | "reporter">,
  run: { sources: Source[]; scope: RunScope; context: PrepareContext; satisfied?: ResolveOptions<Staged>["satisfied"]; onPrepared?: ResolveOptions<Staged>["onPrepared"]; early?: EarlyRoots },
): Promise<Array<ResolvedPackage<Staged>>> {
  const { reporter } = options;
  const pool = run.early?.pool ?? new Pool(options.jobs, run.scope.signal);
  // A dependency's package document is fetched as soon as the document naming it is read (warmRelease).
  const documentsAhead = new DocumentsAhead((task) => pool.run(task));
  const context: PrepareContext = { ...run.context, documentsAhead };
  return resolve<Staged>(options.requests, {
    ...(run.satisfied === undefined ? {} : { satisfied: run.satisfied }),
    ...(run.onPrepared === undefined ? {} : { onPrepared: run.onPrepared }),
    sources: run.sources,
    pool,
    scope: run.scope,
    pre: options.pre,
    noDeps: options.noDeps,
    ...(options.constraints === undefined ? {} : { constraints: options.constraints }),
    ...(options.hashMode === undefined ? {} : { hashMode: options.hashMode }),
    ...(run.early === undefined ? {} : { lookups: run.early.lookups }),
    onProgress: ({ resolved: count, pending }) => reporter.progress(`Resolving: ${quantity(count, "package")} ready, ${pending} in progress`),
    onNotice: (message) => reporter.warn(message),
    prepare: (release, early) => prepareRelease(release, context, early),
    warm: (release, signal) => warmRelease(release, context, signal),
  }).finally(() => documentsAhead.clear());
}

/**
 * What preparing a release needs (prepare/context.ts), as every command that resolves like install sets
 * it up: its HTTP client, where releases are staged, the limits, `--strict-window`, `--require-hashes`,
 * the run's scope, where specs resolve, and the first v2 index (for package documents' bare hashes).
 */
export function prepareContext(
  options: Pick<InstallOptions, "strictWindow" | "requireHashes" | "hosts" | "cwd" | "implementationVersion">,
  run: { http: HttpClient; staging: PrepareContext["staging"]; limits: Limits; scope: RunScope; firstMip?: () => Promise<string | undefined> },
): PrepareContext {
  return {
    http: run.http,
    staging: run.staging,
    limits: run.limits,
    strictWindow: options.strictWindow,
    requireHashes: options.requireHashes ?? false,
    scope: run.scope,
    signal: run.scope.signal,
    spec: { hosts: options.hosts ?? gitHostsFromEnv(), cwd: options.cwd ?? process.cwd() },
    markers: markerEnvironment(options.implementationVersion),
    ...(run.firstMip === undefined ? {} : { fallbackMip: run.firstMip }),
  };
}

/** What `openSources` needs: where to look, and how to talk to the network. */
export type SourceOptions = Pick<InstallOptions, "indexUrls" | "findLinks" | "firmware" | "cwd" | "timeoutMs" | "retries" | "certFile" | "cacheDir" | "offline" | "reporter">;

/**
 * The HTTP client and the sources (`--find-links` folders, then the indexes in order) that resolve a
 * run's requests, as every command that resolves like install (install, lock) sets them up; `firstMip`
 * is the first index that is a v2 index (asking an index its kind only if no earlier one is one).
 * Files and documents go through the download cache at `cacheDir` (none without it), and never over the
 * network when `offline`. Nothing is fetched until a source is asked. The caller closes `http`.
 */
export async function openSources(options: SourceOptions, limits: Limits, scope: RunScope): Promise<{ http: HttpClient; sources: Source[]; firstMip: () => Promise<string | undefined> }> {
  const { reporter } = options;
  const indexes = options.indexUrls.map((url) => parseIndexLocation(url, options.cwd));
  const cache = options.cacheDir === undefined ? undefined : new Cache(options.cacheDir, { note: (message) => reporter.detail(message), warn: (message) => reporter.warn(message) });
  // Offline, nothing new is ever written: no folder is made for it.
  if (options.offline !== true) await cache?.prepare();
  const http = new HttpClient({
    ...(cache === undefined ? {} : { cache }),
    offline: options.offline ?? false,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.certFile === undefined ? {} : { certFile: options.certFile }),
    log: (message) => reporter.detail(message),
    onRetrying: (key, retrying) => reporter.progressNote(`request ${key}`, retrying === undefined ? undefined : retryNote(retrying)),
    signal: scope.signal,
    trustedHosts: indexes.filter((index) => index.folder === undefined).map((index) => new URL(index.url).hostname),
    // Archives and documents held in memory at once, whatever source they come from (see budget.ts).
    memory: new MemoryBudget(memoryCapacity(limits)),
  });
  const sourceOptions = { flavor: mipFlavor(options.firmware), maxMetadataBytes: limits.maxMetadataBytes, log: (message: string) => reporter.detail(message) };
  const sources: Source[] = [
    // Named by its absolute path, as a local index is by its `file:` URL: the records and a lock then name
    // the folder, not a path that meant something only where the command was run.
    ...options.findLinks.map((folder) => new FindLinksSource(path.resolve(options.cwd ?? process.cwd(), folder))),
    ...indexes.map((index) => new IndexSource(index, http, sourceOptions)),
  ];
  const indexSources = sources.filter((source): source is IndexSource => source instanceof IndexSource);
  const firstMip = async (): Promise<string | undefined> => {
    for (const source of indexSources) if ((await source.settledKind()) === "mip") return source.url;
    return undefined;
  };
  return { http, sources, firstMip };
}

/**
 * The compiler `--compile` asks for, settled before any download: a native mpy-cross of the wrong version
 * fails at once. Asked only once the staging folder is there to record it in, so that a kill meanwhile
 * leaves no process behind. Undefined without `--compile`.
 */
export async function settleCompiler(options: Pick<InstallOptions, "compile" | "firmware">, image: TargetSession, scope: RunScope): Promise<Compiler | undefined> {
  if (options.compile === undefined) return undefined;
  // The compiler's modules (the WebAssembly mpy-cross's worker pool among them) load only for --compile.
  const { checkCompilerFits, loadWasmCompiler, nativeCompiler } = await import("./mpy/compile.js");
  const compiler = options.compile.mpyCross !== undefined
      ? await nativeCompiler(options.compile.mpyCross, options.firmware?.major ?? 6, { scratchDir: image.staging.scratchDir, signal: scope.signal })
      : await loadWasmCompiler();
  checkCompilerFits(compiler, options.firmware);
  return compiler;
}

/** How an install builds its files, as records (`mpip.json`'s `build`) and locks state it. */
export function buildOf(options: Pick<InstallOptions, "compile" | "firmware">): Provenance["build"] {
  return { compile: options.compile === undefined ? "no" : options.compile.keepSources ? "mpy+sources" : "mpy", mpy: options.firmware === undefined ? null : options.firmware.label };
}

/** The run an install's packages were staged in, for `commitStaged`. */
export interface StagedRun {
  image: TargetSession;
  /** The distributions the target recorded before the run. */
  installed: readonly Distribution[];
  compiler: Compiler | undefined;
  recordContext: RecordContext;
  scope: RunScope;
  /** Recorded distributions (by key) to remove in the same commit, though no incoming package replaces them (`mpip sync`). */
  removing?: ReadonlySet<string>;
  /** Records staged while the packages were prepared: taken where they were staged from the input decided. */
  ahead?: RecordsAhead;
}

/**
 * The end of every install, once its packages are staged (`resolved`, in plan order; those the target
 * already holds marked `alreadyInstalled`): fit them to the firmware (compile, check .mpy files), say
 * where each came from and what it warned of, stage the records, check `--max-size`, and commit (unless
 * a dry run). Returns the report.
 * @throws MpipError `mpy-incompatible`, `compile-failed`, `limit-exceeded`, `io`, and what the commit throws.
 */
export async function commitStaged(resolved: Array<ResolvedPackage<Staged>>, run: StagedRun, options: Pick<InstallOptions, "firmware" | "compile" | "jobs" | "record" | "maxSize" | "dryRun" | "reporter" | "limits">): Promise<InstallReport> {
  const { reporter } = options;
  const { image, installed, compiler, scope } = run;
  const target = image.target;
  const fresh = resolved.filter((node) => node.prepared.alreadyInstalled !== true);
  if (compiler !== undefined || options.firmware !== undefined) {
    reporter.progress(compiler === undefined ? "Checking .mpy files" : `Compiling with ${compiler.label}`);
    await fitToFirmware(fresh, {
      ...(options.firmware === undefined ? {} : { target: options.firmware }),
      ...(compiler === undefined ? {} : { compile: { compiler, keepSources: options.compile?.keepSources ?? false, jobs: options.jobs, scratchDir: image.staging.scratchDir } }),
    }, scope.signal);
  }
  reporter.clearProgress();
  for (const node of resolved) {
    reporter.detail(`${node.name}${node.version === "" ? "" : ` ${node.version}`} from ${node.prepared.origin} (sha256 ${node.prepared.sha256})`);
    for (const warning of node.prepared.warnings) reporter.warn(warning);
  }
  // Only installs that bring .mpy files, or name the firmware, look at the target's own .mpy files.
  if (options.firmware !== undefined || fresh.some((node) => node.prepared.files.some((file) => file.endsWith(".mpy")))) {
    const warnings = await imageMpyWarnings(fresh, image.target, { ...(options.firmware === undefined ? {} : { target: options.firmware }), compiling: compiler !== undefined });
    for (const warning of warnings) reporter.warn(warning);
  }
  warnSharedFiles(fresh, reporter);
  warnBrokenDependents(installed, fresh, run.removing, options.dryRun === true, reporter);
  const incoming = fresh.map((node) => ({
    key: normalizeName(node.name),
    name: node.name,
    version: node.version,
    dir: node.prepared.dir,
    files: node.prepared.files,
    // What unpacking hashed holds until the image is compiled, which changes the files.
    ...(compiler === undefined && node.prepared.digests !== undefined ? { digests: node.prepared.digests } : {}),
    ...(options.record === false ? {} : { record: recordInputFor(node, run.recordContext) }),
  }));
  const change = await stageImageChange(image.target, installed, incoming, path.join(image.staging.dir, "records"), run.removing, run.ahead).catch((error: unknown) => {
    if (error instanceof MpipError) throw error;
    throw ioError(`cannot write the install records into the staging folder \`${image.staging.dir}\`; nothing was changed in \`${target}\``, error, `check that \`${image.layout.home}\` is writable`);
  });
  for (const warning of change.warnings) reporter.warn(warning);
  warnLeftBehind(change, options.dryRun === true, reporter);
  refuseLongRecordPaths(incoming, change.placements, options.limits?.maxPathLength ?? DEFAULT_LIMITS.maxPathLength, target);
  if (options.maxSize !== undefined) {
    const size = await imageBytesAfter(image.target, change.placements, change.removals);
    if (size > options.maxSize) {
      throw new MpipError("limit-exceeded", `the image would hold ${formatBytes(size)} (${quantity(size, "byte")}) of files, more than --max-size ${formatBytes(options.maxSize)}; nothing was changed in \`${target}\``, {
        hint: "leave packages out, install with --compile (bytecode is smaller than source), or raise --max-size; `mpip list --size -p DIR` shows what each package takes",
      });
    }
  }
  // A dry run decides the commit too, so that it fails where the install would (a file in the way).
  // What is reported removed is what the commit takes out: not a recorded path already gone or a folder.
  const taken = options.dryRun === true ? await image.checkCommit(change.placements, change.removals, change.owners) : await image.commit(change.placements, change.removals, change.owners);
  const packages = resolved.map((node) => describe(node, replacedVersions(change.replaced.get(normalizeName(node.name)))));
  const written = new Set(change.placements.map((placement) => placement.to));
  const removed = taken.filter((file) => !written.has(file)).sort();
  const uninstalled = installed.filter((item) => run.removing?.has(item.key) === true).map((item) => ({ name: item.name, version: item.version }));
  return { target, packages, removed, ...(uninstalled.length === 0 ? {} : { uninstalled }), ...(options.dryRun === true ? { dryRun: true } : {}), warnings: reporter.warnings };
}

/**
 * Says what an upgrade or a sync leaves of the versions it replaces or removes, as `mpip uninstall` says
 * it: each file changed since it was installed that nothing ships again (kept, and in no record from now
 * on), and each package whose RECORD tells nothing of its files (its record goes, its files stay where
 * nothing replaces them). The install goes ahead: installing over such a package is how a user recovers it.
 */
function warnLeftBehind(change: Pick<ImageChange, "changedKept" | "recordless">, dryRun: boolean, reporter: Reporter): void {
  const label = (item: { name: string; version: string }) => `\`${printable(item.name)}${item.version === "" ? "" : ` ${printable(item.version, 80)}`}\``;
  for (const { file, distribution, by } of change.changedKept) {
    const why = by === undefined ? `${label(distribution)} is removed` : `${label(by)} does not ship it`;
    reporter.warn(dryRun
      ? `\`${printable(file)}\` of ${label(distribution)} was changed since it was installed, and ${why}; it would be kept, in no record (remove it by hand if it is not wanted)`
      : `\`${printable(file)}\` of ${label(distribution)} was changed since it was installed, and ${why}; kept, and in no record from now on (remove it by hand if it is not wanted)`);
  }
  for (const { distribution, by } of change.recordless) {
    const what = `the RECORD of ${label(distribution)} (\`${printable(distribution.distInfo)}/RECORD\`) is missing, unreadable or lists nothing mpip accepts, so mpip cannot tell which files were its`;
    const fate = by === undefined
      ? `its record ${dryRun ? "would be" : "is"} removed, and its files stay, in no record`
      : `its record ${dryRun ? "would be" : "is"} replaced by that of ${label(by)}, and its old files stay, in no record, where ${label(by)} does not replace them`;
    reporter.warn(`${what}: ${fate} (remove them by hand if they are not wanted)`);
  }
}

/**
 * Refuses an install whose records' paths (`NAME-VERSION.dist-info/...`) are longer than `maxPathLength`
 * UTF-8 bytes (--max-path-length), as a package's own files are refused when they are staged: the record
 * is copied to the device with the rest, and a folder name of more than 255 bytes no filesystem takes
 * (found only when the commit made it, the install stopped half-way). The name and version that make
 * it come from an index, or from a file or folder's name (spec/package-spec.ts `nameFromFile`).
 * @throws MpipError `limit-exceeded`, before anything is changed.
 */
function refuseLongRecordPaths(incoming: ReadonlyArray<{ name: string; version: string; record?: unknown }>, placements: readonly Placement[], maxPathLength: number, target: string): void {
  for (const { name, version, record } of incoming) {
    if (record === undefined) continue;
    const folder = `${distInfoName(name, version)}/`;
    const folderBytes = Buffer.byteLength(folder) - 1;
    if (folderBytes > NAME_MAX) {
      throw new MpipError("limit-exceeded", `refused to install \`${printable(name, 80)}\` ${printable(version, 80)}: the folder of its install record, \`${printable(folder.slice(0, -1), 120)}\`, would have a name ${folderBytes} bytes long, more than the ${NAME_MAX} a file or folder name can have; nothing was changed in \`${target}\``, {
        hint: "the record's folder is named by the package's name and version, and no target takes a longer name: a shorter version, or for a package named by its file or folder a shorter name, makes it fit; or install it with --no-record",
      });
    }
    const longest = placements.filter((placement) => placement.to.startsWith(folder)).reduce((at, placement) => Math.max(at, Buffer.byteLength(placement.to)), 0);
    if (longest <= maxPathLength) continue;
    throw new MpipError("limit-exceeded", `refused to install \`${printable(name, 80)}\` ${printable(version, 80)}: the paths of its install record (in \`${printable(folder.slice(0, -1), 120)}\`) would be up to ${longest} bytes long, more than the limit of ${maxPathLength}; nothing was changed in \`${target}\``, {
      hint: "the record's folder is named by the package's name and version: a shorter version, or for a package named by its file or folder a shorter name, makes it fit. Device filesystems (FAT, littlefs) take paths of at most 255 bytes; if your target takes longer paths, raise the limit with --max-path-length",
    });
  }
}

/**
 * Warns of each package the target keeps whose requirements (its record's Requires-Dist that hold on
 * MicroPython) the change breaks, as pip does: a version installed now that its specifier excludes
 * (`mpip install 'fmt==0.9'` under `app`, which requires `fmt>=1.0`; with --no-deps, or asked by name), or
 * a package `mpip sync` removes. The install goes ahead: the user asked for exactly this.
 */
function warnBrokenDependents(installed: readonly Distribution[], fresh: ReadonlyArray<ResolvedPackage<Staged>>, removing: ReadonlySet<string> | undefined, dryRun: boolean, reporter: Reporter): void {
  const arriving = new Map(fresh.map((node) => [normalizeName(node.name), node]));
  for (const kept of installed) {
    if (arriving.has(kept.key) || removing?.has(kept.key) === true) continue;
    for (const requirement of requirementsOf(kept).requirements) {
      const key = normalizeName(requirement.name);
      const node = arriving.get(key);
      const who = `\`${printable(kept.name)}${kept.version === "" ? "" : ` ${printable(kept.version, 80)}`}\`, which stays,`;
      if (node !== undefined && node.version !== "" && requirement.specifier !== "" && isComparableVersion(node.version) && !satisfiesSpecifier(node.version, requirement.specifier, { prereleases: true })) {
        reporter.warn(`${who} requires \`${printable(requirement.text, 120)}\`, but \`${printable(node.name)}\` ${printable(node.version, 80)} ${dryRun ? "would be installed" : "is installed now"}`);
      } else if (node === undefined && removing?.has(key) === true) {
        reporter.warn(`${who} requires \`${printable(requirement.text, 120)}\`, which ${dryRun ? "would be removed" : "is removed"}`);
      }
    }
  }
}

/** Where two packages ship the same path the later one (in plan order) wins, as with upip: said. */
function warnSharedFiles(resolved: Array<ResolvedPackage<Staged>>, reporter: Reporter): void {
  const owner = new Map<string, string>();
  for (const node of resolved) {
    for (const file of node.prepared.files) {
      const previous = owner.get(file);
      if (previous !== undefined) reporter.warn(`\`${file}\` is in both \`${previous}\` and \`${node.name}\`; the copy from \`${node.name}\` is installed`);
      owner.set(file, node.name);
    }
  }
  for (const warning of caseClashWarnings(resolved.map((node) => ({ name: node.name, files: node.prepared.files })))) reporter.warn(warning);
}

/** The version(s) an install replaced, as the report gives them: `1.0`, or `1.0, 2.0` for a name recorded twice. */
function replacedVersions(records: readonly Distribution[] | undefined): string | undefined {
  if (records === undefined || records.length === 0) return undefined;
  return [...new Set(records.map((record) => record.version))].join(", ");
}

/** What `satisfiedBy` needs of the run, made once per run (it is asked for every name the resolution meets). */
interface SatisfiedContext {
  upgrade?: boolean | undefined;
  forceReinstall?: boolean | undefined;
  roots: Set<Request>;
  build: Provenance["build"];
  target: string;
}

/**
 * pip's rule: a request by name is satisfied by what the target holds when its version is accepted by
 * every request for it, unless `forceReinstall`, or `upgrade` and the user named it and the version
 * `chosen` from the indexes is newer: an up-to-date package is not fetched again, and one newer than any
 * the indexes offer, or than none (`chosen` null: installed from a URL, a file, or an index not asked
 * now), is kept, not downgraded, as pip's resolver ranks the installed version among the indexes' and
 * takes the highest. mpip adds: and it
 * was built the same way (`--compile`, `--keep-sources`, the .mpy version), so that installing again
 * with `--compile` compiles it; and it is recorded once: a name recorded several times (read.ts
 * `duplicates`) is installed again, which replaces every record of it.
 */
function satisfiedBy(installed: readonly Distribution[], key: string, requests: Request[], context: SatisfiedContext, chosen: Release | null | undefined): Release | undefined {
  if (context.forceReinstall === true) return undefined;
  const upgrading = context.upgrade === true && requests.some((request) => context.roots.has(request));
  if (upgrading && chosen === undefined) return undefined;
  const records = installed.filter((item) => item.key === key);
  if (records.length !== 1) return undefined;
  const distribution = records[0]!;
  if (!isComparableVersion(distribution.version)) return undefined;
  if (upgrading && chosen !== null && !(isComparableVersion(chosen!.version) && compareVersions(distribution.version, chosen!.version) >= 0)) return undefined;
  if (!requests.every((request) => satisfiesSpecifier(distribution.version, request.requirement.specifier, { prereleases: true }))) return undefined;
  if (!builtAlike(distribution, context)) return undefined;
  return {
    key,
    name: distribution.name,
    version: distribution.version,
    source: context.target,
    artifact: { type: "installed", distInfo: distribution.distInfo, requiresDist: settledRequiresDist(distribution.requiresDist, installed, context) },
  };
}

/** Whether `distribution` was built as this run builds (`--compile`, the .mpy version). */
function builtAlike(distribution: Distribution, context: SatisfiedContext): boolean {
  const built = distribution.origin?.build ?? { compile: "no", mpy: null };
  return built.compile === context.build.compile && (built.mpy ?? null) === context.build.mpy;
}

/**
 * The recorded Requires-Dist of a package the target keeps, as the walk follows them. A dependency by URL
 * (`leaf @ https://host/leaf-9.0.tar.gz`, as provenance.ts records one) that the target holds from that
 * same URL (its direct_url.json; with the sha256 the line pins, if it pins one), and keeps as satisfiedBy
 * keeps a package, stands as its name alone, so that the copy installed answers it: fetched again at
 * every install, it would never settle, and the record's URL has its credentials written `***`. One the
 * target does not hold so is fetched again, from the URL without the `***` login (which is no login), so
 * that a server that wants one says so.
 */
function settledRequiresDist(lines: readonly string[], installed: readonly Distribution[], context: SatisfiedContext): string[] {
  return lines.map((line) => {
    let requirement: Requirement;
    try {
      requirement = parseRequirement(line);
    } catch {
      return line;
    }
    if (requirement.url === undefined) return line;
    const [url, fragment] = splitFragment(requirement.url);
    const pinned = /^sha256=([0-9a-f]{64})$/i.exec(fragment ?? "")?.[1]?.toLowerCase();
    // Held as satisfiedBy keeps a package: recorded once, with a version, built as this run builds.
    const records = installed.filter((item) => item.key === normalizeName(requirement.name));
    const held = records.length === 1 && records[0]!.directUrl?.url === url && isComparableVersion(records[0]!.version) && builtAlike(records[0]!, context) ? records[0] : undefined;
    const heldHash = held?.directUrl?.info.type === "archive" ? held.directUrl.info.hashes.sha256?.toLowerCase() : undefined;
    if (held !== undefined && (pinned === undefined || heldHash === pinned)) return formatRequirement({ ...requirement, url: undefined, specifier: "" });
    return url.includes("//***@") ? formatRequirement({ ...requirement, url: requirement.url.replace("//***@", "//") }) : line;
  });
}

function splitFragment(url: string): [string, string | undefined] {
  const at = url.indexOf("#");
  return at < 0 ? [url, undefined] : [url.slice(0, at), url.slice(at + 1)];
}

/** The kind of each source by its label: what `mpip.json` says a package was chosen from. */
export function sourceKinds(sources: Source[]): Map<string, SourceKind> {
  const kinds = new Map<string, SourceKind>();
  for (const source of sources) {
    if (source instanceof FindLinksSource) kinds.set(source.label, "find-links");
    else if (source instanceof IndexSource) for (const [label, kind] of source.kinds()) kinds.set(label, kind);
  }
  return kinds;
}

/**
 * Where a package came from, as `--json` gives it: a URL as fetched, and a file on this machine (given by
 * an absolute path or one relative to the current folder, as a `-f` folder's files are) as a `file:` URL,
 * as `list --json` and a record's direct_url.json (PEP 610) give it. A package the target already held
 * keeps its `.dist-info` name.
 */
function reportedUrl(node: ResolvedPackage<Staged>): string {
  const { origin } = node.prepared;
  if (node.prepared.alreadyInstalled === true || looksLikeUrl(origin)) return origin;
  return pathToFileURL(path.resolve(origin)).href;
}

function describe(node: ResolvedPackage<Staged>, replaced: string | undefined): InstalledPackage {
  return {
    name: node.name,
    version: node.version,
    source: node.source,
    kind: node.artifact.type,
    url: reportedUrl(node),
    filename: node.prepared.filename,
    sha256: node.prepared.sha256,
    requestedBy: node.requests.map((request) => requesterInReport(request.requestedBy)),
    smallWindow: node.prepared.smallWindow,
    files: node.prepared.files,
    ...(replaced === undefined ? {} : { replaced }),
    ...(node.prepared.alreadyInstalled === true ? { alreadyInstalled: true } : {}),
  };
}
