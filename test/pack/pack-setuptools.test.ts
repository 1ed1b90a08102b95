// `mpip pack` honours what setuptools reads from pyproject.toml without running code: fields listed in
// `dynamic` filled by `[tool.setuptools.dynamic]` from files (or a literal `attr:` version), and
// `[tool.setuptools]` packages / py-modules / package-dir / packages.find. Hints show an example that fits
// the field they are about. Built CLI on projects written by the test.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-pack-setuptools-");
});
after(() => work.cleanup());

async function writeProject(files: Record<string, string>): Promise<string> {
  const dir = path.join(work.dir, `project-${++counter}`);
  await writeTree(dir, files);
  return dir;
}

interface Packed {
  name: string;
  version: string;
  files: string[];
  contents: Map<string, string>;
}

async function pack(files: Record<string, string>): Promise<Packed> {
  const dir = await writeProject(files);
  const run = await runMpip(["pack", dir, "--json"], { env: { SOURCE_DATE_EPOCH: undefined } });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const report = JSON.parse(run.stdout) as { name: string; version: string; files: string[]; path: string };
  const tar = gunzipSync(await readFile(report.path));
  const contents = new Map<string, string>();
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const size = parseInt(tar.toString("latin1", at + 124, at + 135), 8);
    const name = tar.toString("utf8", at, at + 100).replace(/\0+$/, "");
    contents.set(name.slice(name.indexOf("/") + 1), tar.toString("utf8", at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return { ...report, contents };
}

async function packFails(files: Record<string, string>): Promise<string> {
  const run = await runMpip(["pack", await writeProject(files)]);
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.doesNotMatch(run.stderr, /bug/);
  return run.stderr;
}

const project = (extra: string) => `[project]\nname = "micropython-beacon"\n${extra}`;

describe("pack: [tool.setuptools.dynamic]", () => {
  test("dependencies from requirements files (one or several, comments and blank lines skipped) go to requires.txt", async () => {
    for (const [file, expected] of [
      ['{file = ["requirements.txt"]}', "micropython-logging>=0.5\nmicropython-time\n"],
      ['{file = "requirements.txt"}', "micropython-logging>=0.5\nmicropython-time\n"],
      ['{file = ["requirements.txt", "requirements-device.txt"]}', "micropython-logging>=0.5\nmicropython-time\nmicropython-umqtt.simple==1.3.4\n"],
    ] as const) {
      const packed = await pack({
        "pyproject.toml": project(`version = "1.2"\ndynamic = ["dependencies"]\n\n[tool.setuptools.dynamic]\ndependencies = ${file}\n`),
        "requirements.txt": "# what the device needs\nmicropython-logging >= 0.5\n\nmicropython-time  # clocks\n",
        "requirements-device.txt": "micropython-umqtt.simple==1.3.4\n",
        "beacon.py": "",
      });
      assert.equal(packed.contents.get("micropython_beacon.egg-info/requires.txt"), expected, file);
      assert.match(packed.contents.get("micropython_beacon.egg-info/PKG-INFO")!, /^Requires-Dist: micropython-logging>=0\.5$/m);
    }
  });

  test("the version from a literal attr (flat or src layout) or from a file", async () => {
    const flat = await pack({ "pyproject.toml": project('dynamic = ["version"]\n[tool.setuptools.dynamic]\nversion = {attr = "beacon.__version__"}\n'), "beacon/__init__.py": '__version__ = "0.7.1"\n' });
    assert.equal(flat.version, "0.7.1");
    const src = await pack({ "pyproject.toml": project('dynamic = ["version"]\n[tool.setuptools.dynamic]\nversion = {attr = "beacon.meta.VERSION"}\n'), "src/beacon/__init__.py": "", "src/beacon/meta.py": "VERSION = '2.0rc1'\n" });
    assert.equal(src.version, "2.0rc1");
    assert.ok(src.files.includes("beacon/meta.py"));
    const file = await pack({ "pyproject.toml": project('dynamic = ["version", "readme"]\n[tool.setuptools.dynamic]\nversion = {file = "VERSION"}\nreadme = {file = ["README.md"]}\n'), VERSION: "3.1\n", "README.md": "# Beacon\n", "beacon.py": "" });
    assert.equal(file.version, "3.1");
    assert.match(file.contents.get("micropython_beacon.egg-info/PKG-INFO")!, /Description-Content-Type: text\/markdown\n\n# Beacon\n$/);
  });

  test("optional-dependencies from files go to PKG-INFO as extras, never to requires.txt", async () => {
    const packed = await pack({
      "pyproject.toml": project('version = "1"\ndependencies = ["micropython-logging"]\ndynamic = ["optional-dependencies"]\n[tool.setuptools.dynamic.optional-dependencies]\ndocs = {file = ["docs/requirements.txt"]}\n'),
      "docs/requirements.txt": "sphinx>=7\n",
      "beacon.py": "",
    });
    assert.equal(packed.contents.get("micropython_beacon.egg-info/requires.txt"), "micropython-logging\n");
    assert.match(packed.contents.get("micropython_beacon.egg-info/PKG-INFO")!, /^Provides-Extra: docs\nRequires-Dist: sphinx>=7; extra == "docs"$/m);
  });
});

describe("pack: [tool.setuptools] packages, py-modules, package-dir", () => {
  const sources = { "beacon/__init__.py": "", "beacon/data/tone.bin": "t", "beacon/drivers/__init__.py": "", "sandbox/__init__.py": "", "single.py": "", "other.py": "" };
  const packed = (files: string[]) => files.filter((file) => !file.includes(".egg-info")).sort();

  test("a list of packages, or py-modules, is what gets packed", async () => {
    const listed = await pack({ "pyproject.toml": project('version = "1"\n[tool.setuptools]\npackages = ["beacon", "beacon.drivers"]\n'), ...sources });
    assert.deepEqual(packed(listed.files), ["beacon/R.py", "beacon/__init__.py", "beacon/data/tone.bin", "beacon/drivers/__init__.py"]);
    const modules = await pack({ "pyproject.toml": project('version = "1"\n[tool.setuptools]\npy-modules = ["single"]\n'), ...sources });
    assert.deepEqual(packed(modules.files), ["single.py"]);
  });

  test("packages.find with where and include, and package-dir, choose the folder and the packages", async () => {
    const lib = Object.fromEntries(Object.entries(sources).map(([file, body]) => [`lib/${file}`, body]));
    const find = await pack({ "pyproject.toml": project('version = "1"\n[tool.setuptools.packages.find]\nwhere = ["lib"]\ninclude = ["beacon*"]\n'), ...lib });
    assert.deepEqual(packed(find.files), ["beacon/R.py", "beacon/__init__.py", "beacon/data/tone.bin", "beacon/drivers/__init__.py"]);
    const dirMap = await pack({ "pyproject.toml": project('version = "1"\n[tool.setuptools]\npackage-dir = {"" = "lib"}\npackages = ["sandbox"]\n'), ...lib });
    assert.deepEqual(packed(dirMap.files), ["sandbox/__init__.py"]);
    const cfg = await pack({ "setup.cfg": "[metadata]\nname = micropython-beacon\nversion = 1\n[options]\npackages = find:\n[options.packages.find]\ninclude = sandbox*\n", ...sources });
    assert.deepEqual(packed(cfg.files), ["sandbox/__init__.py"]);
  });

  test("[tool.mpip] still overrides [tool.setuptools]", async () => {
    const both = await pack({ "pyproject.toml": project('version = "1"\n[tool.setuptools]\npackages = ["beacon"]\n[tool.mpip]\nmodules = ["other"]\npackages = []\n'), ...sources });
    assert.deepEqual(packed(both.files), ["other.py"]);
  });
});

describe("pack: hints fit the field", () => {
  test("a dynamic field mpip cannot read shows that field's own forms", async () => {
    const dependencies = await packFails({ "pyproject.toml": project('version = "1"\ndynamic = ["dependencies"]\n'), "beacon.py": "" });
    assert.match(dependencies, /`project\.dynamic` lists `dependencies`: mpip never runs a build backend/);
    assert.match(dependencies, /hint: write `dependencies` in `\[project\]` itself[^\n]*`dependencies = \["micropython-logging"\]`[\s\S]*`dependencies = \{file = \["requirements\.txt"\]\}`/);
    assert.doesNotMatch(dependencies, /version = /);
    const extras = await packFails({ "pyproject.toml": project('version = "1"\ndynamic = ["optional-dependencies"]\n'), "beacon.py": "" });
    assert.match(extras, /hint: write them in `\[project\.optional-dependencies\]`[^\n]*`docs = \["sphinx"\]`/);
    assert.doesNotMatch(extras, /version = /);
    const version = await packFails({ "pyproject.toml": project('dynamic = ["version"]\n'), "beacon.py": "" });
    assert.match(version, /hint: write `version` in `\[project\]` itself[^\n]*`version = "1\.0\.0"`[\s\S]*\{attr = "mylib\.__version__"\}/);
    const name = await packFails({ "pyproject.toml": '[project]\nversion = "1"\ndynamic = ["name"]\n', "beacon.py": "" });
    assert.match(name, /hint: write `name` in `\[project\]`[^\n]*`name = "micropython-mylib"`/);
  });

  test("an extra with a bad name is shown an extra's name; a field both static and dynamic and a pip option in a requirements file are errors naming them", async () => {
    const extra = await packFails({ "pyproject.toml": project('version = "1"\n[project.optional-dependencies]\n"docs tools" = ["sphinx"]\n'), "beacon.py": "" });
    assert.match(extra, /`project\.optional-dependencies\.docs tools` is `docs tools`, which is not a valid extra name[\s\S]*hint: [^\n]*e\.g\. `docs`/);
    assert.doesNotMatch(extra, /micropython-foo/);
    const both = await packFails({ "pyproject.toml": project('version = "1"\ndependencies = []\ndynamic = ["dependencies"]\n[tool.setuptools.dynamic]\ndependencies = {file = "requirements.txt"}\n'), "requirements.txt": "", "beacon.py": "" });
    assert.match(both, /`project\.dynamic` lists `dependencies`, which `\[project\]` also sets/);
    const option = await packFails({ "pyproject.toml": project('version = "1"\ndynamic = ["dependencies"]\n[tool.setuptools.dynamic]\ndependencies = {file = "requirements.txt"}\n'), "requirements.txt": "micropython-time\n-r more.txt\n", "beacon.py": "" });
    assert.match(option, /`requirements\.txt` line 2 \(read for `tool\.setuptools\.dynamic\.dependencies` in `pyproject\.toml`\) is the pip option `-r more\.txt`/);
    const invalid = await packFails({ "pyproject.toml": project('version = "1"\ndynamic = ["dependencies"]\n[tool.setuptools.dynamic]\ndependencies = {file = "requirements.txt"}\n'), "requirements.txt": "ok-lib\nbad lib!\n", "beacon.py": "" });
    assert.match(invalid, /`requirements\.txt`: `line 2` has an invalid requirement/);
  });
});
