// Preparing a release: the artifact's tag picks how its bytes are fetched and staged. Each way ends
// in the same place: files in the package's staging folder, verified, plus its dependencies.

import path from "node:path";
import { archiveDownloadLimit } from "../budget.js";
import { fetchFile, fetchToFile } from "../fetch.js";
import type { EarlyDependencies, Prepared, Release } from "../resolve/resolve.js";
import { isShorthand } from "../sources/git-hosts.js";
import { yankedBecause, type Artifact } from "../sources/types.js";
import { prepareArchive } from "./archive.js";
import { allowedBy, describeRelease, stagingDir, type PrepareContext, type Staged } from "./context.js";
import { fetchWithin, normalizeDest, stageFile } from "./files.js";
import { fromIndex, fromSpec, missingHashWarnings } from "./hashes.js";
import { fromShorthand, preparePackageDocument } from "./package-document.js";
export { DocumentsAhead, warmPackageDocument as warmRelease } from "./package-document.js";
import { parsePackageSpec, type PackageSpec } from "../spec/package-spec.js";
import { evaluateMarker } from "../spec/markers.js";
import { MpipError } from "../errors.js";
import { normalizeName } from "../spec/names.js";
import { printable } from "../text.js";

export type { PrepareContext, Staged } from "./context.js";

/**
 * Fetches, verifies and stages `release` in its folder of the staging area. A package document tells its
 * dependencies through `early` as soon as it is read, before its files are fetched.
 */
export async function prepareRelease(release: Release, context: PrepareContext, early?: EarlyDependencies): Promise<Prepared<Staged>> {
  context.signal?.throwIfAborted();
  const { artifact } = release;
  switch (artifact.type) {
    case "dist": {
      const label = describeRelease(release.name, release.version, artifact.file.filename);
      const direct = release.direct === true;
      // A `--hash` from the user verifies the file whatever its source gives.
      const unverified = release.hashes !== undefined ? [] : missingHashWarnings(artifact.file, label, direct ? fromSpec(release.source, false) : fromIndex(release.source), context);
      // A yanked file is chosen only when pinned (select.ts); the file-yanking spec (PEP 592) asks installers to say so.
      if (artifact.file.yanked && !direct) unverified.push(`${label} was yanked by \`${release.source}\`${yankedBecause(artifact.file.yankedReason)}; it is taken because it is pinned (\`==\`), as pip takes a pinned yanked release`);
      // The archive is held in memory until it is unpacked, under a lease on the install's memory budget;
      // a download larger than any archive unpacking within the limit is cut off while it arrives.
      const limit = context.limits.maxUnpackedBytes;
      const maxBytes = archiveDownloadLimit(limit);
      const lease = context.http.memory.lease();
      try {
        const authority = context.pinnedBy ?? (direct ? "the URL's `#sha256=`" : undefined);
        const fetched = await fetchWithin(maxBytes, limit, label, () => fetchFile(artifact.file, context.http, label, { ...(direct ? { direct } : {}), ...(authority === undefined ? {} : { authority }), maxBytes, lease, ...allowedBy(release) }));
        const prepared = await prepareArchive(stagingDir(context, release.key), { ...fetched, filename: artifact.file.filename }, label, context, { name: release.name, version: release.version, direct });
        await context.onArchive?.(release, { data: fetched.data, sha256: fetched.sha256, filename: artifact.file.filename });
        const pinned = { location: artifact.file.location, sha256: fetched.sha256, bytes: fetched.data.length };
        return { ...prepared, value: { ...prepared.value, warnings: [...unverified, ...prepared.value.warnings], fetched: { artifact: pinned } } };
      } finally {
        lease.release();
      }
    }
    case "project": {
      if (release.hashes !== undefined) throw unhashableProject(release);
      // Packing (and pako, its gzip) loads only for an install from a project folder.
      const { packArchive } = await import("../pack/pack.js");
      const packed = await packArchive(artifact.path);
      if (artifact.named !== undefined && normalizeName(packed.name) !== normalizeName(artifact.named)) throw notTheProjectNamed(artifact.path, artifact.named, packed.name);
      const label = describeRelease(packed.name, packed.version, artifact.path);
      // Packed in memory already; holding it on the budget keeps downloads from piling up beside it.
      const lease = context.http.memory.lease();
      try {
        await lease.grow(packed.archive.length, context.signal);
        const prepared = await prepareArchive(stagingDir(context, release.key), { data: packed.archive, sha256: packed.sha256, origin: artifact.path, filename: packed.filename }, label, context);
        await context.onArchive?.(release, { data: packed.archive, sha256: packed.sha256, filename: packed.filename });
        return { ...prepared, name: packed.name, version: packed.version };
      } finally {
        lease.release();
      }
    }
    case "module":
      return prepareModule(release, artifact, context);
    case "package-json":
      return preparePackageDocument(release, artifact, context, early);
    case "installed":
      return keepInstalled(artifact, context);
    default:
      return exhaustive(artifact);
  }
}

/**
 * Whether a module is installed under the name of a file on this machine (a path the user gave: its
 * `dest` is the file's own name), so that a name that cannot be installed is theirs to change; not a
 * `dest` a lock or a document gives, which is refused as the package's.
 */
function isOwnFileName(artifact: Extract<Artifact, { type: "module" }>): boolean {
  return artifact.location.type === "local" && artifact.dest === path.basename(artifact.location.path);
}

async function prepareModule(release: Release, artifact: Extract<Artifact, { type: "module" }>, context: PrepareContext): Promise<Prepared<Staged>> {
  const dir = stagingDir(context, release.key);
  const label = describeRelease(release.name, release.version, artifact.dest);
  const limit = context.limits.maxUnpackedBytes;
  const unverified = release.hashes !== undefined ? [] : missingHashWarnings(artifact, label, fromSpec(release.source, isShorthand(release.source)), context);
  // Written to its file as it arrives: a module needs no processing in memory.
  const fetched = await stageFile(dir, artifact.dest, label, context.limits.maxPathLength, async (sink) => {
    try {
      return await fetchWithin(limit, limit, label, () => fetchToFile(artifact, context.http, label, sink, { direct: true, authority: context.pinnedBy ?? "the URL's `#sha256=`", maxBytes: limit, ...allowedBy(release) }));
    } catch (error) {
      throw artifact.location.type === "remote" ? fromShorthand(error, release.source, artifact.location.url, context) : error;
    }
  }, isOwnFileName(artifact));
  const pinned = { location: artifact.location, sha256: fetched.sha256, bytes: fetched.bytes };
  return { dependencies: [], value: { dir, files: [normalizeDest(artifact.dest)], sha256: fetched.sha256, origin: fetched.origin, filename: artifact.dest, smallWindow: true, warnings: unverified, fetched: { artifact: pinned } } };
}

/** A package the target already holds: nothing to fetch; its recorded Requires-Dist still drive the walk. */
function keepInstalled(artifact: Extract<Artifact, { type: "installed" }>, context: PrepareContext): Prepared<Staged> {
  const dependencies: PackageSpec[] = [];
  for (const line of artifact.requiresDist) {
    try {
      const spec = parsePackageSpec(line, context.spec);
      const marker = spec.type === "direct" ? spec.direct.marker : spec.requirement.marker;
      if (marker === undefined || evaluateMarker(marker, context.markers)) dependencies.push(spec);
    } catch {
      // A line another tool wrote that mpip cannot read names nothing to install.
    }
  }
  return { dependencies, value: { dir: "", files: [], sha256: "", origin: artifact.distInfo, filename: artifact.distInfo, smallWindow: true, warnings: [], alreadyInstalled: true } };
}

/** `name @ file:///folder` of a folder whose project metadata names another project. */
function notTheProjectNamed(folder: string, named: string, own: string): MpipError {
  return new MpipError("bad-metadata", `the project folder \`${printable(folder, 300)}\` was given as \`${printable(named)}\`, but its project metadata names it \`${printable(own)}\``, {
    hint: `write \`${printable(own)} @ …\` (the name its pyproject.toml or setup.cfg gives), or give the folder's path alone`,
  });
}

/** A project folder is packed on the fly: no digest the user took can stand for it (pip refuses folders too). */
function unhashableProject(release: Release): MpipError {
  return new MpipError("hash-required", `the project folder \`${release.source}\` has \`--hash\` options (${release.hashes!.origin}), but mpip packs a folder itself, so there is no fixed file to check`, {
    hint: "pack it once (`mpip pack -o dist`) and name the .tar.gz with its --hash instead",
  });
}

function exhaustive(value: never): never {
  throw new Error(`unhandled artifact ${JSON.stringify(value)}`);
}
