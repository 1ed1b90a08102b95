// How every part of the download cache (content/, tmp/, http/, mpy/) says, once, that it cannot be
// written: the same words, naming what stands in the way and what is not cached because of it.

import { lstatSync, statSync } from "node:fs";
import path from "node:path";
import { printable } from "../text.js";

/**
 * The warning every part of the cache gives, once, when it cannot be written: the cache folder, what is in
 * the way (describeWriteError), and `what` is therefore not cached (`downloaded files`, `index answers`,
 * `compiled sizes`), with what to do: `advice`, by default the options of the commands that download.
 * Never throws.
 */
export function cacheWriteWarning(dir: string, error: unknown, what: string, advice = "give --cache-dir a writable folder, or --no-cache"): string {
  return `the cache \`${printable(dir)}\` cannot be written (${describeWriteError(error)}); ${what} are not cached in this run (${advice})`;
}

/**
 * What failed, in words: where something other than a folder stands at a folder's path (mkdir's EEXIST)
 * or on it (ENOTDIR), which path it is (the first on the way that is not a folder: `content`, not
 * `content/sha256/3e`) and what it is; else the errno code and the path Node names.
 */
function describeWriteError(error: unknown): string {
  const { code, path: at, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (code === undefined) return String(error);
  if (at === undefined) return code;
  if ((code === "EEXIST" && syscall === "mkdir") || code === "ENOTDIR") {
    const blocker = firstNonFolder(at);
    if (blocker !== undefined) return `\`${printable(blocker.path)}\` is ${blocker.what}, not a folder`;
    return code === "ENOTDIR" ? `something on the path \`${printable(at)}\` is not a folder` : `\`${printable(at)}\` is not a folder`;
  }
  return `${code} on \`${printable(at)}\``;
}

/** The first path from the root down to `target` that exists and is not a folder, and what it is. */
function firstNonFolder(target: string): { path: string; what: string } | undefined {
  const parts: string[] = [];
  for (let at = path.resolve(target); ; at = path.dirname(at)) {
    parts.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const at of parts) {
    let info;
    try {
      info = lstatSync(at);
    } catch {
      return undefined;
    }
    if (info.isDirectory()) continue;
    if (info.isSymbolicLink()) {
      const resolved = statSync(at, { throwIfNoEntry: false });
      if (resolved?.isDirectory() === true) continue;
      return { path: at, what: resolved === undefined ? "a broken symbolic link" : "a symbolic link to something else" };
    }
    return { path: at, what: info.isFile() ? "a file" : info.isFIFO() ? "a named pipe" : info.isSocket() ? "a socket" : info.isCharacterDevice() || info.isBlockDevice() ? "a device" : "something else" };
  }
  return undefined;
}
