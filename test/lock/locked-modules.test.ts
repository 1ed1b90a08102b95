// What a locked install loads: `install --lock` with a warm cache sends no request, so it must not load
// the HTTP client (undici); and no install loads what only some installs need: pack and pako (an install
// from a project folder), the compiler and its WebAssembly worker pool (--compile). Observed through the
// built CLI: V8's coverage of the child tells which of the bundle's modules ran
// (test/helpers/loaded-modules.ts). A plain install from the index, which does fetch, shows the HTTP
// client among its modules, and an install with --compile the compiler: the observation sees what runs.
// Node's own modules likewise: a locked install loads no socket or terminal module, and no install loads
// node:assert unless one of undici's checks fails.

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { startProxy } from "../helpers/proxy.js";
import { builtinsIn, recordLoads, sourcesIn } from "../helpers/loaded-modules.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };

/** Modules that only some runs need, and none of these. */
const NOT_NEEDED = [/node_modules\/pako\//, /^src\/pack\/pack\.ts$/, /^src\/pack\/writer\.ts$/, /^src\/mpy\/compile\.ts$/, /^src\/mpy\/wasm-pool\.ts$/, /^src\/mpy\/wasm\.ts$/];
const HTTP_CLIENT = /node_modules\/undici\//;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-locked-modules-");
  // A small graph of invented packages: two levels, a shared dependency, a package with a folder.
  await server.addSdist({ name: "lantern-core", version: "1.2", files: { "lantern_core/__init__.py": "GLOW = 1\n", "lantern_core/wick.py": "def light():\n    return 1\n" }, requires: ["lantern-oil", "lantern-glass>=0.3"] });
  await server.addSdist({ name: "lantern-oil", version: "2.0", files: { "lantern_oil.py": "FUEL = 'oil'\n" }, requires: ["lantern-glass"] });
  await server.addSdist({ name: "lantern-glass", version: "0.4", files: { "lantern_glass.py": "CLEAR = True\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

describe("modules a run loads", () => {
  test("a locked install with a warm cache sends no request and loads neither the HTTP client nor pack, pako or the compiler", async () => {
    const cache = path.join(work.dir, "cache-locked");
    const lockFile = path.join(work.dir, "pylock.toml");
    const locked = await runMpip(["lock", "-q", "-i", server.url, "-o", lockFile, "lantern-core"], { env: { MPIP_CACHE_DIR: cache } });
    assert.equal(locked.code, 0, locked.stderr);
    const first = await runMpip(["install", "-q", "--lock", lockFile, "-p", path.join(work.dir, "first")], { env: { MPIP_CACHE_DIR: cache } });
    assert.equal(first.code, 0, first.stderr);

    const before = server.requests.length;
    const record = path.join(work.dir, "loaded-locked");
    const target = path.join(work.dir, "second");
    const second = await runMpip(["install", "-q", "--lock", lockFile, "-p", target], { env: { MPIP_CACHE_DIR: cache, ...recordLoads(record) } });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(server.requests.slice(before), [], "a warm locked install asks nothing");
    const sources = await sourcesIn(record);
    assert.ok(sources.includes("src/lock/install-locked.ts"), `the record names the modules run: ${sources.join(", ")}`);
    assert.deepEqual(sources.filter((source) => HTTP_CLIENT.test(source) || NOT_NEEDED.some((pattern) => pattern.test(source))), []);
    // No socket, no terminal read, no assertion failed: node:net and node:tty (which src/read-once.ts loads
    // only for a pipe or a terminal) and node:assert (which undici's stand-in loads only to throw) are not
    // loaded, while the modules the run does need are seen.
    const builtins = await builtinsIn(record);
    assert.ok(builtins.includes("node:zlib") && builtins.includes("node:crypto"), `Node's modules are seen: ${builtins.join(", ")}`);
    assert.deepEqual(builtins.filter((name) => /^node:(net|tty|assert|https?|http2)$/.test(name)), []);
  });

  test("a plain install from the index loads the HTTP client, and not its HTTP/2 half, Node's HTTP modules, pack, pako or the compiler", async () => {
    const record = path.join(work.dir, "loaded-plain");
    const result = await runMpip(["install", "-q", "-i", server.url, "-p", path.join(work.dir, "plain"), "lantern-core"], { env: recordLoads(record) });
    assert.equal(result.code, 0, result.stderr);
    const sources = await sourcesIn(record);
    assert.ok(sources.some((source) => HTTP_CLIENT.test(source)), `the HTTP client is among the modules: ${sources.join(", ")}`);
    assert.deepEqual(sources.filter((source) => NOT_NEEDED.some((pattern) => pattern.test(source))), []);
    // Plain HTTP: undici's HTTP/2 half is not loaded (an install over HTTP/2: test/http/connections.test.ts).
    assert.deepEqual(sources.filter((source) => /node_modules\/undici\/lib\/dispatcher\/client-h2\.js$/.test(source)), []);
    // undici speaks HTTP/1.1 on its own sockets: Node's HTTP modules, and perf_hooks, are not loaded for it
    // (scripts/bundle.mjs), while those it does need are seen.
    const builtins = await builtinsIn(record);
    assert.ok(builtins.includes("node:net") && builtins.includes("node:zlib"), `Node's modules are seen: ${builtins.join(", ")}`);
    assert.deepEqual(builtins.filter((name) => /^node:(https?|http2|_http_\w+|perf_hooks)$/.test(name)), []);
    // undici's checks hold: node:assert, which its stand-in loads only to throw (scripts/bundle.mjs), is not.
    assert.deepEqual(builtins.filter((name) => name === "node:assert"), []);
  });

  test("an install through an HTTP proxy loads none of Node's HTTP modules either", async (t) => {
    const proxy = await startProxy();
    t.after(() => proxy.close());
    const record = path.join(work.dir, "loaded-proxied");
    const env = { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: "", no_proxy: "", ...recordLoads(record) };
    const result = await runMpip(["install", "-q", "--no-cache", "-i", server.url, "-p", path.join(work.dir, "proxied"), "lantern-core"], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(proxy.seen.length > 0, "the requests went through the proxy");
    // Before: undici's proxy agent made its pool to the proxy without mpip's header limit, and loaded
    // node:http (with its agent, client, server and parser) to read Node's.
    assert.deepEqual((await builtinsIn(record)).filter((name) => /^node:(https?|http2|_http_\w+)$/.test(name)), []);
  });

  test("an install with --compile runs the compiler and its worker, and still not pack or pako", async () => {
    const record = path.join(work.dir, "loaded-compile");
    const result = await runMpip(["install", "-q", "--compile", "-i", server.url, "-p", path.join(work.dir, "compiled"), "lantern-core"], { env: recordLoads(record) });
    assert.equal(result.code, 0, result.stderr);
    const sources = await sourcesIn(record);
    for (const needed of ["src/mpy/compile.ts", "src/mpy/wasm-pool.ts", "src/mpy/wasm.ts"]) assert.ok(sources.includes(needed), `${needed} is among the modules: ${sources.join(", ")}`);
    assert.deepEqual(sources.filter((source) => /node_modules\/pako\/|^src\/pack\/(pack|writer)\.ts$/.test(source)), []);
  });
});
