// sdist_upip's rules for what a MicroPython distribution package keeps (FORMATS.md section 3), and which
// kept files become `R.py` resources. Pure logic on paths below the top folder.
//
// sdist_upip's filter, first match wins: keep `*.egg-info/PKG-INFO` and `requires.txt`; drop `setup.py`;
// keep `*.py` at any depth; drop any other top-level file; drop the other egg-info files; keep the rest.
// sdist_upip ran on a MANIFEST that listed only the package, so "the rest" was package data. A modern sdist
// also carries `docs/`, `.github/` or fixture folders, so mpip keeps a non-.py file only inside a
// *package folder*: a top-level folder that directly holds a `.py` file (`__init__.py`, or a module of a
// namespace package). A folder of data with no Python in it cannot be imported, so nothing reads its files.

import { comparePaths } from "./writer.js";

export type Rule =
  | "egg-info metadata"
  | "setup.py"
  | "python source"
  | "top-level file"
  | "other egg-info file"
  | "package data"
  | "not in a package";

export interface Verdict {
  keep: boolean;
  rule: Rule;
}

const EGG_INFO_KEPT = /^.+\.egg-info\/(PKG-INFO|requires\.txt)$/;
const EGG_INFO_ANY = /^.+\.egg-info\//;

/** Top-level folders that directly hold a `.py` file, from every path of the sdist. */
export function packageFolders(paths: Iterable<string>): Set<string> {
  const folders = new Set<string>();
  for (const path of paths) {
    const parts = path.split("/");
    if (parts.length === 2 && parts[1]!.endsWith(".py") && !parts[0]!.endsWith(".egg-info")) folders.add(parts[0]!);
  }
  return folders;
}

export function sdistUpipVerdict(path: string, packages: ReadonlySet<string>): Verdict {
  if (EGG_INFO_KEPT.test(path)) return { keep: true, rule: "egg-info metadata" };
  if (path === "setup.py") return { keep: false, rule: "setup.py" };
  if (path.endsWith(".py")) return { keep: true, rule: "python source" };
  if (!path.includes("/")) return { keep: false, rule: "top-level file" };
  if (EGG_INFO_ANY.test(path)) return { keep: false, rule: "other egg-info file" };
  if (packages.has(path.slice(0, path.indexOf("/")))) return { keep: true, rule: "package data" };
  return { keep: false, rule: "not in a package" };
}

export interface ResourceFile {
  /** Path below the top folder: `pkg/data/x.bin`. */
  path: string;
  data: Uint8Array;
}

/**
 * Groups kept package data into one resource list per top-level package, as sdist_upip's
 * make_resource_module: sorted by path, keys relative to `pkg/`. Packages come out sorted too.
 */
export function resourcesByPackage(files: ResourceFile[], packages: ReadonlySet<string>): Map<string, Array<{ key: string; data: Uint8Array }>> {
  const byPackage = new Map<string, Array<{ key: string; data: Uint8Array }>>();
  const sorted = files.filter((file) => isResource(file.path, packages)).sort((a, b) => comparePaths(a.path, b.path));
  for (const file of sorted) {
    const slash = file.path.indexOf("/");
    const pkg = file.path.slice(0, slash);
    const list = byPackage.get(pkg) ?? [];
    list.push({ key: file.path.slice(slash + 1), data: file.data });
    byPackage.set(pkg, list);
  }
  return byPackage;
}

function isResource(path: string, packages: ReadonlySet<string>): boolean {
  const verdict = sdistUpipVerdict(path, packages);
  return verdict.keep && verdict.rule === "package data";
}
