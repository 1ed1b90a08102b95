// After kill -9, everything a run created is either removed by the next run or lived where the kill
// removed it, and no state left behind can make mpip wait forever: a native mpy-cross still running
// from a killed run, its temporary copies of the sources, a lock take-over guard, a lock file whose
// time is in the future or whose pid now belongs to another process, a lock from a host that stopped.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
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
    const compiler = await recordedChild(parent, running, /sleep 300/);
    running.child.kill("SIGKILL");
    await running.exited;
    assert.ok(alive(compiler), "the compiler outlived the kill");
    assert.deepEqual(await readdir(tmp), [], "nothing in the system's temp folder");
    const next = await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "no-such-package"]);
    assert.equal(next.code, 1);
    assert.ok(await eventually(() => !alive(compiler), budget(10_000)), "the next run stopped the compiler");
    assert.deepEqual((await readdir(parent)).sort(), ["img"]);
  });

  test("a process a planted record names (its start time read from /proc, any token) is not stopped; the folder still goes", { skip: process.platform === "linux" ? undefined : "process start times are read from /proc" }, async (t) => {
    const { parent, target } = await scene();
    const victim = spawn("sleep", ["300"], { stdio: "ignore" });
    t.after(() => victim.kill("SIGKILL"));
    const pid = victim.pid!;
    const start = processStart(pid)!;
    // Anyone who can write beside the target can write such a folder: mpip's marker, a pid long gone, and child records.
    const staging = path.join(parent, ".img.mpip-staging-999999-deadbeef");
    await mkdir(path.join(staging, "scratch", "children"), { recursive: true });
    await writeFile(path.join(staging, "mpip-staging.json"), JSON.stringify({ mpip: 1, mode: "beside", target: "img", pid: 999999 }));
    await writeFile(path.join(staging, "scratch", "children", "1.json"), JSON.stringify({ pid, start }));
    await writeFile(path.join(staging, "scratch", "children", "2.json"), JSON.stringify({ pid, start, token: "0".repeat(32) }));
    const next = await runMpip(install(target));
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /Removed `\.img\.mpip-staging-999999-deadbeef`/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(alive(pid), "the process the record named is still running");
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

  test("a native mpy-cross that ignores SIGTERM cannot keep mpip from stopping on Ctrl-C", { skip: process.platform === "linux" ? undefined : "process start times are read from /proc" }, async () => {
    const { parent, target } = await scene();
    const stubborn = path.join(work.dir, `stubborn-${counter}`);
    await writeFile(stubborn, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "MicroPython v1.19.1 on 2022-06-18; mpy-cross emitting mpy v6"; exit 0; fi\ntrap "" TERM\nwhile :; do sleep 1; done\n');
    await chmod(stubborn, 0o755);
    const running = startMpip(install(target, "--compile", "--mpy-cross", stubborn));
    const compiler = await recordedChild(parent, running, / -o /);
    running.child.kill("SIGINT");
    const exit = await running.exited;
    assert.equal(exit.code, 130, exit.stderr);
    assert.ok(await eventually(() => !alive(compiler), budget(10_000)), "the compiler was stopped");
    assert.deepEqual((await readdir(parent)).sort(), ["img"]);
  });

  test("a kill -9 while mpip asks a native mpy-cross its version leaves nothing running after the next run", { skip: process.platform === "linux" ? undefined : "process start times are read from /proc" }, async () => {
    const { parent, target } = await scene();
    const mute = path.join(work.dir, `mute-${counter}`);
    await writeFile(mute, "#!/bin/sh\nexec sleep 300\n");
    await chmod(mute, 0o755);
    const running = startMpip(install(target, "--compile", "--mpy-cross", mute));
    const probe = await recordedChild(parent, running, /sleep 300|--version/);
    running.child.kill("SIGKILL");
    await running.exited;
    assert.ok(alive(probe), "the version check outlived the kill");
    assert.equal((await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "no-such-package"])).code, 1);
    assert.ok(await eventually(() => !alive(probe), budget(10_000)), "the next run stopped it");
    assert.deepEqual((await readdir(parent)).sort(), ["img"]);
  });

  test("a relative --mpy-cross path means the same while compiling as when asked its version", async () => {
    const { target } = await scene();
    const { compileSource } = await import("../../src/mpy/compile.js");
    const real = path.join(work.dir, `real-${counter}.mpy`);
    await writeFile(real, await compileSource("X = 1\n", "x.py"));
    const folder = path.join(work.dir, `tools-${counter}`);
    await mkdir(folder);
    await writeFile(path.join(folder, "fake-mpy-cross"), `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "MicroPython v1.19.1 on 2022-06-18; mpy-cross emitting mpy v6"; exit 0; fi\nwhile [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then out="$2"; fi; shift; done\ncp "${real}" "$out"\n`);
    await chmod(path.join(folder, "fake-mpy-cross"), 0o755);
    const result = await runMpip(install(target, "--compile", "--mpy-cross", "./fake-mpy-cross"), { cwd: folder });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(path.join(target, "left_pkg"))).sort(), ["__init__.mpy", "more.mpy"]);
  });
});

/**
 * The pid of a child process a run records in its staging folder (a native compiler, or its version
 * check) that is still running the command `running` names.
 */
async function recordedChild(parent: string, run: ReturnType<typeof startMpip>, running: RegExp): Promise<number> {
  let pid: number | undefined;
  assert.ok(await until(async () => {
    const staging = (await readdir(parent)).find((name) => name.startsWith(".img.mpip-staging-"));
    if (staging === undefined) return false;
    const folder = path.join(parent, staging, "scratch", "children");
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const record = await readFile(path.join(folder, name), "utf8").catch(() => "");
      if (!record.includes("start")) continue;
      const candidate = (JSON.parse(record) as { pid: number }).pid;
      const command = await readFile(`/proc/${candidate}/cmdline`, "utf8").catch(() => "");
      if (running.test(command.split("\0").join(" "))) pid = candidate;
    }
    return pid !== undefined;
  }, run), run.stderr());
  return pid!;
}
