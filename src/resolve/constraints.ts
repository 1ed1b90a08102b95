// Constraints and hashes the user gave for packages, as pip applies them (pip's "Constraints Files" and
// "Hash-checking mode"). A constraint (`-c FILE`) narrows the versions the resolver may choose for a
// name, for a dependency found later as much as for a package named by the user, but never adds a package.
// `--hash` options (on a requirement's line, or a constraint's) list the sha256 digests the package's
// file may have; a file must match one allowed by every line that gives some. Hash-checking mode (any
// `--hash`, or `--require-hashes` in a requirements file) asks that every package installed, dependencies
// included, be pinned with `==` and have hashes, so that the same file is installed every time.

import { MpipError } from "../errors.js";
import { normalizeName } from "../spec/names.js";
import { formatRequirement, type Requirement } from "../spec/requirement.js";
import { printable } from "../text.js";
import { satisfiesSpecifier } from "../versions.js";
import type { Request } from "./resolve.js";
import { isExactPin } from "./select.js";

/** A constraint line: a name with a specifier (and maybe hashes), and where it was written. */
export interface Constraint {
  requirement: Requirement;
  /** "`constraints.txt` line 2". */
  origin: string;
  /** sha256 digests (lowercase hex) its `--hash` options allow; empty or absent when none. */
  hashes?: string[];
}

/** Why hash-checking mode is on, for messages: "`reqs.txt` line 3 has --hash". */
export interface HashMode {
  reason: string;
}

/** The digests a package's file may have, and the lines that allow them (for messages). */
export interface AllowedHashes {
  sha256: string[];
  /** "`reqs.txt` line 3", or several joined: who allows them. */
  origin: string;
}

/** Constraints by normalized name. */
export function constraintsByName(constraints: readonly Constraint[]): Map<string, Constraint[]> {
  const byName = new Map<string, Constraint[]>();
  for (const constraint of constraints) {
    const key = normalizeName(constraint.requirement.name);
    byName.set(key, [...(byName.get(key) ?? []), constraint]);
  }
  return byName;
}

/** "`c.txt` line 2 (constraint `foo<2`)": how messages name a constraint. */
export function describeConstraint(constraint: Constraint): string {
  return `${constraint.origin} (constraint \`${printable(formatRequirement(constraint.requirement))}\`)`;
}

/** The constraints `version` breaks (every one, when it is not comparable). */
export function brokenConstraints(version: string, constraints: readonly Constraint[]): Constraint[] {
  return constraints.filter((constraint) => constraint.requirement.specifier !== "" && !satisfiesSpecifier(version, constraint.requirement.specifier, { prereleases: true }));
}

/**
 * The digests allowed for a package: those every request and constraint giving some agree on (pip
 * intersects them). Undefined when none gives any; an empty list when they share none (no file can pass).
 */
export function allowedHashes(requests: readonly Request[], constraints: readonly Constraint[]): AllowedHashes | undefined {
  const lists = [
    ...requests.filter((request) => (request.hashes?.length ?? 0) > 0).map((request) => ({ hashes: request.hashes!, origin: request.requestedBy })),
    ...constraints.filter((constraint) => (constraint.hashes?.length ?? 0) > 0).map((constraint) => ({ hashes: constraint.hashes!, origin: constraint.origin })),
  ];
  if (lists.length === 0) return undefined;
  const sha256 = lists.slice(1).reduce((shared, list) => shared.filter((hash) => list.hashes.includes(hash)), [...new Set(lists[0]!.hashes)]);
  const origins = [...new Set(lists.map((list) => list.origin))];
  return { sha256, origin: origins.length === 1 ? origins[0]! : `${origins.slice(0, -1).join(", ")} and ${origins.at(-1)!}` };
}

/**
 * What keeps a package from being installed in hash-checking mode, or undefined when nothing does: it
 * must have hashes (from its requests or constraints); a package chosen from an index must also be pinned
 * to one version with `==` (or `===`) by a request or a constraint; a project folder (packed by mpip on the
 * fly) has no fixed hash at all. A URL or path needs hashes only: it names one file already (pip's rule).
 */
export function hashModeProblem(requests: readonly Request[], constraints: readonly Constraint[]): string | undefined {
  const direct = requests.find((request) => request.direct !== undefined)?.direct;
  if (direct?.artifact.type === "project") return "is a project folder, which mpip packs itself: it has no fixed hash to check";
  const hashed = allowedHashes(requests, constraints) !== undefined;
  const pinned = direct !== undefined || [...requests.map((request) => request.requirement.specifier), ...constraints.map((constraint) => constraint.requirement.specifier)].some(isExactPin);
  if (!hashed && !pinned) return "is neither pinned with `==` nor given a `--hash`";
  if (!hashed) return "has no `--hash`";
  if (!pinned) return "is not pinned to one version with `==`";
  return undefined;
}

/**
 * In hash-checking mode, a package found as a dependency (or any package the checks before resolution
 * did not see) that hashModeProblem refuses: an error naming it and who required it.
 * @throws MpipError `hash-required`.
 */
export function checkHashMode(name: string, requests: readonly Request[], constraints: readonly Constraint[], mode: HashMode): void {
  const problem = hashModeProblem(requests, constraints);
  if (problem === undefined) return;
  const by = [...new Set(requests.map((request) => request.requestedBy))].join(", ");
  throw new MpipError("hash-required", `\`${printable(name)}\` (required by ${by}) ${problem}; in hash-checking mode (${mode.reason}) every package installed, dependencies included, must be pinned with \`==\` and have a \`--hash\`; nothing was installed`, {
    hint: `add \`${printable(name)}==VERSION --hash=sha256:HEX\` to a requirements or constraints file (\`mpip install -v\` prints each file's sha256), or install with --no-deps and list every package yourself`,
  });
}
