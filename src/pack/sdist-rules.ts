// What `repack` keeps of an sdist, and which kept files become `R.py` resources. Pure logic on paths
// below the top folder.
//
// sdist_upip's filter (micropython-lib's sdist_upip.py, `filter_tar`), first match wins: keep `*.egg-info/PKG-INFO` and
// `requires.txt`; drop `setup.py`; keep `*.py` at any depth; drop any other top-level file; drop the other
// egg-info files; keep the rest. It ran on a MANIFEST that listed only the package, so "the rest" was
// package data and every `.py` was the package's. A modern sdist also carries `docs/` (with `conf.py`),
// `tests/`, `examples/` and CI files, so mpip first decides which top-level packages and modules the
// distribution installs (packageLayout), and keeps exactly those: each package's whole tree (less caches
// and hidden files), and the modules. The decision comes from the distribution's own metadata where it has
// it (`*.egg-info/top_level.txt`, which setuptools writes), else from the files, as `mpip pack` discovers
// them (layout-rules.ts).

import { isDiscoverableModuleFile, isDiscoverablePackageName, isJunk, packageFolders } from "./layout-rules.js";
import { comparePaths } from "./writer.js";

export { packageFolders };

export type Rule =
  | "egg-info metadata"
  | "setup.py"
  | "python source"
  | "top-level file"
  | "other egg-info file"
  | "package data"
  | "cache or hidden file"
  | "not a package or module";

export interface Verdict {
  keep: boolean;
  rule: Rule;
}

/** The top-level packages and modules a distribution installs, and how that was decided. */
export interface PackageLayout {
  /** Package folders, below the top folder: `pkg`, or `src/pkg` in a src layout. */
  packages: string[];
  /** Module files, below the top folder: `mod.py`, or `src/mod.py`. */
  modules: string[];
  /** The `top_level.txt` the names came from (below the top folder), or undefined when they were found from the files. */
  from?: string;
  /** Names `top_level.txt` lists that the sdist does not hold. */
  missing: string[];
}

const EGG_INFO_KEPT = /^.+\.egg-info\/(PKG-INFO|requires\.txt)$/;
const EGG_INFO_ANY = /^(.+\/)?[^/]+\.egg-info\//;
const TOP_LEVEL_TXT = /^(src\/)?[^/]+\.egg-info\/top_level\.txt$/;
// Where a distribution's import names live: the top folder (flat layout), or `src/` (src layout).
const ROOTS = ["", "src/"];

/** The `*.egg-info/top_level.txt` of an sdist (at the top, or in `src/`), if it has one. */
export function topLevelTxtPath(paths: Iterable<string>): string | undefined {
  return [...paths].filter((path) => TOP_LEVEL_TXT.test(path)).sort((a, b) => a.length - b.length || comparePaths(a, b))[0];
}

/**
 * Decides the packages and modules of an sdist from its paths. With the text of its `top_level.txt`
 * (setuptools' list of the top-level import names), each name is a package when the sdist holds a folder
 * of that name and a module when it holds `name.py` (at the top, else in `src/`); names it does not hold
 * are listed as missing, and when it holds none of them the files decide. From the files: top-level
 * folders with a `.py` at any depth (namespace packages too) and top-level `*.py` files, less what
 * `mpip pack` leaves out (`docs`, `tests`, `examples`, `setup.py`, `conftest.py`, ...); in `src/` when that
 * holds any, as setuptools prefers a src layout.
 */
export function packageLayout(paths: readonly string[], topLevel?: { path: string; text: string }): PackageLayout {
  const all = new Set(paths);
  const folders = new Set(paths.flatMap((path) => path.split("/").slice(0, -1).map((_, index, parts) => parts.slice(0, index + 1).join("/"))));
  if (topLevel !== undefined) {
    const names = [...new Set(topLevel.text.split(/\r\n|\r|\n/).map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#")))];
    const packages: string[] = [];
    const modules: string[] = [];
    const missing: string[] = [];
    for (const name of names) {
      // A name is one import name; anything else (a path, a dotted name) names nothing in the archive.
      const root = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? ROOTS.find((prefix) => folders.has(`${prefix}${name}`) || all.has(`${prefix}${name}.py`)) : undefined;
      if (root === undefined) {
        missing.push(name);
        continue;
      }
      if (folders.has(`${root}${name}`)) packages.push(`${root}${name}`);
      if (all.has(`${root}${name}.py`)) modules.push(`${root}${name}.py`);
    }
    if (packages.length + modules.length > 0) return { packages, modules, from: topLevel.path, missing };
    return { ...discover(paths), missing };
  }
  return { ...discover(paths), missing: [] };
}

function discover(paths: readonly string[]): Pick<PackageLayout, "packages" | "modules"> {
  const found = (prefix: string) => {
    const below = paths.filter((path) => path.startsWith(prefix)).map((path) => path.slice(prefix.length));
    return {
      packages: [...packageFolders(below)].filter(isDiscoverablePackageName).sort(comparePaths).map((name) => `${prefix}${name}`),
      modules: below.filter((path) => !path.includes("/") && isDiscoverableModuleFile(path)).sort(comparePaths).map((name) => `${prefix}${name}`),
    };
  };
  const src = found("src/");
  return src.packages.length + src.modules.length > 0 ? src : found("");
}

/** The package folder that holds `path`, if any. */
export function packageOf(path: string, layout: Pick<PackageLayout, "packages">): string | undefined {
  return layout.packages.find((folder) => path.startsWith(`${folder}/`));
}

export function repackVerdict(path: string, layout: Pick<PackageLayout, "packages" | "modules">): Verdict {
  if (EGG_INFO_KEPT.test(path)) return { keep: true, rule: "egg-info metadata" };
  if (path === "setup.py") return { keep: false, rule: "setup.py" };
  if (EGG_INFO_ANY.test(path)) return { keep: false, rule: "other egg-info file" };
  const pkg = packageOf(path, layout);
  if (pkg !== undefined) {
    if (path.slice(pkg.length + 1).split("/").some(isJunk)) return { keep: false, rule: "cache or hidden file" };
    return { keep: true, rule: path.endsWith(".py") ? "python source" : "package data" };
  }
  if (layout.modules.includes(path)) return { keep: true, rule: "python source" };
  if (!path.includes("/") && !path.endsWith(".py")) return { keep: false, rule: "top-level file" };
  return { keep: false, rule: "not a package or module" };
}

export interface ResourceFile {
  /** Path below the top folder: `pkg/data/x.bin`. */
  path: string;
  data: Uint8Array;
}

/**
 * Groups the data files (every file but `.py`) inside package folders into one resource list per package,
 * as sdist_upip's make_resource_module: sorted by path, keys relative to the package folder (`pkg/`, or
 * `src/pkg/`). Packages come out sorted too.
 */
export function resourcesByPackage(files: ResourceFile[], packages: Iterable<string>): Map<string, Array<{ key: string; data: Uint8Array }>> {
  const folders = [...packages];
  const byPackage = new Map<string, Array<{ key: string; data: Uint8Array }>>();
  const sorted = files.filter((file) => !file.path.endsWith(".py")).sort((a, b) => comparePaths(a.path, b.path));
  for (const file of sorted) {
    const pkg = packageOf(file.path, { packages: folders });
    if (pkg === undefined) continue;
    const list = byPackage.get(pkg) ?? [];
    list.push({ key: file.path.slice(pkg.length + 1), data: file.data });
    byPackage.set(pkg, list);
  }
  return new Map([...byPackage].sort(([a], [b]) => comparePaths(a, b)));
}
