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
// waited (a pipe made smaller, or shared with another writer), the event loop is kept for one more turn,
// so that a signal that came meanwhile is handled (exit 130/143) rather than lost as the run ends.
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
/** A direct write that took longer than this waited for its reader: a signal may have come meanwhile. */
const WAITED_MS = 10;

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
  if (kind === "other" || switched[name] === "stream") {
    process[name].write(data);
    return;
  }
  if (kind === "pipe") pipeBytes += data.length;
  const started = Date.now();
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
  // A turn of the event loop in which a signal that came while the write waited is handled.
  if (Date.now() - started > WAITED_MS) setTimeout(() => {}, 0);
}
