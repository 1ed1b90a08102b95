// A mistyped index URL answers 404 for every package: the error says the index did not answer like an
// index and to check its URL, for each kind (PyPI JSON, simple, v2); a real index that lacks one package
// keeps the plain "was not found" and its spelling hint.
import assert from "node:assert/strict";
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveSimple } from "../helpers/simple-index.js";
import { serveMipIndex } from "../helpers/mip-index.js";
import { serveFolder, type StaticServer } from "../helpers/static-server.js";
import { runMpip, tempDir } from "../helpers/cli.js";

let server: IndexServer;
let statics: StaticServer;
let simple: string;
let mip: string;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  work = await tempDir();
  await server.addSdist({ name: "present", version: "1.0", files: { "present.py": "" } });
  simple = serveSimple(server);
  const index = serveMipIndex(server);
  await index.publish({ name: "present", version: "1.0", files: { "present.py": "" } });
  mip = index.base;
  // A static host with an index somewhere else: every path asked for below is a 404.
  await mkdir(path.join(work.dir, "site", "public"), { recursive: true });
  statics = await serveFolder(path.join(work.dir, "site"));
});

after(async () => {
  await server.close();
  await statics.close();
  await work.cleanup();
});

const install = (index: string, ...names: string[]) => runMpip(["install", "--no-record", "-p", path.join(work.dir, "target"), "-i", index, ...names]);
const WRONG = /error: package `absent` was not found in `[^`]+`, which did not answer like an index: /;

describe("an index URL that is wrong", () => {
  for (const [label, url, reason] of [
    ["a URL of no kind (detected: nothing answered)", () => `${statics.url}/pubic`, /it has no `index\.json` \(v2 index\) and no root page \(simple index\), and the package asked for \(`absent`\) was missing/],
    ["a simple index (by prefix)", () => `simple+${statics.url}/pubic/simple`, /its root page `[^`]+\/pubic\/simple\/`, where a simple index lists its projects, answered 404/],
    ["a simple index (by its URL)", () => `${statics.url}/simple`, /its root page `[^`]+\/simple\/`/],
    ["a v2 index (by its URL)", () => `${statics.url}/pubic/v2`, /it has no `index\.json` and no root page \(both answered 404\), and the package asked for \(`absent`\) was missing/],
    ["a v2 index (by prefix)", () => `mip+${statics.url}/mip`, /it has no `index\.json` and no root page/],
  ] as const) {
    test(`${label}: the error says the index did not answer like one, and to check its URL`, async () => {
      const result = await install(url(), "absent");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, WRONG);
      assert.match(result.stderr, reason);
      assert.match(result.stderr, /hint: check the index's URL \(`-i`, `--extra-index-url`\): a mistyped path/);
      assert.doesNotMatch(result.stderr, /check the spelling of the name/);
      assert.doesNotMatch(result.stderr, /at .*\.js:\d+/);
    });
  }

  test("with a real index before it, the error names the wrong one", async () => {
    const result = await runMpip(["install", "--no-record", "-p", path.join(work.dir, "target"), "-i", server.url, "--extra-index-url", `simple+${statics.url}/simpel`, "absent"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /was not found in any of `[^`]+`, `[^`]+\/simpel`, and the index at `[^`]+\/simpel` did not answer like an index: its root page/);
  });

  test("a JSON API index (by its URL) where two packages and its root all answer 404", async () => {
    const result = await install(`${statics.url}/public/pypi`, "absent", "other");
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /did not answer like an index: its root page answered 404, and every package asked for \(.*`absent`.*\) was missing/);
  });
});

describe("a real index that lacks one package keeps the plain error", () => {
  for (const [label, url] of [
    ["PyPI JSON", () => server.url],
    ["PyPI JSON, detected", () => `${server.origin}/pypi`],
    ["simple", () => simple],
    ["simple, by prefix", () => `simple+${simple}`],
    ["v2", () => mip],
  ] as const) {
    test(`${label}: "was not found", with the spelling hint`, async () => {
      const result = await install(url(), "absent");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /error: package `absent` was not found in `[^`]+`\n/);
      assert.match(result.stderr, /hint: check the spelling of the name/);
      assert.doesNotMatch(result.stderr, /did not answer like an index/);
    });
  }

  test("a JSON API index that found one package and lacks another", async () => {
    const result = await install(server.url, "present", "absent");
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /did not answer like an index/);
  });
});

// What says an index is wrong (two names missing; one found) must not depend on which answer came first:
// the answers for the names asked for at once are waited for, in whatever order they arrive.
describe("names asked for at once, answering in either order", () => {
  let late: IndexServer;
  let slow = "";
  before(async () => {
    late = await startIndexServer();
    await late.addSdist({ name: "present", version: "1.0", files: { "present.py": "" } });
    serveSimple(late);
    // A simple index whose root page is missing (a static host), but whose project pages answer.
    late.routes.splice(late.routes.findIndex((route) => route.name === "simple-root"), 1);
    late.delayFor = (where) => (where.includes(`/${slow}/`) || where.endsWith(`/${slow}`) ? 600 : 0);
  });
  after(() => late.close());

  for (const first of ["absent", "other"]) {
    test(`a JSON API index where both names are missing, \`${first}\` answering last: the index is doubted`, async () => {
      slow = first;
      const result = await install(`pypi+${late.origin}/public/pypi`, "absent", "other");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /did not answer like an index: its root page answered 404, and every package asked for \((`absent`, `other`|`other`, `absent`)\) was missing/);
    });
  }

  for (const first of ["absent", "present"]) {
    test(`a simple index without a root page that has one of the names, \`${first}\` answering last: plain "was not found"`, async () => {
      slow = first;
      const result = await install(`simple+${late.origin}/simple`, "absent", "present");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /error: package `absent` was not found in `[^`]+`\n/);
      assert.doesNotMatch(result.stderr, /did not answer like an index/);
    });
  }
});
