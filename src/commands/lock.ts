// `mpip lock`: from parsed flags to a lock (or, with --check, a comparison) and its report. The
// requirements come from the specs and -r files as for `mpip install`, or, when none is given, from the
// project in the current folder (pyproject.toml's `[project].dependencies`, or setup.cfg's
// `install_requires`, read as `mpip pack` reads them). cli.ts declares the options.

import { statSync } from "node:fs";
import path from "node:path";
import { DEFAULT_LOCK_FILE } from "../defaults.js";
import { MpipError } from "../errors.js";
import { versionNotFoundHint } from "../spec/shell-split.js";
import { inputArguments, packageSource, specInLock, type LockedPackage } from "../lock/format.js";
import { stripCredentials } from "../lock/from-resolution.js";
import { Reporter, styled, type Text, type Verbosity } from "../log.js";
import { jsonDocument, stopwatch } from "../render.js";
import type { Request } from "../resolve/resolve.js";
import { catchSignals } from "../signals.js";
import { printable, quantity } from "../text.js";
import { shellWord } from "../shell-words.js";
import { EXIT_OK, refuseUrls, reportFailure } from "../usage.js";
import { checkBuildFlags, checkOptionClashes, fetchOptions, gatherRequests, resolutionOptions, type Gathered, type InstallFlags } from "./install.js";
import { writeStandard } from "../standard-streams.js";

export type LockFlags = Omit<InstallFlags, "target" | "wait" | "record" | "dryRun" | "maxSize" | "upgrade" | "forceReinstall" | "mpyCross" | "lock"> & {
  output: string;
  check: boolean;
};

/** pylock.toml, or pylock.NAME.toml (PEP 751's file names). */
const LOCK_NAME = /^pylock\.([^.]+\.)?toml$/;

/**
 * `mpip lock [spec...]`: writes (or with --check compares) the lock; returns the exit code (0, 1 for a
 * failure or an out-of-date lock, 2 for bad usage), having printed the report or the error.
 */
export async function lockCommand(specs: string[], flags: LockFlags): Promise<number> {
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  const elapsed = stopwatch();
  const signals = catchSignals((message) => reporter.write(message));
  let typed = true;
  try {
    checkOptionClashes(flags);
    await refuseUrls([flags.output], "file", "given with --output");
    if (!LOCK_NAME.test(path.basename(flags.output))) {
      throw new MpipError("usage", `\`${printable(flags.output)}\` is not a lock file name: PEP 751 names a lock \`pylock.toml\` or \`pylock.NAME.toml\``, { hint: "write `-o pylock.toml` (in any folder), or `-o pylock.device.toml` for one of several" });
    }
    const lockDir = path.dirname(path.resolve(flags.output));
    const { from, ...gathered } = await requirements(specs, flags, reporter, signals.signal);
    const resolution = await resolutionOptions(gathered, flags);
    // The lock names the build; nothing is compiled now, so --mpy-cross is the locked install's business.
    if (flags.cacheDir !== undefined) await refuseUrls([flags.cacheDir], "folder", "given with --cache-dir");
    const firmware = await checkBuildFlags({ ...flags, compile: false, keepSources: false }, signals.signal);
    if (flags.keepSources && !flags.compile) throw new MpipError("usage", "--keep-sources has an effect only with --compile", { hint: "add --compile" });
    typed = false;
    const { lock } = await import("../lock/lock.js");
    const report = await lock({
      ...resolution,
      requirements: resolution.requests.map((request) => requirementText(request, lockDir)),
      // Every file a constraint was read from, whichever file named it: the command --check offers gives them
      // again with -c. A pipe or device (`-c <(...)`, /dev/stdin) is no file to give again: its constraints
      // are recorded all the same, and the check then offers no command.
      constraintFiles: gathered.input.constraints.map((constraint) => constraint.file).filter(isRegularFile),
      ...fetchOptions(flags),
      ...(firmware === undefined ? {} : { firmware }),
      ...(flags.compile ? { compile: { keepSources: flags.keepSources } } : {}),
      signal: signals.signal,
      reporter,
      output: flags.output,
      check: flags.check,
    });
    const shown = printable(flags.output);
    if (flags.json) writeStandard("stdout", `${jsonDocument({ ok: true, lock: report.lockFile, upToDate: report.upToDate, from, packages: report.packages.map(describePackage), warnings: report.warnings })}\n`);
    if (flags.check) reporter.info(`\`${shown}\` is up to date (${quantity(report.packages.length, "package")})`);
    else reporter.info(`Locked ${quantity(report.packages.length, "package")} into \`${shown}\` in ${elapsed().toFixed(2)}s`, ...report.packages.map(packageLine));
    return EXIT_OK;
  } catch (error) {
    const { OutdatedLock } = await import("../lock/lock.js");
    if (error instanceof OutdatedLock) {
      // The difference is the point of --check: shown whatever the verbosity (stderr; in `changes` with --json).
      reporter.write(...error.changes.map((change) => change.text));
      if (flags.json) {
        writeStandard("stdout", `${jsonDocument({ ok: false, error: { code: error.code, message: error.message, hint: error.hint }, changes: error.changes })}\n`);
        return reportFailure(error, reporter, { json: false, debug: flags.debug });
      }
    }
    const code = reportFailure(versionNotFoundHint(error, specs), reporter, { json: flags.json, debug: flags.debug, typed });
    return signals.exitCode ?? code;
  } finally {
    signals.dispose();
  }
}

/** How many of a lock's requirements the hint of a bare --check names; the rest are counted. */
const NAMED_REQUIREMENTS = 8;
/** The longest command the hint of a bare --check offers; a longer one is not offered. */
const MAX_HINT_COMMAND = 400;

/**
 * What the lock at `file` says it was made from (its `[tool.mpip]` inputs and build), for the hint of a
 * --check given nothing to check against: the requirements in words (the first NAMED_REQUIREMENTS, then how
 * many more) and the constraints it applied, and an `mpip lock --check ...` command that repeats them with
 * the indexes, find-links, constraints files (-c), --pre, --no-deps and the build options (--compile,
 * --keep-sources, --mpy, --arch), its words quoted for a
 * POSIX shell and the requirements after `--`, so that none is read as an option. No command is offered
 * when a word holds a character the terminal could not show as it is (a control or invisible one) or the
 * command would be longer than MAX_HINT_COMMAND: the hint then says where the lock lists them. Index URLs
 * are as the lock records them, with any credentials replaced by `***`, which the hint says to put back.
 * Otherwise, why the lock cannot say: there is none (`missing`), it cannot be read (`unreadable`, with
 * the reason), or it records no requirements (`silent`: another tool wrote it).
 */
async function madeFrom(file: string): Promise<{ what: string; one: boolean; command?: string; note: string } | { missing: true } | { unreadable: string } | { silent: true }> {
  const [{ readLockFile }, { buildArguments }] = await Promise.all([import("../lock/fetch-locked.js"), import("../lock/build.js")]);
  const { stat } = await import("node:fs/promises");
  // A link to nothing is no lock either.
  if (await stat(file).then(() => false, (error: NodeJS.ErrnoException) => error.code === "ENOENT")) return { missing: true };
  let lock: Awaited<ReturnType<typeof readLockFile>>;
  try {
    lock = await readLockFile(file);
  } catch (error) {
    return { unreadable: error instanceof Error ? error.message : String(error) };
  }
  const inputs = lock.inputs;
  if (inputs === undefined || inputs.requirements.length === 0) return { silent: true };
  const words = ["mpip", "lock", "--check", ...(file === DEFAULT_LOCK_FILE ? [] : ["-o", file])];
  // Folders and files as the lock names them (absolute), given relative to the current folder.
  words.push(...inputArguments(inputs, process.cwd()));
  if (lock.build !== undefined) words.push(...buildArguments(lock.build));
  words.push("--", ...inputs.requirements);
  const named = inputs.requirements.slice(0, NAMED_REQUIREMENTS).map((requirement) => `\`${printable(requirement, 80)}\``).join(", ");
  const more = inputs.requirements.length - NAMED_REQUIREMENTS;
  const constraints = inputs.constraints.slice(0, NAMED_REQUIREMENTS).map((constraint) => `\`${printable(constraint, 80)}\``).join(", ");
  const moreConstraints = inputs.constraints.length - NAMED_REQUIREMENTS;
  const constrained = inputs.constraints.length === 0 ? "" : ` (with the ${inputs.constraints.length === 1 ? "constraint" : "constraints"} ${constraints}${moreConstraints > 0 ? ` and ${quantity(moreConstraints, "more")}` : ""})`;
  const what = `${more > 0 ? `${named} and ${quantity(more, "more requirement")}` : named}${constrained}`;
  const command = words.map(shellWord).join(" ");
  // Constraints are given by file: a lock that records constraints but no file they came from (edited by hand) has no command.
  const showable = words.every((word) => printable(word, Infinity) === word) && command.length <= MAX_HINT_COMMAND && (inputs.constraints.length === 0 || inputs.constraintFiles.length > 0);
  const credentials = inputs.indexUrls.some((url) => url.includes("***@")) ? " (with the index's credentials where the lock shows `***`)" : "";
  const one = inputs.requirements.length === 1;
  return showable
    ? { what, one, command, note: credentials }
    : { what, one, note: `; the lock lists ${one ? "it" : "them all"} in \`[tool.mpip]\`, with the indexes and options it was made with` };
}

/**
 * The requests to lock and where they were read: the specs and -r files, else the current folder's
 * project (its dependencies, as `mpip pack` reads them), else nothing: a usage error.
 */
async function requirements(specs: string[], flags: LockFlags, reporter: Reporter, signal: AbortSignal): Promise<Gathered & { from: string }> {
  if (specs.length > 0 || flags.requirement.length > 0) return { ...(await gatherRequests(specs, flags, reporter, undefined, signal)), from: "the command line" };
  const { readProject } = await import("../pack/project.js");
  const { stat } = await import("node:fs/promises");
  const cwd = process.cwd();
  const declares = await Promise.all(["pyproject.toml", "setup.cfg"].map((name) => stat(path.join(cwd, name)).then((info) => info.isFile(), () => false)));
  if (!declares.includes(true)) {
    if (flags.check) {
      const made = await madeFrom(flags.output);
      const lock = `\`${printable(flags.output)}\``;
      const hint =
        "what" in made
          ? `${lock} was made from ${made.what}: give ${made.one ? "it" : "them"} again${made.command === undefined ? made.note : `, as in \`${made.command}\`${made.note}`}`
          : "missing" in made
            ? `there is no ${lock} either: make the lock first, \`mpip lock NAME...\` or \`mpip lock -r FILE\`, then check it with the same requirements`
            : "unreadable" in made
              ? `mpip cannot read what ${lock} was made from (${made.unreadable}); name the packages or -r files it was made from`
              : `${lock} does not say what it was made from (mpip records it under \`[tool.mpip]\`); name the packages or -r files it was made from`;
      throw new MpipError("usage", "nothing to check the lock against: --check compares the lock with what the command line asks for", { hint });
    }
    throw new MpipError("usage", "nothing to lock", { hint: "name packages (`mpip lock NAME`), a requirements file (`-r FILE`), or run it in a project folder whose pyproject.toml lists `dependencies`" });
  }
  const project = await readProject(cwd);
  return { ...(await gatherRequests(project.metadata.dependencies, { ...flags, requirement: [] }, reporter, `\`${project.metadataFile}\``, signal)), from: project.metadataFile };
}

/**
 * A request as `[tool.mpip] requirements` records it: as typed, but a local path relative to the lock's
 * folder (`./dist/app-1.0.tar.gz`), so that the lock is the same in every checkout.
 */
function requirementText(request: Request, lockDir: string): string {
  const direct = request.direct;
  if (direct === undefined) return request.requirement.text;
  // A URL or a shorthand as given, without credentials; a local path (`source` is it made absolute) relative to the lock.
  // A lock never holds a credential (the source has them as `***`, which would be sent as a login).
  return specInLock(stripCredentials(direct.source), lockDir);
}

function packageLine(item: LockedPackage): Text {
  return [" ", styled("green", "+"), " ", styled("bold", item.name), item.version === "" ? "" : `==${item.version}`, " ", styled("dim", `(from ${packageSource(item)})`)];
}

function describePackage(item: LockedPackage): Record<string, unknown> {
  const { artifact } = item;
  const sha256 = artifact.type === "dist" ? artifact.file.sha256 : artifact.type === "module" ? artifact.file.sha256 : artifact.type === "package-json" ? artifact.document.sha256 : null;
  return { name: item.name, version: item.version, source: packageSource(item), artifact: artifact.type, sha256, requested: item.requested, dependencies: item.dependencies };
}

/** Whether `file` is a regular file (not a pipe, a device, or gone). */
function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
