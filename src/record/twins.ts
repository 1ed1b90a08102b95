// One file under two names: on the filesystems that fold names (FAT on a board's SD card, macOS),
// `Mod.py` and `mod.py` are one file. A package going (an uninstall, an upgrade, a sync) must not take
// such a file from another package whose record keeps it under the other spelling.

import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { widestFold } from "../image/name-rules.js";
/**
 * The files of `removals` (target-relative, `/`-separated) that are, on the target's filesystem, a file
 * `kept` lists under another spelling: on FAT and macOS `Mod.py` and `mod.py` are one file, so removing
 * one name (a package going) takes the file another package's record keeps. Told by the folder's own
 * listing: both names are found, but the folder holds only one entry of the two (two files would be
 * listed each). Names that no filesystem folds alike are never looked at.
 */
export function foldedTwins(target: string, removals: Iterable<string>, kept: Iterable<string>): Set<string> {
  const byFold = new Map<string, string[]>();
  for (const file of kept) byFold.set(widestFold(file), [...(byFold.get(widestFold(file)) ?? []), file]);
  const twins = new Set<string>();
  const listings = new Map<string, Set<string> | undefined>();
  const listing = (dir: string) => {
    if (!listings.has(dir)) {
      let names: Set<string> | undefined;
      try {
        names = new Set(readdirSync(path.join(target, dir)));
      } catch {
        names = undefined;
      }
      listings.set(dir, names);
    }
    return listings.get(dir);
  };
  for (const file of removals) {
    const others = (byFold.get(widestFold(file)) ?? []).filter((other) => other !== file);
    if (others.length === 0 || lstatSync(path.join(target, file), { throwIfNoEntry: false }) === undefined) continue;
    for (const other of others) {
      const [dir, otherDir] = [path.posix.dirname(file), path.posix.dirname(other)];
      const names = listing(dir);
      const otherNames = listing(otherDir);
      const bothListed = names?.has(path.posix.basename(file)) === true && otherNames?.has(path.posix.basename(other)) === true;
      if (!bothListed && lstatSync(path.join(target, other), { throwIfNoEntry: false }) !== undefined) {
        twins.add(file);
        break;
      }
    }
  }
  return twins;
}
