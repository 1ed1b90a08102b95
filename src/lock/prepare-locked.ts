// Staging a locked mip package: its document and every file the lock lists are fetched at once (one
// parallel round, no document first), each checked against the full sha256 the lock pins (a v2 index's
// 8-digit prefix is not trusted here: the lock took the whole hash when it was made). The document is
// still fetched, and verified, because the install record's Requires-Dist come from its `deps`, as a
// plain install's do. Sdists, modules and project folders stage as a plain install stages them
// (prepare/), with the lock's full sha256 as the expected hash.

import path from "node:path";
import { MpipError } from "../errors.js";
import { fetchFile } from "../fetch.js";
import { describeRelease, stagingDir, type PrepareContext, type Staged } from "../prepare/context.js";
import { stageFiles } from "../prepare/files.js";
import { dependencySpecs } from "../prepare/package-document.js";
import type { Prepared, Release } from "../resolve/resolve.js";
import type { DocumentOrigin } from "../sources/metadata.js";
import { parsePackageDocument, type PackageDocument } from "../sources/package-json.js";
import type { Artifact } from "../sources/types.js";
import { parseUrl } from "../url.js";
import { printable, quantity } from "../text.js";
import { normalizeVersion } from "../versions.js";
import type { PinnedDest, PinnedFile } from "./format.js";
import { normalizedDest } from "./values.js";

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
  // The two halves are parts of the package's task: the first failure in this order is the package's,
  // and the install's `all` then decides (src/cancel.ts), aborting the other half.
  const fetchDocument = (signal: AbortSignal) => fetchFile({ location, ...(artifact.sha256 === undefined ? {} : { sha256: artifact.sha256 }) }, context.http, label, { maxBytes: context.limits.maxMetadataBytes, authority, signal, ...(release.direct === true ? { direct: true } : {}) });
  const stageAll = (signal: AbortSignal) => stageFiles(files.map((file) => ({ dest: file.dest, location: file.location, sha256: file.sha256 })), dir, label, { authority }, context, signal);
  const [fetched, stagedFiles] = await context.scope.parts<unknown>([fetchDocument, stageAll]);
  const document = fetched as Awaited<ReturnType<typeof fetchFile>>;
  const staged = stagedFiles as Awaited<ReturnType<typeof stageFiles>>;
  const parsed = parsePackageDocument(document.data, origin);
  checkAgainstDocument(parsed, release, files, authority, label);
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

/**
 * The lock's files of a mip package must be exactly those of the package document it pins (whose bytes
 * were checked against the lock's sha256): the same destinations, each full sha256 the one the document's
 * `sha256` gives or starting with its `hashes` prefix (a `urls` file with neither is named by its
 * destination alone), and the lock's version the one the document declares. Otherwise the lock says two
 * things about one package (it was edited, or written wrong): a file the document lists would be left
 * out, one it does not list installed, or another file than the one it names installed in its place.
 * @throws MpipError `bad-lock`, naming every difference.
 */
export function checkAgainstDocument(document: PackageDocument, release: Release, files: readonly PinnedDest[], authority: string, label: string): void {
  const listed = new Map<string, { short?: string; full?: string }>();
  const entry = (dest: string) => {
    const key = normalizedDest(dest);
    let found = listed.get(key);
    if (found === undefined) listed.set(key, (found = {}));
    return found;
  };
  for (const [dest, short] of document.hashes) entry(dest).short = short;
  for (const [dest] of document.urls) entry(dest);
  for (const [dest, full] of document.sha256 ?? []) entry(dest).full = full;
  const problems: string[] = [];
  const locked = new Set<string>();
  for (const file of files) {
    const dest = normalizedDest(file.dest);
    locked.add(dest);
    const expected = listed.get(dest);
    const shown = `\`${printable(dest, 200)}\``;
    if (expected === undefined) problems.push(`${shown} is locked but not in the document`);
    else if (expected.full !== undefined && expected.full !== file.sha256) problems.push(`${shown} is locked with sha256 ${file.sha256.slice(0, 12)}…, the document gives ${expected.full.slice(0, 12)}…`);
    else if (expected.full === undefined && expected.short !== undefined && !file.sha256.startsWith(expected.short)) problems.push(`${shown} is locked with sha256 ${file.sha256.slice(0, 12)}…, the document's hash is ${expected.short}`);
  }
  const missing = [...listed.keys()].filter((dest) => !locked.has(dest));
  for (const dest of missing) problems.push(`\`${printable(dest, 200)}\` is in the document but not locked`);
  const declared = document.version ?? "";
  if (declared !== "" && (normalizeVersion(declared) ?? declared) !== (normalizeVersion(release.version) ?? release.version)) {
    problems.push(`the lock says version ${printable(release.version || "(none)", 60)}, the document ${printable(declared, 60)}`);
  }
  if (problems.length === 0) return;
  const shownProblems = problems.slice(0, 8).join("; ") + (problems.length > 8 ? `; and ${quantity(problems.length - 8, "more difference")}` : "");
  throw new MpipError("bad-lock", `${authority} does not agree with the package document it pins for ${label}: ${shownProblems}; nothing was changed`, {
    hint: "the lock was edited or written wrong: lock again (`mpip lock`) and review the diff",
  });
}
