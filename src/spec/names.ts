// Package names arrive spelled many ways ("Foo_Bar", "foo.bar", "FOO-bar"); indexes, the installed
// database and dependency checks must all agree on one spelling, or the same package is fetched twice.
// Two rules say which names are valid: PEP 508's, for PyPI-style indexes and sdists' requirements, and
// mip's, for micropython-lib (v2) indexes and what mip reads, whose names are folder names such as
// `__future__` that PEP 508 refuses.

const NAME_RE = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;
const MIP_NAME_RE = /^(?=[^]*[A-Z0-9])([A-Z0-9_]|[A-Z0-9_][A-Z0-9._-]*[A-Z0-9_])$/i;

/** The longest project name read, as PyPI's and mip's names go (their longest are far shorter). */
export const MAX_NAME_LENGTH = 200;

/** PEP 503: lowercase, every run of `-`, `_` and `.` becomes one `-`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** PEP 508: letters and digits, with `.`, `_` and `-` allowed only between them. */
export function isValidName(name: string): boolean {
  return NAME_RE.test(name);
}

/**
 * A name as mip takes it: mip (micropython-lib `mip/__init__.py`, `_install_package`) puts any name that
 * is not a URL verbatim into `{index}/package/{flavor}/{name}/{version}.json`, and micropython-lib's
 * publisher (`tools/build.py`) names each package after its folder, so `__future__` and `_markupbase`
 * are names there. mpip takes letters, digits, `.`, `_` and `-`, with at least one letter or digit,
 * starting and ending with a letter, a digit or `_` (so never an option's `-`, nor a path's `.`), at most
 * MAX_NAME_LENGTH characters. Every PEP 508 name is also a mip name.
 */
export function isMipName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && MIP_NAME_RE.test(name);
}

/**
 * A mip name (`isMipName`) made from any text: the text itself if it is one; else its accents dropped
 * (NFKD, without combining marks: `ünï` -> `uni`), each run of characters other than ASCII letters,
 * digits, `.`, `_` and `-` made one `-`, `-` and `.` trimmed from both ends, cut to MAX_NAME_LENGTH
 * (`my mod` -> `my-mod`, `weird@name!` -> `weird-name`). Undefined when no ASCII letter or digit is left
 * (`@@`, `日本`).
 */
export function mipNameFrom(text: string): string | undefined {
  if (isMipName(text)) return text;
  const name = text.normalize("NFKD").replace(/\p{M}+/gu, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+/, "").slice(0, MAX_NAME_LENGTH).replace(/[-.]+$/, "");
  return isMipName(name) ? name : undefined;
}
