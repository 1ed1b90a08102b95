// An install with many dependencies prints nothing of Node's own: every request and retry wait listens on
// the install's one AbortSignal, which once drew "MaxListenersExceededWarning: Possible EventTarget memory
// leak detected" on stderr as soon as more than ten ran at once.

import assert from "node:assert/strict";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { install } from "../src/install.js";
import { Reporter } from "../src/log.js";
import { parseRequirement } from "../src/spec/requirement.js";
import { listFiles, runMpip, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";

const COUNT = 30;
const NODE_WARNING = /Warning|\(node:\d+\)/;

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  work = await tempDir("mpip-warnings-");
  const names = Array.from({ length: COUNT }, (_, i) => `many-${i}`);
  for (const name of names) await server.addSdist({ name, version: "1.0", files: { [`${name.replace("-", "_")}.py`]: "X = 1\n" } });
  await server.addSdist({ name: "many-app", version: "1.0", requires: names, files: { "many_app.py": "A = 1\n" } });
  // A v2 package with many files of its own (fetched several at once) and many dependencies.
  for (const name of names) await mip.publish({ name: `mip-${name}`, version: "1.0", files: { [`mip_${name.replace("-", "_")}.py`]: "M = 1\n" }, mpy: false });
  const files = Object.fromEntries(Array.from({ length: COUNT }, (_, i) => [`mip_app/f${i}.py`, `F = ${i}\n`]));
  await mip.publish({ name: "mip-app", version: "1.0", files, deps: names.map((name) => [`mip-${name}`, "1.0"]), mpy: false });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

describe("no Node warning on stderr", () => {
  for (const [label, index, spec, jobs] of [
    ["PyPI JSON, 31 packages", () => server.url, "many-app", "16"],
    ["PyPI JSON, 31 packages, -j 64", () => server.url, "many-app", "64"],
    ["a v2 index, 31 package documents, one of 30 files", () => `mip+${mip.base}`, "mip-app", "16"],
  ] as const) {
    test(label, async () => {
      const target = path.join(work.dir, `cli-${jobs}-${spec}`);
      const result = await runMpip(["install", "-j", jobs, "-i", index(), "-p", target, spec]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`^Installed ${COUNT + 1} packages`, "m"));
      assert.doesNotMatch(result.stderr, NODE_WARNING);
      assert.ok((await listFiles(target)).length >= COUNT + 1);
    });
  }

  test("through the API, with the caller's own AbortSignal", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    try {
      const quiet = new Reporter({ verbosity: "quiet", stream: new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream, color: false, progress: false });
      const report = await install({
        target: path.join(work.dir, "api"),
        requests: [{ requirement: parseRequirement("many-app"), requestedBy: "the test" }],
        indexUrls: [server.url],
        findLinks: [],
        noDeps: false,
        pre: false,
        strictWindow: false,
        jobs: 32,
        signal: new AbortController().signal,
        reporter: quiet,
      });
      assert.equal(report.packages.length, COUNT + 1);
      // Node emits warnings on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
