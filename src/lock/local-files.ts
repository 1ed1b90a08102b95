// Which files on this machine a lock may make mpip read. A lock names its local files by path (PEP 751:
// relative to the lock), and locks that other tools write may name them by `file:` URL. A lock is a file
// the user names, as a `-r` file is, but it is usually committed to a repository, where whoever can change
// a pull request can change it: a hostile lock must not make mpip read the user's other files (an SSH key,
// a token), copy them into an image, or print their sha256 in a mismatch (for a short secret, that is as
// good as the secret). So a lock's files, and the project folders it names, are read only in the places
// the lock belongs to: its own folder and below, or anywhere in the git clone that holds it (the nearest
// folder above it with `.git`: the rule a local package.json's files follow, sources/local-root.ts), but
// never git's own data (`.git`); and in the folders given with `-i` on the same command line, which the
// user names. Symbolic links are resolved first. What passes is read as any local file is (fetch.ts):
// regular files only (never a FIFO or a device), within the size limits, checked against the lock's sha256.

import { realpath } from "node:fs/promises";
import path from "node:path";
import { isInside } from "../archive/entry-path.js";
import { MpipError } from "../errors.js";
import { parseIndexLocation } from "../sources/index-kind.js";
import { localDocumentRoot, throughGitData } from "../sources/local-root.js";
import { printable } from "../text.js";
import type { Lock, LockedPackage } from "./format.js";

/** How many refused paths one error lists; the rest are counted. */
const LISTED = 10;

/**
 * Refuses a lock naming a file or folder on this machine outside the places it may read from (see the
 * module comment); `folders` are the local folders given with `-i` (absolute). Missing paths are checked
 * as written (reading them then reports them missing). Reads nothing but the file system's links.
 * @throws MpipError `unsafe-path`, naming every such path with its package, before anything is fetched.
 */
export async function checkLockedPaths(lock: Pick<Lock, "packages">, lockFile: string, folders: readonly string[]): Promise<void> {
  const { own, outside } = await lockedPathsOutside(lock, lockFile, folders);
  if (outside.length === 0) return;
  throw new MpipError("unsafe-path", `refused to read what \`${printable(lockFile)}\` names outside the folder that may hold a lock's files (\`${printable(own, 300)}\`${folders.length === 0 ? "" : " and the folders given with -i"}): ${listed(outside)}; nothing was read`, {
    hint: "a lock's local files must lie in its own folder or below, or in the git clone that holds it (never in `.git`); if you trust this lock, give the folder that holds them with `-i DIR` (a folder of sdists too: -i reads one as -f does), or lock again from files inside the project",
  });
}

/**
 * What `mpip lock` says of a lock it writes whose local files `install --lock` would refuse unless given
 * their folders with `-i` (see checkLockedPaths), or undefined: a warning naming them, and how to install
 * from it all the same. Files of a local index the lock was made from count too: the lock records that
 * index, but an install trusts only the folders given on its own command line.
 */
export async function lockedPathsWarning(lock: Pick<Lock, "packages">, lockFile: string): Promise<string | undefined> {
  const { own, outside } = await lockedPathsOutside(lock, lockFile, []);
  if (outside.length === 0) return undefined;
  return `\`${printable(lockFile)}\` names files outside the folder that may hold a lock's files (\`${printable(own, 300)}\`): ${listed(outside)}; \`mpip install --lock\` refuses to read them unless given the folder that holds them with \`-i DIR\` (a folder of sdists too: -i reads one as -f does; to make a lock anyone can install from, keep the files inside the project)`;
}

/** The paths of `lock` on this machine outside the places a lock may read from, as messages name them. */
async function lockedPathsOutside(lock: Pick<Lock, "packages">, lockFile: string, folders: readonly string[]): Promise<{ own: string; outside: string[] }> {
  const own = await localDocumentRoot(lockFile);
  const places = await Promise.all([own, ...folders].map(async (folder) => {
    const given = path.resolve(folder);
    return { given, real: await realpath(given).catch(() => given) };
  }));
  const outside: string[] = [];
  for (const item of lock.packages) {
    for (const { what, file } of localPaths(item)) {
      const given = path.resolve(file);
      const real = await realpath(given).catch(() => undefined);
      // As written and, links resolved, where it really is: both must be in one of the places.
      const allowed = places.some((place) => within(place.given, given)) && (real === undefined || places.some((place) => within(place.real, real)));
      if (!allowed) outside.push(`${what} at \`${printable(given, 300)}\`${real !== undefined && real !== given ? ` (a symbolic link to \`${printable(real, 300)}\`)` : ""}`);
    }
  }
  return { own, outside };
}

/** At most LISTED of `paths`, the rest counted. */
function listed(paths: readonly string[]): string {
  return paths.slice(0, LISTED).join("; ") + (paths.length > LISTED ? `; and ${paths.length - LISTED} more` : "");
}

/** The absolute folders of the local indexes among `indexUrls` (given with `-i`): a lock's files may lie there too. */
export function localFolders(indexUrls: readonly string[], cwd: string | undefined): string[] {
  return indexUrls.flatMap((url) => parseIndexLocation(url, cwd).folder ?? []);
}

/** `file` is `folder` or inside it, and not in a `.git` folder there. */
function within(folder: string, file: string): boolean {
  return isInside(folder, file, path.sep) && !throughGitData(path.relative(folder, file));
}

/** The files and folders on this machine that installing `item` reads, as messages name them. */
function localPaths(item: LockedPackage): Array<{ what: string; file: string }> {
  const shown = `\`${printable(item.name, 100)}${item.version === "" ? "" : ` ${printable(item.version, 60)}`}\``;
  const { artifact } = item;
  switch (artifact.type) {
    case "dist":
      return artifact.file.location.type === "local" ? [{ what: `the sdist of ${shown}`, file: artifact.file.location.path }] : [];
    case "module":
      return artifact.file.location.type === "local" ? [{ what: `\`${printable(artifact.file.dest)}\` of ${shown}`, file: artifact.file.location.path }] : [];
    case "project":
      return [{ what: `the project folder of ${shown}`, file: artifact.path }];
    case "package-json":
      return [
        ...(artifact.document.location.type === "local" ? [{ what: `the package document of ${shown}`, file: artifact.document.location.path }] : []),
        ...artifact.files.flatMap((file) => (file.location.type === "local" ? [{ what: `\`${printable(file.dest)}\` of ${shown}`, file: file.location.path }] : [])),
      ];
  }
}
