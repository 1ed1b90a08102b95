// From a resolution, as `mpip install` would install it, to the lock that pins it: each package with the
// file (or files) its bytes came from, their full sha256 and sizes, where it was chosen from, whether the
// user asked for it, and which other locked packages it requires. Pure: the hashes were taken while the
// files were fetched (prepare/, `Staged.fetched`).

import path from "node:path";
import { MpipError } from "../errors.js";
import { fileUrlPath, isFileUrl } from "../http/file-url.js";
import type { Staged } from "../prepare/context.js";
import type { SourceKind } from "../record/format.js";
import type { ResolvedPackage } from "../resolve/resolve.js";
import type { Location } from "../sources/types.js";
import { normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { isLocalSpec, NAMED_URL, type LockedArtifact, type LockedOrigin, type LockedPackage } from "./format.js";

export interface LockContext {
  /** The kind of the index or folder a source label names (see install.ts `sourceKinds`). */
  kindOf(source: string): SourceKind | undefined;
  /**
   * The absolute folders of the local indexes given with `-i` (`IndexLocation.folder`): the sdists at
   * the top of one are found under that folder's path, which the lock writes relative to itself.
   */
  localFolders?: ReadonlySet<string>;
  /** Whether the user asked for the package (a root request), not only another package. */
  requested(node: ResolvedPackage<Staged>): boolean;
}

/**
 * The locked packages of `resolved` (in plan order). Throws MpipError `bad-metadata` for a package whose
 * files were not all fetched with their hashes (which would be a bug in prepare/, not the user's doing).
 */
export function lockedPackages(resolved: ReadonlyArray<ResolvedPackage<Staged>>, context: LockContext): LockedPackage[] {
  const byKey = new Map(resolved.map((node) => [node.key, node]));
  const byName = new Map(resolved.map((node) => [normalizeName(node.name), node]));
  return resolved.map((node) => ({
    name: node.name,
    // PEP 751: a source tree has no version the lock can vouch for (it is packed when installed).
    version: node.artifact.type === "project" ? "" : node.version,
    origin: originOf(node, context),
    requested: context.requested(node),
    dependencies: node.dependencies.flatMap((spec) => {
      const target = spec.type === "direct" ? byKey.get(spec.direct.key) ?? byName.get(normalizeName(spec.direct.name)) : byName.get(normalizeName(spec.requirement.name)) ?? byKey.get(normalizeName(spec.requirement.name));
      return target === undefined || target === node ? [] : [normalizeName(target.name)];
    }),
    artifact: artifactOf(node),
  }));
}

function originOf(node: ResolvedPackage<Staged>, context: LockContext): LockedOrigin {
  if (node.direct !== true) {
    const kind = context.kindOf(node.source) ?? "pypi";
    // A `--find-links` folder is named by its absolute path (install.ts `openSources`).
    const local = isFileUrl(node.source) || context.localFolders?.has(node.source) === true || (kind === "find-links" && path.isAbsolute(node.source));
    return { type: "index", index: stripCredentials(node.source), kind, ...(local ? { local: true as const } : {}) };
  }
  const { artifact } = node;
  const ref = artifact.type === "package-json" ? artifact.ref?.ref : undefined;
  // A shorthand or a URL as given (credentials removed); a local path as the absolute path it named.
  const spec = isLocalSpec(node.source) ? path.resolve(node.source) : stripCredentials(node.source);
  return { type: "direct", spec, ...(ref === undefined ? {} : { ref }) };
}

function artifactOf(node: ResolvedPackage<Staged>): LockedArtifact {
  const { artifact } = node;
  const fetched = node.prepared.fetched;
  if (artifact.type === "project") return { type: "project", path: artifact.path };
  if (fetched === undefined) throw notPinned(node);
  const pin = (file: { location: Location; sha256: string; bytes: number }) => ({ location: pinnedLocation(file.location), sha256: file.sha256, size: file.bytes });
  switch (artifact.type) {
    case "dist":
      return { type: "dist", filename: artifact.file.filename, file: pin(fetched.artifact) };
    case "module":
      return { type: "module", file: { dest: artifact.dest, ...pin(fetched.artifact) } };
    case "package-json":
      if (fetched.files === undefined) throw notPinned(node);
      return { type: "package-json", document: pin(fetched.artifact), files: fetched.files.map((file) => ({ dest: file.dest, ...pin(file) })) };
    case "installed":
      throw notPinned(node);
  }
}

function notPinned(node: ResolvedPackage<Staged>): MpipError {
  return new MpipError("bad-metadata", `\`${printable(node.name)}\` was resolved without fetching its files, so it cannot be locked`, { hint: "this is a bug in mpip; please report it with the command you ran" });
}

/**
 * A location as a lock pins it: a URL without credentials; a file on this machine as its absolute path (a
 * `-f` folder may be relative), which the lock writes relative to its folder, whether it was named by a
 * path or by a local index's `file:` URL (PEP 751 `path`: the lock then holds no path of this machine).
 */
function pinnedLocation(location: Location): Location {
  if (location.type === "local") return { type: "local", path: path.resolve(location.path) };
  const file = isFileUrl(location.url) ? fileUrlPath(location.url) : undefined;
  return file === undefined ? { type: "remote", url: stripCredentials(location.url) } : { type: "local", path: file };
}

/**
 * `https://user:token@host/x` → `https://host/x` (and in `name @ URL`): a lock is shared and committed, so it never holds a
 * secret; a locked install gets credentials from `~/.netrc` or the index URLs it is given. Text that is
 * no URL (a folder, a shorthand) is returned as it is.
 */
export function stripCredentials(text: string): string {
  const named = NAMED_URL.exec(text);
  if (named !== null) return `${named[1]} @ ${stripCredentials(named[2]!)}`;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.username === "" && url.password === "") return text;
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return text.replace(/\/\/[^/]*@/, "//");
  }
}
