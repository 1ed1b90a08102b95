// Writing to stdout and stderr without Node's stream objects where they add nothing.
//
// Node makes `process.stdout` and `process.stderr` when first asked for them: for a pipe, a net.Socket
// (loading node:net and the stream modules), 3-8 ms of a run that otherwise takes ~20 ms beyond Node's
// own start (`mpip --help | less`, a CI log, any program reading mpip's output). On a pipe, a socket or a
// regular file, those objects write at once when they can (Node's docs: synchronous for files, and for
// pipes and sockets on Linux), so writing to the descriptor directly, in one blocking call, gives the
// reader the same bytes in the same order. A terminal or any other device, and every descriptor on
// Windows, keeps Node's stream: it knows the terminal's width and colours, and its writes may be queued.
//
// A write the descriptor does not take at once (EAGAIN: a descriptor left non-blocking, whose reader is
// behind) goes to Node's stream with everything after it, which queues it; so does any other failure,
// which the stream then reports as it always did. A reader that has gone (EPIPE: `mpip --help | head -1`)
// is not mpip's failure: the rest is dropped, as bin/mpip.js has the streams do.

import { fstatSync, writeSync } from "node:fs";

export type StandardStream = "stdout" | "stderr";

const DESCRIPTORS: Record<StandardStream, number> = { stdout: 1, stderr: 2 };

/** Per stream: `direct` (written to the descriptor), `stream` (through Node's object), `gone` (EPIPE). */
const modes: Partial<Record<StandardStream, "direct" | "stream" | "gone">> = {};

/** How `name` is written, decided on first use from what its descriptor is (see the top of this file). */
function modeOf(name: StandardStream): "direct" | "stream" | "gone" {
  let mode = modes[name];
  if (mode === undefined) {
    mode = "stream";
    if (process.platform !== "win32") {
      try {
        const info = fstatSync(DESCRIPTORS[name]);
        if (info.isFIFO() || info.isSocket() || info.isFile()) mode = "direct";
      } catch {
        // A closed or odd descriptor: Node's stream says what becomes of it.
      }
    }
    modes[name] = mode;
  }
  return mode;
}

/**
 * Whether `name` may be a terminal: false only for a pipe, a socket or a regular file, which are not
 * (asked without making Node's stream object); where true, ask the stream (`isTTY`).
 */
export function mayBeTerminal(name: StandardStream): boolean {
  return modeOf(name) === "stream";
}

/**
 * Writes `text` (UTF-8) to stdout or stderr: straight to the descriptor when it is a pipe, a socket or a
 * regular file, else through `process[name]`. Never throws for a reader that has gone (EPIPE); any other
 * failure is left to Node's stream, which raises it as an `error` event.
 */
export function writeStandard(name: StandardStream, text: string): void {
  const mode = modeOf(name);
  if (mode === "gone") return;
  if (mode === "stream") {
    process[name].write(text);
    return;
  }
  const data = Buffer.from(text, "utf8");
  let written = 0;
  while (written < data.length) {
    try {
      written += writeSync(DESCRIPTORS[name], data, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EPIPE") {
        modes[name] = "gone";
        return;
      }
      modes[name] = "stream";
      process[name].write(data.subarray(written));
      return;
    }
  }
}
