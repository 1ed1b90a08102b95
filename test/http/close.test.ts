// Closing mpip's HTTP client ends whatever is still running on it (src/http.ts `close`): a request whose
// server has not answered, a request waiting to be tried again, and a request made after the close. What
// the operation still waits for has been answered by then; anything else (a dependency looked up ahead
// that its level never asked for) must not hold the operation's end, nor keep the process alive.

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { HttpClient } from "../../src/http.js";

/** Paths the server has been asked for, and those whose client went away before an answer. */
let asked: string[] = [];
let leftUnanswered: string[] = [];
/** Answers held by the server until the test ends (the client must not wait for them). */
const held: ServerResponse[] = [];
let server: Server;
let origin: string;

before(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? "";
    asked.push(path);
    if (path.startsWith("/busy")) {
      response.writeHead(503, { "retry-after": "3600" }).end("busy");
      return;
    }
    // `/stalled`: never answered while the client is there; `/cut`: headers, then a body that stops.
    response.on("close", () => {
      if (!response.writableEnded) leftUnanswered.push(path);
    });
    if (path.startsWith("/cut")) response.writeHead(200, { "content-length": "100" }).write("partial");
    held.push(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const response of held) if (!response.writableEnded) response.end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A client that would otherwise wait for an answer, or between tries, far longer than any test runs. */
const patientClient = () => new HttpClient({ timeoutMs: 3_600_000, retries: 3, retryBaseMs: 3_600_000 });

describe("closing the HTTP client", () => {
  test("ends a request still waiting for its answer, a body still arriving, and a request waiting to be tried again; the server sees each connection go", { timeout: 30_000 }, async () => {
    asked = [];
    leftUnanswered = [];
    const client = patientClient();
    const requests = ["/stalled", "/cut", "/busy"].map((path) => client.get(`${origin}${path}`, { maxBytes: 1000 }).then(
      () => assert.fail(`${path} was answered`),
      (error: unknown) => error,
    ));
    // Closed once the server has been asked all three (the 503 was answered: its retry is waiting).
    while (asked.length < 3) await new Promise((resolve) => setImmediate(resolve));
    await client.close();
    for (const error of await Promise.all(requests)) {
      assert.ok(error instanceof MpipError, String(error));
      assert.equal(error.code, "network");
      assert.match(error.message, /still running when mpip closed its connections/);
    }
    while (leftUnanswered.length < 2) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([...leftUnanswered].sort(), ["/cut", "/stalled"]);
    assert.deepEqual([...asked].sort(), ["/busy", "/cut", "/stalled"], "the 503 was not asked for again");
  });

  test("a request made after the close fails at once, without reaching the server", { timeout: 30_000 }, async () => {
    asked = [];
    const client = patientClient();
    await client.close();
    await assert.rejects(client.get(`${origin}/stalled-late`, { maxBytes: 1000 }), (error: unknown) => error instanceof MpipError && error.code === "network");
    assert.deepEqual(asked, []);
  });

  test("a signal that aborts first still gives its own reason", { timeout: 30_000 }, async () => {
    asked = [];
    const controller = new AbortController();
    const client = new HttpClient({ timeoutMs: 3_600_000, signal: controller.signal });
    const request = client.get(`${origin}/stalled-signal`, { maxBytes: 1000 });
    while (asked.length < 1) await new Promise((resolve) => setImmediate(resolve));
    const reason = new Error("interrupted");
    controller.abort(reason);
    await assert.rejects(request, (error: unknown) => error === reason);
    await client.close();
  });
});
