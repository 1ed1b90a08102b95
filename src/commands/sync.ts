// `mpip sync [pylock.toml]` and `mpip install --lock pylock.toml`: from parsed flags to a locked install
// (lock/install-locked.ts) and its report, the one printed for `mpip install`. `sync` removes what the
// lock does not list (uv's `pip sync`); `install --lock` keeps it (uv's `pip install -r`). cli.ts
// declares the options.

import path from "node:path";
import { DEFAULT_LOCK_FILE, defaultTarget } from "../defaults.js";
import { MpipError } from "../errors.js";
import { Reporter, type Verbosity } from "../log.js";
import { jsonReport, renderSummary, stopwatch } from "../render.js";
import { catchSignals } from "../signals.js";
import { checkTypedPaths, EXIT_OK, refuseUrls, reportFailure } from "../usage.js";
import { cacheOptions, checkBuildFlags, checkOptionClashes, limitsFrom, type InstallFlags } from "./install.js";
import { writeStandard } from "../standard-streams.js";
import { setFromEnvironment } from "../cli-options.js";
import { markLockedInstall } from "../run-kind.js";

/** `mpip sync`'s flags: install's, less what resolves (the lock has resolved), plus `--no-remove`. */
export type SyncFlags = Omit<InstallFlags, "requirement" | "constraint" | "findLinks" | "deps" | "pre" | "requireHashes" | "upgrade" | "lock"> & { remove: boolean };

/** `mpip sync [lock]`: the lock (default `pylock.toml` in the current folder), unlisted packages removed. */
export function syncCommand(lockFile: string | undefined, flags: SyncFlags): Promise<number> {
  return lockedInstallCommand(lockFile ?? DEFAULT_LOCK_FILE, flags, { remove: flags.remove, given: lockFile === undefined ? "the lock file `mpip sync` reads by default" : "given to sync" });
}

/**
 * `mpip install --lock FILE`: what resolves an install (specs, -r, -c, -U, --no-deps, --pre, -f) has no
 * place beside a lock, and is a usage error rather than silently ignored (`lockClash`).
 * @throws nothing: failures are reported and give the exit code.
 */
export function installLockCommand(lockFile: string, specs: string[], flags: InstallFlags): Promise<number> {
  const clash = lockClash(specs.length > 0 ? "packages to install" : undefined, flags);
  return lockedInstallCommand(lockFile, flags, { remove: false, given: "given with --lock", ...(clash === undefined ? {} : { clash }) });
}

/** The options that resolve, which a command given a lock has no use for. */
export type ResolvingFlags = Pick<InstallFlags, "requirement" | "constraint" | "deps" | "pre" | "findLinks"> & { upgrade?: boolean };

/**
 * What, beside a lock, would resolve and was given on the command line: `packages` (the specs, said in
 * the command's words), else the first resolving option typed. An option set only by its MPIP_* variable
 * is passed over (cli-options.ts `setFromEnvironment`): a CI job sets them for every step, its locked
 * installs included.
 */
export function lockClash(packages: string | undefined, flags: ResolvingFlags): string | undefined {
  if (packages !== undefined) return packages;
  const typed = (key: keyof ResolvingFlags, given: boolean) => given && !setFromEnvironment(flags, key);
  if (typed("requirement", flags.requirement.length > 0)) return "-r";
  if (typed("constraint", flags.constraint.length > 0)) return "-c";
  if (typed("upgrade", flags.upgrade === true)) return "-U (--upgrade)";
  if (typed("deps", !flags.deps)) return "--no-deps";
  if (typed("pre", flags.pre)) return "--pre";
  if (typed("findLinks", flags.findLinks.length > 0)) return "-f (--find-links)";
  return undefined;
}

/**
 * The lock must be a file there; when nothing is at its path (no lock made yet, most likely), the hint
 * says how `mpip lock` makes one, before the path check's own advice.
 * @throws MpipError `usage`.
 */
export async function checkLockPath(lockFile: string, given: string): Promise<void> {
  try {
    await checkTypedPaths([lockFile], "file", given);
  } catch (error) {
    if (!(error instanceof MpipError) || !/there is nothing at that path/.test(error.message)) throw error;
    const { shellWord } = await import("../shell-words.js");
    // `mpip lock -o` takes only PEP 751's names (pylock.toml, pylock.NAME.toml): another is not offered.
    const named = /^pylock\.([^.]+\.)?toml$/.test(path.basename(lockFile));
    if (!named) throw error;
    const output = path.basename(lockFile) === DEFAULT_LOCK_FILE && path.dirname(lockFile) === "." ? "" : ` -o ${shellWord(lockFile)}`;
    throw new MpipError("usage", error.message, {
      hint: [`no lock yet? make one first: \`mpip lock${output} -r requirements.txt\` (or \`mpip lock${output} NAME...\`; in a project folder, \`mpip lock${output}\` alone), with the --target-version or --mpy the install is for`, ...error.hintLines],
    });
  }
}

type LockedFlags = Omit<InstallFlags, "requirement" | "constraint" | "findLinks" | "deps" | "pre" | "requireHashes" | "upgrade" | "lock">;

async function lockedInstallCommand(lockFile: string, flags: LockedFlags, how: { remove: boolean; given: string; clash?: string }): Promise<number> {
  markLockedInstall();
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  const elapsed = stopwatch();
  const signals = catchSignals((message) => reporter.write(message));
  try {
    checkOptionClashes(flags);
    if (how.clash !== undefined) {
      throw new MpipError("usage", `${how.clash} cannot be given with --lock: the lock says what to install`, {
        hint: "install from the lock alone (`mpip install --lock pylock.toml -p DIR`), or change what is locked with `mpip lock` and install that",
      });
    }
    if (flags.target !== undefined) await refuseUrls([flags.target], "folder", "given with --target");
    await checkLockPath(lockFile, how.given);
    if (flags.cacheDir !== undefined) await refuseUrls([flags.cacheDir], "folder", "given with --cache-dir");
    const firmware = await checkBuildFlags(flags, signals.signal);
    const { installLocked } = await import("../lock/install-locked.js");
    const report = await installLocked({
      lockFile,
      remove: how.remove,
      ...cacheOptions(flags),
      ...(firmware === undefined ? {} : { firmware }),
      ...(flags.compile ? { compile: { keepSources: flags.keepSources, ...(flags.mpyCross === undefined ? {} : { mpyCross: flags.mpyCross }) } } : {}),
      target: flags.target ?? defaultTarget(process.env),
      indexUrls: flags.index === false ? [] : [...(flags.indexUrl ?? []), ...flags.extraIndexUrl],
      strictWindow: flags.strictWindow,
      jobs: flags.jobs,
      ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout * 1000 }),
      ...(flags.retries === undefined ? {} : { retries: flags.retries }),
      ...(flags.cert === undefined ? {} : { certFile: flags.cert }),
      wait: flags.wait,
      record: flags.record,
      dryRun: flags.dryRun,
      ...(flags.maxSize === undefined ? {} : { maxSize: flags.maxSize }),
      forceReinstall: flags.forceReinstall,
      signal: signals.signal,
      limits: limitsFrom(flags),
      reporter,
    });
    if (flags.json) writeStandard("stdout", `${jsonReport(report)}\n`);
    reporter.info(...renderSummary(report, elapsed()));
    return EXIT_OK;
  } catch (error) {
    const code = reportFailure(error, reporter, { json: flags.json, debug: flags.debug });
    return signals.exitCode ?? code;
  } finally {
    signals.dispose();
  }
}
