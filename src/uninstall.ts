// `mpip uninstall`: remove installed distributions by their records, all or none, under the target's
// lock, in the same journaled commit an install uses (image/commit.ts): a kill leaves the target as it
// was, or without the packages, never half of one.
//
// As pip: only files a RECORD lists are removed; a file another kept distribution's RECORD lists stays;
// a file whose sha256 differs from its RECORD row (changed since install) is kept and reported, unless
// `force`. Dependencies left with no dependents and not asked for by the user are listed as orphans
// (removed too with `withOrphans`).

import { MpipError } from "./errors.js";
import { asInterrupted } from "./image/interrupt.js";
import { TargetSession } from "./image/session.js";
import type { Reporter } from "./log.js";
import { isSafeRecordPath, recordedFiles, recordFolderFiles } from "./record/installed.js";
import { fileStateOnDisk } from "./record/inventory.js";
import { foldedTwins } from "./record/twins.js";
import { describeDuplicates, existingTarget, readRecordsIn, type Distribution } from "./record/read.js";
import { parseRequirement } from "./spec/requirement.js";
import { normalizeName } from "./spec/names.js";
import { closeRecordedNames, printable } from "./text.js";
import { shellWord } from "./shell-words.js";

export interface UninstallOptions {
  target: string;
  /** Distribution names, in any spelling (PEP 503 normalized to match). */
  names: string[];
  /** Say what would be removed, change nothing. */
  dryRun?: boolean;
  /** Remove files changed since install too. */
  force?: boolean;
  /** Remove dependencies that no remaining package needs and the user did not ask for. */
  withOrphans?: boolean;
  wait?: boolean;
  signal?: AbortSignal;
  reporter: Reporter;
  /** Asked, with the plan, before anything changes; false stops with nothing changed. */
  confirm?(plan: UninstallReport): Promise<boolean>;
}

export interface UninstalledDistribution {
  name: string;
  version: string;
  /** Files removed (or to be removed), target-relative. */
  files: string[];
  /** Files its RECORD lists that were changed since install: kept (with `force`, removed: then in `files` too). */
  modified: string[];
  /** Whether it goes as an orphan (a dependency no one needs any more), not by name. */
  orphan: boolean;
}

export interface UninstallReport {
  target: string;
  dryRun: boolean;
  /** Whether the commit ran (false for a dry run or a plan the user declined). */
  done: boolean;
  packages: UninstalledDistribution[];
  /** Dependencies left without dependents, kept (without `withOrphans`). */
  orphans: Array<{ name: string; version: string }>;
  /** Names given that no record in the target matches. */
  notInstalled: string[];
  warnings: string[];
}

/**
 * Removes the distributions named in `options.names` from the target: every record of each name (an
 * image may hold several records whose names PEP 503 makes one: all go, and a warning says so).
 * @throws MpipError `bad-target` (the target is missing or not a folder), `not-found` (none of the names is installed), `locked`, `interrupted`, `io`.
 */
export async function uninstall(options: UninstallOptions): Promise<UninstallReport> {
  const { reporter } = options;
  // A target that is not there (a mistyped -p) is what is wrong, not the names: say so, as `list` does.
  await existingTarget(options.target, "uninstall");
  const image = await TargetSession.open(options.target, { wait: options.wait ?? true, operation: "uninstall", reporter, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  try {
    const installed = (await readRecordsIn(image.target)).distributions;
    const byKey = new Map<string, Distribution[]>();
    for (const item of installed) byKey.set(item.key, [...(byKey.get(item.key) ?? []), item]);
    const chosen = new Map<string, Distribution[]>();
    const notInstalled: string[] = [];
    for (const name of options.names) {
      const found = byKey.get(normalizeName(name));
      if (found === undefined) notInstalled.push(name);
      else chosen.set(found[0]!.key, found);
    }
    if (chosen.size === 0) {
      // The error names them all: a warning per name before it would say the same thing twice.
      const names = options.names.map((name) => `\`${printable(name)}\``);
      throw new MpipError("not-found", `${names.length === 1 ? `${names[0]} is not` : `none of ${names.join(", ")} is`} installed in \`${image.target}\``, {
        hint: [...closeHint(notInstalled, installed), `\`mpip list -p ${printable(shellWord(image.target))}\` shows what is installed; files installed with --no-record, by upip or by mip have no record and are not removed by mpip`],
      });
    }
    for (const name of notInstalled) {
      const near = closeHint([name], installed)[0];
      reporter.warn(`\`${printable(name)}\` is not installed in \`${image.target}\` (no record names it); skipped${near === undefined ? "" : ` (${near.replace(/^`[^`]*`: /, "")})`}`);
    }
    const byName = new Set(chosen.keys());
    const orphans = findOrphans(byKey, new Set(chosen.keys()));
    if (options.withOrphans === true) for (const key of orphans) chosen.set(key, byKey.get(key)!);
    for (const [key, records] of chosen) {
      if (records.length > 1) reporter.warn(`\`${printable(key)}\` is recorded ${records.length} times in \`${image.target}\`: ${describeDuplicates(records)} (names PEP 503 makes one); all of them are removed`);
    }
    refuseUnrecorded([...chosen.values()].flat(), image.target);
    const keptFiles = new Set(installed.filter((item) => !chosen.has(item.key)).flatMap(recordedFiles));
    const packages: UninstalledDistribution[] = [];
    const removals: string[] = [];
    for (const distribution of [...chosen.values()].flat()) {
      const planned = await planRemoval(image.target, distribution, keptFiles, options.force === true);
      removals.push(...planned.files);
      packages.push({ name: distribution.name, version: distribution.version, files: planned.files, modified: planned.modified, orphan: !byName.has(distribution.key) });
      for (const file of planned.modified) {
        reporter.warn(options.force === true
          ? `\`${printable(file)}\` of \`${printable(distribution.name)}\` was changed since it was installed; removed anyway (--force)`
          : options.dryRun === true
            ? `\`${printable(file)}\` of \`${printable(distribution.name)}\` was changed since it was installed; it would be kept (uninstall with --force to remove it too)`
            // The record goes with the package: the file is in no record afterwards, and only a hand can remove it.
            : `\`${printable(file)}\` of \`${printable(distribution.name)}\` was changed since it was installed; kept, and in no record from now on (remove it by hand if it is not wanted; --force removes such files with their package)`);
      }
    }
    // A file another package keeps under another spelling that the filesystem takes for the same (FAT) stays.
    const twins = foldedTwins(image.target, removals, keptFiles);
    if (twins.size > 0) {
      for (const item of packages) item.files = item.files.filter((file) => !twins.has(file));
      removals.splice(0, removals.length, ...removals.filter((file) => !twins.has(file)));
    }
    const leftOrphans = options.withOrphans === true ? [] : orphans.flatMap((key) => byKey.get(key)!.map((item) => ({ name: item.name, version: item.version })));
    for (const dependent of installed.filter((item) => !chosen.has(item.key))) {
      for (const needed of dependencyKeys(dependent)) {
        const gone = chosen.get(needed)?.[0];
        if (gone !== undefined) reporter.warn(`\`${printable(dependent.name)}\`, which stays, requires \`${printable(gone.name)}\`, which is removed`);
      }
    }
    const report: UninstallReport = { target: image.target, dryRun: options.dryRun === true, done: false, packages, orphans: leftOrphans, notInstalled, warnings: reporter.warnings };
    if (options.dryRun === true) return report;
    if (options.confirm !== undefined && !(await options.confirm(report))) return report;
    await image.commit([], [...new Set(removals)]);
    return { ...report, done: true, warnings: reporter.warnings };
  } catch (error) {
    throw asInterrupted(error, options.signal, image.target);
  } finally {
    await image.close();
  }
}

/**
 * The files of `distribution` to remove: its recorded files no kept package lists, unchanged ones (or
 * all, with `force`), and its `.dist-info`. "Changed" is judged as `mpip show --files` judges it
 * (inventory.ts `fileStateOnDisk`): the recorded digest (sha256, sha384, sha512) or size differs.
 */
async function planRemoval(target: string, distribution: Distribution, keptFiles: Set<string>, force: boolean): Promise<{ files: string[]; modified: string[] }> {
  const files: string[] = [];
  const modified: string[] = [];
  const prefix = `${distribution.distInfo}/`;
  for (const row of distribution.rows) {
    if (row.path.startsWith(prefix) || !isSafeRecordPath(row.path) || keptFiles.has(row.path)) continue;
    const state = await fileStateOnDisk(target, row);
    if (state === "missing") continue;
    if (state === "changed") {
      modified.push(row.path);
      if (!force) continue;
    }
    files.push(row.path);
  }
  return { files: [...files, ...recordFolderFiles(distribution).sort()], modified };
}

/** PEP 503 names of what a distribution's Requires-Dist lines name (unreadable lines name nothing). */
function dependencyKeys(distribution: Distribution): string[] {
  const keys: string[] = [];
  for (const line of distribution.requiresDist) {
    try {
      keys.push(normalizeName(parseRequirement(line).name));
    } catch {
      // A line mpip cannot read names no package it could remove.
    }
  }
  return keys;
}

/**
 * Names (PEP 503) of the distributions that only the removed ones needed, transitively: not asked for
 * by the user (no record of the name has REQUESTED), and required by nothing that stays.
 */
function findOrphans(byKey: ReadonlyMap<string, readonly Distribution[]>, removed: ReadonlySet<string>): string[] {
  const gone = new Set(removed);
  const orphans: string[] = [];
  const needs = (key: string, candidate: string) => byKey.get(key)!.some((item) => dependencyKeys(item).includes(candidate));
  for (let changed = true; changed;) {
    changed = false;
    for (const [candidate, records] of byKey) {
      if (gone.has(candidate) || records.some((item) => item.requested)) continue;
      const neededByGone = [...gone].some((key) => byKey.has(key) && needs(key, candidate));
      const neededByKept = [...byKey.keys()].some((key) => !gone.has(key) && key !== candidate && needs(key, candidate));
      if (neededByGone && !neededByKept) {
        gone.add(candidate);
        orphans.push(candidate);
        changed = true;
      }
    }
  }
  return orphans;
}

/**
 * A distribution whose RECORD lists nothing mpip can read (missing, unreadable, or every row refused)
 * cannot be uninstalled: removing its record alone would report success and leave its files in no
 * record, for good. As pip refuses ("RECORD file not found"), the uninstall is refused, naming each one.
 * @throws MpipError `bad-metadata`, before anything is changed.
 */
function refuseUnrecorded(distributions: readonly Distribution[], target: string): void {
  // A RECORD lists at least itself (PEP 376): one that gives no row mpip accepts (missing, unreadable, empty as a
  // card pulled mid-write leaves it, or every row refused) tells nothing of the package's files.
  const unreadable = distributions.filter((item) => item.rows.length === 0);
  if (unreadable.length === 0) return;
  const named = unreadable.map((item) => `\`${printable(item.name)}${item.version === "" ? "" : ` ${printable(item.version, 80)}`}\` (\`${printable(item.distInfo)}/RECORD\`)`).join(", ");
  const first = unreadable[0]!;
  throw new MpipError("bad-metadata", `cannot uninstall ${named} from \`${target}\`: ${unreadable.length === 1 ? "its RECORD is" : "their RECORDs are"} missing, unreadable or lists nothing mpip accepts, so mpip cannot tell which files ${unreadable.length === 1 ? "are its" : "are theirs"}; nothing was changed`, {
    hint: `install it again over itself (\`mpip install --force-reinstall -p ${printable(shellWord(target))} ${printable(shellWord(first.name))}\`), which writes its record, then uninstall it; or remove its files and its \`.dist-info\` folder by hand`,
  });
}

/** The hint naming the recorded packages close to the names not installed (`fmtt`: `fmt`), if any. */
function closeHint(missing: readonly string[], installed: readonly Distribution[]): string[] {
  const near = closeRecordedNames(missing, installed.map((item) => item.name), normalizeName);
  return near === undefined ? [] : [near];
}
