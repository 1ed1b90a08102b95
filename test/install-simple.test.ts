// Installing from a simple repository API (PEP 691 JSON and PEP 503 HTML) through the CLI: the kind by
// prefix, by URL and by detection; dependencies; yanked files; hash mismatches and missing files leave
// the target as it was.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { buildSdist, sdistFilename } from "./helpers/sdist.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { serveSimple } from "./helpers/simple-index.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let jsonIndex: string;
let htmlIndex: string;
let legacyIndex: string;

before(async () => {
  server = await startIndexServer();
  work = await tempDir();
  jsonIndex = serveSimple(server);
  htmlIndex = serveSimple(server, { prefix: "/html", html: true });
  legacyIndex = serveSimple(server, { prefix: "/legacy/repo", html: true });
  await server.addSdist({ name: "micropython-app", version: "1.0", files: { "app.py": "import helper\n" }, requires: ["micropython-helper>=1"] });
  await server.addSdist({ name: "micropython-helper", version: "1.1", files: { "helper.py": "V = '1.1'\n" } });
  await server.addSdist({ name: "micropython-helper", version: "2.0", files: { "helper.py": "V = '2.0'\n" } }, { yanked: true });
  const tampered = { name: "tampered", version: "1.0", files: { "tampered.py": "X = 1\n" } };
  server.addFile("tampered", "1.0", { filename: sdistFilename(tampered), body: await buildSdist(tampered), sha256: "0".repeat(64) });
  await server.addSdist({ name: "vanishing", version: "1.0", files: { "vanishing.py": "" } });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, ...args: string[]) => runMpip(["install", "--no-record", "-p", target, ...args]);

describe("simple API", () => {
  for (const [label, index] of [["PEP 691 JSON", () => `simple+${jsonIndex}`], ["PEP 503 HTML", () => `simple+${htmlIndex}`]] as const) {
    test(`${label}: installs with dependencies, skipping a yanked version; the summary names the index`, async () => {
      const target = path.join(work.dir, label.replace(/\W/g, ""));
      const result = await install(target, "-i", index(), "micropython-app");
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(target), ["app.py", "helper.py"]);
      assert.match(result.stderr, new RegExp(`\\+ micropython-helper==1\\.1 \\(from ${index().slice("simple+".length).replace(/[.]/g, "\\.")}\\)`));
    });

    test(`${label}: a file that does not match its #sha256= is refused and the target is unchanged`, async () => {
      const target = path.join(work.dir, `tampered-${label.replace(/\W/g, "")}`);
      assert.equal((await install(target, "-i", index(), "micropython-helper")).code, 0);
      const before = await snapshot(target);
      const result = await install(target, "-i", index(), "tampered", "micropython-app");
      assert.equal(result.code, 1);
      assert.match(result.stderr, /error: `tampered 1\.0` .* does not match the index's sha256 \(expected 0{64}, got [0-9a-f]{64}\)/);
      assert.deepEqual(await snapshot(target), before);
    });
  }

  test("a yanked version is installed when pinned exactly, with a warning (PEP 592); unpinned, the error names the yanked versions", async () => {
    const target = path.join(work.dir, "pinned-yanked");
    const result = await install(target, "-i", `simple+${jsonIndex}`, "micropython-helper==2.0");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^warning: `micropython-helper 2\.0` \(`micropython-helper-2\.0\.tar\.gz`\) was yanked by `.*` \(reason: `yanked for a test`\); it is taken because it is pinned/m);
    const above = await install(path.join(work.dir, "unpinned-yanked"), "-i", `simple+${jsonIndex}`, "micropython-helper>=2");
    assert.equal(above.code, 1, above.stderr);
    assert.match(above.stderr, /^hint: available versions: 1\.1; yanked \(taken only when pinned with `==`\): 2\.0 \(reason: `yanked for a test`\)$/m);
  });

  test("a listed file that answers 404 is an error naming it; the target is unchanged", async () => {
    const target = path.join(work.dir, "missing");
    const fault = server.fault((request) => request.path.includes("vanishing-1.0.tar.gz"), { type: "status", status: 404 });
    try {
      const result = await install(target, "-i", `simple+${jsonIndex}`, "vanishing");
      assert.equal(result.code, 1);
      assert.match(result.stderr, /error: the index lists `vanishing 1\.0` \(`vanishing-1\.0\.tar\.gz`\) at `[^`]+`, but that URL answered 404/);
      assert.deepEqual(await listFiles(target), []);
    } finally {
      fault.remove();
    }
  });

  test("the kind is told by a URL ending in /simple, else detected once per run", async () => {
    const byUrl = await install(path.join(work.dir, "by-url"), "-v", "-i", jsonIndex, "micropython-helper");
    assert.equal(byUrl.code, 0, byUrl.stderr);
    assert.match(byUrl.stderr, /is a simple repository API \(PEP 503\/691\) \(from its URL\)/);
    const seen = server.requests.length;
    const detected = await install(path.join(work.dir, "detected"), "-v", "-i", legacyIndex, "micropython-app");
    assert.equal(detected.code, 0, detected.stderr);
    assert.match(detected.stderr, /is a simple repository API \(PEP 503\/691\) \(detected\)/);
    const requests = server.requests.slice(seen);
    assert.equal(requests.filter((line) => line === "GET /legacy/repo/index.json").length, 1);
    assert.equal(requests.filter((line) => line === "GET /legacy/repo/").length, 1);
    assert.deepEqual(await listFiles(path.join(work.dir, "detected")), ["app.py", "helper.py"]);
  });
});
