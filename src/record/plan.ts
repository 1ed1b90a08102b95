// Installing over an existing image, decided from the records alone (pure: no I/O): which recorded
// distributions the install replaces, which of their files go, which files each new distribution owns,
// and whose RECORD must be rewritten because a later package now ships one of its files.
//
// Rules (README "Installing over an existing image"):
// - a distribution already recorded under the same normalized name is replaced as a whole: every file
//   its RECORD lists (and its `.dist-info` folder) that the new install does not ship again is removed;
// - a file two packages ship belongs to the later one (plan order, then new over old): the earlier
//   one's RECORD no longer lists it, so removing or upgrading that one never deletes it;
// - nothing a kept distribution's RECORD lists is removed, and files no RECORD lists are never removed;
// - (stage.ts, which looks at the disk) a file changed since it was installed is kept, as uninstall keeps it.

import { recordedFiles, recordFolderFiles, type InstalledDistribution } from "./installed.js";
import type { RecordRow } from "./read.js";

export interface IncomingDistribution {
  /** PEP 503 normalized name. */
  key: string;
  /** Its files, relative to the target. */
  files: readonly string[];
}

export interface ImagePlan<T extends IncomingDistribution, D extends InstalledDistribution = InstalledDistribution> {
  /** The files each incoming distribution's RECORD lists: those no later one ships. */
  owned: Map<T, string[]>;
  /** Recorded distributions the install replaces (every record of an incoming name: there may be several) or removes (see `removing`). */
  replaced: D[];
  /** Target files to remove (the commit passes over those it also writes). */
  removals: string[];
  /** Kept distributions that lose files to incoming ones, with their RECORD's rows left. */
  rewrites: Array<{ distribution: D; rows: RecordRow[] }>;
  /** Incoming files that no record lists: if one is in the target, the install overwrites a file of no package. */
  unrecorded: string[];
}

/**
 * Plans an install of `incoming` (in plan order) over the distributions `installed` in the target. The
 * distributions whose keys are in `removing` go as a replaced one goes, with nothing in their place
 * (`mpip sync` removing what its lock does not list). `twins` maps a recorded path to the incoming path
 * that the target's filesystem takes for the same file (`Mod.py` recorded, `mod.py` shipped, on FAT:
 * twins.ts `sameFilesOnDisk`): such a file is shipped again, as if under its own spelling. Throws nothing.
 */
export function planImage<T extends IncomingDistribution, D extends InstalledDistribution>(installed: readonly D[], incoming: readonly T[], removing: ReadonlySet<string> = new Set(), twins: ReadonlyMap<string, string> = new Map()): ImagePlan<T, D> {
  const incomingKeys = new Set(incoming.map((item) => item.key));
  const goes = (item: InstalledDistribution) => incomingKeys.has(item.key) || removing.has(item.key);
  const replaced = installed.filter(goes);
  const kept = installed.filter((item) => !goes(item));
  const finalOwner = new Map<string, T>();
  for (const item of incoming) for (const file of item.files) finalOwner.set(file, item);
  const owned = new Map<T, string[]>(incoming.map((item) => [item, [...new Set(item.files.filter((file) => finalOwner.get(file) === item))]]));
  // A recorded file is shipped again under its own spelling, or under another the filesystem takes for it.
  const shipped = (file: string) => finalOwner.has(file) || finalOwner.has(twins.get(file) ?? "");

  const keptFiles = new Set(kept.flatMap(recordedFiles));
  const removals = new Set<string>();
  for (const old of replaced) {
    for (const file of recordedFiles(old)) if (!shipped(file) && !keptFiles.has(file)) removals.add(file);
    for (const file of recordFolderFiles(old)) removals.add(file);
  }

  const rewrites: ImagePlan<T, D>["rewrites"] = [];
  for (const distribution of kept) {
    const rows = distribution.rows.filter((row) => !shipped(row.path));
    if (rows.length !== distribution.rows.length) rewrites.push({ distribution, rows });
  }

  const recordedPaths = installed.flatMap(recordedFiles);
  const recorded = new Set([...recordedPaths, ...recordedPaths.flatMap((file) => (twins.has(file) ? [twins.get(file)!] : []))]);
  const unrecorded = [...finalOwner.keys()].filter((file) => !recorded.has(file));
  return { owned, replaced, removals: [...removals], rewrites, unrecorded };
}

/**
 * `.py` files that would shadow an `.mpy` of the same module once the install is done (MicroPython
 * imports the `.py`), where the two are not one package's choice (`--keep-sources` keeps both on
 * purpose): pairs of target paths, given every file the image holds afterwards and who owns each.
 */
export function shadowedModules(finalFiles: ReadonlyMap<string, string | undefined>): Array<{ source: string; compiled: string }> {
  const pairs: Array<{ source: string; compiled: string }> = [];
  for (const [file, owner] of finalFiles) {
    if (!file.endsWith(".mpy")) continue;
    const source = `${file.slice(0, -".mpy".length)}.py`;
    if (!finalFiles.has(source)) continue;
    const sourceOwner = finalFiles.get(source);
    if (owner !== undefined && sourceOwner === owner) continue;
    pairs.push({ source, compiled: file });
  }
  return pairs;
}
