// `name @ file:` specs (an sdist whose file name says no project, a project folder) in a lock, through the
// built CLI: the lock records them as `name @ file:REL`, REL relative to the lock's folder (percent-encoded),
// in `tool.mpip.spec` and in `requirements`; `sync` reads them back as the plain install names them
// (`name @ file:///abs`), which mpip.json, `list` and `freeze` show; `lock --check` agrees and the command
// its hint offers locks the same. A hand-edited one with a query, white space, or another scheme is refused.

import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { buildSdist } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  work = await tempDir("mpip-lock-named-file-");
  await writeTree(work.dir, {
    "srv/weird.tar.gz": await buildSdist({ name: "foo", version: "1.0", files: { "foo.py": "A = 1\n" } }),
    "sp ace/v#2.tar.gz": await buildSdist({ name: "Baz_Lib", version: "2.0", files: { "baz_lib.py": "Z = 2\n" } }),
    "proj/pyproject.toml": '[project]\nname = "bar"\nversion = "0.3"\n',
    "proj/bar.py": "B = 2\n",
  });
});
after(() => work.cleanup());

/** The `spec` of each mpip.json under `target`, sorted. */
async function recordedSpecs(target: string): Promise<string[]> {
  const specs: string[] = [];
  for (const entry of await readdir(target)) {
    if (!entry.endsWith(".dist-info")) continue;
    specs.push(JSON.parse(await readFile(path.join(target, entry, "mpip.json"), "utf8")).spec);
  }
  return specs.sort();
}

describe("a lock of `name @ file:` specs", () => {
  test("records them relative to the lock; sync, mpip.json, list, freeze and lock --check give them back as the install named them", async () => {
    const lockDir = path.join(work.dir, "L2");
    await writeTree(lockDir, { "keep.txt": "" });
    const absolute = pathToFileURL(path.join(work.dir, "sp ace", "v#2.tar.gz")).href;
    const specs = ["foo @ file:../srv/weird.tar.gz", "bar @ file:../proj", `Baz_Lib @ ${absolute}`];
    const locked = await runMpip(["lock", "--no-index", ...specs], { cwd: lockDir });
    assert.equal(locked.code, 0, locked.stderr);
    const text = await readFile(path.join(lockDir, "pylock.toml"), "utf8");
    for (const spec of ["foo @ file:../srv/weird.tar.gz", "bar @ file:../proj", "Baz_Lib @ file:../sp%20ace/v%232.tar.gz"]) {
      assert.ok(text.includes(`spec = "${spec}"`), `${spec} in\n${text}`);
    }
    assert.ok(text.includes('requirements = ["foo @ file:../srv/weird.tar.gz", "bar @ file:../proj", "Baz_Lib @ file:../sp%20ace/v%232.tar.gz"]'), text);
    assert.ok(!text.includes(work.dir), "no absolute path in the lock");

    const target = path.join(lockDir, "t");
    const synced = await runMpip(["sync", "-i", work.dir, "-p", target], { cwd: lockDir });
    assert.equal(synced.code, 0, synced.stderr);
    const expected = [
      `Baz_Lib @ ${absolute}`,
      `bar @ ${pathToFileURL(path.join(work.dir, "proj")).href}`,
      `foo @ ${pathToFileURL(path.join(work.dir, "srv", "weird.tar.gz")).href}`,
    ];
    assert.deepEqual(await recordedSpecs(target), expected);
    const listed = await runMpip(["list", "-p", target]);
    assert.equal(listed.code, 0, listed.stderr);
    for (const spec of expected) assert.ok(listed.stdout.includes(spec), `${spec} in\n${listed.stdout}`);

    // Another folder: the same lock read from elsewhere names the same files.
    const elsewhere = path.join(work.dir, "t-elsewhere");
    const fromAfar = await runMpip(["sync", "-i", work.dir, "-p", elsewhere, path.join(lockDir, "pylock.toml")], { cwd: work.dir });
    assert.equal(fromAfar.code, 0, fromAfar.stderr);
    assert.deepEqual(await recordedSpecs(elsewhere), expected);

    // The same specs typed from another folder lock to the same bytes.
    const checked = await runMpip(["lock", "--check", "--no-index", `foo @ ${pathToFileURL(path.join(work.dir, "srv", "weird.tar.gz")).href}`, "bar @ file:./proj", `Baz_Lib @ ${absolute}`, "-o", path.join(lockDir, "pylock.toml")], { cwd: work.dir });
    assert.equal(checked.code, 0, checked.stderr);
    // The command a bare --check offers runs as offered (in the lock's folder).
    const bare = await runMpip(["lock", "--check"], { cwd: lockDir });
    assert.notEqual(bare.code, 0);
    const offered = /as in `mpip lock --check --no-index -- (.*)`\n/.exec(bare.stderr)?.[1];
    assert.ok(offered !== undefined, bare.stderr);
    const words = [...offered.matchAll(/'([^']*)'/g)].map((match) => match[1]!);
    assert.deepEqual(words, ["foo @ file:../srv/weird.tar.gz", "bar @ file:../proj", "Baz_Lib @ file:../sp%20ace/v%232.tar.gz"]);
    const again = await runMpip(["lock", "--check", "--no-index", "--", ...words], { cwd: lockDir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout + again.stderr, /is up to date \(3 packages\)/);

    const frozen = await runMpip(["freeze", "-p", target]);
    assert.equal(frozen.code, 0, frozen.stderr);
    // The sdists' file names say no project: `name @ file:`; the folder's path installs it as it is.
    assert.deepEqual(frozen.stdout.split("\n").sort(), ["", path.join(work.dir, "proj"), expected[0], expected[2]].sort());
  });

  test("a lock whose `name @ file:` spec has a query, white space or a scheme mpip does not fetch is refused, naming it", async () => {
    const lockDir = path.join(work.dir, "L3");
    await writeTree(lockDir, { "keep.txt": "" });
    const locked = await runMpip(["lock", "--no-index", "foo @ file:../srv/weird.tar.gz"], { cwd: lockDir });
    assert.equal(locked.code, 0, locked.stderr);
    const text = await readFile(path.join(lockDir, "pylock.toml"), "utf8");
    const cases: Array<[string, RegExp]> = [
      ["foo @ file:../srv/weird.tar.gz?x=1", /`tool\.mpip\.spec` \(`foo @ file:\.\.\/srv\/weird\.tar\.gz\?x=1`\) is a `file:` URL with a query/],
      ["foo @ file:../srv/we ird.tar.gz", /holds a control character, white space or a backslash/],
      ["foo @ ftp://host/weird.tar.gz", /is not an http or https URL/],
      ["foo @ file://host", /names no path/],
    ];
    for (const [spec, message] of cases) {
      const bad = path.join(lockDir, "bad.toml");
      await writeFile(bad, text.replaceAll('spec = "foo @ file:../srv/weird.tar.gz"', `spec = "${spec}"`));
      const result = await runMpip(["sync", "-i", work.dir, "-p", path.join(lockDir, "t"), bad], { cwd: lockDir });
      assert.equal(result.code, 2, `${spec}: ${result.stderr}`);
      assert.match(result.stderr, message, spec);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    }
  });
});
