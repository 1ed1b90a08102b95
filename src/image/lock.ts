// One mpip at a time per target. The lock is a file beside the target (`.<name>.mpip-lock`), created
// with O_CREAT|O_EXCL — atomic on local filesystems and NFSv3+, and it needs no hard links, so it
// works on FAT too — holding its owner: pid, hostname and when. A second run waits for the file to go
// (or fails at once with --no-wait). A lock whose pid is no longer running on this host was left by a
// killed run: it is removed and taken over. Removing it is guarded by a second O_EXCL file, so two
// runs that both find the same dead lock cannot both remove it and then remove each other's new one.
//
// Known limits: a lock from another host (a shared network folder) is never taken over, as its pid
// cannot be checked from here; a dead holder's pid reused by an unrelated live process looks alive
// (the message names the lock file, so a person can remove it).

import { open, readFile, rmdir, stat, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as v from "valibot";
import { MpipError } from "../errors.js";
import { errnoCode, ioError } from "./io-error.js";
import { makeDirs } from "./make-dirs.js";
import { siblingsOf, type Siblings } from "./siblings.js";

const OwnerSchema = v.object({
  pid: v.pipe(v.number(), v.integer(), v.minValue(1)),
  hostname: v.string(),
  since: v.string(),
});
export type LockOwner = v.InferOutput<typeof OwnerSchema>;

/** Who holds a lock, as read from its file; `owner` is undefined while the file is empty or unreadable. */
export interface Holder {
  text: string;
  owner: LockOwner | undefined;
  ageMs: number;
}

export interface LockOptions {
  /** Wait for another run to finish (the default), or fail at once. */
  wait: boolean;
  signal?: AbortSignal;
  /** Called when another live mpip holds the lock and this run starts waiting (once per holder). */
  onWait?(holder: Holder, lockFile: string): void;
  /** Called when a lock left by a process that is no longer running is removed, before taking it. */
  onTakeover?(holder: Holder, reason: string): void;
  pollMs?: number;
}

/** A lock file with no readable owner this long after it was written was left by a run killed while writing it. */
const UNREADABLE_GRACE_MS = 2000;

/** The texts of the locks this process holds or is creating, so two installs in one process wait for each other too. */
const ownTexts = new Set<string>();

export class TargetLock {
  private released = false;

  private constructor(
    readonly names: Siblings,
    private readonly text: string,
    /** The topmost parent folder this run created, removed again if left empty. */
    private readonly createdParent: string | undefined,
  ) {}

  static async acquire(target: string, options: LockOptions): Promise<TargetLock> {
    const names = siblingsOf(target);
    let createdParent: string | undefined;
    try {
      createdParent = await makeDirs(names.parent);
    } catch (error) {
      throw ioError(`cannot create \`${names.parent}\`, the folder that holds \`${names.target}\``, error, `make \`${path.dirname(names.parent)}\` writable`);
    }
    const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), since: new Date().toISOString() };
    const text = `${JSON.stringify({ ...owner, id: randomBytes(6).toString("hex") })}\n`;
    try {
      return await TargetLock.take(names, text, createdParent, options);
    } catch (error) {
      await removeEmptyParents(names.parent, createdParent);
      throw error;
    }
  }

  private static async take(names: Siblings, text: string, createdParent: string | undefined, options: LockOptions): Promise<TargetLock> {
    let announced: string | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      ownTexts.add(text); // before the file exists, so no other waiter here can mistake it for a dead process's
      let created: CreateResult = "exists";
      try {
        created = await create(names.lock, text, names);
      } finally {
        if (created !== "created") ownTexts.delete(text);
      }
      if (created === "created") return new TargetLock(names, text, createdParent);
      if (created === "no-parent") {
        // The run we waited for created the parent folder and removed it again when it finished.
        createdParent = (await makeDirs(names.parent).catch((error: unknown) => {
          throw ioError(`cannot create \`${names.parent}\`, the folder that holds \`${names.target}\``, error, `make \`${path.dirname(names.parent)}\` writable`);
        })) ?? createdParent;
        continue;
      }
      const holder = await readHolder(names.lock);
      if (holder === undefined) continue; // released meanwhile: try again at once
      const reason = staleReason(holder);
      if (reason !== undefined) {
        if (await removeStale(names, holder)) options.onTakeover?.(holder, reason);
        continue;
      }
      if (!options.wait) throw lockedError(names, holder);
      if (announced !== holder.text) options.onWait?.(holder, names.lock);
      announced = holder.text;
      await sleep(options.pollMs ?? 100, undefined, options.signal === undefined ? {} : { signal: options.signal });
    }
  }

  /** Removes the lock file (only if it is still this run's) and any parent folder this run created and left empty. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const current = await readFile(this.names.lock, "utf8").catch(() => undefined);
    if (current === this.text) await unlink(this.names.lock).catch(() => undefined);
    // Only now: until the file is gone, a waiter in this process must not take it for a dead process's.
    ownTexts.delete(this.text);
    await removeEmptyParents(this.names.parent, this.createdParent);
  }
}

/** Removes `parent` and its ancestors up to `createdTop` (the folders this run created), while they are empty. */
async function removeEmptyParents(parent: string, createdTop: string | undefined): Promise<void> {
  if (createdTop === undefined) return;
  for (let dir = parent; dir.length >= createdTop.length; dir = path.dirname(dir)) {
    if (!(await rmdir(dir).then(() => true, () => false))) break;
  }
}

/** How to name a holder in a message: "pid 123", "pid 123 on host `box`", "an unknown process". */
export function describeHolder(holder: Holder): string {
  if (holder.owner === undefined) return "an unknown process";
  const host = holder.owner.hostname === os.hostname() ? "" : ` on host \`${holder.owner.hostname}\``;
  return `pid ${holder.owner.pid}${host}`;
}

type CreateResult = "created" | "exists" | "no-parent";

async function create(file: string, text: string, names: Siblings): Promise<CreateResult> {
  let handle;
  try {
    handle = await open(file, "wx");
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return "exists";
    if (errnoCode(error) === "ENOENT") return "no-parent";
    throw ioError(`cannot lock \`${names.target}\`: cannot create \`${file}\``, error, `mpip keeps a lock file, a staging folder and a journal beside the target while it installs: make \`${names.parent}\` writable`);
  }
  try {
    await handle.writeFile(text);
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    throw ioError(`cannot lock \`${names.target}\`: cannot write \`${file}\``, error, `make \`${names.parent}\` writable`);
  }
  return "created";
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { text, owner: parseOwner(text), ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(`cannot read the lock file \`${file}\``, error, "check the permissions of the folder that holds the target");
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const parsed = v.safeParse(OwnerSchema, JSON.parse(text));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** Why the holder is gone (so its lock may be taken over), or undefined while it may still be running. */
function staleReason(holder: Holder): string | undefined {
  const { owner } = holder;
  if (owner === undefined) return holder.ageMs > UNREADABLE_GRACE_MS ? "its lock file names no owner" : undefined;
  if (owner.hostname !== os.hostname()) return undefined;
  if (owner.pid === process.pid) return ownTexts.has(holder.text) ? undefined : "that pid is now this process";
  return isRunning(owner.pid) ? undefined : "that process is no longer running";
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM"; // alive, owned by another user
  }
}

/** Removes the lock `holder` was read from, unless it changed meanwhile. True when it was removed. */
async function removeStale(names: Siblings, holder: Holder): Promise<boolean> {
  let guard;
  try {
    guard = await open(names.takeover, "wx");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false; // the holder removed the parent folder: the caller's loop makes it again
    if (errnoCode(error) !== "EEXIST") throw ioError(`cannot take over the lock \`${names.lock}\``, error, `make \`${names.parent}\` writable`);
    await clearDeadGuard(names.takeover);
    return false;
  }
  try {
    await guard.writeFile(String(process.pid));
    await guard.close();
    const current = await readHolder(names.lock);
    if (current?.text !== holder.text) return false;
    await unlink(names.lock).catch(() => undefined);
    return true;
  } finally {
    await guard.close().catch(() => undefined);
    await unlink(names.takeover).catch(() => undefined);
  }
}

/** The takeover guard is held for a few system calls; one whose writer is gone is removed. */
async function clearDeadGuard(file: string): Promise<void> {
  const holder = await readHolder(file);
  if (holder === undefined) return;
  const pid = /^\d+$/.test(holder.text) ? Number(holder.text) : undefined;
  const dead = pid === undefined ? holder.ageMs > UNREADABLE_GRACE_MS : pid !== process.pid && !isRunning(pid);
  if (dead) await unlink(file).catch(() => undefined);
  else await sleep(10);
}

function lockedError(names: Siblings, holder: Holder): MpipError {
  const since = holder.owner === undefined ? "" : `, since ${holder.owner.since}`;
  return new MpipError("locked", `another mpip (${describeHolder(holder)}${since}) is installing into \`${names.target}\``, {
    hint: `run again without --no-wait to wait for it; if no mpip is running, remove \`${names.lock}\``,
  });
}
