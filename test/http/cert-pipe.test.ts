// `--cert` from a pipe, as `--cert <(cat ca.pem)` gives it (`/dev/fd/63`, a FIFO): read once, with the size
// cap of a certificate bundle, and trusted as a file would be. A real FIFO (mkfifo), written by the test.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { makeTestPki, type TestPki } from "../helpers/tls.js";
import { fifoGiving } from "../helpers/process.js";

let work: { dir: string; cleanup: () => Promise<void> };
let pki: TestPki;
let secure: IndexServer;
let counter = 0;

before(async () => {
  work = await tempDir("mpip-cert-pipe-");
  await mkdir(path.join(work.dir, "pki"));
  pki = await makeTestPki(path.join(work.dir, "pki"));
  secure = await startIndexServer({ tls: { key: pki.key, cert: pki.cert } });
  await secure.addSdist({ name: "tls-pipe", version: "1.0", files: { "tls_pipe.py": "X = 1\n" } });
});

after(async () => {
  await secure.close();
  await work.cleanup();
});

/** A new FIFO in the work folder, and its writer (fifoGiving). */
const fifo = (bytes: Buffer | string) => fifoGiving(path.join(work.dir, `fifo-${++counter}`), bytes);

describe("--cert given a pipe", () => {
  test("a FIFO holding the CA is read once and trusted: the install from an https index succeeds", async () => {
    const { file, written } = fifo(pki.caPem);
    const target = path.join(work.dir, `t${++counter}`);
    // Read twice, the second open would wait for a writer that never comes, and the run would time out.
    const result = await runMpip(["install", "-p", target, "--cert", file, "-i", secure.url, "tls-pipe"]);
    await written;
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await listFiles(target)).includes("tls_pipe.py"));
  });

  test("a FIFO with no PEM certificate is refused as a file would be", async () => {
    const { file, written } = fifo("not a certificate\n");
    const result = await runMpip(["install", "-p", path.join(work.dir, `t${++counter}`), "--cert", file, "-i", secure.url, "tls-pipe"]);
    await written;
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /error: `[^`]*fifo-\d+` holds no PEM certificate/);
  });

  test("a FIFO that gives more than the cap is cut off and refused", async () => {
    const { file, written } = fifo(Buffer.alloc(16 * 1024 * 1024 + 64 * 1024, 0x41));
    const result = await runMpip(["install", "-p", path.join(work.dir, `t${++counter}`), "--cert", file, "-i", secure.url, "tls-pipe"]);
    await written;
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /error: cannot read the --cert file `[^`]*fifo-\d+` \(it gave more than the 16 MiB a certificate bundle may be\)/);
  });

  test("a socket is still not a certificate file", async () => {
    const socket = path.join(work.dir, "sock");
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const result = await runMpip(["install", "-p", path.join(work.dir, `t${++counter}`), "--cert", socket, "-i", secure.url, "tls-pipe"]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /error: `[^`]*sock` \(given with --cert\) is not a regular file, a pipe or a device, where a file is needed/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
