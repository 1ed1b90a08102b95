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
import { MICROPYTHON_ENVIRONMENT, type MarkerEnvironment } from "../spec/markers.js";
import { parseMetadata } from "../record/format.js";
import { printable } from "../text.js";
import { ownFileName, ownSpelling, pkgInfoMismatch, type ExpectedIdentity } from "../spec/identity.js";
import type { PrepareContext, Staged } from "./context.js";

export interface ArchiveBytes {
  data: Buffer;
  sha256: string;
  origin: string;
  filename: string;
}

/**
 * Unpacks `archive` into `dir`, with its dependencies. With `expected`, every PKG-INFO the archive holds
 * must name that project, and that version where it gives one (identity.ts `pkgInfoMismatch`); a direct
 * one is then named as its PKG-INFO spells it. @throws MpipError `bad-metadata` for a mismatch, and what unpackSdist throws.
 */
export async function prepareArchive(dir: string, archive: ArchiveBytes, label: string, context: PrepareContext, expected?: ExpectedIdentity): Promise<Prepared<Staged>> {
  // Unpacking a small archive blocks (unpack.ts); archives of a level arrive together: each takes its
  // turn, so that the requests for the dependencies the one before found are sent first (event-loop.ts).
  await nextTurn();
  context.signal?.throwIfAborted();
  const unpacked = await unpackSdist(archive.data, dir, label, context.limits);
  const smallWindow = unpacked.maxDistance <= SMALL_WINDOW;
  const warnings = smallWindow ? [] : [windowProblem(label, unpacked.maxDistance, context.strictWindow)];
  const problem = expected === undefined ? undefined : pkgInfoMismatch(unpacked.pkgInfos, expected);
  if (problem !== undefined) throw notFetchedAs(label, problem, archive.origin, expected!, ownFileName(unpacked.pkgInfos));
  const metadata = unpacked.pkgInfo === undefined ? undefined : parseMetadata(unpacked.pkgInfo);
  // A direct one is named as its PKG-INFO spells it. One fetched with no version of its own (a lock that
  // names none, as PEP 751 allows) is the version its PKG-INFO gives, as a plain install of the file records it.
  const own = ownSpelling(unpacked.pkgInfos);
  const spelling = expected?.direct === true ? own : expected?.version === "" && own.version !== undefined ? { version: own.version } : {};
  // `name @ URL` of a file whose name says no version (a forge's archive): PKG-INFO must give one, which
  // the record, a lock and a download's file name are made of.
  if (expected?.direct === true && expected.version === "" && spelling.version === undefined) {
    throw new MpipError("bad-metadata", `${label} has no version to be installed as: its file name gives none, and ${unpacked.pkgInfo === undefined ? "it holds no PKG-INFO" : "its PKG-INFO has no PEP 440 `Version:`"}; the file came from \`${printable(archive.origin, 300)}\``, {
      hint: "give the URL of a file named NAME-VERSION.tar.gz, or of an sdist whose PKG-INFO gives its version (`mpip pack` makes one from a project)",
    });
  }
  // The version taken from one PKG-INFO, every other must give it too (or none), as the file name's would be held to.
  const disagreement = expected?.direct === true && expected.version === "" && spelling.version !== undefined ? pkgInfoMismatch(unpacked.pkgInfos, { ...expected, version: spelling.version }) : undefined;
  if (disagreement !== undefined) {
    throw new MpipError("bad-metadata", `${label} does not say which version it is: one PKG-INFO ${disagreement}; the file came from \`${printable(archive.origin, 300)}\``, {
      hint: "its PKG-INFO files must agree (the top-level one and the egg-info's); this is for whoever publishes it to fix",
    });
  }
  const dependencies: PackageSpec[] = dependenciesOf(unpacked.requiresTxt, unpacked.pkgInfo, label, context.markers);
  const summary = metadata?.summary;
  return {
    dependencies,
    value: { dir, files: unpacked.files, digests: unpacked.digests, sha256: archive.sha256, origin: archive.origin, filename: archive.filename, smallWindow, warnings, ...(summary === undefined || summary === "UNKNOWN" ? {} : { summary }) },
    ...spelling,
  };
}

/**
 * The error for an sdist whose PKG-INFO says `problem` against what it was fetched as: the hint says what
 * to rename a file given directly to (`fileName`, by its PKG-INFO), and whose an index's file is to fix.
 */
function notFetchedAs(label: string, problem: string, origin: string, expected: ExpectedIdentity, fileName: string | undefined): MpipError {
  const rename = fileName === undefined ? "name the file NAME-VERSION.tar.gz as its PKG-INFO says" : `name the file \`${printable(fileName, 200)}\`, as its PKG-INFO says`;
  const hint = expected.direct === true
    ? `a file is installed only as the package its own PKG-INFO names: ${rename}, or correct the name before \` @ \` where one was given. A file another package's dependencies name is for that package's authors to fix (--no-deps installs the package without it)`
    : "the index lists a file that holds another package than it says: report it to the index's maintainers, or use another index";
  return new MpipError("bad-metadata", `${label} is not the package it was fetched as: its PKG-INFO ${problem}; the file came from \`${printable(origin, 300)}\``, { hint });
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
function dependenciesOf(requiresTxt: string | undefined, pkgInfo: string | undefined, label: string, env: MarkerEnvironment = MICROPYTHON_ENVIRONMENT): PackageSpec[] {
  try {
    const requirements = requiresTxt !== undefined ? parseRequiresTxt(requiresTxt, env) : pkgInfo !== undefined ? parseRequiresDist(pkgInfo, env) : [];
    return requirements.map(dependencySpec);
  } catch (error) {
    if (error instanceof MpipError) throw new MpipError(error.code, `in the dependencies of ${label}: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
    throw error;
  }
}
