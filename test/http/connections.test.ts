// How many connections mpip's HTTP client opens to one origin (src/http/connections.ts), seen from real
// servers on 127.0.0.1: one that closes after each answer and listens with a backlog of 5, as
// `python -m http.server` does, never sees more than 6 connections at once however many requests are
// made together; one that keeps connections alive has them reused and, once it has kept one, gets more at
// once; one that speaks HTTP/2 is spoken to in HTTP/2, within the same cap.

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createSecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HttpClient } from "../../src/http.js";
import { CAUTIOUS_CONNECTIONS, ConnectionPolicy, OPEN_CONNECTIONS } from "../../src/http/connections.js";
import { runMpip } from "../helpers/cli.js";
import { startProxy } from "../helpers/proxy.js";
import { buildSdist, sdistFilename } from "../helpers/sdist.js";
import { makeTestPki, type TestPki } from "../helpers/tls.js";

/** A server's view of its connections: how many are open now, the most at once, and how many ever. */
class ConnectionLog {
  open = 0;
  most = 0;
  accepted = 0;
  track(socket: Socket): void {
    this.open++;
    this.accepted++;
    this.most = Math.max(this.most, this.open);
    socket.once("close", () => this.open--);
  }
}

interface Served {
  origin: string;
  log: ConnectionLog;
  /** HTTP versions of the requests answered, in order. */
  versions: string[];
  close(): Promise<void>;
}

/** Answers `/N` after `delayMs` with N bytes; `close`: `Connection: close` on every answer. */
async function serve(options: { close: boolean; backlog?: number; delayMs: number }): Promise<Served> {
  const log = new ConnectionLog();
  const versions: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    versions.push(req.httpVersion);
    setTimeout(() => {
      const body = Buffer.alloc(Number((req.url ?? "/0").slice(1)) || 1, 0x61);
      res.writeHead(200, { "Content-Length": String(body.length), ...(options.close ? { Connection: "close" } : {}) });
      res.end(body);
    }, options.delayMs);
  });
  server.on("connection", (socket: Socket) => log.track(socket));
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", ...(options.backlog === undefined ? {} : { backlog: options.backlog }) }, resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    versions,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Sets HTTP_PROXY (both spellings) to `url` and clears NO_PROXY, as a user would; returns what puts them back. */
function proxyEnvironment(url: string): () => void {
  const names = ["HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] as const;
  const saved = names.map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, { HTTP_PROXY: url, http_proxy: url, NO_PROXY: "", no_proxy: "" });
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

const getAll = (client: HttpClient, urls: string[]) => Promise.all(urls.map((url) => client.get(url, { maxBytes: 1 << 20 })));

describe("connections per origin", () => {
  test("a server that closes after each answer, with a backlog of 5, never has more than 6 connections open at once, whatever mpip asks for together", async () => {
    const served = await serve({ close: true, backlog: 5, delayMs: 30 });
    const client = new HttpClient({ retries: 0 });
    try {
      // Three bursts: 20, then 7 (one over the cap), then 40 requests at once.
      for (const burst of [20, 7, 40]) {
        const answers = await getAll(client, Array.from({ length: burst }, (_, i) => `${served.origin}/${i + 10}`));
        assert.deepEqual(answers.map((answer) => answer.status === "ok" ? answer.body.length : -1), Array.from({ length: burst }, (_, i) => i + 10));
      }
      assert.ok(served.log.most <= CAUTIOUS_CONNECTIONS, `at most ${CAUTIOUS_CONNECTIONS} at once, saw ${served.log.most}`);
      // Each answer closed its connection: one connection per request.
      assert.equal(served.log.accepted, 67);
    } finally {
      await client.close();
      await served.close();
    }
  });

  test("a server that keeps connections alive has them reused, and once it has kept one it gets more connections at once (up to 16)", async () => {
    const served = await serve({ close: false, delayMs: 150 });
    const client = new HttpClient({ retries: 0 });
    try {
      // Before the server has kept a connection alive: the cautious cap.
      await getAll(client, Array.from({ length: 10 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.ok(served.log.most <= CAUTIOUS_CONNECTIONS, `at most ${CAUTIOUS_CONNECTIONS} at once before, saw ${served.log.most}`);
      // 10 answers over at most 6 connections: some connection answered twice, so the cap is lifted.
      const before = served.log.accepted;
      assert.ok(before <= CAUTIOUS_CONNECTIONS);
      await getAll(client, Array.from({ length: 20 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.ok(served.log.most > CAUTIOUS_CONNECTIONS, `more than ${CAUTIOUS_CONNECTIONS} at once after, saw ${served.log.most}`);
      assert.ok(served.log.most <= CAUTIOUS_CONNECTIONS + OPEN_CONNECTIONS, `saw ${served.log.most}`);
      // And the connections the second burst opened are reused by a third.
      const afterSecond = served.log.accepted;
      await getAll(client, Array.from({ length: 12 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.equal(served.log.accepted, afterSecond, "no new connection for requests the open ones can carry");
    } finally {
      await client.close();
      await served.close();
    }
  });

  test("a server that says `Connection: keep-alive` in its first answer gets more connections at once from its next requests on", async () => {
    const served = await serve({ close: false, delayMs: 100 });
    const client = new HttpClient({ retries: 0 });
    try {
      // One answer on one connection: too few to have seen a connection answer twice, but Node's server says keep-alive.
      await getAll(client, [`${served.origin}/1`]);
      assert.equal(served.log.accepted, 1);
      await getAll(client, Array.from({ length: 12 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.ok(served.log.most > CAUTIOUS_CONNECTIONS, `more than ${CAUTIOUS_CONNECTIONS} at once, saw ${served.log.most}`);
      assert.ok(served.log.most <= 1 + OPEN_CONNECTIONS, `saw ${served.log.most}`);
    } finally {
      await client.close();
      await served.close();
    }
  });

  test("once a server has kept a connection alive, the connections opened before are used again before any new one is opened", async () => {
    const served = await serve({ close: false, delayMs: 50 });
    const client = new HttpClient({ retries: 0 });
    try {
      await getAll(client, Array.from({ length: 3 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.equal(served.log.accepted, 3);
      // The cap is lifted (Node's server says keep-alive): 5 at once take the 3 idle connections and 2 new ones.
      await getAll(client, Array.from({ length: 5 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.equal(served.log.accepted, 5, "the 3 idle connections carried 3 of the 5 requests");
      // More at once than the cautious cap: the open connections are all used, and as many opened as needed.
      await getAll(client, Array.from({ length: 9 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.equal(served.log.accepted, 9);
      assert.equal(served.log.most, 9);
    } finally {
      await client.close();
      await served.close();
    }
  });

  test("what an answer's Connection header says: keep-alive in any case and among other options, not with close", () => {
    const origin = "http://127.0.0.1:1";
    const says = (connection: string | string[] | undefined) => {
      const policy = new ConnectionPolicy();
      // One connection opened, one answer: only the header can say the server keeps it.
      policy.counting((_options, callback) => callback(null, {} as never))({ protocol: "http:", hostname: "127.0.0.1", port: "1" } as never, () => {});
      policy.answered(origin, connection);
      return policy.keepsAlive(origin);
    };
    assert.equal(says("keep-alive"), true);
    assert.equal(says("Keep-Alive"), true);
    assert.equal(says("upgrade, keep-alive"), true);
    assert.equal(says(["TE", " keep-alive "]), true);
    assert.equal(says("close"), false);
    assert.equal(says("keep-alive, close"), false);
    assert.equal(says(["keep-alive", "Close"]), false);
    assert.equal(says("keep-alive-ish"), false);
    assert.equal(says(undefined), false);
    assert.equal(says(""), false);
  });

  test("through a proxy (HTTP_PROXY, a tunnel per connection), a server that closes after each answer is still held to 6 connections at once: the tunnels are counted as the connections they are", async () => {
    const served = await serve({ close: true, backlog: 5, delayMs: 30 });
    const proxy = await startProxy();
    // undici's proxy agent reads these when the client makes its first request.
    const restoreEnvironment = proxyEnvironment(proxy.url);
    const client = new HttpClient({ retries: 0 });
    try {
      for (const burst of [20, 40]) {
        const answers = await getAll(client, Array.from({ length: burst }, (_, i) => `${served.origin}/${i + 10}`));
        assert.deepEqual(answers.map((answer) => answer.status === "ok" ? answer.body.length : -1), Array.from({ length: burst }, (_, i) => i + 10));
      }
      assert.equal(proxy.seen.filter((line) => line.startsWith("CONNECT ")).length, 60, "every request went through the proxy, one tunnel each");
      assert.ok(served.log.most <= CAUTIOUS_CONNECTIONS, `at most ${CAUTIOUS_CONNECTIONS} at once, saw ${served.log.most}`);
    } finally {
      await client.close();
      restoreEnvironment();
      await proxy.close();
      await served.close();
    }
  });

  test("through a proxy, a server that keeps connections alive is still seen to keep them, and gets more at once", async () => {
    const served = await serve({ close: false, delayMs: 150 });
    const proxy = await startProxy();
    const restoreEnvironment = proxyEnvironment(proxy.url);
    const client = new HttpClient({ retries: 0 });
    try {
      await getAll(client, Array.from({ length: 10 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.ok(served.log.most <= CAUTIOUS_CONNECTIONS, `at most ${CAUTIOUS_CONNECTIONS} at once before, saw ${served.log.most}`);
      await getAll(client, Array.from({ length: 20 }, (_, i) => `${served.origin}/${i + 1}`));
      assert.ok(served.log.most > CAUTIOUS_CONNECTIONS, `more than ${CAUTIOUS_CONNECTIONS} at once after, saw ${served.log.most}`);
      assert.ok(proxy.seen.length > 0 && proxy.seen.every((line) => line.startsWith("CONNECT ")), proxy.seen.join("\n"));
    } finally {
      await client.close();
      restoreEnvironment();
      await proxy.close();
      await served.close();
    }
  });

  describe("HTTP/2", () => {
    let dir: string;
    let pki: TestPki;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "mpip-h2-"));
      pki = await makeTestPki(dir);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    test("a server that offers HTTP/2 is spoken to in HTTP/2, several requests on a connection, within the cap", async () => {
      const log = new ConnectionLog();
      const versions: string[] = [];
      const server: Http2Server = createSecureServer({ key: pki.key, cert: pki.cert, allowHTTP1: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
        versions.push(req.httpVersion);
        setTimeout(() => res.end(Buffer.alloc(Number(req.url.slice(1)), 0x62)), 30);
      });
      server.on("connection", (socket: Socket) => log.track(socket));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = new HttpClient({ retries: 0, certFile: pki.caFile });
      try {
        await getAll(client, [`${origin}/1`]);
        const answers = await getAll(client, Array.from({ length: 12 }, (_, i) => `${origin}/${i + 1}`));
        assert.deepEqual(answers.map((answer) => answer.status === "ok" ? answer.body.length : -1), Array.from({ length: 12 }, (_, i) => i + 1));
        assert.deepEqual(new Set(versions), new Set(["2.0"]));
        assert.ok(log.accepted <= CAUTIOUS_CONNECTIONS, `${log.accepted} connections for 13 requests`);
      } finally {
        await client.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    test("through a proxy (HTTPS_PROXY), a server that speaks only HTTP/2 is spoken to in HTTP/2", async () => {
      const versions: string[] = [];
      const server: Http2Server = createSecureServer({ key: pki.key, cert: pki.cert, allowHTTP1: false }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
        versions.push(req.httpVersion);
        res.end(Buffer.alloc(Number(req.url.slice(1)), 0x63));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const proxy = await startProxy();
      const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, https_proxy: process.env.https_proxy };
      process.env.HTTPS_PROXY = proxy.url;
      delete process.env.https_proxy;
      const client = new HttpClient({ retries: 0, certFile: pki.caFile });
      try {
        const answers = await getAll(client, Array.from({ length: 4 }, (_, i) => `${origin}/${i + 1}`));
        assert.deepEqual(answers.map((answer) => answer.status === "ok" ? answer.body.length : -1), [1, 2, 3, 4]);
        assert.deepEqual(new Set(versions), new Set(["2.0"]));
        assert.ok(proxy.seen.length > 0 && proxy.seen.every((line) => line.startsWith("CONNECT ")), proxy.seen.join("\n"));
      } finally {
        await client.close();
        for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
        await proxy.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    test("the built CLI, which loads its HTTP/2 half only when a connection negotiates it, installs over HTTP/2", async () => {
      const spec = { name: "h2-sensor", version: "1.0", files: { "h2_sensor.py": "READING = 2\n" } };
      const archive = await buildSdist(spec);
      const versions: string[] = [];
      const server: Http2Server = createSecureServer({ key: pki.key, cert: pki.cert, allowHTTP1: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
        versions.push(req.httpVersion);
        res.end(archive);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const target = path.join(dir, "image");
      try {
        const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/${sdistFilename(spec)}`;
        const result = await runMpip(["install", "-q", "--cert", pki.caFile, "-p", target, url]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(await readFile(path.join(target, "h2_sensor.py"), "utf8"), "READING = 2\n");
        assert.deepEqual(new Set(versions), new Set(["2.0"]));
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
});
