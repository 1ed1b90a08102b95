// Whether one firmware loads every `.mpy` file of an image, for installs that name no firmware: the
// files then go in unchecked, and a package shipping `.mpy` 5 beside another's `.mpy` 6 (or beside what
// the target already holds) makes an image part of which fails to import on any board. The rule is
// target.ts's (docs/reference/mpyfiles.rst): all files share the major version; files with native code
// also share the sub-version and the architecture.

import { printable } from "../text.js";
import { describeMpy, type MpyHeader } from "./header.js";
import { firmwareFor } from "./target.js";

export interface ImageMpy {
  /** Relative to the target, `/`-separated. */
  file: string;
  /** Who puts it there, for messages: `from \`foo 1.0\``, or `already in the target`. */
  owner: string;
  header: MpyHeader;
}

/** How many files of one kind a warning names before it says "and N more". */
const NAMED = 2;

/**
 * A warning (one line) when no firmware loads every file of `files`, naming for each kind of `.mpy`
 * in the image (`mpy 5 bytecode`, `mpy 6.2 (native xtensawin)`) some of its files and the firmware
 * they load on; undefined when one firmware loads them all.
 */
export function mixedMpyWarning(files: readonly ImageMpy[]): string | undefined {
  const majors = new Set(files.map((entry) => entry.header.major));
  const native = files.filter((entry) => entry.header.arch !== undefined);
  const subs = new Set(native.map((entry) => entry.header.sub));
  const arches = new Set(native.map((entry) => entry.header.arch));
  if (majors.size <= 1 && subs.size <= 1 && arches.size <= 1) return undefined;
  const kinds = new Map<string, ImageMpy[]>();
  for (const entry of [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    const kind = describeMpy(entry.header);
    kinds.set(kind, [...(kinds.get(kind) ?? []), entry]);
  }
  const parts = [...kinds].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([kind, entries]) => {
    const named = entries.slice(0, NAMED).map((entry) => `\`${printable(entry.file)}\` (${entry.owner})`).join(", ");
    const more = entries.length > NAMED ? ` and ${entries.length - NAMED} more` : "";
    const verb = entries.length === 1 ? "is" : "are";
    return `${named}${more} ${verb} ${kind}, which loads on ${firmwareFor(entries[0]!.header)}`;
  });
  return `no one firmware loads every .mpy file of the image: ${parts.join("; ")}. Give the board's MicroPython version with \`--target-version\` to have each .mpy checked against it`;
}
