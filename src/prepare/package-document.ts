// A mip package document (micropython-lib's `package/{py|6}/{name}/{version}.json`, or a package.json
// in a repo or on disk): fetch it, plan its files (hashed files from the v2 index, `urls` resolved
// against the document), fetch and verify every file, and turn its `deps` into specs. Unlike mip, every
// file with a hash is checked, and a dependency cycle ends where a package is already chosen.

import path from "node:path";
import { MpipError } from "../errors.js";
import { fetchFile, type Fetched } from "../fetch.js";
import type { EarlyDependencies, Prepared, Release } from "../resolve/resolve.js";
import { parseMipDependency, type PackageSpec } from "../spec/package-spec.js";
import { printable } from "../text.js";
import { badField, isTooLarge, tooLarge, type DocumentOrigin } from "../sources/metadata.js";
import { isShorthand, shorthandNotFound, splitRef, type RepoRef } from "../sources/git-hosts.js";
import { localDocumentRoot } from "../sources/local-root.js";
import { dependenciesOf, parsePackageDocument, planPackageFiles, type PackageDocument } from "../sources/package-json.js";
import type { Artifact } from "../sources/types.js";
import { parseUrl } from "../url.js";
import { compareVersions, isComparableVersion } from "../versions.js";
import { allowedBy, describeRelease, stagingDir, type PrepareContext, type Staged } from "./context.js";
import { stageFiles } from "./files.js";
import { fromDocument, fromSpec, missingHashWarnings } from "./hashes.js";

type PackageJsonArtifact = Extract<Artifact, { type: "package-json" }>;

/** What the package documents fetched ahead may hold in memory together, in bytes. */
const AHEAD_BYTES = 4 * 1024 * 1024;

type AheadResult = { kind: "fetched"; fetched: Fetched } | { kind: "failed"; error: unknown } | { kind: "skipped" };

interface AheadEntry {
  controller: AbortController;
  /** What it holds of AHEAD_BYTES (0 until fetched, and once taken). */
  bytes: number;
  result: Promise<AheadResult>;
}

/**
 * Package documents of a v2 index fetched ahead of their preparation (`warmPackageDocument`): a
 * dependency's document is asked for as soon as the document that names it has been read, while that
 * package's files are still being fetched, rather than when the dependency's level begins. mip's graphs
 * then take one round trip per level instead of two. Each is taken once, by URL, by the preparation that
 * would have fetched it: what it fetched, or the failure it met, which the preparation reports as its own
 * (the same attempts, `--retries` included, and the same outcome as without it). The fetches take their
 * turn in the run's pool (`--jobs`); together the documents held never exceed AHEAD_BYTES (checked when a
 * fetch's turn comes and when it ends: one over it is let go and left to its preparation). A fetch whose
 * look-up made ahead is no longer wanted is ended, and what it holds let go.
 */
export class DocumentsAhead {
  private readonly entries = new Map<string, AheadEntry>();
  private held = 0;

  /** `run`: the run's pool, which every fetch made ahead takes a turn of. */
  constructor(private readonly run: <T>(task: () => Promise<T>) => Promise<T> = (task) => task()) {}

  /**
   * Starts fetching `url` (by `fetch`, ended by the signal it is given) unless it was started, or the
   * documents held are at their limit; `signal` says it is no longer wanted. Resolves to what this call
   * fetched (also when it is let go, not taken), or undefined: not started, skipped, failed.
   */
  start(url: string, fetch: (signal: AbortSignal) => Promise<Fetched>, signal?: AbortSignal): Promise<Fetched | undefined> {
    if (this.entries.has(url) || this.held >= AHEAD_BYTES || signal?.aborted === true) return Promise.resolve(undefined);
    const controller = new AbortController();
    const entry: AheadEntry = { controller, bytes: 0, result: Promise.resolve<AheadResult>({ kind: "skipped" }) };
    this.entries.set(url, entry);
    signal?.addEventListener("abort", () => this.drop(url, entry), { once: true });
    entry.result = this.run(async (): Promise<AheadResult> => {
      // Its turn has come: still wanted, and room for it?
      if (controller.signal.aborted || this.held >= AHEAD_BYTES) return { kind: "skipped" };
      const fetched = await fetch(controller.signal);
      if (this.entries.get(url) === entry) {
        if (this.held + fetched.data.length > AHEAD_BYTES) {
          this.entries.delete(url);
          return { kind: "skipped" };
        }
        entry.bytes = fetched.data.length;
        this.held += entry.bytes;
      }
      return { kind: "fetched", fetched };
    }).catch((error: unknown): AheadResult => (controller.signal.aborted ? { kind: "skipped" } : { kind: "failed", error }));
    return entry.result.then((result) => (result.kind === "fetched" ? result.fetched : undefined));
  }

  /**
   * The document fetched ahead for `url`, taken (once): undefined when none was (or it was let go), to be
   * fetched as usual. @throws what fetching it ahead threw.
   */
  async take(url: string): Promise<Fetched | undefined> {
    const entry = this.entries.get(url);
    if (entry === undefined) return undefined;
    this.entries.delete(url);
    this.held -= entry.bytes;
    entry.bytes = 0;
    const result = await entry.result;
    if (result.kind === "failed") throw result.error;
    return result.kind === "fetched" ? result.fetched : undefined;
  }

  /** Ends every fetch made ahead and lets go of every document not taken (the resolution is over). */
  clear(): void {
    for (const [url, entry] of [...this.entries]) this.drop(url, entry);
  }

  private drop(url: string, entry: AheadEntry): void {
    entry.controller.abort(new Error(`the package document \`${url}\` fetched ahead is no longer wanted`));
    if (this.entries.get(url) !== entry) return;
    this.entries.delete(url);
    this.held -= entry.bytes;
    entry.bytes = 0;
  }
}

/**
 * Starts fetching the package document of `release` (from a v2 index, not named directly) as its
 * preparation will (`context.documentsAhead`); `signal` says it is no longer wanted. Anything else is
 * left to its preparation. Resolves to the dependencies the document fetched names (`deps`, as its
 * preparation reads them), so that their own documents can be asked for in turn: undefined where
 * nothing was fetched or the document does not parse (its preparation says what is wrong with it).
 */
export async function warmPackageDocument(release: Release, context: PrepareContext, signal?: AbortSignal): Promise<PackageSpec[] | undefined> {
  const { artifact } = release;
  if (artifact.type !== "package-json") return undefined;
  const url = aheadUrl(release, artifact);
  if (url === undefined || context.documentsAhead === undefined) return undefined;
  const { label, origin } = describeDocumentOf(release, artifact);
  const fetched = await context.documentsAhead.start(url, (ended) => fetchDocument(release, artifact, label, origin, context, ended), signal);
  if (fetched === undefined || signal?.aborted === true) return undefined;
  try {
    return dependencySpecs(parsePackageDocument(fetched.data, origin), artifact.ref, context);
  } catch {
    return undefined;
  }
}

/**
 * The URL a release's document is fetched ahead by and taken by: one from a v2 index, not named directly
 * and not constrained by `--hash` (whose check the preparation makes); undefined for any other.
 */
function aheadUrl(release: Release, artifact: PackageJsonArtifact): string | undefined {
  return artifact.location.type === "remote" && release.direct !== true && release.hashes === undefined ? artifact.location.url : undefined;
}

/** How messages name a release's package document, and where it is from. */
function describeDocumentOf(release: Release, artifact: PackageJsonArtifact): { label: string; origin: DocumentOrigin; documentName: string; documentUrl: string } {
  const { location } = artifact;
  const documentName = (location.type === "remote" ? parseUrl(location.url)?.pathname.split("/").pop() : location.path.split(/[/\\]/).pop()) || "package.json";
  const documentUrl = location.type === "remote" ? location.url : location.path;
  const origin: DocumentOrigin = { url: documentUrl, index: release.source, ...(release.direct === true ? { kind: "package document" as const } : {}) };
  return { label: describeRelease(release.name, release.version, documentName), origin, documentName, documentUrl };
}

export async function preparePackageDocument(release: Release, artifact: PackageJsonArtifact, context: PrepareContext, early?: EarlyDependencies): Promise<Prepared<Staged>> {
  const { location } = artifact;
  const { label, origin, documentName, documentUrl } = describeDocumentOf(release, artifact);
  // A document named directly is a file like any other; one from a v2 index is that index's metadata.
  const unverified = release.direct === true && release.hashes === undefined ? missingHashWarnings(artifact, label, fromSpec(release.source, isShorthand(release.source)), context) : [];
  const { document, sha256, bytes, origin: fetchedFrom } = await readDocument(release, artifact, label, origin, context);
  refuseOtherVersion(release, document, label, fetchedFrom);
  const bareHashes = document.hashes.some(([dest]) => !document.urls.some(([other]) => other === dest));
  const fallbackMip = artifact.mip === undefined && bareHashes ? await context.fallbackMip?.() : undefined;
  const localRoot = location.type === "local" ? await localDocumentRoot(location.path) : undefined;
  const planned = planPackageFiles(document, {
    documentUrl,
    hosts: context.spec.hosts,
    ...(artifact.ref === undefined ? {} : { ref: artifact.ref }),
    ...(localRoot === undefined ? {} : { localRoot }),
    ...(artifact.mip === undefined ? {} : { mip: artifact.mip }),
    ...(fallbackMip === undefined ? {} : { fallbackMip }),
  });
  // Before any file is fetched: a bad dependency is the document's fault as much as a bad destination.
  const dependencies = dependencySpecs(document, artifact.ref, context);
  early?.dependencies(dependencies);
  unverified.push(...(document.warnings ?? []));
  for (const file of planned) unverified.push(...missingHashWarnings(file, `\`${printable(file.dest, 200)}\` of ${label}`, fromDocument(fetchedFrom), context));
  const dir = stagingDir(context, release.key);
  const staged = await stageFiles(planned, dir, label, {
    authority: `the package document \`${fetchedFrom}\``,
    ...(localRoot === undefined ? {} : { within: localRoot }),
    ...(localRoot === undefined || location.type !== "local" || localRoot === path.dirname(path.resolve(location.path)) ? {} : { withinName: "the git clone that holds the document" }),
  }, context);
  const version = document.version !== undefined && document.version !== "" ? document.version : release.version;
  return {
    dependencies,
    version,
    value: { dir, files: staged.map((file) => file.dest), sha256, origin: fetchedFrom, filename: documentName, smallWindow: true, warnings: unverified, fetched: { artifact: { location, sha256, bytes }, files: staged } },
  };
}

/**
 * A document fetched as one version of its package (chosen from an index's list, or named by its path
 * `package/{flavor}/{name}/{version}.json`) must not say it is another: the version a pin asked for is
 * what gets installed and recorded, as an sdist's PKG-INFO must agree with the version it was fetched as.
 * Versions compare by PEP 440 (`1.0` is `1.0.0`), or as text where either is not one.
 * @throws MpipError `bad-metadata`.
 */
function refuseOtherVersion(release: Release, document: PackageDocument, label: string, from: string): void {
  const said = document.version;
  if (release.version === "" || said === undefined || said === "") return;
  const same = isComparableVersion(said) && isComparableVersion(release.version) ? compareVersions(said, release.version) === 0 : said === release.version;
  if (same) return;
  throw new MpipError("bad-metadata", `${label} is not the package it was fetched as: its package document \`${printable(from, 300)}\` says version \`${printable(said, 80)}\``, {
    hint: "the index lists this document for another version than it holds: report it to the index's maintainers; another version can be pinned meanwhile",
  });
}

/**
 * The document itself, checked against the URL's `#sha256=` if it had one, within the metadata limit, and
 * parsed. Only the parsed document is returned: its bytes (and their memory lease) are let go before any
 * of its files is fetched.
 */
async function readDocument(release: Release, artifact: PackageJsonArtifact, label: string, origin: DocumentOrigin, context: PrepareContext): Promise<{ document: PackageDocument; sha256: string; bytes: number; origin: string }> {
  const url = aheadUrl(release, artifact);
  const ahead = url === undefined ? undefined : await context.documentsAhead?.take(url);
  const fetched = ahead ?? (await fetchDocument(release, artifact, label, origin, context));
  return { document: parsePackageDocument(fetched.data, origin), sha256: fetched.sha256, bytes: fetched.data.length, origin: fetched.origin };
}

async function fetchDocument(release: Release, artifact: PackageJsonArtifact, label: string, origin: DocumentOrigin, context: PrepareContext, signal?: AbortSignal): Promise<Fetched> {
  const maxBytes = context.limits.maxMetadataBytes;
  const direct = release.direct === true;
  try {
    return await fetchFile({ location: artifact.location, ...(artifact.sha256 === undefined ? {} : { sha256: artifact.sha256 }), ...(artifact.digest === undefined ? {} : { digest: artifact.digest }) }, context.http, label, {
      maxBytes,
      ...(direct ? { direct, authority: "the URL's `#sha256=`" } : { authority: `the index \`${release.source}\`` }),
      ...allowedBy(release),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    if (isTooLarge(error, maxBytes)) throw tooLarge(origin, maxBytes);
    throw direct && artifact.location.type === "remote" ? fromShorthand(error, release.source, artifact.location.url, context) : error;
  }
}

/** A 404 for a shorthand's package.json says what was missing where, and the forms that name another place. */
export function fromShorthand(error: unknown, source: string, url: string, context: PrepareContext): unknown {
  if (!(error instanceof MpipError) || error.code !== "not-found" || !isShorthand(source)) return error;
  const { spec, ref } = splitRef(source);
  return shorthandNotFound(spec, ref, url, context.spec.hosts);
}

/**
 * The `deps` as specs, a shorthand into the document's own repo at the document's ref (`ref`) unless it
 * names its own; one that is no valid spec is an error about the document's field.
 */
export function dependencySpecs(document: PackageDocument, ref: RepoRef | undefined, context: Pick<PrepareContext, "spec">): PackageSpec[] {
  return dependenciesOf(document).map((dep, index) => {
    try {
      return parseMipDependency(dep.name, dep.version, context.spec, ref);
    } catch (error) {
      if (error instanceof MpipError && (error.code === "bad-spec" || error.code === "bad-requirement")) {
        throw badField(document.origin, `deps[${index}]`, `is not a dependency mpip can follow: ${error.message}`);
      }
      throw error;
    }
  });
}
