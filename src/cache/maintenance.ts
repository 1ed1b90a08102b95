// `mpip cache info` and `mpip cache clean`: what the cache folder holds, part by part, and removing
// entries (all, or those not used for longer than a duration: an entry's mtime is set each time it is
// used). Only mpip's own folders in the cache folder are looked at (cache.ts CACHE_PARTS), never what
// else the folder holds, and no link is followed: a link where an entry or a folder of entries should
// be is itself an entry, removed as one.
//
// Safe while another mpip uses the cache: an entry is one file, removed in one step, so no run sees half
// of one; a run that opened an entry before it was removed reads it whole (POSIX), and one that looks
// after finds nothing and fetches again. A write in progress that loses its temporary file just does not
// cache what it downloaded.

import { lstat, readdir, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { CACHE_PARTS } from "./cache.js";

export type CachePart = keyof typeof CACHE_PARTS;

/** Entries and their bytes (a folder or a link where an entry should be counts as an entry of 0 bytes). */
export interface Tally {
  entries: number;
  bytes: number;
}

export interface CacheInfo {
  dir: string;
  /** False when the folder does not exist (nothing was cached yet). */
  exists: boolean;
  /**
   * `content`: downloaded files, by sha256; `http`: answers of index documents and hashless files, by URL
   * (their bodies are in `content`); `mpy`: compiled sizes for `mpip list --size`; `tmp`: entries being
   * written, or left by a run that was killed.
   */
  parts: Record<CachePart, Tally>;
  total: Tally;
}

/**
 * How many entries and bytes each part of the cache at `dir` holds.
 * @throws MpipError `io` when `dir` exists but cannot be read.
 */
export async function cacheInfo(dir: string): Promise<CacheInfo> {
  const exists = await folderExists(dir);
  const parts = emptyParts();
  if (exists) {
    for (const part of Object.keys(CACHE_PARTS) as CachePart[]) {
      for (const entry of await entriesOf(dir, part)) add(parts[part], entry);
    }
  }
  return { dir, exists, parts, total: sum(parts) };
}

export interface CleanResult {
  dir: string;
  removed: Record<CachePart, Tally>;
  total: Tally;
  /** Entries that could not be removed (in use on systems that refuse, or not permitted), with why. */
  kept: string[];
}

/**
 * Removes the cache's entries: all of them, or (with `olderThanMs`) those whose last use is longer ago
 * than that, measured from `now`. Folders left empty are removed too.
 * @throws MpipError `io` when `dir` exists but cannot be read.
 */
export async function cleanCache(dir: string, options: { olderThanMs?: number; now?: number } = {}): Promise<CleanResult> {
  const removed = emptyParts();
  const kept: string[] = [];
  const cutoff = options.olderThanMs === undefined ? undefined : (options.now ?? Date.now()) - options.olderThanMs;
  if (await folderExists(dir)) {
    for (const part of Object.keys(CACHE_PARTS) as CachePart[]) {
      const entries = await entriesOf(dir, part);
      for (const entry of entries) {
        if (cutoff !== undefined && entry.mtimeMs >= cutoff) continue;
        try {
          await rm(entry.file, { recursive: true, force: true });
          add(removed[part], entry);
        } catch (error) {
          kept.push(`\`${printable(entry.file)}\` (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
        }
      }
      await removeEmptyFolders(path.join(dir, CACHE_PARTS[part]));
    }
  }
  return { dir, removed, total: sum(removed), kept };
}

interface Entry {
  file: string;
  bytes: number;
  mtimeMs: number;
}

/**
 * The entries of a part: files (and anything else) at the depth its layout puts them (`content/sha256/ab/x`,
 * `http/ab/x.json`, `mpy/ab/x.mpy`, `tmp/x`); a folder where an entry should be is one entry, and so is a
 * link where a folder of entries should be.
 */
async function entriesOf(dir: string, part: CachePart): Promise<Entry[]> {
  const depth = part === "content" ? 3 : part === "tmp" ? 1 : 2;
  const entries: Entry[] = [];
  const walk = async (folder: string, level: number): Promise<void> => {
    for (const name of await listFolder(folder)) {
      const file = path.join(folder, name);
      const stats = await lstat(file).catch(() => undefined);
      if (stats === undefined) continue; // removed meanwhile by another run
      if (level < depth && stats.isDirectory()) await walk(file, level + 1);
      else entries.push({ file, bytes: stats.isFile() ? stats.size : 0, mtimeMs: stats.mtimeMs });
    }
  };
  const root = path.join(dir, CACHE_PARTS[part]);
  const stats = await lstat(root).catch(() => undefined);
  if (stats?.isDirectory() === true) await walk(root, 1);
  else if (stats !== undefined) entries.push({ file: root, bytes: 0, mtimeMs: stats.mtimeMs });
  return entries;
}

async function listFolder(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw new MpipError("io", `cannot read the cache folder \`${printable(folder)}\` (${code ?? String(error)})`, { cause: error, hint: "check its permissions" });
  }
}

/** Removes the folders below `root` (and `root`) that are empty, deepest first; one in use stays. */
async function removeEmptyFolders(root: string): Promise<void> {
  const stats = await lstat(root).catch(() => undefined);
  if (stats?.isDirectory() !== true) return;
  for (const name of await listFolder(root)) await removeEmptyFolders(path.join(root, name));
  await rmdir(root).catch(() => undefined);
}

/** Whether the cache folder exists. @throws MpipError `usage` when it is something else, `io` when it cannot be looked at. */
async function folderExists(dir: string): Promise<boolean> {
  try {
    // The cache folder itself may be a link the user made (MPIP_CACHE_DIR); below it, nothing is followed.
    if ((await stat(dir)).isDirectory()) return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw new MpipError("io", `cannot read the cache folder \`${printable(dir)}\` (${code ?? String(error)})`, { cause: error, hint: "check its permissions" });
  }
  throw new MpipError("usage", `the cache folder \`${printable(dir)}\` is not a folder`, { hint: "give --cache-dir (or MPIP_CACHE_DIR) a folder" });
}

function emptyParts(): Record<CachePart, Tally> {
  return { content: { entries: 0, bytes: 0 }, http: { entries: 0, bytes: 0 }, mpy: { entries: 0, bytes: 0 }, tmp: { entries: 0, bytes: 0 } };
}

function add(tally: Tally, entry: Entry): void {
  tally.entries += 1;
  tally.bytes += entry.bytes;
}

function sum(parts: Record<CachePart, Tally>): Tally {
  return Object.values(parts).reduce((total, tally) => ({ entries: total.entries + tally.entries, bytes: total.bytes + tally.bytes }), { entries: 0, bytes: 0 });
}
