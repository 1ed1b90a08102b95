// Staging a locked mip package: its document and every file the lock lists are fetched at once (one
// parallel round, no document first), each checked against the full sha256 the lock pins (a v2 index's
// 8-digit prefix is not trusted here: the lock took the whole hash when it was made). The document is
// still fetched, and verified, because the install record's Requires-Dist come from its `deps`, as a
// plain install's do. Sdists, modules and project folders stage as a plain install stages them
// (prepare/), with the lock's full sha256 as the expected hash.

import path from "node:path";
import { fetchFile } from "../fetch.js";
import { describeRelease, stagingDir, type PrepareContext, type Staged } from "../prepare/context.js";
import { stageFiles } from "../prepare/files.js";
import { dependencySpecs } from "../prepare/package-document.js";
import type { Prepared, Release } from "../resolve/resolve.js";
import type { DocumentOrigin } from "../sources/metadata.js";
import { parsePackageDocument } from "../sources/package-json.js";
import type { Artifact } from "../sources/types.js";
import { parseUrl } from "../url.js";
import type { PinnedDest, PinnedFile } from "./format.js";

/**
 * The package document `artifact` (its location and full sha256) and the lock's `files`, staged.
 * `authority` names the lock for messages ("the lock `pylock.toml`").
 * @throws MpipError `digest-mismatch` (a file or the document is not what the lock pins), `not-found`,
 *   `bad-metadata` (the document no longer parses), `unsafe-path`, `limit-exceeded`, network errors.
 */
export async function prepareLockedDocument(release: Release, artifact: Extract<Artifact, { type: "package-json" }>, files: readonly PinnedDest[], authority: string, context: PrepareContext): Promise<Prepared<Staged>> {
  const { location } = artifact;
  const documentName = (location.type === "remote" ? parseUrl(location.url)?.pathname.split("/").pop() : path.basename(location.path)) || "package.json";
  const label = describeRelease(release.name, release.version, documentName);
  const documentUrl = location.type === "remote" ? location.url : location.path;
  const origin: DocumentOrigin = { url: documentUrl, index: release.source, ...(release.direct === true ? { kind: "package document" as const } : {}) };
  const dir = stagingDir(context, release.key);
  // One failure stops the other half at once, as in any install (the scope aborts every request).
  const fetchDocument = () => fetchFile({ location, ...(artifact.sha256 === undefined ? {} : { sha256: artifact.sha256 }) }, context.http, label, { maxBytes: context.limits.maxMetadataBytes, authority, ...(release.direct === true ? { direct: true } : {}) });
  const stageAll = () => stageFiles(files.map((file) => ({ dest: file.dest, location: file.location, sha256: file.sha256 })), dir, label, { authority }, context);
  const [fetched, stagedFiles] = await context.scope.all<unknown>([fetchDocument, stageAll]);
  const document = fetched as Awaited<ReturnType<typeof fetchFile>>;
  const staged = stagedFiles as Awaited<ReturnType<typeof stageFiles>>;
  const parsed = parsePackageDocument(document.data, origin);
  const version = parsed.version !== undefined && parsed.version !== "" ? parsed.version : release.version;
  const pinned: PinnedFile = { location, sha256: document.sha256, size: document.data.length };
  return {
    dependencies: dependencySpecs(parsed, artifact.ref, context),
    version,
    value: {
      dir,
      files: staged.map((file) => file.dest),
      sha256: document.sha256,
      origin: document.origin,
      filename: documentName,
      smallWindow: true,
      warnings: parsed.warnings ?? [],
      fetched: { artifact: { location: pinned.location, sha256: pinned.sha256, bytes: document.data.length }, files: staged },
    },
  };
}
