// What a resolved package's record says of it: its core metadata (Requires-Dist as it declared them),
// PEP 610's `direct_url.json` for a direct source, and mpip's `mpip.json` (index, kind, artifact, hash,
// the spec as given, how it was built).

import { pathToFileURL } from "node:url";
import { redactUrl } from "../http.js";
import type { Staged } from "../prepare/context.js";
import type { ResolvedPackage } from "../resolve/resolve.js";
import type { PackageSpec } from "../spec/package-spec.js";
import { formatRequirement } from "../spec/requirement.js";
import { isShorthand } from "../sources/git-hosts.js";
import { artifactSha256, type Artifact, type Location } from "../sources/types.js";
import type { Provenance, SourceKind } from "./format.js";
import type { DirectUrl, RecordInput } from "./write.js";

export interface RecordContext {
  /** The kind of the index or folder a source label names (`pypi`, `simple`, `mip`, `find-links`). */
  kindOf(source: string): SourceKind | undefined;
  /** How the install built files: `--compile` (with `--keep-sources`), for which .mpy version. */
  build: Provenance["build"];
  /** Whether the user asked for the package (a root request), not only another package. */
  requested(node: ResolvedPackage<Staged>): boolean;
}

/** The record of one resolved, staged package, without its files (see stage.ts). Throws nothing. */
export function recordInputFor(node: ResolvedPackage<Staged>, context: RecordContext): Omit<RecordInput, "files"> {
  const direct = node.direct === true;
  const url = artifactUrl(node.artifact);
  const sha256 = node.prepared.sha256 === "" ? null : node.prepared.sha256;
  const ref = node.artifact.type === "package-json" ? node.artifact.ref?.ref : undefined;
  const provenance: Provenance & { ref?: string } = {
    index: direct ? null : node.source,
    kind: direct ? directKind(node) : context.kindOf(node.source) ?? "pypi",
    artifact: node.artifact.type === "installed" ? "dist" : node.artifact.type,
    url,
    sha256,
    spec: direct ? node.source : null,
    build: context.build,
    ...(ref === undefined ? {} : { ref }),
  };
  return {
    name: node.name,
    version: node.version,
    ...(node.prepared.summary === undefined ? {} : { summary: node.prepared.summary }),
    requiresDist: node.dependencies.map(requiresDistLine),
    requested: context.requested(node),
    ...(direct ? { directUrl: directUrlOf(node.artifact, url, sha256) } : {}),
    provenance,
  };
}

function directKind(node: ResolvedPackage<Staged>): SourceKind {
  if (isShorthand(node.source)) return node.source.slice(0, node.source.indexOf(":")) as SourceKind;
  const { artifact } = node;
  if (artifact.type === "project") return "path";
  if (artifact.type === "dist") return artifact.file.location.type === "local" ? "path" : "url";
  if (artifact.type === "installed") return "path";
  return artifact.location.type === "local" ? "path" : "url";
}

function locationUrl(location: Location): string {
  return location.type === "remote" ? redactUrl(location.url) : pathToFileURL(location.path).href;
}

function artifactUrl(artifact: Artifact): string {
  switch (artifact.type) {
    case "dist":
      return locationUrl(artifact.file.location);
    case "project":
      return pathToFileURL(artifact.path).href;
    case "installed":
      return artifact.distInfo;
    case "module":
    case "package-json":
      return locationUrl(artifact.location);
  }
}

/** PEP 610: a project folder is a `dir_info`; anything fetched whole (sdist, module, package document) an `archive_info`. */
function directUrlOf(artifact: Artifact, url: string, sha256: string | null): DirectUrl {
  if (artifact.type === "project") return { url, dir_info: {} };
  return { url, archive_info: sha256 === null ? {} : { hashes: { sha256 }, hash: `sha256=${sha256}` } };
}

/**
 * A dependency as a Requires-Dist line (PEP 508): a direct one as `name @ URL`, with the `#sha256=` it was
 * asked with, so that fetching it again from the record checks the same bytes.
 */
function requiresDistLine(spec: PackageSpec): string {
  if (spec.type === "requirement") return formatRequirement(spec.requirement);
  const { direct } = spec;
  const sha256 = artifactSha256(direct.artifact);
  return `${direct.name} @ ${artifactUrl(direct.artifact)}${sha256 === undefined ? "" : `#sha256=${sha256}`}`;
}
