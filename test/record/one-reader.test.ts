// One reader of records for every command: for the same image, `install` and `uninstall` see the same
// packages, versions, files and problems as `list` and `show`. Images built by hand with records that
// the checks of the read side normalize, judge or refuse: a RECORD path written `./tool//helper.py`, a
// sha512 digest of a file changed since, a METADATA whose version is no version, a `.dist-info` that
// is a link to a folder elsewhere. The built CLI against a real index on 127.0.0.1.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { distInfoName, writeRecordedPackage } from "../helpers/dist-info.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = async () => {
  const target = path.join(work.dir, `image-${++counter}`);
  await mkdir(target, { recursive: true });
  return target;
};

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-one-reader-");
  await server.addSdist({ name: "tool", version: "2.0", files: { "tool/__init__.py": "T = 2\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const listJson = async (target: string) => JSON.parse((await runMpip(["list", "--json", "-p", target])).stdout) as { packages: Array<{ name: string; version: string; files: number }>; warnings: string[] };
const showFiles = async (target: string, name: string) => {
  const shown = JSON.parse((await runMpip(["show", "--json", "--files", "-p", target, name])).stdout) as { packages: Array<{ files: Array<{ path: string; state: string }> }> };
  return shown.packages[0]!.files;
};
const dryUninstall = async (target: string, name: string) => {
  const result = await runMpip(["uninstall", "--dry-run", "--json", "-p", target, name]);
  return { result, report: result.code === 0 ? (JSON.parse(result.stdout) as { packages: Array<{ name: string; version: string; files: string[]; modified: string[] }> }) : undefined };
};

/** A package `tool` whose RECORD names one of its files as `./tool//helper.py`. */
async function toolWithOddPath(target: string): Promise<void> {
  const folder = await writeRecordedPackage(target, { name: "tool", version: "1.0", files: { "tool/__init__.py": "T = 1\n", "tool/helper.py": "H = 1\n" }, installer: "mpip" });
  const record = path.join(target, folder, "RECORD");
  await writeFile(record, (await readFile(record, "utf8")).replace(/^tool\/helper\.py,/m, "./tool//helper.py,"));
}

describe("install, uninstall, list and show read one record alike", () => {
  test("a RECORD path written `./tool//helper.py` is the package's file for every command: uninstall and an upgrade remove it", async () => {
    const target = await fresh();
    await toolWithOddPath(target);
    const listed = await listJson(target);
    assert.deepEqual(listed.packages.map((item) => [item.name, item.version]), [["tool", "1.0"]]);
    assert.ok((await showFiles(target, "tool")).some((file) => file.path === "tool/helper.py" && file.state === "unchanged"));
    const dry = await dryUninstall(target, "tool");
    assert.equal(dry.result.code, 0, dry.result.stderr);
    assert.ok(dry.report!.packages[0]!.files.includes("tool/helper.py"), JSON.stringify(dry.report));
    const removed = await runMpip(["uninstall", "-y", "-p", target, "tool"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await listFiles(target), []);
    // An upgrade to a version without it removes it too.
    const again = await fresh();
    await toolWithOddPath(again);
    const upgraded = await runMpip(["install", "-i", server.url, "-p", again, "tool==2.0"]);
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.deepEqual((await listFiles(again)).filter((file) => !file.includes(".dist-info/")), ["tool/__init__.py"]);
  });

  test("a file changed since install, recorded with a sha512 digest: show says changed, and uninstall keeps it", async () => {
    const target = await fresh();
    const data = "S = 1\n";
    const digest = createHash("sha512").update(data).digest("base64url");
    await writeRecordedPackage(target, { name: "hasher", version: "1.0", files: { "hasher.py": data }, record: `hasher.py,sha512=${digest},${data.length}\n${distInfoName("hasher", "1.0")}/METADATA,,\n${distInfoName("hasher", "1.0")}/RECORD,,\n` });
    await writeFile(path.join(target, "hasher.py"), "S = 2\n");
    assert.ok((await showFiles(target, "hasher")).some((file) => file.path === "hasher.py" && file.state === "changed"));
    const dry = await dryUninstall(target, "hasher");
    assert.deepEqual(dry.report!.packages[0]!.modified, ["hasher.py"]);
    const removed = await runMpip(["uninstall", "-y", "-p", target, "hasher"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /warning: `hasher\.py` of `hasher` was changed since it was installed; kept/);
    assert.equal(await readFile(path.join(target, "hasher.py"), "utf8"), "S = 2\n");
  });

  test("a record `list` does not read (no version; a .dist-info that is a link) is no package to uninstall either", async () => {
    const target = await fresh();
    await writeRecordedPackage(target, { name: "oddver", version: "1.0", files: { "oddver.py": "O = 1\n" }, metadata: "Metadata-Version: 2.1\nName: oddver\nVersion: 1.0 beta\n" });
    const elsewhere = path.join(work.dir, `elsewhere-${counter}`);
    await mkdir(elsewhere);
    const folder = await writeRecordedPackage(elsewhere, { name: "linked", version: "1.0", files: { "linked.py": "L = 1\n" } });
    await symlink(path.join(elsewhere, folder), path.join(target, folder));
    await writeFile(path.join(target, "linked.py"), "L = 1\n");
    const listed = await listJson(target);
    assert.deepEqual(listed.packages, []);
    assert.ok(listed.warnings.some((warning) => warning.includes("oddver-1.0.dist-info/METADATA")));
    assert.ok(listed.warnings.some((warning) => warning.includes("linked-1.0.dist-info") && warning.includes("symbolic link")));
    const beforeElsewhere = await snapshot(elsewhere);
    for (const name of ["oddver", "linked"]) {
      const removed = await runMpip(["uninstall", "-y", "-p", target, name]);
      assert.equal(removed.code, 1, removed.stderr);
      assert.match(removed.stderr, new RegExp(`^error: \`${name}\` is not installed in`, "m"));
    }
    assert.equal(await readFile(path.join(target, "oddver.py"), "utf8"), "O = 1\n");
    assert.equal(await readFile(path.join(target, "linked.py"), "utf8"), "L = 1\n");
    assert.deepEqual(await snapshot(elsewhere), beforeElsewhere);
  });
});
