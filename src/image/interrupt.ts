// How an install stopped by a signal reports itself. The CLI aborts the install's AbortSignal with the
// signal's name as the reason ("SIGINT"); whatever error the abort caused on its way out (an aborted
// download, an aborted wait) becomes one `interrupted` error that says what happened to the target.

import { MpipError } from "../errors.js";

export function signalName(signal: AbortSignal): string {
  return typeof signal.reason === "string" ? signal.reason : "a signal";
}

export function interruptedError(signal: AbortSignal, target: string, when = "", cause?: unknown): MpipError {
  return new MpipError("interrupted", `interrupted by ${signalName(signal)}${when}; nothing was changed in \`${target}\``, cause === undefined ? {} : { cause });
}

/**
 * The error to report when `error` ended an install: if the signal was aborted, an `interrupted` error,
 * unless it already is one or is an I/O failure (which says more about the target than the signal does).
 */
export function asInterrupted(error: unknown, signal: AbortSignal | undefined, target: string, when = ""): unknown {
  if (signal?.aborted !== true) return error;
  if (error instanceof MpipError && (error.code === "interrupted" || error.code === "io")) return error;
  return interruptedError(signal, target, when);
}
