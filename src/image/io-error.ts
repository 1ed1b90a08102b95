// What to tell a person when the filesystem refuses a write: the same advice wherever it happens
// (lock, staging, journal, commit), keyed by the errno code.

import { MpipError } from "../errors.js";

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Advice for an errno code, or `fallback` when the code says nothing more specific. */
export function ioHint(error: unknown, fallback: string): string {
  switch (errnoCode(error)) {
    case "ENOSPC":
    case "EDQUOT":
      return "the disk is full (or your quota is used up); free some space and run mpip again";
    case "EROFS":
      return "the filesystem is mounted read-only; remount it read-write, then run mpip again";
    case "EACCES":
    case "EPERM":
      return `${fallback} (check its permissions, and \`lsattr\` for the immutable flag)`;
    case "EFBIG":
      return "a file is larger than the filesystem or the file size limit allows (`ulimit -f`); raise the limit, or install on another filesystem";
    case "EXDEV":
      return "a folder of the target is on another filesystem than mpip's staging folder (a mount point); run mpip on that folder with its own -p, or unmount what is mounted there";
    default:
      return fallback;
  }
}

/** `message` gets the errno code appended, e.g. "... (ENOSPC: no space left on device)". */
export function ioError(message: string, error: unknown, fallbackHint: string): MpipError {
  const err = error as NodeJS.ErrnoException;
  const detail = err?.code !== undefined ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")}` : String(err?.message ?? error);
  return new MpipError("io", `${message} (${detail})`, { cause: error, hint: ioHint(error, fallbackHint) });
}
