// Environment markers decide whether a dependency applies. mpip installs for a MicroPython device, not
// for the host running it, so markers are evaluated against a fixed description of MicroPython instead
// of against Node's or the host Python's view of the world.

import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { isComparableVersion, isPep440Version, satisfiesSpecifier, specifierProblem, versionProblem } from "../versions.js";
import { normalizeName } from "./names.js";

export type MarkerOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "~=" | "===" | "in" | "not in";

export type MarkerValue = { type: "variable"; name: string } | { type: "string"; value: string };

export type Marker =
  | { type: "and" | "or"; left: Marker; right: Marker }
  | { type: "compare"; left: MarkerValue; op: MarkerOp; right: MarkerValue };

export type MarkerEnvironment = Record<string, string>;

/** What a MicroPython board looks like to a marker. Every PEP 508 variable is present. */
export const MICROPYTHON_ENVIRONMENT: MarkerEnvironment = Object.freeze({
  // sys.implementation.name on every MicroPython port.
  implementation_name: "micropython",
  // platform.python_implementation() as CPython's packaging tools would spell it for MicroPython.
  platform_python_implementation: "MicroPython",
  // The MicroPython release mpip targets (1.27.0, the current release).
  implementation_version: "1.27.0",
  // MicroPython implements the Python 3.4 language (with selected later features), and reports
  // sys.version as "3.4.0"; packages that gate on python_version therefore see 3.4.
  python_version: "3.4",
  python_full_version: "3.4.0",
  // sys.platform differs per port (rp2, esp32, linux...); mpip installs for any board, so it uses the
  // implementation name rather than guessing a port.
  sys_platform: "micropython",
  // MicroPython has no os.name; a value no host platform uses keeps `os_name == "posix"` false.
  os_name: "micropython",
  platform_system: "MicroPython",
  // Unknown for a board that is not attached: empty, so comparisons against them are simply false.
  platform_machine: "",
  platform_release: "",
  platform_version: "",
  // mpip never installs extras, so every `extra == "..."` marker is false.
  extra: "",
});

/**
 * The environment markers are evaluated in for an image built for the MicroPython release
 * `implementationVersion` (`1.22.0`: what `--target-version` or `--mpy` says, see mpy/target.ts
 * `MpyTarget.release`): MICROPYTHON_ENVIRONMENT with that `implementation_version`; MICROPYTHON_ENVIRONMENT
 * itself (1.27.0, the current release) when none is given.
 */
export function markerEnvironment(implementationVersion: string | undefined): MarkerEnvironment {
  if (implementationVersion === undefined || implementationVersion === MICROPYTHON_ENVIRONMENT.implementation_version) return MICROPYTHON_ENVIRONMENT;
  return Object.freeze({ ...MICROPYTHON_ENVIRONMENT, implementation_version: implementationVersion });
}

/** PEP 508 variables, plus the dotted spellings older metadata used (PEP 345). */
const VARIABLE_ALIASES: Record<string, string> = {
  "os.name": "os_name",
  "sys.platform": "sys_platform",
  "platform.version": "platform_version",
  "platform.machine": "platform_machine",
  "platform.release": "platform_release",
  "platform.system": "platform_system",
  "platform.python_implementation": "platform_python_implementation",
  python_implementation: "platform_python_implementation",
};
/**
 * PEP 751's marker variables for lock files: the extras and dependency groups being installed, as sets of
 * names (`'dev' in dependency_groups`). Outside a lock both are empty: mpip installs neither.
 */
const SET_VARIABLES = new Set(["extras", "dependency_groups"]);
const VARIABLES = new Set(Object.keys(MICROPYTHON_ENVIRONMENT));

/** The values of the set variables (`extras`, `dependency_groups`): PEP 503 normalized names. */
export type MarkerSets = Readonly<Partial<Record<"extras" | "dependency_groups", readonly string[]>>>;

const VERSION_OPS = new Set<MarkerOp>(["==", "!=", "<", "<=", ">", ">=", "~="]);

/** Parentheses nest at most this deep: real markers use one or two levels, and parsing recurses per level. */
export const MAX_MARKER_DEPTH = 32;
/** The longest marker read, in characters (as for a whole requirement): evaluating recurses per `and`/`or`. */
export const MAX_MARKER_LENGTH = 10_000;

/**
 * Parses a marker expression (the part after `;`). `lockFile`: it is a lock file's (PEP 751), where the
 * set variables `extras` and `dependency_groups` exist too; PEP 508 has no such variables.
 * Throws MpipError("bad-requirement").
 */
export function parseMarker(text: string, options: { lockFile?: boolean } = {}): Marker {
  const src = text.trim();
  let pos = 0;
  let depth = 0;

  const fail = (detail: string): never => {
    throw new MpipError("bad-requirement", `invalid marker \`${printable(src)}\`: ${detail}`);
  };
  const found = (): string => (pos >= src.length ? "the end" : `\`${printable(src.slice(pos), 80)}\``);
  const skipWs = (): void => {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++;
  };
  const keyword = (word: string): boolean => {
    skipWs();
    const re = new RegExp(`^${word}(?![A-Za-z0-9_.])`);
    if (!re.test(src.slice(pos))) return false;
    pos += word.length;
    return true;
  };

  const parseValue = (): MarkerValue => {
    skipWs();
    const quote = src[pos];
    if (quote === '"' || quote === "'") {
      const end = src.indexOf(quote, pos + 1);
      if (end < 0) fail(`unterminated string starting at \`${printable(src.slice(pos), 80)}\``);
      const value = src.slice(pos + 1, end);
      pos = end + 1;
      return { type: "string", value };
    }
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(pos));
    if (!m) return fail(`expected a marker variable or a quoted string, found ${found()}`);
    const name = VARIABLE_ALIASES[m[0]] ?? m[0];
    if (!VARIABLES.has(name) && !(options.lockFile === true && SET_VARIABLES.has(name))) fail(`unknown marker variable \`${printable(m[0], 80)}\``);
    pos += m[0].length;
    return { type: "variable", name };
  };

  const parseOp = (after: string): MarkerOp => {
    skipWs();
    const rest = src.slice(pos);
    const m = /^(===|==|!=|<=|>=|~=|<|>|in(?![A-Za-z0-9_])|not\s+in(?![A-Za-z0-9_]))/.exec(rest);
    if (!m) return fail(`expected a comparison operator after \`${after}\`, found ${found()}`);
    pos += m[0].length;
    return (m[0].startsWith("not") ? "not in" : m[0]) as MarkerOp;
  };

  const parseAtom = (): Marker => {
    skipWs();
    if (src[pos] === "(") {
      if (++depth > MAX_MARKER_DEPTH) fail(`parentheses nest more than ${MAX_MARKER_DEPTH} deep`);
      pos++;
      const inner = parseOr();
      skipWs();
      if (src[pos] !== ")") fail(`expected \`)\`, found ${found()}`);
      pos++;
      depth--;
      return inner;
    }
    const start = pos;
    const left = parseValue();
    const op = parseOp(printable(src.slice(start, pos).trim(), 80));
    const right = parseValue();
    if (VERSION_OPS.has(op)) {
      for (const value of [left, right]) {
        const problem = value.type === "string" ? oversizedVersion(value.value) : undefined;
        if (problem !== undefined) fail(problem);
      }
    }
    return { type: "compare", left, op, right };
  };

  const parseAnd = (): Marker => {
    let left = parseAtom();
    while (keyword("and")) left = { type: "and", left, right: parseAtom() };
    return left;
  };

  function parseOr(): Marker {
    let left = parseAnd();
    while (keyword("or")) left = { type: "or", left, right: parseAnd() };
    return left;
  }

  if (src === "") fail("empty marker");
  if (src.length > MAX_MARKER_LENGTH) fail(`it is ${src.length} characters long; mpip reads markers of at most ${MAX_MARKER_LENGTH}`);
  const marker = parseOr();
  skipWs();
  if (pos < src.length) fail(`expected \`and\`, \`or\` or the end, found ${found()}`);
  return marker;
}

/** Canonical text of a marker; parsing it gives back the same tree. */
export function formatMarker(marker: Marker): string {
  if (marker.type === "compare") {
    return `${formatValue(marker.left)} ${marker.op} ${formatValue(marker.right)}`;
  }
  const wrap = (child: Marker, isRight: boolean): string => {
    const needs =
      child.type !== "compare" &&
      ((child.type === "or" && marker.type === "and") || (isRight && child.type === marker.type));
    return needs ? `(${formatMarker(child)})` : formatMarker(child);
  };
  return `${wrap(marker.left, false)} ${marker.type} ${wrap(marker.right, true)}`;
}

function formatValue(value: MarkerValue): string {
  if (value.type === "variable") return value.name;
  return value.value.includes('"') ? `'${value.value}'` : `"${value.value}"`;
}

/**
 * Evaluates a marker; by default against MICROPYTHON_ENVIRONMENT, with the set variables of lock files
 * (`extras`, `dependency_groups`) empty unless `sets` gives them. A set is only tested with `in` and
 * `not in` (`'dev' in dependency_groups`, names compared after PEP 503 normalization); any other
 * comparison with one is false, as it has no meaning.
 */
export function evaluateMarker(marker: Marker, env: MarkerEnvironment = MICROPYTHON_ENVIRONMENT, sets: MarkerSets = {}): boolean {
  switch (marker.type) {
    case "and":
      return evaluateMarker(marker.left, env, sets) && evaluateMarker(marker.right, env, sets);
    case "or":
      return evaluateMarker(marker.left, env, sets) || evaluateMarker(marker.right, env, sets);
    case "compare": {
      if (marker.right.type === "variable" && SET_VARIABLES.has(marker.right.name) && marker.left.type === "string" && (marker.op === "in" || marker.op === "not in")) {
        const members = (sets[marker.right.name as keyof MarkerSets] ?? []).map(normalizeName);
        return members.includes(normalizeName(marker.left.value)) === (marker.op === "in");
      }
      if ([marker.left, marker.right].some((value) => value.type === "variable" && SET_VARIABLES.has(value.name))) return false;
      let lhs = resolve(marker.left, env);
      let rhs = resolve(marker.right, env);
      if (isVariable(marker.left, "extra") || isVariable(marker.right, "extra")) {
        lhs = normalizeName(lhs);
        rhs = normalizeName(rhs);
      }
      return compare(lhs, marker.op, rhs);
    }
  }
}

/**
 * The marker variable whose value differs from one MicroPython firmware to another (`--target-version`,
 * `--mpy`): every other one is the same on every board (MICROPYTHON_ENVIRONMENT).
 */
const FIRMWARE_VARIABLE = "implementation_version";

/**
 * evaluateMarker's answer, and whether the firmware's release (`implementation_version`) took part in it:
 * then the answer holds for one firmware, not every one. Evaluation stops as soon as the result is known
 * (in `extra == "x" and implementation_version < "1.20"` the release is never read), so only a release
 * that decided counts.
 */
export function evaluateMarkerNoting(marker: Marker, env: MarkerEnvironment = MICROPYTHON_ENVIRONMENT): { holds: boolean; onFirmware: boolean } {
  let onFirmware = false;
  const noting = new Proxy(env, {
    get(target, name, receiver) {
      if (name === FIRMWARE_VARIABLE) onFirmware = true;
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  return { holds: evaluateMarker(marker, noting), onFirmware };
}

function isVariable(value: MarkerValue, name: string): boolean {
  return value.type === "variable" && value.name === name;
}

function resolve(value: MarkerValue, env: MarkerEnvironment): string {
  if (value.type === "string") return value.value;
  const found = env[value.name];
  if (found !== undefined) return found;
  if (value.name === "extra") return "";
  throw new MpipError("bad-spec", `marker variable \`${printable(value.name, 80)}\` is not set in the marker environment`);
}

/**
 * A version a marker compares with (`"1.0"`, `"3.*"`) that holds a number too large to compare, as the
 * reason to refuse the marker; packaging would compare it as a version, so comparing text instead would
 * give another answer.
 */
function oversizedVersion(value: string): string | undefined {
  const version = value.trim().replace(/\.\*$/, "");
  if (!isPep440Version(version)) return undefined;
  const problem = versionProblem(version);
  return problem === undefined ? undefined : `the version \`${printable(value, 80)}\` ${problem}`;
}

function compare(lhs: string, op: MarkerOp, rhs: string): boolean {
  if (op === "in") return rhs.includes(lhs);
  if (op === "not in") return !rhs.includes(lhs);
  // PEP 440 arbitrary equality is a (case-insensitive) string match, never a version comparison.
  if (op === "===") return lhs.toLowerCase() === rhs.toLowerCase();
  // Both sides versions mpip can compare (parseMarker refused string literals too large to compare).
  const versionOp = VERSION_OPS.has(op) && !rhs.includes(",");
  if (versionOp && isComparableVersion(lhs) && specifierProblem(`${op}${rhs}`) === undefined) {
    return satisfiesSpecifier(lhs, `${op}${rhs}`, { prereleases: true });
  }
  switch (op) {
    case "==":
      return lhs === rhs;
    case "!=":
      return lhs !== rhs;
    case "<":
      return lhs < rhs;
    case "<=":
      return lhs <= rhs;
    case ">":
      return lhs > rhs;
    case ">=":
      return lhs >= rhs;
    default:
      // `~=` between non-versions has no meaning (Python's packaging raises); treat it as not matching.
      return false;
  }
}
