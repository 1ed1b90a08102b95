// The TLS context `--cert` makes (src/http/tls.ts), against real TLS servers on 127.0.0.1 whose
// certificates two test CAs signed: it trusts what it should and nothing more, and connections made with
// it verify. End to end, with NODE_EXTRA_CA_CERTS too: test/network.test.ts.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import * as tls from "node:tls";
import { listedContext, trustedContext } from "../../src/http/tls.js";
import { tempDir } from "../helpers/cli.js";
import { makeTestPki, type TestPki } from "../helpers/tls.js";

let work: { dir: string; cleanup: () => Promise<void> };
let pkiA: TestPki;
let pkiB: TestPki;
let serverA: tls.Server;
let serverB: tls.Server;

async function listen(pki: TestPki): Promise<tls.Server> {
  const server = tls.createServer({ key: pki.key, cert: pki.cert }, (socket) => socket.end("hello\n"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

/** Whether a connection to `server` made with `context` verified the server's certificate. */
function verifies(server: tls.Server, context: tls.SecureContext): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, secureContext: context, rejectUnauthorized: false });
    socket.once("secureConnect", () => {
      resolve(socket.authorized);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

before(async () => {
  work = await tempDir("mpip-tls-context-");
  await mkdir(path.join(work.dir, "a"));
  await mkdir(path.join(work.dir, "b"));
  [pkiA, pkiB] = await Promise.all([makeTestPki(path.join(work.dir, "a")), makeTestPki(path.join(work.dir, "b"))]);
  [serverA, serverB] = await Promise.all([listen(pkiA), listen(pkiB)]);
});
after(async () => {
  await Promise.all([serverA, serverB].map((server) => new Promise((resolve) => server.close(resolve))));
  await work.cleanup();
});

test("the listed context trusts NODE_EXTRA_CA_CERTS and the added CAs, skipping what in the former does not parse", async () => {
  const extra = path.join(work.dir, "extra.pem");
  const broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
  await writeFile(extra, `${broken}${pkiA.caPem}`);
  const both = await listedContext(tls, [pkiB.caPem], { NODE_EXTRA_CA_CERTS: extra });
  assert.equal(await verifies(serverA, both), true);
  assert.equal(await verifies(serverB, both), true);
  const onlyAdded = await listedContext(tls, [pkiB.caPem], {});
  assert.equal(await verifies(serverA, onlyAdded), false);
  assert.equal(await verifies(serverB, onlyAdded), true);
  // An unreadable NODE_EXTRA_CA_CERTS is left out, as Node leaves it out (with a warning at start-up).
  const missing = await listedContext(tls, [pkiB.caPem], { NODE_EXTRA_CA_CERTS: path.join(work.dir, "nope.pem") });
  assert.equal(await verifies(serverB, missing), true);
  // Nothing leaks into Node's own default context.
  assert.equal(await verifies(serverB, tls.createSecureContext()), false);
});

test("--cert's context is made once, from the file, and no context at all without --cert", async () => {
  assert.equal(await trustedContext(undefined), undefined);
  const context = await trustedContext(pkiA.caFile);
  assert.ok(context !== undefined);
  assert.equal(await verifies(serverA, context), true);
  assert.equal(await verifies(serverB, context), false);
  await assert.rejects(trustedContext(path.join(work.dir, "nope.pem")), /cannot read the --cert file `.*nope\.pem` \(ENOENT\)/);
});
