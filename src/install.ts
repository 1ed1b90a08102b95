// `mpip install`: plan → prepare → install. Resolve the graph while fetching and unpacking each
// release into a staging folder, then commit the staged files into the target all at once.

import path from "node:path";
import { MemoryBudget, memoryCapacity } from "./budget.js";
import { RunScope } from "./cancel.js";
import { HttpClient } from "./http.js";
import type { Reporter } from "./log.js";
import { Pool } from "./pool.js";
import { caseClashWarnings } from "./archive/case-fold.js";
import { DEFAULT_LIMITS, type Limits } from "./limits.js";
import type { Placement } from "./image/commit.js";
import { asInterrupted } from "./image/interrupt.js";
import { TargetSession } from "./image/session.js";
import { checkCompilerFits, loadWasmCompiler, nativeCompiler } from "./mpy/compile.js";
import { mipFlavor, type MpyTarget } from "./mpy/target.js";
import { fitToFirmware, imageMpyWarnings } from "./prepare/firmware.js";
import { prepareRelease, type PrepareContext, type Staged } from "./prepare/index.js";
import { resolve, type Request, type ResolvedPackage } from "./resolve/resolve.js";
import { IndexSource } from "./sources/detect.js";
import { FindLinksSource } from "./sources/find-links.js";
import { gitHostsFromEnv, type GitHosts } from "./sources/git-hosts.js";
import { parseIndexLocation } from "./sources/index-kind.js";
import { allowManyListeners } from "./signals.js";
import type { Source } from "./sources/types.js";
import { retryNote } from "./render.js";
import { quantity } from "./text.js";

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
  /** Compile every staged .py to .mpy (`--compile`): with a native mpy-cross at `mpyCross`, else WebAssembly. */
  compile?: { keepSources: boolean; mpyCross?: string };
  findLinks: string[];
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
  /** Wait for another mpip installing into the same target (default), or fail at once (`--no-wait`). */
  wait?: boolean;
  /**
   * Aborting it stops the install, leaving the target as it was (the CLI aborts it on SIGINT/SIGTERM).
   * Every concurrent request listens on it, so its listener limit is lifted (no MaxListenersExceededWarning).
   */
  signal?: AbortSignal;
  /** Limits against bombs and oversized input (`--max-*` options); each defaults to DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
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
}

export interface InstallReport {
  target: string;
  packages: InstalledPackage[];
  warnings: string[];
}

export async function install(options: InstallOptions): Promise<InstallReport> {
  const { reporter } = options;
  const target = path.resolve(options.target);
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.signal !== undefined) allowManyListeners(options.signal);
  const indexes = options.indexUrls.map(parseIndexLocation);
  // The first failure (or a signal) aborts every request, wait and queued task of the install at once.
  const scope = new RunScope(options.signal);
  const http = new HttpClient({
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.certFile === undefined ? {} : { certFile: options.certFile }),
    log: (message) => reporter.detail(message),
    onRetrying: (key, retrying) => reporter.progressNote(`request ${key}`, retrying === undefined ? undefined : retryNote(retrying)),
    signal: scope.signal,
    trustedHosts: indexes.map((index) => new URL(index.url).hostname),
    // Archives and documents held in memory at once, whatever source they come from (see budget.ts).
    memory: new MemoryBudget(memoryCapacity(limits)),
  });
  const sourceOptions = { flavor: mipFlavor(options.firmware), maxMetadataBytes: limits.maxMetadataBytes, log: (message: string) => reporter.detail(message) };
  const sources: Source[] = [
    ...options.findLinks.map((folder) => new FindLinksSource(folder)),
    ...indexes.map((index) => new IndexSource(index, http, sourceOptions)),
  ];
  const image = await TargetSession.open(options.target, { wait: options.wait ?? true, reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const indexSources = sources.filter((source): source is IndexSource => source instanceof IndexSource);
  // The first index that is a v2 index, in order: asking an index its kind only if no earlier one is one.
  const firstMip = async (): Promise<string | undefined> => {
    for (const source of indexSources) if ((await source.settledKind()) === "mip") return source.url;
    return undefined;
  };
  const context: PrepareContext = {
    http,
    staging: image.staging,
    limits,
    strictWindow: options.strictWindow,
    requireHashes: options.requireHashes ?? false,
    scope,
    signal: scope.signal,
    spec: { hosts: options.hosts ?? gitHostsFromEnv(), cwd: options.cwd ?? process.cwd() },
    fallbackMip: firstMip,
  };
  try {
    // Settled before any download: a native mpy-cross of the wrong version fails at once. Asked only now,
    // with the staging folder there to record it in, so that a kill meanwhile leaves no process behind.
    const compiler = options.compile === undefined ? undefined
      : options.compile.mpyCross !== undefined
        ? await nativeCompiler(options.compile.mpyCross, options.firmware?.major ?? 6, { scratchDir: image.staging.scratchDir, signal: scope.signal })
        : await loadWasmCompiler();
    if (compiler !== undefined) checkCompilerFits(compiler, options.firmware);
    const resolved = await resolve<Staged>(options.requests, {
      sources,
      pool: new Pool(options.jobs, scope.signal),
      scope,
      pre: options.pre,
      noDeps: options.noDeps,
      onProgress: ({ resolved: count, pending }) => reporter.progress(`Resolving: ${quantity(count, "package")} ready, ${pending} in progress`),
      onNotice: (message) => reporter.warn(message),
      prepare: (release) => prepareRelease(release, context),
    });
    if (compiler !== undefined || options.firmware !== undefined) {
      reporter.progress(compiler === undefined ? "Checking .mpy files" : `Compiling with ${compiler.label}`);
      await fitToFirmware(resolved, {
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
    if (options.firmware !== undefined || resolved.some((node) => node.prepared.files.some((file) => file.endsWith(".mpy")))) {
      const warnings = await imageMpyWarnings(resolved, image.target, { ...(options.firmware === undefined ? {} : { target: options.firmware }), compiling: compiler !== undefined });
      for (const warning of warnings) reporter.warn(warning);
    }
    await image.commit(placements(resolved, reporter));
    return { target, packages: resolved.map(describe), warnings: reporter.warnings };
  } catch (error) {
    reporter.clearProgress();
    throw asInterrupted(error, options.signal, target);
  } finally {
    await image.close();
    await http.close();
    scope.dispose();
  }
}

/** Files in plan order; where two packages ship the same path the later one wins, as with upip. */
function placements(resolved: Array<ResolvedPackage<Staged>>, reporter: Reporter): Placement[] {
  const owner = new Map<string, { placement: Placement; name: string }>();
  for (const node of resolved) {
    for (const file of node.prepared.files) {
      const previous = owner.get(file);
      if (previous !== undefined) reporter.warn(`\`${file}\` is in both \`${previous.name}\` and \`${node.name}\`; the copy from \`${node.name}\` is installed`);
      owner.set(file, { placement: { from: path.join(node.prepared.dir, file), to: file }, name: node.name });
    }
  }
  for (const warning of caseClashWarnings(resolved.map((node) => ({ name: node.name, files: node.prepared.files })))) reporter.warn(warning);
  return [...owner.values()].map((entry) => entry.placement);
}

function describe(node: ResolvedPackage<Staged>): InstalledPackage {
  return {
    name: node.name,
    version: node.version,
    source: node.source,
    kind: node.artifact.type,
    url: node.prepared.origin,
    filename: node.prepared.filename,
    sha256: node.prepared.sha256,
    requestedBy: node.requests.map((request) => request.requestedBy),
    smallWindow: node.prepared.smallWindow,
    files: node.prepared.files,
  };
}
