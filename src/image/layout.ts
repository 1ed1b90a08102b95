// Where mpip keeps its own files for a target: the lock, the commit journal and the staging folder.
//
// Two places, so that any folder a person can install into has one that works:
//   beside  in the target's parent, named after the target: `.<name>.mpip-lock`, `.<name>.mpip-journal`,
//           `.<name>.mpip-staging-<pid>-<hex8>/`. Nothing of mpip's is ever inside the image, and a
//           target that does not exist yet can be staged for. The default.
//   inside  in the target itself: `.mpip-lock`, `.mpip-journal`, `.mpip-staging-<pid>-<hex8>/`. For a
//           target whose parent cannot serve: the root of a mounted board or SD card, whose parent is
//           another filesystem (renames from there would not be atomic) and usually belongs to root.
// Either way the staging folder is on the target's filesystem, so the commit is a series of renames.
//
// Names are matched exactly (never by prefix), and a staging folder is only ever removed when it also
// holds mpip's marker naming its target (staging.ts): a folder the user named like another target's
// staging folder (`a.mpip-staging-x` beside a target `a`) is never taken for one.

import path from "node:path";
import { widestFold } from "./name-rules.js";

export type LayoutMode = "beside" | "inside";

export interface TargetLayout {
  mode: LayoutMode;
  /** The target, resolved (links followed). */
  target: string;
  /** The folder that holds the lock, the journal and the staging folders: the target's parent, or the target. */
  home: string;
  /** The lock file: held by the one mpip installing into the target (see lock.ts). */
  lock: string;
  /** Taken briefly while a lock left by a dead process is removed, so only one run removes it. */
  takeover: string;
  /** Present only while a commit is under way (see journal.ts). */
  journal: string;
  /** The name of a new staging folder for this process. */
  stagingName(pid: number, random: string): string;
  /** Whether `name` (an entry of `home`) is exactly a staging folder name of this layout. */
  isStagingName(name: string): boolean;
}

const SUFFIX = { lock: "mpip-lock", takeover: "mpip-lock-takeover", journal: "mpip-journal", staging: "mpip-staging-" } as const;
const STAGING_TAIL = /^\d+-[0-9a-f]{8}$/;

function layout(mode: LayoutMode, target: string): TargetLayout {
  const resolved = path.resolve(target);
  const home = mode === "beside" ? path.dirname(resolved) : resolved;
  const stem = mode === "beside" ? `.${path.basename(resolved)}.` : ".";
  return {
    mode,
    target: resolved,
    home,
    lock: path.join(home, stem + SUFFIX.lock),
    takeover: path.join(home, stem + SUFFIX.takeover),
    journal: path.join(home, stem + SUFFIX.journal),
    stagingName: (pid, random) => `${stem}${SUFFIX.staging}${pid}-${random}`,
    // In any spelling a folding filesystem takes for it: a run may type the target as `IMG` after one typed `img`.
    isStagingName: (name) => name.length > stem.length + SUFFIX.staging.length && widestFold(name.slice(0, stem.length + SUFFIX.staging.length)) === widestFold(stem + SUFFIX.staging) && STAGING_TAIL.test(name.slice(stem.length + SUFFIX.staging.length)),
  };
}

/** mpip's files in the target's parent folder. */
export function besideLayout(target: string): TargetLayout {
  return layout("beside", target);
}

/** mpip's files in the target itself (a mount point, or a target whose parent is not writable). */
export function insideLayout(target: string): TargetLayout {
  return layout("inside", target);
}

/** Both places a run on `target` may keep its files: every run checks both, whichever it uses. */
export function layoutsOf(target: string): [TargetLayout, TargetLayout] {
  return [besideLayout(target), insideLayout(target)];
}

/**
 * The layout whose lock or journal is the file `file` (an entry found in a folder), or undefined when
 * the name is not one of mpip's. `kind` says which of the two names to match.
 */
export function layoutOfFile(file: string, kind: "lock" | "journal"): TargetLayout | undefined {
  const dir = path.dirname(file);
  const name = path.basename(file);
  const suffix = SUFFIX[kind];
  if (name === `.${suffix}`) return insideLayout(dir);
  if (name.startsWith(".") && name.endsWith(`.${suffix}`) && name.length > suffix.length + 2) {
    return besideLayout(path.join(dir, name.slice(1, -(suffix.length + 1))));
  }
  return undefined;
}

/**
 * Whether a path segment of an installed file is one of mpip's own names (in either layout, in any
 * spelling a filesystem may take for it), which a package must not ship: it could overwrite a lock or a
 * journal of this target or of a folder inside it.
 */
export function isReservedName(segment: string): boolean {
  // Compared as the widest-folding filesystem compares names: on FAT `.MPIP-JOURNAL` is `.mpip-journal`.
  const folded = widestFold(segment);
  if (!folded.startsWith(".")) return false;
  if (folded.startsWith(".mpip-")) return true;
  return /\.mpip-(lock|lock-takeover|journal|staging-.*)$/.test(folded);
}
