// PEP 440 versions and specifiers: the one door to @renovatebot/pep440, which no other module imports.
// Versions and specifiers come from users, requirement lines, index documents and file names, so every
// call here is total: it answers for any string and never throws.
//
// The library reads each number of a version with `Number()`: above 2^53 − 1 (16 digits) numbers lose
// precision (`1.9007199254740993` equals `1.9007199254740992`), and from 10^21 on they print as `1e+21`,
// which it cannot read back, so `<`, `>` and local labels throw. PEP 440 sets no bound, but no real
// version needs such a number, so mpip's rule is: a version whose numbers (epoch, release, pre-, post-
// and dev-release, the all-digit parts of a local label) are all at most 9007199254740991 is compared
// exactly; a longer one is not a version mpip can compare. Listings skip it (as pip skips versions that
// are not PEP 440), and a specifier or marker that holds one is refused with an error naming it.

import pep440 from "@renovatebot/pep440";
import { printable } from "./text.js";

/** The largest number a version may hold for mpip to compare it: 2^53 − 1 (16 digits). */
export const LARGEST_VERSION_NUMBER = Number.MAX_SAFE_INTEGER;
const LARGEST_DIGITS = String(LARGEST_VERSION_NUMBER);

/** The parts of a version that requirement checks need. */
export interface VersionParts {
  /** The release segment, e.g. [1, 2, 0] for `1.2.0`. */
  release: number[];
  /** Whether it is a dev release (`1.0.dev2`). */
  isDevRelease: boolean;
  /** The local label (after `+`), or undefined. */
  local: string | undefined;
}

/** Whether `text` is a PEP 440 version by its syntax alone (a listing keeps it; it may still be too large to compare). */
export function isPep440Version(text: string): boolean {
  return pep440.valid(text) !== null;
}

/**
 * Why `text` is not a version mpip can compare, as a phrase to follow the version in a message ("is not
 * a valid PEP 440 version", "holds the number 1000…, larger than …", "is larger than …"), or undefined
 * when it is one.
 */
export function versionProblem(text: string): string | undefined {
  if (!isPep440Version(text)) return "is not a valid PEP 440 version";
  const number = oversizedNumber(text);
  return number === undefined ? undefined : tooLarge(number, text);
}

/** A PEP 440 version whose numbers mpip compares exactly. */
export function isComparableVersion(text: string): boolean {
  return versionProblem(text) === undefined;
}

/** The release, dev number and local label of a comparable version; undefined for anything else. */
export function parseVersion(text: string): VersionParts | undefined {
  if (!isComparableVersion(text)) return undefined;
  const parsed = pep440.explain(text);
  if (parsed === null) return undefined;
  return { release: parsed.release, isDevRelease: parsed.is_devrelease, local: parsed.local ?? undefined };
}

/**
 * Whether `version` is a pre-release in PEP 440's sense (`2.0a1`, `2.0rc1`, `2.0.dev3`: a pre- or dev
 * release), which pip and PyPI pass over for the latest release while a final one exists. False for a
 * string that is not a comparable version.
 */
export function isPreRelease(version: string): boolean {
  if (!isComparableVersion(version)) return false;
  return pep440.explain(version)?.is_prerelease === true;
}

/**
 * PEP 440 order: negative when `a` comes before `b`, 0 when they are equal (`1.0` and `1.0.0`), positive
 * after. A string that is not a comparable version sorts before every version, equal to any other such.
 */
export function compareVersions(a: string, b: string): number {
  const aOk = isComparableVersion(a);
  const bOk = isComparableVersion(b);
  if (!aOk || !bOk) return (aOk ? 1 : 0) - (bOk ? 1 : 0);
  return pep440.compare(a, b);
}

// One clause of a specifier set as packaging (pip's library) reads it: its `Specifier._regex`, by operator.
// A version may be spelled any way PEP 440 allows (`v1.0`, `1.0-RC1`, `1.0_dev`, `1.0-1`); `.*` follows
// only a release (`==1.1.*`, never `==1.1a1.*`), a local label only `==` and `!=`, and `~=` needs two
// release numbers.
const PRE = String.raw`(?:[-_.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_.]?[0-9]*)?`;
const POST = String.raw`(?:(?:-[0-9]+)|(?:[-_.]?(?:post|rev|r)[-_.]?[0-9]*))?`;
const DEV = String.raw`(?:[-_.]?dev[-_.]?[0-9]*)?`;
const LOCAL = String.raw`(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?`;
const START = String.raw`v?(?:[0-9]+!)?[0-9]+`;
const CLAUSE_GRAMMAR = new RegExp(
  String.raw`^\s*(?:` +
    String.raw`(?:===\s*[^\s;)]*)` +
    String.raw`|(?:(?:==|!=)\s*${START}(?:\.[0-9]+)*(?:\.\*|${PRE}${POST}${DEV}${LOCAL}))` +
    String.raw`|(?:~=\s*${START}(?:\.[0-9]+)+${PRE}${POST}${DEV})` +
    String.raw`|(?:(?:<=|>=|<|>)\s*${START}(?:\.[0-9]+)*${PRE}${POST}${DEV})` +
    String.raw`)\s*$`,
  "is",
);

/**
 * Why a specifier set (`>=1.0,<2`, `==1.4.*`, `===foo`; "" means any version) is not one mpip can check
 * versions against, as a phrase naming the offending clause, or undefined when it is fine. Each clause is
 * checked as packaging (pip's library) checks it: its grammar (CLAUSE_GRAMMAR: `~=` needs two release
 * segments, `.*` only after a release and only with `==` and `!=`, local labels only with `==` and `!=`),
 * empty clauses ignored (`>=1,` is `>=1`); its versions must be comparable, except after `===`, which
 * compares text.
 */
export function specifierProblem(specifier: string): string | undefined {
  for (const clause of specifier.split(",")) {
    if (clause.trim() === "") continue;
    const match = /^\s*(===|~=|==|!=|<=|>=|<|>)\s*(.*?)\s*$/s.exec(clause);
    if (match === null) return `\`${printable(clause.trim(), 80)}\` is not a version specifier`;
    const [, operator = "", version = ""] = match;
    if (!CLAUSE_GRAMMAR.test(clause)) return `\`${printable(clause.trim(), 120)}\` is not a valid PEP 440 version specifier${grammarReason(operator, version)}`;
    if (operator === "===") continue;
    const written = version.replace(/\.\*$/, "");
    const number = oversizedNumber(written);
    if (number !== undefined) return `\`${printable(version, 80)}\` ${tooLarge(number, version)}`;
    if (!isPep440Version(written)) return `\`${printable(clause.trim(), 120)}\` is not a valid PEP 440 version specifier`;
  }
  return undefined;
}

/** Why a clause with a version-like text breaks the grammar, as a parenthesised phrase, or "". */
function grammarReason(operator: string, version: string): string {
  if (version.endsWith(".*") && (operator === "==" || operator === "!=")) return " (`.*` may follow only a release, as in `==1.1.*`)";
  if (version.endsWith(".*")) return ` (\`.*\` may follow only \`==\` and \`!=\`)`;
  if (version.includes("+") && operator !== "===") return ` (a local label \`+…\` may follow only \`==\` and \`!=\`)`;
  if (operator === "~=" && /^v?(?:[0-9]+!)?[0-9]+(?![.0-9])/i.test(version)) return " (`~=` needs at least two release numbers, as in `~=1.0`)";
  return "";
}

/**
 * Whether `version` satisfies the specifier set, clause by clause as PEP 440 defines each operator (and
 * as packaging, pip's library, implements them); false when the version is not comparable or the
 * specifier has a problem (see specifierProblem), which callers check first to say why.
 * - `==V` compares the public version unless V has a local label; `==V.*` matches by prefix, the
 *   release padded with zeros (`1` is `1.0.*`), the local label ignored; `!=` is its opposite;
 * - `<=V`, `>=V` compare the public version;
 * - `<V` takes no pre-release of V (from `V.dev0` up) unless V is one; `>V` takes no post-release of V
 *   unless V is one, nor a local version of V;
 * - `~=V` is `>=V` and `==P.*`, where P is V as written, split at dots (and between a number and an `a`,
 *   `b`, `c` or `rc` label joined to it), up to its first part that starts with `dev`, `a`, `b`, `rc` or
 *   `post`, less the last part kept: packaging reads the text, not the version, so `~=1.0rc1` is
 *   `>=1.0rc1,==1.*` but `~=1.0c1` (the same version) is `>=1.0c1,==1.0.*`, and `~=v1.0` matches nothing;
 * - `===V` compares text, without case, as the version was written (no normalization).
 * `prereleases`: whether a pre-release may match; where false, one still may when a clause names one
 * (`>=1.0a1`; any operator but `!=` and `==V.*`), as pip reads such a specifier.
 */
export function satisfiesSpecifier(version: string, specifier: string, options: { prereleases: boolean }): boolean {
  if (!isComparableVersion(version) || !usableSpecifier(specifier)) return false;
  const clauses = parsedClauses(specifier);
  const prospective = explained(version);
  if (prospective.is_prerelease && !options.prereleases && !clauses.some(namesPrerelease)) return false;
  return clauses.every((clause) => matchesClause(version, prospective, clause));
}

/** A comparable version's parts, as pep440.explain gives them at run time (its typings say otherwise). */
interface Explained {
  epoch: number;
  release: number[];
  pre: [string, number] | null;
  post: number | null;
  dev: number | null;
  local: string | null;
  /** Normalized, without the local label. */
  public: string;
  is_prerelease: boolean;
  is_postrelease: boolean;
}

interface Clause {
  operator: string;
  /** The version as written, without a trailing `.*`. */
  text: string;
  wildcard: boolean;
  /** Its parts, for every operator but `===`. */
  parts?: Explained;
}

function explained(version: string): Explained {
  return pep440.explain(version) as unknown as Explained;
}

// Version choice checks every release against one specifier: its clauses are kept for the next call.
let lastClauses: { text: string; clauses: Clause[] } | undefined;

function parsedClauses(specifier: string): Clause[] {
  if (lastClauses?.text === specifier) return lastClauses.clauses;
  const clauses = specifier.split(",").filter((clause) => clause.trim() !== "").map((clause): Clause => {
    const [, operator = "", written = ""] = /^\s*(===|~=|==|!=|<=|>=|<|>)\s*(.*?)\s*$/s.exec(clause)!;
    const wildcard = operator !== "===" && written.endsWith(".*");
    const text = wildcard ? written.slice(0, -2) : written;
    return { operator, text, wildcard, ...(operator === "===" ? {} : { parts: explained(text) }) };
  });
  lastClauses = { text: specifier, clauses };
  return clauses;
}

/** Whether a clause lets pre-releases in by naming one (packaging's `Specifier.prereleases`). */
function namesPrerelease(clause: Clause): boolean {
  if (clause.operator === "!=" || clause.wildcard) return false;
  if (clause.parts !== undefined) return clause.parts.is_prerelease;
  return isComparableVersion(clause.text) && explained(clause.text).is_prerelease;
}

function matchesClause(version: string, prospective: Explained, clause: Clause): boolean {
  const { operator, text, parts } = clause;
  if (operator === "===") return version.trim().toLowerCase() === text.toLowerCase();
  const spec = parts!;
  switch (operator) {
    case "==":
      return clause.wildcard ? prefixMatches(prospective, text) : equalTo(prospective, spec, text);
    case "!=":
      return !(clause.wildcard ? prefixMatches(prospective, text) : equalTo(prospective, spec, text));
    case "<=":
      return pep440.compare(prospective.public, text) <= 0;
    case ">=":
      return pep440.compare(prospective.public, text) >= 0;
    case "<":
      if (pep440.compare(version, text) >= 0) return false;
      // Not a pre-release of V (V.dev0 and after), unless V is one itself.
      return spec.is_prerelease || !prospective.is_prerelease || pep440.compare(version, `${spec.public}.dev0`) < 0;
    case ">":
      if (pep440.compare(version, text) <= 0) return false;
      // Not a post-release of V unless V is one itself, and not a local version of V.
      if (!spec.is_postrelease && prospective.is_postrelease && pep440.compare(withoutPost(prospective), text) === 0) return false;
      return prospective.local === null || pep440.compare(prospective.public, text) !== 0;
    case "~=":
      return pep440.compare(prospective.public, text) >= 0 && prefixMatches(prospective, compatiblePrefix(text));
    default:
      return false;
  }
}

/** `==V` without `.*`: the public version equals V, or the whole version where V has a local label. */
function equalTo(prospective: Explained, spec: Explained, text: string): boolean {
  return pep440.compare(spec.local === null ? prospective.public : `${prospective.public}+${prospective.local ?? ""}`.replace(/\+$/, ""), text) === 0;
}

/** The version a post-release is one of (`1.0.post1` → `1.0`, `1.0a1.post2.dev3` → `1.0a1`). */
function withoutPost(version: Explained): string {
  const pre = version.pre === null ? "" : `${version.pre[0]}${version.pre[1]}`;
  return `${version.epoch}!${version.release.join(".")}${pre}`;
}

/**
 * `==P.*`: P's parts (versionSplit of P normalized, or as written when it is not a version) are the first
 * parts of the version's public part, its release padded with zeros to as many numbers as P starts with
 * (packaging's `_compare_equal` with `_version_split` and `_left_pad`).
 */
function prefixMatches(prospective: Explained, prefix: string): boolean {
  const wanted = versionSplit(normalizeVersion(prefix) ?? prefix);
  const had = versionSplit(prospective.public);
  const numbers = leadingNumbers(wanted);
  const present = leadingNumbers(had);
  if (present < numbers) had.splice(present, 0, ...Array<string>(numbers - present).fill("0"));
  return wanted.every((part, at) => had[at] === part);
}

/** The `P` of `~=V` as packaging makes it from V's text (see satisfiesSpecifier), epoch included. */
function compatiblePrefix(written: string): string {
  const parts = versionSplit(written);
  const kept: string[] = [];
  for (const part of parts) {
    if (["dev", "a", "b", "rc", "post"].some((suffix) => part.startsWith(suffix))) break;
    kept.push(part);
  }
  const [epoch = "0", ...rest] = kept.slice(0, -1);
  return `${epoch}!${rest.join(".")}`;
}

/**
 * A version's text split as packaging's `_version_split` does: the epoch ("0" when none), then each
 * dot-separated part, a number joined to an `a`, `b`, `c` or `rc` label (`0rc1`) split in two.
 */
function versionSplit(version: string): string[] {
  const bang = version.lastIndexOf("!");
  const result = [bang < 0 ? "0" : version.slice(0, bang) || "0"];
  for (const item of version.slice(bang + 1).split(".")) {
    const joined = /^([0-9]+)((?:a|b|c|rc)[0-9]+)$/.exec(item);
    if (joined === null) result.push(item);
    else result.push(joined[1]!, joined[2]!);
  }
  return result;
}

/** How many parts at the start of a versionSplit are all digits. */
function leadingNumbers(parts: string[]): number {
  const first = parts.findIndex((part) => !/^[0-9]+$/.test(part));
  return first < 0 ? parts.length : first;
}

// Version choice checks every release against one specifier: its verdict is kept for the next call.
let lastSpecifier: { text: string; usable: boolean } | undefined;

function usableSpecifier(specifier: string): boolean {
  if (lastSpecifier?.text !== specifier) lastSpecifier = { text: specifier, usable: specifierProblem(specifier) === undefined };
  return lastSpecifier.usable;
}

/**
 * The first number in `version` above LARGEST_VERSION_NUMBER, as written, or undefined. In a PEP 440
 * version every run of digits before the local label is a number (no label of its syntax holds a
 * digit); in the local label only the all-digit parts are numbers, the others are compared as text.
 */
function oversizedNumber(version: string): string | undefined {
  const plus = version.indexOf("+");
  const publicPart = plus < 0 ? version : version.slice(0, plus);
  const local = plus < 0 ? "" : version.slice(plus + 1);
  const numbers = [...(publicPart.match(/[0-9]+/g) ?? []), ...local.split(/[._-]/).filter((part) => /^[0-9]+$/.test(part))];
  return numbers.find(isOversized);
}

function isOversized(digits: string): boolean {
  const significant = digits.replace(/^0+/, "");
  return significant.length > LARGEST_DIGITS.length || (significant.length === LARGEST_DIGITS.length && significant > LARGEST_DIGITS);
}

function tooLarge(number: string, version: string): string {
  const what = number === version ? "is" : `holds the number ${printable(number, 60)},`;
  return `${what} larger than ${LARGEST_DIGITS} (the largest number mpip compares in a version)`;
}

/**
 * A version in PEP 440's normalized form (`1.0-RC1` → `1.0rc1`, `v2` → `2`, `1.0+Local.X` → `1.0+local.x`),
 * as core metadata and `.dist-info` names carry it; undefined when `text` is not a comparable version.
 */
export function normalizeVersion(text: string): string | undefined {
  if (!isComparableVersion(text)) return undefined;
  const parsed = pep440.explain(text);
  if (parsed === null) return undefined;
  return parsed.local === null || parsed.local === undefined ? parsed.public : `${parsed.public}+${parsed.local}`;
}
