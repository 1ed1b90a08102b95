// What a FAT device sees of a name. The flash and SD cards of most boards are FAT (VFAT long names; exFAT
// on large cards), written by the board's FatFs or by a host, often Windows. Two rules follow, one per
// function, and every place that decides a name (tar unpacking, package documents, single modules,
// `mpip pack` and `repack`, `mpip check`, the warnings across packages) uses them:
//
// - a name FAT cannot hold at all (`fatNameProblem`): `"*:<>?|\`, `/` and control characters are refused
//   by FatFs and Windows; trailing dots and spaces are stripped by both (so `mod.py.` would become
//   `mod.py`, and `...` nothing); and Windows opens a device, not a file, for the DOS device names
//   (`CON`, `aux.py`, `nul.tar.gz`: the part before the first dot, in any case);
// - names FAT makes one file (`fatFold`): FAT compares names without case (through a one-character up-case
//   table), after stripping trailing dots and spaces; and as macOS compares them after Unicode
//   normalization, an NFD and an NFC spelling of one text are one name too once copied through a Mac.
//
// Sources: Microsoft's "Naming Files, Paths, and Namespaces" (reserved characters and device names, "do not
// end a file or directory name with a space or a period"); FatFs's `create_name` (rejects `"*:<>?|` and
// DEL, strips trailing spaces and dots, rejects an empty result). Pure logic.

import { printable } from "../text.js";

/** DOS device names (with COM0/LPT0 and the superscript digits Windows also reserves, and the console's). */
const DEVICE_NAME = /^(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)$/i;
/** Characters FatFs and Windows refuse in a long name: `"*:<>?|`, both slashes, C0 controls and DEL. */
const FORBIDDEN = /["*:<>?|\\/\x00-\x1f\x7f]/u;

/** A name of letters, digits, `_`, `-` and inner dots: nothing FAT refuses or strips. */
const PLAIN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*[A-Za-z0-9_-]$|^[A-Za-z0-9_-]$/;

/** Why these rules exist, for hints. */
export const FAT_LIMITS = "FAT (the filesystem of most boards' flash and SD cards) and Windows cannot hold such names as they are";
/** The hint for a name refused by these rules when installing: why, and what only the package's author can do. */
export const FAT_HINT = `${FAT_LIMITS}, so mpip refuses them; only the package's author can rename them`;

/**
 * Why FAT or Windows cannot hold one path segment (a file or folder name) as it is, or undefined when
 * it can. The reason names the segment: "the name `aux.py` is ...". `.` and `..` are the caller's business.
 */
export function fatNameProblem(segment: string): string | undefined {
  if (PLAIN_NAME.test(segment) && !DEVICE_NAME.test(segment.split(".")[0]!)) return undefined; // most names: nothing to say, nothing to build
  const shown = `\`${printable(segment, 120)}\``;
  const forbidden = FORBIDDEN.exec(segment)?.[0];
  if (forbidden !== undefined) {
    const char = /[\x00-\x1f\x7f]/.test(forbidden) ? "a control character" : `\`${forbidden}\``;
    return `the name ${shown} contains ${char}, which FAT and Windows refuse in a name`;
  }
  if (/^[. ]+$/.test(segment)) return `the name ${shown} is only dots and spaces, which FAT and Windows strip from the end of a name, leaving none`;
  if (/[. ]$/.test(segment)) {
    return `the name ${shown} ends in ${segment.endsWith(".") ? "a dot" : "a space"}, which FAT and Windows strip: it would be \`${printable(stripTrailing(segment), 120)}\``;
  }
  const base = segment.split(".")[0]!.replace(/ +$/, "");
  if (DEVICE_NAME.test(base)) {
    return `the name ${shown} is the DOS device name \`${base.toUpperCase()}\`${base === segment ? "" : " with an extension"}: Windows opens the device, not a file, whatever the case and the extension`;
  }
  return undefined;
}

/** The first segment of `path` (split at `/`) that FAT cannot hold, with the reason. */
export function fatPathProblem(path: string): string | undefined {
  for (const segment of path.split("/")) {
    const problem = fatNameProblem(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * The key under which FAT (and macOS, and Windows) store a path: each segment NFC-normalized, stripped
 * of trailing dots and spaces, each character up-cased then lower-cased one for one (as an up-case table
 * maps characters: `ß` stays `ß`, `K` the Kelvin sign meets `k`). Two paths with one key are one file
 * or folder there.
 */
export function fatFold(path: string): string {
  // ASCII has one NFC spelling and folds one for one: its lower case is its key.
  if (ASCII.test(path)) return path.split("/").map((segment) => stripTrailing(segment).toLowerCase()).join("/");
  return path.split("/").map((segment) => foldCase(stripTrailing(segment.normalize("NFC")))).join("/");
}

const ASCII = /^[\x00-\x7f]*$/;

/** How two names with one `fatFold` key differ, for messages: "only by case", ... */
export function howNamesDiffer(a: string, b: string): "case" | "normalization" | "case and normalization" | "trailing dots or spaces" {
  if (a.normalize("NFC") === b.normalize("NFC")) return "normalization";
  const plain = (text: string) => text.split("/").map((segment) => stripTrailing(segment)).join("/");
  if (plain(a) === plain(b)) return "trailing dots or spaces";
  if (foldCase(a) === foldCase(b)) return "case";
  return "case and normalization";
}

function stripTrailing(segment: string): string {
  return segment.replace(/[. ]+$/, "");
}

function foldCase(text: string): string {
  let folded = "";
  for (const char of text) {
    const upper = oneForOne(char, char.toUpperCase());
    folded += oneForOne(upper, upper.toLowerCase());
  }
  return folded;
}

/** `mapped` when it is one character (as in an up-case table), else `char` unchanged. */
function oneForOne(char: string, mapped: string): string {
  return [...mapped].length === 1 ? mapped : char;
}
