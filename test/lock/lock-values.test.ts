// A lock is committed where anyone who can change a pull request can change it, or is edited by hand:
// every value mpip acts on is checked when the lock is read, through the built CLI. A destination that
// leaves the target, a version or sdist name that would be a path, a URL of another scheme, a ref that
// climbs out of its repo, a firmware mpip does not know: each is `bad-lock` (exit 2) naming the lock
// file, the package and the key, from `install --lock`, `sync` and `download --lock` alike, before any
// request is sent and with nothing created.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { serveGraph, type Graph } from "./graph.js";

let graph: Graph;
let work: { dir: string; cleanup: () => Promise<void> };
let locked: string;

before(async () => {
  graph = await serveGraph();
  work = await tempDir("mpip-lock-values-");
  const lockFile = path.join(work.dir, "pylock.toml");
  const made = await runMpip(["lock", "-o", lockFile, ...graph.indexes, ...graph.specs]);
  assert.equal(made.code, 0, made.stderr);
  locked = await readFile(lockFile, "utf8");
});
after(async () => {
  await graph.server.close();
  await work.cleanup();
});

/** The lock with `pattern` (which must match) replaced. */
function edited(pattern: RegExp, replacement: string): string {
  assert.match(locked, pattern);
  return locked.replace(pattern, replacement);
}

describe("a lock's values are checked before mpip acts on them", () => {
  const cases: Array<[string, () => string, RegExp]> = [
    ["an sdist's version that is no PEP 440 version", () => edited(/(name = "sensor-lib"\n)version = "1\.0"/, '$1version = "1.0/../../x"'), /package `sensor-lib` \(packages\[2\]\): `version` \(`1\.0\/\.\.\/\.\.\/x`\) is not a valid PEP 440 version/],
    ["an sdist name that is a path", () => edited(/name = "Helper_Lib-1\.2\.tar\.gz"/, 'name = "../../Helper_Lib-1.2.tar.gz"'), /package `helper-lib` \(packages\[1\]\): `sdist\.name` \(`\.\.\/\.\.\/Helper_Lib-1\.2\.tar\.gz`\) names a folder too/],
    ["an index of another scheme", () => edited(/(name = "helper-lib"\nversion = "1\.2"\n)index = "[^"]+"/, '$1index = "data:text/plain,x"'), /package `helper-lib` \(packages\[1\]\): `index` \(`data:text\/plain,x`\) is not an http or https URL/],
    ["a file URL with white space", () => edited(/url = "(http:\/\/127\.0\.0\.1:\d+\/mip\/v2\/file\/e5\/)e58e101e"/, 'url = "$1e58e101e x"'), /package `ticker` \(packages\[3\]\): `tool\.mpip\.files\[0\]\.url` .* white space/],
    ["a ref with no spec", () => edited(/(kind = "mip"\nrequested = true)/, '$1\nref = "../../other/repo/main"'), /package `blinker` \(packages\[0\]\): `tool\.mpip\.ref` is given without `tool\.mpip\.spec`/],
    ["a spec that climbs out of its repo", () => edited(/(kind = "mip"\nrequested = true)/, '$1\nspec = "github:acme/../../evil@main"'), /package `blinker` \(packages\[0\]\): `tool\.mpip\.spec` \(`github:acme\/\.\.\/\.\.\/evil@main`\) is no source mpip can fetch/],
    ["a firmware mpip does not know", () => `${locked}mpy = "7"\n`, /: `tool\.mpip\.mpy` \(`7`\) is not an \.mpy version mpip knows/],
  ];
  // Each bad value is refused by `install --lock`, and by `sync` or `download --lock` (each of them meets
  // four of the seven, every one of the seven by two commands or more, the last by all three): the three
  // read the lock through the same parser (src/lock/read.ts), whose branches the seven cases reach.
  const alsoBy: Array<Array<"sync" | "download">> = [["sync"], ["download"], ["sync"], ["download"], ["sync"], ["download"], ["sync", "download"]];
  for (const [index, [what, text, message]] of cases.entries()) {
    const others = alsoBy[index]!;
    test(`${what}: install --lock and ${others.map((name) => (name === "sync" ? "sync" : "download --lock")).join(" and ")} refuse it, naming the file and the key, asking nothing`, async () => {
      const lockFile = path.join(work.dir, `pylock.${what.replace(/\W+/g, "-")}.toml`);
      await writeFile(lockFile, text());
      graph.server.requests.length = 0;
      const target = path.join(work.dir, "image");
      const commands = { sync: ["sync", lockFile, "-p", target], download: ["download", "--lock", lockFile, "-d", path.join(work.dir, "vendor")] };
      for (const command of [["install", "--lock", lockFile, "-p", target], ...others.map((name) => commands[name])]) {
        const result = await runMpip(command);
        assert.equal(result.code, 2, `${command[0]}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`^error: \`${lockFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\`[,:] `), command[0]);
        assert.match(result.stderr, message, command[0]);
        assert.match(result.stderr, /^hint: /m);
        assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
      }
      assert.deepEqual(graph.server.requests, []);
      assert.equal(existsSync(target), false);
      assert.equal(existsSync(path.join(work.dir, "vendor")), false);
    });
  }

  test("a destination outside the target is refused as unsafe (unsafe-path, exit 1), as in a package document, by every command, asking nothing", async () => {
    const lockFile = path.join(work.dir, "pylock.escape.toml");
    await writeFile(lockFile, edited(/dest = "blinker\/led\.py"/, 'dest = "../../.profile"'));
    graph.server.requests.length = 0;
    const target = path.join(work.dir, "image");
    for (const command of [["install", "--lock", lockFile, "-p", target], ["sync", lockFile, "-p", target], ["download", "--lock", lockFile, "-d", path.join(work.dir, "vendor")]]) {
      const result = await runMpip([...command, "--json"]);
      assert.equal(result.code, 1, `${command[0]}: ${result.stderr}`);
      const error = (JSON.parse(result.stdout) as { error: { code: string; message: string; hint: string } }).error;
      assert.equal(error.code, "unsafe-path", command[0]);
      assert.match(error.message, /, package `blinker` \(packages\[0\]\): `tool\.mpip\.files\[1\]\.dest` \(`\.\.\/\.\.\/\.profile`\) is refused: its path contains a `\.\.` segment$/, command[0]);
      assert.match(error.hint, /broken or malicious/);
    }
    assert.deepEqual(graph.server.requests, []);
    assert.equal(existsSync(target), false);
  });

  test("the lock as mpip wrote it installs", async () => {
    const lockFile = path.join(work.dir, "pylock.toml");
    const installed = await runMpip(["install", "--lock", lockFile, "-p", path.join(work.dir, "good")]);
    assert.equal(installed.code, 0, installed.stderr);
  });
});
