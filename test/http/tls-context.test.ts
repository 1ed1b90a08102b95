// The TLS context `--cert` makes (src/http/tls.ts), against real TLS servers on 127.0.0.1 whose
// certificates two test CAs signed: both ways of making it trust what they should and nothing more, and
// connections made with it verify. End to end, with NODE_EXTRA_CA_CERTS too: test/network.test.ts.

import assert from "node:assert/strict";
import { mkdir, truncate, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import * as tls from "node:tls";
import { MpipError } from "../../src/errors.js";
import { extendedDefaultContext, listedContext, MAX_CERT_FILE_BYTES, readCertBundle, trustedContext } from "../../src/http/tls.js";
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

/** Writes `text` as a NODE_EXTRA_CA_CERTS file; returns an environment naming it. */
async function extraFile(name: string, text: string): Promise<NodeJS.ProcessEnv> {
  const file = path.join(work.dir, name);
  await writeFile(file, text);
  return { NODE_EXTRA_CA_CERTS: file };
}

const BROKEN = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

for (const [kind, make] of [
  ["Node's default context, extended", async (added: string[], env: NodeJS.ProcessEnv) => (await extendedDefaultContext(tls, added, env))!],
  ["the listed context", (added: string[], env: NodeJS.ProcessEnv) => listedContext(tls, added, env)],
] as const) {
  test(`${kind}: trusts the added CAs and NODE_EXTRA_CA_CERTS as Node reads it, and nothing else`, async () => {
    if (kind.startsWith("Node's")) assert.ok((await extendedDefaultContext(tls, [], {})) !== undefined, "this Node's contexts take added certificates");
    const slug = kind.startsWith("Node's") ? "extended" : "listed";
    const onlyAdded = await make([pkiB.caPem], {});
    assert.equal(await verifies(serverB, onlyAdded), true);
    assert.equal(await verifies(serverA, onlyAdded), false);
    const both = await make([pkiB.caPem], await extraFile(`${slug}-a.pem`, pkiA.caPem));
    assert.equal(await verifies(serverA, both), true);
    assert.equal(await verifies(serverB, both), true);
    // Node reads NODE_EXTRA_CA_CERTS up to the first certificate that does not parse.
    const afterBroken = await make([pkiB.caPem], await extraFile(`${slug}-broken-a.pem`, `${BROKEN}${pkiA.caPem}`));
    assert.equal(await verifies(serverA, afterBroken), false);
    assert.equal(await verifies(serverB, afterBroken), true);
    const beforeBroken = await make([pkiB.caPem], await extraFile(`${slug}-a-broken.pem`, `${pkiA.caPem}${BROKEN}`));
    assert.equal(await verifies(serverA, beforeBroken), true);
    // An unreadable NODE_EXTRA_CA_CERTS adds nothing (Node warns of it at start-up), and takes nothing away.
    const missing = await make([pkiB.caPem], { NODE_EXTRA_CA_CERTS: path.join(work.dir, "nope.pem") });
    assert.equal(await verifies(serverB, missing), true);
    assert.equal(await verifies(serverA, missing), false);
    // Nothing leaks into Node's own default context.
    assert.equal(await verifies(serverB, tls.createSecureContext()), false);
  });
}

test("Node's default context, extended, reads NODE_EXTRA_CA_CERTS's `X509 CERTIFICATE` blocks as Node does", async () => {
  const old = pkiA.caPem.replace(/BEGIN CERTIFICATE/, "BEGIN X509 CERTIFICATE").replace(/END CERTIFICATE/, "END X509 CERTIFICATE");
  const context = (await extendedDefaultContext(tls, [pkiB.caPem], await extraFile("x509-a.pem", old)))!;
  assert.equal(await verifies(serverA, context), true);
  assert.equal(await verifies(serverB, context), true);
});

test("the --cert file is read once a run; one that cannot be read, or is too large, is a usage error", async () => {
  const file = path.join(work.dir, "bundle.pem");
  await writeFile(file, `${pkiA.caPem}${pkiB.caPem}`);
  const first = readCertBundle(file);
  assert.equal(readCertBundle(file), first, "the same reading");
  assert.equal((await first).length, 2);
  await assert.rejects(readCertBundle(work.dir), (error: unknown) => error instanceof MpipError && error.code === "usage" && /^cannot read the --cert file `.*` \(EISDIR\)$/.test(error.message));
  const huge = path.join(work.dir, "huge.pem");
  await writeFile(huge, "");
  await truncate(huge, MAX_CERT_FILE_BYTES + 1);
  await assert.rejects(readCertBundle(huge), /cannot read the --cert file `.*huge\.pem` \(it is 17 MiB, more than the 16 MiB a certificate bundle may be\)/);
  const der = path.join(work.dir, "ca.der");
  await writeFile(der, Buffer.from(pkiA.caPem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
  await assert.rejects(readCertBundle(der), (error: unknown) => error instanceof MpipError && /holds no PEM certificate/.test(error.message) && /openssl x509 -inform der/.test(error.hint ?? ""));
});

test("--cert's context is made once, from the file, and no context at all without --cert", async () => {
  assert.equal(await trustedContext(undefined), undefined);
  const context = await trustedContext(pkiA.caFile);
  assert.ok(context !== undefined);
  assert.equal(await verifies(serverA, context), true);
  assert.equal(await verifies(serverB, context), false);
  await assert.rejects(trustedContext(path.join(work.dir, "nope.pem")), /cannot read the --cert file `.*nope\.pem` \(ENOENT\)/);
});
