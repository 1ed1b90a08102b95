// Everything an install writes goes first into a staging folder beside the target (same filesystem,
// so the commit is a series of renames), and the staging folder is always removed afterwards. Its
// name starts with the target's staging prefix (siblings.ts), so a run killed before it could remove
// it leaves a folder the next run recognizes and removes (recover.ts).

import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { ioHint } from "./io-error.js";
import { makeDirs } from "./make-dirs.js";
import { siblingsOf } from "./siblings.js";

export class Staging {
  private constructor(readonly dir: string) {}

  static async create(target: string): Promise<Staging> {
    const { parent, stagingPrefix } = siblingsOf(target);
    const dir = path.join(parent, `${stagingPrefix}${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      await makeDirs(parent);
      await mkdir(dir);
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      throw new MpipError("io", `cannot create a staging folder beside \`${target}\` (${err.code ?? err.message})`, {
        cause: error,
        hint: ioHint(error, `mpip stages an install in the target's parent folder \`${parent}\`: make it writable`),
      });
    }
    return new Staging(dir);
  }

  /** Where one package is unpacked. */
  packageDir(key: string): string {
    return path.join(this.dir, "packages", key);
  }

  /** Where files the install replaces are kept until the commit has succeeded. */
  get backupDir(): string {
    return path.join(this.dir, "backup");
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
