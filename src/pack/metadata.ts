// What `mpip pack` knows about a project once its pyproject.toml or setup.cfg has been read: plain data,
// plus the checks both readers share, so a bad name, version or dependency is reported the same way
// whichever file declared it, naming that file and field.

import { MpipError } from "../errors.js";
import { isValidName } from "../spec/names.js";
import { evaluateMarker } from "../spec/markers.js";
import { formatRequirement, parseRequirement } from "../spec/requirement.js";
import { printable } from "../text.js";
import { versionProblem } from "../versions.js";

export type MetadataFile = "pyproject.toml" | "setup.cfg";

export interface Person {
  name?: string;
  email?: string;
}

export interface ProjectMetadata {
  name: string;
  version: string;
  summary?: string;
  /** The long description (the readme), the body of PKG-INFO. */
  description?: { text: string; contentType?: string };
  requiresPython?: string;
  license?: string;
  authors: Person[];
  maintainers: Person[];
  keywords: string[];
  classifiers: string[];
  homePage?: string;
  /** `Project-URL` entries: label, URL. */
  urls: Array<[string, string]>;
  /** PEP 508 requirements in canonical form (`foo>=1.0`), the order kept. */
  dependencies: string[];
  /** Extras, sorted by name: they go to PKG-INFO only, never to requires.txt (upip would read them as names). */
  optionalDependencies: Array<[string, string[]]>;
}

/** mpip's own settings: what goes into the archive. */
export interface PackSettings {
  /** Where packages and modules are looked for, relative to the project folder: "" or e.g. "src". */
  sourceRoot: string;
  /**
   * Dotted names of the declared packages; "find" (setup.cfg's `packages = find:`) discovers the top-level
   * ones; undefined discovers them too unless modules are declared (setuptools' rule).
   */
  packages?: string[] | "find";
  /**
   * With `packages: "find"`: patterns (`*`, `?`) a discovered top-level package's name must match, from
   * `[tool.setuptools.packages.find] include` or `[options.packages.find] include`; a pattern matches the
   * package when its first dotted part does (`mylib*`, `mylib.*`). Undefined: every discovered package.
   */
  findInclude?: string[];
  /** Dotted names of the declared modules (`foo`, `pkg.mod`); undefined means discover top-level ones. */
  modules?: string[];
  /** setup.cfg's `package_dir` entries other than the root: dotted package name, folder in the project. */
  packageDir: Array<[string, string]>;
  /** Extra globs, relative to the source root. */
  include: string[];
  exclude: string[];
  /** Generate `pkg/R.py` from each package's data files. */
  resources: boolean;
}

/** The folder of a dotted package, relative to the project folder: the longest `package_dir` prefix that maps it wins (setuptools' rule). */
export function packageFolder(dotted: string, settings: Pick<PackSettings, "sourceRoot" | "packageDir">): string {
  const parts = dotted.split(".");
  const mapping = new Map(settings.packageDir);
  for (let length = parts.length; length > 0; length--) {
    const mapped = mapping.get(parts.slice(0, length).join("."));
    if (mapped !== undefined) return [mapped, ...parts.slice(length)].filter((part) => part !== "").join("/");
  }
  return [settings.sourceRoot, ...parts].filter((part) => part !== "").join("/");
}

export interface Project {
  dir: string;
  metadataFile: MetadataFile;
  metadata: ProjectMetadata;
  settings: PackSettings;
}

export function badProject(file: string, field: string, problem: string, hint?: string | string[], cause?: unknown): MpipError {
  return new MpipError("bad-project", `\`${file}\`: \`${field}\` ${problem}`, {
    ...(hint === undefined ? {} : { hint }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A PEP 508 name of a package or of an extra; the hint's example fits which it is. */
export function checkName(value: string, file: string, field: string, kind: "package" | "extra" = "package"): string {
  if (!isValidName(value)) {
    const example = kind === "package" ? "`micropython-foo`" : "`docs` or `test-tools`";
    throw badProject(file, field, `is \`${printable(value, 80)}\`, which is not a valid ${kind === "package" ? "package" : "extra"} name`, `use letters and digits, with \`.\`, \`_\` and \`-\` only between them (PEP 508), e.g. ${example}`);
  }
  return value;
}

export function checkVersion(value: string, file: string, field: string): string {
  // The same rule as for every version mpip reads: one it could not compare once installed is refused here.
  const problem = versionProblem(value);
  if (problem !== undefined) {
    throw badProject(file, field, `is \`${printable(value, 80)}\`, which ${problem}`, "write a version such as `1.0`, `0.3.1`, `2.0rc1` or `1.0.post1`");
  }
  return value;
}

/**
 * Parses each requirement and returns its canonical text; an error names the file, the field and the text.
 * A direct URL requirement is refused unless its marker is false on MicroPython (never installed there).
 */
export function checkRequirements(values: string[], file: string, field: string): string[] {
  return values.map((text) => {
    try {
      const requirement = parseRequirement(text);
      if (requirement.url !== undefined && (requirement.marker === undefined || evaluateMarker(requirement.marker))) {
        throw badProject(file, field, `has \`${text}\`, a direct URL requirement, which upip cannot install (it looks every dependency up on its index by name)`, "name the package and its version instead, and publish it to an index");
      }
      return formatRequirement(requirement);
    } catch (error) {
      if (error instanceof MpipError && error.code === "bad-requirement") throw badProject(file, field, `has an invalid requirement: ${error.message}`, undefined, error);
      throw error;
    }
  });
}

/** A dotted Python name (`pkg`, `pkg.sub`), as packages and modules are declared. */
export function checkDottedName(value: string, file: string, field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(value)) {
    throw badProject(file, field, `has \`${value}\`, which is not a Python module or package name`, "write dotted names such as `mypkg` or `mypkg.sub`, not paths");
  }
  return value;
}

/** The content type PyPI expects for a readme, from its extension. */
export function readmeContentType(file: string): string {
  const lower = file.toLowerCase();
  if (lower.endsWith(".md") || lower.endsWith(".markdown")) return "text/markdown";
  if (lower.endsWith(".rst")) return "text/x-rst";
  return "text/plain";
}

export const MINIMAL_PYPROJECT = [
  "[project]",
  'name = "micropython-mylib"',
  'version = "1.0.0"',
  'description = "What it does"',
  'dependencies = ["micropython-logging"]',
  "",
  "[tool.mpip]",
  'packages = ["mylib"]   # optional: found automatically',
].join("\n");
