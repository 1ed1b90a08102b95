// `mkdir -p` that reports the real reason it failed. Node 20's fs.promises.mkdir({ recursive: true })
// answers ENOENT when creating a level fails for another reason (ENOSPC on a full disk, for one: the
// disk-faults test found it), which would tell a person "no such file or directory" when the disk is
// full. On ENOENT this creates the missing levels one at a time, so the real error surfaces.

import { lstatSync, mkdirSync } from "node:fs";
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

/**
 * `makeDirs` once per folder for one owner (a run's cache, say): a folder it made, or is making, is not
 * asked for again. Where someone else may remove a folder meanwhile (`mpip cache clean` in another
 * process), the owner calls `forget` on the failure that shows it, and the next `make` asks again.
 */
export class FolderMaker {
  private readonly made = new Map<string, Promise<unknown>>();
  /** The folders known to exist: made in blocking calls, or whose `make` has resolved. */
  private readonly present = new Set<string>();

  /** Resolves once `dir` and its parents exist (made now, or earlier by this maker); throws what makeDirs throws. */
  make(dir: string): Promise<unknown> {
    let making = this.made.get(dir);
    if (making === undefined) {
      making = makeDirs(dir);
      this.made.set(dir, making);
      const made = making;
      made.then(
        () => {
          if (this.made.get(dir) === made) this.present.add(dir);
        },
        () => this.made.delete(dir),
      );
    }
    return making;
  }

  /**
   * As `make`, in blocking calls (makeDirsSync), for a writer whose writes are blocking calls too: returns
   * once `dir` and its parents exist; throws what makeDirsSync throws.
   */
  makeSync(dir: string): void {
    if (this.present.has(dir)) return;
    makeDirsSync(dir);
    this.present.add(dir);
    if (!this.made.has(dir)) this.made.set(dir, Promise.resolve());
  }

  forget(dir: string): void {
    this.made.delete(dir);
    this.present.delete(dir);
  }
}

/**
 * `makeDirs` in one blocking call, for a run of small writes on the main thread (see archive/unpack.ts):
 * the same result, and the same real reason on failure (ENOSPC, not ENOENT).
 */
export function makeDirsSync(dir: string): string | undefined {
  try {
    return mkdirSync(dir, { recursive: true });
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
  const missing: string[] = [];
  const present = (folder: string) => {
    try {
      lstatSync(folder);
      return true;
    } catch {
      return false;
    }
  };
  for (let current = path.resolve(dir); !present(current); current = path.dirname(current)) {
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw error;
    }
  }
  return missing[0];
}
