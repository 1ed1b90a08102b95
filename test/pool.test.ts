// The pool that bounds concurrent network work (src/pool.ts): never more than `limit` tasks at once, a
// finishing task's slot goes to the next in line (no newcomer slips in), and once the install's signal
// aborts no queued task starts: each rejects at once with the signal's reason.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mapInOrder, Pool } from "../src/pool.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("Pool", () => {
  test("runs at most `limit` tasks at once, in order, whatever arrives while a slot changes hands", async () => {
    const pool = new Pool(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 6 }, deferred);
    const task = (index: number) => async () => {
      started.push(index);
      running++;
      most = Math.max(most, running);
      await gates[index]!.promise;
      running--;
      return index;
    };
    const results = gates.slice(0, 5).map((_, index) => pool.run(task(index)));
    await settle();
    assert.deepEqual(started, [0, 1]);
    gates[0]!.resolve();
    // A newcomer arriving right as the slot is handed over waits behind the queue.
    const late = pool.run(task(5));
    await settle();
    assert.deepEqual(started, [0, 1, 2]);
    for (const gate of gates) gate.resolve();
    assert.deepEqual(await Promise.all([...results, late]), [0, 1, 2, 3, 4, 5]);
    assert.equal(most, 2);
  });

  test("once the signal aborts, queued tasks reject at once and never start; new ones are refused", async () => {
    const controller = new AbortController();
    const pool = new Pool(1, controller.signal);
    const gate = deferred();
    const started: string[] = [];
    const running = pool.run(async () => {
      started.push("running");
      await gate.promise;
      return "done";
    });
    const queued = [1, 2, 3].map((index) => pool.run(async () => {
      started.push(`queued ${index}`);
    }));
    await settle();
    controller.abort("SIGTERM");
    for (const promise of queued) await assert.rejects(promise, (reason: unknown) => reason === "SIGTERM");
    await assert.rejects(pool.run(async () => started.push("late")), (reason: unknown) => reason === "SIGTERM");
    gate.resolve();
    assert.equal(await running, "done", "a running task ends by its own means (its requests take the same signal)");
    assert.deepEqual(started, ["running"]);
  });
});

describe("mapInOrder", () => {
  test("runs at most `limit` at once, in input order, and returns the results in input order whatever order they finish in", async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const items = Array.from({ length: 40 }, (_, i) => i);
    const results = await mapInOrder(items, 3, async (item, index) => {
      assert.equal(item, index);
      started.push(item);
      running++;
      most = Math.max(most, running);
      // Later items finish sooner.
      await new Promise((resolve) => setTimeout(resolve, (40 - item) % 7));
      running--;
      return item * 2;
    });
    assert.deepEqual(results, items.map((item) => item * 2));
    assert.deepEqual(started, items);
    assert.equal(most, 3);
    assert.deepEqual(await mapInOrder([], 4, async () => 1), []);
    assert.deepEqual(await mapInOrder([7], 4, async (item) => item), [7]);
  });

  test("runs every task even after one fails, waits for all, then throws the first failure in input order", async () => {
    const finished: number[] = [];
    const error = await mapInOrder(Array.from({ length: 12 }, (_, i) => i), 4, async (item) => {
      await new Promise((resolve) => setTimeout(resolve, item % 3));
      if (item === 9) throw new Error("nine");
      if (item === 5) throw new Error("five");
      finished.push(item);
      return item;
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error && error.message === "five", String(error));
    assert.deepEqual(finished.sort((a, b) => a - b), [0, 1, 2, 3, 4, 6, 7, 8, 10, 11], "every other task ran to its end");
    // A task that throws before it returns a promise fails the same way.
    const sync = await mapInOrder([1, 2], 1, (item) => {
      if (item === 1) throw new Error("at once");
      return Promise.resolve(item);
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(sync instanceof Error && sync.message === "at once");
    await assert.rejects(mapInOrder([1], 0, async (item) => item), RangeError);
  });
});
