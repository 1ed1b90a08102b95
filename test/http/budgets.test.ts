// Bodies drawing on their budgets as bytes arrive (src/http/body.ts, src/budget.ts), against a real
// HTTP server on 127.0.0.1: downloads sharing a Quota cannot each take what is left (chunked bodies
// are counted chunk by chunk, declared ones at once, before their body is read), a retried attempt
// gives back what it drew, and bodies read into memory hold a lease only while they need it.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { MemoryBudget, Quota } from "../../src/budget.js";
import { MpipError } from "../../src/errors.js";
import { HttpClient } from "../../src/http.js";
import type { BodySink } from "../../src/sink.js";

let server: Server;
let origin: string;
/** Requests to /flaky/ seen so far: the first of each path is cut short. */
const flakySeen = new Set<string>();

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const [, kind, size] = (req.url ?? "").split("?")[0]!.split("/");
      const bytes = Number(size);
      const body = Buffer.alloc(bytes, 0x61);
      if (kind === "chunked") {
        // No Content-Length: the client learns the size only as chunks come.
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        for (let offset = 0; offset < bytes && !res.destroyed; offset += 500) {
          res.write(body.subarray(offset, offset + 500));
          await pause(2);
        }
        res.end();
      } else if (kind === "declared") {
        res.writeHead(200, { "Content-Length": String(bytes) });
        res.end(body);
      } else if (kind === "flaky" && !flakySeen.has(req.url!)) {
        flakySeen.add(req.url!);
        res.writeHead(200, { "Content-Length": String(bytes) });
        res.write(body.subarray(0, bytes / 2));
        await pause(20);
        res.socket?.destroy();
      } else {
        res.writeHead(200, { "Content-Length": String(bytes) });
        res.end(body);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A sink that only counts what it is given (and how often an attempt started over). */
class CountingSink implements BodySink<number> {
  received = 0;
  starts = 0;
  begin(): void {
    this.starts++;
    this.received = 0;
  }
  write(chunk: Buffer): void {
    this.received += chunk.length;
  }
  end(): number {
    return this.received;
  }
}

const over = () => new MpipError("limit-exceeded", "the package is larger than the limit");

describe("downloads drawing on a shared quota", () => {
  test("chunked bodies are counted as they arrive: two files of 6000 bytes cannot both pass a quota of 8000", async () => {
    const http = new HttpClient({ retries: 0 });
    const quota = new Quota(8000, over);
    const sinks = [new CountingSink(), new CountingSink()];
    const outcomes = await Promise.allSettled(sinks.map((sink, index) => http.getInto(`${origin}/chunked/6000?${index}`, { maxBytes: 8000, quota }, sink)));
    const failed = outcomes.filter((outcome) => outcome.status === "rejected");
    assert.equal(failed.length, 1, "exactly one of them fails");
    assert.match(String((failed[0] as PromiseRejectedResult).reason), /larger than the limit/);
    assert.ok(quota.used <= 8000, `the quota never goes over: ${quota.used}`);
    const stopped = sinks[outcomes.indexOf(failed[0]!)]!;
    assert.ok(stopped.received < 6000, `the failing one was stopped mid-body, after ${stopped.received} bytes`);
    await http.close();
  });

  test("declared sizes are drawn at once: the second file fails before any of its body is read", async () => {
    const http = new HttpClient({ retries: 0 });
    const quota = new Quota(8000, over);
    const first = new CountingSink();
    assert.equal((await http.getInto(`${origin}/declared/6000`, { maxBytes: 8000, quota }, first)).status, "ok");
    const second = new CountingSink();
    await assert.rejects(http.getInto(`${origin}/declared/6000?again`, { maxBytes: 8000, quota }, second), /larger than the limit/);
    assert.equal(second.starts, 0, "the sink was never started");
    assert.equal(quota.used, 6000);
    await http.close();
  });

  test("an attempt cut short gives back what it drew: the retry is counted once", async () => {
    const http = new HttpClient({ retries: 1, retryBaseMs: 1 });
    const quota = new Quota(6000, over);
    const sink = new CountingSink();
    const answer = await http.getInto(`${origin}/flaky/5000`, { maxBytes: 6000, quota }, sink);
    assert.equal(answer.status, "ok");
    assert.equal(sink.starts, 2, "the sink started over for the retry");
    assert.equal(sink.received, 5000);
    assert.equal(quota.used, 5000);
    await http.close();
  });
});

describe("bodies in memory hold a lease on the memory budget", () => {
  test("get() holds memory only while reading; concurrent bodies wait when the budget is full", async () => {
    const memory = new MemoryBudget(4000);
    const http = new HttpClient({ retries: 0, memory });
    const answers = await Promise.all([0, 1, 2, 3].map((index) => http.get(`${origin}/${index % 2 === 0 ? "declared" : "chunked"}/3000?${index}`, { maxBytes: 3000 })));
    for (const answer of answers) assert.equal(answer.status === "ok" && answer.body.length, 3000);
    assert.equal(memory.held, 0, "every lease was released on return");
    assert.ok(memory.peak <= 4000 + 3000, `at most capacity + the largest body: ${memory.peak}`);
    assert.ok(memory.peak >= 3000);
    await http.close();
  });

  test("a lease given by the caller is kept, with the body's bytes, until the caller releases it", async () => {
    const memory = new MemoryBudget(1 << 20);
    const http = new HttpClient({ retries: 0, memory });
    const lease = memory.lease();
    const answer = await http.get(`${origin}/chunked/2500`, { maxBytes: 3000, lease });
    assert.equal(answer.status === "ok" && answer.body.length, 2500);
    assert.equal(lease.held, 2500);
    lease.release();
    assert.equal(memory.held, 0);
    await http.close();
  });

  test("an aborted client ends a wait for memory at once, with the signal's reason", async () => {
    const memory = new MemoryBudget(1000);
    const controller = new AbortController();
    const http = new HttpClient({ retries: 0, memory, signal: controller.signal });
    const holder = memory.lease();
    await holder.grow(1000); // the budget is full, and the holder is the oldest lease
    const waiting = http.get(`${origin}/declared/500`, { maxBytes: 1000 });
    await pause(50);
    controller.abort("SIGINT");
    await assert.rejects(waiting, (reason: unknown) => reason === "SIGINT");
    holder.release();
    await http.close();
  });
});
