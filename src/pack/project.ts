// Finds and reads a project's metadata for `mpip pack`: `pyproject.toml` with a `[project]` table, else a
// declarative `setup.cfg`. `setup.py` is never executed: a project that has only that gets an error that
// shows how to declare the metadata. mpip's own settings come from `[tool.mpip]` in either case.

import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { MAX_PROJECT_METADATA_BYTES } from "./project-detect.js";
import { readSmallFile } from "../local-file.js";
import { MINIMAL_PYPROJECT, type MetadataFile, type PackSettings, type Project, type ProjectMetadata } from "./metadata.js";
import { parsePyproject, readProjectTable, type DeclaredSettings } from "./pyproject.js";
import { readSetupCfg } from "./setup-cfg.js";

export type { Project } from "./metadata.js";

export async function readProject(dirArgument: string): Promise<Project> {
  const dir = path.resolve(dirArgument);
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    throw new MpipError("usage", `\`${dirArgument}\` is not a folder`, { hint: "name the project folder, the one with pyproject.toml or setup.cfg" });
  }
  const pyprojectText = await readText(dir, "pyproject.toml");
  const pyproject = pyprojectText === undefined ? undefined : parsePyproject(dir, pyprojectText);
  let metadataFile: MetadataFile;
  let metadata: ProjectMetadata;
  let declared: DeclaredSettings = pyproject?.tool ?? { packageDir: [], include: [], exclude: [], resources: true };
  let sourceRoot: string | undefined;

  if (pyproject?.project !== undefined) {
    metadataFile = "pyproject.toml";
    const { setuptools } = pyproject;
    sourceRoot = setuptools.sourceRoot;
    declared = mergeSettings(setuptools.settings, pyproject.tool);
    // An `attr:` version's module: in the declared source folder, else at the top or in `src/`.
    const roots = sourceRoot === undefined ? ["", "src"] : [normalizeRoot(sourceRoot)];
    metadata = await readProjectTable(dir, pyproject.project, setuptools, roots.map((root) => ({ sourceRoot: root, packageDir: setuptools.settings.packageDir })));
  } else {
    const setupCfgText = await readText(dir, "setup.cfg");
    const setupCfg = setupCfgText === undefined ? undefined : await readSetupCfg(dir, setupCfgText);
    if (setupCfg === undefined) throw await noMetadata(dir, pyprojectText !== undefined, setupCfgText !== undefined);
    metadataFile = "setup.cfg";
    metadata = setupCfg.metadata;
    sourceRoot = setupCfg.sourceRoot;
    declared = mergeSettings(setupCfg.settings, pyproject?.tool);
  }
  const settings: PackSettings = { ...declared, sourceRoot: normalizeRoot(sourceRoot ?? (await detectSourceRoot(dir, declared))) };
  return { dir, metadataFile, metadata, settings };
}

/** `[tool.mpip]` overrides what setup.cfg's `[options]`, or pyproject.toml's `[tool.setuptools]`, declare. */
function mergeSettings(fromCfg: DeclaredSettings, tool: DeclaredSettings | undefined): DeclaredSettings {
  if (tool === undefined) return fromCfg;
  const packages = tool.packages ?? fromCfg.packages;
  const modules = tool.modules ?? fromCfg.modules;
  const findInclude = tool.packages === undefined ? fromCfg.findInclude : undefined;
  return {
    ...(packages === undefined ? {} : { packages }),
    ...(modules === undefined ? {} : { modules }),
    ...(findInclude === undefined ? {} : { findInclude }),
    packageDir: fromCfg.packageDir,
    include: [...fromCfg.include, ...tool.include],
    exclude: [...fromCfg.exclude, ...tool.exclude],
    resources: tool.resources,
  };
}

/** `src/` layout when `src/` holds the declared packages, or (when none are declared) any package or module. */
async function detectSourceRoot(dir: string, declared: DeclaredSettings): Promise<string> {
  const src = path.join(dir, "src");
  if (!(await isDirectory(src)) || (await exists(path.join(src, "__init__.py")))) return "";
  const first = (declared.packages === "find" ? undefined : declared.packages?.[0] ?? declared.modules?.[0])?.split(".").join("/");
  if (first !== undefined) return (await exists(path.join(src, first))) || (await exists(path.join(src, `${first}.py`))) ? "src" : "";
  for (const entry of await readdir(src, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".py")) return "src";
    if (entry.isDirectory() && (await exists(path.join(src, entry.name, "__init__.py")))) return "src";
  }
  return "";
}

function normalizeRoot(root: string): string {
  const normal = path.posix.normalize(root.replace(/\\/g, "/")).replace(/\/+$/, "");
  if (normal.startsWith("..") || path.posix.isAbsolute(normal)) {
    throw new MpipError("bad-project", `the source folder \`${root}\` is outside the project folder`, { hint: "keep the packages inside the project folder" });
  }
  return normal === "." ? "" : normal;
}

async function noMetadata(dir: string, hasPyproject: boolean, hasSetupCfg: boolean): Promise<MpipError> {
  // Lines of their own: a newline inside one line of a message is shown escaped, not obeyed.
  const hint = ["declare the metadata in `pyproject.toml`; a minimal one:", "", ...MINIMAL_PYPROJECT.split("\n"), "", "(or in `setup.cfg`: `[metadata]` name, version; `[options]` packages, install_requires)"];
  if (await exists(path.join(dir, "setup.py"))) {
    const also = [hasPyproject ? "`pyproject.toml` has no `[project]` table" : "", hasSetupCfg ? "`setup.cfg` has no `[metadata] name`" : ""].filter(Boolean).join(" and ");
    return new MpipError("bad-project", `\`${dir}\` declares its metadata only in \`setup.py\`${also === "" ? "" : ` (${also})`}, and mpip never runs setup.py`, { hint });
  }
  const found = hasPyproject ? "`pyproject.toml` has no `[project]` table" : hasSetupCfg ? "`setup.cfg` has no `[metadata] name`" : "it has no `pyproject.toml` or `setup.cfg`";
  // A folder of sdists given as a spec is a common slip: say how to install from one.
  const sdists = !hasPyproject && !hasSetupCfg && (await readdir(dir).catch(() => [] as string[])).some((name) => name.endsWith(".tar.gz"));
  const folderHint = sdists ? ["", "to install packages from a folder of sdists, name the folder with `-f` and the packages by name: `mpip install -f DIR NAME`"] : [];
  // A mip package with a pyproject.toml or setup.cfg that only configures linters: install serves it as is.
  const mipHint = (await exists(path.join(dir, "package.json"))) ? ["", "the folder holds a `package.json`, a mip package: `mpip install` installs it from that as it is; `mpip pack` builds an sdist only from project metadata"] : [];
  return new MpipError("bad-project", `\`${dir}\` is not a Python project: ${found}`, { hint: [...hint, ...folderHint, ...mipHint] });
}

/** A metadata file's text, undefined when there is none; only a regular file within MAX_PROJECT_METADATA_BYTES is read. */
async function readText(dir: string, name: string): Promise<string | undefined> {
  const file = path.join(dir, name);
  const read = await readSmallFile(file, MAX_PROJECT_METADATA_BYTES);
  switch (read.kind) {
    case "read":
      return read.data.toString("utf8");
    case "missing":
      return undefined;
    case "not-regular":
    case "link":
      throw new MpipError("bad-project", `\`${printable(file)}\` is not a regular file (a device, a FIFO or a socket, or a link to one)`, { hint: `replace it with the project's \`${name}\`, or remove it` });
    case "too-large":
      throw new MpipError("bad-project", `\`${printable(file)}\` is ${read.size} bytes, more than the ${MAX_PROJECT_METADATA_BYTES} a project's \`${name}\` may hold`, { hint: "a real one holds a few KiB: check that it is the project's file" });
    case "unreadable":
      throw new MpipError("io", `cannot read \`${printable(file)}\``, { cause: read.error });
  }
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

async function isDirectory(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
}
