// Where a download's bytes go as they arrive. Archives and documents go to memory (the exact gzip
// window scan parses the whole deflate stream, and a document is parsed whole); a package document's
// files and modules go straight to their file in the staging folder, hashed on the way, so that they
// never sit in memory whatever their size. A retry starts the sink over.

import { createHash, type Hash } from "node:crypto";
import { createReadStream, writeSync } from "node:fs";
import { open, unlink, type FileHandle } from "node:fs/promises";

export interface BodySink<T> {
  /** An attempt starts (again): forget what earlier attempts wrote. `declared`: the size announced, if any. */
  begin(declared: number | undefined): void | Promise<void>;
  write(chunk: Buffer): void | Promise<void>;
  /** Every byte has come: what was received. */
  end(): T | Promise<T>;
}

/** Collects the body in memory; a declared size is allocated once, so the bytes are never copied twice. */
export class MemorySink implements BodySink<Buffer> {
  private chunks: Buffer[] = [];
  private whole: Buffer | undefined;
  private length = 0;

  begin(declared: number | undefined): void {
    this.chunks = [];
    this.length = 0;
    this.whole = declared === undefined || declared === 0 ? undefined : Buffer.allocUnsafe(declared);
  }

  write(chunk: Buffer): void {
    if (this.whole !== undefined && this.length + chunk.length <= this.whole.length) chunk.copy(this.whole, this.length);
    else {
      if (this.whole !== undefined) this.chunks.push(this.whole.subarray(0, this.length)); // more than declared: the caller refuses it
      this.whole = undefined;
      this.chunks.push(chunk);
    }
    this.length += chunk.length;
  }

  end(): Buffer {
    if (this.whole !== undefined) return this.length === this.whole.length ? this.whole : this.whole.subarray(0, this.length);
    return Buffer.concat(this.chunks, this.length);
  }
}

export interface Stored {
  bytes: number;
  sha256: string;
}

/**
 * Writes the body to a new file (created exclusively: a file already there is an error, never
 * overwritten), hashing it on the way. Failures to write are turned into errors by `failure`, which
 * names the file as the caller knows it. `discard()` removes a file whose download failed.
 */
export class FileSink implements BodySink<Stored> {
  private position = 0;
  private hash: Hash = createHash("sha256");

  private constructor(private readonly file: string, private readonly handle: FileHandle, private readonly failure: (error: unknown) => Error) {}

  static async create(file: string, failure: (error: unknown) => Error): Promise<FileSink> {
    const handle = await open(file, "wx").catch((error: unknown) => {
      throw failure(error);
    });
    return new FileSink(file, handle, failure);
  }

  async begin(): Promise<void> {
    this.hash = createHash("sha256");
    if (this.position === 0) return;
    this.position = 0;
    await this.handle.truncate(0).catch((error: unknown) => {
      throw this.failure(error);
    });
  }

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    try {
      this.position = await writeAllAt(this.handle, chunk, this.position);
    } catch (error) {
      throw this.failure(error);
    }
  }

  end(): Stored {
    return { bytes: this.position, sha256: this.hash.digest("hex") };
  }

  /** The hex digest in `algorithm` (a node:crypto name) of what was written, read back from the file as it streams. */
  async digestOf(algorithm: string): Promise<string> {
    const hash = createHash(algorithm);
    if (this.position > 0) for await (const chunk of createReadStream(this.file, { start: 0, end: this.position - 1 })) hash.update(chunk as Buffer);
    return hash.digest("hex");
  }

  async close(): Promise<void> {
    await this.handle.close().catch((error: unknown) => {
      throw this.failure(error);
    });
  }

  /** Closes and removes the file: what a failed download leaves is not kept. */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.file).catch(() => undefined);
  }
}

/**
 * Writes all of `chunk` at `position` of `handle` (a write may take fewer bytes than given) and returns
 * the position after it. Throws what the write throws; the bytes written before a failure stay written.
 */
export async function writeAllAt(handle: FileHandle, chunk: Buffer, position: number): Promise<number> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position);
    offset += bytesWritten;
    position += bytesWritten;
  }
  return position;
}

/**
 * Writes all of `chunk` at `position` of the file descriptor `fd` in blocking calls (a write may take
 * fewer bytes than given) and returns the position after it. Throws what the write throws.
 */
export function writeAllAtSync(fd: number, chunk: Buffer, position: number): number {
  for (let offset = 0; offset < chunk.length; ) {
    const written = writeSync(fd, chunk, offset, chunk.length - offset, position);
    offset += written;
    position += written;
  }
  return position;
}
