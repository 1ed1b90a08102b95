// Moves staged files into the target all or none: files that will be replaced are first moved aside
// into the staging folder, and any failure puts every moved file back and removes created folders.

import { lstat, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";

export interface Placement {
  /** The staged file. */
  from: string;
  /** Its path relative to the target. */
  to: string;
}

interface Done {
  from: string;
  destination: string;
  backup?: string;
}

export async function commit(target: string, placements: Placement[], backupDir: string): Promise<void> {
  const done: Done[] = [];
  const created: string[] = [];
  const makeDir = async (dir: string) => {
    const first = await mkdir(dir, { recursive: true });
    if (first !== undefined) created.push(first);
  };
  try {
    await makeDir(path.resolve(target));
    for (const placement of placements) {
      const destination = path.resolve(target, placement.to);
      await makeDir(path.dirname(destination));
      const step: Done = { from: placement.from, destination };
      const existing = await lstat(destination).catch(() => undefined);
      if (existing?.isDirectory()) {
        throw new MpipError("io", `cannot install \`${placement.to}\`: a folder of that name exists in \`${target}\``, {
          hint: "remove or rename that folder, then run mpip again",
        });
      }
      if (existing !== undefined) {
        step.backup = path.join(backupDir, placement.to);
        await mkdir(path.dirname(step.backup), { recursive: true });
        await rename(destination, step.backup);
      }
      done.push(step);
      await rename(placement.from, destination);
    }
  } catch (error) {
    await rollBack(done, created);
    if (error instanceof MpipError) throw error;
    const err = error as NodeJS.ErrnoException;
    throw new MpipError("io", `could not write into \`${target}\` (${err.code ?? ""}: ${err.message}); nothing was changed`, {
      cause: error,
      hint: err.code === "ENOSPC" ? "the disk is full; free some space and try again" : "check that the install folder is writable",
    });
  }
}

async function rollBack(done: Done[], created: string[]): Promise<void> {
  for (const step of done.reverse()) {
    await rename(step.destination, step.from).catch(() => undefined);
    if (step.backup !== undefined) await rename(step.backup, step.destination).catch(() => undefined);
  }
  for (const dir of created.reverse()) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}
