// A starting state built once per test file and copied for each test that needs it: a baseline install
// that a test then upgrades, uninstalls or spoils is not what the test checks, so one CLI run serves them
// all. Each copy keeps the install's files, records and modification times (a record's time breaks ties
// between duplicate records), so a test sees what a fresh install of its own would have left.

import assert from "node:assert/strict";
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

/**
 * A state made by one CLI run into the folder (`run(dir)`, as `(dir) => runMpip(["install", "-p", dir, ...])`),
 * which must exit 0: the baseline most tests start from.
 */
export function baselineRun(run: (dir: string) => Promise<{ code: number; stderr: string }>, parent?: () => string): Baseline {
  return baseline(async (dir) => {
    const result = await run(dir);
    assert.equal(result.code, 0, result.stderr);
  }, parent);
}
