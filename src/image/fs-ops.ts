// The filesystem operations that change the target during a commit or a roll-back, behind an
// interface so that tests can make one fail (a full disk, a read-only folder) at an exact step.

import { mkdir, rename, rmdir } from "node:fs/promises";

export interface CommitFs {
  rename(from: string, to: string): Promise<void>;
  mkdir(dir: string): Promise<unknown>;
  rmdir(dir: string): Promise<void>;
}

export const nodeFs: CommitFs = { rename, mkdir: (dir) => mkdir(dir), rmdir };
