// upip's extraction rules, applied to the path after its first component is stripped. Kept exactly:
// a file upip would install, mpip installs, and the other way round (upip.py's `install_tar`).

const SKIPPED_PREFIXES = ["setup.", "PKG-INFO", "README"] as const;

export function upipSkips(strippedPath: string): boolean {
  return strippedPath.includes(".egg-info") || SKIPPED_PREFIXES.some((prefix) => strippedPath.startsWith(prefix));
}

/** upip reads dependencies from any skipped member ending in `/requires.txt` (in practice, the egg-info's). */
export function isRequiresTxt(strippedPath: string): boolean {
  return upipSkips(strippedPath) && strippedPath.endsWith("/requires.txt");
}

/** Metadata with `Requires-Dist:` lines, read when an archive has no requires.txt. */
export function isPkgInfo(strippedPath: string): boolean {
  return strippedPath === "PKG-INFO" || /^[^/]+\.egg-info\/PKG-INFO$/.test(strippedPath);
}
