// Reading a file from a folder mpip did not make (a project folder, a cloned repo, an image): it may be a
// link to a device (`/dev/zero` never ends), a FIFO (opening it waits for a writer forever) or simply
// huge. Only a regular file is opened for reading, and only within a size limit is it read whole;
// everything else is said, never tried. The one place mpip opens such files.

import { closeSync, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { constants, open, type FileHandle } from "node:fs/promises";

/** How long to wait before each new try of a call that found no file descriptor free (ms): 2.5 s in all. */
const DESCRIPTOR_WAITS_MS = [5, 10, 20, 40, 80, 160, 320, 640, 1280];

/**
 * `call` (one that opens a file or a folder), tried again while it fails for want of a file descriptor
 * (EMFILE: this process's limit; ENFILE: the system's), which the process's other work gives back as it
 * goes. Near the limit, a read side by side with others would otherwise fail as if the file were
 * unreadable: a record read as broken, its package taken for not installed. Throws the last failure.
 */
export async function whileDescriptorsRunOut<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const wait = DESCRIPTOR_WAITS_MS[attempt];
      if ((code !== "EMFILE" && code !== "ENFILE") || wait === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Why a file was not opened. `link`: it is a symbolic link and `follow` was false. */
export type NotOpened = { kind: "missing" } | { kind: "link" } | { kind: "not-regular" } | { kind: "unreadable"; error: NodeJS.ErrnoException };

/**
 * Opens `file` for reading when it is a regular file: without blocking (a FIFO cannot hang the open),
 * following a link only when `follow` is true, and judging what was opened (a link swapped in between is
 * judged too). The caller closes the handle. Never throws.
 */
export async function openRegularFile(file: string, options: { follow: boolean }): Promise<{ kind: "opened"; handle: FileHandle; stats: Stats } | NotOpened> {
  let handle: FileHandle;
  try {
    handle = await whileDescriptorsRunOut(() => open(file, openFlags(options)));
  } catch (error) {
    return notOpened(error as NodeJS.ErrnoException, options);
  }
  try {
    const stats = await handle.stat();
    if (stats.isFile()) return { kind: "opened", handle, stats };
    await handle.close().catch(() => undefined);
    return { kind: "not-regular" };
  } catch (error) {
    await handle.close().catch(() => undefined);
    return { kind: "unreadable", error: error as NodeJS.ErrnoException };
  }
}

/**
 * The bytes of a regular file, read in turns. Room for the size the stat gave and one byte more, to see
 * the end; a file that grew since is read on into more room, up to one byte past the limit: caught
 * without reading it all. (Room for the limit itself, zeroed, cost each read of a 1 KiB record file a
 * 16 MiB buffer.)
 */
class Filling {
  private buffer: Buffer;
  private length = 0;
  private ended = false;
  private lastAsked = 0;

  constructor(private readonly stats: Stats, private readonly maxBytes: number) {
    this.buffer = Buffer.allocUnsafe(stats.size + 1);
  }

  /** Where the next read goes, or undefined when no more is to be read. */
  room(): { buffer: Buffer; offset: number; length: number } | undefined {
    if (this.ended || this.length > this.maxBytes) return undefined;
    if (this.length === this.buffer.length) {
      const larger = Buffer.allocUnsafe(Math.min(this.maxBytes + 1, 2 * this.buffer.length));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
    }
    this.lastAsked = this.buffer.length - this.length;
    return { buffer: this.buffer, offset: this.length, length: this.lastAsked };
  }

  /** Takes the count of bytes the last read into `room()` gave. */
  took(bytesRead: number): void {
    this.length += bytesRead;
    // A regular file reads short only at its end: at the size the stat gave, no read more is needed to see it.
    this.ended = bytesRead === 0 || (bytesRead < this.lastAsked && this.length === this.stats.size);
  }

  result(): SmallFile {
    if (this.length > this.maxBytes) return { kind: "too-large", size: this.length };
    return { kind: "read", data: this.buffer.subarray(0, this.length), stats: this.stats };
  }
}

/** What reading gave: the bytes, or why there are none. */
export type SmallFile = { kind: "read"; data: Buffer; stats: Stats } | NotOpened | { kind: "too-large"; size: number };

/** Reads a regular `file` of at most `maxBytes` bytes whole (see openRegularFile). Never throws. */
export async function readSmallFile(file: string, maxBytes: number, options: { follow: boolean } = { follow: true }): Promise<SmallFile> {
  const opened = await openRegularFile(file, options);
  if (opened.kind !== "opened") return opened;
  const { handle, stats } = opened;
  try {
    if (stats.size > maxBytes) return { kind: "too-large", size: stats.size };
    const filling = new Filling(stats, maxBytes);
    for (let room = filling.room(); room !== undefined; room = filling.room()) {
      filling.took((await handle.read(room.buffer, room.offset, room.length, null)).bytesRead);
    }
    return filling.result();
  } catch (error) {
    return { kind: "unreadable", error: error as NodeJS.ErrnoException };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * `openRegularFile` in blocking calls: the same checks and answers, with the file's descriptor, which
 * the caller closes. Where no file descriptor is free (EMFILE, ENFILE), it answers `unreadable` at once,
 * with that error (`outOfDescriptors`): a caller that can wait tries `openRegularFile`. Never throws.
 */
export function openRegularFileSync(file: string, options: { follow: boolean }): { kind: "opened"; fd: number; stats: Stats } | NotOpened {
  let fd: number;
  try {
    fd = openSync(file, openFlags(options));
  } catch (error) {
    return notOpened(error as NodeJS.ErrnoException, options);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isFile()) return { kind: "opened", fd, stats };
    closeQuietly(fd);
    return { kind: "not-regular" };
  } catch (error) {
    closeQuietly(fd);
    return { kind: "unreadable", error: error as NodeJS.ErrnoException };
  }
}

/** Read only, without waiting (a FIFO cannot hang the open), through a link only when `follow` is true. */
function openFlags(options: { follow: boolean }): number {
  return constants.O_RDONLY | constants.O_NONBLOCK | (options.follow ? 0 : constants.O_NOFOLLOW ?? 0);
}

/** Why an open (with openFlags) failed: nothing there, a link not followed, or the error. */
function notOpened(error: NodeJS.ErrnoException, options: { follow: boolean }): NotOpened {
  if (error.code === "ENOENT" || error.code === "ENOTDIR") return { kind: "missing" };
  if (error.code === "ELOOP" && !options.follow) return { kind: "link" };
  return { kind: "unreadable", error };
}

/** Whether a failure to open is for want of a file descriptor (EMFILE: the process's; ENFILE: the system's). */
export function outOfDescriptors(error: NodeJS.ErrnoException): boolean {
  return error.code === "EMFILE" || error.code === "ENFILE";
}

/**
 * `readSmallFile` in blocking calls, for a small file read on the way of the run's work, which in
 * libuv's queue would wait behind other calls (a look-up in the download cache before each request):
 * the same checks, the same answers. Where no file descriptor is free, it answers `unreadable` with
 * that error (see openRegularFileSync). Never throws.
 */
export function readSmallFileSync(file: string, maxBytes: number, options: { follow: boolean } = { follow: true }): SmallFile {
  const opened = openRegularFileSync(file, options);
  if (opened.kind !== "opened") return opened;
  const { fd, stats } = opened;
  try {
    if (stats.size > maxBytes) return { kind: "too-large", size: stats.size };
    const filling = new Filling(stats, maxBytes);
    for (let room = filling.room(); room !== undefined; room = filling.room()) {
      filling.took(readSync(fd, room.buffer, room.offset, room.length, null));
    }
    return filling.result();
  } catch (error) {
    return { kind: "unreadable", error: error as NodeJS.ErrnoException };
  } finally {
    closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
}
