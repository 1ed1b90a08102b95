// Real filesystems for the tests that need one: a tmpfs (a mount point, or a tiny full disk) and a FAT
// filesystem (what SD cards and most boards use: case-insensitive, trailing dots dropped) through FUSE,
// with `fusefat` and `mkfs.vfat` from Debian's `fusefat` and `dosfstools` packages. Where the machine
// cannot make one (no root, no /dev/fuse, the tools missing), `*Unavailable` says why and the test skips;
// the same behaviour is also covered through the commit's filesystem layer (test/helpers/folding-fs.ts).

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

function tryCommand(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let tmpfsReason: string | undefined | null = null;

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
export async function tmpfsUnavailable(scratch: string): Promise<string | undefined> {
  if (tmpfsReason !== null) return tmpfsReason;
  const probe = await mkdtemp(path.join(scratch, "mount-probe-"));
  tmpfsReason = tryCommand("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]) && tryCommand("umount", [probe]) ? undefined : "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)";
  await rm(probe, { recursive: true, force: true });
  return tmpfsReason;
}

/** Mounts a tmpfs at `mountPoint` (created) for the length of `body`. */
export async function withTmpfs<T>(mountPoint: string, options: string, body: (mountPoint: string) => Promise<T>): Promise<T> {
  await mkdir(mountPoint, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", mountPoint]);
  try {
    return await body(mountPoint);
  } finally {
    execFileSync("umount", ["-l", mountPoint]);
  }
}

/** Why a FAT filesystem cannot be mounted here, or undefined when it can. */
export function fatUnavailable(): string | undefined {
  if (!existsSync("/dev/fuse")) return "no /dev/fuse here";
  if (!tryCommand("sh", ["-c", "command -v fusefat && (command -v mkfs.vfat || command -v mkfs.fat)"])) return "fusefat and mkfs.vfat are not installed (Debian: apt-get install fusefat dosfstools)";
  return undefined;
}

/** Makes a FAT image of `sizeMiB` in `imageFile`, mounts it read-write at `mountPoint`; resolves the unmount. */
export async function mountFat(imageFile: string, mountPoint: string, sizeMiB = 16): Promise<() => Promise<void>> {
  await mkdir(mountPoint, { recursive: true });
  execFileSync("truncate", ["-s", `${sizeMiB}M`, imageFile]);
  execFileSync("sh", ["-c", 'mkfs.vfat "$1" >/dev/null 2>&1 || mkfs.fat "$1" >/dev/null', "mkfs", imageFile]);
  execFileSync("fusefat", ["-o", "rw+", imageFile, mountPoint], { stdio: "ignore" });
  // fusefat daemonizes: wait until the mount answers.
  for (let i = 0; i < 100 && !tryCommand("mountpoint", ["-q", mountPoint]); i++) await sleep(20);
  return async () => {
    tryCommand("umount", [mountPoint]) || tryCommand("umount", ["-l", mountPoint]);
  };
}
