// When to retry and how long to wait: pure functions, no server, no clock.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { backoffMs, isRetryableStatus, MAX_BACKOFF_MS, MAX_RETRY_AFTER_MS, parseRetryAfter, retryWait, withRetries, type Attempt } from "../../src/http/retry.js";

describe("retry policy", () => {
  test("retries overload and server trouble, not definite answers", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599]) assert.equal(isRetryableStatus(status), true, String(status));
    for (const status of [400, 401, 403, 404, 410, 501, 505]) assert.equal(isRetryableStatus(status), false, String(status));
  });

  test("Retry-After: seconds, an HTTP date, or nothing usable", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("120", now), 120_000);
    assert.equal(parseRetryAfter(" 0 ", now), 0);
    assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now), 0, "a date in the past means now");
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter("-5", now), undefined);
    assert.equal(parseRetryAfter("1.5", now), undefined);
  });

  test("backoff doubles, is jittered between half and all of its ceiling, and is capped", () => {
    assert.equal(backoffMs(1, 500, () => 0), 250);
    assert.equal(backoffMs(1, 500, () => 1), 500);
    assert.equal(backoffMs(3, 500, () => 1), 2000);
    assert.equal(backoffMs(3, 500, () => 0), 1000);
    assert.equal(backoffMs(30, 500, () => 1), MAX_BACKOFF_MS);
    const seen = new Set(Array.from({ length: 50 }, () => backoffMs(2, 500)));
    assert.ok([...seen].every((ms) => ms >= 500 && ms <= 1000));
    assert.ok(seen.size > 1, "jitter spreads the waits");
  });

  test("Retry-After wins over backoff, up to a cap that is said", () => {
    const policy = { retries: 3, baseDelayMs: 500 };
    assert.deepEqual(retryWait(1, policy, 2000), { ms: 2000, reason: "as the server asked (Retry-After)" });
    const capped = retryWait(1, policy, 3_600_000);
    assert.equal(capped.ms, MAX_RETRY_AFTER_MS);
    assert.equal(capped.reason, "the server asked for 3600 s (Retry-After), but mpip waits at most 60 s");
    assert.equal(retryWait(2, policy, undefined, () => 1).reason, "backoff");
  });

  test("withRetries: retries what may pass, stops at what will not, and says how many attempts it took", async () => {
    const failing = (retryable: boolean): Attempt<string> => ({ ok: false, error: new MpipError("network", "boom", { hint: "do this" }), retryable });
    const waits: number[] = [];
    const log: string[] = [];
    const hooks = { sleep: async (ms: number) => void waits.push(ms), onRetry: (message: string) => void log.push(message), random: () => 1 };
    const outcomes = [failing(true), failing(true), { ok: true, value: "done" } as const];
    assert.equal(await withRetries(async () => outcomes.shift()!, { retries: 3, baseDelayMs: 100 }, hooks), "done");
    assert.deepEqual(waits, [100, 200]);
    assert.deepEqual(log, ["boom; retry 1 of 3 in 0.1 s (backoff)", "boom; retry 2 of 3 in 0.2 s (backoff)"]);

    let calls = 0;
    await assert.rejects(withRetries(async () => (calls++, failing(true)), { retries: 2, baseDelayMs: 1 }, hooks), (error: MpipError) => {
      assert.equal(error.message, "boom (gave up after 3 attempts)");
      assert.equal(error.hint, "do this");
      return true;
    });
    assert.equal(calls, 3);

    calls = 0;
    await assert.rejects(withRetries(async () => (calls++, failing(false)), { retries: 5, baseDelayMs: 1 }, hooks), { message: "boom" });
    assert.equal(calls, 1);
  });
});
