// `mpip manifest` through the built CLI: the manifest.py it writes is evaluated by real MicroPython (and
// by python3 when present) with stand-ins of manifestfile.py's functions, of the same signatures, that
// record their calls; the calls must name every module of the image (and nothing else), from the image.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeRecordedPackage } from "../helpers/dist-info.js";
import { runMicroPython } from "../helpers/micropython.js";
import { PYTHON } from "../pack/python-oracle.js";

// manifestfile.py's functions, with its signatures (tools/manifestfile.py), recording each call.
const STAND_INS = `
calls = []
def include(manifest_path, is_require=False, **kwargs):
    calls.append(["include", manifest_path])
def require(name, version=None, unix_ffi=False, pypi=None, library=None, **kwargs):
    calls.append(["require", name])
def package(package_path, files=None, base_path=".", opt=None):
    calls.append(["package", package_path, files, base_path])
def module(module_path, base_path=".", opt=None):
    assert module_path.endswith(".py"), "module must be .py file"
    calls.append(["module", module_path, base_path])
def freeze(path, script=None, opt=None):
    calls.append(["freeze", path, script])
def metadata(description=None, version=None, license=None, author=None):
    pass
g = {"include": include, "require": require, "package": package, "module": module, "freeze": freeze, "metadata": metadata}
with open(MANIFEST) as f:
    exec(f.read(), g)
import json
print(json.dumps(calls))
`;

type Call = ["include", string] | ["package", string, string[] | null, string] | ["module", string, string] | ["freeze", string, string | null];

let work: { dir: string; cleanup: () => Promise<void> };
let image: string;

/** What each call freezes, as absolute paths (with the name each is frozen under). */
function frozenBy(calls: Call[]): Map<string, string> {
  const frozen = new Map<string, string>();
  for (const call of calls) {
    if (call[0] === "package") {
      assert.ok(call[2] !== null, "every package() lists its files");
      for (const file of call[2]!) frozen.set(path.join(call[3], call[1], file), `${call[1]}/${file}`);
    } else if (call[0] === "module") frozen.set(path.join(call[2], call[1]), call[1]);
    else if (call[0] === "freeze") frozen.set(path.join(call[1], call[2]!), call[2]!);
  }
  return frozen;
}

before(async () => {
  work = await tempDir("mpip-manifest-");
  image = path.join(work.dir, "image");
  await mkdir(image);
  await writeRecordedPackage(image, {
    name: "weather-station",
    version: "3.1",
    files: {
      "weather_station/__init__.py": "from .units import C\n",
      "weather_station/units.py": "C = 'celsius'\n",
      "weather_station/drivers/__init__.py": "",
      "weather_station/drivers/bme.mpy": new Uint8Array([0x4d, 6, 0, 31]),
      "weather_station/logo.png": new Uint8Array([137, 80, 78, 71]),
      "weather_station/R.py": "R = {'logo.png': b'\\x89PNG'}\n",
    },
  });
  await writeRecordedPackage(image, { name: "tool", version: "1.0", files: { "tool.py": "def main():\n    pass\n" } });
  await writeFile(path.join(image, "compiled_only.mpy"), new Uint8Array([0x4d, 6, 0, 31]));
  await writeFile(path.join(image, "both.py"), "B = 1\n");
  await writeFile(path.join(image, "both.mpy"), new Uint8Array([0x4d, 6, 0, 31]));
  await writeFile(path.join(image, "it's \\ odd\n name.py"), "O = 1\n");
  await writeFile(path.join(image, "caf\u00e9.py"), "E = 1\n");
  await mkdir(path.join(image, "weather_station", "__pycache__"));
  await writeFile(path.join(image, "weather_station", "__pycache__", "units.cpython-311.pyc"), "");
  await writeFile(path.join(image, "README.txt"), "not a module\n");
});
after(() => work.cleanup());

const EXPECTED = [
  "weather_station/__init__.py",
  "weather_station/units.py",
  "weather_station/drivers/__init__.py",
  "weather_station/drivers/bme.mpy",
  "weather_station/R.py",
  "tool.py",
  "compiled_only.mpy",
  "both.py",
  "it's \\ odd\n name.py",
  "caf\u00e9.py",
].sort();

describe("mpip manifest", () => {
  test("manifest.py names every module of the image, from the image, as MicroPython evaluates it", async () => {
    const output = path.join(work.dir, "manifest.py");
    const run = await runMpip(["manifest", "-p", image, "-o", output, "--include", "$(PORT_DIR)/boards/manifest.py"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^Wrote `.*manifest\.py`: 1 package, 5 modules$/m);
    assert.match(run.stderr, /not frozen: weather_station\/logo\.png \(not a \.py or \.mpy file/);
    assert.match(run.stderr, /not frozen: both\.mpy \(the \.py beside it is what MicroPython imports/);
    const text = await readFile(output, "utf8");
    const result = await runMicroPython(`MANIFEST = '/m/manifest.py'\n${STAND_INS}`, { files: { "/m/manifest.py": text } });
    assert.equal(result.error, undefined, result.error);
    const calls = JSON.parse(result.stdout) as Call[];
    assert.deepEqual(calls[0], ["include", "$(PORT_DIR)/boards/manifest.py"]);
    const frozen = frozenBy(calls);
    assert.deepEqual([...frozen.values()].sort(), EXPECTED);
    for (const [file, name] of frozen) assert.equal(file, path.join(image, name));
    for (const call of calls) if (call[0] === "module") assert.ok(!call[1].includes("/"));
  });

  test("-o into a folder that does not exist yet creates it, as lock -o does", async () => {
    const output = path.join(work.dir, "build", "firmware", "manifest.py");
    const run = await runMpip(["manifest", "-p", image, "-o", output]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(await readFile(output, "utf8"), /^package\(/m);
  });

  test("python3 reads the same calls", { skip: PYTHON === undefined ? "python3 is not installed" : false }, async () => {
    const run = await runMpip(["manifest", "-p", image]);
    assert.equal(run.code, 0, run.stderr);
    const manifest = path.join(work.dir, "stdout-manifest.py");
    await writeFile(manifest, run.stdout);
    const python = spawnSync(PYTHON!, ["-c", `MANIFEST = ${JSON.stringify(manifest)}\n${STAND_INS}`], { encoding: "utf8", env: { ...process.env, PYTHONIOENCODING: "utf-8" } });
    assert.equal(python.status, 0, python.stderr);
    assert.deepEqual([...frozenBy(JSON.parse(python.stdout) as Call[]).values()].sort(), EXPECTED);
  });

  test("--include of a local board manifest is written absolute; one that is not there is bad usage (exit 2)", async () => {
    const board = path.join(work.dir, "board-manifest.py");
    await writeFile(board, "");
    const run = await runMpip(["manifest", "-p", image, "--include", "board-manifest.py"], { cwd: work.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^include\\('${board.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}'\\)$`, "m"));
    const missing = await runMpip(["manifest", "-p", image, "--include", "no-such-manifest.py"], { cwd: work.dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /`no-such-manifest\.py` \(given with --include\): there is nothing at that path/);
  });

  test("a link (to a folder or a file) is left out as a link, not blamed as a data file", async () => {
    const linked = path.join(work.dir, "linked");
    await mkdir(path.join(linked, "pkg"), { recursive: true });
    await writeFile(path.join(linked, "pkg", "a.py"), "A = 1\n");
    await symlink(path.join(linked, "pkg"), path.join(linked, "elsewhere"));
    await symlink(path.join(linked, "pkg", "a.py"), path.join(linked, "pkg", "b.py"));
    const run = await runMpip(["manifest", "-p", linked]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /not frozen: elsewhere \(a symbolic link\)/);
    assert.match(run.stderr, /not frozen: pkg\/b\.py \(a symbolic link\)/);
    assert.doesNotMatch(run.stderr, /elsewhere \(not a \.py/);
  });

  test("an image with nothing to freeze gives a manifest that freezes nothing", async () => {
    const empty = path.join(work.dir, "empty");
    await mkdir(empty);
    const run = await runMpip(["manifest", "-p", empty]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /the target holds nothing to freeze/);
    const result = await runMicroPython(`MANIFEST = '/m/manifest.py'\n${STAND_INS}`, { files: { "/m/manifest.py": run.stdout } });
    assert.equal(result.stdout.trim(), "[]");
  });
});
