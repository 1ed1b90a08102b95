// Files that give their bytes once: a named pipe (`-r <(grep -v dev requirements.txt)` and `--cert
// <(cat ca.pem)` give `/dev/fd/63`), a terminal or another character device (`/dev/stdin`). They say no
// size before they are read and cannot be read again, so they are read whole, once, up to a cap.
//
// Nothing here blocks a thread: a pipe nobody writes to yet, or a terminal nobody types into, would hold a
// blocking open or read in libuv's thread pool for good, and Node joins that pool when it exits, so not even
// Ctrl-C or SIGTERM could end mpip. The file is opened without blocking, and a pipe or a terminal is read
// as Node reads sockets (readiness from the event loop); the wait then ends with the process.

import { close, constants, fstat, open, read, type Stats } from "node:fs";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { promisify } from "node:util";
import { MpipError } from "./errors.js";
import { signalName } from "./image/interrupt.js";
import { printable } from "./text.js";

const openFile = promisify(open);
const statFd = promisify(fstat);
const readFd = promisify(read);

/**
 * The bytes the pipe, terminal or other character device `file` gives until its end (the writer closes
 * its end; Ctrl-D on a terminal), read once; undefined when more than `maxBytes` come (reading stops
 * there: a device such as /dev/zero never ends). A pipe no writer has opened yet is waited for, until
 * `signal` (Ctrl-C, for an install: see signals.ts) aborts the wait.
 * @throws what opening or reading throws (NodeJS.ErrnoException); MpipError `interrupted` once `signal`
 *   is aborted.
 */
export async function readOnce(file: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer | undefined> {
  const stopped = () => signal?.aborted === true;
  if (stopped()) throw interrupted(file, signal!);
  const fd = await openFile(file, constants.O_RDONLY | constants.O_NONBLOCK);
  let info: Stats;
  try {
    info = await statFd(fd);
  } catch (error) {
    close(fd, () => {});
    throw error;
  }
  // node:net and node:tty are loaded only here (~3 ms): every run imports this module (through the HTTP
  // client's --cert), and few read a pipe or a character device.
  const load = createRequire(import.meta.url);
  const tty = () => load("node:tty") as typeof import("node:tty");
  if (info.isFIFO() || (info.isCharacterDevice() && tty().isatty(fd))) {
    const stream = info.isFIFO() ? new (load("node:net") as typeof import("node:net")).Socket({ fd, readable: true, writable: false }) : new (tty().ReadStream)(fd);
    return readStream(stream, maxBytes, signal, file);
  }
  // Another device (/dev/zero, /dev/null): always ready, so a read in the thread pool returns at once.
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (stopped()) throw interrupted(file, signal!);
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await readFd(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      total += bytesRead;
      if (total > maxBytes) return undefined;
      chunks.push(chunk.subarray(0, bytesRead));
    }
  } finally {
    close(fd, () => {});
  }
}

/** The error of a read of `file` that `signal` (a signal's name as its reason: signals.ts) stopped. */
function interrupted(file: string, signal: AbortSignal): MpipError {
  return new MpipError("interrupted", `interrupted by ${signalName(signal)} while waiting to read \`${printable(file)}\`; nothing was changed`);
}

/** What `stream` (which owns its file descriptor) gives until its end, or undefined past `maxBytes`; rejects when `signal` aborts. */
function readStream(stream: Socket, maxBytes: number, signal: AbortSignal | undefined, file: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const aborted = () => finish(() => reject(interrupted(file, signal!)));
    const finish = (settle: () => void) => {
      signal?.removeEventListener("abort", aborted);
      stream.destroy();
      settle();
    };
    // A signal that came while the file was being opened has fired its event already.
    if (signal?.aborted === true) {
      aborted();
      return;
    }
    signal?.addEventListener("abort", aborted, { once: true });
    stream.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) finish(() => resolve(undefined));
      else chunks.push(chunk);
    });
    stream.once("end", () => finish(() => resolve(Buffer.concat(chunks, total))));
    stream.once("error", (error) => finish(() => reject(error)));
  });
}
