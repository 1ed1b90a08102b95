// What every source kind answers: plain data about a project's releases and where their bytes are.
// A source never chooses a version; resolve/select.ts does, the same way for every source. What a
// release installs from is an `Artifact`, a union tagged by `type`; the installer picks how to fetch
// and stage it from the tag (prepare/), so a new source kind adds data, not a new install path.

import type { Requirement } from "../spec/requirement.js";
import type { RepoRef } from "./git-hosts.js";
import { printable } from "../text.js";

/** Where a file's bytes come from. */
export type Location = { type: "remote"; url: string } | { type: "local"; path: string };

/** A file an index lists for a release (PyPI JSON, simple API, a find-links folder). */
export interface DistFile {
  filename: string;
  location: Location;
  /** "sdist", "bdist_wheel", ... as the index calls it. */
  packagetype: string;
  /** Lowercase hex, when the index gives one. */
  sha256?: string;
  /** A URL fragment's digest in another algorithm (`#md5=`, `#sha512=`), checked as well. */
  digest?: UrlDigest;
  yanked: boolean;
  /** PEP 592: why the file was yanked, when the index says (raw index text: escape it before showing it). */
  yankedReason?: string;
}

/**
 * A yank reason as messages show it: ` (reason: `...`)`, escaped for the terminal and cut to 200 characters
 * like other index text (text.ts printable); "" when there is none.
 */
export function yankedBecause(reason: string | undefined): string {
  return reason === undefined ? "" : ` (reason: \`${printable(reason, 200)}\`)`;
}

/**
 * `reason` as a PEP 592 yank reason, trimmed and kept to its first 4096 characters (messages cut it
 * further); undefined when it says nothing (not a string, empty or blank).
 */
export function yankReason(reason: unknown): string | undefined {
  return typeof reason === "string" && reason.trim() !== "" ? reason.trim().slice(0, 4096) : undefined;
}

/**
 * A digest a URL's fragment gives in an algorithm other than sha256, as pip takes them (its Link's
 * `_SUPPORTED_HASHES`): `#sha1=`, `#sha224=`, `#sha384=`, `#sha512=`, `#md5=`. `hex` is lowercase.
 */
export interface UrlDigest {
  algorithm: "md5" | "sha1" | "sha224" | "sha384" | "sha512";
  hex: string;
}

/**
 * What one release installs from:
 * - `dist`: a file an index lists; only a `.tar.gz` sdist is installable, unpacked with upip's rules;
 * - `package-json`: a mip package document (micropython-lib's v2 index, or a package.json in a repo)
 *   naming files by destination, with URLs or short hashes, and dependencies; `ref` is a shorthand
 *   spec's `@ref` and its repo, which the document's shorthands into that same repo inherit;
 * - `module`: one `.py` or `.mpy` file, installed at the top of the target under `dest`;
 * - `project`: a local project folder, installed as `mpip pack` would pack it; `named`, the project name a
 *   `name @ file:///folder` gave it, which the packed project's own name must agree with;
 * - `installed`: what the target already holds (its record), when it satisfies every request (pip's rule).
 */
export type Artifact =
  | { type: "dist"; file: DistFile }
  | { type: "package-json"; location: Location; mip?: MipIndexRef; ref?: RepoRef; sha256?: string; digest?: UrlDigest }
  | { type: "module"; location: Location; dest: string; sha256?: string; digest?: UrlDigest }
  | { type: "project"; path: string; named?: string }
  | { type: "installed"; distInfo: string; requiresDist: string[] };

/** The sha256 an artifact is pinned to (an index's digest, a URL's `#sha256=`), if it has one. */
export function artifactSha256(artifact: Artifact): string | undefined {
  if (artifact.type === "dist") return artifact.file.sha256;
  return artifact.type === "module" || artifact.type === "package-json" ? artifact.sha256 : undefined;
}

/** The micropython-lib v2 index a package document came from: where its hashed files are. */
export interface MipIndexRef {
  /** Index base URL, e.g. https://micropython.org/pi/v2 (hashed files are `{base}/file/{h[:2]}/{h}`). */
  base: string;
  /** The folder the document came from: "py" for sources, or an .mpy major version such as "6". */
  flavor: string;
}

export interface ProjectListing {
  /** The project's name as the source spells it. */
  name: string;
  /** Which source answered (an index URL with credentials removed, or a folder). */
  source: string;
  /** Releases by version string, as the source lists them. */
  releases: Map<string, Artifact[]>;
}

/** How one look-up is made. */
export interface LookupOptions {
  /**
   * Ends this look-up's own requests (a look-up made ahead that its level no longer wants); work it
   * shares with other look-ups (settling an index's kind, its index.json) goes on for them.
   */
  signal?: AbortSignal;
}

export interface Source {
  /** How messages and reports name this source. */
  readonly label: string;
  /** A folder on this machine (`--find-links`), not an index. */
  readonly local?: boolean;
  /** The project's releases, or undefined when this source does not know the project. */
  lookup(requirement: Requirement, options?: LookupOptions): Promise<ProjectListing | undefined>;
  /**
   * Something to tell the user when no source knew the requirement's name (e.g. that this index's kind
   * was guessed, or that it has the name spelled another way); never throws.
   */
  hintWhenMissing?(requirement: Requirement): Promise<string | undefined>;
  /**
   * When no source knew a name: why this index's URL itself looks wrong (it did not answer like an index
   * of its kind: no project found, its root page missing, ...), as a clause that follows "which"; never throws.
   * `counted`: the names whose look-ups here count (those the resolution's levels made, all settled).
   */
  doubtWhenMissing?(counted: (name: string) => boolean): Promise<string | undefined>;
}

/** One file of a package document, once its URL is known: where it goes and how to check it. */
export interface PlannedFile {
  /** Path inside the target, checked like a tar entry's. */
  dest: string;
  location: Location;
  /** Full lowercase sha256 hex, or a prefix of it (mip's short hashes); undefined: nothing to check. */
  sha256?: string;
}
