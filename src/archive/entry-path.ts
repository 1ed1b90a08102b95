// Archive entry names are hostile input. First reject names that could escape or that a filesystem
// would read as something else (absolute, `..`, drive letters, backslashes, `:`, NUL, control
// characters), then every segment that is installed must be a name FAT can hold (fat-names.ts: no
// `"*<>?|`, no trailing dot or space, no DOS device name); the caller then checks the resolved path is
// inside the target too.

import path from "node:path";
import { FAT_HINT, fatNameProblem } from "./fat-names.js";

/** A refusal's `hint`, when given, says why the rule exists (FAT's); callers fall back to their own. */
export type EntryPath = { ok: true; path: string } | { ok: false; reason: string; hint?: string };

/**
 * Validate a raw tar name and strip its first component (the `name-version/` folder). With `upip`, the
 * first component is whatever precedes the first `/`, even `.`, exactly as upip strips it (so an archive
 * made with `tar -czf x.tar.gz .` installs as upip installs it); otherwise `.` segments are dropped first.
 */
export function stripEntryPath(raw: string, options: { upip?: boolean } = {}): EntryPath {
  if (raw.includes("\0")) return { ok: false, reason: "its name contains a NUL byte" };
  if (raw.includes("\\")) return { ok: false, reason: "its name contains a backslash" };
  if (raw.startsWith("/")) return { ok: false, reason: "its path is absolute" };
  if (/^[A-Za-z]:/.test(raw)) return { ok: false, reason: "its path starts with a drive letter" };
  // On Windows `a:b` names an alternate data stream of `a`; FAT refuses `:` outright.
  if (raw.includes(":")) return { ok: false, reason: "its name contains `:`, which Windows reads as a drive or a data stream" };
  if (/[\x01-\x1f\x7f-\x9f]/.test(raw)) return { ok: false, reason: "its name contains a control character" };
  const all = raw.split("/");
  if (all.includes("..")) return { ok: false, reason: "its path contains a `..` segment" };
  const meaningful = (segment: string) => segment !== "" && segment !== ".";
  const rest = options.upip === true ? all.slice(1).filter(meaningful) : all.filter(meaningful).slice(1);
  // The stripped first folder is never written, so only the rest must suit FAT.
  for (const segment of rest) {
    const problem = fatNameProblem(segment);
    if (problem !== undefined) return { ok: false, reason: problem, hint: FAT_HINT };
  }
  return { ok: true, path: rest.join("/") };
}

/**
 * A `/`-separated relative path that resolves inside any folder on any platform without being resolved:
 * parts that are not empty, `.` or `..`, and no `\` or `:` (no Windows separator, drive or data stream).
 */
const PLAINLY_INSIDE = /^(?!\.\.?(?:\/|$))[^/\\:]+(?:\/(?!\.\.?(?:\/|$))[^/\\:]+)*$/;

/** Whether `relative` (`/`-separated) plainly names a path inside whatever folder it is joined to (see PLAINLY_INSIDE). */
export function isPlainlyInside(relative: string): boolean {
  return PLAINLY_INSIDE.test(relative);
}

/**
 * `path.join(base, relative)` for a `/`-separated `relative`, without the normalizing (which a commit of
 * thousands of files would do several times for each) when `base` is a resolved path and `relative` is
 * plainly inside: then the two are the same path, spelled alike.
 */
export function joinInside(base: string, relative: string): string {
  if (!PLAINLY_INSIDE.test(relative) || !isResolvedBase(base)) return path.join(base, relative);
  return `${base}${path.sep}${path.sep === "/" ? relative : relative.split("/").join(path.sep)}`;
}

/** The bases `joinInside` has met (a run has a few: the target, its staging folder), and whether each is resolved. */
const resolvedBases = new Map<string, boolean>();

function isResolvedBase(base: string): boolean {
  let known = resolvedBases.get(base);
  if (known === undefined) {
    known = path.isAbsolute(base) && !base.endsWith(path.sep) && path.resolve(base) === base;
    if (resolvedBases.size >= 64) resolvedBases.clear();
    resolvedBases.set(base, known);
  }
  return known;
}

/** True when `child` (an absolute, resolved path) is `root` itself or lies inside it. */
export function isInside(root: string, child: string, separator = "/"): boolean {
  const base = root.endsWith(separator) ? root : root + separator;
  return child === root || child.startsWith(base);
}

/**
 * A destination (of a package document or a module) checked with the same rules as a tar entry's name (absolute, drive letters, `..`,
 * backslashes, `:`, NUL and control characters, names FAT cannot hold), but without stripping a first folder; normalized.
 */
export function checkEntryPath(raw: string): EntryPath {
  if (raw === "") return { ok: false, reason: "its path is empty" };
  if (raw.startsWith("/")) return { ok: false, reason: "its path is absolute" };
  if (/^[A-Za-z]:/.test(raw)) return { ok: false, reason: "its path starts with a drive letter" };
  // stripEntryPath drops the first component: give it one to drop, so every rule applies to `raw` whole.
  const checked = stripEntryPath(`_/${raw}`);
  if (!checked.ok) return checked;
  if (raw.endsWith("/")) return { ok: false, reason: "its path ends in `/`, which names a folder, not a file" };
  if (checked.path === "") return { ok: false, reason: "its path names no file" };
  return checked;
}
