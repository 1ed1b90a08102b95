// Whether a package's own core metadata (PKG-INFO's Name and Version) names the package it is taken
// for: what an index listed it as, or what its file name (`NAME-VERSION.tar.gz`) says. pip refuses a
// distribution whose metadata contradicts either (its resolver's "inconsistent name" and "inconsistent
// version" errors); `mpip install` refuses it too (prepare/archive.ts), and `mpip check` tells a
// package's author before publishing (pack/check.ts).

import type { CoreMetadata } from "../record/format.js";
import { printable } from "../text.js";
import { compareVersions, isComparableVersion } from "../versions.js";
import { isValidName, normalizeName } from "./names.js";

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

/**
 * The `Name` and `Version` a PKG-INFO gives, read as leniently as any reader might (the first of each;
 * header names in any case, a space before the colon, a BOM, blank lines before the headers, CR, LF or
 * CRLF line ends, folded lines), so that no spelling of a header hides it from the check. Undefined where
 * the file gives none.
 */
export function identityFields(pkgInfo: string): { name?: string; version?: string } {
  const fields: { name?: string; version?: string } = {};
  let current: "name" | "version" | undefined;
  let started = false;
  for (const line of pkgInfo.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/)) {
    if (line.trim() === "") {
      if (started) break;
      continue;
    }
    started = true;
    if (/^[ \t]/.test(line)) {
      // A folded line continues the header before it.
      if (current !== undefined) fields[current] = `${fields[current]} ${line.trim()}`.trim();
      continue;
    }
    const match = /^([^:\s]+)\s*:(.*)$/.exec(line);
    const key = match?.[1]!.toLowerCase();
    current = undefined;
    if ((key === "name" || key === "version") && fields[key] === undefined) {
      fields[key] = match![2]!.trim();
      current = key;
    }
  }
  return fields;
}

/**
 * How the PKG-INFO files of an sdist (`pkgInfos`: every one it holds, top-level and egg-info)
 * contradict what it was fetched as, as a phrase naming what the file holds (`` names `foo 1.0`, not
 * `bar 1.0` ``, `` has no `Name:` ``), or undefined when none does. Each must give a `Name`, which must be `expected`'s; a
 * `Version` it gives must be `expected`'s too.
 */
export function pkgInfoMismatch(pkgInfos: readonly string[], expected: ExpectedIdentity): string | undefined {
  for (const text of pkgInfos) {
    const { name, version } = identityFields(text);
    if (name === undefined || name === "") return "has no `Name:`, which core metadata must give";
    const given = version === undefined || version === "" ? "" : version;
    if (metadataMismatch({ name, version: given, requiresDist: [] }, given === "" ? { ...expected, version: "" } : expected) === undefined) continue;
    const held = `${printable(name, 100)}${given === "" ? "" : ` ${printable(given, 60)}`}`;
    const wanted = `${printable(expected.name, 100)}${given === "" || expected.version === "" ? "" : ` ${printable(expected.version, 60)}`}`;
    return `names \`${held}\`, not \`${wanted}\``;
  }
  return undefined;
}

/**
 * The name and version a package named by a URL or a path is recorded under: its PKG-INFO's spelling of
 * each (the same package, `pkgInfoMismatch` has checked), where that is a valid name (PEP 508) and a
 * PEP 440 version. `pkgInfos` come with the one core metadata is read from first (unpack.ts `pkgInfos`):
 * the name is its own; the version the first that gives one.
 */
export function ownSpelling(pkgInfos: readonly string[]): { name?: string; version?: string } {
  const fields = pkgInfos.map(identityFields);
  const name = fields[0]?.name;
  const version = fields.find((field) => field.version !== undefined && field.version !== "")?.version;
  return { ...(name !== undefined && isValidName(name) ? { name } : {}), ...(version !== undefined && isComparableVersion(version) ? { version } : {}) };
}

/**
 * The file name an sdist should have by its own PKG-INFO (`leaf-1.0.tar.gz`: its name and version as
 * spelled there), for a hint; undefined when they are not a valid name and a PEP 440 version.
 */
export function ownFileName(pkgInfos: readonly string[]): string | undefined {
  const { name, version } = ownSpelling(pkgInfos);
  return name === undefined || version === undefined ? undefined : `${name}-${version}.tar.gz`;
}
