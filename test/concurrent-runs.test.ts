// Two or more mpip runs on one target: the later one waits for the earlier and says so, or fails at once
// with --no-wait; a lock left by a process that is gone is taken over, and said so. The index server
// holds the first run's download until the test lets it go, so "the first run holds the lock" is a fact
// the test sees, not a guess about timing.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir } from "./helpers/cli.js";
import { holdRequests } from "./helpers/gate.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { beside, sleep, startMpip, until } from "./helpers/process.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-concurrent-");
  for (const name of ["first", "second", "third", "fourth"]) {
    await server.addSdist({ name: `run-${name}`, version: "1.0", files: { [`run_${name}/__init__.py`]: `NAME = "${name}"\n`, [`run_${name}/data.py`]: "X = 1\n" } });
  }
});
after(async () => {
  await server.close();
  await work.cleanup();
});

async function freshParent(): Promise<{ parent: string; target: string; lock: string }> {
  // Real path: mpip names the target with links resolved (e.g. macOS's /var → /private/var).
  const parent = path.join(realpathSync(work.dir), `case-${++counter}`);
  await mkdir(parent);
  return { parent, target: path.join(parent, "image"), lock: path.join(parent, ".image.mpip-lock") };
}

const install = (target: string, name: string, ...extra: string[]) => ["install", "--no-record", "-i", server.url, "-p", target, ...extra, `run-${name}`];

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

describe("concurrent runs on one target", () => {
  test("the second run waits for the first, says so, then installs", async () => {
    const { parent, target } = await freshParent();
    const gate = holdRequests(server, "file", (p) => p.includes("run-first-1.0"));
    try {
      const first = startMpip(install(target, "first"));
      await gate.arrived; // the first run holds the lock from before it stages anything
      const second = startMpip(install(target, "second"));
      assert.ok(await until(() => /Waiting for another mpip/.test(second.stderr()), second), second.stderr());
      assert.match(second.stderr(), new RegExp(`^Waiting for another mpip \\(pid ${first.pid}\\) installing into \`${escape(target)}\`\\.\\.\\.`, "m"));
      gate.open();
      const [a, b] = await Promise.all([first.exited, second.exited]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
    } finally {
      gate.restore();
    }
    assert.deepEqual(await listFiles(target), ["run_first/__init__.py", "run_first/data.py", "run_second/__init__.py", "run_second/data.py"]);
    assert.deepEqual(await beside(parent, "image"), []);
  });

  test("with --no-wait the second run fails at once and changes nothing", async () => {
    const { parent, target, lock } = await freshParent();
    const gate = holdRequests(server, "file", (p) => p.includes("run-first-1.0"));
    try {
      const first = startMpip(install(target, "first"));
      await gate.arrived;
      const second = await runMpip(install(target, "second", "--no-wait"));
      assert.equal(second.code, 1);
      assert.equal(
        second.stderr,
        `error: another mpip (pid ${first.pid}, since ${(JSON.parse(readFileSync(lock, "utf8")) as { since: string }).since}) is installing into \`${target}\`\n\n` +
          `hint: run again without --no-wait to wait for it; if no mpip is running, remove \`${lock}\`\n`,
      );
      gate.open();
      assert.equal((await first.exited).code, 0);
    } finally {
      gate.restore();
    }
    assert.deepEqual(await listFiles(target), ["run_first/__init__.py", "run_first/data.py"]);
    assert.deepEqual(await beside(parent, "image"), []);
  });

  test("--no-wait --json reports the lock as an error with a stable code", async () => {
    const { target, lock } = await freshParent();
    await mkdir(path.dirname(lock), { recursive: true });
    await writeFile(lock, JSON.stringify({ pid: process.pid, hostname: os.hostname(), since: "2020-01-01T00:00:00.000Z" }));
    const result = await runMpip(install(target, "first", "--no-wait", "--json"));
    assert.equal(result.code, 1);
    assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, "locked");
  });

  test("into a target that does not exist yet, the roots are asked for while the run waits for the lock; into one that exists, not before it has the lock", async () => {
    const { target, lock } = await freshParent();
    const held = JSON.stringify({ pid: process.pid, hostname: os.hostname(), since: "2020-01-01T00:00:00.000Z" });
    const asked = (name: string) => server.requests.filter((request) => request.endsWith(`/run-${name}/json`)).length;
    // Fresh: the look-up goes out before the lock is had (a live process, this one, holds it).
    await writeFile(lock, held);
    const before = asked("first");
    const fresh = startMpip(install(target, "first"));
    assert.ok(await until(() => /Waiting for another mpip/.test(fresh.stderr()), fresh), fresh.stderr());
    // Still waiting (the lock is this process's, and held): the document was asked for before the lock was had.
    assert.ok(await until(() => asked("first") > before, fresh), fresh.stderr());
    assert.ok(existsSync(lock) && !fresh.done && !/Took over/.test(fresh.stderr()), fresh.stderr());
    await rm(lock);
    const done = await fresh.exited;
    assert.equal(done.code, 0, done.stderr);
    assert.equal(asked("first") - before, 1, "the level took the look-up made while it waited: the document was asked for once");
    assert.deepEqual(await listFiles(target), ["run_first/__init__.py", "run_first/data.py"]);
    // The target exists now: a root it may already hold is not asked for until the run has the lock.
    await writeFile(lock, held);
    const second = asked("second");
    const existing = startMpip(install(target, "second"));
    assert.ok(await until(() => /Waiting for another mpip/.test(existing.stderr()), existing), existing.stderr());
    await sleep(300);
    assert.equal(asked("second"), second, "nothing asked before the lock");
    await rm(lock);
    const after = await existing.exited;
    assert.equal(after.code, 0, after.stderr);
    assert.equal(asked("second") - second, 1);
    // A target below a file cannot be made: nothing is asked of the index for it.
    await writeFile(path.join(path.dirname(target), "a-file"), "");
    const third = asked("third");
    const below = await runMpip(install(path.join(path.dirname(target), "a-file", "image"), "third"));
    assert.equal(below.code, 1, below.stderr);
    assert.equal(asked("third"), third);
  });

  test("a lock left by a process that is gone is taken over, and said so", async () => {
    const { parent, target, lock } = await freshParent();
    const pid = await deadPid();
    await writeFile(lock, JSON.stringify({ pid, hostname: os.hostname(), since: "2020-01-01T00:00:00.000Z" }));
    const result = await runMpip(install(target, "first", "--no-wait"));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`^Took over the lock on \`${escape(target)}\` left by an mpip that did not finish \\(pid ${pid}\\): that process is no longer running$`, "m"));
    assert.deepEqual(await beside(parent, "image"), []);
  });

  test("four runs at once, on a target with a dead lock, each install in turn", async () => {
    const { parent, target, lock } = await freshParent();
    await writeFile(lock, JSON.stringify({ pid: await deadPid(), hostname: os.hostname(), since: "2020-01-01T00:00:00.000Z" }));
    const runs = ["first", "second", "third", "fourth"].map((name) => startMpip(install(target, name)));
    const exits = await Promise.all(runs.map((run) => run.exited));
    for (const exit of exits) assert.equal(exit.code, 0, exit.stderr);
    assert.equal(exits.filter((exit) => /Took over the lock/.test(exit.stderr)).length, 1, "exactly one run takes the dead lock over");
    assert.equal((await listFiles(target)).length, 8);
    assert.deepEqual(await beside(parent, "image"), []);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
