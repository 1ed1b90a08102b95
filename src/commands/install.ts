// `mpip install`: from parsed flags to an install and its report. cli.ts declares the options and loads
// this module only when the command runs.

import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { cacheDir } from "../cache-dir.js";
import { MpipError } from "../errors.js";
import { setFromEnvironment } from "../cli-options.js";
import { DEFAULT_INDEXES, defaultTarget } from "../defaults.js";
import { install } from "../install.js";
import type { Limits } from "../limits.js";
import { Reporter, type Verbosity } from "../log.js";
import { jsonReport, renderSummary, stopwatch } from "../render.js";
import { requestFor, type Constraint, type HashMode, type Request } from "../resolve/resolve.js";
import { constraintsByName, hashModeProblem } from "../resolve/constraints.js";
import { normalizeName } from "../spec/names.js";
import { printable, quantity } from "../text.js";
import { parsePackageSpec, type PackageSpec, type SpecContext } from "../spec/package-spec.js";
import { gitHostsFromEnv } from "../sources/git-hosts.js";
import { parseIndexLocation } from "../sources/index-kind.js";
import { releaseOfMpy, releaseOfTargetVersion, targetFromMpy, targetFromVersion, type MpyTarget } from "../mpy/target.js";
import { evaluateMarker, markerEnvironment, type MarkerEnvironment } from "../spec/markers.js";
import { readRequirementFiles, type IndexChange, type RequirementsInput } from "../spec/requirements-file.js";
import { catchSignals } from "../signals.js";
import { checkTypedPaths, EXIT_OK, refuseUrls, reportFailure } from "../usage.js";
import { checkRedirectedVersion, checkShellSplit, stdoutFilePath, versionNotFoundHint } from "../spec/shell-split.js";
import { writeStandard } from "../standard-streams.js";
import { typedCommandWith } from "../typed-command.js";
import { shellWord } from "../shell-words.js";

export { defaultTarget } from "../defaults.js";

export interface InstallFlags {
  target?: string;
  requirement: string[];
  constraint: string[];
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
  /** `--lock FILE`: install what the lock lists (commands/sync.ts). */
  lock?: string;
}

const LIMIT_FLAGS = ["maxUnpackedBytes", "maxEntries", "maxRatio", "maxMetadataBytes", "maxPathLength"] as const;

/** The `--max-*` options given, as install's limits (the others keep their defaults). */
export function limitsFrom(flags: Pick<InstallFlags, (typeof LIMIT_FLAGS)[number]>): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const key of LIMIT_FLAGS) if (flags[key] !== undefined) limits[key] = flags[key];
  return limits;
}

export async function installCommand(specs: string[], flags: InstallFlags): Promise<number> {
  // MPIP_LOCK (a CI job's, for every step) gives way to what the command line asks to install: the command
  // line is over the environment. `--lock` typed beside them is the usage error installLockCommand says.
  const lockFromEnvironment = flags.lock !== undefined && setFromEnvironment(flags, "lock");
  const typedInstall = specs.length > 0 || (flags.requirement.length > 0 && !setFromEnvironment(flags, "requirement"));
  if (flags.lock !== undefined && !(lockFromEnvironment && typedInstall)) return (await import("./sync.js")).installLockCommand(flags.lock, specs, flags);
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  const elapsed = stopwatch();
  const signals = catchSignals((message) => reporter.write(message));
  // Until the install starts, a malformed spec is the command line's (or a -r file's) fault: see exitCodeFor.
  let typed = true;
  try {
    checkOptionClashes(flags);
    if (flags.target !== undefined) await refuseUrls([flags.target], "folder", "given with --target");
    const gathered = await gatherRequests(specs, flags, reporter, undefined, signals.signal);
    if (gathered.requests.length === 0 && gathered.skipped > 0) {
      // Every request is for another platform (a requirements file shared with CPython): nothing to do, as pip says it.
      if (flags.json) writeStandard("stdout", `${jsonReport({ target: path.resolve(flags.target ?? defaultTarget(process.env)), packages: [], removed: [], warnings: [] })}\n`);
      reporter.info(`Nothing to install: the marker of every package asked for leaves it out on ${gathered.markersFor}`);
      return EXIT_OK;
    }
    if (gathered.requests.length === 0) {
      throw new MpipError("usage", "no packages to install", { hint: flags.requirement.length > 0 ? "the requirements files list no package: add lines to them (`name`, `name==1.2`), or name packages on the command line" : [`name packages (\`${typedCommandWith(["NAME"])}\`) or a requirements file (\`-r FILE\`)`, ...(await inputsHere(flags.deps))] });
    }
    const resolution = await resolutionOptions(gathered, flags);
    if (flags.cacheDir !== undefined) await refuseUrls([flags.cacheDir], "folder", "given with --cache-dir");
    const firmware = await checkBuildFlags(flags, signals.signal);
    typed = false;
    const report = await install({
      ...(firmware === undefined ? {} : { firmware }),
      ...(flags.compile ? { compile: { keepSources: flags.keepSources, ...(flags.mpyCross === undefined ? {} : { mpyCross: flags.mpyCross }) } } : {}),
      target: flags.target ?? defaultTarget(process.env),
      ...withRelease(flags),
      ...resolution,
      ...fetchOptions(flags),
      wait: flags.wait,
      record: flags.record,
      dryRun: flags.dryRun,
      ...(flags.maxSize === undefined ? {} : { maxSize: flags.maxSize }),
      upgrade: flags.upgrade,
      forceReinstall: flags.forceReinstall,
      signal: signals.signal,
      reporter,
    });
    if (flags.json) writeStandard("stdout", `${jsonReport(report)}\n`);
    reporter.info(...renderSummary(report, elapsed()));
    return EXIT_OK;
  } catch (error) {
    const code = reportFailure(versionNotFoundHint(error, specs), reporter, { json: flags.json, debug: flags.debug, typed });
    return signals.exitCode ?? code;
  } finally {
    signals.dispose();
  }
}

/** The flags of `checkBuildFlags`: what the image is for and how it is built, and the network's `--cert`. */
export type BuildFlags = Pick<InstallFlags, "cert" | "mpyCross" | "targetVersion" | "mpy" | "arch" | "compile" | "keepSources">;

/**
 * The firmware the command line asks for, once `--cert` and `--mpy-cross` name files that are there (the
 * bundle parses) and the firmware and compile options agree; every command that installs checks them so.
 * @throws MpipError `usage`; `interrupted` when `signal` aborts the wait on a --cert pipe.
 */
export async function checkBuildFlags(flags: BuildFlags, signal?: AbortSignal): Promise<MpyTarget | undefined> {
  if (flags.cert !== undefined) {
    await checkTypedPaths([flags.cert], "file", "given with --cert", { streams: true });
    // Read now, whether or not this install turns out to use the network: a bad --cert is bad usage. The
    // HTTP client takes the same reading.
    const { readCertBundle } = await import("../http/tls.js");
    await readCertBundle(flags.cert, signal);
  }
  if (flags.mpyCross !== undefined) await checkTypedPaths([flags.mpyCross], "file", "given with --mpy-cross");
  const firmware = firmwareTarget(flags);
  if ((flags.keepSources || flags.mpyCross !== undefined) && !flags.compile) {
    throw new MpipError("usage", `${flags.keepSources ? "--keep-sources" : "--mpy-cross"} has an effect only with --compile`, { hint: "add --compile" });
  }
  if (flags.compile && flags.mpyCross === undefined && firmware !== undefined) await checkBuiltInCompilerFits(firmware, flags);
  return firmware;
}

/**
 * Options that cannot all be obeyed, known from the command line alone: a usage error (exit 2) before any
 * work, not a failure halfway. (`--target-version` with `--mpy`, and options that need another, are
 * checked where their values are read.)
 * @throws MpipError `usage`.
 */
export function checkOptionClashes(flags: Pick<InstallFlags, "quiet" | "verbose">): void {
  if (flags.quiet && flags.verbose) throw new MpipError("usage", "give -q (--quiet) or -v (--verbose), not both", { hint: "-q prints only warnings and errors; -v adds where each package came from" });
  // `--no-index` with `-i` is no clash: as in pip, --no-index wins and the index options are ignored.
}

/**
 * `--compile` with the built-in mpy-cross (MicroPython 1.19's, .mpy 6) for a firmware that loads another
 * .mpy version (`--mpy 5`, `--target-version 1.18`): the options contradict each other.
 * @throws MpipError `usage`, with the hint that names the way out (a native mpy-cross of that version).
 */
async function checkBuiltInCompilerFits(firmware: MpyTarget, flags: BuildFlags): Promise<void> {
  // The compiler's modules load only when --compile is given.
  const { checkCompilerFits, wasmCompiler } = await import("../mpy/compile.js");
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

/**
 * The firmware `--target-version` or `--mpy` (with `--arch`) names, or undefined for none.
 * @throws MpipError `usage` for both given, `--arch` alone, or a version mpip does not know.
 */
export function firmwareTarget(flags: Pick<InstallFlags, "targetVersion" | "mpy" | "arch">): MpyTarget | undefined {
  if (flags.targetVersion !== undefined && flags.mpy !== undefined) {
    throw new MpipError("usage", "give --target-version or --mpy, not both", { hint: "--target-version 1.22 means --mpy 6.2" });
  }
  if (flags.targetVersion !== undefined) return targetFromVersion(flags.targetVersion, flags.arch);
  if (flags.mpy !== undefined) return targetFromMpy(flags.mpy, flags.arch);
  if (flags.arch !== undefined) throw new MpipError("usage", "--arch needs --target-version or --mpy", { hint: "e.g. `--target-version 1.22 --arch xtensawin`" });
  return undefined;
}

/**
 * The MicroPython release markers see as `implementation_version` for the firmware the flags name:
 * `--target-version`'s (mpy/target.ts `releaseOfTargetVersion`), or for `--mpy` the lowest release that
 * loads it (`releaseOfMpy`); undefined (markers see 1.27.0, the current release) for neither.
 * @throws MpipError `usage` for flags firmwareTarget refuses.
 */
export function firmwareRelease(flags: Partial<Pick<InstallFlags, "targetVersion" | "mpy" | "arch">>): string | undefined {
  const target = firmwareTarget(flags);
  if (target === undefined) return undefined;
  if (flags.targetVersion !== undefined) return releaseOfTargetVersion(flags.targetVersion);
  return releaseOfMpy(target.major, target.sub);
}

/**
 * The index list: the command line's (or the default), then each index option of the requirement files
 * in the order read: `-i` replaces the list so far, `--extra-index-url` adds to it (pip's
 * handle_option_line). Each must be an http(s) URL or a local folder (a path or `file:` URL), optionally
 * with a kind prefix; a bad one names where it was given: its option (`given` entries with an `option`), or
 * its requirement file and line.
 * @throws MpipError `usage`.
 */
export function indexList(given: Array<string | { url: string; option: string }>, changes: IndexChange[]): string[] {
  let list: Array<{ url: string; origin?: string; option?: string }> = given.map((entry) => (typeof entry === "string" ? { url: entry } : entry));
  for (const change of changes) list = change.type === "index-url" ? [{ url: change.url, origin: change.origin }] : [...list, { url: change.url, origin: change.origin }];
  return list.map(({ url, origin, option }) => {
    try {
      parseIndexLocation(url, process.cwd(), option);
    } catch (error) {
      if (!(error instanceof MpipError) || origin === undefined) throw error;
      throw new MpipError(error.code, `${origin}: ${error.message}`, { cause: error, hint: error.hintLines });
    }
    return url;
  });
}

/** The command line's indexes (or the default list), each named by its option for an error about it. */
function typedIndexes(flags: Pick<InstallFlags, "indexUrl" | "extraIndexUrl">): Array<string | { url: string; option: string }> {
  const main = flags.indexUrl?.map((url) => ({ url, option: "-i/--index-url" })) ?? DEFAULT_INDEXES;
  return [...main, ...flags.extraIndexUrl.map((url) => ({ url, option: "--extra-index-url" }))];
}

/** `implementationVersion` for install's or download's options, when the flags name a firmware. */
export function withRelease(flags: Partial<Pick<InstallFlags, "targetVersion" | "mpy" | "arch">>): { implementationVersion?: string } {
  const release = firmwareRelease(flags);
  return release === undefined ? {} : { implementationVersion: release };
}

/** The flags that say where a resolution looks and how it chooses. */
export type ResolutionFlags = Pick<InstallFlags, "index" | "indexUrl" | "extraIndexUrl" | "findLinks" | "deps" | "pre" | "strictWindow" | "requireHashes">;

/**
 * What `install`, `lock` and `download` resolve and where they look, from the gathered requests and the
 * flags: the command line's indexes (or the default list) then the requirement files' index options in
 * pip's order (`given` replaces that list: `download --lock` asks only the indexes named), the `-f`
 * folders of both, and pip's hash-checking mode. Checks that `--no-index` leaves a place to look and
 * that every `-f` folder is one.
 * @throws MpipError `usage`.
 */
export async function resolutionOptions(gathered: Gathered, flags: ResolutionFlags, given?: string[]) {
  const { requests, constraints, input, hashMode } = gathered;
  const indexUrls = !flags.index || input.noIndex !== undefined ? [] : given ?? indexList(typedIndexes(flags), input.indexChanges);
  const findLinks = [...flags.findLinks, ...input.findLinks.map((link) => link.path)];
  if (indexUrls.length === 0 && findLinks.length === 0 && requests.some((request) => request.direct === undefined)) {
    throw new MpipError("usage", `--no-index${input.noIndex === undefined || !flags.index ? "" : ` (${input.noIndex})`} leaves no place to find packages`, { hint: "add a folder of sdists with `-f DIR`" });
  }
  await checkTypedPaths(flags.findLinks, "folder", "given with --find-links");
  for (const link of input.findLinks) await checkTypedPaths([link.path], "folder", `given with --find-links in ${link.origin}`);
  return {
    requests,
    indexUrls,
    findLinks,
    constraints,
    ...(hashMode === undefined ? {} : { hashMode }),
    noDeps: !flags.deps,
    pre: flags.pre || input.pre !== undefined,
    strictWindow: flags.strictWindow,
    // Hash-checking mode leaves nothing unverified: a package document's files need their hashes too.
    requireHashes: flags.requireHashes || hashMode !== undefined,
  };
}

/** How a command fetches: `--jobs`, `--timeout`, `--retries`, `--cert`, the cache and the `--max-*` limits. */
export function fetchOptions(flags: Pick<InstallFlags, "jobs" | "timeout" | "retries" | "cert" | "cacheDir" | "cache" | "offline" | (typeof LIMIT_FLAGS)[number]>) {
  return {
    jobs: flags.jobs,
    ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout * 1000 }),
    ...(flags.retries === undefined ? {} : { retries: flags.retries }),
    ...(flags.cert === undefined ? {} : { certFile: flags.cert }),
    ...cacheOptions(flags),
    limits: limitsFrom(flags),
  };
}

export interface Gathered {
  requests: Request[];
  constraints: Constraint[];
  /** What the requirement files set besides requirements: index options, `-f`, `--pre`, ... */
  input: RequirementsInput;
  /** On when a requirement or constraint has `--hash`, or a file says `--require-hashes` (pip's rule). */
  hashMode?: HashMode;
  /** How many requests were left out for a marker that does not hold on MicroPython. */
  skipped: number;
  /** The firmware markers were evaluated for, as messages name it (`markersFor`). */
  markersFor: string;
}

/**
 * The requests of `specs` and of the `-r`/`-c` files (each line named by its file and line), the
 * constraints, what the files set besides, and whether hash-checking mode is on. `origin` says where
 * `specs` come from when not the command line (`mpip lock`: a project's pyproject.toml).
 * @throws MpipError `usage`, `bad-spec`, `bad-requirement`; `interrupted` when `signal` aborts the wait on a -r/-c pipe.
 */
export async function gatherRequests(specs: string[], flags: Pick<InstallFlags, "requirement" | "constraint"> & Partial<Pick<InstallFlags, "targetVersion" | "mpy" | "arch">>, reporter: Reporter, origin = "the command line", signal?: AbortSignal): Promise<Gathered> {
  const stdoutPath = stdoutFilePath();
  // Markers see the firmware's release (`--target-version`, `--mpy`) as `implementation_version`.
  const release = firmwareRelease(flags);
  const markers = markerEnvironment(release);
  const firmware = markersFor(release, flags);
  checkShellSplit(specs, stdoutPath);
  checkRedirectedVersion(specs, stdoutPath);
  await refuseUrls(flags.requirement, "file", "given with --requirement");
  await refuseUrls(flags.constraint, "file", "given with --constraint");
  const input = await readRequirementFiles([...flags.requirement.map((file) => ({ path: file, kind: "requirement" as const })), ...flags.constraint.map((file) => ({ path: file, kind: "constraint" as const }))], process.env, signal);
  const lines: Array<{ text: string; origin: string; hashes: string[]; folder?: string }> = [...specs.map((text) => ({ text, origin, hashes: [] as string[] })), ...input.requirements];
  const requests: Request[] = [];
  let skipped = 0;
  const context = { hosts: gitHostsFromEnv(), cwd: process.cwd() };
  for (const { text, origin, hashes, folder } of lines) {
    const withHashes = hashes.length > 0 ? { hashes } : {};
    const spec = specAt(text, origin, folder === undefined ? context : { ...context, fileFolder: folder });
    // A marker (`name @ URL ; marker` too) that does not hold on MicroPython drops the request, as pip drops it for another platform.
    const marker = spec.type === "direct" ? spec.direct.marker : spec.requirement.marker;
    if (marker !== undefined && !evaluateMarker(marker, markers)) {
      reporter.info(`Skipping \`${text}\` (${origin}): its marker does not apply to ${firmware}`);
      skipped++;
      continue;
    }
    if (spec.type === "direct") {
      requests.push({ ...requestFor(spec, origin), ...withHashes });
      continue;
    }
    const { requirement } = spec;
    if (requirement.extras.length > 0) reporter.warn(`${origin}: extras of \`${text}\` are ignored; MicroPython packages have none`);
    requests.push({ requirement, requestedBy: origin, ...withHashes });
  }
  const constraints = input.constraints.flatMap(({ text, origin, hashes, folder }) => constraintAt(text, origin, hashes, { ...context, fileFolder: folder }, markers));
  const hashed = [...input.requirements, ...input.constraints].find((entry) => entry.hashes.length > 0);
  const reason = hashed !== undefined ? `${hashed.origin} has \`--hash\`` : input.requireHashes !== undefined ? `${input.requireHashes} has \`--require-hashes\`` : undefined;
  const hashMode = reason === undefined ? undefined : { reason };
  if (hashMode !== undefined) checkRootHashes(requests, constraints, hashMode);
  return { requests, constraints, input, skipped, markersFor: firmware, ...(hashMode === undefined ? {} : { hashMode }) };
}

/**
 * The firmware markers were evaluated for, as messages name it: `MicroPython 1.22.0 (--target-version
 * 1.22)`, `MicroPython 1.19.0 (the first release that loads --mpy 6)`, or with neither option the
 * current release markers see by default (`MicroPython 1.27.0, ...`), and how to name another.
 */
export function markersFor(release: string | undefined, flags: Partial<Pick<InstallFlags, "targetVersion" | "mpy">>): string {
  if (release === undefined) return `MicroPython ${markerEnvironment(undefined).implementation_version} (the current release, which markers see unless --target-version or --mpy names another)`;
  if (flags.targetVersion !== undefined) return `MicroPython ${release} (--target-version ${printable(flags.targetVersion, 20)})`;
  return `MicroPython ${release} (the first release that loads --mpy ${printable(flags.mpy ?? "", 20)})`;
}

/**
 * A constraint line: a name and the versions allowed, as pip takes them (no source, no extras); none
 * when its marker does not hold on MicroPython.
 * @throws MpipError `usage`, or the spec's own error, naming the file and line.
 */
function constraintAt(text: string, origin: string, hashes: string[], context: SpecContext, markers: MarkerEnvironment): Constraint[] {
  const spec = specAt(text, origin, context);
  if (spec.type === "direct") {
    throw new MpipError("usage", `${origin}: \`${printable(spec.direct.source)}\` is a source, but a constraint names a package and the versions allowed (\`name>=1.0\`)`, {
      hint: "name the source in a requirements file (-r) instead; a constraint only narrows the versions chosen for a name",
    });
  }
  const { requirement } = spec;
  if (requirement.extras.length > 0) {
    throw new MpipError("usage", `${origin}: a constraint cannot have extras (\`${printable(text)}\`)`, { hint: `write the name without \`[${requirement.extras.join(",")}]\`` });
  }
  if (requirement.marker !== undefined && !evaluateMarker(requirement.marker, markers)) return [];
  return [{ requirement, origin, ...(hashes.length > 0 ? { hashes } : {}) }];
}

/**
 * pip's hash-checking mode, for the packages the user named: each must have hashes and (unless it is a
 * URL or path) be pinned with `==`, by its own line or a constraint. Every one that does not is listed.
 * @throws MpipError `hash-required`.
 */
function checkRootHashes(requests: Request[], constraints: Constraint[], mode: HashMode): void {
  const byName = constraintsByName(constraints);
  const problems: string[] = [];
  for (const request of requests) {
    const direct = request.direct;
    const named = direct === undefined ? byName.get(normalizeName(request.requirement.name)) : direct.named === true ? byName.get(normalizeName(direct.name)) : undefined;
    const problem = hashModeProblem([request], named ?? []);
    if (problem !== undefined) problems.push(`${request.requestedBy}: \`${printable(request.requirement.text)}\` ${problem}`);
  }
  if (problems.length === 0) return;
  const shown = problems.slice(0, 10).join("; ") + (problems.length > 10 ? `; and ${problems.length - 10} more` : "");
  throw new MpipError("hash-required", `in hash-checking mode (${mode.reason}) every requirement must be pinned with \`==\` and have a \`--hash\`, and ${quantity(problems.length, "requirement does", "requirements do")} not: ${shown}; nothing was installed`, {
    hint: "add `==VERSION` and `--hash=sha256:HEX` to each (`sha256sum FILE` prints HEX; `mpip install -v` prints each file's sha256), or put them on constraint lines (-c); a requirement typed on the command line can get its hash only from a constraint",
  });
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


/**
 * For `mpip install` with nothing to install: what the current folder holds that the command may have
 * been meant to name, as hint lines offering the typed command with it: each lock (`pylock.toml`, then PEP
 * 751's `pylock.NAME.toml` by name), a `requirements.txt`, a project (`pyproject.toml`, installed as `.`).
 * Only a file (or a link to one) is offered: a folder or a dangling link of that name would fail as soon
 * as the command offered ran. A name is written as the shell reads it back (`pylock.my lock.toml`
 * quoted), for the command to be pasted and run as shown. `deps`: `--no-deps` was not given.
 */
async function inputsHere(deps: boolean): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(process.cwd())).sort();
  } catch {
    return [];
  }
  const files = new Set<string>();
  for (const name of names) {
    if (name !== "pylock.toml" && name !== "requirements.txt" && name !== "pyproject.toml" && !/^pylock\.[^.]+\.toml$/.test(name)) continue;
    try {
      if ((await stat(name)).isFile()) files.add(name);
    } catch {
      // Gone, a dangling link or unreadable: nothing to offer.
    }
  }
  const lines: string[] = [];
  const locks = [...names.filter((name) => name === "pylock.toml"), ...names.filter((name) => name !== "pylock.toml" && name.startsWith("pylock."))].filter((name) => files.has(name));
  for (const lock of locks) lines.push(`\`${lock}\` is here: \`${typedCommandWith(["--lock", shellWord(lock)])}\` installs what it locks`);
  if (files.has("requirements.txt")) lines.push(`\`requirements.txt\` is here: \`${typedCommandWith(["-r", "requirements.txt"])}\` installs what it lists`);
  if (files.has("pyproject.toml")) lines.push(`this folder is a project (\`pyproject.toml\`): \`${typedCommandWith(["."])}\` installs it${deps ? " with its dependencies" : ""}`);
  return lines;
}
