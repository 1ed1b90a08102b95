// `install --max-size`: the bytes an image's files would take once an install's change is committed,
// known before the commit, so that an image too large for the device's filesystem (or for the firmware
// it is frozen into) is refused with nothing changed.

import { lstat, stat } from "node:fs/promises";
import type { Placement } from "../image/commit.js";
import { takeInventory } from "./inventory.js";

/**
 * The total size in bytes of the files in `target` after `removals` are removed and `placements` moved
 * in (a placement replaces what is at its path): every file below the target, records included, links
 * and special files counted at their own size; mpip's own lock, journal and staging left out. A target
 * that does not exist yet counts as empty.
 * @throws MpipError as takeInventory does (`io`, `limit-exceeded`).
 */
export async function imageBytesAfter(target: string, placements: readonly Placement[], removals: readonly string[]): Promise<number> {
  const sizes = new Map<string, number>();
  if ((await lstat(target).catch(() => undefined)) !== undefined) {
    for (const [file, info] of (await takeInventory(target)).files) sizes.set(file, info.size);
  }
  for (const file of removals) sizes.delete(file);
  for (const placement of placements) sizes.set(placement.to, (await stat(placement.from)).size);
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}
