// The dependency graph, breadth-first as upip walks it: one level at a time, deduplicated by
// normalized name, cycles ending where a name is already chosen. Within a level, look-ups and
// downloads run concurrently through the pool, but results are taken in request order, so the
// same inputs give the same plan whatever the network timing. So is a failure: when several packages of
// a level fail, the first in request order is reported, once those before it have settled; it then
// stops the others of its level (and, through the install's scope, everything else in flight).

import { statSync } from "node:fs";
import { RunScope } from "../cancel.js";
import { MpipError } from "../errors.js";
import type { Pool } from "../pool.js";
import { isValidName, normalizeName } from "../spec/names.js";
import { formatRequirement, type Requirement } from "../spec/requirement.js";
import type { DirectSpec, PackageSpec } from "../spec/package-spec.js";
import { artifactSha256, type Artifact, type ProjectListing, type Source } from "../sources/types.js";
import { printable } from "../text.js";
import { shellWord, splitWords } from "../shell-words.js";
import { lockableWords } from "../cli-options.js";
import { retypedCommand } from "../typed-command.js";
import { satisfiesSpecifier, versionProblem } from "../versions.js";
import { allowedHashes, brokenConstraints, checkHashMode, constraintsByName, describeConstraint, type AllowedHashes, type Constraint, type HashMode } from "./constraints.js";
import { LookAheadEnded, Lookups, type AheadLookup } from "./lookups.js";
import { selectRelease } from "./select.js";

export type { AllowedHashes, Constraint, HashMode } from "./constraints.js";

/**
 * One requirement and who made it ("the command line", "`reqs.txt` line 3", "`foo 1.0`"). A direct
 * source (URL, path, `github:`) carries `direct`; its `requirement` is then just its name, for messages.
 */
export interface Request {
  requirement: Requirement;
  requestedBy: string;
  direct?: DirectSpec;
  /** Set when a package's metadata made the request (`requestedBy` names that package), not the user. */
  dependency?: true;
  /** The sha256 digests (lowercase hex) its `--hash` options allow for the package's file. */
  hashes?: string[];
}

/** The release chosen for one key: what it installs from, and who asked for it. */
export interface Release {
  key: string;
  name: string;
  version: string;
  source: string;
  artifact: Artifact;
  /** Named directly (a URL, a path, `github:`), not chosen from an index. */
  direct?: boolean;
  /** The digests its file must match one of (`--hash`), whatever its source says. */
  hashes?: AllowedHashes;
}

export interface ResolvedPackage<T> extends Release {
  requests: Request[];
  /** What it declares it needs, as read from it (its install record's Requires-Dist). */
  dependencies: PackageSpec[];
  /** What `prepare` returned for it (for the installer: the staged files). */
  prepared: T;
}

/** What `prepare` may tell before it is done. */
export interface EarlyDependencies {
  dependencies(specs: readonly PackageSpec[]): void;
}

export interface Prepared<T> {
  dependencies: PackageSpec[];
  value: T;
  /** Name and version read from the package itself (a package.json's `version`, a packed project's name). */
  name?: string;
  version?: string;
}

export function requestFor(spec: PackageSpec, requestedBy: string): Request {
  if (spec.type === "requirement") return { requirement: spec.requirement, requestedBy };
  const { direct } = spec;
  return { requirement: { name: direct.name, extras: [], specifier: "", text: direct.source }, requestedBy, direct };
}

export interface ResolveOptions<T> {
  sources: Source[];
  pool: Pool;
  /**
   * Where a level's tasks run: the first that fails aborts the others (give the pool and the sources'
   * client the scope's signal) and is what resolve throws, once all have stopped. Default: a scope of
   * its own, which only waits for them.
   */
  scope?: RunScope;
  pre: boolean;
  noDeps: boolean;
  /**
   * A release already in the target that satisfies every request for `key` (pip's "Requirement already
   * satisfied"): taken without asking any index. Asked only for requests by name, not direct sources.
   * When it answers nothing (an upgrade asks for the newest), it is asked again with the release chosen
   * from the indexes: an image that already holds that version keeps it (pip's `-U` of an up-to-date package);
   * or with `null` where the indexes offer none (they do not know the name, or no version of it the
   * requests accept): an image that holds one the requests accept keeps it, as pip's resolver does.
   */
  satisfied?(key: string, requests: Request[], chosen?: Release | null): Release | undefined;
  /**
   * Fetch and stage a chosen release; its dependencies drive the next level. Where they are known before
   * it is done (a package document's `deps`, before its files are fetched), it may tell them through
   * `early`, for their look-ups to start at once.
   */
  prepare(release: Release, early: EarlyDependencies): Promise<Prepared<T>>;
  /**
   * The release a look-up made ahead would choose for its level (the same requirement, the same rules),
   * where the level will prepare it unless another request changes the choice: a hint to start fetching
   * what its preparation reads first, until `signal` says the look-up is no longer wanted. Never given a
   * release the target keeps, or one whose file `--hash` options constrain. May resolve to the
   * release's dependencies, where what it fetched names them (a package document): they are looked up
   * ahead in turn, for the level after, and so on down the graph.
   */
  warm?(release: Release, signal: AbortSignal): Promise<readonly PackageSpec[] | undefined> | void;
  onProgress?(event: { resolved: number; pending: number }): void;
  /**
   * A release was chosen and prepared; its dependencies are still to be resolved. Called once for each
   * package of the result (and for a release a project folder later replaces), while the walk goes on.
   */
  onPrepared?(node: ResolvedPackage<T>): void;
  /** Something worth a warning that does not stop the install (a direct source asked for twice, differently). */
  onNotice?(message: string): void;
  /** Constraints (`-c`): they narrow the versions chosen for their names, and add no package. */
  constraints?: readonly Constraint[];
  /** Hash-checking mode: every package must be pinned and have hashes (see constraints.ts). */
  hashMode?: HashMode;
  /** The look-ups lookRootsAhead started (on the same sources and pool), for the first level to take. */
  lookups?: Lookups;
}

/**
 * Starts looking up the roots asked for by name, as the first level will ask for them (every request on
 * a name, and its constraints, in one requirement), before the resolution itself begins: their requests
 * are on the wire while the caller gets the rest of the run ready (an install opens its target). Give
 * the returned Lookups to `resolve` as `options.lookups`; `endAll()` ends them if the run stops first.
 * Only where nothing the target holds can satisfy a root (a target that does not exist yet): the level
 * asks the target first, and a root it kept would have been asked for in vain. A name a direct source
 * among the roots gives is left to that source; nothing is looked up in hash-checking mode, whose checks
 * come first.
 */
export function lookRootsAhead(roots: readonly Request[], options: Pick<ResolveOptions<unknown>, "sources" | "pool" | "constraints" | "hashMode">): Lookups {
  const lookups = new Lookups((requirement, signal) => options.pool.run(() => lookUp(requirement, options.sources, signal)));
  if (options.hashMode !== undefined) return lookups;
  const constraints = constraintsByName(options.constraints ?? []);
  const named = new Set(roots.flatMap((request) => (request.direct?.named === true ? [normalizeName(request.direct.name)] : [])));
  const byKey = new Map<string, Request[]>();
  for (const request of roots) {
    const key = normalizeName(request.requirement.name);
    if (request.direct !== undefined || named.has(key)) continue;
    byKey.set(key, [...(byKey.get(key) ?? []), request]);
  }
  for (const [key, requests] of byKey) lookups.lookAhead(key, combinedRequirement(requests, constraints.get(key) ?? []));
  return lookups;
}

export async function resolve<T>(roots: Request[], options: ResolveOptions<T>): Promise<Array<ResolvedPackage<T>>> {
  const chosen = new Map<string, ResolvedPackage<T>>();
  const lookups = options.lookups ?? new Lookups((requirement, signal) => options.pool.run(() => lookUp(requirement, options.sources, signal)));
  // A direct source whose project name is known answers requests for that name: `./foo-1.0.tar.gz` and
  // `foo` are one package. A name guessed from a URL or a folder never does.
  const aliases = new Map<string, string>();
  const scope = options.scope ?? new RunScope();
  const constraints = constraintsByName(options.constraints ?? []);
  const warmsKept = new WarmsKept();
  // A package's dependencies, looked up as soon as they are known (lookups.ts): only those its next level
  // will look up by name (no direct source answers them, the target does not already satisfy them). The
  // release each look-up would choose is then warmed, unless the target would keep the one it has.
  // `parent`: the look-up made ahead whose fetched document named these dependencies (lookups.ts).
  const lookAhead = (by: { name: string; version: string }, dependencies: readonly PackageSpec[], level: Map<string, Request[]>, parent?: AheadLookup): void => {
    if (options.noDeps || options.hashMode !== undefined) return;
    for (const spec of dependencies) {
      if (spec.type !== "requirement") continue;
      const key = normalizeName(spec.requirement.name);
      if (chosen.has(key) || aliases.has(key) || level.has(key)) continue;
      const request: Request = { ...requestFor(spec, requestedByOf(by)), dependency: true };
      if (options.satisfied?.(key, [request]) !== undefined) continue;
      const named = constraints.get(key) ?? [];
      const requirement = combinedRequirement([request], named);
      const ahead = lookups.lookAhead(key, requirement, parent);
      const warm = options.warm;
      if (ahead === undefined || warm === undefined || allowedHashes([request], named) !== undefined) continue;
      void ahead.listing.then(async (project) => {
        if (project === undefined || ahead.signal.aborted) return;
        const selection = selectRelease(project, requirement.specifier, { pre: options.pre, askedBy: "" });
        const release: Release = { key, name: project.name, version: selection.version, source: project.source, artifact: selection.artifact };
        if (options.satisfied?.(key, [request], release) !== undefined) return;
        // The warm ends with the look-up; but once it has finished, where the level asks for the name in
        // other words, what it fetched (or the failure it met) is kept until the level has chosen, which
        // may be this very release (WarmsKept). One still running ends: it must hold no turn of --jobs
        // that the level's own look-up needs.
        const end = new AbortController();
        let finished = false;
        ahead.signal.addEventListener("abort", () => {
          const reason: unknown = ahead.signal.reason;
          if (finished && reason instanceof LookAheadEnded && reason.reworded) warmsKept.keep(key, release, end);
          else end.abort(reason);
        }, { once: true });
        const deeper = await Promise.resolve(warm(release, end.signal)).finally(() => (finished = true));
        if (deeper !== undefined) lookAhead(release, deeper, level, ahead);
      }).catch(() => {
        // Only a hint: the level chooses, and says what fails, itself.
      });
    }
  };
  try {
    await walk(roots, options, { chosen, lookups, aliases, scope, constraints, lookAhead, warmsKept });
  } finally {
    lookups.endAll();
    warmsKept.endAll();
  }
  options.onProgress?.({ resolved: chosen.size, pending: 0 });
  const resolved = [...chosen.values()];
  refuseSharedNames(resolved);
  return resolved;
}

/**
 * Two packages of one result may not share a name (PEP 503's normalized form): an image records each
 * package under its name, so the second would take the first's record, leaving files no record names.
 * Two sources can meet so only when neither names itself (a module by path or URL, a package.json's
 * folder: package-spec.ts nameFromFile, `my mod.py` and `my_mod.py`); a named one answers every request
 * for its name instead. @throws MpipError `usage` when the user asked for both, `version-conflict` when a
 * package's dependencies did, naming both sources.
 */
function refuseSharedNames(resolved: ReadonlyArray<ResolvedPackage<unknown>>): void {
  const byName = new Map<string, ResolvedPackage<unknown>>();
  for (const release of resolved) {
    const name = normalizeName(release.name);
    const first = byName.get(name);
    if (first === undefined) {
      byName.set(name, release);
      continue;
    }
    const typed = [first, release].every((one) => one.requests.some((request) => request.dependency !== true));
    throw new MpipError(typed ? "usage" : "version-conflict", `\`${printable(first.source)}\` (for ${describeRequests(first.requests)}) and \`${printable(release.source)}\` (for ${describeRequests(release.requests)}) would both be installed as \`${printable(name)}\`: an image records one package under a name`, {
      hint: "install one of them; a name that a source does not state is made from its file or folder name, so renaming that file or folder gives it another",
    });
  }
}

/**
 * Releases warmed (their documents fetched ahead, or failed) for a look-up made ahead that its level then
 * asked for in other words (lookups.ts `LookAheadEnded.reworded`): the level looks the name up again and
 * may choose the very release that was warmed, whose document (or the failure met fetching it) is then
 * its own, with the same attempts as without looking ahead; any other choice lets it go at once.
 * Without this, the level fetched the same document again: one that had failed every attempt ahead was
 * fetched once more, and could install where `--jobs 1` failed.
 */
class WarmsKept {
  private readonly byKey = new Map<string, { release: Release; end: AbortController }>();

  keep(key: string, release: Release, end: AbortController): void {
    this.byKey.get(key)?.end.abort(new LookAheadEnded(key, false));
    this.byKey.set(key, { release, end });
  }

  /** The level has chosen `release` for `key`, or nothing (it failed first): a warm kept for another release goes. */
  chosen(key: string, release: Release | undefined): void {
    const kept = this.byKey.get(key);
    if (kept === undefined) return;
    this.byKey.delete(key);
    if (release === undefined || !sameRelease(kept.release, release)) kept.end.abort(new LookAheadEnded(key, false));
  }

  endAll(): void {
    for (const [key, kept] of this.byKey) kept.end.abort(new LookAheadEnded(key, false));
    this.byKey.clear();
  }
}

/** Whether two releases are one: the same version of the same file from the same source. */
function sameRelease(a: Release, b: Release): boolean {
  return a.version === b.version && a.source === b.source && JSON.stringify(a.artifact) === JSON.stringify(b.artifact);
}

/** The state one resolution's walk shares with its levels. */
interface Walk<T> {
  chosen: Map<string, ResolvedPackage<T>>;
  lookups: Lookups;
  aliases: Map<string, string>;
  scope: RunScope;
  constraints: Map<string, Constraint[]>;
  lookAhead(by: { name: string; version: string }, dependencies: readonly PackageSpec[], level: Map<string, Request[]>): void;
  warmsKept: WarmsKept;
}

/** The levels of the walk, from the roots, until one asks for nothing new. */
async function walk<T>(roots: Request[], options: ResolveOptions<T>, { chosen, lookups, aliases, scope, constraints, lookAhead, warmsKept }: Walk<T>): Promise<void> {
  let level = roots;
  for (let depth = 0; level.length > 0; depth++) {
    for (const request of level) {
      const name = request.direct?.named === true ? normalizeName(request.direct.name) : undefined;
      if (name !== undefined && !aliases.has(name) && !chosen.has(name)) aliases.set(name, request.direct!.key);
    }
    const fresh = new Map<string, Request[]>();
    for (const request of level) {
      const name = normalizeName(request.requirement.name);
      const key = request.direct?.key ?? aliases.get(name) ?? name;
      if (request.direct === undefined && key !== name && depth > 0) {
        options.onNotice?.(`${request.requestedBy} asks for \`${shown(request.requirement)}\`; the direct source \`${printable(chosen.get(key)?.source ?? key)}\` given for \`${request.requirement.name}\` answers it`);
      }
      const existing = chosen.get(key);
      if (existing === undefined) fresh.set(key, [...(fresh.get(key) ?? []), request]);
      else if (request.direct === undefined) checkCompatible(existing, request, constraints.get(normalizeName(existing.name)) ?? []);
      else joinDirect(existing, request, options);
    }
    options.onProgress?.({ resolved: chosen.size, pending: fresh.size });
    lookups.beginLevel(fresh);
    const results = await scope.all([...fresh].map(([key, requests]) => async () => {
      const early = (release: Release): EarlyDependencies => ({ dependencies: (specs) => lookAhead(release, specs, fresh) });
      const result = await resolveOne(key, requests, options, lookups, constraints, early, warmsKept);
      lookAhead(result.node, result.node.dependencies, fresh);
      options.onPrepared?.(result.node);
      return result;
    }));
    lookups.endLevel();
    for (const { node } of results) chosen.set(node.key, node);
    const dropped = mergeProjects(results.map((result) => result.node), chosen, aliases, options);
    const next: Request[] = [];
    for (const { node, dependencies } of results) {
      if (dropped.has(node) || options.noDeps) continue;
      const by = requestedByOf(node);
      for (const spec of dependencies) next.push({ ...requestFor(spec, by), dependency: true });
    }
    level = next;
  }
}

/**
 * A `requestedBy` as a machine-readable report gives it: a package's name and version without the
 * backticks messages quote them with (`` `app 1.0` `` -> `app 1.0`); any other (`the command line`, a -r
 * file's label) as it is.
 */
export function requesterInReport(requestedBy: string): string {
  return /^`[^`]*`$/.test(requestedBy) ? requestedBy.slice(1, -1) : requestedBy;
}

/** How a package's dependencies name who asked for them: "`app 1.0`". */
function requestedByOf(node: { name: string; version: string }): string {
  return `\`${printable(node.name)}${node.version === "" ? "" : ` ${printable(node.version, 80)}`}\``;
}

/**
 * A project folder's name is known only once packed. If the same level chose that name from an index
 * too, the folder the user gave wins and the index's release is dropped (its requests must accept the
 * folder's version); otherwise the name becomes an alias for the folder. Returns the dropped nodes.
 */
function mergeProjects<T>(nodes: Array<ResolvedPackage<T>>, chosen: Map<string, ResolvedPackage<T>>, aliases: Map<string, string>, options: ResolveOptions<T>): Set<ResolvedPackage<T>> {
  const dropped = new Set<ResolvedPackage<T>>();
  for (const node of nodes) {
    if (node.direct !== true || node.artifact.type !== "project") continue;
    const name = normalizeName(node.name);
    const rival = chosen.get(name);
    if (rival !== undefined && rival !== node && rival.direct !== true && nodes.includes(rival)) {
      chosen.delete(name);
      dropped.add(rival);
      for (const request of rival.requests) checkCompatible(node, request);
      options.onNotice?.(`\`${node.name}\` is both asked for by name and given as the folder \`${node.source}\`; the folder is installed`);
    }
    if (!chosen.has(name) && !aliases.has(name)) aliases.set(name, node.key);
  }
  return dropped;
}

async function resolveOne<T>(key: string, requests: Request[], options: ResolveOptions<T>, lookups: Lookups, constraints: Map<string, Constraint[]>, early: (release: Release) => EarlyDependencies, warmsKept: WarmsKept) {
  try {
    return await chooseAndPrepare(key, requests, options, lookups, constraints, early, warmsKept);
  } catch (error) {
    warmsKept.chosen(key, undefined);
    throw throughDependency(error, requests);
  }
}

/**
 * Failures to reach something (an --offline run's cache miss among them), or to take what came (bytes
 * that are not the sha256 asked for, an archive that is no valid one): the user, who never named it,
 * must learn which package led there.
 */
const REACHING = new Set<string>(["network", "tls", "http-status", "not-found", "offline", "digest-mismatch", "archive-corrupt", "bad-metadata"]);

/**
 * A failure to find or fetch what only packages' metadata asked for (a DNS failure on a `github:`
 * dependency's host, an index that does not answer for a dependency) names the package that required
 * it, in front of what failed: the user typed neither that name nor that URL. A URL or `github:` spec
 * from a `-r` file that cannot be fetched names the file and line in front. The code and hint stay.
 */
function throughDependency(error: unknown, requests: Request[]): unknown {
  if (!(error instanceof MpipError) || !REACHING.has(error.code)) return error;
  const first = requests[0]!;
  const keep = { hint: error.hintLines, ...(error.cause === undefined ? {} : { cause: error.cause }) };
  if (requests.every((request) => request.dependency === true)) {
    const by = requiredBy(requests);
    if (error.message.includes(by)) return error;
    const what = first.direct === undefined ? printable(first.requirement.name) : printable(first.direct.source);
    return new MpipError(error.code, `while getting \`${what}\` (required by ${by}): ${error.message}`, keep);
  }
  const fromFile = first.direct !== undefined && first.dependency !== true && first.requestedBy !== "the command line";
  if (!fromFile || error.message.startsWith(first.requestedBy)) return error;
  return new MpipError(error.code, `${first.requestedBy}: ${error.message}`, keep);
}

/** The packages that required a name, as messages list them: "`app 1.0`", "`a 1.0` and `b 2.0`". */
function requiredBy(requests: Request[]): string {
  const names = [...new Set(requests.map((request) => request.requestedBy))];
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names.at(-1)!}`;
}

async function chooseAndPrepare<T>(key: string, requests: Request[], options: ResolveOptions<T>, lookups: Lookups, constraints: Map<string, Constraint[]>, early: (release: Release) => EarlyDependencies, warmsKept: WarmsKept) {
  const directs = requests.filter((request) => request.direct !== undefined);
  const direct = pinnedDirect(directs);
  // Requests for one repo at other refs (or other URLs of one project): the first one asked for wins.
  for (const other of directs.slice(1)) {
    if (other.direct!.source !== direct!.source) options.onNotice?.(`${other.requestedBy} asks for \`${other.direct!.source}\`; \`${direct!.source}\` (asked for by ${directs[0]!.requestedBy}) is installed instead`);
  }
  // A direct source's own name is known before it is fetched only when the spec gives it (`name @ URL`, an sdist's file name).
  const named = direct === undefined ? constraints.get(key) ?? [] : direct.named === true ? constraints.get(normalizeName(direct.name)) ?? [] : [];
  if (options.hashMode !== undefined) checkHashMode(direct?.name ?? requests[0]!.requirement.name, directs.length > 0 ? directs : requests, named, options.hashMode);
  const hashes = allowedHashes(directs.length > 0 ? directs : requests, named);
  let kept = direct === undefined ? satisfiedWithin(options.satisfied?.(key, requests), named) : undefined;
  let chosen: Release | undefined;
  if (direct === undefined && kept === undefined) {
    try {
      chosen = await chooseRelease(key, requests, options, lookups, named);
    } catch (error) {
      // No index offers the name, or a version the requests accept: one the target holds that they accept stays.
      const offersNone = error instanceof MpipError && (error.code === "not-found" || error.code === "no-matching-version");
      kept = offersNone ? satisfiedWithin(options.satisfied?.(key, requests, null), named) : undefined;
      if (kept === undefined) throw error;
    }
  }
  const release: Release = direct !== undefined
    ? { key, name: direct.name, version: direct.version ?? "", source: direct.source, artifact: direct.artifact, direct: true }
    : kept ?? satisfiedWithin(options.satisfied?.(key, requests, chosen), named) ?? chosen!;
  // A release whose file `--hash` options constrain is never warmed: one kept for the name goes.
  warmsKept.chosen(key, hashes === undefined ? release : undefined);
  const prepared = await options.pool.run(() => options.prepare(hashes === undefined ? release : { ...release, hashes }, early(release)));
  const node: ResolvedPackage<T> = { ...release, name: prepared.name ?? release.name, version: prepared.version ?? release.version, requests: directs.length > 0 ? directs : requests, dependencies: prepared.dependencies, prepared: prepared.value };
  // Requests by name that a direct source answers must accept its version; so must the constraints on its name.
  if (direct !== undefined) {
    for (const request of requests.filter((item) => item.direct === undefined)) checkCompatible(node, request);
    checkConstraints(node, constraints.get(normalizeName(node.name)) ?? []);
  }
  return { node, dependencies: prepared.dependencies };
}

/**
 * The direct source installed for a name: the first one asked for, with the sha256 that any request for
 * that same source pins (`#sha256=`), so that a request that pins none, asked for first, does not leave
 * another's pin unchecked. @throws MpipError `version-conflict` when two requests pin other bytes.
 */
function pinnedDirect(directs: readonly Request[]): DirectSpec | undefined {
  const first = directs[0]?.direct;
  if (first === undefined) return undefined;
  const pinning = directs.filter((request) => request.direct!.source === first.source && artifactSha256(request.direct!.artifact) !== undefined);
  const pins = [...new Set(pinning.map((request) => artifactSha256(request.direct!.artifact)!))];
  if (pins.length > 1) {
    const [a, b] = [pinning.find((request) => artifactSha256(request.direct!.artifact) === pins[0])!, pinning.find((request) => artifactSha256(request.direct!.artifact) === pins[1])!];
    throw new MpipError("version-conflict", `${a.requestedBy} and ${b.requestedBy} ask for \`${printable(first.source)}\` with other sha256 digests (${pins[0]} and ${pins[1]}): one of them is not what that URL serves`, {
      hint: "the file at the URL has changed, or one of them pins the wrong digest; install them apart to see which",
    });
  }
  if (pins.length === 0 || artifactSha256(first.artifact) !== undefined) return first;
  return { ...first, artifact: withSha256(first.artifact, pins[0]!) };
}

function withSha256(artifact: Artifact, sha256: string): Artifact {
  if (artifact.type === "dist") return { ...artifact, file: { ...artifact.file, sha256 } };
  return artifact.type === "module" || artifact.type === "package-json" ? { ...artifact, sha256 } : artifact;
}

/** What the target holds, unless a constraint refuses its version: then a version is chosen afresh. */
function satisfiedWithin(release: Release | undefined, constraints: readonly Constraint[]): Release | undefined {
  return release === undefined || brokenConstraints(release.version, constraints).length > 0 ? undefined : release;
}

/**
 * A direct source's version (known once it is fetched) against the constraints on its name.
 * @throws MpipError `version-conflict`, naming the constraint's file and line.
 */
function checkConstraints<T>(node: ResolvedPackage<T>, constraints: readonly Constraint[]): void {
  const broken = brokenConstraints(node.version, constraints)[0];
  if (broken === undefined) return;
  const problem = versionProblem(node.version);
  const declared = node.version === "" ? "which declares no version" : problem !== undefined ? `whose version \`${printable(node.version, 80)}\` ${problem}` : `which is version ${printable(node.version, 80)}`;
  throw new MpipError("version-conflict", `${describeConstraint(broken)} does not allow \`${printable(node.name)}\` from \`${printable(node.source)}\`, ${declared}`, {
    hint: "give a source whose version the constraint allows, or change the constraint",
  });
}

/** A direct request for something already chosen: nothing more to fetch, but a different source is said. */
function joinDirect<T>(existing: ResolvedPackage<T>, request: Request, options: ResolveOptions<T>): void {
  existing.requests.push(request);
  if (request.direct!.source !== existing.source) {
    options.onNotice?.(`${request.requestedBy} asks for \`${request.direct!.source}\`; \`${printable(existing.name)}${existing.version === "" ? "" : ` ${printable(existing.version, 80)}`}\` from \`${printable(existing.source)}\` was already chosen and is installed instead`);
  }
}

async function chooseRelease<T>(key: string, requests: Request[], options: ResolveOptions<T>, lookups: Lookups, constraints: readonly Constraint[]): Promise<Release> {
  const combined = combinedRequirement(requests, constraints);
  const project = (await lookups.listing(key, combined)) ?? (await options.pool.run(() => notFound(combined, options.sources, requests, lookups)));
  const askedBy = [describeRequests(requests), ...constraints.map(describeConstraint)].join(", ");
  const selection = selectRelease(project, combined.specifier, { pre: options.pre, askedBy });
  return { key, name: project.name, version: selection.version, source: project.source, artifact: selection.artifact };
}

/**
 * Every requirement on a name as one: constraints narrow the choice as the requests do, and the source
 * sees them all at once (an index without `releases` fetches a pinned version).
 */
function combinedRequirement(requests: Request[], constraints: readonly Constraint[]): Requirement {
  // A specifier asked for twice (two packages pinning one version) is one clause: the same choice, and the
  // same words as a look-up made ahead for either of them, which the level then takes.
  const specifier = [...new Set([...requests.map((request) => request.requirement.specifier), ...constraints.map((constraint) => constraint.requirement.specifier)])].filter((spec) => spec !== "").join(",");
  return { ...requests[0]!.requirement, specifier };
}

/** The first source's listing of the project; undefined when none knows it. `signal` ends it (sources.ts LookupOptions). */
async function lookUp(requirement: Requirement, sources: Source[], signal?: AbortSignal): Promise<ProjectListing | undefined> {
  // A look-up made ahead that was ended while it waited for its turn sends nothing.
  signal?.throwIfAborted();
  for (const source of sources) {
    const listing = await source.lookup(requirement, signal === undefined ? {} : { signal });
    if (listing !== undefined) return listing;
  }
  return undefined;
}

/**
 * No source knows the project: `not-found`, worded for who asked. A name
 * only packages required is not the user's typo: the message names those packages, and the hint speaks
 * of their metadata. A name the user gave in a `-r` file names the file and line. (The user's requests
 * are the first level and dependencies come after, so one name is never asked for by both at once.)
 * Whether an index is doubted is decided by the look-ups the levels made (`lookups`), once all have
 * settled (they were queued on the pool before this), not by those made ahead, which start whenever
 * the package that needs them has been read: the same inputs give the same error.
 * @throws MpipError `not-found`, always; whatever a source throws while giving its hint.
 */
async function notFound(requirement: Requirement, sources: Source[], requests: Request[], lookups: Lookups): Promise<never> {
  // With --no-index and no -f folder, a dependency (a package.json's `deps`) has nowhere to be looked for.
  const where = sources.length === 0
    ? "any index or folder: --no-index leaves none and no `-f` folder is given"
    : `${sources.length === 1 ? "" : "any of "}${sources.map((source) => `\`${source.label}\``).join(", ")}`;
  const notes = (await Promise.all(sources.map((source) => source.hintWhenMissing?.(requirement)))).filter((note) => note !== undefined);
  if (!isValidName(requirement.name)) {
    notes.push(`\`${printable(requirement.name)}\` is a name by mip's rules, not PEP 508's, so only micropython-lib (v2) indexes were asked for it: PyPI, simple indexes and sdists cannot have it`);
  }
  const name = printable(requirement.name);
  const typed = requests.filter((request) => request.dependency !== true);
  const packages = requests.filter((request) => request.dependency === true);
  // With no index at all (`--no-index`), `-i` would be ignored: the way out is to drop --no-index.
  const add = sources.some((source) => source.local !== true)
    ? "add the index that has it with `-i URL` or `--extra-index-url URL` (or a folder of sdists with `-f DIR`)"
    : "add a folder of sdists that has it with `-f DIR`, or drop --no-index so that the indexes are asked";
  if (typed.length === 0) {
    const one = new Set(packages.map((request) => request.requestedBy)).size === 1;
    const wanted = one ? shown(packages[0]!.requirement) : name;
    throw new MpipError("not-found", `${requiredBy(packages)} ${one ? "requires" : "require"} \`${wanted}\`, but package \`${name}\` was not found in ${where}`, {
      hint: [`the name comes from ${one ? "that package's" : "those packages'"} metadata, not from you: ${add}, or install with --no-deps and name what is needed yourself`, ...notes].join("; "),
    });
  }
  const origins = typed.map((request) => request.requestedBy).filter((origin) => origin !== "the command line");
  const from = origins.length === 0 ? "" : ` (given in ${[...new Set(origins)].join(", ")})`;
  // A requirements file or a lock named without its option (`mpip install requirements.txt`), as pip says.
  const asFile = typed.some((request) => request.requestedBy === "the command line") ? fileOptionFor(requirement.name) : undefined;
  // An index that did not answer like one (a mistyped URL: everything 404s) is the likelier fault than the name.
  const asked = asFile === undefined ? lookups.asked() : undefined;
  await asked?.settled;
  const doubts = asked !== undefined ? (await Promise.all(sources.map(async (source) => {
    const doubt = await source.doubtWhenMissing?.((name) => asked.keys.has(normalizeName(name)));
    return doubt === undefined ? undefined : `${sources.length === 1 ? "which" : `the index at \`${source.label}\``} did not answer like an index: ${doubt}`;
  }))).filter((doubt) => doubt !== undefined) : [];
  if (doubts.length > 0) {
    throw new MpipError("not-found", `package \`${name}\`${from} was not found in ${where}, ${sources.length === 1 ? "" : "and "}${doubts.join("; ")}`, {
      hint: ["check the index's URL (`-i`, `--extra-index-url`): a mistyped path, or one missing its `/pypi`, `/simple` or `/v2`, answers 404 for every package", ...notes].join("; "),
    });
  }
  throw new MpipError("not-found", `package \`${name}\`${from} was not found in ${where}`, {
    hint: asFile ?? [`check the spelling of the name, or ${add}`, ...notes].join("; "),
  });
}

/**
 * For a name typed on the command line that is a file here with a requirements file's or a lock's name
 * (`requirements.txt`, `reqs.in`, `pylock.toml`): the hint to give it with its option instead.
 */
function fileOptionFor(name: string): string | undefined {
  const option = /\.(txt|in)$/i.test(name) ? "-r" : /^pylock(\.[^.]+)?\.toml$/i.test(name) ? "--lock" : undefined;
  if (option === undefined || statSync(name, { throwIfNoEntry: false })?.isFile() !== true) return undefined;
  const retyped = retypedCommand([name], [option, shellWord(name)]);
  const intro = `\`${printable(name)}\` is a file in this folder: to install what it lists, give it with ${option}`;
  if (option === "-r") return `${intro}: \`${printable(retyped, 400)}\``;
  // A lock says what to install: what would resolve beside it (other packages, -r, -c, -f, -U, --no-deps, --pre) is refused with --lock, so the command offered leaves it out.
  const words = splitWords(retyped) ?? ["mpip", "install", option, name];
  const { words: kept, dropped } = lockableWords(words.slice(2));
  const command = ["mpip", words[1]!, ...kept.map(shellWord)].join(" ");
  const left = dropped.length === 0 ? "" : ` (leaving out ${dropped.map((word) => `\`${printable(word, 80)}\``).join(", ")}, which cannot be given with --lock: the lock says what to install and where each file is${dropped.some((word) => /^(-f|--find-links)\b/.test(word)) ? "; a folder holding the lock's files is given with `-i DIR`" : ""})`;
  return `${intro}${left}: \`${printable(command, 400)}\``;
}

/**
 * A request for a name already chosen must accept the version chosen; `constraints` (on that name) are
 * named in the error, as they took part in the choice.
 */
function checkCompatible<T>(existing: ResolvedPackage<T>, request: Request, constraints: readonly Constraint[] = []): void {
  const { specifier } = request.requirement;
  if (specifier === "" || satisfiesSpecifier(existing.version, specifier, { prereleases: true })) {
    existing.requests.push(request);
    return;
  }
  const problem = versionProblem(existing.version);
  if (problem !== undefined) {
    const declared = existing.version === "" ? "declares no version" : `declares the version \`${printable(existing.version, 80)}\`, which ${problem}`;
    throw new MpipError("version-conflict", `${request.requestedBy} requires \`${shown(request.requirement)}\`, but \`${printable(existing.name)}\` from \`${printable(existing.source)}\` ${declared}, so that cannot be checked`, {
      hint: "give the package a version (`version` in its package.json), or install with --no-deps",
    });
  }
  // Every specifier on the name at once: a version that meets them all may exist (then asking for it first
  // settles the choice), or none does (then the packages cannot be installed together), which only the
  // listing tells; the hint shows the whole set rather than one side, which may well fail the other.
  const all = [...new Set([...existing.requests, request, ...constraints].map((item) => item.requirement.specifier).filter((clause) => clause !== ""))].join(",");
  const within = constraints.length === 0 ? "" : `, within ${constraints.map(describeConstraint).join(", ")}`;
  throw new MpipError("version-conflict", `${request.requestedBy} requires \`${shown(request.requirement)}\`, but \`${printable(existing.name)} ${printable(existing.version, 80)}\` was already chosen for ${describeRequests(existing.requests)}${within}`, {
    hint: `every requirement on \`${printable(existing.name)}\` must hold at once (\`${printable(existing.name + all)}\`): if a version meets them all, ask for it on the command line (\`'${printable(existing.name + all)}'\`), so that it is chosen first; if none does, these packages cannot be installed together (loosen one of the requirements, or install with --no-deps and choose)`,
  });
}

function describeRequests(requests: Request[]): string {
  return requests.map((request) => `${request.requestedBy} (\`${shown(request.requirement)}\`)`).join(", ");
}

/** A requirement as messages show it: its text may come from an archive or a document. */
function shown(requirement: Requirement): string {
  return printable(formatRequirement(requirement));
}
