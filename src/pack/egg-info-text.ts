// The egg-info of a packed project: `PKG-INFO` (core metadata 2.1, as setuptools writes it) and
// `requires.txt`, the dependencies one a line, which upip and `mpip install` follow. Pure text rendering.

import { evaluateMarker, evaluateMarkerNoting, MICROPYTHON_ENVIRONMENT } from "../spec/markers.js";
import { printable } from "../text.js";
import { parseRequirement } from "../spec/requirement.js";
import type { Person, ProjectMetadata } from "./metadata.js";

/** The egg-info folder name setuptools uses: runs of other characters than letters, digits and `.` become `_`. */
export function eggInfoName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9.]+/g, "_")}.egg-info`;
}

/** `requires.txt`, or undefined when there is no dependency (setuptools writes none then). Extras stay out: upip would read `[extra]` as a package name. */
export function renderRequiresTxt(metadata: ProjectMetadata): string | undefined {
  const unique = requiresTxtLines(metadata);
  return unique.length === 0 ? undefined : unique.map((line) => `${line}\n`).join("");
}

/**
 * The lines of `requires.txt`, each once: the dependencies whose marker holds on MicroPython (upip reads
 * each line as a package, so markers are decided here, for MicroPython, and left out), as `name`,
 * `name<specifier>` or `name @ url`.
 */
function requiresTxtLines(metadata: ProjectMetadata): string[] {
  const lines = metadata.dependencies
    .map((line) => parseRequirement(line))
    .filter((requirement) => requirement.marker === undefined || evaluateMarker(requirement.marker))
    .map((requirement) => (requirement.url !== undefined ? `${requirement.name} @ ${requirement.url}` : `${requirement.name}${requirement.specifier}`));
  return [...new Set(lines)];
}

/**
 * What `pack` and `repack` say of a dependency whose marker the firmware's release decides
 * (`implementation_version`): requires.txt holds no markers (upip reads each line as a package), so it was
 * decided for MicroPython's current release (MICROPYTHON_ENVIRONMENT), `omitted` or written, and every
 * install of the archive, for any firmware, follows that decision.
 */
export function firmwareMarkerWarning(requirement: string, omitted: boolean): string {
  return `dependency \`${printable(requirement, 200)}\` has a marker on the firmware's release, which requires.txt cannot hold (upip reads each line as a package): it was decided for MicroPython ${MICROPYTHON_ENVIRONMENT.implementation_version} and ${omitted ? "left out" : "written"}, for every firmware the archive is installed on; publish a release for each firmware instead, or drop the marker`;
}

/** The `requires.txt` lines of `metadata`'s dependencies whose marker the firmware's release decided, with whether each was left out. */
export function firmwareDependentLines(metadata: ProjectMetadata): Array<{ line: string; omitted: boolean }> {
  const found: Array<{ line: string; omitted: boolean }> = [];
  for (const line of metadata.dependencies) {
    const { marker } = parseRequirement(line);
    if (marker === undefined) continue;
    const { holds, onFirmware } = evaluateMarkerNoting(marker);
    if (onFirmware) found.push({ line, omitted: !holds });
  }
  return found;
}

/**
 * The `requires.txt` lines that upip, which takes each line as `name` or `name==version`, cannot follow. A
 * dependency whose marker is false on MicroPython is not among them: it is never installed, nor written.
 */
export function upipUnreadable(metadata: ProjectMetadata): string[] {
  return requiresTxtLines(metadata).filter((line) => !/^[A-Za-z0-9._-]+(==[A-Za-z0-9.+!_-]+)?$/.test(line));
}

export function renderPkgInfo(metadata: ProjectMetadata): string {
  const headers: Array<[string, string | undefined]> = [
    ["Metadata-Version", "2.1"],
    ["Name", metadata.name],
    ["Version", metadata.version],
    ["Summary", metadata.summary?.replace(/\s*\n\s*/g, " ")],
    ["Home-page", metadata.homePage],
    ...people("Author", metadata.authors),
    ...people("Maintainer", metadata.maintainers),
    ["License", metadata.license],
    ...metadata.urls.map(([label, url]): [string, string] => ["Project-URL", `${label}, ${url}`]),
    ["Keywords", metadata.keywords.length === 0 ? undefined : metadata.keywords.join(",")],
    ...metadata.classifiers.map((classifier): [string, string] => ["Classifier", classifier]),
    ["Requires-Python", metadata.requiresPython],
    ["Description-Content-Type", metadata.description?.contentType],
    ...metadata.dependencies.map((dependency): [string, string] => ["Requires-Dist", dependency]),
  ];
  for (const [extra, dependencies] of metadata.optionalDependencies) {
    headers.push(["Provides-Extra", extra]);
    for (const dependency of dependencies) headers.push(["Requires-Dist", withExtraMarker(dependency, extra)]);
  }
  const lines = headers.filter((header): header is [string, string] => header[1] !== undefined).map(([name, value]) => `${name}: ${fold(value)}\n`);
  const body = metadata.description === undefined ? "" : `\n${metadata.description.text.replace(/\r\n?/g, "\n").replace(/\n*$/, "\n")}`;
  return lines.join("") + body;
}

/** `Author` for people named without an email, `Author-email` as `Name <email>` for the others (PEP 621). */
function people(role: "Author" | "Maintainer", list: Person[]): Array<[string, string | undefined]> {
  const names = list.filter((person) => person.email === undefined && person.name !== undefined).map((person) => person.name!);
  const emails = list.filter((person) => person.email !== undefined).map((person) => (person.name === undefined ? person.email! : `${person.name} <${person.email!}>`));
  return [
    [role, names.length === 0 ? undefined : names.join(", ")],
    [`${role}-email`, emails.length === 0 ? undefined : emails.join(", ")],
  ];
}

function withExtraMarker(dependency: string, extra: string): string {
  const at = dependency.indexOf(";");
  if (at < 0) return `${dependency}; extra == "${extra}"`;
  return `${dependency.slice(0, at)}; (${dependency.slice(at + 1).trim()}) and extra == "${extra}"`;
}

/** A multi-line header value continues on lines indented by 8 spaces (RFC 822 folding, as setuptools does). */
function fold(value: string): string {
  return value.replace(/\r\n?/g, "\n").replace(/\n+$/, "").split("\n").join("\n        ");
}
