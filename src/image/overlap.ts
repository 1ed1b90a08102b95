// Targets that contain one another share files: `-p image` installs `image/lib/x.py`, which is also
// `x.py` of `-p image/lib`. Runs on such targets must not interleave, and one run's interrupted commit
// must be undone before another run changes the same files. This finds, for a target, everything of
// mpip's that belongs to an overlapping target:
//   - the target itself in the other layout (a run that staged inside it, or beside it);
//   - every ancestor: its lock and journal in either layout (a few lstat calls per level);
//   - every descendant: locks, journals and staging folders inside the target's tree (one walk of its
//     folders; links are not followed, staging folders are not entered).
// The rule that uses it (lock.ts): an inner run yields to an outer one, an outer run waits for an inner
// one to finish, so that exactly one of two overlapping runs goes on.

import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { besideLayout, insideLayout, layoutOfFile, layoutsOf, type TargetLayout } from "./layout.js";
import { words, type TargetOperation } from "./operation.js";

export type Relation = "same" | "ancestor" | "descendant";

export interface Found {
  /** The lock or journal file, or the staging folder. */
  file: string;
  layout: TargetLayout;
  relation: Relation;
}

export interface OverlapScan {
  locks: Found[];
  journals: Found[];
  /** Staging folders of overlapping targets (the target's own, in its own layout, are the caller's business). */
  stagings: Found[];
}

/** Folders walked at most: an image has tens; a target like `~` would otherwise take minutes. */
export const MAX_SCAN_FOLDERS = 20_000;

const STAGING = /^\.(.*)mpip-staging-\d+-[0-9a-f]{8}$/;

/**
 * Everything of mpip's that belongs to a target overlapping `own`'s (never `own`'s own lock and journal).
 * @throws MpipError `bad-target` when the target holds more than `maxFolders` folders.
 */
export async function scanOverlaps(own: TargetLayout, maxFolders = MAX_SCAN_FOLDERS, operation: TargetOperation = "install"): Promise<OverlapScan> {
  const scan: OverlapScan = { locks: [], journals: [], stagings: [] };
  const add = async (list: Found[], file: string, layout: TargetLayout, relation: Relation) => {
    if (file === own.lock || file === own.journal) return;
    if (await exists(file)) list.push({ file, layout, relation });
  };
  // Every level up to the root is asked at once (a few lstat and readdir calls each); the findings keep
  // the order of a walk from the target up.
  const listings = new Map<string, Promise<string[]>>();
  const levels: Array<Promise<OverlapScan>> = [];
  for (let dir = own.target, relation: Relation = "same"; ; relation = "ancestor") {
    for (const layout of layoutsOf(dir)) {
      if (relation === "same" && layout.mode === own.mode) continue;
      if (!listings.has(layout.home)) listings.set(layout.home, readdir(layout.home).catch(() => []));
      const listing = listings.get(layout.home)!;
      levels.push((async () => {
        const found: OverlapScan = { locks: [], journals: [], stagings: [] };
        await Promise.all([add(found.locks, layout.lock, layout, relation), add(found.journals, layout.journal, layout, relation)]);
        for (const name of (await listing).filter(layout.isStagingName)) found.stagings.push({ file: path.join(layout.home, name), layout, relation });
        return found;
      })());
    }
    if (path.dirname(dir) === dir) break;
    dir = path.dirname(dir);
  }
  for (const found of await Promise.all(levels)) {
    scan.locks.push(...found.locks);
    scan.journals.push(...found.journals);
    scan.stagings.push(...found.stagings);
  }
  await walkDescendants(own, scan, maxFolders, operation);
  return scan;
}

async function walkDescendants(own: TargetLayout, scan: OverlapScan, maxFolders: number, operation: TargetOperation): Promise<void> {
  const queue = [own.target];
  for (let visited = 0; queue.length > 0; visited++) {
    if (visited >= maxFolders) {
      // A run inside it that this walk did not reach could be committing: never go on without knowing.
      throw new MpipError("bad-target", `\`${printable(own.target)}\` holds more than ${maxFolders} folders, too many to look through for other mpip runs inside it; nothing was changed`, {
        hint: `${words(operation).onTarget} the image's own folder (a device image holds tens of folders), not a folder that holds many others`,
      });
    }
    const dir = queue.shift()!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const staging = STAGING.exec(entry.name);
        if (staging === null) {
          queue.push(file);
          continue;
        }
        // `.mpip-staging-…` is the inside layout's (of `dir`); `.<name>.mpip-staging-…` the beside layout's of `dir/<name>`.
        const layout = staging[1] === "" ? insideLayout(dir) : staging[1]!.endsWith(".") ? besideLayout(path.join(dir, staging[1]!.slice(0, -1))) : undefined;
        // The target's own layouts were looked at above.
        if (layout !== undefined && layout.isStagingName(entry.name) && layout.target !== own.target) {
          scan.stagings.push({ file, layout, relation: "descendant" });
        }
        continue;
      }
      if (!entry.isFile() || !entry.name.startsWith(".")) continue;
      for (const kind of ["lock", "journal"] as const) {
        const layout = layoutOfFile(file, kind);
        // The target's own inside layout was looked at above, as "same".
        if (layout === undefined || layout.target === own.target) continue;
        (kind === "lock" ? scan.locks : scan.journals).push({ file, layout, relation: "descendant" });
      }
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(() => true, () => false);
}
