// A package document's files and modules are written to the staging folder as they arrive (not held in
// memory): a download cut short and retried starts its file over, so the installed file is exactly the
// served one; a file that does not match its hash fails the install and leaves nothing behind.

import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { beside } from "./helpers/process.js";

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
let cases = 0;

/** Distinct lines, so a file put together from two attempts could not pass for the real one. */
const numbered = (tag: string, lines: number) => Array.from({ length: lines }, (_, i) => `${tag}_${i} = ${i}\n`).join("");

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  work = await tempDir("mpip-streamed-");
  await mip.publish({ name: "streamed", version: "1.0", mpy: false, files: { "streamed/a.py": numbered("A", 20000), "streamed/b.py": numbered("B", 20000), "streamed/c.py": "C = 1\n" } });
  server.routes.push({
    name: "module",
    pattern: /^\/modules\/(.+\.py)$/,
    handle: ({ match }) => ({ status: 200, headers: { "Content-Type": "text/x-python" }, body: Buffer.from(numbered(match[1]!.replace(/\W/g, "_"), 20000)) }),
  });
});
after(async () => {
  await server?.close();
  await work?.cleanup();
});

async function scene() {
  const parent = path.join(work.dir, `case-${++cases}`);
  await mkdir(parent);
  return { parent, target: path.join(parent, "image") };
}

describe("files written as they arrive", () => {
  test("document files cut short (plain and chunked) are retried from the start: the installed files are exact", async () => {
    for (const chunked of [false, true]) {
      const { target } = await scene();
      const cut = server.fault("mip-file", { type: "truncate", sendBytes: 100_000, chunked }, { times: 2 });
      const result = await runMpip(["install", "-p", target, "-i", mip.base, "--retries", "2", "streamed"]);
      cut.remove();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(cut.hits, 2, "two downloads were cut short");
      for (const [dest, tag] of [["streamed/a.py", "A"], ["streamed/b.py", "B"]] as const) {
        const expected = `${numbered(tag, 20000)}\n\n__version__ = '1.0'\n`;
        assert.equal(await readFile(path.join(target, dest), "utf8"), expected, `${dest}, chunked: ${chunked}`);
      }
    }
  });

  test("a module cut short is retried from the start", async () => {
    const { target } = await scene();
    const cut = server.fault("module", { type: "truncate", sendBytes: 50_000 }, { times: 1 });
    const result = await runMpip(["install", "-p", target, "--retries", "1", `${server.origin}/modules/solo.py`]);
    cut.remove();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(cut.hits, 1);
    assert.equal(await readFile(path.join(target, "solo.py"), "utf8"), numbered("solo_py", 20000));
  });

  test("a document file that does not match its hash fails the install; nothing is left", async () => {
    const { parent, target } = await scene();
    const wrong = server.fault("mip-file", { type: "wrong-digest" }, { times: 1 });
    const result = await runMpip(["install", "-p", target, "-i", mip.base, "streamed"]);
    wrong.remove();
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: `streamed\/[abc]\.py` of `streamed 1\.0` \(`1\.0\.json`\) from `[^`]+` does not match the sha256 in the package document `[^`]+` \(expected [0-9a-f]{8}…, got [0-9a-f]{64}\); nothing of it was written$/m);
    assert.deepEqual(await snapshot(parent), {}, "no target, no staging folder, no lock");
    assert.deepEqual(await beside(parent, "image"), []);
  });
});
