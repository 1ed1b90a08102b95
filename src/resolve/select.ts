// Version choice, the same for every source: the highest version that satisfies the specifier,
// skipping pre-releases unless asked for (or nothing else matches) and yanked files unless pinned.
// Of an index's files only a .tar.gz sdist is installable; a mip package document always is.

import { MpipError } from "../errors.js";
import { yankedBecause, type Artifact, type DistFile, type ProjectListing } from "../sources/types.js";
import { printable } from "../text.js";
import { compareVersions, isComparableVersion, satisfiesSpecifier, versionProblem } from "../versions.js";

export interface Selection {
  version: string;
  artifact: Artifact;
}

export interface SelectOptions {
  pre: boolean;
  /** Who asked for what, for the error message when nothing matches. */
  askedBy: string;
}

/** PEP 592: a yanked file is only taken when the specifier pins that exact version. */
export function isExactPin(specifier: string): boolean {
  const clauses = specifier.split(",").map((clause) => clause.trim()).filter((clause) => clause !== "");
  return clauses.some((clause) => clause.startsWith("===") || (clause.startsWith("==") && !clause.endsWith("*")));
}

/** Only a .tar.gz sdist is installable: upip and device tar readers take nothing else (not .zip sdists). */
export function isSdist(file: DistFile): boolean {
  return /\.tar\.gz$/i.test(file.filename);
}

function installable(artifact: Artifact): boolean {
  return artifact.type !== "dist" || isSdist(artifact.file);
}

/** The reason the index gives for yanking a release's files (the first one it gives), if any. */
function releaseYankReason(files: Artifact[]): string | undefined {
  return files.map((file) => (file.type === "dist" ? file.file.yankedReason : undefined)).find((reason) => reason !== undefined);
}

function yanked(artifact: Artifact): boolean {
  return artifact.type === "dist" && artifact.file.yanked;
}

function describeArtifact(artifact: Artifact): string {
  return artifact.type === "dist" ? `\`${printable(artifact.file.filename)}\` (${printable(artifact.file.packagetype, 64)})` : artifact.type;
}

export function selectRelease(listing: ProjectListing, specifier: string, options: SelectOptions): Selection {
  const pinned = isExactPin(specifier);
  // Versions mpip cannot compare (a number above 2^53 − 1, see versions.ts) are left out, as pip leaves out
  // versions that are not PEP 440; when nothing matches, the error names them.
  const skipped = [...listing.releases.keys()].filter((version) => !isComparableVersion(version));
  const usable = [...listing.releases]
    .filter(([version]) => isComparableVersion(version))
    .map(([version, files]) => ({ version, files: files.filter((file) => pinned || !yanked(file)) }))
    .filter((release) => release.files.length > 0)
    .sort((a, b) => compareVersions(b.version, a.version));

  const matches = (prereleases: boolean) => usable.filter((release) => satisfiesSpecifier(release.version, specifier, { prereleases }));
  let candidates = matches(options.pre);
  if (candidates.length === 0 && !options.pre) candidates = matches(true);

  const chosen = candidates[0];
  if (chosen === undefined) {
    const available = usable.map((release) => release.version).reverse();
    const yankedOnly = [...listing.releases].filter(([version, files]) => isComparableVersion(version) && files.length > 0 && files.every(yanked)).map(([version]) => version).sort(compareVersions);
    const hints = [available.length > 0 ? `available versions: ${available.map((version) => printable(version, 60)).join(", ")}` : yankedOnly.length > 0 ? "every release the index lists is yanked" : "the index lists no installable files for this project"];
    // Yanked releases are passed over unless pinned (PEP 592): say which, so that one can be pinned on purpose.
    if (yankedOnly.length > 0) hints.push(`yanked (taken only when pinned with \`==\`): ${yankedOnly.map((version) => `${printable(version, 60)}${yankedBecause(releaseYankReason(listing.releases.get(version) ?? []))}`).join(", ")}`);
    if (skipped.length > 0) hints.push(`left out: ${skipped.slice(0, 3).map((version) => `\`${printable(version, 60)}\` ${versionProblem(version) ?? ""}`).join("; ")}`);
    throw new MpipError("no-matching-version", `no version of \`${printable(listing.name)}\` matches \`${printable(listing.name + specifier)}\` on \`${listing.source}\`, asked for by ${options.askedBy}`, {
      hint: hints.join("; "),
    });
  }
  const sdist = chosen.files.find(installable);
  if (sdist === undefined) {
    const has = chosen.files.map(describeArtifact).join(", ");
    const withSdist = usable.filter((release) => release.files.some(installable)).map((release) => release.version);
    throw new MpipError("no-sdist", `\`${printable(listing.name)} ${printable(chosen.version, 60)}\` has no .tar.gz source distribution (sdist) on \`${listing.source}\`; it has ${has}`, {
      hint: withSdist.length > 0
        ? `MicroPython needs an sdist; versions with one: ${withSdist.reverse().join(", ")} (pin one with \`${listing.name}==VERSION\`)`
        : "MicroPython installs sdists only; ask the author to publish one, or build one with sdist_upip",
    });
  }
  return { version: chosen.version, artifact: sdist };
}
