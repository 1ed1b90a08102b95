// `mpip list` through the built CLI, on targets whose records were written by hand as pip --target and
// mpip write them (and, when the machine has pip, by pip itself), with files in no record beside them.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { compileSource, stopWasmWorkers } from "../../src/mpy/compile.js";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeRecordedPackage } from "../helpers/dist-info.js";
import { PYTHON } from "../pack/python-oracle.js";

let work: { dir: string; cleanup: () => Promise<void> };
let image: string;

const SENSOR_INIT = "from .core import read\n\ndef scaled(x):\n    return read() * x\n";
const SENSOR_CORE = "def read():\n    return 42\n";
const TOOL = "def main():\n    print('tool')\n";

before(async () => {
  work = await tempDir("mpip-list-");
  image = path.join(work.dir, "image");
  await mkdir(image);
  await writeRecordedPackage(image, {
    name: "sensor-kit",
    version: "2.0",
    summary: "drivers for a made-up sensor",
    files: { "sensor_kit/__init__.py": SENSOR_INIT, "sensor_kit/core.py": SENSOR_CORE, "sensor_kit/table.bin": new Uint8Array(100) },
    installer: "mpip",
    requested: false,
    mpip: { index: "https://micropython.org/pi/v2", kind: "mip", artifact: "package-json", url: "https://micropython.org/pi/v2/package/py/sensor-kit/2.0.json", sha256: null },
  });
  await writeRecordedPackage(image, {
    name: "tool",
    version: "0.3",
    files: { "tool.py": TOOL },
    installer: "mpip",
    mpip: { index: null, kind: "github", artifact: "package-json", url: "https://raw.githubusercontent.com/org/tool/v0.3/package.json", spec: "github:org/tool@v0.3" },
  });
  await writeRecordedPackage(image, { name: "from_pip", version: "1.1", files: { "from_pip.py": "P = 1\n" } });
  await writeFile(path.join(image, "by_hand.py"), "print('hand')\n");
  await mkdir(path.join(image, "upip_pkg", "sub"), { recursive: true });
  await writeFile(path.join(image, "upip_pkg", "__init__.py"), "");
  await writeFile(path.join(image, "upip_pkg", "sub", "deep.py"), "D = 1\n");
});
after(async () => {
  await stopWasmWorkers();
  await work.cleanup();
});

describe("mpip list", () => {
  test("lists each recorded package with version and source, then the files in no record by top-level name", async () => {
    const run = await runMpip(["list", "-p", image]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const lines = run.stdout.split("\n");
    assert.match(lines[0]!, /^Package +Version +Source$/);
    assert.match(lines[1]!, /^-+ +-+ +-+$/);
    assert.match(run.stdout, /^from_pip +1\.1 +installed by pip$/m);
    assert.match(run.stdout, /^sensor-kit +2\.0 +mip https:\/\/micropython\.org\/pi\/v2$/m);
    assert.match(run.stdout, /^tool +0\.3 +github:org\/tool@v0\.3$/m);
    assert.match(run.stdout, /In no record \(3 files; `--unrecorded` lists each\):\n  by_hand\.py\n  upip_pkg\/ \(2 files\)\n$/);
  });

  test("--unrecorded lists each file in no record", async () => {
    const run = await runMpip(["list", "-p", image, "--unrecorded"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /In no record \(3 files\):\n  by_hand\.py\n  upip_pkg\/__init__\.py\n  upip_pkg\/sub\/deep\.py\n$/);
  });

  test("--json gives packages, sources, origins and unrecorded files", async () => {
    const run = await runMpip(["list", "-p", image, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.equal(doc.ok, true);
    assert.equal(doc.target, image);
    assert.deepEqual(doc.packages.map((pkg: { name: string; version: string }) => `${pkg.name}==${pkg.version}`), ["from_pip==1.1", "sensor-kit==2.0", "tool==0.3"]);
    const sensor = doc.packages.find((pkg: { name: string }) => pkg.name === "sensor-kit");
    assert.equal(sensor.source, "mip https://micropython.org/pi/v2");
    assert.equal(sensor.origin.kind, "mip");
    assert.equal(sensor.requested, false);
    assert.equal(sensor.installer, "mpip");
    assert.equal(sensor.files, 3 + 4); // three files, and METADATA, INSTALLER, mpip.json, RECORD
    assert.deepEqual(doc.unrecorded, [
      { path: "by_hand.py", size: 14 },
      { path: "upip_pkg/__init__.py", size: 0 },
      { path: "upip_pkg/sub/deep.py", size: 6 },
    ]);
    assert.deepEqual(doc.warnings, []);
  });

  test("the default target is install's: MPIP_TARGET, else the first MICROPYPATH entry, for every command that reads one", async () => {
    const run = await runMpip(["list", "--json"], { env: { MICROPYPATH: `${image}${path.delimiter}/elsewhere` } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).target, image);
    for (const command of [["list", "--json"], ["show", "--json", "tool"], ["freeze"], ["uninstall", "--dry-run", "--json", "tool"]]) {
      const set = await runMpip(command, { env: { MPIP_TARGET: image, MICROPYPATH: "/elsewhere" } });
      assert.equal(set.code, 0, `${command[0]}: ${set.stderr}`);
      if (command[0] === "freeze") assert.match(set.stdout, /^tool==0\.3$|github:org\/tool@v0\.3/m);
      else assert.equal(JSON.parse(set.stdout).target, image, command[0]);
    }
    // Empty counts as unset.
    assert.equal(JSON.parse((await runMpip(["list", "--json"], { env: { MPIP_TARGET: "", MICROPYPATH: image } })).stdout).target, image);
  });

  test("an image upip made (no records) lists its files as in no record", async () => {
    const upip = path.join(work.dir, "upip-image");
    await mkdir(path.join(upip, "lib_a"), { recursive: true });
    await writeFile(path.join(upip, "lib_a", "__init__.py"), "");
    await writeFile(path.join(upip, "mod_b.py"), "");
    const run = await runMpip(["list", "-p", upip]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `No package is recorded in \`${upip}\`.\n\nIn no record (2 files; \`--unrecorded\` lists each):\n  lib_a/ (1 file)\n  mod_b.py\n`);
  });

  test("an image in the middle of a commit (its journal there): list, show and freeze say so, in either layout", async () => {
    for (const layout of ["beside", "inside"] as const) {
      const parent = path.join(work.dir, `pending-${layout}`);
      const target = path.join(parent, "img");
      await mkdir(target, { recursive: true });
      await writeRecordedPackage(target, { name: "half", version: "1.0", files: { "half.py": "H = 1\n" }, installer: "mpip" });
      const journal = layout === "beside" ? path.join(parent, ".img.mpip-journal") : path.join(target, ".mpip-journal");
      await writeFile(journal, JSON.stringify({ mpip: 4, operation: "install", pid: 999999, since: "2020-01-01T00:00:00.000Z", staging: "x", dirs: [], steps: [] }));
      for (const command of [["list"], ["show", "half"], ["freeze"]]) {
        const run = await runMpip([...command, "-p", target]);
        assert.equal(run.code, 0, run.stderr);
        assert.ok(run.stderr.includes(`warning: \`${target}\` is in the middle of a commit (the journal \`${journal}\` is there)`), `${command[0]} ${layout}: ${run.stderr}`);
        assert.match(run.stderr, /the next `mpip install` or `mpip uninstall` on it rolls a stopped one back/);
      }
    }
  });

  test("a target that does not exist is an error (exit 1, bad-target), as text and as JSON", async () => {
    const missing = path.join(work.dir, "no-such-image");
    const run = await runMpip(["list", "-p", missing]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: the target `.*no-such-image` does not exist\n\nhint: /);
    const json = await runMpip(["list", "-p", missing, "--json"]);
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).error.code, "bad-target");
  });

  test("a hostile record: warnings name the file, text from it is escaped, exit 0", async () => {
    const hostile = path.join(work.dir, "hostile");
    await mkdir(hostile);
    await writeRecordedPackage(hostile, {
      name: "evil",
      version: "1.0",
      files: { "evil.py": "E\n" },
      mpip: { index: null, kind: "url", spec: "https://x.example/\u001b[2Jevil.py\u202e" },
      record: "evil.py,,\n../../etc/passwd,,\n",
    });
    const run = await runMpip(["list", "-p", hostile]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^warning: `evil-1\.0\.dist-info\/RECORD` line 2: `\.\.\/\.\.\/etc\/passwd` lies outside the target; the row is ignored$/m);
    assert.ok(!run.stdout.includes("\u001b") && !run.stdout.includes("\u202e"));
    assert.match(run.stdout, /evil +1\.0 +https:\/\/x\.example\/\\x1b\[2Jevil\.py\\u\{202e\}/);
    const json = JSON.parse((await runMpip(["list", "-p", hostile, "--json"])).stdout);
    assert.equal(json.packages[0].source, "https://x.example/\u001b[2Jevil.py\u202e");
    assert.equal(json.warnings.length, 1);
  });

  test("--size: each package's bytes and its bytecode (compiled .py, .mpy as is, data files nothing), a total; sizes cached by content", async () => {
    const sized = path.join(work.dir, "sized");
    await mkdir(sized);
    const mpy = new Uint8Array([0x4d, 6, 0, 31, 1, 2, 3, 4, 5]);
    await writeRecordedPackage(sized, { name: "sensor-kit", version: "2.0", files: { "sensor_kit/__init__.py": SENSOR_INIT, "sensor_kit/core.py": SENSOR_CORE, "sensor_kit/table.bin": new Uint8Array(100) } });
    await writeRecordedPackage(sized, { name: "tool", version: "0.3", files: { "tool.mpy": mpy } });
    await writeFile(path.join(sized, "broken.py"), "def broken(:\n");
    await writeFile(path.join(sized, "by_hand.py"), TOOL);
    const cache = path.join(work.dir, "cache");
    const compiled = async (source: string, file: string) => (await compileSource(source, file)).length;
    const expected = {
      sensor: (await compiled(SENSOR_INIT, "sensor_kit/__init__.py")) + (await compiled(SENSOR_CORE, "sensor_kit/core.py")),
      hand: await compiled(TOOL, "by_hand.py"),
    };
    const run = await runMpip(["list", "-p", sized, "--size", "--json"], { env: { MPIP_CACHE_DIR: cache } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: `broken\.py` does not compile, so its frozen size is not counted: /);
    const doc = JSON.parse(run.stdout);
    const sensor = doc.packages.find((pkg: { name: string }) => pkg.name === "sensor-kit");
    const tool = doc.packages.find((pkg: { name: string }) => pkg.name === "tool");
    assert.equal(sensor.size.frozenBytes, expected.sensor);
    assert.ok(sensor.size.bytes > SENSOR_INIT.length + SENSOR_CORE.length + 100); // its record's files count too
    assert.equal(tool.size.frozenBytes, mpy.length);
    assert.equal(doc.unrecordedSize.frozenBytes, expected.hand);
    assert.deepEqual(doc.unrecordedSize.notCompiled.map((entry: { path: string }) => entry.path), ["broken.py"]);
    assert.equal(doc.total.frozenBytes, expected.sensor + mpy.length + expected.hand);
    assert.equal(doc.total.bytes, sensor.size.bytes + tool.size.bytes + doc.unrecordedSize.bytes);
    // The cache holds one .mpy per compiled source; a second run reads it instead of compiling.
    const cacheFiles = (await readdir(path.join(cache, "mpy"), { recursive: true })).filter((file) => file.endsWith(".mpy"));
    assert.equal(cacheFiles.length, 3);
    for (const file of cacheFiles) await writeFile(path.join(cache, "mpy", file), "12345");
    const again = JSON.parse((await runMpip(["list", "-p", sized, "--size", "--json"], { env: { MPIP_CACHE_DIR: cache } })).stdout);
    assert.equal(again.total.frozenBytes, 5 * 3 + mpy.length);
    const text = await runMpip(["list", "-p", sized, "--size"], { env: { MPIP_CACHE_DIR: cache } });
    assert.match(text.stdout, /^Package +Version +Source +Size +Frozen$/m);
    assert.match(text.stdout, /^Total +[\d.]+ (bytes|KiB) +24 bytes$/m);
  });

  test("reads what pip --target writes", { skip: PYTHON === undefined || spawnSync(PYTHON, ["-m", "pip", "--version"]).status !== 0 ? "python3 with pip is not installed" : false }, async () => {
    const wheel = path.join(work.dir, "widget_thing-1.4-py3-none-any.whl");
    const script = [
      "import sys, zipfile, hashlib, base64",
      "files = {'widget_thing/__init__.py': b'W = 1\\n', 'widget_thing-1.4.dist-info/METADATA': b'Metadata-Version: 2.1\\nName: widget-thing\\nVersion: 1.4\\nSummary: a widget\\nRequires-Dist: sensor-kit (>=2)\\n', 'widget_thing-1.4.dist-info/WHEEL': b'Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'}",
      "rows = [f'{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b\"=\").decode()},{len(d)}' for n, d in files.items()]",
      "rows.append('widget_thing-1.4.dist-info/RECORD,,')",
      "with zipfile.ZipFile(sys.argv[1], 'w') as z:",
      "    [z.writestr(n, d) for n, d in files.items()]",
      "    z.writestr('widget_thing-1.4.dist-info/RECORD', '\\n'.join(rows) + '\\n')",
    ].join("\n");
    assert.equal(spawnSync(PYTHON!, ["-c", script, wheel]).status, 0);
    const pipTarget = path.join(work.dir, "pip-target");
    const pip = spawnSync(PYTHON!, ["-m", "pip", "install", "--no-index", "--no-deps", "--disable-pip-version-check", "--target", pipTarget, wheel], { encoding: "utf8" });
    assert.equal(pip.status, 0, pip.stderr);
    const run = await runMpip(["list", "-p", pipTarget, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.deepEqual(doc.warnings, []);
    assert.equal(doc.packages.length, 1);
    assert.equal(doc.packages[0].name, "widget-thing");
    assert.equal(doc.packages[0].version, "1.4");
    assert.equal(doc.packages[0].installer, "pip");
    assert.equal(doc.packages[0].requested, true);
    assert.equal(doc.packages[0].directUrl.info.type, "archive");
    assert.deepEqual(doc.unrecorded, []); // pip's __pycache__ files are in its RECORD too
    const show = await runMpip(["show", "-p", pipTarget, "widget_thing", "--files"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^Requires: sensor-kit$/m);
    assert.doesNotMatch(show.stdout, /changed since install|missing/);
    const freeze = await runMpip(["freeze", "-p", pipTarget]);
    assert.equal(freeze.stdout, "widget-thing==1.4\n");
    assert.match(freeze.stderr, /an archive mpip does not install; it is written as `widget-thing==1\.4`/);
    assert.ok((await readFile(path.join(pipTarget, "widget_thing", "__init__.py"), "utf8")).startsWith("W"));
  });
});
