// One file under two names: on the filesystems that fold names (FAT on a board's SD card, macOS),
// `Mod.py` and `mod.py` are one file. A package going (an uninstall, an upgrade, a sync) must not take
// such a file from another package whose record keeps it under the other spelling; a package coming
// that ships it under another spelling takes it over (the earlier record gives it up); and what the
// records list is found on the disk under the spelling the folders give it (`list`, `show`).

import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { widestFold } from "../image/name-rules.js";

/**
 * The files of `removals` (target-relative, `/`-separated) that are, on the target's filesystem, a file
 * `kept` lists under another spelling: on FAT and macOS `Mod.py` and `mod.py` (or `Pkg/a.py` and
 * `pkg/a.py`) are one file, so removing one name (a package going) takes the file another package's
 * record keeps. See `sameFilesOnDisk`.
 */
export function foldedTwins(target: string, removals: Iterable<string>, kept: Iterable<string>): Set<string> {
  return new Set(sameFilesOnDisk(target, removals, kept).keys());
}

/**
 * For each path of `files` that is, on the target's filesystem, one file with a path of `others` spelt
 * otherwise (`Mod.py` and `mod.py` on FAT or macOS), that other path. Told by the folders' own listings
 * (`diskSpelling`): two paths that lead to the same entries are one file. Names that no filesystem folds
 * alike are never looked at; a path not on the disk has no twin. Throws nothing.
 */
export function sameFilesOnDisk(target: string, files: Iterable<string>, others: Iterable<string>): Map<string, string> {
  const byFold = new Map<string, string[]>();
  for (const file of others) byFold.set(widestFold(file), [...(byFold.get(widestFold(file)) ?? []), file]);
  const onDisk = diskSpelling(target);
  const twins = new Map<string, string>();
  for (const file of files) {
    const candidates = (byFold.get(widestFold(file)) ?? []).filter((other) => other !== file);
    if (candidates.length === 0) continue;
    const self = onDisk(file);
    const twin = self === undefined ? undefined : candidates.find((other) => onDisk(other) === self);
    if (twin !== undefined) twins.set(file, twin);
  }
  return twins;
}

/**
 * A function giving a target-relative path as the target's folders spell it on the disk (`Pkg/A.py` for
 * `pkg/a.py` on FAT, where the folder lists `Pkg` and `A.py`), or undefined where a name is not there
 * (or is ambiguous). Each path is followed from the target through the names its folders list: a name
 * found as listed or, where the folder lists no such name, as the one entry the filesystem took it for
 * (it answers lstat under that name). Folder listings are read once per function. Throws nothing.
 */
export function diskSpelling(target: string): (file: string) => string | undefined {
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
  return (file: string): string | undefined => {
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
}
