// The content-addressed part of the cache: every downloaded file's bytes, named by their full sha256
// (`content/sha256/ab/abcdef…`). An entry is trusted for nothing but its name: it is hashed again each
// time it is read, and one that does not hash to its name (truncated, altered, or not a regular file at
// all: a folder, a link) is dropped, so that the caller fetches the file again. New entries are written
// under a temporary name in the cache's `tmp/` folder (same file system) and renamed into place, so a
// reader never sees half an entry, and two runs writing the same entry each write all of it.

import { createHash, randomBytes, type Hash } from "node:crypto";
import { closeSync, ftruncateSync, openSync, readSync, renameSync, unlinkSync, utimesSync, type Stats } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { Draw } from "../budget.js";
import { FolderMaker } from "../image/make-dirs.js";
import { openRegularFile, openRegularFileSync, outOfDescriptors, type NotOpened } from "../local-file.js";
import { writeAllAtSync, type BodySink } from "../sink.js";

/** `abcdef…` (64 lower-case hex digits) when `sha256` is a whole sha256, else undefined (mip's short hashes). */
export function fullSha256(sha256: string | undefined): string | undefined {
  const lower = sha256?.toLowerCase();
  return lower !== undefined && /^[0-9a-f]{64}$/.test(lower) ? lower : undefined;
}

/** What reading an entry may draw on, and the error for one larger than the caller accepts. */
export interface ReadLimits {
  maxBytes: number;
  draw: Draw;
  /** Thrown for an entry that is the right file but larger than `maxBytes` (as the download would be). */
  tooLarge: () => Error;
}

/** How the store tells about what it does on its own (for -v) and about a cache it cannot write. */
export interface StoreEvents {
  note(message: string): void;
  cannotWrite(error: unknown): void;
}

const READ_CHUNK_BYTES = 64 * 1024;

export class ContentStore {
  /** The folders this run made in the store (each asked for once). */
  readonly folders = new FolderMaker();

  /** `root`: the store's folder (`<cache>/content`); `tmp`: where new entries are written first. */
  constructor(readonly root: string, private readonly tmp: string, private readonly events: StoreEvents) {}

  /** The entry's path for a full sha256 (lower-case hex). */
  pathOf(sha256: string): string {
    return path.join(this.root, "sha256", sha256.slice(0, 2), sha256);
  }

  /**
   * The entry for `sha256` read into `sink` (begun with its size), drawing on `limits.draw`; undefined
   * when there is none or it is bad (then it is dropped, with a note). The bytes handed to the sink are
   * hashed on the way: a mismatch is found at the end, and the caller must begin the sink again (every
   * sink starts over on `begin`), after refunding the draw. Reading marks the entry as used (its mtime),
   * for `mpip cache clean --older-than`.
   * @throws `limits.tooLarge()` for a good entry over `limits.maxBytes`; the sink's and the budget's errors.
   */
  async readInto<T>(sha256: string, sink: BodySink<T>, limits: ReadLimits): Promise<T | undefined> {
    const file = this.pathOf(sha256);
    const opened = await openEntry(file);
    switch (opened.kind) {
      case "missing":
        return undefined;
      case "link":
        await this.drop(file, "is a symbolic link");
        return undefined;
      case "not-regular":
        await this.drop(file, "is not a regular file");
        return undefined;
      case "unreadable":
        return this.unreadable(file, opened.error);
      case "opened":
        break;
    }
    const { reader, stats } = opened;
    try {
      if (stats.size > limits.maxBytes) {
        // The right file, larger than the caller takes (the download would be refused too); a bad entry is dropped.
        const whole = await hashEntry(reader).catch(() => undefined);
        if (whole === undefined) return this.unreadable(file);
        if (whole === sha256) throw limits.tooLarge();
      } else {
        await limits.draw.cover(stats.size);
        await sink.begin(stats.size);
        const hash = createHash("sha256");
        let total = 0;
        for (;;) {
          const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
          // A read error of the file system is the cache's, not the install's: fetch again.
          const bytesRead = await reader.read(chunk).catch(() => undefined);
          if (bytesRead === undefined) return this.unreadable(file);
          if (bytesRead === 0) break;
          total += bytesRead;
          if (total > stats.size) break; // it grew while being read: not a finished entry
          hash.update(chunk.subarray(0, bytesRead));
          await sink.write(chunk.subarray(0, bytesRead));
        }
        if (total === stats.size && hash.digest("hex") === sha256) {
          const body = await sink.end();
          try {
            const now = new Date();
            utimesSync(file, now, now);
          } catch {
            // Only a mark of use, for `mpip cache clean --older-than`.
          }
          return body;
        }
      }
    } finally {
      await reader.close().catch(() => undefined);
    }
    await this.drop(file, "does not hash to its name (cut short or altered)");
    return undefined;
  }

  /** A writer for one new entry, named by its hash once its bytes are all written. */
  writer(): StoreWriter {
    return new StoreWriter(this, this.tmp, this.events);
  }

  private unreadable(file: string, error?: NodeJS.ErrnoException): undefined {
    this.events.note(`the cache entry \`${file}\` cannot be read${error === undefined ? "" : ` (${error.code ?? error.message})`}; fetching it again`);
    return undefined;
  }

  /** Removes a bad entry (whatever it is: a file, a link, a folder), with a note for -v. */
  private async drop(file: string, why: string): Promise<void> {
    this.events.note(`the cache entry \`${file}\` ${why}; it is dropped and fetched again`);
    await rm(file, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Writes one entry: bytes go to a temporary file as they arrive, hashed on the way; `commit` renames it
 * to its hash's name. Any failure to write turns the writer off (the cache is an optimisation: the
 * download goes on) and is told once through `events.cannotWrite`. `begin` starts over (a retry).
 *
 * Its file operations are blocking calls, behind the download (TeeSink): an entry is a few small writes
 * and a rename, each a fraction of what the same call costs the main thread through fs.promises (a
 * promise, a FileHandle, a trip through libuv's thread pool): a cold install of 21 packages (63 entries)
 * takes 20-35 ms less CPU (bench/cpu-path.ts --compare). On a network disk, the run waits for each call.
 */
export class StoreWriter {
  private fd: number | undefined;
  private file: string | undefined;
  private hash: Hash = createHash("sha256");
  private position = 0;
  private failed = false;

  constructor(private readonly store: ContentStore, private readonly tmp: string, private readonly events: StoreEvents) {}

  async begin(): Promise<void> {
    if (this.failed) return;
    this.hash = createHash("sha256");
    try {
      if (this.fd === undefined) {
        this.store.folders.makeSync(this.tmp);
        this.file = path.join(this.tmp, `${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
        try {
          this.fd = openSync(this.file, "wx", 0o600);
        } catch (error) {
          this.store.folders.forget(this.tmp); // removed meanwhile (`mpip cache clean`): asked for again next time
          throw error;
        }
      } else if (this.position > 0) {
        ftruncateSync(this.fd, 0);
      }
      this.position = 0;
    } catch (error) {
      this.fail(error);
    }
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failed || this.fd === undefined) return;
    this.hash.update(chunk);
    try {
      this.position = writeAllAtSync(this.fd, chunk, this.position);
    } catch (error) {
      this.fail(error);
    }
  }

  /**
   * Puts the bytes written into the store under their sha256; returns it with their count, or undefined
   * when nothing was stored (writing failed, or `expected` is given and the bytes do not have it: they
   * are not kept).
   */
  async commit(expected?: string): Promise<{ sha256: string; bytes: number } | undefined> {
    if (this.failed || this.fd === undefined || this.file === undefined) return undefined;
    const sha256 = this.hash.digest("hex");
    if (expected !== undefined && expected !== sha256) {
      this.discard();
      return undefined;
    }
    try {
      closeSync(this.fd);
      this.fd = undefined;
      renameIntoSync(this.file, this.store.pathOf(sha256), this.store.folders);
      this.file = undefined;
      return { sha256, bytes: this.position };
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  /** Leaves nothing behind: the download failed, or was not what it should be. */
  discard(): void {
    this.failed = true;
    if (this.fd !== undefined) ignoreFailure(() => closeSync(this.fd!));
    this.fd = undefined;
    if (this.file !== undefined) ignoreFailure(() => unlinkSync(this.file!));
    this.file = undefined;
  }

  private fail(error: unknown): void {
    this.discard();
    // ENOENT: `mpip cache clean` removed the temporary file or its folder meanwhile; nothing is wrong.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") this.events.note("an entry being written was removed from the cache meanwhile; it is not cached");
    else this.events.cannotWrite(error);
  }
}

/** Runs `call`, whose failure leaves nothing to do (a file already closed or gone). */
export function ignoreFailure(call: () => void): void {
  try {
    call();
  } catch {
    // nothing to do
  }
}

/** How many bytes one TeeSink lets wait for the store before its download waits for it. */
const TEE_BACKLOG_BYTES = 256 * 1024;
/** How many bytes all TeeSinks together let wait for the store before a download with any waiting waits. */
const TEES_BACKLOG_BYTES = 4 * 1024 * 1024;
/** The bytes waiting for the store across every TeeSink of the process. */
let teesWaiting = 0;

/**
 * A sink that hands every byte to `inner` and to a store writer too: a download is written to the
 * cache as it arrives, whatever the caller does with it. The store's writes run behind the download,
 * in their order, so that the answer is not held up by the disk (a cache entry takes a temporary file,
 * its writes and a rename: several trips to the disk per request, which at every level of a resolution
 * added up to tens of milliseconds). What waits is held in memory, so a download waits for its own
 * writes when more than TEE_BACKLOG_BYTES of it wait, or more than TEES_BACKLOG_BYTES of all downloads
 * do (a fast server and a slow disk would otherwise hold every body at once). Its `commit` and
 * `discard` (not the writer's own) wait for the writes; the sink lets go of `inner` once it has ended,
 * so a commit still running does not hold the body the caller has taken.
 */
export class TeeSink<T> implements BodySink<T> {
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;
  private inner: BodySink<T> | undefined;

  constructor(inner: BodySink<T>, private readonly writer: StoreWriter) {
    this.inner = inner;
  }

  async begin(declared: number | undefined): Promise<void> {
    this.behind(() => this.writer.begin(), 0);
    await this.sink().begin(declared);
  }

  async write(chunk: Buffer): Promise<void> {
    await this.sink().write(chunk);
    this.behind(() => this.writer.write(chunk), chunk.length);
    if (this.waiting > TEE_BACKLOG_BYTES || (this.waiting > 0 && teesWaiting > TEES_BACKLOG_BYTES)) await this.queue;
  }

  end(): T | Promise<T> {
    const inner = this.sink();
    this.inner = undefined;
    return inner.end();
  }

  /** The writer's `commit`, once it has written every byte given to it (see StoreWriter.commit). */
  async commit(expected?: string): Promise<{ sha256: string; bytes: number } | undefined> {
    await this.queue;
    return this.writer.commit(expected);
  }

  /**
   * The writer's `discard`, at once: the writes still waiting behind the download then do nothing (the
   * writer is off), so that a download given up (a failure, an interrupt) does not wait for a slow disk
   * to write what is removed next. Resolves once they have all passed: nothing is left behind.
   */
  async discard(): Promise<void> {
    this.writer.discard();
    await this.queue;
  }

  private sink(): BodySink<T> {
    if (this.inner === undefined) throw new Error("the download's sink was used after it ended");
    return this.inner;
  }

  private behind(work: () => Promise<void>, bytes: number): void {
    this.waiting += bytes;
    teesWaiting += bytes;
    this.queue = this.queue.then(work).finally(() => {
      this.waiting -= bytes;
      teesWaiting -= bytes;
    });
  }
}

/**
 * Renames `from` to `to` in blocking calls, making `to`'s folder first (through `folders`, once per run).
 * A folder removed in between (by `mpip cache clean` in another process, which removes empty folders) is
 * made again, a few times.
 */
export function renameIntoSync(from: string, to: string, folders = new FolderMaker()): void {
  const dir = path.dirname(to);
  for (let tries = 1; ; tries++) {
    folders.makeSync(dir);
    try {
      renameSync(from, to);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || tries >= 3) throw error;
      folders.forget(dir);
    }
  }
}

/** An entry opened for reading, through a descriptor read in blocking calls or a FileHandle (openEntry). */
interface EntryReader {
  /** Reads into `buffer` from where the last read ended; resolves with the bytes read (0 at the end). */
  read(buffer: Buffer): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens the entry `file` as a regular file, not through a link (openRegularFile's checks). In blocking
 * calls, and its reads too (a chunk at a time, the sink's writes between them): a download waits for this
 * look-up before it is sent, and in libuv's queue it waited behind the cache's writes of the answers just
 * received (0.3-5.6 ms for each archive of a 21-package install, at every level). Where no file
 * descriptor is free, opened the way that waits for one.
 */
async function openEntry(file: string): Promise<{ kind: "opened"; reader: EntryReader; stats: Stats } | NotOpened> {
  const opened = openRegularFileSync(file, { follow: false });
  if (opened.kind === "opened") {
    const { fd, stats } = opened;
    return { kind: "opened", stats, reader: { read: async (buffer) => readSync(fd, buffer, 0, buffer.length, null), close: async () => closeSync(fd) } };
  }
  if (opened.kind !== "unreadable" || !outOfDescriptors(opened.error)) return opened;
  const waited = await openRegularFile(file, { follow: false });
  if (waited.kind !== "opened") return waited;
  const { handle, stats } = waited;
  return { kind: "opened", stats, reader: { read: async (buffer) => (await handle.read(buffer, 0, buffer.length, null)).bytesRead, close: () => handle.close() } };
}

async function hashEntry(reader: EntryReader): Promise<string> {
  const hash = createHash("sha256");
  const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  for (;;) {
    const bytesRead = await reader.read(chunk);
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
  }
  return hash.digest("hex");
}
