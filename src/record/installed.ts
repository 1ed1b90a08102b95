// What an install or an uninstall acts on of a recorded distribution: the files its RECORD lets mpip
// remove. The records themselves are read in one place, read.ts (`readRecordsIn`), with every check
// against hostile input, so that install and uninstall see the same packages, versions and files as
// `list` and `show`. Pure functions only.

import type { Distribution } from "./read.js";

/**
 * The parts of a recorded distribution (read.ts `Distribution`) that planning an install over it, or
 * its removal, needs.
 */
export type InstalledDistribution = Pick<Distribution, "distInfo" | "name" | "key" | "version" | "requiresDist" | "rows" | "infoFiles" | "requested">
  & Partial<Pick<Distribution, "summary" | "origin">>;

/** The target-relative paths a distribution's RECORD lists, outside its own `.dist-info` folder. */
export function recordedFiles(distribution: InstalledDistribution): string[] {
  const prefix = `${distribution.distInfo}/`;
  return distribution.rows.map((row) => row.path).filter((file) => !file.startsWith(prefix) && isSafeRecordPath(file));
}

/**
 * The files of a distribution's own `.dist-info` folder: those at its top, and those its RECORD lists
 * below it (pip's `licenses/`).
 */
export function recordFolderFiles(distribution: InstalledDistribution): string[] {
  const prefix = `${distribution.distInfo}/`;
  return [...new Set([...distribution.infoFiles, ...distribution.rows.map((row) => row.path).filter((file) => file.startsWith(prefix) && isSafeRecordPath(file))])];
}

/**
 * A RECORD path mpip acts on: relative, `/`-separated, inside the target. Paths that leave it (pip
 * writes `../../bin/x` for scripts) or are absolute are never removed by mpip. (read.ts drops such
 * rows already; this keeps a distribution built any other way just as safe.)
 */
export function isSafeRecordPath(file: string): boolean {
  return file !== "" && !file.startsWith("/") && !/^[A-Za-z]:/.test(file) && !file.includes("\\") && !file.includes("\0") && !file.split("/").some((part) => part === ".." || part === "." || part === "");
}
