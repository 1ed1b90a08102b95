// Network faults end to end: the built CLI against real servers on 127.0.0.1 that misbehave on purpose
// (see helpers/faults.ts), an https index signed by a CA made at test time, a forwarding proxy, and
// servers that check who sent which credentials. The tests run at once, each run into a target of its own,
// so a package a test installs is its own wherever the test counts a server's requests or spoils them
// (faults and counts go by package name). Two packages are shared by two tests each, where that cannot
// make a test pass wrongly: `tls-none` (both tests' runs fail at TLS, before any request reaches the index,
// so the other test could only add to the zero requests the first one asserts, failing it, never hide
// one), and `via-proxy-tls` (each test counts on a proxy it starts for itself).

import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir, type RunResult } from "./helpers/cli.js";
import { startIndexServer, type Fault, type IndexFile, type IndexServer } from "./helpers/index-server.js";
import { startProxy } from "./helpers/proxy.js";
import { buildSdist, sdistFilename } from "./helpers/sdist.js";
import { makeTestPki, type TestPki } from "./helpers/tls.js";

let server: IndexServer;
/** A second plain index on another port: where redirects lead. */
let other: IndexServer;
/** An https index whose certificate is signed by the test CA. */
let secure: IndexServer;
let pki: TestPki;
/** A second https index, signed by a second test CA. */
let secure2: IndexServer;
let pki2: TestPki;
let work: { dir: string; cleanup: () => Promise<void> };
let home: string;

const PACKAGES = [
  "ok-plain", "s503-once", "s503-always", "s429-after", "s503-date", "s503-long", "s501", "s404-file",
  "reset-before", "reset-before-always", "stale-conn", "stale-twice", "given-up", "given-up-cause", "reset-after", "reset-after-always", "cut-once", "cut-always", "cut-chunked", "cut-meta",
  "digest", "stall-once", "stall-always", "slow-headers", "trickle", "loop", "moved", "downgrade",
  "via-proxy", "no-proxy", "via-proxy-tls", "tls-none", "tls-cert", "tls-env", "tls-both", "tls-openssl", "tls-bad-cert",
  "auth-url", "auth-missing", "auth-wrong", "auth-redirect", "auth-netrc", "auth-netrc-env", "auth-netrc-default",
];

before(async () => {
  work = await tempDir("mpip-network-");
  home = path.join(work.dir, "home");
  await mkdir(home);
  await mkdir(path.join(work.dir, "pki2"));
  [pki, pki2] = await Promise.all([makeTestPki(work.dir), makeTestPki(path.join(work.dir, "pki2"))]);
  [server, other, secure, secure2] = await Promise.all([
    startIndexServer(), startIndexServer(), startIndexServer({ tls: { key: pki.key, cert: pki.cert } }), startIndexServer({ tls: { key: pki2.key, cert: pki2.cert } }),
  ]);
  await secure2.addSdist({ name: "tls-second", version: "1.0", files: { "tls_second.py": 'NAME = "tls-second"\n' } });
  for (const name of PACKAGES) {
    const file = await packageFile(name);
    // The same bytes on every server, so a redirect to another one serves what the index's sha256 promises.
    for (const index of [server, other, secure]) index.addFile(name, "1.0", file);
  }
});

/** Each package's sdist, built once: every server that serves the package serves these bytes. */
const packageFiles = new Map<string, Promise<IndexFile>>();
function packageFile(name: string): Promise<IndexFile> {
  let file = packageFiles.get(name);
  if (file === undefined) {
    const spec = { name, version: "1.0", files: { [`${name.replace(/-/g, "_")}.py`]: `NAME = "${name}"\n${"# padding\n".repeat(200)}` } };
    file = buildSdist(spec).then((body) => ({ filename: sdistFilename(spec), body, packagetype: "sdist" }));
    packageFiles.set(name, file);
  }
  return file;
}
after(async () => {
  await Promise.all([server.close(), other.close(), secure.close(), secure2.close()]);
  await work.cleanup();
});

/** No proxy, no netrc, no extra CA from the environment running the tests; retries wait 1 ms. */
const BASE_ENV: NodeJS.ProcessEnv = {
  HTTP_PROXY: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined,
  NODE_EXTRA_CA_CERTS: undefined, NETRC: undefined, MPIP_RETRY_BASE_MS: "1",
};

interface Run extends RunResult {
  target: string;
  /** Everything in the folder holding the target, after the run. */
  beside: string[];
}

async function install(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const parent = path.join(work.dir, "runs", `${name}-${Math.random().toString(36).slice(2)}`);
  await mkdir(parent, { recursive: true });
  const target = path.join(parent, "target");
  const result = await runMpip(["install", "--no-record", "-p", target, ...args], { env: { ...BASE_ENV, HOME: home, ...env } });
  return { ...result, target, beside: await readdir(parent) };
}

/** A failed run: exit 1, an `error:` with a hint and no stack trace, the target never created, nothing left beside it. */
function assertFailed(run: Run, message: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^error: /m);
  assert.match(run.stderr, message);
  assert.match(run.stderr, /^hint: /m);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace without --debug");
  assert.deepEqual(run.beside, [], "nothing left beside the target");
}

async function assertInstalled(run: Run, name: string): Promise<void> {
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await listFiles(run.target), [`${name.replace(/-/g, "_")}.py`]);
  assert.deepEqual(run.beside, ["target"]);
}

/** Spoil `route` responses for one package only. */
function fault(index: IndexServer, name: string, route: "project" | "file", spoil: Fault, times?: number) {
  return index.fault(({ route: hit, path }) => hit === route && path.split("/").includes(name), spoil, times === undefined ? {} : { times });
}

function requestsFor(index: IndexServer, name: string): string[] {
  return index.requests.filter((line) => line.split("/").includes(name));
}

/**
 * The requests an index received for one project: its name is a whole segment of the path. (A substring
 * would also match a project whose name starts with it, such as `auth-netrc-default` for `auth-netrc`,
 * installed by a test running at the same time.)
 */
function receivedFor(index: IndexServer, name: string): IndexServer["received"] {
  return index.received.filter((request) => request.url.split("?")[0]!.split("/").includes(name));
}

describe("retries", { concurrency: true }, () => {
  test("--retries and --timeout take sensible values only", async () => {
    for (const bad of [["--retries", "-1"], ["--retries", "two"], ["--timeout", "0"], ["--timeout", "1e3"]]) {
      const run = await install("usage", [...bad, "-i", server.url, "ok-plain"]);
      assert.equal(run.code, 2, `${bad.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`${bad[0]} must be`));
    }
  });

  test("a 503 once is retried, and the retry is logged with -v", async () => {
    const spoiled = fault(server, "s503-once", "file", { type: "status", status: 503 }, 1);
    const run = await install("s503-once", ["-v", "-i", server.url, "s503-once"]);
    await assertInstalled(run, "s503-once");
    assert.equal(spoiled.hits, 1);
    assert.match(run.stderr, /answered HTTP 503; retry 1 of 3 in [\d.]+ s \(backoff\)/);
  });

  test("a 503 that persists fails after --retries, saying how many attempts", async () => {
    fault(server, "s503-always", "project", { type: "status", status: 503 });
    const run = await install("s503-always", ["--retries", "2", "-i", server.url, "s503-always"]);
    assertFailed(run, /error: GET `http:\/\/127\.0\.0\.1:\d+\/pypi\/s503-always\/json` answered HTTP 503 \(gave up after 3 attempts\)/);
    assert.match(run.stderr, /hint: the server is overloaded or failing; try again later, or raise --retries/);
    assert.equal(requestsFor(server, "s503-always").length, 3);
  });

  test("a 429 with Retry-After in seconds is honoured", async () => {
    const spoiled = fault(server, "s429-after", "project", { type: "status", status: 429, retryAfter: "1" }, 1);
    const run = await install("s429-after", ["-v", "-i", server.url, "s429-after"]);
    await assertInstalled(run, "s429-after");
    assert.equal(spoiled.hits, 1);
    assert.match(run.stderr, /answered HTTP 429; retry 1 of 3 in 1 s \(as the server asked \(Retry-After\)\)/);
  });

  test("a Retry-After given as an HTTP date is honoured", async () => {
    const when = new Date(Date.now() + 1000).toUTCString();
    fault(server, "s503-date", "file", { type: "status", status: 503, retryAfter: when }, 1);
    const run = await install("s503-date", ["-v", "-i", server.url, "s503-date"]);
    await assertInstalled(run, "s503-date");
    assert.match(run.stderr, /retry 1 of 3 in [\d.]+ s \(as the server asked \(Retry-After\)\)/);
  });

  test("--retries 0 gives up at once, however long Retry-After asks to wait", async () => {
    fault(server, "s503-long", "project", { type: "status", status: 503, retryAfter: "3600" });
    const run = await install("s503-long", ["--retries", "0", "-i", server.url, "s503-long"]);
    assertFailed(run, /answered HTTP 503$/m);
    assert.equal(requestsFor(server, "s503-long").length, 1);
  });

  test("a definite answer is not retried: 501, and a 404 for a listed file", async () => {
    fault(server, "s501", "project", { type: "status", status: 501 });
    const run = await install("s501", ["-i", server.url, "s501"]);
    assertFailed(run, /answered HTTP 501$/m);
    assert.equal(requestsFor(server, "s501").length, 1);
    fault(server, "s404-file", "file", { type: "status", status: 404 });
    const missing = await install("s404-file", ["-i", server.url, "s404-file"]);
    assertFailed(missing, /the index lists `s404-file 1\.0` .* but that URL answered 404/);
    assert.equal(requestsFor(server, "s404-file").filter((line) => line.includes("/files/")).length, 1);
  });

  test("a connection reset before the headers is retried; a persistent one fails clearly", async () => {
    const once = fault(server, "reset-before", "project", { type: "reset", when: "before-headers" }, 1);
    await assertInstalled(await install("reset-before", ["-i", server.url, "reset-before"]), "reset-before");
    assert.equal(once.hits, 1);
    fault(server, "reset-before-always", "file", { type: "reset", when: "before-headers" });
    const run = await install("reset-before-always", ["--retries", "1", "-i", server.url, "reset-before-always"]);
    assertFailed(run, /error: could not fetch `http:\/\/127\.0\.0\.1:\d+\/files\/reset-before-always\/1\.0\/reset-before-always-1\.0\.tar\.gz` \(connection reset\) \(gave up after 2 attempts\)/);
    assert.match(run.stderr, /hint: the connection dropped/);
  });

  test("a kept-alive connection closed before it answers is sent on again once, outside --retries; a second close is a failure", async () => {
    // The index keeps connections alive (its first answer says so). The file's request is dropped once, as
    // on a connection the server's keep-alive timeout closed while mpip was busy: sent again on another,
    // it is answered, with --retries 0 too.
    const once = fault(server, "stale-conn", "file", { type: "reset", when: "before-headers" }, 1);
    const run = await install("stale-conn", ["--retries", "0", "-v", "-i", server.url, "stale-conn"]);
    await assertInstalled(run, "stale-conn");
    assert.equal(once.hits, 1);
    assert.equal(requestsFor(server, "stale-conn").filter((line) => line.includes("/files/")).length, 2);
    assert.match(run.stderr, /a connection to `http:\/\/127\.0\.0\.1:\d+` kept alive was closed before it answered; sending the request for `.*stale-conn-1\.0\.tar\.gz` again/);
    // Dropped twice: the second sending is spent, and --retries 0 gives up.
    fault(server, "stale-twice", "file", { type: "reset", when: "before-headers" }, 2);
    const twice = await install("stale-twice", ["--retries", "0", "-i", server.url, "stale-twice"]);
    assertFailed(twice, /could not fetch `.*stale-twice-1\.0\.tar\.gz` \(connection reset\)/);
    assert.equal(requestsFor(server, "stale-twice").filter((line) => line.includes("/files/")).length, 2);
  });

  test("a download the run gives up because another part failed is neither retried nor told as cut short", async () => {
    // given-up's file comes a few bytes at a time for seconds; given-up-cause's document comes late, and
    // its file is gone (a definite failure) while given-up's is still coming.
    fault(server, "given-up", "file", { type: "trickle", chunkBytes: 16, intervalMs: 20 });
    fault(server, "given-up-cause", "project", { type: "delay", ms: 300 });
    fault(server, "given-up-cause", "file", { type: "status", status: 404 });
    const run = await install("given-up", ["-v", "-i", server.url, "given-up", "given-up-cause"]);
    assertFailed(run, /the index lists `given-up-cause 1\.0` .* but that URL answered 404/);
    assert.ok(requestsFor(server, "given-up").some((line) => line.includes("/files/")), "given-up's download had begun");
    assert.doesNotMatch(run.stderr, /given-up-1\.0\.tar\.gz.*(cut short|retry \d of)/);
    assert.doesNotMatch(run.stderr, /another part of the install failed\); retry/);
  });

  test("a connection reset in the middle of a body is a cut-short body, retried", async () => {
    fault(server, "reset-after", "file", { type: "reset", when: "after-headers" }, 2);
    await assertInstalled(await install("reset-after", ["-i", server.url, "reset-after"]), "reset-after");
    fault(server, "reset-after-always", "file", { type: "reset", when: "after-headers" });
    const run = await install("reset-after-always", ["--retries", "0", "-i", server.url, "reset-after-always"]);
    assertFailed(run, /the response from `http:\/\/127\.0\.0\.1:\d+\/files\/reset-after-always\/.*` was cut short/);
  });
});

describe("truncated, corrupt, slow and stalled bodies", { concurrency: true }, () => {
  test("a body shorter than its Content-Length is never taken for a whole one", async () => {
    const once = fault(server, "cut-once", "file", { type: "truncate" }, 1);
    await assertInstalled(await install("cut-once", ["-i", server.url, "cut-once"]), "cut-once");
    assert.equal(once.hits, 1);
    fault(server, "cut-always", "file", { type: "truncate", sendBytes: 100 });
    const run = await install("cut-always", ["--retries", "1", "-i", server.url, "cut-always"]);
    assertFailed(run, /the response from `.*\/cut-always-1\.0\.tar\.gz` was cut short(: 100 of \d+ bytes)?.* \(gave up after 2 attempts\)/);
    assert.doesNotMatch(run.stderr, /sha256|archive/, "caught as a cut-short download, not later as a corrupt archive");
  });

  test("an unfinished chunked encoding is a cut-short body", async () => {
    fault(server, "cut-chunked", "file", { type: "truncate", chunked: true, sendBytes: 200 });
    const run = await install("cut-chunked", ["--retries", "0", "-i", server.url, "cut-chunked"]);
    assertFailed(run, /the response from `.*\/cut-chunked-1\.0\.tar\.gz` was cut short/);
  });

  test("cut-short metadata is a network error, not malformed metadata", async () => {
    fault(server, "cut-meta", "project", { type: "truncate" });
    const run = await install("cut-meta", ["--retries", "0", "--json", "-i", server.url, "cut-meta"]);
    assertFailed(run, /the response from `http:\/\/127\.0\.0\.1:\d+\/pypi\/cut-meta\/json` was cut short/);
    assert.equal(JSON.parse(run.stdout).error.code, "network");
  });

  test("bytes that do not match the index's sha256 are refused, and nothing is written", async () => {
    fault(server, "digest", "file", { type: "wrong-digest" });
    const run = await install("digest", ["--json", "-i", server.url, "digest"]);
    assertFailed(run, /`digest 1\.0` .* does not match the index's sha256/);
    assert.equal(JSON.parse(run.stdout).error.code, "digest-mismatch");
  });

  test("a stalled body is detected after --timeout and retried", async () => {
    const once = fault(server, "stall-once", "file", { type: "stall" }, 1);
    const run = await install("stall-once", ["-v", "--timeout", "1", "-i", server.url, "stall-once"]);
    await assertInstalled(run, "stall-once");
    assert.equal(once.hits, 1);
    assert.match(run.stderr, /the download of `.*stall-once-1\.0\.tar\.gz` stalled: no data for 1 s; retry 1 of 3/);
  });

  test("a body that stays stalled fails, naming the URL and --timeout", async () => {
    fault(server, "stall-always", "file", { type: "stall" });
    const run = await install("stall-always", ["--timeout", "1", "--retries", "0", "--json", "-i", server.url, "stall-always"]);
    assertFailed(run, /error: the download of `http:\/\/127\.0\.0\.1:\d+\/files\/stall-always\/.*` stalled: no data for 1 s/);
    assert.match(run.stderr, /hint: .*raise --timeout/);
    assert.equal(JSON.parse(run.stdout).error.code, "network");
  });

  test("a server that sends no headers in time is a clear timeout", async () => {
    fault(server, "slow-headers", "project", { type: "delay", ms: 5000 });
    const run = await install("slow-headers", ["--timeout", "1", "--retries", "0", "-i", server.url, "slow-headers"]);
    assertFailed(run, /error: `http:\/\/127\.0\.0\.1:\d+\/pypi\/slow-headers\/json` sent no answer within 1 s/);
  });

  test("a slow trickle is not a stall: each pause is shorter than --timeout", async () => {
    const slow = fault(server, "trickle", "file", { type: "trickle", chunkBytes: 16, intervalMs: 10 });
    await assertInstalled(await install("trickle", ["--timeout", "2", "--retries", "0", "-i", server.url, "trickle"]), "trickle");
    assert.equal(slow.hits, 1);
  });

  test("a server that never completes the connection is a connect timeout", async () => {
    // Accepts TCP but never answers the TLS handshake: only the connect timeout can end it.
    const sockets = new Set<Socket>();
    let connections = 0;
    const silent = createTcpServer((socket) => {
      connections++;
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/pypi`;
      const run = await install("silent", ["--timeout", "1", "--retries", "1", "-i", url, "anything"]);
      assertFailed(run, /error: could not connect to fetch `https:\/\/127\.0\.0\.1:\d+\/pypi\/anything\/json` within 1 s \(gave up after 2 attempts\)/);
      assert.equal(connections, 2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test("a refused connection fails at once, without retries", async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await install("refused", ["-i", `http://127.0.0.1:${port}/pypi`, "anything"]);
    assertFailed(run, /error: could not connect to fetch `http:\/\/127\.0\.0\.1:\d+\/pypi\/anything\/json`: connection refused$/m);
  });
});

describe("redirects", { concurrency: true }, () => {
  test("a redirect loop stops after 10 hops and is not retried", async () => {
    fault(server, "loop", "project", { type: "redirect-loop" });
    const run = await install("loop", ["-i", server.url, "loop"]);
    assertFailed(run, /error: too many redirects \(more than 10\) fetching `http:\/\/127\.0\.0\.1:\d+\/pypi\/loop\/json`/);
    assert.match(run.stderr, /hint: the server redirects in a loop/);
    assert.equal(requestsFor(server, "loop").length, 11);
  });

  test("a redirect to another server is followed", async () => {
    fault(server, "moved", "file", { type: "redirect", to: (p) => `${other.origin}${p}`, status: 301 });
    await assertInstalled(await install("moved", ["-i", server.url, "moved"]), "moved");
    assert.equal(requestsFor(other, "moved").length, 1);
  });

  test("a redirect from https to http is refused", async () => {
    fault(secure, "downgrade", "file", { type: "redirect", to: (p) => `${other.origin}${p}` });
    const run = await install("downgrade", ["--cert", pki.caFile, "-i", secure.url, "downgrade"]);
    assertFailed(run, /error: refused a redirect from `https:\/\/127\.0\.0\.1:\d+\/files\/downgrade\/.*` to `http:\/\/127\.0\.0\.1:\d+\/files\/downgrade\/.*`: it downgrades https to http/);
    assert.match(run.stderr, /hint: use an index that stays on https/);
    assert.equal(requestsFor(other, "downgrade").length, 0);
  });
});

describe("proxies and certificates", { concurrency: true }, () => {
  test("HTTP_PROXY carries the requests; NO_PROXY bypasses it", async () => {
    const proxy = await startProxy();
    try {
      await assertInstalled(await install("via-proxy", ["-i", server.url, "via-proxy"], { HTTP_PROXY: proxy.url }), "via-proxy");
      const host = new URL(server.origin).host;
      assert.ok(proxy.seen.length > 0 && proxy.seen.every((line) => line === `CONNECT ${host}` || line.startsWith(`GET ${server.origin}/`)), proxy.seen.join("\n"));
      const before = proxy.seen.length;
      await assertInstalled(await install("no-proxy", ["-i", server.url, "no-proxy"], { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }), "no-proxy");
      assert.equal(proxy.seen.length, before, "NO_PROXY=127.0.0.1 must bypass the proxy");
    } finally {
      await proxy.close();
    }
  });

  test("HTTPS_PROXY tunnels an https index, with --cert applied through the tunnel", async () => {
    const proxy = await startProxy();
    try {
      const run = await install("via-proxy-tls", ["--cert", pki.caFile, "-i", secure.url, "via-proxy-tls"], { HTTPS_PROXY: proxy.url });
      await assertInstalled(run, "via-proxy-tls");
      assert.ok(proxy.seen.includes(`CONNECT ${new URL(secure.origin).host}`), proxy.seen.join("\n"));
    } finally {
      await proxy.close();
    }
  });

  test("an https index signed by an unknown CA is a certificate error with a hint about --cert", async () => {
    const run = await install("tls-none", ["--json", "-i", secure.url, "tls-none"]);
    assertFailed(run, /error: could not verify the TLS certificate of `https:\/\/127\.0\.0\.1:\d+\/pypi\/tls-none\/json` \(.+\)/);
    assert.match(run.stderr, /hint: .*--cert FILE.*NODE_EXTRA_CA_CERTS/);
    assert.equal(JSON.parse(run.stdout).error.code, "tls");
    assert.equal(requestsFor(secure, "tls-none").length, 0);
  });

  test("a certificate error names the --cert file that did not help, and the proxy the request went through", async () => {
    const wrong = await install("tls-none", ["--cert", pki2.caFile, "-i", secure.url, "tls-none"]);
    assertFailed(wrong, /error: could not verify the TLS certificate of `https:\/\/127\.0\.0\.1:\d+\/pypi\/tls-none\/json`/);
    assert.match(wrong.stderr, /^hint: neither Node's certificate authorities nor those in `.*pki2\/ca\.pem` \(--cert\) signed it: add the certificate of the authority that did to that file$/m);
    const proxy = await startProxy();
    try {
      const through = await install("tls-none", ["-i", secure.url, "tls-none"], { HTTPS_PROXY: proxy.url });
      assertFailed(through, /error: could not verify the TLS certificate of/);
      assert.match(through.stderr, new RegExp(`^hint: if the index uses a private certificate authority, .*\\. The request went through the proxy \`${proxy.url.replace(/[.]/g, "\\.")}\` \\(HTTPS_PROXY\\) unless NO_PROXY names the host: a proxy that inspects TLS signs with an authority of its own$`, "m"));
    } finally {
      await proxy.close();
    }
  });

  test("an https proxy addressed by IP: the install goes through it, and Node's warning about the IP as TLS server name (DEP0123) is not printed", async () => {
    const proxy = await startProxy({ tls: { key: pki.key, cert: pki.cert } });
    try {
      for (const extra of [[], ["--json"]]) {
        const run = await install("via-proxy-tls", ["--cert", pki.caFile, ...extra, "-i", secure.url, "via-proxy-tls"], { HTTPS_PROXY: proxy.url });
        await assertInstalled(run, "via-proxy-tls");
        assert.doesNotMatch(run.stderr, /DEP0123|DeprecationWarning|RFC 6066/, run.stderr);
      }
      assert.ok(proxy.seen.includes(`CONNECT ${new URL(secure.origin).host}`), proxy.seen.join("\n"));
    } finally {
      await proxy.close();
    }
  });

  test("--cert adds a CA to the trusted ones", async () => {
    await assertInstalled(await install("tls-cert", ["--cert", pki.caFile, "-i", secure.url, "tls-cert"]), "tls-cert");
  });

  test("NODE_EXTRA_CA_CERTS is trusted", async () => {
    await assertInstalled(await install("tls-env", ["-i", secure.url, "tls-env"], { NODE_EXTRA_CA_CERTS: pki.caFile }), "tls-env");
  });

  test("--cert adds to NODE_EXTRA_CA_CERTS: one install trusts both, over several connections", async () => {
    const run = await install("tls-both", ["--cert", pki2.caFile, "-i", secure2.url, "-i", secure.url, "tls-second", "tls-both"], { NODE_EXTRA_CA_CERTS: pki.caFile });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await listFiles(run.target), ["tls_both.py", "tls_second.py"]);
    assert.ok(requestsFor(secure, "tls-both").length >= 2 && requestsFor(secure2, "tls-second").length >= 2);
  });

  test("--cert adds to OpenSSL's store when Node uses it (--use-openssl-ca)", async () => {
    const run = await install("tls-openssl", ["--cert", pki2.caFile, "-i", secure2.url, "-i", secure.url, "tls-second", "tls-openssl"], {
      NODE_OPTIONS: "--use-openssl-ca", SSL_CERT_FILE: pki.caFile, SSL_CERT_DIR: path.join(work.dir, "no-cert-dir"),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(await listFiles(run.target), ["tls_openssl.py", "tls_second.py"]);
  });

  test("a --cert file that is missing or holds no certificate is a usage error", async () => {
    const missing = await install("tls-bad-cert", ["--cert", path.join(work.dir, "nope.pem"), "-i", secure.url, "tls-bad-cert"]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /error: `.*nope\.pem` \(given with --cert\): there is nothing at that path/);
    const junk = path.join(work.dir, "junk.pem");
    await writeFile(junk, "not a certificate\n");
    const bad = await install("tls-bad-cert", ["--cert", junk, "-i", secure.url, "tls-bad-cert"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /error: `.*junk\.pem` holds no PEM certificate/);
    // Also when the install would not use the network at all: what was typed is checked first.
    const offline = await runMpip(["install", "--no-index", "-f", work.dir, "--cert", junk, "-p", path.join(work.dir, "offline"), "anything"]);
    assert.equal(offline.code, 2, offline.stderr);
    assert.match(offline.stderr, /error: `.*junk\.pem` holds no PEM certificate/);
  });
});

describe("credentials", { concurrency: true }, () => {
  const USER = "alice";
  const TOKEN = "s3cret-t0ken";
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  /** The secret, in any form it could leak in. */
  const assertNoSecret = (run: RunResult, secret: string) => {
    for (const form of [secret, encodeURIComponent(secret), basic(USER, secret).slice(6)]) {
      assert.ok(!run.stdout.includes(form), `stdout shows a credential: ${run.stdout}`);
      assert.ok(!run.stderr.includes(form), `stderr shows a credential: ${run.stderr}`);
    }
  };
  let guarded: IndexServer;
  before(async () => {
    guarded = await startIndexServer();
    for (const name of PACKAGES.filter((name) => name.startsWith("auth-"))) guarded.addFile(name, "1.0", await packageFile(name));
    guarded.requireAuth(USER, TOKEN);
  });
  after(() => guarded.close());
  const withLogin = (index: IndexServer, password = TOKEN) => index.url.replace("http://", `http://${USER}:${password}@`);

  test("credentials in the index URL go to that index for every request, and never into the output", async () => {
    const run = await install("auth-url", ["-v", "--json", "-i", withLogin(guarded), "auth-url"]);
    await assertInstalled(run, "auth-url");
    const seen = receivedFor(guarded, "auth-url");
    assert.equal(seen.length, 2); // the project document and the file
    assert.ok(seen.every((request) => request.headers.authorization === basic(USER, TOKEN)));
    assertNoSecret(run, TOKEN);
    const report = JSON.parse(run.stdout);
    assert.match(report.packages[0].source, /^http:\/\/\*\*\*@127\.0\.0\.1:\d+\/pypi$/);
  });

  test("without credentials the 401 says to check them, and is not retried", async () => {
    const run = await install("auth-missing", ["-i", guarded.url, "auth-missing"]);
    assertFailed(run, /answered HTTP 401$/m);
    // The example shows where credentials go: mpip's own placeholder is not redacted.
    assert.match(run.stderr, /hint: check your credentials: in the index URL \(`https:\/\/user:token@host\/\.\.\.`\) or in ~\/\.netrc/);
    assert.equal(requestsFor(guarded, "auth-missing").length, 1);
  });

  test("wrong credentials fail without showing them, in messages or --json", async () => {
    const wrong = "wr0ng-t0ken";
    const run = await install("auth-wrong", ["-v", "--json", "-i", withLogin(guarded, wrong), "auth-wrong"]);
    assertFailed(run, /answered HTTP 401$/m);
    assertNoSecret(run, wrong);
    assert.equal(JSON.parse(run.stdout).error.code, "http-status");
  });

  test("a redirect to another server does not carry the credentials", async () => {
    fault(guarded, "auth-redirect", "file", { type: "redirect", to: (p) => `${other.origin}${p}` });
    const run = await install("auth-redirect", ["-v", "-i", withLogin(guarded), "auth-redirect"]);
    await assertInstalled(run, "auth-redirect");
    const there = receivedFor(other, "auth-redirect");
    assert.equal(there.length, 1);
    assert.equal(there[0]!.headers.authorization, undefined);
    assertNoSecret(run, TOKEN);
  });

  test("~/.netrc supplies credentials for its machine only", async () => {
    const netrcHome = path.join(work.dir, "netrc-home");
    await mkdir(netrcHome, { recursive: true });
    await writeFile(path.join(netrcHome, ".netrc"), `# test\nmachine 127.0.0.1\n  login ${USER}\n  password ${TOKEN}\n`);
    // The redirect goes to `localhost`: another host name, which the netrc entry does not cover.
    fault(guarded, "auth-netrc", "file", { type: "redirect", to: (p) => `${other.origin.replace("127.0.0.1", "localhost")}${p}` });
    const run = await install("auth-netrc", ["-v", "--json", "-i", guarded.url, "auth-netrc"], { HOME: netrcHome });
    await assertInstalled(run, "auth-netrc");
    const there = receivedFor(other, "auth-netrc");
    assert.equal(there.length, 1);
    assert.equal(there[0]!.headers.authorization, undefined);
    assertNoSecret(run, TOKEN);
  });

  test("netrc's `default` entry goes to the index host the user named, not to a file host the index names", async () => {
    const index = await startIndexServer();
    try {
      await index.addSdist({ name: "netrc-doc", version: "1.0", files: { "netrc_doc.py": "" } });
      const file = path.join(work.dir, "default-netrc");
      await writeFile(file, `default login ${USER} password ${TOKEN}\n`);
      // Named as `localhost`, the index lists its files under 127.0.0.1: another host, chosen by the document.
      const target = path.join(work.dir, "netrc-doc-target");
      const run = await runMpip(["install", "-i", index.url.replace("127.0.0.1", "localhost"), "-p", target, "netrc-doc"], { env: { NETRC: file } });
      assert.equal(run.code, 0, run.stderr);
      const metadata = index.received.filter((request) => request.url.endsWith("/netrc-doc/json"));
      const files = index.received.filter((request) => request.url.includes("/files/"));
      assert.equal(metadata[0]?.headers.authorization, basic(USER, TOKEN));
      assert.equal(files.length, 1);
      assert.equal(files[0]!.headers.authorization, undefined);
    } finally {
      await index.close();
    }
  });

  test("NETRC names another netrc file; its `default` entry is not sent on a redirect elsewhere", async () => {
    const file = path.join(work.dir, "custom-netrc");
    await writeFile(file, `default login ${USER} password ${TOKEN}\n`);
    const direct = await install("auth-netrc-env", ["-i", guarded.url, "auth-netrc-env"], { NETRC: file });
    await assertInstalled(direct, "auth-netrc-env");
    fault(guarded, "auth-netrc-default", "file", { type: "redirect", to: (p) => `${other.origin}${p}` });
    const redirected = await install("auth-netrc-default", ["-i", guarded.url, "auth-netrc-default"], { NETRC: file });
    await assertInstalled(redirected, "auth-netrc-default");
    const there = receivedFor(other, "auth-netrc-default");
    assert.equal(there.length, 1);
    assert.equal(there[0]!.headers.authorization, undefined);
  });
});
