// A package's dependencies live in `*.egg-info/requires.txt` (setuptools) or in `Requires-Dist:` headers
// of PKG-INFO. Both may list extras and host-specific dependencies that a MicroPython board must not get,
// so only the requirements whose markers hold for the device come back.

import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import {
  evaluateMarker,
  evaluateMarkerNoting,
  MICROPYTHON_ENVIRONMENT,
  parseMarker,
  type Marker,
  type MarkerEnvironment,
} from "./markers.js";
import { parseRequirement, type Requirement } from "./requirement.js";
import { withoutComment } from "./requirements-line.js";

/**
 * Parses setuptools' requires.txt. Lines before any section header always apply; `[extra]` and
 * `[extra:marker]` sections are skipped (mpip installs no extras); `[:marker]` sections apply when their
 * marker holds. A line's own marker must hold too. Returned requirements keep their own marker only.
 * `firmwareDependent`, when given, receives each line (as written) whose marker, or its section's, was
 * decided by the firmware's release (`implementation_version`), kept or not: a decision for one firmware.
 */
export function parseRequiresTxt(
  text: string,
  env: MarkerEnvironment = MICROPYTHON_ENVIRONMENT,
  firmwareDependent?: string[],
): Requirement[] {
  const kept = new Collector(env, "requires.txt", firmwareDependent);
  let sectionApplies = true;
  let sectionOnFirmware = false;
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    // Up to a comment (`#` at the start or after white space; a URL's fragment stays), found in one pass:
    // a regular expression such as `\s+#.*$` takes time quadratic in a run of spaces with no `#` after
    // it (80,000 spaces in a 467-byte sdist's requires.txt took 6 s).
    const line = withoutComment(lines[i]!).trim();
    if (line === "") continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      ({ holds: sectionApplies, onFirmware: sectionOnFirmware } = sectionHeaderApplies(header[1]!, lineNo, line, env, firmwareDependent !== undefined));
      continue;
    }
    if (sectionApplies) kept.add(line, lineNo, sectionOnFirmware);
    else if (sectionOnFirmware) firmwareDependent?.push(line);
  }
  return kept.list;
}

/**
 * Reads every `Requires-Dist:` header of a PKG-INFO / METADATA file (headers end at the first empty
 * line; indented lines continue the previous header) and keeps those whose marker holds.
 * `firmwareDependent`: as parseRequiresTxt's.
 */
export function parseRequiresDist(
  pkgInfo: string,
  env: MarkerEnvironment = MICROPYTHON_ENVIRONMENT,
  firmwareDependent?: string[],
): Requirement[] {
  const kept = new Collector(env, "PKG-INFO", firmwareDependent);
  const headers: { name: string; value: string; lineNo: number }[] = [];
  const lines = splitLines(pkgInfo.replace(/^\uFEFF/, ""));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") break;
    const last = headers[headers.length - 1];
    if (/^[ \t]/.test(line)) {
      // RFC 822 folding: the line break goes, the text joins the previous header.
      if (last !== undefined && line.trim() !== "") last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // not a header; Python's email parser ignores such lines too
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.push({ name, value: line.slice(colon + 1).trim(), lineNo: i + 1 });
  }
  for (const header of headers) {
    if (header.name === "requires-dist") kept.add(header.value, header.lineNo);
  }
  return kept.list;
}

/** Applicable requirements in order, without repeats of the exact same text. */
class Collector {
  readonly list: Requirement[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly env: MarkerEnvironment,
    private readonly source: string,
    private readonly firmwareDependent: string[] | undefined,
  ) {}

  /** Takes `line` if its marker holds; notes it in `firmwareDependent` if the decision read the firmware's release (or `onFirmware`: its section's did). */
  add(line: string, lineNo: number, onFirmware = false): void {
    let requirement: Requirement;
    try {
      requirement = parseRequirement(line);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new MpipError("bad-requirement", `${this.source} line ${lineNo}: ${message}`, { cause: error });
    }
    // Whether the firmware decided is found only when asked (pack and repack): an install needs just the answer.
    const { holds, onFirmware: markerOnFirmware } = requirement.marker === undefined ? { holds: true, onFirmware: false }
      : this.firmwareDependent === undefined ? { holds: evaluateMarker(requirement.marker, this.env), onFirmware: false }
        : evaluateMarkerNoting(requirement.marker, this.env);
    if ((onFirmware || markerOnFirmware) && this.firmwareDependent?.includes(requirement.text) === false) this.firmwareDependent.push(requirement.text);
    if (!holds) return;
    if (this.seen.has(requirement.text)) return;
    this.seen.add(requirement.text);
    this.list.push(requirement);
  }
}

/** Whether a section's header applies, and (only if `noting`) whether the firmware's release decided it. */
function sectionHeaderApplies(inner: string, lineNo: number, line: string, env: MarkerEnvironment, noting: boolean): { holds: boolean; onFirmware: boolean } {
  const colon = inner.indexOf(":");
  const extra = (colon < 0 ? inner : inner.slice(0, colon)).trim();
  if (extra !== "") return { holds: false, onFirmware: false };
  const markerText = colon < 0 ? "" : inner.slice(colon + 1).trim();
  if (markerText === "") return { holds: true, onFirmware: false };
  let marker: Marker;
  try {
    marker = parseMarker(markerText);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const where = `requires.txt line ${lineNo}: invalid section \`${printable(line)}\``;
    throw new MpipError("bad-requirement", `${where}: ${message}`, { cause: error });
  }
  return noting ? evaluateMarkerNoting(marker, env) : { holds: evaluateMarker(marker, env), onFirmware: false };
}

function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}
