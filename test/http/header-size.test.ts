// The most bytes of headers an answer may carry. mpip gives undici the limit Node's own HTTP client has
// (`--max-http-header-size`, else 16 KiB), so that undici need not load node:http to read it
// (scripts/bundle.mjs): the limit must stay Node's, set on Node's command line or in NODE_OPTIONS, and
// an answer beyond it must fail with words that say so.

import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { maxHeaderSize } from "../../src/http/undici.js";
import { runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";

describe("the headers' limit given to undici", () => {
  test("is Node's default, or the last --max-http-header-size Node was given, its command line after NODE_OPTIONS", () => {
    assert.equal(maxHeaderSize([], ""), 16 * 1024);
    assert.equal(maxHeaderSize(["--max-http-header-size=32768"], ""), 32768);
    assert.equal(maxHeaderSize([], "--max-http-header-size 65536"), 65536);
    assert.equal(maxHeaderSize([], "  --no-warnings   --max-http-header-size=40000 "), 40000);
    assert.equal(maxHeaderSize(["--max-http-header-size=20000"], "--max-http-header-size=90000"), 20000);
    assert.equal(maxHeaderSize(["--max-http-header-size=20000", "--max-http-header-size=30000"], ""), 30000);
    // Spelt as Node also reads it: `_` for `-` in the name, a word of NODE_OPTIONS in double quotes.
    // Before, these were passed over: a limit the user had raised was 16 KiB again for mpip alone.
    assert.equal(maxHeaderSize(["--max_http_header_size=32768"], ""), 32768);
    assert.equal(maxHeaderSize([], "--max_http_header_size 40000"), 40000);
    assert.equal(maxHeaderSize([], '"--max-http-header-size=50000" --no-warnings'), 50000);
    assert.equal(maxHeaderSize([], '--title="a b" --max-http-header-size="60000"'), 60000);
    assert.equal(maxHeaderSize([], '--title="--max-http-header-size=70000"'), 16 * 1024, "inside another option's value");
    // Not a positive whole number: passed over (Node would not start with it).
    for (const bad of ["--max-http-header-size=0", "--max-http-header-size=abc", "--max-http-header-size=-5", "--max-http-header-size="]) assert.equal(maxHeaderSize([bad], ""), 16 * 1024, bad);
  });
});

describe("an answer with headers beyond the limit", () => {
  let server: IndexServer;
  let work: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    server = await startIndexServer();
    work = await tempDir("mpip-header-size-");
    await server.addSdist({ name: "heavy-headers", version: "1.0", files: { "heavy_headers.py": "X = 1\n" } });
    // 20,000 bytes of one header on the project's metadata: beyond Node's default, within 64 KiB.
    server.headersFor = (requested) => (requested.includes("/heavy-headers/") ? { "x-padding": "p".repeat(20_000) } : undefined);
  });
  after(async () => {
    await server.close();
    await work.cleanup();
  });

  test("fails with the limit named and how to raise it, and changes nothing", async () => {
    const target = path.join(work.dir, "default");
    const result = await runMpip(["install", "--no-cache", "--retries", "0", "-i", server.url, "-p", target, "heavy-headers"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: the answer from `http:\/\/127\.0\.0\.1:\d+\/pypi\/heavy-headers\/json` has headers larger than 16384 bytes/);
    assert.match(result.stderr, /hint: .*NODE_OPTIONS=--max-http-header-size=BYTES/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    await assert.rejects(access(target), "no target is made");
  });

  test("installs when Node is given a larger limit spelt with underscores, as Node takes it", async () => {
    const target = path.join(work.dir, "underscores");
    const result = await runMpip(["install", "-q", "--no-cache", "-i", server.url, "-p", target, "heavy-headers"], { env: { NODE_OPTIONS: "--max_http_header_size=65536" } });
    assert.equal(result.code, 0, result.stderr);
    await access(path.join(target, "heavy_headers.py"));
  });

  test("installs when Node is given a larger limit (NODE_OPTIONS)", async () => {
    const viaEnv = path.join(work.dir, "node-options");
    const result = await runMpip(["install", "-q", "--no-cache", "-i", server.url, "-p", viaEnv, "heavy-headers"], { env: { NODE_OPTIONS: "--max-http-header-size=65536" } });
    assert.equal(result.code, 0, result.stderr);
    await access(path.join(viaEnv, "heavy_headers.py"));
  });
});
