// A starting state built once per test file and copied for each test that needs it: a baseline install
// that a test then upgrades, uninstalls or spoils is not what the test checks, so one CLI run serves them
// all. Each copy keeps the install's files, records and modification times (a record's time breaks ties
// between duplicate records), so a test sees what a fresh install of its own would have left.

import { cp, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface Baseline {
  /** Copies the built state into `target` (which must not exist yet) and returns `target`. */
  copyTo(target: string): Promise<string>;
}

/**
 * A state made by `build(dir)` into a fresh folder the first time a copy is asked for, then reused.
 * `build` should assert that its runs succeeded. The folder is under `parent` (the test file's temporary
 * folder, removed with it) when given, else the system's temporary folder.
 */
export function baseline(build: (dir: string) => Promise<void>, parent?: () => string): Baseline {
  let made: Promise<string> | undefined;
  const make = async (): Promise<string> => {
    const holder = await mkdtemp(path.join(parent?.() ?? os.tmpdir(), "baseline-"));
    const dir = path.join(holder, "image");
    await build(dir);
    return dir;
  };
  return {
    async copyTo(target) {
      made ??= make();
      await cp(await made, target, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      return target;
    },
  };
}
