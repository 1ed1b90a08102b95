// The few names mpip keeps beside a target folder (in its parent, on the same filesystem, so that
// moving files in is a rename). All start with `.<basename>.mpip-`, so a run can find what an
// earlier, killed run left behind, and `ls -a` shows whose they are.

import path from "node:path";

export interface Siblings {
  /** The target, resolved. */
  target: string;
  /** Its parent folder, where everything below lives. */
  parent: string;
  /** The lock file: held by the one mpip installing into the target (see lock.ts). */
  lock: string;
  /** Taken briefly while a lock left by a dead process is removed, so only one run removes it. */
  takeover: string;
  /** Present only while a commit is under way (see journal.ts). */
  journal: string;
  /** Staging folders are `${stagingPrefix}<pid>-<random>`. */
  stagingPrefix: string;
}

export function siblingsOf(target: string): Siblings {
  const resolved = path.resolve(target);
  const parent = path.dirname(resolved);
  const stem = `.${path.basename(resolved)}.mpip-`;
  return {
    target: resolved,
    parent,
    lock: path.join(parent, `${stem}lock`),
    takeover: path.join(parent, `${stem}lock-takeover`),
    journal: path.join(parent, `${stem}journal`),
    stagingPrefix: `${stem}staging-`,
  };
}
