// Requirements come from users, from requires.txt and from Requires-Dist headers written by every
// generation of setuptools. One strict PEP 508 parser gives all of them the same meaning and turns
// garbage into an error that points at the offending text instead of a confusing failure later.

import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { isPep440Version, parseVersion, specifierProblem, versionProblem } from "../versions.js";
import { formatMarker, parseMarker, type Marker } from "./markers.js";
import { isMipName, isValidName } from "./names.js";

export interface Requirement {
  /** As written. */
  name: string;
  extras: string[];
  /** PEP 440 specifier set without parentheses or spaces, e.g. ">=1.0,<2"; "" if none. */
  specifier: string;
  /** For `name @ url`. */
  url?: string;
  /** Parsed marker expression, absent if none. */
  marker?: Marker;
  /** The original text, trimmed. */
  text: string;
}

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const MIP_NAME_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?/;
const OP_RE = /^(===|~=|==|!=|<=|>=|<|>)/;
const VERSION_RE = /^[A-Za-z0-9\-_.*+!]+/;
const ARBITRARY_RE = /^[^\s,;)]+/;
const URL_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

/**
 * The longest requirement read, in characters. Real ones are far shorter (a URL is at most 8192); the
 * bound keeps a hostile requires.txt line from making parsing and version checks slow.
 */
export const MAX_REQUIREMENT_LENGTH = 10_000;

export interface ParseOptions {
  /**
   * Which names are valid: PEP 508's (the default: requires.txt, Requires-Dist, PyPI-style indexes), or
   * mip's (names.ts `isMipName`: specs typed by a user or listed in a mip package document's `deps`,
   * which a micropython-lib index may answer, e.g. `__future__`).
   */
  names?: "pep508" | "mip";
}

/**
 * Parses one PEP 508 requirement (`name[extras] specifier ; marker` or `name @ URL`), with the name
 * checked by the rule `options.names` picks. Throws MpipError("bad-requirement").
 */
export function parseRequirement(input: string, options: ParseOptions = {}): Requirement {
  const text = input.trim();
  let pos = 0;

  const fail = (detail: string, cause?: unknown): never => {
    throw new MpipError("bad-requirement", `invalid requirement \`${printable(text)}\`: ${detail}`, { cause });
  };
  const found = (): string => (pos >= text.length ? "the end" : `\`${printable(text.slice(pos), 80)}\``);

  if (text.length > MAX_REQUIREMENT_LENGTH) fail(`it is ${text.length} characters long; mpip reads requirements of at most ${MAX_REQUIREMENT_LENGTH}`);
  const skipWs = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };

  if (text === "") fail("expected a package name, found nothing");
  const nameMatch = (options.names === "mip" ? MIP_NAME_RE : NAME_RE).exec(text);
  if (!nameMatch || (options.names === "mip" && !isMipName(nameMatch[0]))) return fail(`expected a package name, found ${found()}`);
  const name = nameMatch[0];
  pos = name.length;
  skipWs();

  const extras: string[] = [];
  if (text[pos] === "[") {
    const end = text.indexOf("]", pos);
    if (end < 0) fail(`expected \`]\` to close the extras at ${found()}`);
    const inner = text.slice(pos + 1, end).trim();
    if (inner !== "") {
      for (const raw of inner.split(",")) {
        const extra = raw.trim();
        const where = `in \`${printable(text.slice(pos, end + 1), 80)}\``;
        if (extra === "") fail(`empty extra name ${where}`);
        if (!isValidName(extra)) fail(`invalid extra name \`${printable(extra, 80)}\` ${where}`);
        extras.push(extra);
      }
    }
    pos = end + 1;
    skipWs();
  }

  let url: string | undefined;
  const clauses: string[] = [];

  const parseVersionMany = (): void => {
    for (;;) {
      skipWs();
      const op = OP_RE.exec(text.slice(pos))?.[1];
      if (op === undefined) {
        fail(
          clauses.length === 0
            ? `expected a version operator (\`==\`, \`>=\`, \`~=\`...), found ${found()}`
            : `expected a version specifier after \`,\`, found ${found()}`,
        );
        return;
      }
      pos += op.length;
      skipWs();
      const version = (op === "===" ? ARBITRARY_RE : VERSION_RE).exec(text.slice(pos))?.[0];
      if (version === undefined) return fail(`expected a version after \`${op}\`, found ${found()}`);
      pos += version.length;
      const problem = checkClause(op, version);
      if (problem !== undefined) fail(problem);
      clauses.push(op + version);
      skipWs();
      if (text[pos] !== ",") return;
      pos++;
    }
  };

  if (text[pos] === "@") {
    pos++;
    skipWs();
    const candidate = /^\S*/.exec(text.slice(pos))![0];
    if (!URL_RE.test(candidate)) fail(`expected a URL after \`@\`, found ${found()}`);
    url = candidate;
    pos += candidate.length;
    skipWs();
    if (pos < text.length && text[pos] !== ";") {
      // PEP 508: a `;` right after a URL is part of it; the marker's `;` needs a space before it.
      if (candidate.includes(";")) fail(`a \`;\` right after a URL is part of the URL (PEP 508): put a space before the \`;\` that starts the marker`);
      fail(`expected \`;\` and a marker after the URL, found ${found()}`);
    }
  } else if (text[pos] === "(") {
    pos++;
    skipWs();
    if (text[pos] !== ")") parseVersionMany();
    skipWs();
    if (text[pos] !== ")") fail(`expected \`,\` or \`)\` in the version specifier, found ${found()}`);
    pos++;
  } else if (/^[<>=!~]/.test(text.slice(pos))) {
    parseVersionMany();
  }

  skipWs();
  let marker: Marker | undefined;
  if (text[pos] === ";") {
    const markerText = text.slice(pos + 1).trim();
    if (markerText === "") fail("expected a marker after `;`");
    try {
      marker = parseMarker(markerText);
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error), error);
    }
  } else if (pos < text.length) {
    const expected = clauses.length > 0 ? "`,`, `;` or the end" : "a version specifier, `[`, `@` or `;`";
    fail(`expected ${expected}, found ${found()}`);
  }

  const specifier = clauses.join(",");
  const problem = specifierProblem(specifier);
  if (problem !== undefined) fail(problem);

  const requirement: Requirement = { name, extras, specifier, text };
  if (url !== undefined) requirement.url = url;
  if (marker !== undefined) requirement.marker = marker;
  return requirement;
}

/** Explains why one `op version` clause is not valid PEP 440 (or holds a number too large to compare), or returns undefined. */
function checkClause(op: string, version: string): string | undefined {
  if (op === "===") return undefined;
  const shown = printable(version, 80);
  if (version.endsWith(".*")) {
    if (op !== "==" && op !== "!=") {
      return `a wildcard version (\`${printable(op + version, 80)}\`) is only allowed with \`==\` or \`!=\``;
    }
    const base = version.slice(0, -2);
    if (!isPep440Version(base)) return `\`${shown}\` is not a valid PEP 440 wildcard version`;
    const problem = versionProblem(base);
    if (problem !== undefined) return `\`${printable(base, 80)}\` ${problem}`;
    const parsed = parseVersion(base);
    if (parsed === undefined || parsed.isDevRelease || parsed.local !== undefined) {
      return `\`${shown}\` is not a valid PEP 440 wildcard version`;
    }
    return undefined;
  }
  const parsed = parseVersion(version);
  if (parsed === undefined) {
    if (!isPep440Version(version)) return `\`${shown}\` is not a valid PEP 440 version (in \`${printable(op + version, 80)}\`)`;
    return `\`${shown}\` ${versionProblem(version) ?? "is not a valid PEP 440 version"}`;
  }
  if (op === "~=" && parsed.release.length < 2) {
    return `\`~=${shown}\` needs a version with at least two release segments, e.g. \`~=${shown}.0\``;
  }
  if (parsed.local !== undefined && op !== "==" && op !== "!=") {
    return `a local version label (\`${shown}\`) is only allowed with \`==\` or \`!=\`, not \`${op}\``;
  }
  return undefined;
}

/** Canonical text, e.g. "foo[bar]>=1.0,<2; python_version < \"3.8\"". */
export function formatRequirement(r: Requirement): string {
  let out = r.name;
  if (r.extras.length > 0) out += `[${r.extras.join(",")}]`;
  if (r.url !== undefined) out += ` @ ${r.url}`;
  else out += r.specifier;
  // After a URL the `;` must be set off by a space, or it would read as part of the URL.
  if (r.marker !== undefined) out += `${r.url !== undefined ? " ;" : ";"} ${formatMarker(r.marker)}`;
  return out;
}
