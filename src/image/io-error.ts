// What to tell a person when the filesystem refuses a call: the same advice wherever it happens (lock,
// staging, journal, commit, records), keyed by the errno code, each about its own cause. Only a refusal
// (EACCES, EPERM) takes the caller's words about the folder to make writable: a name too long, a full
// disk or a file where a folder should be is no matter of permissions.

import { MpipError } from "../errors.js";
import { NAME_MAX } from "../limits.js";
import { printable } from "../text.js";

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The longest path, in bytes with its final NUL, that the system's calls take (PATH_MAX): 4096 on Linux,
 * 1024 on macOS and the BSDs. Windows has no such errno limit that Node reports as ENAMETOOLONG alone.
 */
export const PATH_MAX = process.platform === "linux" ? 4096 : process.platform === "win32" ? 32_767 : 1024;

/**
 * Advice for the errno code of `error`, a Node filesystem error (its `path`, when it has one, is what the
 * call was given). `fallback` is the caller's advice for a refusal (EACCES, EPERM: which folder to make
 * writable), and for a code that says nothing more specific. `about`, if given, says what mpip keeps at
 * that place and when ("mpip keeps a staging folder in `dir` while it installs"): it is added, in
 * parentheses, to a hint about another cause, for a fallback that already holds it. Never throws.
 */
export function ioHint(error: unknown, fallback: string, about?: string): string {
  const hint = causeHint(error, fallback);
  return about === undefined || hint === fallback || errnoCode(error) === "EACCES" || errnoCode(error) === "EPERM" ? hint : `${hint} (${about})`;
}

function causeHint(error: unknown, fallback: string): string {
  switch (errnoCode(error)) {
    case "ENOSPC":
      return "the disk is full (no space left, or no free inodes: `df -h` and `df -i` show which); free some space and run mpip again";
    case "EDQUOT":
      return "the disk quota of your user on that filesystem is used up (`quota` shows it); free some space, or have the quota raised, and run mpip again";
    case "EROFS":
      return "the filesystem is mounted read-only; remount it read-write (or slide a card's write-protect switch off; a filesystem the system remounted read-only after an error wants `fsck` first: see `dmesg`), then run mpip again";
    case "EACCES":
      return `${fallback} (permission denied: the file's or a folder's mode, owner or ACL does not let this user do it)`;
    case "EPERM":
      return `${fallback} (not permitted whatever the modes say: check \`lsattr\` for the immutable flag \`i\` or the append-only flag \`a\`; a folder with the sticky bit keeps other users' files; some filesystems, such as FAT, refuse some operations)`;
    case "EFBIG":
      return "a file is larger than the filesystem or the file size limit allows (`ulimit -f`); raise the limit, or install on another filesystem";
    case "EXDEV":
      return "a folder of the target is on another filesystem than mpip's staging folder (a mount point); run mpip on that folder with its own -p, or unmount what is mounted there";
    case "ENAMETOOLONG":
      return nameTooLongHint(error);
    case "ELOOP":
      return "too many symbolic links on the path (a link that leads back to itself, directly or through others, or more than 40 in a row); fix or remove the links on that path";
    case "ENOTDIR":
      return "a part of the path that must be a folder is a file (or a link to one); check the path, and move that file away or use another folder";
    case "EEXIST":
      // mkdir -p (Node's recursive mkdir) answers EEXIST where a part of the path is a file.
      return (error as NodeJS.ErrnoException).syscall === "mkdir" ? "a file (not a folder) stands on the path where a folder is needed; check the path, and move that file away or use another folder" : fallback;
    case "EISDIR":
      return "a folder stands where a file is needed; move that folder away, or use another path";
    case "EMFILE":
      return "mpip has as many files open as this process may (`ulimit -n`); raise the limit (`ulimit -n 4096`) or run with fewer jobs (-j), then run mpip again";
    case "ENFILE":
      return "the system has as many files open as it allows, counting every program's (`/proc/sys/fs/file-max` on Linux); close other programs or raise that limit, then run mpip again";
    case "EBUSY":
      return "the file or folder is in use: a mount point, or held open by another program on a system that locks files in use; unmount it or close that program, then run mpip again";
    case "EIO":
      return "the device failed to read or write (a failing or removed card, a disconnected drive or network share; `dmesg` tells more); check it, then run mpip again";
    default:
      return fallback;
  }
}

/**
 * What ENAMETOOLONG means for the path it was raised on: a name (between two `/`) over the NAME_MAX bytes a
 * name can have, or the whole path over PATH_MAX; each with its limit and the name or length at fault.
 */
function nameTooLongHint(error: unknown): string {
  const file = (error as NodeJS.ErrnoException).path;
  const name = file?.split(/[\\/]/).find((part) => Buffer.byteLength(part) > NAME_MAX);
  if (name !== undefined) {
    return `the name \`${printable(name, 60)}\` is ${Buffer.byteLength(name)} bytes long, more than the ${NAME_MAX} bytes a file or folder name can have (on ext4, XFS, Btrfs, tmpfs, APFS and littlefs; FAT takes 255 characters); choose a shorter name`;
  }
  const bytes = file === undefined ? undefined : Buffer.byteLength(file);
  if (bytes !== undefined && bytes >= PATH_MAX) {
    return `the path is ${bytes} bytes long, more than the ${PATH_MAX - 1} the system takes in one path; use a folder with a shorter path, nearer the top of the filesystem`;
  }
  return "a file or folder name, or the whole path, is longer than this filesystem takes (some take less than 255 bytes a name: eCryptfs 143, FAT 255 UTF-16 characters); use a shorter path";
}

/** `message` gets the errno code appended, e.g. "... (ENOSPC: no space left on device)"; the hint is `ioHint`'s. */
export function ioError(message: string, error: unknown, fallbackHint: string, about?: string): MpipError {
  const err = error as NodeJS.ErrnoException;
  const detail = err?.code !== undefined ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "")}` : String(err?.message ?? error);
  return new MpipError("io", `${message} (${detail})`, { cause: error, hint: ioHint(error, fallbackHint, about) });
}
