// `mpip install`: from parsed flags to an install and its report. cli.ts declares the options and loads
// this module only when the command runs.

import path from "node:path";
import { cacheDir } from "../cache-dir.js";
import { MpipError } from "../errors.js";
import { DEFAULT_INDEXES, defaultTarget } from "../defaults.js";
import { install } from "../install.js";
import type { Limits } from "../limits.js";
import { Reporter, type Verbosity } from "../log.js";
import { jsonReport, renderSummary } from "../render.js";
import { requestFor, type Request } from "../resolve/resolve.js";
import { parsePackageSpec, type PackageSpec, type SpecContext } from "../spec/package-spec.js";
import { gitHostsFromEnv } from "../sources/git-hosts.js";
import { parseIndexLocation } from "../sources/index-kind.js";
import { targetFromMpy, targetFromVersion, type MpyTarget } from "../mpy/target.js";
import { evaluateMarker } from "../spec/markers.js";
import { readRequirementsFile } from "../spec/requirements-file.js";
import { catchSignals } from "../signals.js";
import { checkTypedPaths, EXIT_OK, refuseUrls, reportFailure } from "../usage.js";
import { checkRedirectedVersion, checkShellSplit, stdoutFilePath } from "../spec/shell-split.js";
import { checkCompilerFits, wasmCompiler } from "../mpy/compile.js";

export { defaultTarget } from "../defaults.js";

export interface InstallFlags {
  target?: string;
  requirement: string[];
  indexUrl?: string[];
  extraIndexUrl: string[];
  findLinks: string[];
  index: boolean;
  deps: boolean;
  pre: boolean;
  strictWindow: boolean;
  requireHashes: boolean;
  jobs: number;
  timeout?: number;
  retries?: number;
  cert?: string;
  cacheDir?: string;
  /** False with --no-cache. */
  cache: boolean;
  offline: boolean;
  quiet: boolean;
  verbose: boolean;
  debug: boolean;
  json: boolean;
  wait: boolean;
  record: boolean;
  dryRun: boolean;
  maxSize?: number;
  upgrade: boolean;
  forceReinstall: boolean;
  maxUnpackedBytes?: number;
  maxEntries?: number;
  maxRatio?: number;
  maxMetadataBytes?: number;
  maxPathLength?: number;
  targetVersion?: string;
  mpy?: string;
  arch?: string;
  compile: boolean;
  keepSources: boolean;
  mpyCross?: string;
}

const LIMIT_FLAGS = ["maxUnpackedBytes", "maxEntries", "maxRatio", "maxMetadataBytes", "maxPathLength"] as const;

function limitsFrom(flags: InstallFlags): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const key of LIMIT_FLAGS) if (flags[key] !== undefined) limits[key] = flags[key];
  return limits;
}

export async function installCommand(specs: string[], flags: InstallFlags): Promise<number> {
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  const started = performance.now();
  const signals = catchSignals((message) => reporter.write(message));
  // Until the install starts, a malformed spec is the command line's (or a -r file's) fault: see exitCodeFor.
  let typed = true;
  try {
    checkOptionClashes(flags);
    if (flags.target !== undefined) await refuseUrls([flags.target], "folder", "given with --target");
    const requests = await gatherRequests(specs, flags.requirement, reporter);
    if (requests.length === 0) {
      throw new MpipError("usage", "no packages to install", { hint: "name packages (`mpip install NAME`) or a requirements file (`-r FILE`)" });
    }
    const indexUrls = flags.index ? [...(flags.indexUrl ?? DEFAULT_INDEXES), ...flags.extraIndexUrl].map(checkIndexUrl) : [];
    if (indexUrls.length === 0 && flags.findLinks.length === 0 && requests.some((request) => request.direct === undefined)) {
      throw new MpipError("usage", "--no-index leaves no place to find packages", { hint: "add a folder of sdists with `-f DIR`" });
    }
    await checkTypedPaths(flags.findLinks, "folder", "given with --find-links");
    if (flags.cert !== undefined) {
      await checkTypedPaths([flags.cert], "file", "given with --cert");
      // Read now, whether or not this install turns out to use the network: a bad --cert is bad usage.
      const { parsePemBundle } = await import("../http/tls.js");
      const { readFile } = await import("node:fs/promises");
      parsePemBundle(await readFile(flags.cert, "utf8"), flags.cert);
    }
    if (flags.mpyCross !== undefined) await checkTypedPaths([flags.mpyCross], "file", "given with --mpy-cross");
    if (flags.cacheDir !== undefined) await refuseUrls([flags.cacheDir], "folder", "given with --cache-dir");
    const firmware = firmwareTarget(flags);
    if ((flags.keepSources || flags.mpyCross !== undefined) && !flags.compile) {
      throw new MpipError("usage", `${flags.keepSources ? "--keep-sources" : "--mpy-cross"} has an effect only with --compile`, { hint: "add --compile" });
    }
    if (flags.compile && flags.mpyCross === undefined && firmware !== undefined) checkBuiltInCompilerFits(firmware, flags);
    typed = false;
    const report = await install({
      ...(firmware === undefined ? {} : { firmware }),
      ...(flags.compile ? { compile: { keepSources: flags.keepSources, ...(flags.mpyCross === undefined ? {} : { mpyCross: flags.mpyCross }) } } : {}),
      target: flags.target ?? defaultTarget(process.env),
      requests,
      indexUrls,
      findLinks: flags.findLinks,
      noDeps: !flags.deps,
      pre: flags.pre,
      strictWindow: flags.strictWindow,
      requireHashes: flags.requireHashes,
      jobs: flags.jobs,
      ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout * 1000 }),
      ...(flags.retries === undefined ? {} : { retries: flags.retries }),
      ...(flags.cert === undefined ? {} : { certFile: flags.cert }),
      ...cacheOptions(flags),
      wait: flags.wait,
      record: flags.record,
      dryRun: flags.dryRun,
      ...(flags.maxSize === undefined ? {} : { maxSize: flags.maxSize }),
      upgrade: flags.upgrade,
      forceReinstall: flags.forceReinstall,
      signal: signals.signal,
      limits: limitsFrom(flags),
      reporter,
    });
    if (flags.json) process.stdout.write(`${jsonReport(report)}\n`);
    reporter.info(...renderSummary(report, (performance.now() - started) / 1000));
    return EXIT_OK;
  } catch (error) {
    const code = reportFailure(error, reporter, { json: flags.json, debug: flags.debug, typed });
    return signals.exitCode ?? code;
  } finally {
    signals.dispose();
  }
}

/**
 * Options that cannot all be obeyed, known from the command line alone: a usage error (exit 2) before any
 * work, not a failure halfway. (`--target-version` with `--mpy`, and options that need another, are
 * checked where their values are read.)
 * @throws MpipError `usage`.
 */
function checkOptionClashes(flags: InstallFlags): void {
  if (flags.quiet && flags.verbose) throw new MpipError("usage", "give -q (--quiet) or -v (--verbose), not both", { hint: "-q prints only warnings and errors; -v adds where each package came from" });
  // `--no-index` with `-i` is no clash: as in pip, --no-index wins and the index options are ignored.
}

/**
 * `--compile` with the built-in mpy-cross (MicroPython 1.19's, .mpy 6) for a firmware that loads another
 * .mpy version (`--mpy 5`, `--target-version 1.18`): the options contradict each other.
 * @throws MpipError `usage`, with the hint that names the way out (a native mpy-cross of that version).
 */
function checkBuiltInCompilerFits(firmware: MpyTarget, flags: InstallFlags): void {
  try {
    checkCompilerFits(wasmCompiler(), firmware);
  } catch (error) {
    if (!(error instanceof MpipError)) throw error;
    const given = flags.mpy !== undefined ? `--mpy ${flags.mpy}` : `--target-version ${flags.targetVersion ?? ""}`;
    throw new MpipError("usage", `--compile and ${given} contradict each other: ${error.message}`, { hint: error.hintLines });
  }
}

/** The cache to use: `--cache-dir`, else the user's cache folder (MPIP_CACHE_DIR, ...); none with --no-cache, which wins. */
export function cacheOptions(flags: Pick<InstallFlags, "cacheDir" | "cache" | "offline">): { cacheDir?: string; offline: boolean } {
  if (!flags.cache) return { offline: flags.offline };
  return { cacheDir: flags.cacheDir === undefined ? cacheDir() : path.resolve(flags.cacheDir), offline: flags.offline };
}

function firmwareTarget(flags: InstallFlags): MpyTarget | undefined {
  if (flags.targetVersion !== undefined && flags.mpy !== undefined) {
    throw new MpipError("usage", "give --target-version or --mpy, not both", { hint: "--target-version 1.22 means --mpy 6.2" });
  }
  if (flags.targetVersion !== undefined) return targetFromVersion(flags.targetVersion, flags.arch);
  if (flags.mpy !== undefined) return targetFromMpy(flags.mpy, flags.arch);
  if (flags.arch !== undefined) throw new MpipError("usage", "--arch needs --target-version or --mpy", { hint: "e.g. `--target-version 1.22 --arch xtensawin`" });
  return undefined;
}

/** Index URLs must be http(s), optionally with a kind prefix; anything else is refused unprinted. */
function checkIndexUrl(url: string): string {
  parseIndexLocation(url);
  return url;
}

async function gatherRequests(specs: string[], files: string[], reporter: Reporter): Promise<Request[]> {
  checkShellSplit(specs);
  checkRedirectedVersion(specs, stdoutFilePath());
  await refuseUrls(files, "file", "given with --requirement");
  const lines = specs.map((text) => ({ text, origin: "the command line" }));
  for (const file of files) {
    for (const line of await readRequirementsFile(file)) lines.push({ text: line.text, origin: `\`${file}\` line ${line.line}` });
  }
  const requests: Request[] = [];
  const context = { hosts: gitHostsFromEnv(), cwd: process.cwd() };
  for (const { text, origin } of lines) {
    const spec = specAt(text, origin, context);
    if (spec.type === "direct") {
      requests.push(requestFor(spec, origin));
      continue;
    }
    const { requirement } = spec;
    if (requirement.marker !== undefined && !evaluateMarker(requirement.marker)) {
      reporter.info(`Skipping \`${text}\` (${origin}): its marker does not apply to MicroPython`);
      continue;
    }
    if (requirement.extras.length > 0) reporter.warn(`${origin}: extras of \`${text}\` are ignored; MicroPython packages have none`);
    requests.push({ requirement, requestedBy: origin });
  }
  return requests;
}

/** A spec from a -r file names its file and line when it is malformed; one from the command line is plain. */
function specAt(text: string, origin: string, context: SpecContext): PackageSpec {
  try {
    return parsePackageSpec(text, context);
  } catch (error) {
    if (!(error instanceof MpipError) || origin === "the command line") throw error;
    throw new MpipError(error.code, `${origin}: ${error.message}`, { cause: error, hint: error.hintLines });
  }
}

