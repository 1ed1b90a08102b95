// An sdist (from an index, a folder, a URL, or packed from a project): unpack it with upip's rules into
// the package's staging folder, check its gzip window, check that its own metadata names the package
// it was fetched as, and read its dependencies from requires.txt (or PKG-INFO's Requires-Dist), as upip does.

import { unpackSdist } from "../archive/unpack.js";
import { SMALL_WINDOW } from "../archive/gzip-scan.js";
import { MpipError } from "../errors.js";
import { nextTurn } from "../event-loop.js";
import type { Prepared } from "../resolve/resolve.js";
import { dependencySpec, type PackageSpec } from "../spec/package-spec.js";
import { parseRequiresDist, parseRequiresTxt } from "../spec/requires.js";
import { parseMetadata, type CoreMetadata } from "../record/format.js";
import { normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { compareVersions, isComparableVersion } from "../versions.js";
import type { PrepareContext, Staged } from "./context.js";

export interface ArchiveBytes {
  data: Buffer;
  sha256: string;
  origin: string;
  filename: string;
}

/**
 * What an archive was fetched as: the project name and version its index listed it under, or its file
 * name (`leaf-9.0.tar.gz`, also for `leaf @ URL`) gives. `version` "" checks the name only.
 */
export interface ExpectedIdentity {
  name: string;
  version: string;
  /**
   * The name came from a file name or a spec, not from an index (a direct URL or path): the package's
   * own spelling in PKG-INFO then names it (pip records that spelling too).
   */
  direct?: boolean;
}

/**
 * Unpacks `archive` into `dir`, with its dependencies. With `expected`, the archive's PKG-INFO (where it
 * has one) must name that project and version (`metadataMismatch`); a direct one is then named as
 * PKG-INFO spells it. @throws MpipError `bad-metadata` for a mismatch, and what unpackSdist throws.
 */
export async function prepareArchive(dir: string, archive: ArchiveBytes, label: string, context: PrepareContext, expected?: ExpectedIdentity): Promise<Prepared<Staged>> {
  // Unpacking a small archive blocks (unpack.ts); archives of a level arrive together: each takes its
  // turn, so that the requests for the dependencies the one before found are sent first (event-loop.ts).
  await nextTurn();
  context.signal?.throwIfAborted();
  const unpacked = await unpackSdist(archive.data, dir, label, context.limits);
  const smallWindow = unpacked.maxDistance <= SMALL_WINDOW;
  const warnings = smallWindow ? [] : [windowProblem(label, unpacked.maxDistance, context.strictWindow)];
  const metadata = unpacked.pkgInfo === undefined ? undefined : parseMetadata(unpacked.pkgInfo);
  if (expected !== undefined && metadata !== undefined) {
    const problem = metadataMismatch(metadata, expected);
    if (problem !== undefined) {
      throw new MpipError("bad-metadata", `${label} is not the package it was fetched as: its PKG-INFO says ${problem}`, {
        hint: "a file named for one package that holds another is refused (pip refuses it too): check where it comes from, the URL or the index, or the package that requires it",
      });
    }
  }
  const dependencies: PackageSpec[] = dependenciesOf(unpacked.requiresTxt, unpacked.pkgInfo, label);
  const summary = metadata?.summary;
  return {
    dependencies,
    value: { dir, files: unpacked.files, digests: unpacked.digests, sha256: archive.sha256, origin: archive.origin, filename: archive.filename, smallWindow, warnings, ...(summary === undefined || summary === "UNKNOWN" ? {} : { summary }) },
    ...(expected?.direct === true && metadata !== undefined ? { name: metadata.name } : {}),
  };
}

/**
 * How a package's own metadata contradicts what it was fetched as, as a phrase (`Name: evil, not leaf`),
 * or undefined when it does not: names are compared as PEP 503 normalizes them, versions as PEP 440
 * compares them (`1.0` is `1.0.0`), or as text where either is not a PEP 440 version. pip's check
 * (its resolver's "inconsistent name" and "inconsistent version" errors) is the same.
 */
export function metadataMismatch(metadata: CoreMetadata, expected: ExpectedIdentity): string | undefined {
  if (normalizeName(metadata.name) !== normalizeName(expected.name)) return `\`Name: ${printable(metadata.name, 100)}\`, not \`${printable(expected.name, 100)}\``;
  if (expected.version === "") return undefined;
  const same = isComparableVersion(metadata.version) && isComparableVersion(expected.version) ? compareVersions(metadata.version, expected.version) === 0 : metadata.version === expected.version;
  return same ? undefined : `\`Version: ${printable(metadata.version, 60)}\`, not \`${printable(expected.version, 60)}\``;
}

function windowProblem(label: string, distance: number, strict: boolean): string {
  const message = `${label} needs a ${distance > 8192 ? "32" : "larger than 4"} KiB inflate window (it refers back ${distance} bytes): it cannot be installed on a small device`;
  if (strict) {
    throw new MpipError("archive-window", message, {
      hint: "recompress it with a 4 KiB window (`mpip repack`, or sdist_upip), or drop --strict-window to install it on the host anyway",
    });
  }
  return `${message}; installed anyway`;
}

/** The package's dependencies, each by name or by URL (package-spec.ts `dependencySpec`). @throws MpipError naming `label`. */
function dependenciesOf(requiresTxt: string | undefined, pkgInfo: string | undefined, label: string): PackageSpec[] {
  try {
    const requirements = requiresTxt !== undefined ? parseRequiresTxt(requiresTxt) : pkgInfo !== undefined ? parseRequiresDist(pkgInfo) : [];
    return requirements.map(dependencySpec);
  } catch (error) {
    if (error instanceof MpipError) throw new MpipError(error.code, `in the dependencies of ${label}: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
    throw error;
  }
}
