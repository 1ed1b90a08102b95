// Several records of one name: `Foo-1.0.dist-info` and `foo-2.0.dist-info`, or `foo_bar` and `foo.bar`,
// names PEP 503 normalizes to one. As pip, mpip treats them as one package installed more than once,
// and says so in every command: `list`, `show` and `freeze` warn; `uninstall` removes them all (their
// files, minus files another package's record lists) and says so; an install of the name replaces them
// all (never "already installed" from one of them) and says so. Images built by hand, the built CLI
// against a real index on 127.0.0.1.

import assert from "node:assert/strict";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { writeRecordedPackage } from "../helpers/dist-info.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-duplicates-");
  await server.addSdist({ name: "foo", version: "2.0", files: { "foo/__init__.py": "F = 2\n", "foo/new.py": "N = 2\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** `Foo 1.0` (as another tool wrote it) and `foo 2.0`, both recorded; `keeper` lists one file `Foo 1.0` lists too. */
async function twiceRecorded(): Promise<string> {
  const target = path.join(work.dir, `image-${++counter}`);
  await mkdir(target, { recursive: true });
  await writeRecordedPackage(target, { name: "Foo", version: "1.0", files: { "foo/__init__.py": "F = 1\n", "foo/old.py": "O = 1\n", "shared.py": "S = 1\n" } });
  await writeRecordedPackage(target, { name: "foo", version: "2.0", files: { "foo/__init__.py": "F = 2\n", "foo/new.py": "N = 2\n" } });
  await writeRecordedPackage(target, { name: "keeper", version: "1.0", files: { "keeper.py": "K = 1\n", "shared.py": "S = 1\n" } });
  // Another spelling of one name: `foo_bar` and `foo.bar`.
  await writeRecordedPackage(target, { name: "foo_bar", version: "1.0", files: { "foo_bar.py": "B = 1\n" } });
  await writeRecordedPackage(target, { name: "foo.bar", version: "1.5", files: { "foo_bar_extra.py": "E = 1\n" } });
  return target;
}

const distInfos = async (target: string) => (await readdir(target)).filter((name) => name.endsWith(".dist-info")).sort();
const packageFiles = async (target: string) => (await listFiles(target)).filter((file) => !file.includes(".dist-info/"));

describe("records of one name found more than once", () => {
  test("list, show and freeze say so", async () => {
    const target = await twiceRecorded();
    const listed = await runMpip(["list", "-p", target]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, /^warning: `foo` is recorded 2 times: `foo-1\.0\.dist-info` \(Foo 1\.0\), `foo-2\.0\.dist-info` \(foo 2\.0\); PEP 503 makes these names one/m);
    assert.match(listed.stderr, /^warning: `foo-bar` is recorded 2 times: `foo_bar-1\.0\.dist-info` \(foo_bar 1\.0\), `foo_bar-1\.5\.dist-info` \(foo\.bar 1\.5\)/m);
    assert.match(listed.stdout, /^Foo\s+1\.0/m);
    assert.match(listed.stdout, /^foo\s+2\.0/m);
    const shown = await runMpip(["show", "-p", target, "FOO"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stderr, /warning: `foo` is recorded 2 times/);
    assert.match(shown.stdout, /Version: 1\.0[\s\S]*---[\s\S]*Version: 2\.0/);
    const frozen = await runMpip(["freeze", "-p", target]);
    assert.match(frozen.stderr, /warning: `foo` is recorded 2 times/);
    assert.equal(frozen.stdout.split("\n").filter((line) => /^foo==/i.test(line)).length, 1);
  });

  test("uninstall removes every record of the name and their files, but not a file another package lists, and says so", async () => {
    const target = await twiceRecorded();
    const dry = JSON.parse((await runMpip(["uninstall", "--dry-run", "--json", "-p", target, "foo"])).stdout) as { packages: Array<{ name: string; version: string }> };
    assert.deepEqual(dry.packages.map((item) => `${item.name} ${item.version}`).sort(), ["Foo 1.0", "foo 2.0"]);
    const removed = await runMpip(["uninstall", "-y", "-p", target, "foo"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /^warning: `foo` is recorded 2 times in `.*`: `foo-1\.0\.dist-info` \(Foo 1\.0\), `foo-2\.0\.dist-info` \(foo 2\.0\) \(names PEP 503 makes one\); all of them are removed$/m);
    assert.deepEqual(await distInfos(target), ["foo_bar-1.0.dist-info", "foo_bar-1.5.dist-info", "keeper-1.0.dist-info"]);
    assert.deepEqual(await packageFiles(target), ["foo_bar_extra.py", "foo_bar.py", "keeper.py", "shared.py"]);
    // The other spelling: `Foo.Bar` names both `foo_bar` and `foo.bar`.
    const other = await runMpip(["uninstall", "-y", "-p", target, "Foo.Bar"]);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, /`foo-bar` is recorded 2 times .*all of them are removed/);
    assert.deepEqual(await distInfos(target), ["keeper-1.0.dist-info"]);
    assert.deepEqual(await packageFiles(target), ["keeper.py", "shared.py"]);
  });

  test("an install of the name replaces every record of it, and says so", async () => {
    const target = await twiceRecorded();
    const installed = await runMpip(["install", "-i", server.url, "-p", target, "foo"]);
    assert.equal(installed.code, 0, installed.stderr);
    assert.doesNotMatch(installed.stderr, /already installed/);
    assert.match(installed.stderr, /^warning: `foo` is recorded 2 times in `.*`: `foo-1\.0\.dist-info` \(Foo 1\.0\), `foo-2\.0\.dist-info` \(foo 2\.0\) \(names PEP 503 makes one\); all of them are replaced by `foo` 2\.0$/m);
    assert.match(installed.stderr, /foo==2\.0 \(replacing 1\.0, 2\.0\)/);
    assert.deepEqual((await distInfos(target)).filter((name) => name.startsWith("foo-")), ["foo-2.0.dist-info"]);
    assert.deepEqual((await packageFiles(target)).filter((file) => file.startsWith("foo/") || file === "shared.py"), ["foo/__init__.py", "foo/new.py", "shared.py"]);
    const listed = await runMpip(["list", "-p", target]);
    assert.doesNotMatch(listed.stderr, /`foo` is recorded/);
  });
});
