// A mip package document (micropython-lib's `package/{py|6}/{name}/{version}.json`, or a package.json
// in a repo or on disk): fetch it, plan its files (hashed files from the v2 index, `urls` resolved
// against the document), fetch and verify every file, and turn its `deps` into specs. Unlike mip, every
// file with a hash is checked, and a dependency cycle ends where a package is already chosen.

import { fetchFile } from "../fetch.js";
import type { Prepared, Release } from "../resolve/resolve.js";
import { parseMipDependency } from "../spec/package-spec.js";
import { dependenciesOf, parsePackageDocument, planPackageFiles } from "../sources/package-json.js";
import type { Artifact } from "../sources/types.js";
import { describeRelease, stagingDir, type PrepareContext, type Staged } from "./context.js";
import { stageFiles } from "./files.js";

type PackageJsonArtifact = Extract<Artifact, { type: "package-json" }>;

export async function preparePackageDocument(release: Release, artifact: PackageJsonArtifact, context: PrepareContext): Promise<Prepared<Staged>> {
  const { location } = artifact;
  const documentName = location.type === "remote" ? new URL(location.url).pathname.split("/").pop() || "package.json" : location.path.split(/[/\\]/).pop() || "package.json";
  const label = describeRelease(release.name, release.version, documentName);
  const fetched = await fetchFile({ location }, context.http, label, {
    maxBytes: context.limits.maxMetadataBytes,
    ...(release.direct === true ? { direct: true } : { authority: `the index \`${release.source}\`` }),
  });
  const documentUrl = location.type === "remote" ? location.url : location.path;
  const origin = { url: documentUrl, index: release.source, ...(release.direct === true ? { kind: "package document" as const } : {}) };
  const document = parsePackageDocument(fetched.data, origin);
  const planned = planPackageFiles(document, {
    documentUrl,
    hosts: context.spec.hosts,
    ...(artifact.ref === undefined ? {} : { ref: artifact.ref }),
    ...(artifact.mip === undefined ? {} : { mip: artifact.mip }),
    ...(context.fallbackMip === undefined ? {} : { fallbackMip: context.fallbackMip }),
  });
  const dir = stagingDir(context, release.key);
  const files = await stageFiles(planned, dir, label, `the package document \`${fetched.origin}\``, context);
  const dependencies = dependenciesOf(document).map((dep) => parseMipDependency(dep.name, dep.version, context.spec));
  const version = document.version !== undefined && document.version !== "" ? document.version : release.version;
  return {
    dependencies,
    version,
    value: { dir, files, sha256: fetched.sha256, origin: fetched.origin, filename: documentName, smallWindow: true, warnings: [] },
  };
}
