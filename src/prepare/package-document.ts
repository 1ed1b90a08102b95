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
import { allowedBy, describeRelease, stagingDir, type PrepareContext, type Staged } from "./context.js";
import { stageFiles } from "./files.js";
import { fromDocument, fromSpec, missingHashWarnings } from "./hashes.js";

type PackageJsonArtifact = Extract<Artifact, { type: "package-json" }>;

/** What the package documents fetched ahead may hold in memory together, in bytes. */
const AHEAD_BYTES = 4 * 1024 * 1024;

/**
 * Package documents of a v2 index fetched ahead of their preparation (`warmPackageDocument`): a
 * dependency's document is asked for as soon as the document that names it has been read, while that
 * package's files are still being fetched, rather than when the dependency's level begins. mip's graphs
 * then take one round trip per level instead of two. Each is taken once by the preparation that would
 * have fetched it (by URL); one that failed is fetched again there, which says what fails. They hold at
 * most AHEAD_BYTES together; beyond that, none is fetched ahead.
 */
export class DocumentsAhead {
  private readonly fetching = new Map<string, { fetched: Promise<Fetched | undefined>; bytes: number }>();
  private held = 0;

  /** Starts `fetch` for `url` unless one was started for it, or the documents held are at their limit. */
  start(url: string, fetch: () => Promise<Fetched>): void {
    if (this.fetching.has(url) || this.held >= AHEAD_BYTES) return;
    const entry = { fetched: Promise.resolve<Fetched | undefined>(undefined), bytes: 0 };
    entry.fetched = fetch().then(
      (fetched) => {
        // Held until taken, unless taken or dropped meanwhile.
        if (this.fetching.get(url) === entry) {
          entry.bytes = fetched.data.length;
          this.held += entry.bytes;
        }
        return fetched;
      },
      () => undefined,
    );
    this.fetching.set(url, entry);
  }

  /** The document fetched ahead for `url`, taken (once); undefined when none was, or it failed. */
  async take(url: string): Promise<Fetched | undefined> {
    const entry = this.fetching.get(url);
    if (entry === undefined) return undefined;
    this.fetching.delete(url);
    this.held -= entry.bytes;
    return entry.fetched;
  }

  /** Lets go of every document not taken (the resolution is over). */
  clear(): void {
    this.fetching.clear();
    this.held = 0;
  }
}

/**
 * Starts fetching the package document of `release` (from a v2 index, not named directly) as its
 * preparation will (`context.documentsAhead`), through `run` (the run's pool, so `--jobs` holds);
 * anything else is left to its preparation.
 */
export function warmPackageDocument(release: Release, context: PrepareContext, run: <T>(task: () => Promise<T>) => Promise<T> = (task) => task()): void {
  const { artifact } = release;
  if (artifact.type !== "package-json" || artifact.location.type !== "remote" || release.direct === true || release.hashes !== undefined) return;
  const ahead = context.documentsAhead;
  if (ahead === undefined) return;
  const url = artifact.location.url;
  const { label, origin } = describeDocumentOf(release, artifact);
  ahead.start(url, () => run(() => fetchDocument(release, artifact, label, origin, context)));
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
 * The document itself, checked against the URL's `#sha256=` if it had one, within the metadata limit, and
 * parsed. Only the parsed document is returned: its bytes (and their memory lease) are let go before any
 * of its files is fetched.
 */
async function readDocument(release: Release, artifact: PackageJsonArtifact, label: string, origin: DocumentOrigin, context: PrepareContext): Promise<{ document: PackageDocument; sha256: string; bytes: number; origin: string }> {
  const ahead = artifact.location.type === "remote" && release.direct !== true && release.hashes === undefined ? await context.documentsAhead?.take(artifact.location.url) : undefined;
  const fetched = ahead ?? (await fetchDocument(release, artifact, label, origin, context));
  return { document: parsePackageDocument(fetched.data, origin), sha256: fetched.sha256, bytes: fetched.data.length, origin: fetched.origin };
}

async function fetchDocument(release: Release, artifact: PackageJsonArtifact, label: string, origin: DocumentOrigin, context: PrepareContext): Promise<Fetched> {
  const maxBytes = context.limits.maxMetadataBytes;
  const direct = release.direct === true;
  try {
    return await fetchFile({ location: artifact.location, ...(artifact.sha256 === undefined ? {} : { sha256: artifact.sha256 }) }, context.http, label, {
      maxBytes,
      ...(direct ? { direct, authority: "the URL's `#sha256=`" } : { authority: `the index \`${release.source}\`` }),
      ...allowedBy(release),
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
