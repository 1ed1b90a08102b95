// How far a local package.json's relative `urls` may reach: authors keep a package.json in a subfolder
// of their repository and point it at sources elsewhere in the same repository (`../../src/x.py`), and
// test it from their clone before pushing. The clone is the limit, never beyond; outside a clone, the
// document's own folder is.

import { lstat } from "node:fs/promises";
import path from "node:path";

/**
 * The folder a local package document's files must stay in: the nearest folder at or above the
 * document's own that holds `.git` (a folder, or the file a worktree or submodule has), else the
 * document's own folder. `document` is the document's path (made absolute). A folder that cannot be
 * looked into (no permission) ends the search with the document's folder: never wider than is known.
 * Throws nothing.
 */
export async function localDocumentRoot(document: string): Promise<string> {
  const own = path.dirname(path.resolve(document));
  for (let folder = own; ; folder = path.dirname(folder)) {
    try {
      await lstat(path.join(folder, ".git"));
      return folder;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") return own;
    }
    if (path.dirname(folder) === folder) return own;
  }
}

/**
 * Whether `relative` (a path below the folder a local document's files must stay in, `separator`-joined)
 * goes through a `.git` entry: git's own data (its config may hold a remote's token), never a file of the
 * repository that a package could ship, and one no forge serves. Matched as the filesystems match it:
 * without regard to case (macOS, Windows) and to trailing dots and spaces (Windows drops them).
 */
export function throughGitData(relative: string, separator: string = path.sep): boolean {
  return relative.split(separator).some((segment) => segment.replace(/[. ]+$/, "").toLowerCase() === ".git");
}
