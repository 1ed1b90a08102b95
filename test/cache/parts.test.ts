// The cache's parts on their own: durations for `clean --older-than`, HTTP validators and `no-store`,
// the store's reads (limits, bad entries) and writes, and the by-URL entries (malformed ones dropped,
// keys free of credentials).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, test } from "node:test";
import { Draw, MemoryBudget, Quota } from "../../src/budget.js";
import { Cache } from "../../src/cache/cache.js";
import { conditionalHeaders, forbidsStoring, validatorsOf } from "../../src/cache/documents.js";
import { parseDuration } from "../../src/cache/duration.js";
import { fullSha256, TeeSink } from "../../src/cache/store.js";
import { MemorySink } from "../../src/sink.js";
import { tempDir } from "../helpers/cli.js";

const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

describe("durations", () => {
  test("a number and a unit; a bare number, a zero or an unknown unit is refused", () => {
    assert.equal(parseDuration("30d"), 30 * 86_400_000);
    assert.equal(parseDuration("12h"), 12 * 3_600_000);
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("1.5m"), 90_000);
    assert.equal(parseDuration("2w"), 14 * 86_400_000);
    assert.equal(parseDuration(" 7 D "), 7 * 86_400_000);
    for (const bad of ["30", "0d", "d", "-1d", "1y", "1d2h", "", "1e3s"]) assert.equal(parseDuration(bad), undefined, bad);
  });
});

describe("HTTP validators and no-store", () => {
  test("an ETag is revalidated with If-None-Match, a date alone with If-Modified-Since; malformed ones are not kept", () => {
    assert.deepEqual(validatorsOf({ etag: '"abc"', "last-modified": "Tue, 14 Nov 2023 22:13:20 GMT" }), { etag: '"abc"', lastModified: "Tue, 14 Nov 2023 22:13:20 GMT" });
    assert.deepEqual(validatorsOf({ etag: 'W/"weak"' }), { etag: 'W/"weak"' });
    assert.deepEqual(validatorsOf({ etag: "unquoted", "last-modified": "yesterday" }), {});
    assert.deepEqual(validatorsOf({ etag: '"a\u0001b"', "last-modified": "Tue, 14 Nov 2023 22:13:20 GMT\u0001" }), {});
    assert.deepEqual(conditionalHeaders({ status: "ok", url: "u", contentType: "", sha256: "0".repeat(64), size: 1, etag: '"abc"', lastModified: "Tue, 14 Nov 2023 22:13:20 GMT" }), { "if-none-match": '"abc"' });
    assert.deepEqual(conditionalHeaders({ status: "not-found", url: "u", lastModified: "Tue, 14 Nov 2023 22:13:20 GMT" }), { "if-modified-since": "Tue, 14 Nov 2023 22:13:20 GMT" });
    assert.equal(conditionalHeaders({ status: "not-found", url: "u" }), undefined);
  });

  test("`no-store` anywhere in Cache-Control forbids keeping the answer; other directives do not", () => {
    assert.equal(forbidsStoring({ "cache-control": "no-store" }), true);
    assert.equal(forbidsStoring({ "cache-control": "private, No-Store, max-age=0" }), true);
    assert.equal(forbidsStoring({ "cache-control": ["max-age=60", "no-store"] }), true);
    assert.equal(forbidsStoring({ "cache-control": "no-cache, private, max-age=0" }), false);
    assert.equal(forbidsStoring({}), false);
  });

  test("only a whole sha256 keys the store: mip's short hashes do not", () => {
    assert.equal(fullSha256("AB".repeat(32)), "ab".repeat(32));
    assert.equal(fullSha256("abcdef12"), undefined);
    assert.equal(fullSha256(undefined), undefined);
  });
});

describe("the store", () => {
  const limits = (maxBytes: number, quota?: Quota) => ({ maxBytes, draw: new Draw({ quota, lease: new MemoryBudget(Number.POSITIVE_INFINITY).lease() }), tooLarge: () => new Error(`larger than ${maxBytes}`) });

  test("a written entry is read back whole, and drawn on the download's quota", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const cache = new Cache(dir);
    const writer = cache.store.writer();
    await writer.begin();
    await writer.write(Buffer.from("first try"));
    await writer.begin(); // a retry starts over
    await writer.write(Buffer.from("hello "));
    await writer.write(Buffer.from("store"));
    assert.deepEqual(await writer.commit(), { sha256: sha256("hello store"), bytes: 11 });
    assert.deepEqual(await readdir(path.join(dir, "tmp")), [], "the temporary file was renamed");
    const quota = new Quota(100, () => new Error("over"));
    const body = await cache.store.readInto(sha256("hello store"), new MemorySink(), limits(100, quota));
    assert.equal(body?.toString(), "hello store");
    assert.equal(quota.used, 11);
  });

  test("a tee hands the download every byte at once and the store the same bytes behind it, in order; its commit waits for them", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const cache = new Cache(dir);
    const tee = new TeeSink(new MemorySink(), cache.store.writer());
    await tee.begin(undefined);
    await tee.write(Buffer.from("a retry "));
    await tee.begin(undefined); // a retry starts over, in the store too
    // More than the backlog the store may lag behind by: the download then waits for it.
    const chunks = [Buffer.from("first,"), Buffer.alloc(1536 * 1024, 0x61), Buffer.from(",second,"), Buffer.alloc(700 * 1024, 0x62), Buffer.from(",last")];
    for (const chunk of chunks) await tee.write(chunk);
    const whole = Buffer.concat(chunks);
    assert.deepEqual(await tee.end(), whole, "the download has every byte, in order");
    assert.deepEqual(await tee.commit(), { sha256: sha256(whole), bytes: whole.length });
    assert.deepEqual(await readFile(cache.store.pathOf(sha256(whole))), whole, "the store has the same bytes");
    assert.deepEqual(await readdir(path.join(dir, "tmp")), [], "the temporary file was renamed");
  });

  test("a tee discarded while its writes still run leaves nothing, and a commit told another hash keeps nothing", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const cache = new Cache(dir);
    for (const end of ["discard", "wrong hash"] as const) {
      const tee = new TeeSink(new MemorySink(), cache.store.writer());
      await tee.begin(undefined);
      for (let i = 0; i < 20; i++) await tee.write(Buffer.alloc(64 * 1024, i));
      if (end === "discard") await tee.discard();
      else assert.equal(await tee.commit(sha256("something else")), undefined);
      assert.deepEqual(await readdir(path.join(dir, "tmp")), [], end);
      assert.ok(!existsSync(path.join(dir, "content")), end);
    }
  });

  test("a writer told what the bytes must hash to keeps nothing else", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const cache = new Cache(dir);
    const writer = cache.store.writer();
    await writer.begin();
    await writer.write(Buffer.from("not what was promised"));
    assert.equal(await writer.commit(sha256("something else")), undefined);
    assert.ok(!existsSync(path.join(dir, "content")));
    assert.deepEqual(await readdir(path.join(dir, "tmp")), []);
  });

  test("a good entry over the caller's limit is that limit's error; a bad one over it is dropped", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const notes: string[] = [];
    const cache = new Cache(dir, { note: (message) => notes.push(message) });
    const big = Buffer.alloc(5000, 7);
    const entry = cache.store.pathOf(sha256(big));
    await mkdir(path.dirname(entry), { recursive: true });
    await writeFile(entry, big);
    await assert.rejects(cache.store.readInto(sha256(big), new MemorySink(), limits(4096)), /larger than 4096/);
    assert.ok(existsSync(entry));
    await writeFile(entry, Buffer.alloc(5000, 8));
    assert.equal(await cache.store.readInto(sha256(big), new MemorySink(), limits(4096)), undefined);
    assert.ok(!existsSync(entry));
    assert.match(notes.join("\n"), /does not hash to its name/);
  });

  test("a cache that cannot be written is said once, and the download goes on", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    await writeFile(path.join(dir, "blocker"), "a file where the cache folder should be");
    const warnings: string[] = [];
    const cache = new Cache(path.join(dir, "blocker"), { warn: (message) => warnings.push(message) });
    for (let round = 0; round < 2; round++) {
      const writer = cache.store.writer();
      await writer.begin();
      await writer.write(Buffer.from("bytes"));
      assert.equal(await writer.commit(), undefined);
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^the cache `.*blocker` cannot be written \(`.*blocker` is a file, not a folder\); downloaded files, and the index answers whose bodies the cache keeps with them, are not cached in this run/);
  });

  // Each part of the cache says what it cannot keep, naming what stands in its way: the other part is still written.
  for (const { part, make, said } of [
    { part: "tmp", make: (at: string) => execFileSync("mkfifo", [at]), said: /cannot be written \(`.*\/tmp` is a named pipe, not a folder\); downloaded files, and the index answers whose bodies the cache keeps with them, are not cached/ },
    { part: "tmp", make: (at: string) => writeFileSync(at, "a file"), said: /cannot be written \(`.*\/tmp` is a file, not a folder\); downloaded files, and the index answers whose bodies the cache keeps with them, are not cached/ },
    { part: "content", make: (at: string) => writeFileSync(at, "a file"), said: /cannot be written \(`.*\/content` is a file, not a folder\); downloaded files, and the index answers whose bodies the cache keeps with them, are not cached/ },
    { part: "content", make: (at: string) => execFileSync("mkfifo", [at]), said: /cannot be written \(`.*\/content` is a named pipe, not a folder\); downloaded files, and the index answers/ },
    { part: "content", make: (at: string) => { writeFileSync(`${at}.txt`, "a file"); symlinkSync(`${at}.txt`, at); }, said: /cannot be written \(`.*\/content` is a symbolic link to something else, not a folder\); downloaded files, and the index answers/ },
    { part: "http", make: (at: string) => writeFileSync(at, "a file"), said: /cannot be written \(`.*\/http` is a file, not a folder\); index answers are not cached/ },
    { part: "http", make: (at: string) => execFileSync("mkfifo", [at]), said: /cannot be written \(`.*\/http` is a named pipe, not a folder\); index answers are not cached/ },
  ]) {
    test(`a ${part}/ that is not a folder: the warning names it, and the other part is still written`, async (t) => {
      const { dir, cleanup } = await tempDir();
      t.after(cleanup);
      make(path.join(dir, part));
      const warnings: string[] = [];
      const cache = new Cache(dir, { warn: (message) => warnings.push(message) });
      const writer = cache.store.writer();
      await writer.begin();
      await writer.write(Buffer.from("bytes"));
      const stored = await writer.commit();
      const key = cache.documents.keyFor(new URL("https://host/simple/a/"), "text/html");
      await cache.documents.remember(key, new URL("https://host/simple/a/"), { status: "not-found", url: "https://host/simple/a/" });
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.match(warnings[0]!, said);
      if (part === "http") {
        assert.equal(stored?.sha256, sha256(Buffer.from("bytes")));
        assert.ok(existsSync(cache.store.pathOf(stored!.sha256)));
      } else {
        assert.equal(stored, undefined);
        assert.deepEqual(await cache.documents.lookup(key), { status: "not-found", url: "https://host/simple/a/" });
      }
    });
  }
});

describe("answers by URL", () => {
  test("keys ignore credentials and fragments, and tell Accept headers apart; entries hold no credentials", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const documents = new Cache(dir).documents;
    const key = documents.keyFor(new URL("https://host/simple/a/"), "text/html");
    assert.equal(documents.keyFor(new URL("https://user:pw@host/simple/a/#frag"), "text/html"), key);
    assert.notEqual(documents.keyFor(new URL("https://host/simple/a/"), "application/json"), key);
    await documents.remember(key, new URL("https://user:pw@host/simple/a/"), { status: "not-found", url: "https://host/simple/a/" });
    const [shard] = await readdir(path.join(dir, "http"));
    const [file] = await readdir(path.join(dir, "http", shard!));
    const text = await readFile(path.join(dir, "http", shard!, file!), "utf8");
    assert.ok(!text.includes("user") && !text.includes("pw@"), text);
    assert.deepEqual(await documents.lookup(key), { status: "not-found", url: "https://host/simple/a/" });
  });

  test("an entry mpip did not write (not JSON, another format, a bad hash, validators no request can carry) is dropped, not used", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const notes: string[] = [];
    const documents = new Cache(dir, { note: (message) => notes.push(message) }).documents;
    const key = documents.keyFor(new URL("https://host/pypi/a/json"), "application/json");
    const file = path.join(dir, "http", key.slice(0, 2), `${key}.json`);
    await mkdir(path.dirname(file), { recursive: true });
    const good = { v: 1, status: "ok", url: "u", contentType: "", size: 1, sha256: "0".repeat(64) };
    const bad = [
      "{not json",
      JSON.stringify({ v: 9, status: "ok" }),
      JSON.stringify({ ...good, sha256: "../../etc/passwd" }),
      // Validators that would go into the next request's headers as they are.
      JSON.stringify({ ...good, etag: '"a"\r\nX-Injected: 1' }),
      JSON.stringify({ ...good, etag: '"\u4e00"' }),
      JSON.stringify({ ...good, etag: 7 }),
      JSON.stringify({ status: "not-found", v: 1, url: "u", lastModified: "Tue, 14 Nov 2023 22:13:20 GMT\nX-Injected: 1" }),
      JSON.stringify({ status: "not-found", v: 1, url: "u", lastModified: "not a date" }),
    ];
    for (const text of bad) {
      await writeFile(file, text);
      assert.equal(await documents.lookup(key), undefined, text);
      assert.ok(!existsSync(file));
    }
    assert.equal(notes.length, bad.length);
  });
});
