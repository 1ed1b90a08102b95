// Records that earlier builds of mpip wrote for a package known only by a file or folder name, under that
// name as it was (`Name: weird@name!` in `weird_name_-0.dist-info`): they are read under the name mpip
// makes of it now (`weird-name`), so that `list` names the package, a new install of the same file
// replaces it and `uninstall` removes it. Before, the folder was read as no record at all: its files were
// listed as unrecorded and never removed. A record of another installer with such a name is still not read.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  work = await tempDir("mpip-legacy-names-");
});
after(async () => {
  await work.cleanup();
});

/** RECORD's hash of `data`. */
const recordHash = (data: string) => `sha256=${createHash("sha256").update(data).digest("base64url")}`;

/**
 * An image holding `file` (with `text`) and the record an earlier mpip wrote for it: `folder`, with
 * METADATA naming `name`, INSTALLER `installer`, REQUESTED and RECORD.
 */
async function legacyImage(file: string, text: string, name: string, folder: string, installer = "mpip"): Promise<string> {
  const target = path.join(work.dir, `image-${++counter}`);
  await mkdir(path.join(target, folder), { recursive: true });
  await writeFile(path.join(target, file), text);
  const info: Record<string, string> = { METADATA: `Metadata-Version: 2.1\nName: ${name}\nVersion: 0\n`, INSTALLER: `${installer}\n`, REQUESTED: "" };
  for (const [infoName, content] of Object.entries(info)) await writeFile(path.join(target, folder, infoName), content);
  const rows = [[file, text], ...Object.entries(info).map(([infoName, content]) => [`${folder}/${infoName}`, content])].map(([at, content]) => `${at},${recordHash(content!)},${Buffer.byteLength(content!)}`);
  await writeFile(path.join(target, folder, "RECORD"), `${[...rows, `${folder}/RECORD,,`].join("\n")}\n`);
  return target;
}

describe("records of names an earlier mpip kept as they were", () => {
  const cases = [
    { file: "weird@name!.py", name: "weird@name!", folder: "weird_name_-0.dist-info", now: "weird-name" },
    { file: "my mod.py", name: "my mod", folder: "my_mod-0.dist-info", now: "my-mod" },
    { file: "ünï.py", name: "ünï", folder: "_n_-0.dist-info", now: "uni" },
  ];

  test("are listed, replaced and uninstalled under the name mpip makes now", async () => {
    for (const { file, name, folder, now } of cases) {
      const target = await legacyImage(file, "X = 1\n", name, folder);
      const listed = await runMpip(["list", "--json", "-p", target]);
      assert.equal(listed.code, 0, listed.stderr);
      const report = JSON.parse(listed.stdout) as { packages: Array<{ name: string }>; unrecorded: string[] };
      assert.deepEqual(report.packages.map((entry) => entry.name), [now], file);
      assert.deepEqual(report.unrecorded, [], file);
      assert.doesNotMatch(listed.stderr, /warning/, file);

      // The same file installed again replaces the old record, which goes with its folder.
      const source = path.join(work.dir, `source-${counter}`);
      await mkdir(source);
      await writeFile(path.join(source, file), "X = 2\n");
      const installed = await runMpip(["install", "-p", target, path.join(source, file)]);
      assert.equal(installed.code, 0, installed.stderr);
      assert.match(installed.stderr, new RegExp(`^ ~ ${now} \\(replacing 0\\)`, "m"), installed.stderr);
      // One record is left, the new one, in the folder named for the new name (`my_mod-0.dist-info` is
      // both the old folder's name and the new one's).
      assert.deepEqual((await readdir(target)).filter((entry) => entry.endsWith(".dist-info")), [`${now.replace(/-/g, "_")}-0.dist-info`], file);
      assert.match(await readFile(path.join(target, `${now.replace(/-/g, "_")}-0.dist-info`, "METADATA"), "utf8"), new RegExp(`^Name: ${now}$`, "m"));

      const removed = await runMpip(["uninstall", "-y", "-p", target, now]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.deepEqual(await readdir(target), [], file);
    }
  });

  test("uninstall takes the old record too, and a record another installer wrote under such a name stays unread", async () => {
    const [first] = cases;
    const target = await legacyImage(first!.file, "X = 1\n", first!.name, first!.folder);
    const removed = await runMpip(["uninstall", "-y", "-p", target, first!.now]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await readdir(target), []);

    const foreign = await legacyImage(first!.file, "X = 1\n", first!.name, first!.folder, "some-other-tool");
    const listed = await runMpip(["list", "--json", "-p", foreign]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { packages: unknown[] }).packages, []);
    assert.match(listed.stderr, /`Name: weird@name!` is not a valid project name; the folder is not read as a record/);
  });
});
