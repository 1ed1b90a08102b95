// The install record: every install writes `NAME-VERSION.dist-info/` for each package it commits, in the
// standard form (PEP 376, PEP 627), read back by CPython's importlib.metadata and pip when the
// machine has them; `--no-record` writes none. The built CLI against a real index on 127.0.0.1.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { listFiles, runCommand, runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { runMicroPython } from "../helpers/micropython.js";
import { buildSdist } from "../helpers/sdist.js";
import { baselineRun } from "../helpers/baseline.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = () => path.join(work.dir, `image-${++counter}`);

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-record-");
  await server.addSdist({ name: "Rec.App_Main", version: "1.0-RC1", files: { "recapp/__init__.py": "from reclib import LIB\nAPP = 'app ' + LIB\n", "recapp/data.txt": "x,y\n\"quoted\"\n" }, requires: ["reclib>=0.5"] });
  await server.addSdist({ name: "reclib", version: "v0.5.0", files: { "reclib.py": "LIB = 'lib'\n" } });
  await server.addSdist({ name: "weird-file", version: "2", files: { "weird, name.py": "W = 1\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const sha256b64 = (data: Buffer) => createHash("sha256").update(data).digest("base64url");
const install = (target: string, ...args: string[]) => runMpip(["install", "-i", server.url, "-p", target, ...args]);

// rec.app-main installed: the image that MicroPython, importlib.metadata and pip read below. Installed once
// and copied per test; the first test checks that install on a run of its own.
const withRecApp = baselineRun((dir) => install(dir, "rec.app-main"), () => work.dir);

/** Python's csv reader, by hand: the test checks the file the way other tools read it. */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  const pattern = /("(?:[^"]|"")*"|[^,\n]*)(,|\n)/g;
  let row: string[] = [];
  for (const match of text.matchAll(pattern)) {
    const field = match[1]!.startsWith('"') ? match[1]!.slice(1, -1).replace(/""/g, '"') : match[1]!;
    row.push(field);
    if (match[2] === "\n") {
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

async function checkRecord(target: string, distInfo: string): Promise<string[]> {
  const rows = csvRows(await readFile(path.join(target, distInfo, "RECORD"), "utf8"));
  for (const [file, hash, size] of rows) {
    if (file === `${distInfo}/RECORD`) {
      assert.equal(hash, "");
      assert.equal(size, "");
      continue;
    }
    const data = await readFile(path.join(target, file!));
    assert.equal(hash, `sha256=${sha256b64(data)}`, `${file}'s hash`);
    assert.equal(size, String(data.length), `${file}'s size`);
  }
  return rows.map((row) => row[0]!);
}

describe("the install record", () => {
  test("each package gets NAME-VERSION.dist-info with METADATA, RECORD, INSTALLER, mpip.json; REQUESTED only for what was asked for", async () => {
    const target = fresh();
    const result = await install(target, "rec.app-main");
    assert.equal(result.code, 0, result.stderr);
    // Names escaped (runs of -_. to _, lowercase), versions normalized (1.0-RC1 → 1.0rc1, v0.5.0 → 0.5.0).
    const top = (await readdir(target)).sort();
    assert.deepEqual(top, ["rec_app_main-1.0rc1.dist-info", "recapp", "reclib-0.5.0.dist-info", "reclib.py"]);
    const app = "rec_app_main-1.0rc1.dist-info";
    assert.deepEqual((await readdir(path.join(target, app))).sort(), ["INSTALLER", "METADATA", "RECORD", "REQUESTED", "mpip.json"]);
    assert.deepEqual((await readdir(path.join(target, "reclib-0.5.0.dist-info"))).sort(), ["INSTALLER", "METADATA", "RECORD", "mpip.json"]);
    const metadata = await readFile(path.join(target, app, "METADATA"), "utf8");
    assert.match(metadata, /^Metadata-Version: 2\.1\nName: Rec\.App_Main\nVersion: 1\.0rc1\n/);
    assert.match(metadata, /^Requires-Dist: reclib>=0\.5$/m);
    assert.equal(await readFile(path.join(target, app, "INSTALLER"), "utf8"), "mpip\n");
    assert.equal(await readFile(path.join(target, app, "REQUESTED"), "utf8"), "");
    const listed = await checkRecord(target, app);
    assert.deepEqual(listed.sort(), [`${app}/INSTALLER`, `${app}/METADATA`, `${app}/RECORD`, `${app}/REQUESTED`, `${app}/mpip.json`, "recapp/__init__.py", "recapp/data.txt"].sort());
    const origin = JSON.parse(await readFile(path.join(target, app, "mpip.json"), "utf8"));
    assert.equal(origin.index, server.url);
    assert.equal(origin.kind, "pypi");
    assert.equal(origin.artifact, "dist");
    assert.match(origin.url, /rec[._-]app[._-]main-1\.0-RC1\.tar\.gz$/i);
    assert.match(origin.sha256, /^[0-9a-f]{64}$/);
    assert.equal(origin.spec, null);
  });

  test("a path with a comma is quoted in RECORD as Python's csv module writes it", async () => {
    const target = fresh();
    assert.equal((await install(target, "weird-file")).code, 0);
    const text = await readFile(path.join(target, "weird_file-2.dist-info", "RECORD"), "utf8");
    assert.match(text, /^"weird, name.py",sha256=/m);
    assert.ok((await checkRecord(target, "weird_file-2.dist-info")).includes("weird, name.py"));
  });

  test("direct sources get direct_url.json (PEP 610); a source with no version is recorded as version 0", async () => {
    const target = fresh();
    const local = path.join(work.dir, "local");
    await mkdir(path.join(local, "proj", "projpkg"), { recursive: true });
    await writeFile(path.join(local, "proj", "pyproject.toml"), '[project]\nname = "proj-thing"\nversion = "0.3"\ndescription = "A project folder"\n');
    await writeFile(path.join(local, "proj", "projpkg", "__init__.py"), "P = 1\n");
    await writeFile(path.join(local, "loose.py"), "L = 1\n");
    const sdist = await buildSdist({ name: "filed", version: "1.1", files: { "filed.py": "F = 1\n" } });
    await writeFile(path.join(local, "filed-1.1.tar.gz"), sdist);
    const result = await runMpip(["install", "--no-index", "-p", target, "./proj", "./loose.py", "./filed-1.1.tar.gz"], { cwd: local });
    assert.equal(result.code, 0, result.stderr);
    const read = async (dir: string, file: string) => JSON.parse(await readFile(path.join(target, dir, file), "utf8"));
    assert.deepEqual(await read("proj_thing-0.3.dist-info", "direct_url.json"), { url: pathToFileURL(path.join(local, "proj")).href, dir_info: {} });
    assert.match(await readFile(path.join(target, "proj_thing-0.3.dist-info", "METADATA"), "utf8"), /^Summary: A project folder$/m);
    const filed = await read("filed-1.1.dist-info", "direct_url.json");
    const digest = createHash("sha256").update(sdist).digest("hex");
    assert.deepEqual(filed, { url: pathToFileURL(path.join(local, "filed-1.1.tar.gz")).href, archive_info: { hashes: { sha256: digest }, hash: `sha256=${digest}` } });
    assert.equal((await read("filed-1.1.dist-info", "mpip.json")).kind, "path");
    // A bare module has no version: recorded as 0.
    assert.match(await readFile(path.join(target, "loose-0.dist-info", "METADATA"), "utf8"), /^Version: 0$/m);
    assert.equal((await read("loose-0.dist-info", "mpip.json")).artifact, "module");
    for (const dir of ["proj_thing-0.3.dist-info", "loose-0.dist-info", "filed-1.1.dist-info"]) await checkRecord(target, dir);
  });

  test("--no-record writes exactly the package files, as upip would", async () => {
    const target = fresh();
    const result = await install(target, "--no-record", "rec.app-main");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["recapp/__init__.py", "recapp/data.txt", "reclib.py"]);
  });

  test("an image with records still imports and runs in MicroPython", async () => {
    const target = await withRecApp.copyTo(fresh());
    const run = await runMicroPython("import recapp\nprint(recapp.APP)", { libDir: target });
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.stdout.trim(), "app lib");
  });

  const python = (() => {
    try {
      execFileSync("python3", ["-c", "import importlib.metadata"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  test("CPython's importlib.metadata reads the record", { skip: python ? false : "python3 with importlib.metadata is not on this machine" }, async () => {
    const target = await withRecApp.copyTo(fresh());
    const script = "import importlib.metadata as m, json, sys\n" +
      "out = {}\n" +
      "for d in m.distributions(path=[sys.argv[1]]):\n" +
      "    out[d.metadata['Name']] = {'version': d.version, 'requires': d.requires, 'files': sorted(str(f) for f in d.files), 'installer': d.read_text('INSTALLER')}\n" +
      "print(json.dumps(out, sort_keys=True))\n";
    const result = await runCommand("python3", ["-c", script, target]);
    assert.equal(result.code, 0, result.stderr);
    const seen = JSON.parse(result.stdout);
    assert.equal(seen["Rec.App_Main"].version, "1.0rc1");
    assert.deepEqual(seen["Rec.App_Main"].requires, ["reclib>=0.5"]);
    assert.equal(seen["Rec.App_Main"].installer, "mpip\n");
    assert.ok(seen["Rec.App_Main"].files.includes("recapp/data.txt"));
    assert.equal(seen.reclib.version, "0.5.0");
  });

  const pip = (() => {
    try {
      execFileSync("python3", ["-m", "pip", "--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  test("pip list --path reads the record", { skip: pip ? false : "pip is not on this machine" }, async () => {
    const target = await withRecApp.copyTo(fresh());
    const result = await runCommand("python3", ["-m", "pip", "list", "--path", target, "--format", "json", "--disable-pip-version-check"]);
    assert.equal(result.code, 0, result.stderr);
    const listed = (JSON.parse(result.stdout) as Array<{ name: string; version: string }>).map((item) => `${item.name}==${item.version}`).sort();
    assert.deepEqual(listed, ["Rec.App_Main==1.0rc1", "reclib==0.5.0"]);
  });
});
