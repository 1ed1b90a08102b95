// A failing install stops everything else at once (src/cancel.ts). Through the CLI: when one file of a
// package document answers 404, the other files of that document, the other packages of the level and
// the metadata look-ups still in flight are all aborted (the server sees their connections closed), and
// the run reports the 404, not an abort. The stalled responses never end by themselves (--timeout is an
// hour), so an install that waited for its siblings would never finish; the deadline below is only a
// generous bound. Then RunScope alone: the first failure in input order, not the first in time nor the
// aborts it causes, is what is thrown.

import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import type { Socket } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Cancelled, RunScope } from "../src/cancel.js";
import { tempDir } from "./helpers/cli.js";
import { holdRequests } from "./helpers/gate.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { beside, sleep, startMpip, type Running } from "./helpers/process.js";
import { budget } from "./helpers/budget.js";

/** Far beyond how long a cancelled install takes, even on a loaded machine; far below --timeout. */
const DEADLINE_MS = budget(120_000);

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  work = await tempDir("mpip-cancel-");
  await mip.publish({ name: "broken", version: "1.0", mpy: false, files: { "broken/a.py": "A = 1\n", "broken/b.py": "B = 1\n", "broken/c.py": "C = 1\n" } });
  await mip.publish({ name: "sibling", version: "1.0", mpy: false, files: { "sibling.py": "S = 1\n" } });
  // Only on the JSON API, after the v2 index: looking it up is a metadata request of its own.
  await server.addSdist({ name: "elsewhere", version: "1.0", files: { "elsewhere.py": "E = 1\n" } });
});
after(async () => {
  await server?.close();
  await work?.cleanup();
});

/** Resolves with the value, or rejects once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  // The deadline's timer goes as soon as the race is decided: a pending one would hold the process open.
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe("a failed install cancels everything in flight", () => {
  test("one file answers 404: stalled files, another package and a metadata look-up are aborted, and the 404 is reported", async (t) => {
    const hashOf = (name: string, dest: string) => mip.hashOf("py", name, dest, "1.0");
    const missing = hashOf("broken", "broken/a.py");
    mip.removeFile(missing);
    const stalledPaths = [
      `/file/${hashOf("broken", "broken/b.py").slice(0, 2)}/${hashOf("broken", "broken/b.py")}`,
      `/file/${hashOf("broken", "broken/c.py").slice(0, 2)}/${hashOf("broken", "broken/c.py")}`,
      `/file/${hashOf("sibling", "sibling.py").slice(0, 2)}/${hashOf("sibling", "sibling.py")}`,
      "/pypi/elsewhere/json",
    ];
    // Each stalled response's socket, and a promise that it was closed (by mpip: the server never closes it).
    const stalled = new Map<string, Promise<void>>();
    server.fault(({ path: requested, req }) => {
      const which = stalledPaths.find((candidate) => requested.endsWith(candidate));
      if (which === undefined) return false;
      const socket: Socket = req.socket;
      stalled.set(which, new Promise((resolve) => socket.once("close", () => resolve())));
      return true;
    }, { type: "stall" });
    // The 404 is held back until every other request is stalled, so all of them are in flight when it fails.
    const gate = holdRequests(server, "mip-file", (requested) => requested.endsWith(missing));
    t.after(() => gate.restore());

    const parent = path.join(work.dir, "case");
    await mkdir(parent);
    const target = path.join(parent, "image");
    const run: Running = startMpip(["install", "-p", target, "-i", mip.base, "-i", server.url, "--timeout", "3600", "--retries", "0", "broken", "sibling", "elsewhere"]);
    t.after(() => {
      if (!run.done) run.child.kill("SIGKILL");
    });

    await within(gate.arrived, DEADLINE_MS, "the request for the missing file");
    await within((async () => {
      while (stalled.size < stalledPaths.length) await sleep(10);
    })(), DEADLINE_MS, "every stalled request");
    assert.equal(run.done, false, "mpip waits for the stalled downloads");
    gate.open();

    await within(Promise.all(stalled.values()), DEADLINE_MS, "mpip closing the stalled connections");
    const exit = await within(run.exited, DEADLINE_MS, "mpip exiting");
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(exit.stderr, /^error: the package document `[^`]+` lists `broken\/a\.py` of `broken 1\.0` \(`1\.0\.json`\) at `[^`]+`, but that URL answered 404$/m);
    assert.match(exit.stderr, /^hint: /m);
    assert.doesNotMatch(exit.stderr, /abort|cancel|interrupted|bug in mpip/i);
    assert.deepEqual(await beside(parent, "image"), [], "no staging folder or lock is left, and nothing was installed");
  });
});

describe("a package whose file fails, while an earlier package is still fetched", () => {
  test("its other files are aborted at once, not left downloading until the earlier package settles; the run then reports its 404", async (t) => {
    await server.addSdist({ name: "slowpoke", version: "1.0", files: { "slowpoke.py": "S = 1\n" } });
    await mip.publish({ name: "holey", version: "1.0", mpy: false, files: { "holey/x.py": "X = 1\n", "holey/y.py": "Y = 1\n" } });
    const gone = mip.hashOf("py", "holey", "holey/x.py");
    mip.removeFile(gone);
    const stalledFile = mip.hashOf("py", "holey", "holey/y.py");
    let stalledClosed: Promise<void> | undefined;
    const stall = server.fault(({ path: requested, req }) => {
      if (!requested.endsWith(`/${stalledFile}`)) return false;
      const socket: Socket = req.socket;
      stalledClosed = new Promise((resolve) => socket.once("close", () => resolve()));
      return true;
    }, { type: "stall" });
    // The earlier package's archive is held back until the test lets it go.
    const gate = holdRequests(server, "file", (requested) => requested.includes("slowpoke-1.0.tar.gz"));
    t.after(() => {
      gate.restore();
      stall.remove();
    });
    const parent = path.join(work.dir, "straggler");
    await mkdir(parent);
    const run: Running = startMpip(["install", "-p", path.join(parent, "image"), "-i", mip.base, "-i", server.url, "--timeout", "3600", "--retries", "0", "slowpoke", "holey"]);
    t.after(() => {
      if (!run.done) run.child.kill("SIGKILL");
    });
    await within(gate.arrived, DEADLINE_MS, "the request for the earlier package's archive");
    await within((async () => {
      while (stalledClosed === undefined) await sleep(10);
    })(), DEADLINE_MS, "the request for holey's other file");
    // Closed by mpip while the earlier package is still held: the file can no longer be the error.
    await within(stalledClosed!, DEADLINE_MS, "mpip closing holey's other file");
    assert.equal(run.done, false, "the run waits for the earlier package, which may fail first");
    gate.open();
    const exit = await within(run.exited, DEADLINE_MS, "mpip exiting");
    assert.equal(exit.code, 1, exit.stderr);
    assert.match(exit.stderr, /^error: the package document `[^`]+` lists `holey\/x\.py` of `holey 1\.0` \(`1\.0\.json`\) at `[^`]+`, but that URL answered 404$/m);
    assert.deepEqual(await beside(parent, "image"), [], "no staging folder or lock is left, and nothing was installed");
  });
});

describe("RunScope", () => {
  /** A task that runs until the scope's signal aborts, then fails with what the abort did to it. */
  const untilAborted = (scope: RunScope, stopped: string[], name: string) => () =>
    new Promise<never>((_, reject) => {
      const stop = () => {
        stopped.push(name);
        reject(new Error(`${name} aborted`));
      };
      if (scope.signal.aborted) stop();
      else scope.signal.addEventListener("abort", stop, { once: true });
    });

  /** A task that settles when `release` is called: with `value`, or failing with `error`; aborts do not stop it. */
  const held = (value: unknown) => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const task = async (): Promise<unknown> => {
      await released;
      if (value instanceof Error) throw value;
      return value;
    };
    return { task, release };
  };

  test("a failure aborts the tasks after it, is thrown once all have stopped, and fails the run", async () => {
    const scope = new RunScope();
    const stopped: string[] = [];
    const failure = new Error("404");
    const outcome = scope.all([async () => {
      await sleep(1);
      throw failure;
    }, untilAborted(scope, stopped, "a"), untilAborted(scope, stopped, "b")]);
    await assert.rejects(outcome, (error: unknown) => error === failure);
    assert.deepEqual(stopped.sort(), ["a", "b"], "both later tasks were stopped before the failure was thrown");
    assert.equal(scope.failure?.error, failure);
    assert.ok(scope.signal.reason instanceof Cancelled && scope.signal.reason.failure === failure);
    // Another group of the same run reports the run's first failure, not the abort its own tasks saw.
    await assert.rejects(scope.all([untilAborted(scope, stopped, "c"), async () => "fine"]), (error: unknown) => error === failure);
    scope.dispose();
  });

  test("the failure reported is the first in input order, whichever failed first in time", async () => {
    for (const order of [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]]) {
      const scope = new RunScope();
      const tasks = [held(new Error("first")), held(new Error("second")), held(new Error("third"))];
      const outcome = scope.all(tasks.map(({ task }) => task));
      outcome.catch(() => {});
      for (const at of order) {
        tasks[at]!.release();
        await sleep(1);
      }
      await assert.rejects(outcome, /^Error: first$/, `failing in the order ${order.join(", ")}`);
      assert.equal((scope.failure?.error as Error).message, "first");
    }
  });

  test("a task failing waits for the tasks before it, which run on unaborted; a success among them lets it fail the run", async () => {
    const scope = new RunScope();
    const stopped: string[] = [];
    const before = held("fine");
    const failure = new Error("later");
    let failedAt = 0;
    const outcome = scope.all([before.task, async () => {
      failedAt = Date.now();
      throw failure;
    }, untilAborted(scope, stopped, "after")]);
    outcome.catch(() => {});
    await sleep(20);
    assert.ok(failedAt > 0, "the second task has failed");
    assert.equal(scope.signal.aborted, false, "nothing is aborted while an earlier task may still fail first");
    assert.deepEqual(stopped, []);
    before.release();
    await assert.rejects(outcome, (error: unknown) => error === failure);
    assert.deepEqual(stopped, ["after"]);
    assert.equal(scope.failure?.error, failure);
  });

  /** A part that runs until its own signal aborts, then fails. */
  const partUntilAborted = (stopped: string[], name: string) => (signal: AbortSignal) =>
    new Promise<never>((_, reject) => {
      const stop = () => {
        stopped.push(name);
        reject(new Error(`${name} aborted`));
      };
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    });

  test("parts: the first failure in input order is thrown at once, the parts after it are aborted, not the run; the enclosing all decides and waits for them", async () => {
    const scope = new RunScope();
    const stopped: string[] = [];
    const earlier = held(new Error("earlier task"));
    const partFailure = new Error("part 0");
    let partsThrew = false;
    const outcome = scope.all([earlier.task, async () => {
      try {
        return await scope.parts([async () => {
          throw partFailure;
        }, partUntilAborted(stopped, "part 1")]);
      } catch (error) {
        partsThrew = true;
        throw error;
      }
    }]);
    outcome.catch(() => {});
    await sleep(20);
    assert.equal(partsThrew, true, "parts answered with its failure at once");
    assert.deepEqual(stopped, ["part 1"], "the part after the failure was aborted at once: it can no longer be the error");
    assert.equal(scope.signal.aborted, false, "a part's failure does not abort the earlier task");
    earlier.release();
    // The earlier task's failure comes first in input order: it is the run's.
    await assert.rejects(outcome, /^Error: earlier task$/);
  });

  test("parts: a part's own parts follow its signal, and the run's", async () => {
    const scope = new RunScope();
    const stopped: string[] = [];
    const blocker = held("fine");
    const outcome = scope.all([blocker.task, () => scope.parts([async () => {
      await sleep(5);
      throw new Error("first half");
    }, (signal) => scope.parts([partUntilAborted(stopped, "inner 0"), partUntilAborted(stopped, "inner 1")], signal)])]);
    outcome.catch(() => {});
    await sleep(30);
    assert.deepEqual(stopped.sort(), ["inner 0", "inner 1"], "the second half's parts stopped with it");
    assert.equal(scope.signal.aborted, false);
    blocker.release();
    await assert.rejects(outcome, /^Error: first half$/);
    // A run aborted from outside aborts every part.
    const outer = new AbortController();
    const other = new RunScope(outer.signal);
    const stoppedToo: string[] = [];
    const pending = other.all([() => other.parts([partUntilAborted(stoppedToo, "a"), (signal) => other.parts([partUntilAborted(stoppedToo, "b")], signal)])]);
    outer.abort("SIGINT");
    await assert.rejects(pending, /a aborted/);
    assert.deepEqual(stoppedToo.sort(), ["a", "b"]);
  });

  test("parts outside any all fails the run itself, as all does", async () => {
    const scope = new RunScope();
    const stopped: string[] = [];
    const failure = new Error("part 0");
    const outcome = scope.parts([async () => {
      throw failure;
    }, partUntilAborted(stopped, "part 1")]);
    await assert.rejects(outcome, (error: unknown) => error === failure);
    assert.deepEqual(stopped, ["part 1"], "the later part was aborted and had stopped before the failure was thrown");
    assert.equal(scope.failure?.error, failure);
  });

  test("without a failure, results come back in input order", async () => {
    const scope = new RunScope();
    const results = await scope.all([3, 1, 2].map((ms) => async () => {
      await sleep(ms);
      return ms;
    }));
    assert.deepEqual(results, [3, 1, 2]);
    assert.equal(scope.signal.aborted, false);
  });

  test("an outer abort (a signal) stops the run with its own reason, and records no failure", async () => {
    const outer = new AbortController();
    const scope = new RunScope(outer.signal);
    const stopped: string[] = [];
    const outcome = scope.all([untilAborted(scope, stopped, "a"), untilAborted(scope, stopped, "b")]);
    outer.abort("SIGINT");
    await assert.rejects(outcome, /a aborted/);
    assert.equal(scope.signal.reason, "SIGINT");
    assert.equal(scope.failure, undefined);
    scope.dispose();
  });
});
