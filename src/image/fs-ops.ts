// The filesystem operations a commit and its roll-back use on the target, behind an interface so that
// tests can make one fail (a full disk, a read-only folder, a process killed) at an exact step, or run
// the commit on a filesystem that folds names as FAT, macOS and Windows do. Only the operations that
// change something must be given; the ones that look default to Node's.

import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from "node:fs/promises";

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

/**
 * A file's size and sha256 (lowercase hex) through `fs`: with Node's `readFile`, read in chunks of
 * 64 KiB (a staged file may be megabytes, and the plan hashes several at once); with another one (a test's
 * filesystem), through it.
 */
export async function hashFile(fs: FullCommitFs, file: string): Promise<{ size: number; sha256: string }> {
  if (fs.readFile !== nodeFs.readFile) return digestOf(await fs.readFile(file));
  return hashInChunks(file);
}

/** The size in bytes and sha256 (lowercase hex) of bytes in memory. */
export function digestOf(data: Uint8Array): { size: number; sha256: string } {
  return { size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}

const HASH_CHUNK_BYTES = 64 * 1024;

/**
 * Read buffers given back by hashInChunks, for the next: at most as many are ever made as files are
 * hashed at once, where a buffer per file left megabytes of garbage on a wide install.
 */
const spareChunks: Buffer[] = [];

/**
 * A file's size and sha256 (lowercase hex), read in chunks of HASH_CHUNK_BYTES (a package's files may
 * be megabytes, and reading each whole would hold that much per file). Throws what the filesystem throws.
 */
export async function hashInChunks(file: string): Promise<{ size: number; sha256: string }> {
  const handle = await open(file, "r");
  try {
    const hash = createHash("sha256");
    const chunk = spareChunks.pop() ?? Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    let size = 0;
    try {
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        hash.update(chunk.subarray(0, bytesRead));
        size += bytesRead;
      }
    } finally {
      spareChunks.push(chunk);
    }
    return { size, sha256: hash.digest("hex") };
  } finally {
    await handle.close();
  }
}
