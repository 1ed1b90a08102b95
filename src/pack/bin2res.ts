// `mpip bin2res FILE...`: the `R.py` text for a list of files, as micropython-lib's mpy_bin2res.py prints
// it: keys are the paths exactly as given, in the order given, so the output can replace the script's.

import { readFile } from "node:fs/promises";
import { MpipError } from "../errors.js";
import { renderResourceModule, type Resource } from "./r-py.js";

export async function bin2res(paths: string[]): Promise<string> {
  const resources: Resource[] = [];
  for (const path of paths) resources.push({ key: path, data: await readResource(path) });
  return renderResourceModule(resources);
}

async function readResource(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const why = code === "ENOENT" ? "it does not exist" : code === "EISDIR" ? "it is a folder" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new MpipError("io", `cannot read \`${path}\`: ${why}`, {
      cause: error,
      hint: "name regular files; each becomes one entry of R.py, keyed by the path as you wrote it",
    });
  }
}
