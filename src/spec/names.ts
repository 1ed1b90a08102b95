// Package names arrive spelled many ways ("Foo_Bar", "foo.bar", "FOO-bar"); indexes, the installed
// database and dependency checks must all agree on one spelling, or the same package is fetched twice.

const NAME_RE = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/** PEP 503: lowercase, every run of `-`, `_` and `.` becomes one `-`. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** PEP 508: letters and digits, with `.`, `_` and `-` allowed only between them. */
export function isValidName(name: string): boolean {
  return NAME_RE.test(name);
}
