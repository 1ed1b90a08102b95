// Writing to stdout and stderr without Node's stream objects where they add nothing.
//
// Node makes `process.stdout` and `process.stderr` when first asked for them: for a pipe, a net.Socket
// (loading node:net and the stream modules), 3-8 ms of a run that otherwise takes ~20 ms beyond Node's
// own start (`mpip --help | less`, a CI log, any program reading mpip's output). On a regular file, a
// pipe or a socket, those objects write at once when they can (Node's docs: synchronous for files, and for
// pipes and sockets on Linux), so writing to the descriptor directly, in one blocking call, gives the
// reader the same bytes in the same order. A terminal or any other device, and every descriptor on
// Windows, keeps Node's stream: it knows the terminal's width and colours, and its writes may be queued.
//
// A blocking write waits while a pipe is full (its reader is behind), and a signal that comes meanwhile
// is handled only once it returns (Node's stream would have queued the bytes and handled it at once). So
// a pipe or a socket is written directly only up to DIRECT_PIPE_BYTES in all, which the smallest default
// pipe (16 KiB, macOS; Linux's is 64 KiB) takes even from a reader that reads nothing: help, messages and
// most reports. Beyond that, and for anything written after, Node's stream. Should a write still have
// waited (a pipe made smaller, or shared with another writer), a signal that came meanwhile is handled
// only on a later turn of the event loop: after every write to a pipe, the loop is kept for one more turn
// (one at a time, less than a millisecond), so that the signal ends the run (exit 130/143) rather than
// being lost as it ends. Whether a write waited cannot be told from its duration: a reader that drains the
// pipe at once unblocks it within microseconds (a wait of 10 ms or more was the test once, and lost the
// signal in 7 runs of 8 that were interrupted while a 4 KiB pipe was full).
//
// A write the descriptor does not take at once (EAGAIN: a descriptor left non-blocking, whose reader is
// behind) goes to Node's stream with everything after it, which queues it; so does any other failure,
// which the stream then reports as it always did. A reader that has gone (EPIPE: `mpip --help | head -1`)
// is not mpip's failure: the rest is dropped, as bin/mpip.js has the streams do.

import { fstatSync, writeSync } from "node:fs";

export type StandardStream = "stdout" | "stderr";

const DESCRIPTORS: Record<StandardStream, number> = { stdout: 1, stderr: 2 };

/** How much is written directly to pipes and sockets, stdout's and stderr's together (see the top of this file). */
const DIRECT_PIPE_BYTES = 16 * 1024;
/** Whether a turn of the event loop is already kept for a signal that came while a pipe was written. */
let turnKept = false;

/** What each stream's descriptor is: a regular `file`, a `pipe` (or socket), or `other` (a terminal, a device, closed; any on Windows). */
const kinds: Partial<Record<StandardStream, "file" | "pipe" | "other">> = {};
/** Streams written through Node's object from now on (`stream`), or not at all (`gone`: EPIPE). */
const switched: Partial<Record<StandardStream, "stream" | "gone">> = {};
/** Bytes written directly to pipes and sockets so far. */
let pipeBytes = 0;

/** What `name`'s descriptor is, found on first use (see the top of this file). */
function kindOf(name: StandardStream): "file" | "pipe" | "other" {
  let kind = kinds[name];
  if (kind === undefined) {
    kind = "other";
    if (process.platform !== "win32") {
      try {
        const info = fstatSync(DESCRIPTORS[name]);
        if (info.isFile()) kind = "file";
        else if (info.isFIFO() || info.isSocket()) kind = "pipe";
      } catch {
        // A closed or odd descriptor: Node's stream says what becomes of it.
      }
    }
    kinds[name] = kind;
  }
  return kind;
}

/**
 * Whether `name` may be a terminal: false only for a pipe, a socket or a regular file, which are not
 * (asked without making Node's stream object); where true, ask the stream (`isTTY`).
 */
export function mayBeTerminal(name: StandardStream): boolean {
  return kindOf(name) === "other";
}

/**
 * Writes `text` (UTF-8) to stdout or stderr: straight to the descriptor when it is a regular file, or a
 * pipe or socket within DIRECT_PIPE_BYTES, else through `process[name]`. Never throws for a reader that
 * has gone (EPIPE); any other failure is left to Node's stream, which raises it as an `error` event.
 */
export function writeStandard(name: StandardStream, text: string): void {
  const kind = kindOf(name);
  if (switched[name] === "gone") return;
  const data = Buffer.from(text, "utf8");
  if (kind === "pipe" && switched[name] === undefined && pipeBytes + data.length > DIRECT_PIPE_BYTES) switched[name] = "stream";
  if (kind === "pipe") keepTurnForSignals();
  if (kind === "other" || switched[name] === "stream") {
    process[name].write(data);
    return;
  }
  if (kind === "pipe") pipeBytes += data.length;
  let written = 0;
  while (written < data.length) {
    try {
      written += writeSync(DESCRIPTORS[name], data, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EPIPE") {
        switched[name] = "gone";
        break;
      }
      switched[name] = "stream";
      process[name].write(data.subarray(written));
      break;
    }
  }
}

/** Keeps the event loop for one more turn, in which a signal that came while a pipe was written is handled. */
function keepTurnForSignals(): void {
  if (turnKept) return;
  turnKept = true;
  setImmediate(() => {
    turnKept = false;
  });
}
