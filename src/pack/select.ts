// Which files of a project go into its MicroPython package, and under which archive paths: the declared
// or discovered packages (each with its whole folder: modules, subpackages, data files), the modules,
// then `include` globs, less `exclude` globs and caches. Folder listings are sorted, so the selection
// never depends on the order the file system returns.

import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { compileGlobs } from "./glob.js";
import { isDiscoverableModuleFile, isDiscoverablePackageName, isJunk } from "./layout-rules.js";
import { packageFolder, type Project } from "./metadata.js";

export interface SelectedFile {
  /** The path inside the archive, below the top folder: `mypkg/data/page.html`. */
  path: string;
  /** Where the bytes are on disk. */
  source: string;
}

export interface Selection {
  files: SelectedFile[];
  warnings: string[];
}

export async function selectFiles(project: Project): Promise<Selection> {
  const { dir, settings } = project;
  const root = path.join(dir, settings.sourceRoot);
  const selected = new Map<string, string>();
  const warnings: string[] = [];
  const discover = settings.packages === undefined && settings.modules === undefined;

  const packages = discover || settings.packages === "find" ? findIncluded(await discoverPackages(root), settings.findInclude) : settings.packages ?? [];
  for (const dotted of packages) {
    const folder = path.join(dir, packageFolder(dotted, settings));
    if (!(await stat(folder).catch(() => undefined))?.isDirectory()) {
      throw new MpipError("bad-project", `the package \`${dotted}\` declared in \`${project.metadataFile}\` has no folder \`${path.relative(dir, folder) || "."}\``, { hint: "fix the package name, or the `package_dir` / source folder" });
    }
    await walk(folder, dotted.split(".").join("/"), selected, warnings);
  }

  const modules = discover ? await discoverModules(root) : settings.modules ?? [];
  for (const dotted of modules) {
    const parts = dotted.split(".");
    const parent = parts.slice(0, -1).join(".");
    const source = path.join(parent === "" ? root : path.join(dir, packageFolder(parent, settings)), `${parts[parts.length - 1]}.py`);
    if (!(await stat(source).catch(() => undefined))?.isFile()) {
      throw new MpipError("bad-project", `the module \`${dotted}\` declared in \`${project.metadataFile}\` has no file \`${path.relative(dir, source)}\``, { hint: "fix the module name, or the source folder" });
    }
    selected.set(`${parts.join("/")}.py`, source);
  }

  if (settings.include.length > 0) {
    const included = compileGlobs(settings.include);
    const everything = new Map<string, string>();
    await walk(root, "", everything, warnings);
    let matched = 0;
    for (const [archivePath, source] of everything) {
      if (!included(archivePath)) continue;
      selected.set(archivePath, source);
      matched++;
    }
    if (matched === 0) warnings.push(`\`include\` globs ${settings.include.map((g) => `\`${g}\``).join(", ")} match no file`);
  }

  const excluded = compileGlobs(settings.exclude);
  const files = [...selected]
    .filter(([archivePath]) => !excluded(archivePath))
    .map(([archivePath, source]) => ({ path: archivePath, source }))
    .sort((a, b) => compareBytes(a.path, b.path));
  if (!files.some((file) => file.path.endsWith(".py"))) {
    throw new MpipError("bad-project", `found no module or package to pack in \`${path.relative(process.cwd(), root) || "."}\``, {
      hint: "a package is a folder with `__init__.py`; or list them in `[tool.mpip]`: `packages = [\"mypkg\"]`, `modules = [\"mymodule\"]`",
    });
  }
  return { files, warnings };
}

/** setuptools' `find` `include` patterns, on top-level names: a pattern keeps a package when its first dotted part matches it. */
function findIncluded(found: string[], include: string[] | undefined): string[] {
  if (include === undefined) return found;
  const patterns = include.map((pattern) => new RegExp(`^${pattern.split(".")[0]!.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`));
  return found.filter((name) => patterns.some((pattern) => pattern.test(name)));
}

/** Top-level packages: folders with `__init__.py` whose name is an identifier, less setuptools' exclusions. */
async function discoverPackages(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await sortedEntries(root)) {
    if (!entry.isDirectory() || !isDiscoverablePackageName(entry.name)) continue;
    if ((await stat(path.join(root, entry.name, "__init__.py")).catch(() => undefined))?.isFile()) found.push(entry.name);
  }
  return found;
}

/** Top-level modules: `*.py` files whose name is an identifier, less setup.py, tests and the like. */
async function discoverModules(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await sortedEntries(root)) {
    if (entry.isFile() && isDiscoverableModuleFile(entry.name)) found.push(entry.name.slice(0, -3));
  }
  return found;
}

/** Every file below `folder`, keyed by archive path under `prefix`; symlinked files are read, symlinked folders are not followed. */
async function walk(folder: string, prefix: string, into: Map<string, string>, warnings: string[]): Promise<void> {
  for (const entry of await sortedEntries(folder)) {
    if (isJunk(entry.name)) continue;
    const source = path.join(folder, entry.name);
    const archivePath = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    const kind = entry.isSymbolicLink() ? await stat(source).catch(() => undefined) : entry;
    if (kind?.isDirectory()) {
      if (entry.isSymbolicLink()) warnings.push(`\`${archivePath}\` is a link to a folder; not followed`);
      else await walk(source, archivePath, into, warnings);
    } else if (kind?.isFile()) into.set(archivePath, source);
    else warnings.push(`\`${archivePath}\` is not a regular file; left out`);
  }
}

async function sortedEntries(folder: string) {
  const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw new MpipError("io", `cannot read the folder \`${folder}\``, { cause: error });
  });
  return entries.sort((a, b) => compareBytes(a.name, b.name));
}

/** Orders by UTF-8 bytes, as the tar writer sorts, independent of locale. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
