// setuptools' `attr:` version (setup.cfg `version = attr: pkg.__version__`, pyproject.toml
// `[tool.setuptools.dynamic] version = {attr = "pkg.__version__"}`), read as setuptools first tries it:
// statically, from a `NAME = "1.0"` line of the module's source. Nothing is imported or run.

import { readSmallFile } from "../local-file.js";
import { MAX_PROJECT_FILE_BYTES } from "./project-file.js";
import path from "node:path";
import { badProject, checkVersion, packageFolder, type PackSettings } from "./metadata.js";

type Layout = Pick<PackSettings, "sourceRoot" | "packageDir">;

/**
 * The version that `target` (`pkg.__version__`, `pkg.mod.VERSION`, or a bare `VERSION` in `__init__`)
 * holds as a literal string, looked for in `<module>.py` and `<module>/__init__.py` under each layout in
 * turn. Throws a `bad-project` MpipError naming `file` and `field` when no module is found or it has no
 * such literal line (`hint` says what to write instead).
 */
export async function readStaticAttr(dir: string, target: string, layouts: Layout[], file: string, field: string, hint: string | string[]): Promise<string> {
  const at = target.lastIndexOf(".");
  const moduleName = at < 0 ? "__init__" : target.slice(0, at);
  const variable = target.slice(at + 1);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw badProject(file, field, `is \`attr: ${target}\`, which does not end in a variable name`, hint);
  for (const layout of layouts) {
    const folder = packageFolder(moduleName, layout);
    for (const candidate of [`${folder}.py`, `${folder}/__init__.py`]) {
      const read = await readSmallFile(path.join(dir, candidate), MAX_PROJECT_FILE_BYTES);
      if (read.kind === "missing") continue;
      if (read.kind !== "read") throw badProject(file, field, `is \`attr: ${target}\`, but \`${candidate}\` cannot be read as a module (${read.kind === "unreadable" ? read.error.code ?? "error" : read.kind === "too-large" ? `${read.size} bytes` : "not a regular file"})`, hint);
      const source = read.data.toString("utf8");
      const match = new RegExp(`^${variable}\\s*=\\s*(['"])([^'"\\n]+)\\1\\s*(#.*)?$`, "m").exec(source);
      if (match !== null) return checkVersion(match[2]!, file, field);
      throw badProject(file, field, `is \`attr: ${target}\`, but \`${candidate}\` has no line \`${variable} = "..."\` with a literal string, and mpip never runs code to find it`, hint);
    }
  }
  throw badProject(file, field, `is \`attr: ${target}\`, but no module \`${moduleName}\` was found`, hint);
}
