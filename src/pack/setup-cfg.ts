// Reads a declarative `setup.cfg` as setuptools does: `[metadata]` for the name, version and description,
// `[options]` for packages, py_modules, install_requires and package_dir, `[options.extras_require]`.
// `attr:` is read statically (a `NAME = "1.0"` line), as setuptools tries first; nothing is executed.

import { MpipError } from "../errors.js";
import { parseDict, parseIni, parseList } from "./ini.js";
import {
  badProject,
  checkDottedName,
  checkName,
  checkRequirements,
  checkVersion,
  packageFolder,
  readmeContentType,
  type Person,
  type ProjectMetadata,
} from "./metadata.js";
import { readProjectFile } from "./project-file.js";
import type { DeclaredSettings } from "./pyproject.js";
import { readStaticAttr } from "./static-attr.js";

const FILE = "setup.cfg";

export interface SetupCfg {
  metadata: ProjectMetadata;
  settings: DeclaredSettings;
  /** From `package_dir = =src` or `[options.packages.find] where`; undefined if not declared. */
  sourceRoot?: string;
}

/** The project in `setup.cfg`, or undefined when it declares no `[metadata] name` (then setup.py holds it). */
export async function readSetupCfg(dir: string, text: string): Promise<SetupCfg | undefined> {
  const ini = parseIni(text);
  if (!(ini instanceof Map)) throw new MpipError("bad-project", `\`${FILE}\` line ${ini.line} is neither a \`[section]\`, a \`key = value\` nor an indented continuation: \`${ini.text.trim()}\``);
  const meta = ini.get("metadata") ?? new Map<string, string>();
  const options = ini.get("options") ?? new Map<string, string>();
  const name = meta.get("name");
  if (name === undefined || name === "") return undefined;

  const packageDir = readPackageDir(options.get("package_dir"));
  const find = ini.get("options.packages.find");
  const sourceRoot = packageDir.get("") ?? find?.get("where");
  const packagesValue = options.get("packages");
  const findDirective = packagesValue !== undefined && (packagesValue.startsWith("find:") || packagesValue.startsWith("find_namespace:"));
  const findInclude = findDirective && find?.get("include") !== undefined ? parseList(find.get("include")!) : undefined;
  const packages = packagesValue === undefined ? undefined : findDirective ? ("find" as const) : parseList(packagesValue).map((dotted) => checkDottedName(dotted, FILE, "options.packages"));
  const pyModules = options.get("py_modules");
  // `[options.packages.find] exclude` names packages (`tests*`); mpip excludes by path.
  const findExclude = parseList(find?.get("exclude") ?? "").flatMap((pattern) => {
    const glob = pattern.replace(/\./g, "/");
    return [glob, `${glob}/**`];
  });

  const field = (key: string) => `metadata.${key}`;
  const layout = { sourceRoot: sourceRoot ?? "", packageDir: [...packageDir].filter(([key]) => key !== "") };
  const version = await resolveVersion(dir, meta.get("version"), layout);
  const longDescription = meta.get("long_description");
  const description = longDescription === undefined ? undefined : await fileDirective(dir, longDescription, field("long_description"));
  const contentType = meta.get("long_description_content_type") ?? (longDescription?.startsWith("file:") ? readmeContentType(longDescription) : undefined);
  const summary = meta.get("description") ?? meta.get("summary");
  const license = meta.get("license");
  const homePage = meta.get("url") ?? meta.get("home_page");
  const requiresPython = options.get("python_requires");
  const urls = parseDict(meta.get("project_urls") ?? "");
  if (typeof urls === "string") throw badProject(FILE, field("project_urls"), `has \`${urls}\`, which is not \`label = url\``);
  const requirements = async (value: string | undefined, at: string): Promise<string[]> =>
    value === undefined ? [] : checkRequirements(parseList(await fileDirective(dir, value, at), ";").filter((line) => !line.startsWith("#")), FILE, at);
  const extras = ini.get("options.extras_require") ?? new Map<string, string>();

  return {
    metadata: {
      name: checkName(name, FILE, field("name")),
      version,
      ...(summary === undefined ? {} : { summary }),
      ...(description === undefined ? {} : { description: { text: description, ...(contentType === undefined ? {} : { contentType }) } }),
      ...(requiresPython === undefined ? {} : { requiresPython }),
      ...(license === undefined ? {} : { license }),
      authors: people(meta.get("author"), meta.get("author_email")),
      maintainers: people(meta.get("maintainer"), meta.get("maintainer_email")),
      keywords: parseList(meta.get("keywords") ?? ""),
      classifiers: parseList(await fileDirective(dir, meta.get("classifiers") ?? "", field("classifiers")), "\n"),
      ...(homePage === undefined ? {} : { homePage }),
      urls,
      dependencies: await requirements(options.get("install_requires"), "options.install_requires"),
      optionalDependencies: await Promise.all(
        [...extras.keys()].sort().map(async (extra): Promise<[string, string[]]> => [extra, await requirements(extras.get(extra), `options.extras_require.${extra}`)]),
      ),
    },
    settings: {
      ...(packages === undefined ? {} : { packages }),
      ...(pyModules === undefined ? {} : { modules: parseList(pyModules).map((module) => checkDottedName(module, FILE, "options.py_modules")) }),
      ...(findInclude === undefined ? {} : { findInclude }),
      packageDir: layout.packageDir,
      include: [],
      exclude: findExclude,
      resources: true,
    },
    ...(sourceRoot === undefined ? {} : { sourceRoot }),
  };
}

function readPackageDir(value: string | undefined): Map<string, string> {
  if (value === undefined) return new Map();
  // `package_dir = =src` is one entry whose key is empty.
  const entries = parseDict(value);
  if (typeof entries === "string") throw badProject(FILE, "options.package_dir", `has \`${entries}\`, which is not \`package = folder\``, "write `package_dir = =src` for a src layout");
  return new Map(entries.map(([key, folder]) => [key, folder.replace(/\/+$/, "")]));
}

async function resolveVersion(dir: string, value: string | undefined, layout: Parameters<typeof packageFolder>[1]): Promise<string> {
  const field = "metadata.version";
  const hint = "write it in `[metadata]`: `version = 1.0.0`";
  if (value === undefined || value === "") throw badProject(FILE, field, "is missing", hint);
  if (!value.startsWith("attr:")) return checkVersion((await fileDirective(dir, value, field)).trim(), FILE, field);
  return readStaticAttr(dir, value.slice(5).trim(), [layout], FILE, field, hint);
}

/** setuptools' `file:` directive: the files' texts joined by newlines; other values as they are. */
async function fileDirective(dir: string, value: string, field: string): Promise<string> {
  if (!value.startsWith("file:")) return value;
  const texts = await Promise.all(parseList(value.slice(5)).map((file) => readProjectFile(dir, file, field, FILE)));
  return texts.map((text) => text.trimEnd()).join("\n");
}

function people(names: string | undefined, emails: string | undefined): Person[] {
  if (names === undefined && emails === undefined) return [];
  return [{ ...(names === undefined ? {} : { name: names }), ...(emails === undefined ? {} : { email: emails }) }];
}
