// After kill -9, everything a run created is either removed by the next run or lived where the kill
// removed it, and no state left behind can make mpip wait forever: a native mpy-cross still running
// from a killed run, its temporary copies of the sources, a lock take-over guard, a lock file whose
// time is in the future or whose pid now belongs to another process, a lock from a host that stopped.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { besideLayout } from "../../src/image/layout.js";
import { TargetLock } from "../../src/image/lock.js";
import { processStart } from "../../src/image/processes.js";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startMpip, until } from "../helpers/process.js";
import { buildSdist, sdistFilename } from "../helpers/sdist.js";
import { budget } from "../helpers/budget.js";

let work: { dir: string; cleanup: () => Promise<void> };
let sdists: string;
let counter = 0;

before(async () => {
  work = await tempDir("mpip-leftovers-");
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  const spec = { name: "left-pkg", version: "1.0", files: { "left_pkg/__init__.py": "L = 1\n", "left_pkg/more.py": "M = 1\n" } };
  await writeFile(path.join(sdists, sdistFilename(spec)), await buildSdist(spec));
});
after(async () => {
  await work.cleanup();
});

const install = (target: string, ...more: string[]) => ["install", "--no-index", "-f", sdists, "-p", target, "left-pkg", ...more];

async function scene(): Promise<{ parent: string; target: string }> {
  const parent = path.join(work.dir, `case-${++counter}`);
  await mkdir(path.join(parent, "img"), { recursive: true });
  return { parent, target: path.join(parent, "img") };
}

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as ended). */
function alive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Polls until `condition` holds, for at most `ms`; says whether it did. */
async function eventually(condition: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 10))) if (condition()) return true;
  return condition();
}

describe("what a killed run leaves", () => {
  test("a native mpy-cross still running after kill -9 is stopped by the next run, and its files were in the staging folder", { skip: process.platform === "linux" ? undefined : "process start times are read from /proc" }, async () => {
    const { parent, target } = await scene();
    const tmp = path.join(work.dir, `tmp-${counter}`);
    await mkdir(tmp);
    const fake = path.join(work.dir, `mpy-cross-${counter}`);
    await writeFile(fake, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "MicroPython v1.19.1 on 2022-06-18; mpy-cross emitting mpy v6"; exit 0; fi\nexec sleep 300\n');
    await chmod(fake, 0o755);
    const running = startMpip(install(target, "--compile", "--mpy-cross", fake), { env: { TMPDIR: tmp } });
    let children: string | undefined;
    assert.ok(await until(async () => {
      const staging = (await readdir(parent)).find((name) => name.startsWith(".img.mpip-staging-"));
      if (staging === undefined) return false;
      const folder = path.join(parent, staging, "scratch", "children");
      const records = await readdir(folder).catch(() => [] as string[]);
      if (records.length === 0) return false;
      children = path.join(folder, records[0]!);
      return (await readFile(children, "utf8").catch(() => "")).includes("start");
    }, running), running.stderr());
    const compiler = (JSON.parse(await readFile(children!, "utf8")) as { pid: number }).pid;
    running.child.kill("SIGKILL");
    await running.exited;
    assert.ok(alive(compiler), "the compiler outlived the kill");
    assert.deepEqual(await readdir(tmp), [], "nothing in the system's temp folder");
    const next = await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "no-such-package"]);
    assert.equal(next.code, 1);
    assert.ok(await eventually(() => !alive(compiler), budget(10_000)), "the next run stopped the compiler");
    assert.deepEqual((await readdir(parent)).sort(), ["img"]);
  });

  test("a lock take-over guard left by a kill is removed", async () => {
    const { parent, target } = await scene();
    await writeFile(besideLayout(target).takeover, JSON.stringify({ pid: 999_999_999 }));
    const result = await runMpip(install(target));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(parent)).sort(), ["img"]);
  });

  test("an unreadable lock file whose time is in the future is taken over, not waited for forever", async () => {
    const { parent, target } = await scene();
    const lock = besideLayout(target).lock;
    await writeFile(lock, "not a lock\u0000");
    const future = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
    await utimes(lock, future, future);
    const result = await runMpip(install(target));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Took over the lock on `.*img` left by an mpip that did not finish \(an unknown process\): its lock file names no owner/);
    assert.deepEqual((await readdir(parent)).sort(), ["img"]);
  });

  test("a lock naming a live pid that belongs to a later process (a reused pid) is taken over", { skip: processStart(process.pid) === undefined ? "process start times are not readable here" : undefined }, async () => {
    const { target } = await scene();
    await writeFile(besideLayout(target).lock, JSON.stringify({ pid: process.pid, start: "1", hostname: os.hostname(), since: "2099-01-01T00:00:00.000Z", id: "x" }));
    const result = await runMpip(install(target));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Took over the lock on `.*img` .*: that process is no longer running/);
  });

  test("a lock from another host that stopped refreshing it is taken over after a while", async () => {
    const { parent, target } = await scene();
    const layout = besideLayout(target);
    await writeFile(layout.lock, JSON.stringify({ pid: 4242, hostname: "some-stopped-host", since: "2099-01-01T00:00:00.000Z", id: "x" }));
    const takeovers: string[] = [];
    const lock = await TargetLock.acquire(layout, { wait: true, pollMs: 5, foreignStaleMs: 100, onTakeover: (_holder, reason) => takeovers.push(reason) });
    await lock.release();
    assert.deepEqual(takeovers, ["its run on host `some-stopped-host` has not refreshed it for 0.1 s"]);
    assert.deepEqual((await readdir(parent)).sort(), ["img"]);
  });

  test("a lock from another host that keeps refreshing it is waited for", async () => {
    const { target } = await scene();
    const layout = besideLayout(target);
    await writeFile(layout.lock, JSON.stringify({ pid: 4242, hostname: "some-live-host", since: "2099-01-01T00:00:00.000Z", id: "x" }));
    const beat = setInterval(() => void utimes(layout.lock, new Date(), new Date()).catch(() => undefined), 20);
    const controller = new AbortController();
    let waited = false;
    const attempt = TargetLock.acquire(layout, { wait: true, pollMs: 5, foreignStaleMs: 1000, signal: controller.signal, onWait: () => (waited = true) });
    // Three times the stale time with a heartbeat going: still waiting.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    clearInterval(beat);
    controller.abort("SIGINT");
    await assert.rejects(attempt);
    assert.ok(waited);
    assert.ok((await snapshot(path.dirname(target)))[".img.mpip-lock"] !== undefined, "the live host's lock is still there");
  });
});
