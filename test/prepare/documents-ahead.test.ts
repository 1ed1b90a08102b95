// DocumentsAhead (src/prepare/package-document.ts): package documents fetched ahead of their preparation,
// within a limit of bytes held, each taken once, a failure handed to the taker as its own, and a fetch
// no longer wanted ended and let go.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Fetched } from "../../src/fetch.js";
import { DocumentsAhead } from "../../src/prepare/index.js";

const document = (bytes: number): Fetched => ({ data: Buffer.alloc(bytes, 0x7b), sha256: "0".repeat(64), origin: "test" });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("DocumentsAhead", () => {
  test("holds at most 4 MiB of documents, however many are started at once: the rest are let go, to be fetched by their preparation", async () => {
    const ahead = new DocumentsAhead();
    let fetched = 0;
    // Before: the limit was checked only as each fetch was started, when none had ended: all were held.
    for (let i = 0; i < 12; i++) {
      ahead.start(`u${i}`, async () => {
        fetched++;
        await settle();
        return document(600 * 1024);
      });
    }
    await settle();
    await settle();
    const taken = await Promise.all(Array.from({ length: 12 }, (_, i) => ahead.take(`u${i}`)));
    const held = taken.filter((item) => item !== undefined);
    assert.ok(held.length * 600 * 1024 <= 4 * 1024 * 1024, `${held.length} documents of 600 KiB held`);
    assert.ok(held.length >= 1, "some were held");
    assert.ok(fetched <= 12);
    // Taken documents free their room: new ones are held again.
    ahead.start("again", async () => document(1024));
    assert.equal((await ahead.take("again"))?.data.length, 1024);
  });

  test("a fetch made ahead that failed hands its failure to the one that takes it; each is taken once", async () => {
    const ahead = new DocumentsAhead();
    const failure = new Error("GET u answered HTTP 500 (gave up after 4 attempts)");
    ahead.start("u", async () => {
      throw failure;
    });
    await assert.rejects(ahead.take("u"), (error: unknown) => error === failure);
    assert.equal(await ahead.take("u"), undefined, "taken once: the next asks as usual");
    ahead.start("v", async () => document(10));
    assert.equal((await ahead.take("v"))?.data.length, 10);
    assert.equal(await ahead.take("v"), undefined);
  });

  test("a fetch no longer wanted is ended, its document let go, and its end is no failure of the one that takes its URL", async () => {
    const ahead = new DocumentsAhead();
    const wanted = new AbortController();
    let ended: AbortSignal | undefined;
    ahead.start("u", (signal) => {
      ended = signal;
      return new Promise<Fetched>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
    }, wanted.signal);
    await settle();
    wanted.abort();
    assert.equal(ended?.aborted, true, "the fetch was ended");
    assert.equal(await ahead.take("u"), undefined, "fetched as usual by the one that needs it");
    // One that ended before it was taken: let go, its room given back.
    const other = new AbortController();
    ahead.start("w", async () => document(3 * 1024 * 1024), other.signal);
    await settle();
    other.abort();
    ahead.start("x", async () => document(3 * 1024 * 1024));
    await settle();
    assert.equal((await ahead.take("x"))?.data.length, 3 * 1024 * 1024, "the room of the one let go was given back");
    // The resolution is over: whatever is still fetched ahead is ended.
    let last: AbortSignal | undefined;
    ahead.start("y", (signal) => {
      last = signal;
      return new Promise<Fetched>(() => {});
    });
    await settle();
    ahead.clear();
    assert.equal(last?.aborted, true);
  });
});
