// What counts as an importable package or module of a project or sdist, shared by `pack` (select.ts,
// which reads a folder) and `repack` (sdist-rules.ts, which reads an archive's paths), so both leave out
// the same things. Pure logic on names.
//
// The exclusions are setuptools' flat-layout ones (setuptools/discovery.py, FlatLayoutPackageFinder and
// FlatLayoutModuleFinder), plus what a MicroPython board must not get by accident: a freeze
// `manifest.py`, and `main.py`/`boot.py`, which would replace the board's own.

const EXCLUDED_PACKAGES = new Set(["ci", "bin", "doc", "docs", "documentation", "manpages", "news", "newsfragments", "changelog", "test", "tests", "unit_test", "unit_tests", "example", "examples", "scripts", "tools", "util", "utils", "python", "build", "dist", "venv", "env", "requirements", "tasks", "fabfile", "site_scons", "benchmark", "benchmarks", "exercise", "exercises", "htmlcov"]);
const EXCLUDED_MODULES = new Set(["setup", "conftest", "test", "tests", "example", "examples", "build", "toxfile", "noxfile", "pavement", "dodo", "tasks", "fabfile", "sconstruct", "conanfile", "manage", "benchmark", "benchmarks", "exercise", "exercises", "htmlcov", "manifest", "main", "boot"]);
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Whether a top-level folder of this name may be a package found by discovery (not `docs`, `tests`, `examples`, ...). */
export function isDiscoverablePackageName(name: string): boolean {
  return IDENTIFIER.test(name) && !EXCLUDED_PACKAGES.has(name);
}

/** Whether a top-level file of this name (`foo.py`) is a module found by discovery (not setup.py, tests, main.py, ...). */
export function isDiscoverableModuleFile(fileName: string): boolean {
  if (!fileName.endsWith(".py")) return false;
  const name = fileName.slice(0, -3);
  if (!IDENTIFIER.test(name)) return false;
  return !EXCLUDED_MODULES.has(name.toLowerCase()) && !name.startsWith("test_") && !name.endsWith("_test");
}

/** Caches, editor leftovers and hidden files: never packed, wherever they are. */
export function isJunk(name: string): boolean {
  return name.startsWith(".") || name === "__pycache__" || /\.py[co]$/.test(name) || name.endsWith("~") || /\.sw[op]$/.test(name) || name.endsWith(".egg-info") || name === "Thumbs.db" || name === "desktop.ini";
}

/**
 * The package folders of a list of archive paths (below the top folder): top-level folders that hold a
 * `.py` file at any depth, so a namespace package (`nsp/sub/mod.py`, no `__init__.py`) is one too. A
 * folder of data with no Python in it cannot be imported, so nothing reads its files as a package's.
 */
export function packageFolders(paths: Iterable<string>): Set<string> {
  const folders = new Set<string>();
  for (const path of paths) {
    const slash = path.indexOf("/");
    if (slash > 0 && path.endsWith(".py") && !path.slice(0, slash).endsWith(".egg-info")) folders.add(path.slice(0, slash));
  }
  return folders;
}
