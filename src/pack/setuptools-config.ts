// setuptools' own settings in pyproject.toml (setuptools docs, "Configuring setuptools using
// pyproject.toml files"), the ones that need no code to run: `[tool.setuptools]` `packages` (a list, or
// `{find = {where, include, exclude}}`), `py-modules` and `package-dir`, which say what goes into the
// package; and `[tool.setuptools.dynamic]`, which fills fields `[project]` lists in `dynamic` from files
// (`{file = [...]}`) or, for the version, from a literal in the code (`{attr = "pkg.__version__"}`).

import { MpipError } from "../errors.js";
import { badProject, checkDottedName, checkName, checkRequirements, checkVersion, readmeContentType, type ProjectMetadata } from "./metadata.js";
import { readProjectFile } from "./project-file.js";
import type { DeclaredSettings } from "./pyproject.js";
import { readStaticAttr } from "./static-attr.js";
import { FILE, isTable, optional, optionalStrings, type Table } from "./toml-fields.js";

export interface SetuptoolsConfig {
  /** What `packages`, `py-modules`, `package-dir` and `packages.find` declare (include/exclude as mpip's globs). */
  settings: DeclaredSettings;
  /** `package-dir = {"" = "src"}` or `packages.find.where`; undefined when neither is given. */
  sourceRoot?: string;
  /** `[tool.setuptools.dynamic]`, read only for the fields `[project]` lists in `dynamic`. */
  dynamic: Table;
}

const AT = "tool.setuptools";

/** Reads `[tool.setuptools]` (an empty table when there is none). Throws a `bad-project` MpipError naming the field. */
export function readSetuptoolsTable(table: Table): SetuptoolsConfig {
  const packageDir = optional(table, "package-dir", "table", `${AT}.package-dir`) as Table | undefined;
  const dirs = Object.entries(packageDir ?? {}).map(([key, folder]): [string, string] => {
    if (typeof folder !== "string") throw badProject(FILE, `${AT}.package-dir`, `maps \`${key}\` to something other than a folder name`, 'write `package-dir = {"" = "src"}`');
    return [key, folder.replace(/\/+$/, "")];
  });
  const settings: DeclaredSettings = { packageDir: dirs.filter(([key]) => key !== ""), include: [], exclude: [], resources: true };
  let sourceRoot = dirs.find(([key]) => key === "")?.[1];

  const packages = table.packages;
  if (Array.isArray(packages)) {
    settings.packages = (optionalStrings(table, "packages", `${AT}.packages`) ?? []).map((name) => checkDottedName(name, FILE, `${AT}.packages`));
  } else if (packages !== undefined) {
    const find = isTable(packages) ? (optional(packages, "find", "table", `${AT}.packages.find`) as Table | undefined) : undefined;
    if (find === undefined) throw badProject(FILE, `${AT}.packages`, "must be a list of package names or a `find` table", 'write `packages = ["mylib"]`, or `[tool.setuptools.packages.find]` with `where = ["src"]`');
    settings.packages = "find";
    const where = optionalStrings(find, "where", `${AT}.packages.find.where`) ?? [];
    if (where.length > 1) throw badProject(FILE, `${AT}.packages.find.where`, `lists ${where.length} folders, and mpip packs from one`, 'keep one, e.g. `where = ["src"]`');
    sourceRoot ??= where[0];
    const include = optionalStrings(find, "include", `${AT}.packages.find.include`);
    if (include !== undefined) settings.findInclude = include;
    // `exclude` names packages (`tests*`); mpip excludes by path, as for setup.cfg.
    settings.exclude = (optionalStrings(find, "exclude", `${AT}.packages.find.exclude`) ?? []).flatMap((pattern) => {
      const glob = pattern.replace(/\./g, "/");
      return [glob, `${glob}/**`];
    });
  }
  const modules = optionalStrings(table, "py-modules", `${AT}.py-modules`);
  if (modules !== undefined) settings.modules = modules.map((name) => checkDottedName(name, FILE, `${AT}.py-modules`));
  const dynamic = (optional(table, "dynamic", "table", `${AT}.dynamic`) as Table | undefined) ?? {};
  return { settings, ...(sourceRoot === undefined ? {} : { sourceRoot }), dynamic };
}

/** What to write instead of a dynamic field, an example that fits each field. */
const DYNAMIC_HINTS: Record<string, string[]> = {
  name: ['write `name` in `[project]`: PEP 621 never lets it be dynamic, e.g. `name = "micropython-mylib"`'],
  version: [
    'write `version` in `[project]` itself and remove it from `dynamic`, e.g. `version = "1.0.0"`,',
    'or read it from a literal in the code: `[tool.setuptools.dynamic]` with `version = {attr = "mylib.__version__"}`',
  ],
  dependencies: [
    'write `dependencies` in `[project]` itself and remove it from `dynamic`, e.g. `dependencies = ["micropython-logging"]`,',
    'or read them from a file: `[tool.setuptools.dynamic]` with `dependencies = {file = ["requirements.txt"]}`',
  ],
  "optional-dependencies": [
    'write them in `[project.optional-dependencies]` and remove `optional-dependencies` from `dynamic`, e.g. `docs = ["sphinx"]`,',
    'or read each from a file: `[tool.setuptools.dynamic.optional-dependencies]` with `docs = {file = ["docs/requirements.txt"]}`',
  ],
  readme: ['write `readme = "README.md"` in `[project]`, or `[tool.setuptools.dynamic]` with `readme = {file = ["README.md"]}`'],
  description: ['write `description = "What it does"` in `[project]`, or `[tool.setuptools.dynamic]` with `description = {file = "DESCRIPTION.txt"}`'],
  classifiers: ['write `classifiers = ["Programming Language :: Python :: Implementation :: MicroPython"]` in `[project]`, or `[tool.setuptools.dynamic]` with `classifiers = {file = "classifiers.txt"}`'],
};

/** The fields mpip needs a value for when `[project]` lists them in `dynamic`; others it can leave out. */
const NEEDED = new Set(["name", "version", "dependencies", "optional-dependencies"]);

/**
 * The values of the fields `[project]` lists in `dynamic`, read as setuptools reads `[tool.setuptools.dynamic]`
 * without running code. A field listed in `dynamic` that `[project]` also sets, `name`, and a needed field
 * with no static source throw a `bad-project` MpipError whose hint shows that field's own forms.
 */
export async function resolveDynamic(dir: string, project: Table, dynamicFields: string[], config: SetuptoolsConfig, layouts: Parameters<typeof readStaticAttr>[2]): Promise<Partial<ProjectMetadata>> {
  const resolved: Partial<ProjectMetadata> = {};
  for (const field of dynamicFields) {
    if (project[field] !== undefined) {
      throw badProject(FILE, "project.dynamic", `lists \`${field}\`, which \`[project]\` also sets`, "a field is either written in `[project]` or listed in `dynamic` (PEP 621): remove one of them");
    }
    const entry = field === "name" ? undefined : config.dynamic[field];
    if (entry === undefined) {
      if (!NEEDED.has(field)) continue;
      throw badProject(FILE, "project.dynamic", `lists \`${field}\`: mpip never runs a build backend or setup.py, so it cannot compute it${field === "name" ? "" : `, and \`[tool.setuptools.dynamic]\` does not give it from a file`}`, DYNAMIC_HINTS[field]);
    }
    const at = `${AT}.dynamic.${field}`;
    const hint = DYNAMIC_HINTS[field];
    switch (field) {
      case "version": {
        const table = expectTable(entry, at, hint);
        const attr = optional(table, "attr", "string", `${at}.attr`) as string | undefined;
        resolved.version = attr !== undefined ? await readStaticAttr(dir, attr, layouts, FILE, at, hint ?? []) : checkVersionText((await readFiles(dir, table, at, hint)).trim(), at);
        break;
      }
      case "dependencies":
        resolved.dependencies = await requirementsFrom(dir, expectTable(entry, at, hint), at, hint);
        break;
      case "optional-dependencies": {
        const extras = expectTable(entry, at, hint);
        resolved.optionalDependencies = await Promise.all(
          Object.keys(extras).sort().map(async (extra): Promise<[string, string[]]> => {
            const field = `${at}.${extra}`;
            return [checkName(extra, FILE, field, "extra"), await requirementsFrom(dir, expectTable(extras[extra], field, hint), field, hint)];
          }),
        );
        break;
      }
      case "readme": {
        const table = expectTable(entry, at, hint);
        const files = fileList(table, at, hint);
        const contentType = optional(table, "content-type", "string", `${at}.content-type`) as string | undefined;
        resolved.description = { text: await readFiles(dir, table, at, hint), contentType: contentType ?? readmeContentType(files[0] ?? "") };
        break;
      }
      case "description":
        resolved.summary = (await readFiles(dir, expectTable(entry, at, hint), at, hint)).replace(/\s+/g, " ").trim();
        break;
      case "classifiers":
        resolved.classifiers = (await readFiles(dir, expectTable(entry, at, hint), at, hint)).split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
        break;
      default:
        // entry-points, scripts and the like: nothing a MicroPython package carries.
        break;
    }
  }
  return resolved;
}

function expectTable(entry: unknown, field: string, hint: string[] | undefined): Table {
  if (!isTable(entry)) throw badProject(FILE, field, "must be a table such as `{file = [\"...\"]}`", hint);
  return entry;
}

function fileList(table: Table, field: string, hint: string[] | undefined): string[] {
  const file = table.file;
  if (typeof file === "string") return [file];
  if (Array.isArray(file) && file.length > 0 && file.every((item) => typeof item === "string")) return file as string[];
  if (file === undefined) throw badProject(FILE, field, table.attr !== undefined ? "takes only `file`: `attr` is for the version" : "has no `file`", hint);
  throw badProject(FILE, field, "has a `file` that is not a file name or a list of file names", hint);
}

/** The files' texts joined by newlines, as setuptools' `read_files`; each must lie inside the project. */
async function readFiles(dir: string, table: Table, field: string, hint: string[] | undefined): Promise<string> {
  const texts = await Promise.all(fileList(table, field, hint).map((file) => readProjectFile(dir, file, `${field}.file`)));
  return texts.map((text) => text.trimEnd()).join("\n");
}

/**
 * Requirements from requirements files, as setuptools reads them for `dynamic`: one a line; blank lines and
 * `#` comments skipped. A pip option (`-r`, `-e`, `--index-url`) is not a requirement: an error naming the
 * file and line, as is an invalid requirement.
 */
async function requirementsFrom(dir: string, table: Table, field: string, hint: string[] | undefined): Promise<string[]> {
  const requirements: string[] = [];
  for (const file of fileList(table, field, hint)) {
    const lines = (await readProjectFile(dir, file, `${field}.file`)).split(/\r\n|\r|\n/);
    lines.forEach((raw, index) => {
      const line = raw.replace(/(^|\s)#.*$/, "").trim();
      if (line === "") return;
      if (line.startsWith("-")) {
        throw new MpipError("bad-project", `\`${file}\` line ${index + 1} (read for \`${field}\` in \`${FILE}\`) is the pip option \`${line}\`, not a requirement`, {
          hint: "setuptools reads only requirements from this file, one a line: list the requirements themselves, e.g. `micropython-logging>=0.5`",
        });
      }
      requirements.push(...checkRequirements([line], file, `line ${index + 1}`));
    });
  }
  return requirements;
}

function checkVersionText(text: string, field: string): string {
  if (text === "" || text.includes("\n")) throw badProject(FILE, field, "names a file that does not hold one version on one line", DYNAMIC_HINTS.version);
  return checkVersion(text, FILE, field);
}
