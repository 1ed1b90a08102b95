// Whether a package's own core metadata (PKG-INFO's Name and Version) names the package it is taken
// for: what an index listed it as, or what its file name (`NAME-VERSION.tar.gz`) says. pip refuses a
// distribution whose metadata contradicts either (its resolver's "inconsistent name" and "inconsistent
// version" errors); `mpip install` refuses it too (prepare/archive.ts), and `mpip check` tells a
// package's author before publishing (pack/check.ts).

import type { CoreMetadata } from "../record/format.js";
import { printable } from "../text.js";
import { compareVersions, isComparableVersion } from "../versions.js";
import { normalizeName } from "./names.js";

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
