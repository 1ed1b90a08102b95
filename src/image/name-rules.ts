// Which names are one file on the target's filesystem. On FAT and exFAT (the SD cards and flash of most
// boards, on any host), macOS and Windows, `Mod.py` and `mod.py` are one file; so are an é written
// composed and decomposed on macOS, and `mod.py.` and `mod.py` on Windows. A commit that took two
// such destinations for two files would back the one existing file up twice under one name, and its
// roll-back could not give the original back. Rather than guess from the platform, the commit asks the
// filesystem itself: it creates a few probe files in the staging folder (on the target's filesystem)
// and looks each up under another spelling.
//
// Probing costs a few system calls, so it is done only when two destinations could be one file under
// the widest rules (`widestFold`): in most installs no two could.

import path from "node:path";
import type { FullCommitFs } from "./fs-ops.js";

export interface NameRules {
  /** A-Z and a-z are the same. */
  asciiCase: boolean;
  /** Letters beyond ASCII too (É and é). */
  unicodeCase: boolean;
  /** Composed and decomposed Unicode are the same (é as U+00E9 and as e + U+0301). */
  normalization: boolean;
  /** Trailing dots and spaces are dropped (`mod.py.` is `mod.py`), as FAT and Windows do. */
  trailingDotsSpaces: boolean;
}

export const EXACT: NameRules = { asciiCase: false, unicodeCase: false, normalization: false, trailingDotsSpaces: false };
const WIDEST: NameRules = { asciiCase: true, unicodeCase: true, normalization: true, trailingDotsSpaces: true };

/** The key under which `relative` (a `/`-separated path) and every name that is the same file share one value. */
export function foldPath(relative: string, rules: NameRules): string {
  // Most names are printable ASCII, no part ending in a dot or a space: the rules can only change
  // their case, which folds as a whole (a commit folds each of thousands of paths several times).
  if (PRINTABLE_ASCII.test(relative) && !ENDS_IN_DOT_OR_SPACE.test(relative)) return rules.asciiCase || rules.unicodeCase ? relative.toLowerCase() : relative;
  return relative.split("/").map((segment) => foldName(segment, rules)).join("/");
}

const PRINTABLE_ASCII = /^[ -~]*$/;
/** A part of a path that ends in a dot or a space, which FAT and Windows drop. */
const ENDS_IN_DOT_OR_SPACE = /[. ](?:\/|$)/;

function foldName(name: string, rules: NameRules): string {
  let folded = rules.normalization ? name.normalize("NFC") : name;
  if (rules.trailingDotsSpaces) folded = folded.replace(/[. ]+$/, "") || folded;
  if (rules.unicodeCase) folded = folded.toLowerCase();
  else if (rules.asciiCase) folded = folded.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
  return folded;
}

/** The key under the widest rules any filesystem applies: two paths with different keys are never one file. */
export function widestFold(relative: string): string {
  return foldPath(relative, WIDEST);
}

/** Whether any two of `paths` could be one file on some filesystem. */
export function mayAlias(paths: Iterable<string>): boolean {
  const seen = new Set<string>();
  for (const file of paths) {
    const key = widestFold(file);
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

const PROBES: Array<{ rule: keyof NameRules; create: string; lookUp: string }> = [
  { rule: "asciiCase", create: "case-probe", lookUp: "CASE-PROBE" },
  { rule: "unicodeCase", create: "\u00e9-probe", lookUp: "\u00c9-probe" },
  { rule: "normalization", create: "\u00f1-probe", lookUp: "n\u0303-probe" },
  { rule: "trailingDotsSpaces", create: "dot-probe", lookUp: "dot-probe." },
];

/**
 * Asks the filesystem holding `folder` (an empty folder of the staging area) which names it treats as
 * one, by creating a file under one spelling and looking it up under another.
 */
export async function probeNameRules(folder: string, fs: FullCommitFs): Promise<NameRules> {
  const rules: NameRules = { ...EXACT };
  await fs.mkdir(folder);
  for (const probe of PROBES) {
    try {
      await fs.writeFile(path.join(folder, probe.create), "");
    } catch {
      // A filesystem that cannot hold the probe's name (non-ASCII on some FAT setups) holds no two such names either.
      continue;
    }
    rules[probe.rule] = await fs.lstat(path.join(folder, probe.lookUp)).then(() => true, () => false);
  }
  // A filesystem that folds beyond ASCII folds ASCII too.
  if (rules.unicodeCase) rules.asciiCase = true;
  return rules;
}
