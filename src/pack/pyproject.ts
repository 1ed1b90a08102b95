// Reads `pyproject.toml`: the `[project]` table (PEP 621) for the metadata, with the fields it lists in
// `dynamic` filled from `[tool.setuptools.dynamic]` where that needs no code run; `[tool.mpip]` (and
// `[tool.setuptools]` packages, py-modules, package-dir) for what goes into the archive. Every field is type-checked, and an error names the file and the field, because a
// typo here would otherwise ship a broken package.

import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { tomlSyntaxProblem } from "../toml-syntax.js";
import { MpipError } from "../errors.js";
import {
  badProject,
  checkDottedName,
  checkName,
  checkRequirements,
  checkVersion,
  readmeContentType,
  type PackSettings,
  type Person,
  type ProjectMetadata,
} from "./metadata.js";
import { readProjectFile } from "./project-file.js";
import { readSetuptoolsTable, resolveDynamic, type SetuptoolsConfig } from "./setuptools-config.js";
import { FILE, isTable, optional, optionalStrings, type Table } from "./toml-fields.js";


/** Settings read from `[tool.mpip]`; the source root is decided from the layout on disk. */
export type DeclaredSettings = Omit<PackSettings, "sourceRoot">;

export interface Pyproject {
  project?: Table;
  /** `[tool.mpip]`. */
  tool: DeclaredSettings;
  /** `[tool.setuptools]`: it applies only with a `[project]` table, as setuptools applies it. */
  setuptools: SetuptoolsConfig;
}

export function parsePyproject(dir: string, text: string): Pyproject {
  let document: Table;
  try {
    document = parseToml(text) as Table;
  } catch (error) {
    throw new MpipError("bad-project", `\`${FILE}\` is not valid TOML: ${tomlSyntaxProblem(error)}`, { hint: `fix the syntax of \`${path.join(dir, FILE)}\`` });
  }
  const project = optional(document, "project", "table", "project") as Table | undefined;
  const toolTable = optional(document, "tool", "table", "tool") as Table | undefined;
  const mpip = toolTable === undefined ? undefined : (optional(toolTable, "mpip", "table", "tool.mpip") as Table | undefined);
  const setuptools = toolTable === undefined ? undefined : (optional(toolTable, "setuptools", "table", "tool.setuptools") as Table | undefined);
  return { ...(project === undefined ? {} : { project }), tool: readToolTable(mpip ?? {}), setuptools: readSetuptoolsTable(setuptools ?? {}) };
}

const TOOL_KEYS = ["packages", "modules", "include", "exclude", "resources"];

function readToolTable(table: Table): DeclaredSettings {
  for (const key of Object.keys(table)) {
    if (!TOOL_KEYS.includes(key)) throw badProject(FILE, `tool.mpip.${key}`, "is not a setting mpip knows", `the keys of \`[tool.mpip]\` are ${TOOL_KEYS.map((k) => `\`${k}\``).join(", ")}`);
  }
  const packages = optionalStrings(table, "packages", "tool.mpip.packages");
  const modules = optionalStrings(table, "modules", "tool.mpip.modules");
  const resources = optional(table, "resources", "boolean", "tool.mpip.resources") as boolean | undefined;
  return {
    ...(packages === undefined ? {} : { packages: packages.map((name) => checkDottedName(name, FILE, "tool.mpip.packages")) }),
    ...(modules === undefined ? {} : { modules: modules.map((name) => checkDottedName(name, FILE, "tool.mpip.modules")) }),
    include: optionalStrings(table, "include", "tool.mpip.include") ?? [],
    exclude: optionalStrings(table, "exclude", "tool.mpip.exclude") ?? [],
    packageDir: [],
    resources: resources ?? true,
  };
}

/**
 * The metadata of a `[project]` table. Fields listed in `dynamic` come from `setuptools.dynamic` (see
 * resolveDynamic); `layouts` are where an `attr:` version's module is looked for. Throws a `bad-project`
 * MpipError naming the field.
 */
export async function readProjectTable(dir: string, project: Table, setuptools: SetuptoolsConfig, layouts: Array<Pick<PackSettings, "sourceRoot" | "packageDir">>): Promise<ProjectMetadata> {
  const dynamicFields = optionalStrings(project, "dynamic", "project.dynamic") ?? [];
  const dynamic = await resolveDynamic(dir, project, dynamicFields, setuptools, layouts);
  const name = optional(project, "name", "string", "project.name") as string | undefined;
  if (name === undefined) throw badProject(FILE, "project.name", "is missing", 'add `name = "micropython-mylib"` under `[project]`');
  const version = dynamic.version ?? (optional(project, "version", "string", "project.version") as string | undefined);
  if (version === undefined) throw badProject(FILE, "project.version", "is missing", 'add `version = "1.0.0"` under `[project]` (mpip reads no version from git tags)');

  const summary = optional(project, "description", "string", "project.description") as string | undefined;
  const description = await readReadme(dir, project.readme);
  const requiresPython = optional(project, "requires-python", "string", "project.requires-python") as string | undefined;
  const license = await readLicense(dir, project.license);
  const urls = optional(project, "urls", "table", "project.urls") as Table | undefined;
  const extras = (optional(project, "optional-dependencies", "table", "project.optional-dependencies") as Table | undefined) ?? {};
  const metadata: ProjectMetadata = {
    name: checkName(name, FILE, "project.name"),
    version: dynamic.version ?? checkVersion(version, FILE, "project.version"),
    ...(summary === undefined ? {} : { summary }),
    ...(description === undefined ? {} : { description }),
    ...(requiresPython === undefined ? {} : { requiresPython }),
    ...(license === undefined ? {} : { license }),
    authors: readPeople(project, "authors"),
    maintainers: readPeople(project, "maintainers"),
    keywords: optionalStrings(project, "keywords", "project.keywords") ?? [],
    classifiers: optionalStrings(project, "classifiers", "project.classifiers") ?? [],
    urls: Object.keys(urls ?? {}).map((label) => [label, optional(urls!, label, "string", `project.urls.${label}`) as string]),
    dependencies: checkRequirements(optionalStrings(project, "dependencies", "project.dependencies") ?? [], FILE, "project.dependencies"),
    optionalDependencies: Object.keys(extras)
      .sort()
      .map((extra) => {
        const field = `project.optional-dependencies.${extra}`;
        return [checkName(extra, FILE, field, "extra"), checkRequirements(optionalStrings(extras, extra, field) ?? [], FILE, field)];
      }),
  };
  return { ...metadata, ...dynamic, version: metadata.version };
}

async function readReadme(dir: string, readme: unknown): Promise<ProjectMetadata["description"]> {
  if (readme === undefined) return undefined;
  if (typeof readme === "string") return { text: await readProjectFile(dir, readme, "project.readme"), contentType: readmeContentType(readme) };
  if (!isTable(readme)) throw badProject(FILE, "project.readme", "must be a file name or a table with `file` or `text`");
  const contentType = optional(readme, "content-type", "string", "project.readme.content-type") as string | undefined;
  const file = optional(readme, "file", "string", "project.readme.file") as string | undefined;
  const text = optional(readme, "text", "string", "project.readme.text") as string | undefined;
  if ((file === undefined) === (text === undefined)) throw badProject(FILE, "project.readme", "must have exactly one of `file` and `text`");
  const body = file === undefined ? text! : await readProjectFile(dir, file, "project.readme.file");
  return { text: body, contentType: contentType ?? (file === undefined ? "text/plain" : readmeContentType(file)) };
}

async function readLicense(dir: string, license: unknown): Promise<string | undefined> {
  if (license === undefined || typeof license === "string") return license;
  if (!isTable(license)) throw badProject(FILE, "project.license", "must be an SPDX expression or a table with `text` or `file`");
  const text = optional(license, "text", "string", "project.license.text") as string | undefined;
  const file = optional(license, "file", "string", "project.license.file") as string | undefined;
  if ((file === undefined) === (text === undefined)) throw badProject(FILE, "project.license", "must have exactly one of `text` and `file`");
  return text ?? (await readProjectFile(dir, file!, "project.license.file"));
}

function readPeople(project: Table, key: "authors" | "maintainers"): Person[] {
  const list = optional(project, key, "array", `project.${key}`) as unknown[] | undefined;
  return (list ?? []).map((entry, index) => {
    const field = `project.${key}[${index}]`;
    if (!isTable(entry)) throw badProject(FILE, field, "must be a table such as `{ name = \"Ada\", email = \"ada@example.com\" }`");
    const name = optional(entry, "name", "string", `${field}.name`) as string | undefined;
    const email = optional(entry, "email", "string", `${field}.email`) as string | undefined;
    return { ...(name === undefined ? {} : { name }), ...(email === undefined ? {} : { email }) };
  });
}
