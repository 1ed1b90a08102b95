// What preparing a release needs and what it leaves behind: the staged files of one package,
// fetched and verified, in a folder of the install's staging area, plus what the report says of it.

import type { RunScope } from "../cancel.js";
import { printable } from "../text.js";
import type { HttpClient } from "../http.js";
import type { FileDigest } from "../image/commit-plan.js";
import type { Staging } from "../image/staging.js";
import type { Limits } from "../limits.js";
import type { Release } from "../resolve/resolve.js";
import type { MarkerEnvironment } from "../spec/markers.js";
import type { SpecContext } from "../spec/package-spec.js";
import type { Location } from "../sources/types.js";
import type { DocumentsAhead } from "./package-document.js";
import { sha256Hex } from "../image/fs-ops.js";

export interface PrepareContext {
  http: HttpClient;
  /** Where packages are staged: the install's staging folder (a lock stages in a folder of its own). */
  staging: Pick<Staging, "packageDir">;
  limits: Limits;
  /** Refuse archives a device with a 4 KiB inflate window cannot unpack (`--strict-window`). */
  strictWindow: boolean;
  /** Refuse a remote file that comes with no hash, instead of warning (`--require-hashes`; see hashes.ts). */
  requireHashes?: boolean;
  /** The install's scope: sibling tasks run through it, so that one failing stops the whole install. */
  scope: RunScope;
  /** The scope's signal: aborted when the install fails or is interrupted. */
  signal?: AbortSignal;
  /**
   * The environment the markers of dependencies are evaluated in (spec/markers.ts `markerEnvironment`):
   * the firmware's release as `implementation_version`. Default: MICROPYTHON_ENVIRONMENT.
   */
  markers?: MarkerEnvironment;
  /** For the `deps` of package documents, which may be URLs and `github:` shorthands. */
  spec: SpecContext;
  /**
   * Who the expected hashes come from, when not the index or the URL: "the lock `pylock.toml`" for a
   * locked install, whose every file is checked against the full sha256 the lock pins. For messages.
   */
  pinnedBy?: string;
  /**
   * The first micropython-lib v2 index configured: where mip fetches a package.json's bare `hashes` from.
   * Asked only when a document needs it, since finding it may mean asking indexes what kind they are.
   */
  fallbackMip?: () => Promise<string | undefined>;
  /**
   * Told of each archive once it is verified and unpacked: an sdist as its source served it, a project
   * folder as packed. `mpip download` keeps them; the bytes are the caller's only during the call.
   */
  onArchive?(release: Release, archive: { data: Buffer; sha256: string; filename: string }): Promise<void>;
  /** Package documents fetched ahead of their preparation (package-document.ts), where the run warms releases. */
  documentsAhead?: DocumentsAhead;
}

export interface Staged {
  /** The package's own staging folder; `files` are relative to it. */
  dir: string;
  files: string[];
  /**
   * The size and sha256 of staged files as they were written (an sdist's, hashed while unpacking), by
   * their path in `files`: the install record takes them instead of reading the files back. Valid only
   * while the files are as staged: not once the image is compiled.
   */
  digests?: ReadonlyMap<string, FileDigest>;
  /** sha256 of what was fetched: the archive, the module, or the package document. */
  sha256: string;
  /** Where it came from, safe to print. */
  origin: string;
  /** The archive's, module's or document's file name. */
  filename: string;
  /** Whether a device with a 4 KiB inflate window can unpack it (always, for what is not an archive). */
  smallWindow: boolean;
  /** Said after resolution, in plan order, so output does not depend on network timing. */
  warnings: string[];
  /** The target holds it already, at a version that satisfies every request: nothing is staged for it. */
  alreadyInstalled?: boolean;
  /** The one-line summary its metadata gives (an sdist's PKG-INFO `Summary:`), for the install record. */
  summary?: string;
  /**
   * Every file fetched for it, with its full sha256 and size, so that a lock can pin them: the artifact
   * (the sdist, the module, the package document), and a package document's files by destination.
   * Undefined for a project folder (packed on the spot) and for what the target already holds.
   */
  fetched?: { artifact: FetchedFile; files?: Array<FetchedFile & { dest: string }> };
}

/** One file as it was fetched: where from, its full sha256 (hex) and its size in bytes. */
export interface FetchedFile {
  location: Location;
  sha256: string;
  bytes: number;
}

/** "`foo 1.0` (`foo-1.0.tar.gz`)": how messages name what is being prepared. */
export function describeRelease(name: string, version: string, filename: string): string {
  return `\`${printable(name, 100)}${version === "" ? "" : ` ${printable(version, 60)}`}\` (\`${printable(filename, 200)}\`)`;
}

/** A package's staging folder: keys may be URLs or paths, so the folder name is made safe and unique. */
export function stagingDir(context: PrepareContext, key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, "_").slice(-60).replace(/^[._]+/, "");
  const digest = sha256Hex(key).slice(0, 10);
  return context.staging.packageDir(`${readable}-${digest}`);
}

/** The fetch option that checks a release's file against the user's `--hash` digests, when it has some. */
export function allowedBy(release: Release): { allowed?: NonNullable<Release["hashes"]> } {
  return release.hashes === undefined ? {} : { allowed: release.hashes };
}
