// Is the process that wrote a lock (or started a compiler) still the one running under that pid?
// A pid alone can be reused after its process dies; where the system tells when a process started
// (Linux's /proc/<pid>/stat), that start time goes with the pid, and a different one means another
// process has the pid now. Elsewhere only "is some process running with that pid" can be asked.

import { readFileSync, readlinkSync } from "node:fs";
import { errnoCode } from "./io-error.js";

/**
 * A process as mpip records it: its pid and, where known, when it started, the pid namespace it sees
 * (a container has its own, where pids are counted again from 1) and the boot it runs in (opaque tokens).
 */
export interface ProcessIdentity {
  pid: number;
  start?: string;
  ns?: string;
  boot?: string;
}

function readOr(read: () => string): string | undefined {
  try {
    return read().trim() || undefined;
  } catch {
    return undefined;
  }
}

const ownNamespace = process.platform === "linux" ? readOr(() => readlinkSync("/proc/self/ns/pid")) : undefined;
const ownBoot = process.platform === "linux" ? readOr(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8")) : undefined;

/**
 * Whether pids recorded as `identity` mean the same processes here: the same boot and pid namespace,
 * as far as both sides recorded them. When not (a run in another container on the same host name), a
 * pid says nothing here, and only what the file itself shows over time can tell that its run is gone.
 */
export function sharesPidSpace(identity: ProcessIdentity): boolean {
  if (identity.ns !== undefined && ownNamespace !== undefined && identity.ns !== ownNamespace) return false;
  if (identity.boot !== undefined && ownBoot !== undefined && identity.boot !== ownBoot) return false;
  return true;
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
  return {
    pid: process.pid,
    ...(start === undefined ? {} : { start }),
    ...(ownNamespace === undefined ? {} : { ns: ownNamespace }),
    ...(ownBoot === undefined ? {} : { boot: ownBoot }),
  };
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
 * A process of another pid namespace or boot cannot be checked: it counts as running (nothing of its is
 * removed or stopped on a guess).
 */
export function isSameProcessRunning(identity: ProcessIdentity): boolean {
  // Another pid namespace or boot: its pid cannot be checked here, so it counts as running.
  if (!sharesPidSpace(identity)) return true;
  if (!Number.isSafeInteger(identity.pid) || identity.pid < 1 || !isRunning(identity.pid)) return false;
  if (identity.start === undefined) return true;
  const now = processStart(identity.pid);
  return now === undefined || now === identity.start;
}

/**
 * Whether the initial environment of process `pid` holds the entry `entry` (`NAME=value`), read from
 * Linux's /proc/<pid>/environ, which only the process's own user (or root) may read. False where it
 * cannot be read: another system, another user's process, a process gone.
 */
export function environmentHolds(pid: number, entry: string): boolean {
  if (process.platform !== "linux" || !Number.isSafeInteger(pid) || pid < 1) return false;
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(entry);
  } catch {
    return false;
  }
}
