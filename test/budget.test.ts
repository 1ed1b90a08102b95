// The byte budgets downloads draw on (src/budget.ts): a Quota shared by a package's files is a hard
// limit; a MemoryBudget makes downloads wait when full, never deadlocks (even when one download is as
// large as the whole budget and every holder wants more), and holds at most capacity + the largest
// download at once, whatever the interleaving.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { archiveDownloadLimit, Draw, largestInMemory, MemoryBudget, memoryCapacity, Quota, type Lease } from "../src/budget.js";
import { MpipError } from "../src/errors.js";
import { prng } from "./helpers/prng.js";

const over = () => new MpipError("limit-exceeded", "over the limit");

/** Lets every pending promise callback run (the budget grants synchronously or on release). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("Quota", () => {
  test("draws from several downloads add up; the one that would go over fails and counts nothing", () => {
    const quota = new Quota(100, over);
    quota.take(60);
    quota.take(40);
    assert.throws(() => quota.take(1), /over the limit/);
    assert.equal(quota.used, 100);
    quota.give(40);
    quota.take(30);
    assert.equal(quota.used, 90);
    assert.throws(() => quota.take(11), (error: unknown) => error instanceof MpipError && error.code === "limit-exceeded");
  });
});

describe("MemoryBudget", () => {
  test("grows at once within capacity, and waits in line when full", async () => {
    const budget = new MemoryBudget(100);
    const first = budget.lease();
    const second = budget.lease();
    const third = budget.lease();
    await first.grow(70);
    let secondDone = false;
    let thirdDone = false;
    const growing = second.grow(50).then(() => (secondDone = true));
    const small = third.grow(10).then(() => (thirdDone = true));
    await settle();
    // 70 + 10 would fit, but the third waits behind the second: first come, first served.
    assert.equal(secondDone, false);
    assert.equal(thirdDone, false);
    first.release();
    await growing;
    await small;
    assert.equal(budget.held, 60);
    second.release();
    third.release();
    assert.equal(budget.held, 0);
  });

  test("the oldest lease always grows, so one as large as the whole budget never waits forever", async () => {
    const budget = new MemoryBudget(100);
    const young = budget.lease();
    const old = budget.lease();
    await old.grow(10);
    await young.grow(90); // the budget is full
    await old.grow(100); // as large as the whole budget: granted at once, being the oldest
    assert.equal(budget.held, 200);
    assert.equal(budget.peak, 200);
    old.release();
    young.release();
  });

  test("leases that all hold part of the budget and all want more still finish (no deadlock)", async () => {
    // Each download grows to the whole capacity in steps; without the oldest-lease rule, the three would
    // each hold a third and wait for each other forever, and this test would end with pending promises.
    const budget = new MemoryBudget(90);
    const downloads = [0, 1, 2].map(async () => {
      const lease = budget.lease();
      for (let step = 0; step < 9; step++) {
        await lease.grow(10);
        await settle(); // let the others take their turn, as chunks arriving from the network would
      }
      lease.release();
    });
    await Promise.all(downloads);
    assert.equal(budget.held, 0);
    assert.ok(budget.peak <= 90 + 90, `peak ${budget.peak}`);
  });

  test("many downloads of random sizes and steps hold at most capacity + the largest download", async () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = prng(seed);
      const capacity = 1000;
      const largest = 1000;
      const budget = new MemoryBudget(capacity);
      const downloads = Array.from({ length: 20 }, async (_, index) => {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 5)));
        const lease = budget.lease();
        const size = 1 + Math.floor(random() * largest);
        // A declared size is drawn at once; an undeclared one in chunks.
        if (index % 2 === 0) await lease.grow(size);
        else for (let got = 0; got < size; got += 64) await lease.grow(Math.min(64, size - got));
        await settle();
        lease.release();
      });
      await Promise.all(downloads);
      assert.equal(budget.held, 0, `seed ${seed}`);
      assert.ok(budget.peak <= capacity + largest, `seed ${seed}: peak ${budget.peak}`);
      assert.ok(budget.peak > capacity / 2, `seed ${seed}: the budget was used (peak ${budget.peak})`);
    }
  });

  test("a wait ends at once when its signal aborts, and the line moves on", async () => {
    const budget = new MemoryBudget(100);
    const holder = budget.lease();
    await holder.grow(100);
    const controller = new AbortController();
    const waiting = budget.lease().grow(50, controller.signal);
    const behind = budget.lease();
    const behindDone = behind.grow(50);
    controller.abort("SIGINT");
    await assert.rejects(waiting, (reason: unknown) => reason === "SIGINT");
    holder.release();
    await behindDone;
    assert.equal(budget.held, 50);
    behind.release();
  });

  test("shrinkTo gives back what a failed attempt drew, and lets a waiter through", async () => {
    const budget = new MemoryBudget(100);
    const lease = budget.lease();
    await lease.grow(40);
    await lease.grow(60);
    const other = budget.lease();
    const otherDone = other.grow(60);
    lease.shrinkTo(40);
    await otherDone;
    assert.equal(lease.held, 40);
    assert.equal(budget.held, 100);
    lease.release();
    other.release();
  });
});

describe("Draw", () => {
  test("covers a total once, on both the quota and the lease, and refunds all of it", async () => {
    const quota = new Quota(1000, over);
    const budget = new MemoryBudget(1000);
    const lease: Lease = budget.lease();
    await lease.grow(100); // held before this attempt: kept through its refund
    const draw = new Draw({ quota, lease });
    await draw.cover(300);
    await draw.cover(200); // already covered
    await draw.cover(500);
    assert.equal(quota.used, 500);
    assert.equal(lease.held, 600);
    draw.refund();
    assert.equal(quota.used, 0);
    assert.equal(lease.held, 100);
  });

  test("a total over the quota throws the quota's error before any memory is taken", async () => {
    const budget = new MemoryBudget(1000);
    const lease = budget.lease();
    const draw = new Draw({ quota: new Quota(100, over), lease });
    await assert.rejects(draw.cover(101), /over the limit/);
    assert.equal(budget.held, 0);
  });
});

describe("the memory rule", () => {
  test("an archive may download a little more than it may unpack to; the capacity is the largest download", () => {
    const MiB = 1024 * 1024;
    for (const limit of [1024, 8 * MiB, 64 * MiB, 1024 * MiB]) {
      const cut = archiveDownloadLimit(limit);
      assert.ok(cut > limit && cut <= limit + limit / 1024 + 64 * 1024 + 1, `${limit}: ${cut}`);
      assert.equal(largestInMemory({ maxUnpackedBytes: limit, maxMetadataBytes: 16 * MiB }), Math.max(cut, 16 * MiB));
      assert.equal(memoryCapacity({ maxUnpackedBytes: limit, maxMetadataBytes: 16 * MiB }), Math.max(cut, 16 * MiB));
    }
  });
});
