// The filesystem operations a commit and its roll-back use on the target, behind an interface so that
// tests can make one fail (a full disk, a read-only folder, a process killed) at an exact step, or run
// the commit on a filesystem that folds names as FAT, macOS and Windows do. Only the operations that
// change something must be given; the ones that look default to Node's.

import * as crypto from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, type Stats } from "node:fs";
import { open, readFile } from "node:fs/promises";

export interface CommitFs {
  rename(from: string, to: string): Promise<void>;
  mkdir(dir: string): Promise<unknown>;
  rmdir(dir: string): Promise<void>;
  /** Creates a file that must not exist yet (`wx`): the name probe. */
  writeFile?(file: string, data: string): Promise<void>;
  unlink?(file: string): Promise<void>;
  lstat?(file: string): Promise<Stats>;
  /**
   * What `lstat` tells, or undefined where nothing is at the path (ENOENT): the commit asks this of each
   * new file's destination, where a miss is the rule. Derived from `lstat` when not given.
   */
  lstatIfAny?(file: string): Promise<Stats | undefined>;
  stat?(file: string): Promise<Stats>;
  readdir?(dir: string): Promise<string[]>;
  readFile?(file: string): Promise<Buffer>;
}

export type FullCommitFs = Required<CommitFs>;

/**
 * Node's operations. Each but `readFile` is made in one blocking call, behind the promise the interface
 * asks for: a commit, its plan and a roll-back make a hundred or more such calls on the target's folders
 * with nothing else to do meanwhile, and a call handed to libuv's threads costs more than the call
 * itself: a thread woken to make it and the main thread woken for its answer (0.1-0.4 ms of CPU per call
 * on a 2-core virtual machine). With these calls, the journal's and the staging folder's removal made
 * this way (and the folders' flushes too, since made side by side again: journal.ts `syncDir`), an
 * install of 21 small packages from a server answering at once took 371 ms where it took 411 (414 ms of
 * CPU where 471; medians of 21 alternating runs). A signal's handler runs only when the event loop
 * does: the commit lets it run every few milliseconds (commit.ts `HOLD_MS`).
 * A failure is the returned promise's, as before.
 */
export const nodeFs: FullCommitFs = {
  rename: async (from, to) => renameSync(from, to),
  mkdir: async (dir) => mkdirSync(dir),
  rmdir: async (dir) => rmdirSync(dir),
  writeFile: async (file, data) => writeFileSync(file, data, { flag: "wx" }),
  unlink: async (file) => unlinkSync(file),
  lstat: async (file) => lstatSync(file),
  // No error object for a miss (Node makes one with a full stack for every failing call: ~20 µs each).
  lstatIfAny: async (file) => lstatSync(file, { throwIfNoEntry: false }),
  stat: async (file) => statSync(file),
  readdir: async (dir) => readdirSync(dir),
  // A staged file may be megabytes: read without blocking (hashFile reads Node's in chunks anyway).
  readFile: (file) => readFile(file),
};

/**
 * Removes the folder `dir` only if it is empty (`rmdir`: `fs.rmdir` unless given); returns whether it went.
 * A folder that holds anything stays: ENOTEMPTY (EEXIST on some systems), or EPERM while the folder still
 * lists an entry, since not every filesystem says ENOTEMPTY (FAT through fusefat answers EPERM). Nothing at
 * the path (ENOENT) or no folder there (ENOTDIR): nothing to remove. Throws any other failure.
 */
export async function removeIfEmpty(fs: FullCommitFs, dir: string, rmdir: (dir: string) => Promise<void> = fs.rmdir): Promise<boolean> {
  try {
    await rmdir(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
    if (["ENOENT", "ENOTEMPTY", "EEXIST", "ENOTDIR"].includes(code)) return false;
    if (code !== "EPERM") throw error;
    const entries = await fs.readdir(dir).catch(() => undefined);
    if (entries !== undefined && entries.length > 0) return false;
    throw error;
  }
}

/** `fs` with Node's operations for whatever it leaves out. */
export function completeFs(fs: CommitFs = nodeFs): FullCommitFs {
  const full = { ...nodeFs, ...Object.fromEntries(Object.entries(fs).filter(([, value]) => value !== undefined)) } as FullCommitFs;
  // A filesystem with its own `lstat` answers `lstatIfAny` through it, never through Node's.
  if (fs.lstat !== undefined && fs.lstatIfAny === undefined) full.lstatIfAny = (file) => lstatIfAny(fs.lstat!, file);
  return full;
}

async function lstatIfAny(lstat: (file: string) => Promise<Stats>, file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") return undefined;
    throw error;
  }
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
  return { size: data.length, sha256: sha256Hex(data) };
}

/** Node's one-shot digest (20.12 and later): no Hash object made for each small buffer or key. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: "hex") => string }).hash;

/**
 * The sha256 of `data` (a string as UTF-8), lowercase hex. An install takes it of hundreds of small
 * things (each record file, each file unpacked whole, cache keys): where Node has `crypto.hash`, without
 * the Hash object `createHash` makes, a few microseconds each in a short run.
 */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot === undefined ? crypto.createHash("sha256").update(data).digest("hex") : oneShot("sha256", data, "hex");
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
    const hash = crypto.createHash("sha256");
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
