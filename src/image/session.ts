// An install's hold on its target folder, from start to end:
//   open:   take the lock (waiting for another mpip, or failing with --no-wait), roll back a commit that
//           a killed run left half-done, remove staging folders killed runs left, create our staging
//   commit: move the staged files in, all or none (commit.ts)
//   close:  remove the staging folder, release the lock; nothing of mpip's is left beside the target
// The one exception to "nothing left": a commit whose roll-back failed keeps its journal and staging
// folder, so the next run can finish putting the target back.

import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import type { Reporter } from "../log.js";
import { commit, type Placement } from "./commit.js";
import type { CommitFs } from "./fs-ops.js";
import { asInterrupted } from "./interrupt.js";
import { describeHolder, TargetLock } from "./lock.js";
import { recoverInterrupted, sweepLeftovers } from "./recover.js";
import { Staging } from "./staging.js";

export interface SessionOptions {
  /** Wait for another mpip installing into the same target (default), or fail at once. */
  wait: boolean;
  signal?: AbortSignal;
  reporter: Reporter;
  /** For tests: the operations the commit uses to change the target. */
  fs?: CommitFs;
}

export class TargetSession {
  private constructor(
    private readonly lock: TargetLock,
    readonly staging: Staging,
    private readonly options: SessionOptions,
  ) {}

  static async open(target: string, options: SessionOptions): Promise<TargetSession> {
    const { reporter, signal } = options;
    const resolved = await realTarget(target);
    let lock: TargetLock;
    try {
      lock = await TargetLock.acquire(resolved, {
        wait: options.wait,
        ...(signal === undefined ? {} : { signal }),
        onWait: (holder, file) =>
          reporter.info(`Waiting for another mpip (${describeHolder(holder)}) installing into \`${resolved}\`... (if none is running, remove \`${file}\`)`),
        onTakeover: (holder, reason) =>
          reporter.info(`Took over the lock on \`${resolved}\` left by an mpip that did not finish (${describeHolder(holder)}): ${reason}`),
      });
    } catch (error) {
      throw asInterrupted(error, signal, resolved, " while waiting for another mpip");
    }
    try {
      await recoverInterrupted(lock.names, reporter, options.fs);
      await sweepLeftovers(lock.names, reporter);
      signal?.throwIfAborted();
      return new TargetSession(lock, await Staging.create(lock.names.target), options);
    } catch (error) {
      await lock.release();
      throw asInterrupted(error, signal, lock.names.target);
    }
  }

  get target(): string {
    return this.lock.names.target;
  }

  async commit(placements: Placement[]): Promise<void> {
    await commit(this.lock.names, this.staging.dir, placements, {
      ...(this.options.signal === undefined ? {} : { signal: this.options.signal }),
      ...(this.options.fs === undefined ? {} : { fs: this.options.fs }),
    });
  }

  /** Always call, whether the install succeeded or not. */
  async close(): Promise<void> {
    try {
      const journalLeft = await lstat(this.lock.names.journal).then(() => true, () => false);
      if (!journalLeft) await this.staging.remove();
    } finally {
      await this.lock.release();
    }
  }
}

/**
 * The target with links resolved (as far as it exists): two spellings of one folder share one lock, and
 * the staging folder lands beside the real folder, on its filesystem, so the commit's renames stay renames.
 */
async function realTarget(target: string): Promise<string> {
  const absolute = path.resolve(target);
  const missing: string[] = [];
  for (let current = absolute; ; current = path.dirname(current)) {
    try {
      return path.join(await realpath(current), ...missing);
    } catch {
      if (path.dirname(current) === current) return absolute;
      missing.unshift(path.basename(current));
    }
  }
}
