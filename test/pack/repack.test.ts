// `mpip repack` end to end with the built CLI: sdists made the modern way (pax, 32 KiB window, README,
// LICENSE, tests, docs, setup.py; with and without egg-info) become packages that pass `mpip check`,
// install the same modules (plus R.py) with `mpip install`, and read their resources in real MicroPython.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { renderResourceModule } from "../../src/pack/r-py.js";
import { listFiles, runCommand, runMpip, tempDir, BIN } from "../helpers/cli.js";
import { runMicroPython } from "../helpers/micropython.js";
import { buildSdist, type SdistSpec } from "../helpers/sdist.js";
import { modernSdist } from "./modern-sdist.js";
import { prng } from "./python-oracle.js";

let work: { dir: string; cleanup: () => Promise<void> };
const at = (...parts: string[]) => path.join(work.dir, ...parts);
const next = prng(99);
const noise = Buffer.from(Array.from({ length: 7000 }, () => Math.floor(next() * 256)));
const BLOB = Buffer.concat([noise, Buffer.from("--"), noise]);

const EXTRAS = {
  "README.md": "# Sensor\n", LICENSE: "MIT\n", "pyproject.toml": "[project]\nname = 'sensor-kit'\n", "setup.py": "from setuptools import setup\nsetup()\n",
  "setup.cfg": "[metadata]\n", "MANIFEST.in": "include README.md\n", "tests/test_sensor.py": "def test(): pass\n", "docs/index.md": "# docs\n",
  ".github/workflows/ci.yml": "on: push\n",
};
const PACKAGE = {
  "sensor_kit/__init__.py": "from .core import read\n",
  "sensor_kit/core.py": "def read():\n    return 42\n",
  "sensor_kit/data/calibration.bin": BLOB,
  "sensor_kit/data/empty.txt": "",
  "sensor_kit/templates/page.html": "<p class='x'>\"hi\"</p>\n",
  "sensor_kit/drivers/__init__.py": "",
  "sensor_kit/drivers/bme.py": "ADDR = 0x76\n",
};
const MODERN: SdistSpec = {
  name: "sensor_kit", version: "2.1", files: { ...EXTRAS, ...PACKAGE },
  requiresDist: ["micro-dep>=1.0", "host-only; implementation_name == 'cpython'", "extra-dep; extra == 'plot'"],
};
const NON_ASCII = { name: "sensor_kit-2.1/sensor_kit/data/r\u00e9sum\u00e9.txt", type: "file" as const, content: "caf\u00e9\n", pax: { path: "sensor_kit-2.1/sensor_kit/data/r\u00e9sum\u00e9.txt" } };

before(async () => {
  work = await tempDir();
  await mkdir(at("in"));
  await mkdir(at("deps"));
  await writeFile(at("deps", "micro-dep-1.0.tar.gz"), await buildSdist({ name: "micro-dep", version: "1.0", files: { "micro_dep.py": "DEP = 1\n" } }));
});
after(() => work.cleanup());

async function repackAndCheck(input: string, outDir: string): Promise<string> {
  const repacked = await runMpip(["repack", input, "-o", outDir]);
  assert.equal(repacked.code, 0, repacked.stderr);
  const [output] = (await listFiles(outDir)).filter((file) => file.endsWith(".tar.gz"));
  const checked = await runMpip(["check", path.join(outDir, output!)]);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  return path.join(outDir, output!);
}

async function installFrom(folder: string, target: string, name: string): Promise<string[]> {
  const run = await runMpip(["install", "--no-index", "-f", folder, "-f", at("deps"), "-p", target, name]);
  assert.equal(run.code, 0, run.stderr);
  return listFiles(target);
}

describe("mpip repack", () => {
  for (const variant of [
    { label: "a pax sdist with only a top-level PKG-INFO (hatch, flit, `python -m build`)", format: "pax" as const, eggInfo: false },
    { label: "a GNU-format sdist with setuptools' egg-info", format: "gnu" as const, eggInfo: true },
  ]) {
    test(`${variant.label}: passes check, installs the same modules plus R.py`, async () => {
      const folder = at(`case-${variant.format}`);
      await mkdir(path.join(folder, "in"), { recursive: true });
      const input = path.join(folder, "in", "sensor_kit-2.1.tar.gz");
      await writeFile(input, modernSdist(MODERN, { format: variant.format, eggInfo: variant.eggInfo, extraEntries: [NON_ASCII] }));

      const before = await runMpip(["check", input]);
      assert.equal(before.code, 1, "the input itself is not a device package");
      const output = await repackAndCheck(input, path.join(folder, "out"));
      assert.equal(path.basename(output), "sensor_kit-2.1.tar.gz");

      const original = await installFrom(path.join(folder, "in"), path.join(folder, "t-original"), "sensor-kit");
      const repacked = await installFrom(path.join(folder, "out"), path.join(folder, "t-repacked"), "sensor-kit");
      const modules = (files: string[]) => files.filter((file) => file.endsWith(".py")).sort();
      // The original (installed as upip would) also puts `tests/` on the device; repack keeps only the package.
      assert.ok(modules(original).includes("tests/test_sensor.py"));
      assert.deepEqual(modules(repacked), [...modules(original).filter((file) => !file.startsWith("tests/")), "sensor_kit/R.py"].sort());
      assert.ok(repacked.includes("micro_dep.py"), "the dependency from Requires-Dist was followed");
      const data = (files: string[]) => files.filter((file) => file.startsWith("sensor_kit/") && !file.endsWith(".py"));
      assert.deepEqual(data(repacked), data(original));
      for (const dropped of ["LICENSE", "pyproject.toml", "MANIFEST.in", "docs/index.md", ".github/workflows/ci.yml", "tests/test_sensor.py"]) assert.ok(!repacked.includes(dropped), dropped);

      const tar = gunzipSync(await readFile(output));
      const requires = extract(tar, "sensor_kit-2.1/sensor_kit.egg-info/requires.txt");
      assert.equal(requires?.toString(), "micro-dep>=1.0\n", "markers evaluated for MicroPython, plain lines upip reads");
      assert.ok(extract(tar, "sensor_kit-2.1/sensor_kit.egg-info/PKG-INFO"));
      const rPy = extract(tar, "sensor_kit-2.1/sensor_kit/R.py")!.toString("utf8");
      const resources = Object.entries({ ...PACKAGE, "sensor_kit/data/r\u00e9sum\u00e9.txt": "caf\u00e9\n" })
        .filter(([file]) => !file.endsWith(".py"))
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .map(([file, content]) => ({ key: file.slice("sensor_kit/".length), data: Buffer.from(content) }));
      assert.equal(rPy, renderResourceModule(resources));

      const result = await runMicroPython(
        [
          "import sensor_kit, sensor_kit.R",
          "print(sensor_kit.read())",
          "for key in sorted(sensor_kit.R.R):",
          "    with open('/lib/sensor_kit/' + key, 'rb') as f:",
          "        print(key, sensor_kit.R.R[key] == f.read(), len(sensor_kit.R.R[key]))",
        ].join("\n"),
        { libDir: path.join(folder, "t-repacked") },
      );
      assert.equal(result.error, undefined, result.error);
      assert.deepEqual(result.stdout.trimEnd().split("\n"), ["42", ...resources.map((r) => `${r.key} True ${r.data.length}`)]);
    });
  }

  test("reproducible: the same sha256 from another working folder and umask; SOURCE_DATE_EPOCH changes it", async () => {
    const input = at("in", "sensor_kit-2.1.tar.gz");
    await writeFile(input, modernSdist(MODERN));
    const run = async (cwd: string, umask: string, out: string, env: NodeJS.ProcessEnv = {}) => {
      await mkdir(cwd, { recursive: true });
      const result = await runCommand("sh", ["-c", `umask ${umask} && exec "${process.execPath}" "${BIN}" repack "${input}" -o "${out}"`], { cwd, env: { SOURCE_DATE_EPOCH: "", ...env } });
      assert.equal(result.code, 0, result.stderr);
      return createHash("sha256").update(await readFile(path.join(cwd, out, "sensor_kit-2.1.tar.gz"))).digest("hex");
    };
    const first = await run(at("r1"), "022", "dist");
    assert.equal(await run(at("r2", "deeper"), "077", "elsewhere"), first);
    assert.notEqual(await run(at("r3"), "022", "dist", { SOURCE_DATE_EPOCH: "1700000000" }), first);
    // Idempotent: repacking mpip's own output gives the same bytes.
    const again = await runMpip(["repack", at("r1", "dist", "sensor_kit-2.1.tar.gz"), "-o", at("r4")], { env: { SOURCE_DATE_EPOCH: "" } });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(createHash("sha256").update(await readFile(at("r4", "sensor_kit-2.1.tar.gz"))).digest("hex"), first);
  });

  test("refuses to overwrite its input, a name too long for a device, and hostile entries", async () => {
    await mkdir(at("self", "dist"), { recursive: true });
    await writeFile(at("self", "dist", "solo-1.0.tar.gz"), await buildSdist({ name: "solo", version: "1.0", files: { "solo.py": "" } }));
    const self = await runMpip(["repack", "dist/solo-1.0.tar.gz"], { cwd: at("self") });
    assert.equal(self.code, 2);
    assert.match(self.stderr, /would overwrite the input[\s\S]*hint: choose another output folder with `-o DIR`/);

    const long = `longpkg/${"deep_folder/".repeat(7)}module.py`;
    await writeFile(at("in", "longpkg-1.0.tar.gz"), modernSdist({ name: "longpkg", version: "1.0", files: { "longpkg/__init__.py": "", [long]: "" }, requiresDist: [] }));
    const tooLong = await runMpip(["repack", at("in", "longpkg-1.0.tar.gz"), "-o", at("long-out")]);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, new RegExp(`error: cannot write \`longpkg-1\\.0/${long.replace(/\./g, "\\.")}\` into the archive: its name is 113 bytes long`));

    await writeFile(at("in", "evil-1.0.tar.gz"), await buildSdist({ name: "evil", version: "1.0", files: { "evil.py": "" } }, { extraEntries: [{ name: "evil-1.0/link.py", type: "symlink", linkname: "/etc/passwd" }] }));
    const evil = await runMpip(["repack", at("in", "evil-1.0.tar.gz"), "-o", at("evil-out")]);
    assert.equal(evil.code, 1);
    assert.match(evil.stderr, /refused entry `evil-1\.0\/link\.py`[^\n]*symlink/);
    await writeFile(at("in", "escape-1.0.tar.gz"), await buildSdist({ name: "escape", version: "1.0", files: { "escape.py": "" } }, { extraEntries: [{ name: "escape-1.0/../../x.py", type: "file", content: "" }] }));
    const escape = await runMpip(["repack", at("in", "escape-1.0.tar.gz"), "-o", at("evil-out")]);
    assert.equal(escape.code, 1);
    assert.match(escape.stderr, /`\.\.` segment/);
    assert.deepEqual(await listFiles(at("evil-out")).catch(() => []), []);
  });
});

/** The data of one member of a plain ustar tar (as mpip writes them). */
function extract(tar: Buffer, name: string): Buffer | undefined {
  for (let offset = 0; offset + 512 <= tar.length && tar[offset] !== 0; ) {
    const size = parseInt(tar.toString("latin1", offset + 124, offset + 135), 8);
    if (tar.toString("utf8", offset, offset + 100).replace(/\0+$/, "") === name) return tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}
