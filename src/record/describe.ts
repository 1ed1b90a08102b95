// What `list`, `show` and `freeze` say about a recorded distribution: where it came from, what it
// requires and what requires it, and the requirement line that installs it again. Pure logic over the
// records read by read.ts.

import { fileURLToPath, pathToFileURL } from "node:url";
import { redactUrl } from "../http.js";
import { evaluateMarker } from "../spec/markers.js";
import { isValidName, normalizeName } from "../spec/names.js";
import { looksLikePath, sdistUrlHidesProject } from "../spec/package-spec.js";
import { parseRequirement, type Requirement } from "../spec/requirement.js";
import { printable } from "../text.js";
import { parseUrl } from "../url.js";
import { isComparableVersion } from "../versions.js";
import type { Distribution } from "./read.js";

/** Sources mpip installs from without an index: mpip.json's `spec` is what installs them again. */
const DIRECT_KINDS = new Set(["url", "path", "github", "gitlab", "codeberg"]);

/**
 * Where a distribution came from, in one line: `mip https://micropython.org/pi/v2`, `github:org/repo@v1`,
 * a URL or a path, from mpip.json, else from PEP 610 direct_url.json, else the installer (`pip`) or
 * `unknown`. Credentials in URLs are replaced by `***`.
 */
export function describeSource(distribution: Distribution): string {
  const { origin, directUrl } = distribution;
  if (origin !== undefined) {
    if (origin.index !== null) return `${origin.kind} ${redactUrl(origin.index)}`;
    if (origin.spec !== undefined) return redactUrl(origin.spec);
    if (origin.url !== undefined) return `${origin.kind} ${redactUrl(origin.url)}`;
    return origin.kind;
  }
  if (directUrl !== undefined) {
    const url = redactUrl(directUrl.url);
    return directUrl.info.type === "vcs" ? `${directUrl.info.vcs}+${url}@${directUrl.info.commitId}` : url;
  }
  return distribution.installer === undefined ? "unknown" : `installed by ${distribution.installer}`;
}

/** The distribution's `Requires-Dist:` that hold on MicroPython (markers evaluated as `install` does), parsed; the rest reported in `unreadable`. */
export function requirementsOf(distribution: Distribution): { requirements: Requirement[]; unreadable: string[] } {
  const requirements: Requirement[] = [];
  const unreadable: string[] = [];
  for (const text of distribution.requiresDist) {
    try {
      const requirement = parseRequirement(text);
      if (requirement.marker === undefined || evaluateMarker(requirement.marker)) requirements.push(requirement);
    } catch {
      unreadable.push(text);
    }
  }
  return { requirements, unreadable };
}

/** The names (as recorded) of the distributions whose requirements name `distribution`, sorted by normalized name. */
export function requiredBy(distribution: Distribution, all: readonly Distribution[]): string[] {
  return all
    .filter((other) => other !== distribution && requirementsOf(other).requirements.some((requirement) => normalizeName(requirement.name) === distribution.key))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((other) => other.name);
}

export type FreezeLine = { ok: true; line: string; note?: string } | { ok: false; reason: string };

/**
 * The requirement line `mpip install -r` installs this distribution again from: mpip.json's `spec` for a
 * direct source (for a local path, direct_url.json's absolute `file:` path first: the path alone, or
 * `name @ file:///...` for an sdist whose file name does not say the project, which the path would not install), else a PEP 610 URL (`#sha256=` added when
 * its archive hash is known), else `name==version` (`name===version` for a version PEP 440 cannot compare,
 * as mip's `name@version` matches it). A VCS source or an archive mpip does not install (a wheel) is
 * written as `name==version`, with a note saying why.
 */
export function freezeLine(distribution: Distribution): FreezeLine {
  const { origin, directUrl } = distribution;
  const pinned = `${distribution.name}${isComparableVersion(distribution.version) ? "==" : "==="}${distribution.version}`;
  // A path spec may have been typed relative to a folder long left: PEP 610's file URL is absolute.
  const localPath = directUrl !== undefined && /^file:/i.test(directUrl.url) ? fileUrlPath(directUrl.url) : undefined;
  if (localPath !== undefined && isDirectSpecOf(distribution, "path", localPath) && (origin === undefined || origin.kind === "path")) {
    if (NOT_INSTALLABLE.test(localPath)) return { ok: true, line: pinned, note: notInstallable(distribution, localPath, pinned) };
    // An sdist whose file name does not say the project (`v1.0.tar.gz`, installed as `name @ file:///...`):
    // the path alone would name no project, `name @ file:///...` does (as pip's freeze writes it).
    const url = pathToFileURL(localPath).href;
    if (isValidName(distribution.name) && sdistUrlHidesProject(url, distribution.name)) return { ok: true, line: `${distribution.name} @ ${url}` };
    return { ok: true, line: localPath };
  }
  if (origin?.spec !== undefined && DIRECT_KINDS.has(origin.kind)) {
    if (isDirectSpecOf(distribution, origin.kind, origin.spec)) return { ok: true, line: origin.kind === "url" ? namedUrl(distribution, withArchiveHash(origin.spec, directUrl)) : origin.spec };
    const line = freezeLine({ ...distribution, origin: { ...origin, kind: "unknown" } });
    if (!line.ok || line.note !== undefined) return line;
    return { ...line, note: `\`${distribution.name}\`: \`${distribution.distInfo}/mpip.json\` gives \`${printable(redactUrl(origin.spec), 120)}\` as its ${origin.kind} source, which is not one (or names another project, or carries options); it is written as \`${line.line}\`` };
  }
  if (directUrl !== undefined) {
    if (directUrl.info.type === "vcs") return { ok: true, line: pinned, note: `\`${distribution.name}\` came from ${directUrl.info.vcs} (\`${redactUrl(directUrl.url)}\`), which mpip does not fetch from; it is written as \`${pinned}\`` };
    if (/^https?:\/\//i.test(directUrl.url) && NOT_INSTALLABLE.test(parseUrl(directUrl.url)?.pathname ?? directUrl.url)) return { ok: true, line: pinned, note: notInstallable(distribution, redactUrl(directUrl.url), pinned) };
    if (isDirectSpecOf(distribution, "url", directUrl.url)) return { ok: true, line: namedUrl(distribution, withArchiveHash(directUrl.url, directUrl)) };
  }
  if (safeLine(pinned)) return { ok: true, line: pinned };
  return { ok: false, reason: `\`${distribution.name}\`'s version cannot be written as a requirement` };
}

/**
 * A URL line (`URL` or `name @ URL`) with `#sha256=` of the archive direct_url.json records, as pip's
 * freeze writes it, where the line carries no fragment and the record is of that URL: installing it
 * again then takes exactly the file that was installed. Any other line as it is.
 */
function withArchiveHash(line: string, directUrl: Distribution["directUrl"]): string {
  const sha256 = directUrl?.info.type === "archive" ? directUrl.info.hashes.sha256 : undefined;
  if (sha256 === undefined || !/^[0-9a-f]{64}$/i.test(sha256) || line.includes("#")) return line;
  let url: string | undefined = line;
  if (!/^https?:\/\//i.test(line)) {
    try {
      url = parseRequirement(line).url; // `name @ URL`, spaced as PEP 508 allows
    } catch {
      return line;
    }
  }
  return url === directUrl!.url ? `${line}#sha256=${sha256.toLowerCase()}` : line;
}

/**
 * A bare URL of an sdist whose file name does not say this distribution's project (a forge's
 * `archive/v1.0.tar.gz`) as `name @ URL`, which installs it again where the URL alone would not; any
 * other line as it is.
 */
function namedUrl(distribution: Distribution, line: string): string {
  if (!/^https?:\/\//i.test(line) || !isValidName(distribution.name)) return line;
  return sdistUrlHidesProject(line.split("#")[0]!, distribution.name) ? `${distribution.name} @ ${line}` : line;
}

/**
 * Whether mpip.json's `spec` (hostile input, like every record) installs this distribution from a source
 * of the recorded kind and nothing else: one line with no options (`install -r` would obey them), a URL
 * (`name @ URL` only under this distribution's name), a path (or `name @ file:///...` under its name), or a shorthand of the forge recorded;
 * never a bare requirement, which would name a project from an index.
 */
function isDirectSpecOf(distribution: Distribution, kind: string, spec: string): boolean {
  if (!safeLine(spec) || spec.split(/[ \t]+/).some((word) => word.startsWith("-"))) return false;
  const isUrl = (text: string) => /^https?:\/\/[^\s]+$/i.test(text) && parseUrl(text.split("#")[0]!) !== undefined;
  switch (kind) {
    case "url": {
      const named = /^([A-Za-z0-9._-]+)\s*@\s*(\S+)$/.exec(spec);
      return named === null ? isUrl(spec) : normalizeName(named[1]!) === distribution.key && isUrl(named[2]!);
    }
    case "path": {
      // `name @ file:///...`, as a local sdist or project folder given so is recorded: only under this distribution's name.
      const named = /^([A-Za-z0-9._-]+)\s*@\s*(file:\S+)$/i.exec(spec);
      if (named !== null) return normalizeName(named[1]!) === distribution.key && !named[2]!.includes("?") && fileUrlPath(named[2]!.split("#")[0]!) !== undefined;
      return !/^(github|gitlab|codeberg):/.test(spec) && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(spec) && looksLikePath(spec);
    }
    default:
      return spec.startsWith(`${kind}:`) && !/\s/.test(spec);
  }
}

/** Archives mpip does not install (wheels, zips, eggs, other tarballs): their URL cannot be written back. */
const NOT_INSTALLABLE = /\.(whl|zip|egg|tar|tgz|tar\.bz2|tar\.xz)$/i;

function notInstallable(distribution: Distribution, where: string, pinned: string): string {
  return `\`${distribution.name}\` came from \`${where}\`, an archive mpip does not install; it is written as \`${pinned}\``;
}

/** One line of a requirements file that means only itself: no line break, no comment, not an option. */
function safeLine(text: string): boolean {
  return text.length <= 8192 && !/[\0-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/.test(text) && !/(^|\s)#/.test(text) && !text.startsWith("-") && text.trim() === text && text !== "";
}

function fileUrlPath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}
