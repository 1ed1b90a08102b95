// An install's hold on its target folder, from start to end:
//   open:   resolve the target (a link to nothing or a file on the way is an error, with nothing
//           created: target-path.ts); choose where mpip's own files go (beside the target, or inside it
//           when its parent cannot serve: layout.ts); take the lock, waiting for other runs on this
//           target or on one that contains it or lies inside it; roll back commits that killed runs
//           left half-done on any of them; remove staging folders killed runs left; create our staging
//   commit: move the staged files in, all or none (commit.ts)
//   close:  remove the staging folder, release the lock; nothing of mpip's is left
// The one exception to "nothing left": a commit whose roll-back failed keeps its journal and staging
// folder, so the next run can finish putting the target back.

import { access, constants, lstat, stat } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../log.js";
import { printable } from "../text.js";
import { checkCommit, commit, type Placement } from "./commit.js";
import type { CommitFs } from "./fs-ops.js";
import { asInterrupted } from "./interrupt.js";
import { errnoCode } from "./io-error.js";
import { besideLayout, insideLayout, type TargetLayout } from "./layout.js";
import { describeHolder, holderDoing, TargetLock, type Blocker, type LockOptions } from "./lock.js";
import type { TargetOperation } from "./operation.js";
import { scanOverlaps } from "./overlap.js";
import { recoverInterrupted, recoverOverlapping, sweepLeftovers } from "./recover.js";
import { Staging } from "./staging.js";
import { isMountPoint } from "./mounts.js";
import { resolveTarget } from "./target-path.js";

export interface SessionOptions {
  /** Wait for another mpip installing into the same target (default), or fail at once. */
  wait: boolean;
  /** What the run does to the target (default `install`): named in every message, written in the lock and the journal. */
  operation?: TargetOperation;
  signal?: AbortSignal;
  reporter: Reporter;
  /** For tests: the operations the commit uses to change the target. */
  fs?: CommitFs;
  /** For tests: lock timings (see LockOptions). */
  lock?: Pick<LockOptions, "pollMs" | "unreadableGraceMs" | "foreignStaleMs" | "heartbeatMs">;
}

export class TargetSession {
  private constructor(
    private readonly lock: TargetLock,
    readonly staging: Staging,
    private readonly options: SessionOptions,
  ) {}

  /**
   * @throws MpipError `usage` (empty target), `bad-target` (a file or a link to nothing on the way),
   *   `locked` (with `wait: false`), `interrupted`, `io`.
   */
  static async open(target: string, options: SessionOptions): Promise<TargetSession> {
    const { reporter, signal } = options;
    const operation = options.operation ?? "install";
    const resolved = await resolveTarget(target, operation);
    let waited = false;
    const lockOptions: LockOptions = {
      ...options.lock,
      wait: options.wait,
      operation,
      ...(signal === undefined ? {} : { signal }),
      onWait: (blocker) => {
        waited = true;
        reporter.info(waitMessage(blocker, resolved.path));
      },
      onTakeover: (holder, reason, layout) => reporter.info(`Took over the lock on \`${printable(layout.target)}\` left by an mpip that did not finish (${describeHolder(holder)}): ${reason}`),
    };
    let lock: TargetLock;
    try {
      lock = await lockTarget(resolved.path, resolved.exists, lockOptions);
    } catch (error) {
      throw asInterrupted(error, signal, resolved.path, waited ? " while waiting for another mpip" : "");
    }
    try {
      const scan = await scanOverlaps(lock.layout, undefined, operation);
      await recoverOverlapping(scan.journals, reporter, options.fs);
      await recoverInterrupted(lock.layout, reporter, options.fs);
      await sweepLeftovers(lock.layout, reporter, scan.stagings);
      signal?.throwIfAborted();
      return new TargetSession(lock, await Staging.create(lock.layout, operation), options);
    } catch (error) {
      await lock.release();
      throw asInterrupted(error, signal, lock.layout.target);
    }
  }

  get target(): string {
    return this.lock.layout.target;
  }

  get layout(): TargetLayout {
    return this.lock.layout;
  }

  /**
   * Moves `placements` in and takes `removals` (target-relative files) out, all or none (commit.ts);
   * `owners` names the package of files that stay, for an error about one in the way.
   */
  async commit(placements: Placement[], removals: readonly string[] = [], owners?: ReadonlyMap<string, string>): Promise<string[]> {
    return commit(this.lock.layout, this.staging.dir, placements, {
      removals,
      operation: this.options.operation ?? "install",
      ...(owners === undefined ? {} : { owners }),
      ...(this.options.signal === undefined ? {} : { signal: this.options.signal }),
      ...(this.options.fs === undefined ? {} : { fs: this.options.fs }),
    });
  }

  /** Decides the commit as `commit` would and changes nothing (a dry run): throws what `commit` would throw first. */
  async checkCommit(placements: Placement[], removals: readonly string[] = [], owners?: ReadonlyMap<string, string>): Promise<string[]> {
    return checkCommit(this.lock.layout, this.staging.dir, placements, {
      removals,
      operation: this.options.operation ?? "install",
      ...(owners === undefined ? {} : { owners }),
      ...(this.options.fs === undefined ? {} : { fs: this.options.fs }),
    });
  }

  /** Always call, whether the install succeeded or not. */
  async close(): Promise<void> {
    try {
      const journalLeft = await lstat(this.lock.layout.journal).then(() => true, () => false);
      if (!journalLeft) await this.staging.remove();
    } finally {
      await this.lock.release();
    }
  }
}

/**
 * Locks `target` beside it when its parent can serve (same filesystem, writable), else inside it: the
 * root of a mounted card or board, whose parent is another filesystem and usually not writable.
 */
async function lockTarget(target: string, exists: boolean, options: LockOptions): Promise<TargetLock> {
  const beside = besideLayout(target);
  if (!exists || (await parentServes(target))) {
    try {
      return await TargetLock.acquire(beside, options);
    } catch (error) {
      const code = errnoCode((error as { cause?: unknown }).cause);
      if (!exists || !["EACCES", "EPERM", "EROFS"].includes(code ?? "")) throw error;
    }
  }
  return TargetLock.acquire(insideLayout(target), options);
}

/** Whether the target's parent is on the target's filesystem and looks writable. */
async function parentServes(target: string): Promise<boolean> {
  const parent = path.dirname(target);
  if (parent === target) return false;
  const [own, theirs] = await Promise.all([stat(target), stat(parent)]);
  if (own.dev !== theirs.dev || isMountPoint(target)) return false;
  return access(parent, constants.W_OK).then(() => true, () => false);
}

function waitMessage(blocker: Blocker, target: string): string {
  const who = describeHolder(blocker.holder);
  const where = blocker.relation === "ancestor" ? `\`${printable(blocker.layout.target)}\`, which holds \`${printable(target)}\``
    : blocker.relation === "descendant" ? `\`${printable(blocker.layout.target)}\`, inside \`${printable(target)}\``
    : `\`${printable(target)}\``;
  return `Waiting for another mpip (${who}) ${holderDoing(blocker.holder)} ${where}... (if none is running, remove \`${printable(blocker.file)}\`)`;
}

