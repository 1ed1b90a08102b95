// Is the process that wrote a lock (or started a compiler) still the one running under that pid?
// A pid alone can be reused after its process dies; where the system tells when a process started
// (Linux's /proc/<pid>/stat), that start time goes with the pid, and a different one means another
// process has the pid now. Elsewhere only "is some process running with that pid" can be asked.

import { readFileSync } from "node:fs";
import { errnoCode } from "./io-error.js";

/** A process as mpip records it: its pid and, where known, when it started (an opaque token). */
export interface ProcessIdentity {
  pid: number;
  start?: string;
}

/** When `pid` started, in clock ticks since boot (Linux), or undefined where that cannot be read. */
export function processStart(pid: number): string | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) is in parentheses and may hold spaces or ')': fields go on after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const start = fields[19]; // field 22, starttime; the slice begins at field 3
    return start !== undefined && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

export function ownIdentity(): ProcessIdentity {
  const start = processStart(process.pid);
  return start === undefined ? { pid: process.pid } : { pid: process.pid, start };
}

/** Whether some process has this pid (one of another user counts). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

/**
 * Whether the process recorded as `identity` is still running: its pid is taken, and, when a start
 * time was recorded and can be read now, it is the same one (not a later process given the same pid).
 */
export function isSameProcessRunning(identity: ProcessIdentity): boolean {
  if (!Number.isSafeInteger(identity.pid) || identity.pid < 1 || !isRunning(identity.pid)) return false;
  if (identity.start === undefined) return true;
  const now = processStart(identity.pid);
  return now === undefined || now === identity.start;
}
