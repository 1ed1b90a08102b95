// Reads a file that a project's metadata names (a readme, a license, a requirements file, a version
// file): it must lie inside the project folder, and an error names the metadata file and the field.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { badProject } from "./metadata.js";

/** Reads a file the metadata refers to, which must lie inside the project folder. */
export async function readProjectFile(dir: string, relative: string, field: string, file: string = "pyproject.toml"): Promise<string> {
  const resolved = path.resolve(dir, relative);
  if (path.isAbsolute(relative) || path.relative(dir, resolved).startsWith("..")) throw badProject(file, field, `names \`${relative}\`, which is outside the project folder`);
  try {
    return await readFile(resolved, "utf8");
  } catch (error) {
    throw badProject(file, field, `names \`${relative}\`, which cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`, "create the file or fix the name", error);
  }
}
