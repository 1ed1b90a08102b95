// One file under two names: on the filesystems that fold names (FAT on a board's SD card, macOS),
// `Mod.py` and `mod.py` are one file. A package going (an uninstall, an upgrade, a sync) must not take
// such a file from another package whose record keeps it under the other spelling.

import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { widestFold } from "../image/name-rules.js";

/**
 * The files of `removals` (target-relative, `/`-separated) that are, on the target's filesystem, a file
 * `kept` lists under another spelling: on FAT and macOS `Mod.py` and `mod.py` (or `Pkg/a.py` and
 * `pkg/a.py`) are one file, so removing one name (a package going) takes the file another package's
 * record keeps. Told by the folders' own listings: each path is followed from the target through the
 * names its folders list, a name found as listed or, where the folder lists no such name, as the one
 * entry the filesystem took it for; two paths that lead to the same entries are one file. Names that no
 * filesystem folds alike are never looked at.
 */
export function foldedTwins(target: string, removals: Iterable<string>, kept: Iterable<string>): Set<string> {
  const byFold = new Map<string, string[]>();
  for (const file of kept) byFold.set(widestFold(file), [...(byFold.get(widestFold(file)) ?? []), file]);
  const listings = new Map<string, string[] | undefined>();
  const listing = (dir: string) => {
    if (!listings.has(dir)) {
      let names: string[] | undefined;
      try {
        names = readdirSync(path.join(target, ...dir.split("/").filter((part) => part !== "")));
      } catch {
        names = undefined;
      }
      listings.set(dir, names);
    }
    return listings.get(dir);
  };
  /** The path as the folders spell it, or undefined where a name is not there (or is ambiguous). */
  const onDisk = (file: string): string | undefined => {
    let dir = "";
    for (const part of file.split("/")) {
      const names = listing(dir);
      if (names === undefined) return undefined;
      let found = names.includes(part) ? part : undefined;
      if (found === undefined) {
        const folded = names.filter((name) => widestFold(name) === widestFold(part));
        // The filesystem took the name for one it lists: only if it does (lstat), and only that one entry.
        if (folded.length !== 1 || lstatSync(path.join(target, ...(dir === "" ? [] : dir.split("/")), part), { throwIfNoEntry: false }) === undefined) return undefined;
        found = folded[0];
      }
      dir = dir === "" ? found! : `${dir}/${found}`;
    }
    return dir;
  };
  const twins = new Set<string>();
  for (const file of removals) {
    const others = (byFold.get(widestFold(file)) ?? []).filter((other) => other !== file);
    if (others.length === 0) continue;
    const self = onDisk(file);
    if (self !== undefined && others.some((other) => onDisk(other) === self)) twins.add(file);
  }
  return twins;
}
