// A filesystem that folds names as FAT, macOS and Windows do, laid over a real folder, for the commit's
// filesystem layer (src/image/fs-ops.ts): below `root`, each path component is looked up among the
// real entries by its folded form (case, Unicode normalization, trailing dots and spaces, as chosen),
// so `Mod.py` reaches an existing `MOD.py`, exactly as on a case-insensitive disk. New names are created
// as spelled. Paths outside `root` pass through unchanged.

import { lstat, mkdir, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { FullCommitFs } from "../../src/image/fs-ops.js";
import type { NameRules } from "../../src/image/name-rules.js";
import { foldPath } from "../../src/image/name-rules.js";

export const FAT_RULES: NameRules = { asciiCase: true, unicodeCase: false, normalization: false, trailingDotsSpaces: true };
export const APFS_RULES: NameRules = { asciiCase: true, unicodeCase: true, normalization: true, trailingDotsSpaces: false };

export class FoldingFs implements FullCommitFs {
  /** Every rename the commit asked for, as real paths after folding. */
  readonly renames: Array<{ from: string; to: string }> = [];

  constructor(
    private readonly root: string,
    private readonly rules: NameRules,
  ) {}

  /** The real path a name reaches: each component replaced by the existing entry it folds to, if any. */
  async real(file: string): Promise<string> {
    const relative = path.relative(this.root, file);
    if (relative.startsWith("..") || path.isAbsolute(relative)) return file;
    let current = this.root;
    for (const part of relative.split(path.sep).filter((piece) => piece !== "")) {
      const entries = await readdir(current).catch(() => [] as string[]);
      const key = foldPath(part, this.rules);
      current = path.join(current, entries.find((entry) => entry === part) ?? entries.find((entry) => foldPath(entry, this.rules) === key) ?? part);
    }
    return current;
  }

  rename = async (from: string, to: string): Promise<void> => {
    const [realFrom, realTo] = [await this.real(from), await this.real(to)];
    this.renames.push({ from: realFrom, to: realTo });
    await rename(realFrom, realTo);
  };
  mkdir = async (dir: string): Promise<unknown> => mkdir(await this.real(dir));
  rmdir = async (dir: string): Promise<void> => rmdir(await this.real(dir));
  writeFile = async (file: string, data: string): Promise<void> => writeFile(await this.real(file), data, { flag: "wx" });
  unlink = async (file: string): Promise<void> => unlink(await this.real(file));
  lstat = async (file: string) => lstat(await this.real(file));
  lstatIfAny = async (file: string) => lstat(await this.real(file)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  stat = async (file: string) => stat(await this.real(file));
  readdir = async (dir: string): Promise<string[]> => readdir(await this.real(dir));
  readFile = async (file: string): Promise<Buffer> => readFile(await this.real(file));
}
