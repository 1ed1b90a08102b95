// `mkdir -p` that reports the real reason it failed. Node 20's fs.promises.mkdir({ recursive: true })
// answers ENOENT when creating a level fails for another reason (ENOSPC on a full disk, for one: the
// disk-faults test found it), which would tell a person "no such file or directory" when the disk is
// full. On ENOENT this creates the missing levels one at a time, so the real error surfaces.

import { lstat, mkdir } from "node:fs/promises";
import path from "node:path";
import { errnoCode } from "./io-error.js";

/** Creates `dir` and any missing parents; returns the topmost folder it created, if any (as mkdir -p does). */
export async function makeDirs(dir: string): Promise<string | undefined> {
  try {
    return await mkdir(dir, { recursive: true });
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
  const missing: string[] = [];
  for (let current = path.resolve(dir); !(await lstat(current).then(() => true, () => false)); current = path.dirname(current)) {
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const level of missing) {
    await mkdir(level).catch((error: unknown) => {
      if (errnoCode(error) !== "EEXIST") throw error;
    });
  }
  return missing[0];
}
