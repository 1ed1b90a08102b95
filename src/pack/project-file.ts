// Reads a file that a project's metadata names (a readme, a license, a requirements file, a version
// file): it must lie inside the project folder, and an error names the metadata file and the field.

import path from "node:path";
import { readSmallFile } from "../local-file.js";
import { badProject } from "./metadata.js";

/** A readme, license, requirements or version file of a real project holds far less. */
export const MAX_PROJECT_FILE_BYTES = 1024 * 1024;

/** Reads a file the metadata refers to, which must lie inside the project folder. */
export async function readProjectFile(dir: string, relative: string, field: string, file: string = "pyproject.toml"): Promise<string> {
  const resolved = path.resolve(dir, relative);
  if (path.isAbsolute(relative) || path.relative(dir, resolved).startsWith("..")) throw badProject(file, field, `names \`${relative}\`, which is outside the project folder`);
  const read = await readSmallFile(resolved, MAX_PROJECT_FILE_BYTES);
  switch (read.kind) {
    case "read":
      return read.data.toString("utf8");
    case "missing":
      throw badProject(file, field, `names \`${relative}\`, which cannot be read (ENOENT)`, "create the file or fix the name");
    case "not-regular":
    case "link":
      throw badProject(file, field, `names \`${relative}\`, which is not a regular file (a device, a FIFO or a socket, or a link to one)`, "name the project's own file");
    case "too-large":
      throw badProject(file, field, `names \`${relative}\`, which is ${read.size} bytes, more than the ${MAX_PROJECT_FILE_BYTES} mpip reads for it`, "name the project's own file: a real one holds a few KiB");
    case "unreadable":
      throw badProject(file, field, `names \`${relative}\`, which cannot be read (${read.error.code ?? "error"})`, "create the file or fix the name", read.error);
  }
}
