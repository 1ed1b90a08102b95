// `mpip lock`: resolve exactly as `mpip install` resolves (the same sources, version choice, dependency
// walk and firmware flavor), fetching every file to hash it and to read its dependencies, but into a
// folder of its own instead of a target's staging folder; then write the lock (format.ts) atomically,
// after checking that it reads back as what was locked. `check` compares instead of writing: the lock
// on disk is up to date when it holds exactly the bytes a lock made now would.

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RunScope } from "../cancel.js";
import { MpipError } from "../errors.js";
import { redactQuery } from "../secrets.js";
import { signalName } from "../image/interrupt.js";
import { openSources, prepareContext, resolveAndPrepare, sourceKinds, type InstallOptions } from "../install.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import { readSmallFile } from "../local-file.js";
import type { Staged } from "../prepare/index.js";
import type { ResolvedPackage } from "../resolve/resolve.js";
import { parseIndexLocation } from "../sources/index-kind.js";
import { allowManyListeners } from "../signals.js";
import { shellWord } from "../shell-words.js";
import { printable, quantity } from "../text.js";
import { lockBuildOf } from "./build.js";
import { diffLocks, settingsChanges, SOURCE_SETTINGS, type LockChange } from "./diff.js";
import { absoluteInput, sourceArguments, MAX_LOCK_BYTES, renderLock, type Lock, type LockedPackage, type LockInputs } from "./format.js";
import { lockedPackages, stripCredentials } from "./from-resolution.js";
import { lockedPathsWarning } from "./local-files.js";
import { parseLock } from "./read.js";
import { writeFileAtomically } from "./write-file.js";

export interface LockOptions extends Pick<InstallOptions,
  "requests" | "indexUrls" | "findLinks" | "cacheDir" | "offline" | "constraints" | "hashMode" | "firmware" | "noDeps" | "pre" | "strictWindow" | "requireHashes" | "jobs" | "timeoutMs" | "retries" | "certFile" | "signal" | "limits" | "hosts" | "cwd" | "reporter"> {
  /** `--compile` (with `--keep-sources`): not done when locking, but part of what the lock is for. */
  compile?: { keepSources: boolean };
  /** The requirements as given (the command line, each `-r` file, or pyproject.toml's), written to `[tool.mpip]`. */
  requirements: string[];
  /** The constraints files read (each file a constraint was read from, on the command line or named by a `-r` file), recorded in `[tool.mpip]`. */
  constraintFiles?: string[];
  /** The lock file to write (or, with `check`, to compare). */
  output: string;
  /** Compare with the lock on disk instead of writing it. */
  check?: boolean;
}

export interface LockReport {
  /** The lock file, absolute. */
  lockFile: string;
  /** The packages locked, in install order. */
  packages: LockedPackage[];
  /** Whether the file was written (not with `check`). */
  written: boolean;
  /** With `check`: the lock on disk is what a lock made now would be. */
  upToDate?: boolean;
  warnings: string[];
}

/**
 * Resolves `options.requests` and writes (or checks) the lock.
 * @throws MpipError whatever an install's resolution throws; `io` (cannot write the lock); with `check`,
 *   `lock-outdated` (the message and `changes` say what differs), `usage` (no lock file to check).
 */
export async function lock(options: LockOptions): Promise<LockReport> {
  const lockFile = path.resolve(options.output);
  const inputs = lockInputs(options);
  const build = lockBuildOf(options.firmware, options.compile);
  // --check reads the lock first: there must be one, and one made against other indexes or folders is out
  // of date whatever they answer (resolving against them could ask a network the lock never used).
  const existing = options.check === true ? await existingLock(options.output, lockFile, { build, inputs }, options.cwd ?? process.cwd()) : undefined;
  const made = await resolveLock(options, { build, inputs }).catch((error: unknown) => {
    // Stopped by Ctrl-C (or SIGTERM): whatever the abort caused on its way out, the lock was not touched.
    if (options.signal?.aborted !== true || (error instanceof MpipError && error.code === "interrupted")) throw error;
    throw new MpipError("interrupted", `interrupted by ${signalName(options.signal)}; \`${printable(options.output)}\` was left as it was`, { cause: error });
  });
  const text = renderLock(made, path.dirname(lockFile));
  checkReadsBack(text, lockFile, made);
  // Files of a local index given with -i count too: an install from the lock is given that folder only if the user gives it again.
  const outside = await lockedPathsWarning(made, lockFile);
  if (outside !== undefined) options.reporter.warn(outside);
  // A lock is made to be committed: credentials in its URLs' query strings go with it (they stay, as the
  // files need them to download; userinfo is left out and given again with -i at install time).
  if (redactQuery(text) !== text) {
    options.reporter.warn(`\`${printable(options.output)}\` holds credentials carried in URLs' query strings (\`?token=\` and the like, from the indexes given): anyone who can read the lock can use them; keep it out of a shared repository, or give the index a credential in the URL's user part (\`https://user:token@host/...\`), which a lock leaves out`);
  }
  const report = { lockFile, packages: made.packages, warnings: options.reporter.warnings };
  if (existing === undefined) {
    await writeFileAtomically(lockFile, text);
    return { ...report, written: true };
  }
  if (existing.equals(Buffer.from(text, "utf8"))) return { ...report, written: false, upToDate: true };
  throw new OutdatedLock(options.output, changesFrom(existing.toString("utf8"), lockFile, made));
}

/** `mpip lock --check` found the lock out of date; `changes` says how, line by line. */
export class OutdatedLock extends MpipError {
  constructor(file: string, readonly changes: LockChange[], hint = "run the same `mpip lock` command without --check to update it, and commit the new lock") {
    super("lock-outdated", `\`${printable(file)}\` is out of date with its inputs: ${changes.length === 0 ? "its text differs from what `mpip lock` writes" : quantity(changes.length, "change")}`, { hint });
  }
}

/** What the lock records it was made from: the inputs of `options`, local folders and files absolute (the lock writes them relative to itself). */
function lockInputs(options: LockOptions): LockInputs {
  const cwd = options.cwd ?? process.cwd();
  return {
    requirements: options.requirements,
    constraints: (options.constraints ?? []).map((constraint) => constraint.requirement.text),
    constraintFiles: [...new Set((options.constraintFiles ?? []).map((file) => path.resolve(cwd, file)))],
    indexUrls: options.indexUrls.map((entry) => absoluteInput(stripCredentials(entry), "index", cwd)),
    findLinks: options.findLinks.map((entry) => absoluteInput(entry, "find-links", cwd)),
    pre: options.pre,
    noDeps: options.noDeps,
  };
}

/**
 * The bytes of the lock `--check` compares with (`given` as named, `lockFile` absolute). When it is mpip's
 * and was made against other indexes or `-f` folders than `now` names, it is out of date whatever those
 * answer, and nothing is resolved: OutdatedLock lists how its `[tool.mpip]` differs, and its hint gives
 * the lock's own sources. A lock mpip cannot read is returned as it is (the comparison says why).
 * @throws MpipError `usage` (no lock file there, or not a file), `lock-outdated`.
 */
async function existingLock(given: string, lockFile: string, now: Pick<Lock, "build" | "inputs">, cwd: string): Promise<Buffer> {
  const existing = await readSmallFile(lockFile, MAX_LOCK_BYTES);
  if (existing.kind === "missing") throw new MpipError("usage", `there is no lock file at \`${printable(given)}\` to check`, { hint: "make it with `mpip lock` (the same command without --check)" });
  if (existing.kind !== "read") throw new MpipError("usage", `cannot read the lock file \`${printable(given)}\` to check it`, { hint: "name the pylock.toml itself" });
  let recorded: Lock;
  try {
    recorded = parseLock(existing.data.toString("utf8"), lockFile);
  } catch {
    return existing.data;
  }
  if (recorded.inputs === undefined) return existing.data;
  const changes = settingsChanges(recorded, now);
  if (!changes.some((change) => SOURCE_SETTINGS.includes(change.name))) return existing.data;
  const command = sourceArguments(recorded.inputs, cwd).map(shellWord).join(" ");
  const shown = printable(command, Infinity) === command && command.length <= 300 ? ` (\`${command}\`)` : " (see `[tool.mpip]` in the lock)";
  throw new OutdatedLock(given, changes, `\`${printable(given)}\` was locked against other indexes or folders${shown}: give those to check it, or run this command without --check to lock against these, and commit the new lock`);
}

/** The lock a resolution gives now, as data. */
async function resolveLock(options: LockOptions, recorded: Required<Pick<Lock, "build" | "inputs">>): Promise<Lock> {
  const { reporter } = options;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (options.signal !== undefined) allowManyListeners(options.signal);
  const scope = new RunScope(options.signal);
  const { http, sources, firstMip } = await openSources(options, limits, scope);
  // Fetched and unpacked as an install would (to hash every file and read every dependency), beside nothing.
  const scratch = await mkdtemp(path.join(os.tmpdir(), "mpip-lock-"));
  const context = prepareContext(options, { http, staging: { packageDir: (key) => path.join(scratch, key) }, limits, scope, firstMip });
  try {
    const roots = new Set(options.requests);
    const resolved = await resolveAndPrepare(options, { sources, scope, context });
    reporter.clearProgress();
    for (const node of resolved) {
      reporter.detail(`${node.name}${node.version === "" ? "" : ` ${node.version}`} from ${node.prepared.origin} (sha256 ${node.prepared.sha256})`);
      for (const warning of node.prepared.warnings) reporter.warn(warning);
    }
    const kinds = sourceKinds(sources);
    const cwd = options.cwd ?? process.cwd();
    const localFolders = new Set(options.indexUrls.flatMap((url) => parseIndexLocation(url, cwd).folder ?? []));
    const packages = lockedPackages(resolved, { kindOf: (source) => kinds.get(source), localFolders, requested: (node: ResolvedPackage<Staged>) => node.requests.some((request) => roots.has(request)) });
    return { packages, ...recorded };
  } catch (error) {
    reporter.clearProgress();
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    await http.close();
    scope.dispose();
  }
}

/**
 * The text must read back (smol-toml, then mpip's reader) as the lock it was written from: the same
 * packages, versions and file hashes. Anything else is a bug in the writer, said as one.
 */
function checkReadsBack(text: string, lockFile: string, made: Lock): void {
  const read = parseLock(text, lockFile);
  const facts = (item: LockedPackage) => JSON.stringify([item.name, item.version, item.origin, item.requested, item.artifact]);
  const back = new Map(read.packages.map((item) => [item.name, facts(item)]));
  const wrong = made.packages.find((item) => back.get(item.name) !== facts(item));
  if (wrong !== undefined || read.packages.length !== made.packages.length || JSON.stringify(read.build) !== JSON.stringify(made.build) || JSON.stringify(read.inputs) !== JSON.stringify(made.inputs)) {
    throw new Error(`the lock written for ${lockFile} does not read back as what was locked${wrong === undefined ? "" : `: ${facts(wrong)} reads back as ${back.get(wrong.name) ?? "nothing"}`}`);
  }
}

/** What differs between the lock on disk (`text`) and `now`; one line saying it cannot be read, if so. */
function changesFrom(text: string, lockFile: string, now: Lock): LockChange[] {
  try {
    return diffLocks(parseLock(text, lockFile), now);
  } catch (error) {
    return [{ type: "settings", name: "", text: `the lock on disk cannot be read: ${error instanceof Error ? error.message : String(error)}` }];
  }
}
