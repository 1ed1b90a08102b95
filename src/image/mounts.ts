// Which folders are mount points. A different device number shows most of them, but not a bind mount
// of a folder of the same filesystem (`mount --bind src image`): renames across it fail all the same
// (EXDEV). Linux lists every mount point in /proc/self/mountinfo (as this process's mount namespace sees
// them); elsewhere the device number is all there is, and this knows of none.

import { readFileSync } from "node:fs";

let cached: Set<string> | undefined;

/** Mount points, as absolute paths (read once per process; an empty set where the system does not say). */
export function mountPoints(): ReadonlySet<string> {
  cached ??= readMountPoints();
  return cached;
}

function readMountPoints(): Set<string> {
  const points = new Set<string>();
  if (process.platform !== "linux") return points;
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return points;
  }
  for (const line of text.split("\n")) {
    // "36 35 98:0 /root /mnt/point rw,noatime ...": the fifth field, with spaces and the like as \ooo.
    const field = line.split(" ")[4];
    if (field !== undefined && field !== "") points.add(field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}

/** Whether `dir` (absolute, links resolved) is a mount point. */
export function isMountPoint(dir: string): boolean {
  return mountPoints().has(dir);
}
