// The read-only commands (list, show, freeze, manifest) speak as readers: a target that is a file is not
// answered with a writer's words ("nothing was changed", "move that file away"), and freeze's hint names
// the real folder, as other hints do. A command that writes keeps its words, with its own folder option.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeRecordedPackage } from "../helpers/dist-info.js";

let work: { dir: string; cleanup: () => Promise<void> };
let file: string;

before(async () => {
  work = await tempDir("mpip-read-words-");
  file = path.join(work.dir, "fixtures", "x.tar.gz");
  await mkdir(path.dirname(file));
  await writeFile(file, "not a folder\n");
});
after(() => work.cleanup());

describe("a target that is a file", () => {
  test("list, show, freeze and manifest say a folder of installed packages is needed, with no writer's words", async () => {
    for (const command of [["list"], ["show", "pkg"], ["freeze"], ["manifest"]]) {
      const result = await runMpip([...command, "-p", file]);
      assert.notEqual(result.code, 0, command.join(" "));
      assert.match(result.stderr, new RegExp(`^error: cannot read \`${file.replace(/[.]/g, "\\.")}\`: it is a file, not a folder$`, "m"), result.stderr);
      assert.match(result.stderr, /^hint: give the folder packages were installed into with -p \(`mpip install -p DIR` writes one\)$/m);
      assert.doesNotMatch(result.stderr, /nothing was changed|move that file away/);
      const below = await runMpip([...command, "-p", path.join(file, "sub")]);
      assert.match(below.stderr, /on its path is a file, not a folder$/m, command.join(" "));
      assert.doesNotMatch(below.stderr, /nothing was changed/);
    }
  });

  test("install and uninstall keep saying that nothing was changed", async () => {
    const install = await runMpip(["install", "--no-index", "-f", work.dir, "-p", file, "pkg"]);
    assert.match(install.stderr, /it is a file, not a folder; nothing was changed$/m, install.stderr);
    assert.match(install.stderr, /^hint: choose a folder with -p, or move that file away$/m);
    const uninstall = await runMpip(["uninstall", "-y", "-p", file, "pkg"]);
    assert.match(uninstall.stderr, /^error: cannot uninstall from .*nothing was changed$/m, uninstall.stderr);
  });
});

describe("freeze", () => {
  test("the warning about unrecorded files names the folder itself, quoted for a shell", async () => {
    const image = path.join(work.dir, "my image");
    await mkdir(image);
    await writeRecordedPackage(image, { name: "kept", version: "1.0", files: { "kept.py": "" } });
    await writeFile(path.join(image, "loose.py"), "x = 1\n");
    const result = await runMpip(["freeze", "-p", image]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "kept==1.0\n");
    assert.ok(result.stderr.includes(`(\`mpip list --unrecorded -p '${image}'\` lists it)`), result.stderr);
    assert.doesNotMatch(result.stderr, /-p DIR/);
  });
});
