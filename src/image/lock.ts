// One mpip at a time per target, and per set of targets that contain one another. The lock is a file
// (`.<name>.mpip-lock` beside the target, or `.mpip-lock` inside it: layout.ts) created with
// O_CREAT|O_EXCL — atomic on local filesystems and NFSv3+, and it needs no hard links, so it works on
// FAT too — holding its owner: pid, the pid's start time where the system tells it, hostname, when, and
// what it is doing (install, uninstall, sync), so that a run waiting for it says so.
//
// Overlapping targets (overlap.ts): once its own lock is held, a run looks for live locks of the same
// target in the other layout, of its ancestors and of its descendants. An inner run yields to an outer
// one (it lets go of its lock and waits for the outer one to end); an outer run keeps its lock and waits
// for the inner one to end. Both look after taking their own lock, so of two overlapping runs at least
// one sees the other, and never both go on.
//
// A lock is taken over when its holder is gone, judged without trusting any clock but our own:
//   - same host, pid namespace and boot: the pid is not running, or runs a process that started later
//     than the lock's owner (a lock with no start time also when it is not refreshed, as below);
//   - another host (a shared network folder), container or boot: its pid means nothing here, but its
//     holder refreshes the file's mtime every few seconds; one whose content and mtime we have seen
//     unchanged for FOREIGN_STALE_MS has stopped;
//   - no readable owner: we have seen the same unreadable content for UNREADABLE_GRACE_MS (a run
//     killed while writing it). A time written in the file, or an mtime in the future, changes nothing.
// Removing a dead lock is guarded by a second O_EXCL file, so two runs that find the same dead lock
// cannot both remove it and then each other's new one; a guard left by a killed run is removed too.

import { randomBytes } from "node:crypto";
import { open, readFile, rmdir, stat, unlink, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as v from "valibot";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { errnoCode, ioError } from "./io-error.js";
import type { TargetLayout } from "./layout.js";
import { recordedOperation, words, type TargetOperation } from "./operation.js";
import { scanOverlaps, type Found, type Relation } from "./overlap.js";
import { isSameProcessRunning, ownIdentity, sharesPidSpace } from "./processes.js";
import { createFolders } from "./target-path.js";

const OwnerSchema = v.object({
  pid: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** What the holder is doing (`install`, `uninstall`, `sync`); absent in locks of older mpip versions. */
  operation: v.optional(v.string()),
  start: v.optional(v.string()),
  ns: v.optional(v.string()),
  boot: v.optional(v.string()),
  hostname: v.string(),
  since: v.string(),
});
export type LockOwner = v.InferOutput<typeof OwnerSchema>;

/** Who holds a lock, as read from its file; `owner` is undefined while the file is empty or unreadable. */
export interface Holder {
  text: string;
  owner: LockOwner | undefined;
  mtimeMs: number;
}

/** A lock of another (overlapping, or the same) target that this run waits for. */
export interface Blocker {
  holder: Holder;
  file: string;
  /** Where the other run keeps its files; `layout.target` is the folder it installs into. */
  layout: TargetLayout;
  relation: Relation | "self";
}

export interface LockOptions {
  /** Wait for another run to finish (the default), or fail at once. */
  wait: boolean;
  /** What this run does to the target (default `install`): written into the lock, named in messages. */
  operation?: TargetOperation;
  signal?: AbortSignal;
  /** Called when this run starts waiting for another live mpip (once per holder). */
  onWait?(blocker: Blocker): void;
  /** Called when a lock left by a process that is gone is removed. */
  onTakeover?(holder: Holder, reason: string, layout: TargetLayout): void;
  pollMs?: number;
  /** How long an unreadable lock must stay unchanged before it is taken over (default 2 s). */
  unreadableGraceMs?: number;
  /** How long a lock from another host must stay unrefreshed before it is taken over (default 120 s). */
  foreignStaleMs?: number;
  /** How often the holder refreshes its lock's mtime (default 10 s). */
  heartbeatMs?: number;
}

const UNREADABLE_GRACE_MS = 2000;
/** Well above the heartbeat, and above NFS's default attribute cache time (60 s). */
const FOREIGN_STALE_MS = 120_000;
const HEARTBEAT_MS = 10_000;
/** Times the lock's folder may vanish under us (removed by the run we waited for) before that is an error. */
const MAX_FOLDER_RETRIES = 20;

/** The texts of the locks this process holds or is creating, so two installs in one process wait for each other too. */
const ownTexts = new Set<string>();

export class TargetLock {
  private released = false;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly layout: TargetLayout,
    private readonly text: string,
    /** The topmost folder this run created for the lock, removed again if left empty. */
    private readonly createdFolder: string | undefined,
    heartbeatMs: number,
  ) {
    this.heartbeat = setInterval(() => {
      const now = new Date();
      utimes(layout.lock, now, now).catch(() => undefined);
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * Takes the lock of `layout`'s target once no run on it, or on a target that contains it or lies
   * inside it, is live; waits for them (or throws `locked` with `wait: false`).
   * @throws MpipError `locked`, `io`; an AbortError when `signal` is aborted while waiting.
   */
  static async acquire(layout: TargetLayout, options: LockOptions): Promise<TargetLock> {
    const folders = { created: await createFolders(layout.home, `the folder that holds mpip's lock for \`${printable(layout.target)}\``) };
    const identity = ownIdentity();
    const owner: LockOwner = { ...identity, operation: options.operation ?? "install", hostname: os.hostname(), since: new Date().toISOString() };
    const text = `${JSON.stringify({ ...owner, id: randomBytes(6).toString("hex") })}\n`;
    const watch = new Watch(options);
    try {
      for (;;) {
        await takeOwnFile(layout, text, options, watch, folders);
        const lock = new TargetLock(layout, text, folders.created, options.heartbeatMs ?? HEARTBEAT_MS);
        let blocked: "clear" | "yielded";
        try {
          blocked = await waitForOverlapping(lock, layout, options, watch);
        } catch (error) {
          // Interrupted (or refused with --no-wait) while holding our lock and waiting for an inner run.
          await lock.releaseFile();
          throw error;
        }
        if (blocked === "clear") {
          await clearDeadGuard(layout.takeover, watch, true);
          return lock;
        }
        // Yielded to an outer run: take our own lock again from the start.
      }
    } catch (error) {
      await removeEmptyFolders(layout.home, folders.created);
      throw error;
    }
  }

  /** Removes the lock file (only if it is still this run's) and any folder this run created for it and left empty. */
  async release(): Promise<void> {
    await this.releaseFile();
    await removeEmptyFolders(this.layout.home, this.createdFolder);
  }

  /** Lets go of the lock file only (to yield to an outer run, or at the end). */
  async releaseFile(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    const current = await readFile(this.layout.lock, "utf8").catch(() => undefined);
    if (current === this.text) await unlink(this.layout.lock).catch(() => undefined);
    // Only now: until the file is gone, a waiter in this process must not take it for a dead process's.
    ownTexts.delete(this.text);
  }
}

/** Creates our lock file, waiting while a live run holds it; takes over a dead run's. */
async function takeOwnFile(layout: TargetLayout, text: string, options: LockOptions, watch: Watch, folders: { created: string | undefined }): Promise<void> {
  let vanished = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    ownTexts.add(text); // before the file exists, so no other waiter here can mistake it for a dead process's
    let created: CreateResult = "exists";
    try {
      created = await create(layout, text, options.operation ?? "install");
    } finally {
      if (created !== "created") ownTexts.delete(text);
    }
    if (created === "created") return;
    if (created === "no-folder") {
      // The run we waited for created the folder and removed it again when it finished: make it again.
      if (++vanished > MAX_FOLDER_RETRIES) {
        throw new MpipError("io", `cannot lock the target folder \`${printable(layout.target)}\`: the folder \`${printable(layout.home)}\` keeps disappearing`, {
          hint: "something else is removing that folder; stop it, or choose another target with -p",
        });
      }
      folders.created = (await createFolders(layout.home, `the folder that holds mpip's lock for \`${printable(layout.target)}\``)) ?? folders.created;
      continue;
    }
    const holder = await readHolder(layout.lock);
    if (holder === undefined) continue; // released meanwhile: try again at once
    if (await takeOverIfGone(layout, holder, options, watch)) continue;
    await waitFor({ holder, file: layout.lock, layout, relation: "self" }, options, watch);
  }
}

/**
 * With our own lock held, looks for live runs on overlapping targets. Returns "clear" when there are
 * none; "yielded" when we let go of our lock for an outer run and waited for it to end.
 */
async function waitForOverlapping(lock: TargetLock, layout: TargetLayout, options: LockOptions, watch: Watch): Promise<"clear" | "yielded"> {
  for (;;) {
    const blocker = await liveOverlapping(layout, options, watch);
    if (blocker === undefined) return "clear";
    // The outer run goes first; of one target's two layouts, the one beside it.
    const yielding = blocker.relation === "ancestor" || (blocker.relation === "same" && layout.mode === "inside");
    if (yielding || !options.wait) await lock.releaseFile();
    await waitFor(blocker, options, watch);
    if (yielding) return "yielded";
  }
}

async function liveOverlapping(layout: TargetLayout, options: LockOptions, watch: Watch): Promise<Blocker | undefined> {
  const { locks } = await scanOverlaps(layout);
  for (const found of locks) {
    const holder = await readHolder(found.file);
    if (holder === undefined) continue;
    if (await takeOverIfGone(found.layout, holder, options, watch)) continue;
    return blockerOf(found, holder);
  }
  return undefined;
}

function blockerOf(found: Found, holder: Holder): Blocker {
  return { holder, file: found.file, layout: found.layout, relation: found.relation };
}

/** Waits until `blocker`'s lock file is gone, changes hands, or is left by a run that is gone (then removed). */
async function waitFor(blocker: Blocker, options: LockOptions, watch: Watch): Promise<void> {
  if (!options.wait) throw lockedError(blocker);
  watch.announce(blocker);
  for (;;) {
    await sleep(options.pollMs ?? 100, undefined, options.signal === undefined ? {} : { signal: options.signal });
    const holder = await readHolder(blocker.file);
    if (holder === undefined || holder.text !== blocker.holder.text) return;
    if (await takeOverIfGone(blocker.layout, holder, options, watch)) return;
  }
}

/** If `holder`'s run is gone, removes its lock (guarded) and returns true. */
async function takeOverIfGone(layout: TargetLayout, holder: Holder, options: LockOptions, watch: Watch): Promise<boolean> {
  const reason = staleReason(holder, watch, layout.lock);
  if (reason === undefined) return false;
  if (await removeStale(layout, holder, watch)) options.onTakeover?.(holder, reason, layout);
  return true;
}

/** What we have seen of lock files over time, by our own monotonic clock, and what we have said. */
class Watch {
  private readonly seen = new Map<string, { text: string; mtimeMs: number; since: number }>();
  private announced: string | undefined;
  constructor(readonly options: LockOptions) {}

  /** How long (ms) `file` has shown this content and mtime without change. */
  unchangedFor(file: string, holder: Holder): number {
    const now = performance.now();
    const last = this.seen.get(file);
    if (last === undefined || last.text !== holder.text || last.mtimeMs !== holder.mtimeMs) {
      this.seen.set(file, { text: holder.text, mtimeMs: holder.mtimeMs, since: now });
      return 0;
    }
    return now - last.since;
  }

  announce(blocker: Blocker): void {
    const key = `${blocker.file}\0${blocker.holder.text}`;
    if (this.announced === key) return;
    this.announced = key;
    this.options.onWait?.(blocker);
  }
}

/** Why the holder is gone (so its lock may be taken over), or undefined while it may still be running. */
function staleReason(holder: Holder, watch: Watch, file: string): string | undefined {
  const { owner } = holder;
  const unchanged = watch.unchangedFor(file, holder);
  if (owner === undefined) return unchanged >= (watch.options.unreadableGraceMs ?? UNREADABLE_GRACE_MS) ? "its lock file names no owner" : undefined;
  const limit = watch.options.foreignStaleMs ?? FOREIGN_STALE_MS;
  const seconds = Number((limit / 1000).toFixed(1));
  if (owner.hostname !== os.hostname() || !sharesPidSpace(owner)) {
    // Another machine, container or boot: its pid means nothing here; its heartbeat does.
    const where = owner.hostname !== os.hostname() ? `on host \`${printable(owner.hostname)}\`` : "in another container or boot of this host";
    return unchanged >= limit ? `its run ${where} has not refreshed it for ${seconds} s` : undefined;
  }
  if (owner.pid === process.pid) return ownTexts.has(holder.text) ? undefined : "that pid is now this process";
  if (!isSameProcessRunning(owner)) return "that process is no longer running";
  // A pid with no start time to compare (an older mpip, a file written by hand) may belong to anything
  // now: a live mpip refreshes its lock, so one not refreshed for long is left.
  if (owner.start === undefined && unchanged >= limit) return `its pid is running, but it has not refreshed the lock for ${seconds} s`;
  return undefined;
}

/** Removes `folder` and its ancestors up to `createdTop` (the folders this run created), while they are empty. */
async function removeEmptyFolders(folder: string, createdTop: string | undefined): Promise<void> {
  if (createdTop === undefined) return;
  for (let dir = folder; dir.length >= createdTop.length; dir = path.dirname(dir)) {
    if (!(await rmdir(dir).then(() => true, () => false))) break;
  }
}

/** What a lock's holder is doing to its target, as its lock says: "installing into", "uninstalling from". */
export function holderDoing(holder: Holder): string {
  return words(recordedOperation(holder.owner?.operation)).doing;
}

/** How to name a holder in a message: "pid 123", "pid 123 on host `box`", "an unknown process". */
export function describeHolder(holder: Holder): string {
  if (holder.owner === undefined) return "an unknown process";
  const host = holder.owner.hostname === os.hostname() ? "" : ` on host \`${printable(holder.owner.hostname)}\``;
  return `pid ${holder.owner.pid}${host}`;
}

type CreateResult = "created" | "exists" | "no-folder";

async function create(layout: TargetLayout, text: string, operation: TargetOperation): Promise<CreateResult> {
  const file = layout.lock;
  let handle;
  try {
    handle = await open(file, "wx");
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return "exists";
    if (errnoCode(error) === "ENOENT") {
      // The folder went away (the run we waited for removed it), or it is there and takes no new files.
      const there = await stat(layout.home).then((info) => info.isDirectory(), () => false);
      if (!there) return "no-folder";
      throw new MpipError("io", `cannot lock the target folder \`${printable(layout.target)}\`: cannot create \`${printable(file)}\` (ENOENT)`, {
        cause: error,
        hint: `\`${printable(layout.home)}\` takes no new files (a virtual filesystem such as /proc or /sys): choose another folder with -p`,
      });
    }
    const keeps = `mpip keeps a lock file, a staging folder and a journal in \`${layout.home}\` while it ${words(operation).does}`;
    throw ioError(`cannot lock the target folder \`${layout.target}\`: cannot create \`${file}\``, error, `${keeps}: make it writable`, keeps);
  }
  try {
    await handle.writeFile(text);
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    throw ioError(`cannot lock the target folder \`${layout.target}\`: cannot write \`${file}\``, error, `make \`${layout.home}\` writable`);
  }
  return "created";
}

export async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { text, owner: parseOwner(text), mtimeMs: info.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(`cannot read the lock file \`${file}\``, error, "check the permissions of the folder that holds it; if no mpip is running, remove it");
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

/** Removes the lock `holder` was read from, unless it changed meanwhile. True when it was removed. */
async function removeStale(layout: TargetLayout, holder: Holder, watch: Watch): Promise<boolean> {
  let guard;
  try {
    guard = await open(layout.takeover, "wx");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false; // the folder went away: the caller's loop makes it again
    if (errnoCode(error) !== "EEXIST") throw ioError(`cannot take over the lock \`${layout.lock}\``, error, `make \`${layout.home}\` writable`);
    await clearDeadGuard(layout.takeover, watch, false);
    return false;
  }
  try {
    await guard.writeFile(JSON.stringify(ownIdentity()));
    await guard.close();
    const current = await readHolder(layout.lock);
    if (current?.text !== holder.text) return false;
    await unlink(layout.lock).catch(() => undefined);
    return true;
  } finally {
    await guard.close().catch(() => undefined);
    await unlink(layout.takeover).catch(() => undefined);
  }
}

/**
 * The takeover guard is held for a few system calls; one whose writer is gone (killed between creating
 * and removing it) is removed. With `once`, only looks (no waiting for a live writer).
 */
async function clearDeadGuard(file: string, watch: Watch, once: boolean): Promise<void> {
  const holder = await readHolder(file).catch(() => undefined);
  if (holder === undefined) return;
  let writer: { pid: number; start?: string } | undefined;
  try {
    const parsed = JSON.parse(holder.text) as unknown;
    // Older guards hold a bare pid.
    if (typeof parsed === "number") writer = { pid: parsed };
    else if (typeof parsed === "object" && parsed !== null && typeof (parsed as { pid?: unknown }).pid === "number") {
      const { pid, start } = parsed as { pid: number; start?: unknown };
      writer = typeof start === "string" ? { pid, start } : { pid };
    }
  } catch {
    writer = undefined;
  }
  const dead = writer === undefined
    ? watch.unchangedFor(file, holder) >= (watch.options.unreadableGraceMs ?? UNREADABLE_GRACE_MS) || (once && holder.text === "")
    : writer.pid !== process.pid && !isSameProcessRunning(writer);
  if (dead) await unlink(file).catch(() => undefined);
  else if (!once) await sleep(10);
}

function lockedError(blocker: Blocker): MpipError {
  const { holder } = blocker;
  const since = holder.owner === undefined ? "" : `, since ${printable(holder.owner.since)}`;
  const target = printable(blocker.layout.target);
  const where = blocker.relation === "ancestor" ? ` \`${target}\`, which holds this target`
    : blocker.relation === "descendant" ? ` \`${target}\`, inside this target`
    : ` \`${target}\``;
  return new MpipError("locked", `another mpip (${describeHolder(holder)}${since}) is ${holderDoing(holder)}${where}`, {
    hint: `run again without --no-wait to wait for it; if no mpip is running, remove \`${printable(blocker.file)}\``,
  });
}
