// Whether a folder holds a Python project that `mpip pack` can pack: a `pyproject.toml` with a `[project]`
// table, or a `setup.cfg` with `[metadata] name`, the two places readProject (project.ts) takes metadata
// from. A file that only configures tools (`[tool.black]`, `[flake8]`, `[tool:pytest]`) declares no
// project, so a folder with such a file and a `package.json` is a mip package. Synchronous, because a spec
// is classified while it is parsed.

import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { parseIni } from "./ini.js";

/**
 * True when `folder` declares project metadata in `pyproject.toml` or `setup.cfg`. A file that cannot be
 * read or parsed counts as declaring it: readProject then names the file and what is wrong with it,
 * rather than the folder being installed some other way in silence.
 */
export function declaresProjectMetadata(folder: string): boolean {
  const pyproject = readText(path.join(folder, "pyproject.toml"));
  if (pyproject !== undefined) {
    if (pyproject === null) return true;
    try {
      if ((parseToml(pyproject) as Record<string, unknown>).project !== undefined) return true;
    } catch {
      return true;
    }
  }
  const setupCfg = readText(path.join(folder, "setup.cfg"));
  if (setupCfg === undefined) return false;
  if (setupCfg === null) return true;
  const ini = parseIni(setupCfg);
  if (!(ini instanceof Map)) return true;
  return (ini.get("metadata")?.get("name") ?? "") !== "";
}

/**
 * The most a `pyproject.toml` or `setup.cfg` may hold: real ones hold a few KiB. A folder to install may
 * come from anywhere (a clone can commit `pyproject.toml` as a link to `/dev/zero`), so these files are
 * read only when they are regular files within this size.
 */
export const MAX_PROJECT_METADATA_BYTES = 1024 * 1024;

/**
 * The file's text; undefined when there is no such file, null when it is there but cannot be read, is no
 * regular file (a device, a FIFO: opened without blocking, never read) or is over MAX_PROJECT_METADATA_BYTES.
 */
function readText(file: string): string | undefined | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? undefined : null;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_PROJECT_METADATA_BYTES) return null;
    return readFileSync(fd, "utf8");
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
