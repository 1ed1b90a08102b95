// A part of the download cache that is not a folder (a file, a named pipe) is said once, alike for every
// part, naming the path that is in the way and what is therefore not cached; the command still succeeds.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { runMpip, tempDir } from "../helpers/cli.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-cache-parts-");
  await server.addSdist({ name: "tool", version: "1.0", files: { "tool.py": "def f():\n    return 1\n" } });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

/** A cache folder whose `part` is made by `make` instead of being a folder. */
async function brokenCache(part: string, make: (at: string) => Promise<void> | void): Promise<string> {
  const cache = path.join(work.dir, `cache-${++counter}`);
  await mkdir(cache);
  await make(path.join(cache, part));
  return cache;
}

const warnings = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith("warning: the cache"));

describe("a part of the cache that is not a folder", () => {
  for (const [part, kind, make, what] of [
    ["content", "a file", (at: string) => writeFile(at, "x"), "downloaded files, and the index answers whose bodies the cache keeps with them,"],
    ["content", "a named pipe", (at: string) => void execFileSync("mkfifo", [at]), "downloaded files, and the index answers whose bodies the cache keeps with them,"],
    ["tmp", "a file", (at: string) => writeFile(at, "x"), "downloaded files, and the index answers whose bodies the cache keeps with them,"],
    ["http", "a file", (at: string) => writeFile(at, "x"), "index answers"],
  ] as const) {
    test(`${part}/ as ${kind}: install warns once, naming it and what is not cached, and installs`, async () => {
      const cache = await brokenCache(part, make);
      for (let round = 0; round < 2; round++) {
        const result = await runMpip(["install", "--no-record", "-p", path.join(work.dir, `t${++counter}`), "-i", server.url, "tool"], { env: { MPIP_CACHE_DIR: cache } });
        assert.equal(result.code, 0, result.stderr);
        const said = warnings(result.stderr);
        assert.equal(said.length, 1, result.stderr);
        assert.equal(said[0], `warning: the cache \`${cache}\` cannot be written (\`${path.join(cache, part)}\` is ${kind}, not a folder); ${what} are not cached in this run (give --cache-dir a writable folder, or --no-cache)`);
      }
    });
  }

  test("mpy/ as a file: list --size warns alike, and still gives the sizes", async () => {
    const target = path.join(work.dir, `t${++counter}`);
    assert.equal((await runMpip(["install", "-p", target, "-i", server.url, "tool"], { env: { MPIP_CACHE_DIR: path.join(work.dir, "good-cache") } })).code, 0);
    const cache = await brokenCache("mpy", (at) => writeFile(at, "x"));
    const result = await runMpip(["list", "-p", target, "--size"], { env: { MPIP_CACHE_DIR: cache } });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(warnings(result.stderr), [`warning: the cache \`${cache}\` cannot be written (\`${path.join(cache, "mpy")}\` is a file, not a folder); compiled sizes are not cached in this run (set MPIP_CACHE_DIR to a writable folder)`]);
    assert.match(result.stdout, /tool/);
  });
});
