// The index server's fault switches themselves: which requests a rule spoils, how often, and what each
// fault puts on the wire (read with node:http, which hides nothing).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { get, type IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { startIndexServer, type IndexServer } from "./index-server.js";

let server: IndexServer;
before(async () => {
  server = await startIndexServer();
  await server.addSdist({ name: "demo", version: "1.0", files: { "demo.py": "X = 1\n".repeat(100) } });
});
after(() => server.close());

interface Raw {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** How the exchange ended: "end" (complete), or the error code. */
  ending: string;
}

function fetchRaw(path: string): Promise<Raw> {
  return new Promise((resolve) => {
    const request = get(`${server.origin}${path}`, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      const finish = (ending: string) => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), ending });
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => finish("end"));
      response.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    });
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), ending: error.code ?? error.message }));
  });
}

const FILE = "/files/demo/1.0/demo-1.0.tar.gz";

describe("index server faults", () => {
  test("a rule applies `times` times to its route only, counts its hits, and can be removed", async () => {
    const rule = server.fault("file", { type: "status", status: 503, retryAfter: "7" }, { times: 2 });
    assert.equal((await fetchRaw("/pypi/demo/json")).status, 200, "another route is untouched");
    const first = await fetchRaw(FILE);
    assert.equal(first.status, 503);
    assert.equal(first.headers["retry-after"], "7");
    assert.equal((await fetchRaw(FILE)).status, 503);
    assert.equal((await fetchRaw(FILE)).status, 200);
    assert.equal(rule.hits, 2);
    const always = server.fault(({ path }) => path.endsWith(".tar.gz"), { type: "status", status: 500 });
    assert.equal((await fetchRaw(FILE)).status, 500);
    always.remove();
    assert.equal((await fetchRaw(FILE)).status, 200);
  });

  test("what each fault sends", async () => {
    const whole = await fetchRaw(FILE);
    const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

    server.fault("file", { type: "truncate", sendBytes: 10 }, { times: 1 });
    const cut = await fetchRaw(FILE);
    assert.equal(cut.headers["content-length"], String(whole.body.length));
    assert.equal(cut.body.length, 10);
    assert.notEqual(cut.ending, "end");

    server.fault("file", { type: "truncate", chunked: true }, { times: 1 });
    const chunked = await fetchRaw(FILE);
    assert.equal(chunked.headers["transfer-encoding"], "chunked");
    assert.notEqual(chunked.ending, "end");

    server.fault("file", { type: "reset", when: "before-headers" }, { times: 1 });
    assert.equal((await fetchRaw(FILE)).ending, "ECONNRESET");

    server.fault("file", { type: "wrong-digest" }, { times: 1 });
    const altered = await fetchRaw(FILE);
    assert.equal(altered.body.length, whole.body.length);
    assert.notEqual(sha(altered.body), sha(whole.body));

    server.fault("file", { type: "redirect-loop" }, { times: 1 });
    const loop = await fetchRaw(FILE);
    assert.equal(loop.status, 302);
    assert.equal(loop.headers.location, FILE);

    server.fault("file", { type: "trickle", chunkBytes: 50, intervalMs: 1 }, { times: 1 });
    const slow = await fetchRaw(FILE);
    assert.equal(slow.ending, "end");
    assert.equal(sha(slow.body), sha(whole.body));
  });
});
