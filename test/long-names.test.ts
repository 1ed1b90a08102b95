// Names the target cannot take. Too long: the paths of a package's install record (`NAME-VERSION.dist-info/...`)
// are made by mpip from a name and version that come from outside (an index, a file or folder's name, a
// package.json), and are held to --max-path-length as a package's own files are; and no name of more than
// 255 bytes, which no filesystem takes, reaches the commit. Before, such a record folder was found too long
// only when the commit made it: the install stopped half-way, and the next run rolled it back. Not a
// name at all: a module file of the user's own, named with a backslash or a control character, is
// installed under its file's name, which they are told to change (a usage error), where before they were
// told their package was broken or malicious.

import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

/** A long project name of `length` characters, valid under PEP 508. */
const longName = (length: number) => `long-${"n".repeat(length - 5)}`;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-long-names-");
  // Record folders of 254 bytes (`mid_version-1.0+aaa….dist-info`) and 258 bytes (`short_version-…`).
  await server.addSdist({ name: "mid-version", version: `1.0+${"a".repeat(226)}`, files: { "mid_version.py": "X = 0\n" } }, { format: "pax" });
  await server.addSdist({ name: "needs-long", version: "2.0", files: { "needs_long.py": "X = 1\n" }, requires: ["mid-version"] });
  await server.addSdist({ name: "short-version", version: `1.0+${"a".repeat(230)}`, files: { "short_version.py": "X = 2\n" } }, { format: "pax" });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** A target folder that holds one file already, and its snapshot. */
async function existingTarget(): Promise<{ target: string; before: Record<string, string> }> {
  const target = path.join(work.dir, `image-${++counter}`);
  await mkdir(target);
  await writeFile(path.join(target, "main.py"), "print('kept')\n");
  return { target, before: await snapshot(target) };
}

describe("names too long for the target", () => {
  test("a record whose paths pass --max-path-length is refused with the limit, from every source, and nothing is changed", async () => {
    // A folder whose package.json has a long version, a package from an index with a long version, asked
    // for or as a dependency: each makes record paths over 255 bytes (though the record's folder's name is
    // not, and its own files are short): raising the limit would let them install. (A
    // requirement names at most 200 characters, and so does a name made from a file's; such a package,
    // with no version of its own, fits.)
    const folder = path.join(work.dir, "b".repeat(200));
    await mkdir(folder);
    await writeFile(path.join(folder, "package.json"), JSON.stringify({ version: "1".repeat(40), urls: [["m.py", "m.py"]] }));
    await writeFile(path.join(folder, "m.py"), "X = 3\n");
    const cases = [[`./${path.basename(folder)}`], ["-i", server.url, "mid-version"], ["-i", server.url, "needs-long"]];
    for (const args of cases) {
      const { target, before } = await existingTarget();
      const result = await runMpip(["install", "-p", target, ...args], { cwd: work.dir });
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /^error: refused to install `.+`(?: .+)?: the paths of its install record \(in `.+\.dist-info.*`\) would be up to \d{3} bytes long, more than the limit of 255; nothing was changed in `.+`$/m, args.join(" "));
      assert.match(result.stderr, /--max-path-length/);
      assert.deepEqual(await snapshot(target), before, `${args.join(" ")}: the target is unchanged`);
      // Nothing is left for a later run to finish or roll back.
      const again = await runMpip(["list", "-p", target]);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /rolled|stopped/, again.stderr);
    }
    // As the hint says, a larger limit lets such a record in.
    const { target } = await existingTarget();
    const raised = await runMpip(["install", "-q", "--max-path-length", "300", "-p", target, "-i", server.url, "needs-long"]);
    assert.equal(raised.code, 0, raised.stderr);
  });

  test("a name of more than 255 bytes is refused as such, whatever --max-path-length says: a record's folder, a package's file", async () => {
    const euro = `${"\u20ac".repeat(86)}.py`; // 261 bytes, 89 characters
    const folder = path.join(work.dir, "long-dest");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "package.json"), JSON.stringify({ version: "1.0", urls: [[euro, "m.py"]] }));
    await writeFile(path.join(folder, "m.py"), "X = 8\n");
    await server.addSdist({ name: "long-member", version: "1.0", files: { [`pkg/${"x".repeat(300)}.py`]: "X = 9\n" } }, { format: "pax" });
    const cases: Array<[string[], RegExp]> = [
      [["-i", server.url, "short-version"], /^error: refused to install `short-version` .+: the folder of its install record, `short_version-1\.0\+a+.*\.dist-info.*`, would have a name 258 bytes long, more than the 255 a file or folder name can have; nothing was changed in `.+`$/m],
      [["./long-dest"], /^error: refused `€+.*\.py.*` of .+: its name `.+` is 261 bytes long, more than the 255 a file or folder name can have$/m],
      [["-i", server.url, "long-member"], /^error: refused entry `.+` of .+: its name `x+.*\.py.*` is 303 bytes long, more than the 255 a file or folder name can have$/m],
    ];
    for (const limit of [[], ["--max-path-length", "4000"]]) {
      for (const [args, message] of cases) {
        const { target, before } = await existingTarget();
        const result = await runMpip(["install", "--json", ...limit, "-p", target, ...args], { cwd: work.dir });
        const shown = `${limit.join(" ")} ${args.join(" ")}`;
        assert.equal(result.code, 1, `${shown}: ${result.stderr}`);
        assert.match(result.stderr, message, shown);
        assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, "limit-exceeded", shown);
        // Raising the limit cannot help: the hint does not say to.
        assert.doesNotMatch(result.stderr, /raise the limit/, shown);
        assert.deepEqual(await snapshot(target), before, shown);
        const listed = await runMpip(["list", "-p", target]);
        assert.doesNotMatch(listed.stderr, /rolled|stopped/, listed.stderr);
      }
    }
  });

  test("a record within the limit installs", async () => {
    const { target } = await existingTarget();
    const name = longName(200);
    await server.addSdist({ name, version: "1.0", files: { "fits.py": "X = 5\n" } }, { format: "pax" });
    const result = await runMpip(["install", "-q", "-p", target, "-i", server.url, name]);
    assert.equal(result.code, 0, result.stderr);
    const listed = await runMpip(["list", "--json", "-p", target]);
    assert.deepEqual((JSON.parse(listed.stdout) as { packages: Array<{ name: string }> }).packages.map((entry) => entry.name), [name]);
  });

  test("a module file of one's own whose name the target cannot take: a usage error that says to rename it", async () => {
    for (const file of ["back\\slash.py", "control\u0001char.py", "new\nline.py"]) {
      await writeFile(path.join(work.dir, file), "X = 6\n");
      const { target, before } = await existingTarget();
      const result = await runMpip(["install", "-p", target, file], { cwd: work.dir });
      assert.equal(result.code, 2, `${JSON.stringify(file)}: ${result.stderr}`);
      assert.match(result.stderr, /^error: cannot install `.+` of `.+` \(`.+`\) under its own name: its name contains a (backslash|control character)$/m, JSON.stringify(file));
      assert.match(result.stderr, /^hint: a module is installed under its file's name, .*rename the file/m);
      assert.doesNotMatch(result.stderr, /broken or malicious/);
      assert.deepEqual(await snapshot(target), before);
    }
  });

  test("a name a lock gives a module is the package's, not the user's: a path out of the target is refused as unsafe", async () => {
    const project = path.join(work.dir, "locked-module");
    await mkdir(project);
    await writeFile(path.join(project, "mod.py"), "X = 7\n");
    const locked = await runMpip(["lock", "-q", "./mod.py"], { cwd: project });
    assert.equal(locked.code, 0, locked.stderr);
    const text = await readFile(path.join(project, "pylock.toml"), "utf8");
    assert.match(text, /dest = "mod\.py"/);
    for (const dest of ["../evil.py", "a\\\\b.py"]) {
      await writeFile(path.join(project, "pylock.toml"), text.replace('dest = "mod.py"', `dest = "${dest}"`));
      const { target, before } = await existingTarget();
      const result = await runMpip(["install", "--json", "--lock", "pylock.toml", "-p", target], { cwd: project });
      assert.equal(result.code, 1, `${dest}: ${result.stderr}`);
      assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, "unsafe-path", dest);
      assert.match(result.stderr, /broken or malicious/, dest);
      assert.doesNotMatch(result.stderr, /rename the file/, dest);
      assert.deepEqual(await snapshot(target), before);
    }
  });
});
