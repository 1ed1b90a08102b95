// The target lock, in-process: one holder at a time, waiting or failing at once, and locks left by
// processes that are gone (dead pid, our own pid reused, a file with no owner) taken over.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, utimes, writeFile, mkdir, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { TargetLock, type Holder, type LockOptions } from "../../src/image/lock.js";
import { besideLayout } from "../../src/image/layout.js";
import { scanOverlaps } from "../../src/image/overlap.js";
import { tempDir } from "../helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-lock-");
});
after(async () => {
  await work.cleanup();
});

async function freshTarget(): Promise<string> {
  const parent = path.join(work.dir, `case-${++counter}`);
  await mkdir(parent);
  return path.join(parent, "image");
}

/** A pid that was running a moment ago and is not any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

const acquire = (target: string, options: LockOptions) => TargetLock.acquire(besideLayout(target), options);

const ownerText = (pid: number, hostname = os.hostname()) => JSON.stringify({ pid, hostname, since: "2020-01-01T00:00:00.000Z", id: "test" });

describe("target lock", () => {
  test("holds a lock file naming its owner, and removes it on release", async () => {
    const target = await freshTarget();
    const lock = await acquire(target, { wait: false });
    const owner = JSON.parse(await readFile(besideLayout(target).lock, "utf8"));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.hostname, os.hostname());
    await lock.release();
    assert.deepEqual(await readdir(path.dirname(target)), []);
  });

  test("creates a missing parent folder and removes it again if it is left empty", async () => {
    const top = path.join(work.dir, `case-${++counter}`);
    const lock = await acquire(path.join(top, "deeper", "still", "image"), { wait: false });
    await lock.release();
    assert.equal(await readdir(top).then(() => "exists", () => "gone"), "gone");
  });

  test("a second holder fails at once without waiting, and waits otherwise", async () => {
    const target = await freshTarget();
    const first = await acquire(target, { wait: false });
    await assert.rejects(acquire(target, { wait: false }), (error: unknown) => {
      assert.ok(error instanceof MpipError);
      assert.equal(error.code, "locked");
      assert.match(error.message, new RegExp(`^another mpip \\(pid ${process.pid}, since .*\\) is installing into \`.*image\`$`));
      assert.match(error.hint ?? "", /without --no-wait/);
      return true;
    });
    const waits: Holder[] = [];
    const second = acquire(target, { wait: true, pollMs: 5, onWait: (blocker) => waits.push(blocker.holder) });
    while (waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.release();
    const lock = await second;
    assert.equal(waits.length, 1, "says it waits once per holder");
    assert.equal(waits[0]!.owner?.pid, process.pid);
    await lock.release();
  });

  test("a waiter whose holder removed the parent folder it had created takes the lock all the same", async () => {
    const top = path.join(work.dir, `case-${++counter}`);
    const target = path.join(top, "deeper", "image");
    const first = await acquire(target, { wait: false });
    const waits: Holder[] = [];
    // The waiter looks again only after a long pause, so the folder is seen gone before it does.
    const second = acquire(target, { wait: true, pollMs: 1000, onWait: (blocker) => waits.push(blocker.holder) });
    while (waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.release();
    assert.equal(await readdir(top).then(() => "exists", () => "gone"), "gone", "the first holder removed the folders it created");
    const lock = await second;
    assert.equal(JSON.parse(await readFile(besideLayout(target).lock, "utf8")).pid, process.pid);
    await lock.release();
    assert.equal(await readdir(top).then(() => "exists", () => "gone"), "gone");
  });

  test("takes over a lock whose process is no longer running", async () => {
    const target = await freshTarget();
    const pid = await deadPid();
    await writeFile(besideLayout(target).lock, ownerText(pid));
    const takeovers: string[] = [];
    const lock = await acquire(target, { wait: false, onTakeover: (holder, reason) => takeovers.push(`${holder.owner?.pid}: ${reason}`) });
    assert.deepEqual(takeovers, [`${pid}: that process is no longer running`]);
    await lock.release();
    assert.deepEqual(await readdir(path.dirname(target)), []);
  });

  test("takes over a lock naming this very process, which does not hold it (a pid reused after a restart)", async () => {
    const target = await freshTarget();
    await writeFile(besideLayout(target).lock, ownerText(process.pid));
    const reasons: string[] = [];
    const lock = await acquire(target, { wait: false, onTakeover: (_holder, reason) => reasons.push(reason) });
    assert.deepEqual(reasons, ["that pid is now this process"]);
    await lock.release();
  });

  test("a lock held by a live process, or from another host, is not taken over", async () => {
    const target = await freshTarget();
    const lockFile = besideLayout(target).lock;
    await writeFile(lockFile, ownerText(process.ppid));
    await assert.rejects(acquire(target, { wait: false }), /another mpip \(pid \d+, since/);
    await writeFile(lockFile, ownerText(await deadPid(), "some-other-host"));
    await assert.rejects(acquire(target, { wait: false }), /another mpip \(pid \d+ on host `some-other-host`, since/);
  });

  test("a lock file with no readable owner is someone writing it, until it is old", async () => {
    const target = await freshTarget();
    const lockFile = besideLayout(target).lock;
    await writeFile(lockFile, "");
    await assert.rejects(acquire(target, { wait: false }), /another mpip \(an unknown process\) is installing/);
    // Its mtime says nothing (it may be in the future): only how long this run has seen it unchanged counts.
    const future = new Date(Date.now() + 3_600_000);
    await utimes(lockFile, future, future);
    const reasons: string[] = [];
    const lock = await acquire(target, { wait: true, pollMs: 5, unreadableGraceMs: 50, onTakeover: (_holder, reason) => reasons.push(reason) });
    assert.deepEqual(reasons, ["its lock file names no owner"]);
    await lock.release();
  });

  test("a takeover guard left by a dead process is cleared", async () => {
    const target = await freshTarget();
    const names = besideLayout(target);
    await writeFile(names.lock, ownerText(await deadPid()));
    await writeFile(names.takeover, String(await deadPid()));
    const lock = await acquire(target, { wait: false });
    await lock.release();
    assert.deepEqual(await readdir(path.dirname(target)), []);
  });

  test("many waiters on a dead lock: exactly one holds it at a time", async () => {
    const target = await freshTarget();
    await writeFile(besideLayout(target).lock, ownerText(await deadPid()));
    let holding = 0;
    let most = 0;
    let takeovers = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const lock = await acquire(target, { wait: true, pollMs: 2, onTakeover: () => takeovers++ });
        holding++;
        most = Math.max(most, holding);
        await new Promise((resolve) => setTimeout(resolve, 3));
        holding--;
        await lock.release();
      }),
    );
    assert.equal(most, 1);
    assert.equal(takeovers, 1);
    assert.deepEqual(await readdir(path.dirname(target)), []);
  });

  test("waiting stops when the signal is aborted", async () => {
    const target = await freshTarget();
    const first = await acquire(target, { wait: false });
    const controller = new AbortController();
    const waiting = acquire(target, { wait: true, pollMs: 5, signal: controller.signal, onWait: () => controller.abort("SIGINT") });
    await assert.rejects(waiting, (error: unknown) => (error as Error).name === "AbortError" || error === "SIGINT");
    await first.release();
    assert.deepEqual(await readdir(path.dirname(target)), []);
  });

  test("release leaves alone a lock that is no longer its own", async () => {
    const target = await freshTarget();
    const lockFile = besideLayout(target).lock;
    const lock = await acquire(target, { wait: false });
    await unlink(lockFile);
    await writeFile(lockFile, ownerText(process.ppid));
    await lock.release();
    assert.match(await readFile(lockFile, "utf8"), new RegExp(`"pid":${process.ppid}`));
  });

  test("overlapping targets: an outer run waits for an inner one, an inner one yields to an outer one, and an interrupted wait leaves no lock", async () => {
    const outer = await freshTarget();
    const inner = path.join(outer, "lib");
    await mkdir(inner, { recursive: true });
    const held = await acquire(inner, { wait: false });
    const waits: string[] = [];
    const outerLock = acquire(outer, { wait: true, pollMs: 5, onWait: (blocker) => waits.push(`${blocker.relation} ${blocker.layout.target}`) });
    while (waits.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(waits, [`descendant ${inner}`]);
    await held.release();
    const outerHeld = await outerLock;
    // Now the inner one yields, and goes on once the outer one is done.
    const innerWaits: string[] = [];
    const innerLock = acquire(inner, { wait: true, pollMs: 5, onWait: (blocker) => innerWaits.push(blocker.relation) });
    while (innerWaits.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(innerWaits, ["ancestor"]);
    assert.equal(await readdir(outer).then((names) => names.includes(".lib.mpip-lock")), false, "the inner run let go of its lock while it waits");
    await outerHeld.release();
    await (await innerLock).release();
    // An outer run interrupted while it waits for an inner one removes its own lock.
    const again = await acquire(inner, { wait: false });
    const controller = new AbortController();
    const interrupted = acquire(outer, { wait: true, pollMs: 5, signal: controller.signal, onWait: () => controller.abort("SIGINT") });
    await assert.rejects(interrupted);
    assert.deepEqual(await readdir(path.dirname(outer)), ["image"], "no lock of the outer run is left");
    await again.release();
    // With nothing left behind, the outer target is free at once.
    await (await acquire(outer, { wait: false })).release();
  });

  test("a target with more folders than can be looked through for runs inside it is refused, not half-checked", async () => {
    const target = await freshTarget();
    for (let i = 0; i < 12; i++) await mkdir(path.join(target, `d${i}`, "deeper"), { recursive: true });
    await assert.rejects(scanOverlaps(besideLayout(target), 10), (error: unknown) => {
      assert.ok(error instanceof MpipError);
      assert.equal(error.code, "bad-target");
      assert.match(error.message, /holds more than 10 folders, too many to look through for other mpip runs inside it; nothing was changed/);
      return true;
    });
    assert.equal((await scanOverlaps(besideLayout(target), 100)).locks.length, 0);
  });

  test("a lock from another pid namespace on this host (a container) is judged by its heartbeat, not by its pid", async () => {
    const target = await freshTarget();
    const lockFile = besideLayout(target).lock;
    // Its pid is alive here (this test's parent), which says nothing: it is another namespace's pid 1.
    await writeFile(lockFile, JSON.stringify({ pid: process.ppid, ns: "pid:[1]", hostname: os.hostname(), since: "x", id: "c" }));
    const beat = setInterval(() => void utimes(lockFile, new Date(), new Date()).catch(() => undefined), 20);
    await assert.rejects(acquire(target, { wait: false }), /another mpip \(pid \d+, since x\) is installing/);
    const controller = new AbortController();
    const waiting = acquire(target, { wait: true, pollMs: 5, foreignStaleMs: 1000, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    controller.abort("SIGINT");
    await assert.rejects(waiting);
    clearInterval(beat);
    const reasons: string[] = [];
    const lock = await acquire(target, { wait: true, pollMs: 5, foreignStaleMs: 100, onTakeover: (_holder, reason) => reasons.push(reason) });
    await lock.release();
    assert.deepEqual(reasons, ["its run in another container or boot of this host has not refreshed it for 0.1 s"]);
  });

  test("a live pid with no start time to compare is taken over once it stops refreshing its lock", async () => {
    const target = await freshTarget();
    await writeFile(besideLayout(target).lock, JSON.stringify({ pid: 1, hostname: os.hostname(), since: "x", id: "n" }));
    const reasons: string[] = [];
    const lock = await acquire(target, { wait: true, pollMs: 5, foreignStaleMs: 100, onTakeover: (_holder, reason) => reasons.push(reason) });
    await lock.release();
    assert.deepEqual(reasons, ["its pid is running, but it has not refreshed the lock for 0.1 s"]);
  });
});
