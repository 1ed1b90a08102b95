// Credentials in a URL's query (`?token=`, `access_token`, `private_token`, `sig`, `X-Amz-Signature`, ...)
// never reach the cache's files: an entry by URL holds the URL asked for and the one answered (after
// redirects) with such values written `***`, as userinfo is left out, while the key stays the URL as asked
// (two tokens never share an answer) and a warm run still asks conditionally, sending the token. An entry
// an earlier mpip wrote with the token in it is written again without. The built CLI and a real server.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer } from "../helpers/index-server.js";

const TOKEN = "tok-SECRET-1234567";
const SIGNATURE = "sig-SECRET-abcdef0";

/** Every by-URL entry's text (`http/ab/<key>.json`). */
async function entries(cache: string): Promise<Array<{ file: string; text: string }>> {
  const root = path.join(cache, "http");
  const found: Array<{ file: string; text: string }> = [];
  for (const shard of existsSync(root) ? await readdir(root) : []) {
    for (const name of await readdir(path.join(root, shard))) {
      if (name.endsWith(".json")) found.push({ file: path.join(root, shard, name), text: await readFile(path.join(root, shard, name), "utf8") });
    }
  }
  return found;
}

/** Every file under `dir`, read, joined: what `grep -r` would search. */
async function allText(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push((await readFile(path.join(entry.parentPath, entry.name))).toString("latin1"));
  }
  return parts.join("\n");
}

async function setup(t: TestContext) {
  const server = await startIndexServer();
  const { dir, cleanup } = await tempDir("mpip-cache-query-");
  t.after(async () => {
    await server.close();
    await cleanup();
  });
  await server.addSdist({ name: "seed", version: "0.3", files: { "seed.py": "SIZE = 1\n" } });
  // A presigned-style redirect: the first URL's signature leads to a second URL with another one.
  server.routes.unshift({
    name: "presigned redirect",
    pattern: /^\/signed\/seed-0\.3\.tar\.gz$/,
    handle: () => ({ status: 302, headers: { location: `/files/seed/0.3/seed-0.3.tar.gz?X-Amz-Signature=${SIGNATURE}&X-Amz-Expires=60` } }),
  });
  const cache = path.join(dir, "cache");
  const download = (into: string, url: string, extra: string[] = []) => runMpip(["download", "--no-index", "-d", path.join(dir, into), ...extra, url], { env: { MPIP_CACHE_DIR: cache } });
  return { server, dir, cache, download };
}

describe("credentials in a query string are not stored in the cache", () => {
  test("`?token=` and a presigned redirect's signature: the entries hold `***`, the key is still the URL asked for, warm runs are conditional and --offline answers", async (t) => {
    const s = await setup(t);
    const direct = `${s.server.origin}/files/seed/0.3/seed-0.3.tar.gz?v=1&access_token=${TOKEN}&private_token=${TOKEN}`;
    const signed = `${s.server.origin}/signed/seed-0.3.tar.gz?sig=${TOKEN}`;
    for (const [into, url] of [["dl1", direct], ["dl2", signed]] as const) {
      const cold = await s.download(into, url);
      assert.equal(cold.code, 0, cold.stderr);
      assert.ok(existsSync(path.join(s.dir, into, "seed-0.3.tar.gz")), `${into}: ${cold.stderr}`);
    }
    const stored = await entries(s.cache);
    assert.equal(stored.length, 2);
    const cacheText = await allText(s.cache);
    assert.ok(!cacheText.includes(TOKEN) && !cacheText.includes(SIGNATURE), "no credential anywhere in the cache");
    const fields = stored.map(({ text }) => JSON.parse(text) as { requested: string; url: string }).sort((a, b) => (a.requested < b.requested ? -1 : 1));
    assert.deepEqual(fields.map(({ requested, url }) => [requested, url]), [
      [`${s.server.origin}/files/seed/0.3/seed-0.3.tar.gz?v=1&access_token=***&private_token=***`, `${s.server.origin}/files/seed/0.3/seed-0.3.tar.gz?v=1&access_token=***&private_token=***`],
      [`${s.server.origin}/signed/seed-0.3.tar.gz?sig=***`, `${s.server.origin}/files/seed/0.3/seed-0.3.tar.gz?X-Amz-Signature=***&X-Amz-Expires=60`],
    ]);

    // Warm: conditional requests that still carry the credentials, answered 304 from the cache.
    s.server.requests.length = 0;
    s.server.received.length = 0;
    s.server.notModified = 0;
    for (const [into, url] of [["dl3", direct], ["dl4", signed]] as const) {
      const warm = await s.download(into, url);
      assert.equal(warm.code, 0, warm.stderr);
      assert.deepEqual(await readFile(path.join(s.dir, into, "seed-0.3.tar.gz")), await readFile(path.join(s.dir, "dl1", "seed-0.3.tar.gz")));
    }
    assert.equal(s.server.notModified, 2, s.server.requests.join("\n"));
    assert.ok(s.server.received.some((request) => request.url.includes(`access_token=${TOKEN}`) && request.conditional), "the token is sent, conditionally");
    assert.ok(s.server.received.some((request) => request.url.includes(`X-Amz-Signature=${SIGNATURE}`) && request.conditional), "the redirect's signature is followed, conditionally");
    assert.equal((await entries(s.cache)).length, 2);

    // --offline answers from the entry of the URL asked for.
    const offline = await s.download("dl5", direct, ["--offline"]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.ok(existsSync(path.join(s.dir, "dl5", "seed-0.3.tar.gz")));

    // Another token is another key: never answered by the first token's entry.
    s.server.received.length = 0;
    const other = await s.download("dl6", direct.replace(TOKEN, "tok-OTHER-7654321"));
    assert.equal(other.code, 0, other.stderr);
    assert.ok(s.server.received.some((request) => request.url.includes("tok-OTHER-7654321") && !request.conditional));
    assert.equal((await entries(s.cache)).length, 3);
    const later = await allText(s.cache);
    assert.ok(!later.includes("tok-OTHER-7654321") && !later.includes(TOKEN));
  });

  test("an entry written with the token in it (by an earlier mpip) is written again without it at its next use", async (t) => {
    const s = await setup(t);
    const url = `${s.server.origin}/files/seed/0.3/seed-0.3.tar.gz?token=${TOKEN}`;
    assert.equal((await s.download("dl1", url)).code, 0);
    const [entry] = await entries(s.cache);
    assert.ok(entry !== undefined && entry.text.includes("token=***"), entry?.text);
    await writeFile(entry.file, entry.text.replaceAll("token=***", `token=${TOKEN}`));
    assert.ok((await allText(s.cache)).includes(TOKEN));
    s.server.notModified = 0;
    const warm = await s.download("dl2", url);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(s.server.notModified, 1, "still answered from the cache");
    assert.ok(!(await allText(s.cache)).includes(TOKEN), "the old entry is rewritten without the token");
  });
});
