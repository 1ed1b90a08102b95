// An index URL with a query string (`-i 'https://host/pypi?token=X'`, as some private indexes take a token):
// every request mpip builds from it (PyPI JSON documents, simple pages, a v2 index's index.json, package
// documents and hashed files, the probes that detect an index's kind) appends its path segments to the
// URL's path and keeps the query, as sent: the server sees `/pypi/foo/json?token=X`, never
// `/pypi?token=X/foo/json` (which read a simple index's root page as the project's). And a `file:` URL with
// a query (a spec, a requirement, `-i`) is refused, naming it, where its query was dropped silently.
// The built CLI and the test index server.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { buildSdist } from "../helpers/sdist.js";
import { serveSimple } from "../helpers/simple-index.js";

let server: IndexServer;
let mip: MipIndex;
let simple: string;
let hidden: string;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const target = () => path.join(work.dir, `t${++counter}`);
const QUERY = "token=tok-SECRET-1234567&v=2";

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-index-query-");
  mip = serveMipIndex(server);
  simple = serveSimple(server);
  // A simple index at a path that says no kind: found by the probes.
  hidden = serveSimple(server, { prefix: "/private/repo" });
  await server.addSdist({ name: "orchard", version: "1.0", files: { "orchard.py": "ROWS = 3\n" }, requires: ["seed"] });
  await server.addSdist({ name: "seed", version: "0.3", files: { "seed.py": "SIZE = 1\n" } });
  await mip.publish({ name: "vine", version: "1.4", files: { "vine.py": "LEAVES = 5\n" }, mpy: false });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** The requests the server received since `from`, as `METHOD /path?query`. */
const since = (from: number) => server.received.slice(from).map((request) => `${request.method} ${request.url}`);

describe("an index URL with a query string", () => {
  const cases: Array<{ what: string; index: () => string; spec: string; file: string; expected: string[] }> = [
    { what: "PyPI JSON", index: () => `${server.url}?${QUERY}`, spec: "orchard", file: "orchard.py", expected: [`GET /pypi/orchard/json?${QUERY}`, `GET /pypi/seed/json?${QUERY}`] },
    { what: "PyPI JSON, a slash before the query", index: () => `${server.url}/?${QUERY}`, spec: "seed==0.3", file: "seed.py", expected: [`GET /pypi/seed/json?${QUERY}`] },
    { what: "simple", index: () => `${simple}?${QUERY}`, spec: "orchard", file: "orchard.py", expected: [`GET /simple/orchard/?${QUERY}`, `GET /simple/seed/?${QUERY}`] },
    { what: "simple, its kind detected", index: () => `${hidden}?${QUERY}`, spec: "orchard", file: "orchard.py", expected: [`GET /private/repo/index.json?${QUERY}`, `GET /private/repo/?${QUERY}`, `GET /private/repo/orchard/?${QUERY}`] },
    { what: "micropython-lib v2", index: () => `${mip.base}?${QUERY}`, spec: "vine", file: "vine.py", expected: [`GET /mip/v2/index.json?${QUERY}`, `GET /mip/v2/package/py/vine/1.4.json?${QUERY}`] },
  ];
  for (const { what, index, spec, file, expected } of cases) {
    test(`${what}: each request is the index's path, then the project's, then the query`, async () => {
      const from = server.received.length;
      const into = target();
      const result = await runMpip(["install", "-i", index(), "-p", into, spec]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(existsSync(path.join(into, file)), result.stderr);
      const seen = since(from);
      for (const request of expected) assert.ok(seen.includes(request), `${request} in\n${seen.join("\n")}`);
      assert.ok(!seen.some((request) => /\?[^ ]*\//.test(request)), `nothing appended after the query:\n${seen.join("\n")}`);
      assert.doesNotMatch(result.stdout + result.stderr, /tok-SECRET-1234567/, "the token is not printed");
    });
  }

  test("micropython-lib v2: the files a document lists by hash are fetched from the index's path with its query", async () => {
    const from = server.received.length;
    const into = target();
    const result = await runMpip(["install", "-i", `mip+${mip.base}?${QUERY}`, "-p", into, "vine"]);
    assert.equal(result.code, 0, result.stderr);
    const seen = since(from);
    assert.ok(seen.some((request) => new RegExp(`^GET /mip/v2/file/[0-9a-f]{2}/[0-9a-f]{8}\\?${QUERY}$`).test(request)), seen.join("\n"));
  });
});

describe("a `file:` URL with a query", () => {
  test("is refused as a spec, a requirement and an index, naming it; nothing is installed", async () => {
    await writeTree(work.dir, {
      "dists/seed-0.3.tar.gz": await buildSdist({ name: "seed", version: "0.3", files: { "seed.py": "SIZE = 1\n" } }),
      "dists/weird.tar.gz": await buildSdist({ name: "seed", version: "0.3", files: { "seed.py": "SIZE = 1\n" } }),
    });
    const sdist = pathToFileURL(path.join(work.dir, "dists", "seed-0.3.tar.gz")).href;
    const weird = pathToFileURL(path.join(work.dir, "dists", "weird.tar.gz")).href;
    const folder = pathToFileURL(path.join(work.dir, "dists")).href;
    await writeTree(work.dir, { "reqs.txt": `seed @ ${weird}?x=1\n` });
    const cases: Array<[string[], string]> = [
      [["--no-index", `${sdist}?x=1`], `${sdist}?x=1`],
      [["--no-index", `seed @ ${weird}?x=1`], `${weird}?x=1`],
      [["--no-index", `seed @ ${weird}?x=1#sha256=${"0".repeat(64)}`], `${weird}?x=1`],
      [["--no-index", "file:dists/seed-0.3.tar.gz?x=1"], "file:dists/seed-0.3.tar.gz?x=1"],
      [["--no-index", "-r", path.join(work.dir, "reqs.txt")], `${weird}?x=1`],
      [["-i", `${folder}?x=1`, "seed"], `${folder}?x=1`],
    ];
    for (const [args, shown] of cases) {
      const into = target();
      const result = await runMpip(["install", "-p", into, ...args], { cwd: work.dir });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.ok(result.stderr.includes(`\`${shown}\``), `${shown} in ${result.stderr}`);
      assert.match(result.stderr, /has a query \(`\?\.\.\.`\), which names no file on this machine \(remove `\?` and what follows\)/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
      assert.ok(!existsSync(path.join(into, "seed.py")));
    }
  });
});
