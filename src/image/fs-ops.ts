// The filesystem operations a commit and its roll-back use on the target, behind an interface so that
// tests can make one fail (a full disk, a read-only folder, a process killed) at an exact step, or run
// the commit on a filesystem that folds names as FAT, macOS and Windows do. Only the operations that
// change something must be given; the ones that look default to Node's.

import type { Stats } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from "node:fs/promises";

export interface CommitFs {
  rename(from: string, to: string): Promise<void>;
  mkdir(dir: string): Promise<unknown>;
  rmdir(dir: string): Promise<void>;
  /** Creates a file that must not exist yet (`wx`): the name probe. */
  writeFile?(file: string, data: string): Promise<void>;
  unlink?(file: string): Promise<void>;
  lstat?(file: string): Promise<Stats>;
  stat?(file: string): Promise<Stats>;
  readdir?(dir: string): Promise<string[]>;
  readFile?(file: string): Promise<Buffer>;
}

export type FullCommitFs = Required<CommitFs>;

export const nodeFs: FullCommitFs = {
  rename,
  mkdir: (dir) => mkdir(dir),
  rmdir,
  writeFile: (file, data) => writeFile(file, data, { flag: "wx" }),
  unlink,
  lstat: (file) => lstat(file),
  stat: (file) => stat(file),
  readdir: (dir) => readdir(dir),
  readFile: (file) => readFile(file),
};

/** `fs` with Node's operations for whatever it leaves out. */
export function completeFs(fs: CommitFs = nodeFs): FullCommitFs {
  return { ...nodeFs, ...Object.fromEntries(Object.entries(fs).filter(([, value]) => value !== undefined)) } as FullCommitFs;
}
