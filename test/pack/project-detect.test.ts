// A folder is a Python project when its pyproject.toml has a `[project]` table or its setup.cfg a
// `[metadata] name`; a file that only configures tools makes no project, so a folder with a package.json
// and such a file installs as the mip package it is. Unit tests on declaresProjectMetadata, then the
// built CLI installing and packing folders written by the test.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { declaresProjectMetadata } from "../../src/pack/project-detect.js";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-detect-");
});
after(() => work.cleanup());

async function writeFolder(files: Record<string, string>): Promise<string> {
  const dir = path.join(work.dir, `folder-${++counter}`);
  await writeTree(dir, files);
  return dir;
}

const MIP_PACKAGE = {
  "package.json": JSON.stringify({ urls: [["glow/__init__.py", "glow/__init__.py"], ["glow/fx.py", "glow/fx.py"]], version: "0.4" }),
  "glow/__init__.py": "from .fx import pulse\n",
  "glow/fx.py": "def pulse():\n    return 1\n",
};
const TOOL_ONLY: Array<[string, Record<string, string>]> = [
  ["pyproject.toml with only [tool.black]", { "pyproject.toml": "[tool.black]\nline-length = 99\n" }],
  ["pyproject.toml with [tool.ruff] and [tool.pytest.ini_options]", { "pyproject.toml": '[tool.ruff]\nselect = ["E"]\n\n[tool.pytest.ini_options]\naddopts = "-q"\n' }],
  ["setup.cfg with only [flake8]", { "setup.cfg": "[flake8]\nmax-line-length = 99\nexclude = .git\n" }],
  ["both: pyproject.toml [tool.isort], setup.cfg [tool:pytest] and an empty [metadata]", { "pyproject.toml": '[tool.isort]\nprofile = "black"\n', "setup.cfg": "[metadata]\nlicense_files = LICENSE\n\n[tool:pytest]\ntestpaths = tests\n" }],
];

describe("what makes a folder a project", () => {
  test("files with no project metadata do not; a [project] table or a [metadata] name does; an unreadable one does", async () => {
    for (const [what, files] of TOOL_ONLY) assert.equal(declaresProjectMetadata(await writeFolder(files)), false, what);
    assert.equal(declaresProjectMetadata(await writeFolder({ "pyproject.toml": '[project]\nname = "x"\nversion = "1"\n' })), true);
    assert.equal(declaresProjectMetadata(await writeFolder({ "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n', "setup.cfg": "[metadata]\nname = x\n" })), true);
    assert.equal(declaresProjectMetadata(await writeFolder({ "pyproject.toml": "[tool.black\n" })), true, "invalid TOML is reported by pack, not ignored");
    assert.equal(declaresProjectMetadata(await writeFolder({ "setup.py": "from setuptools import setup\n" })), false);
  });

  for (const [what, files] of TOOL_ONLY) {
    test(`a package.json folder with a ${what} installs from its package.json`, async () => {
      const dir = await writeFolder({ ...MIP_PACKAGE, ...files });
      const target = path.join(dir, "..", `target-${counter}`);
      const run = await runMpip(["install", "--no-index", "-p", target, dir]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual((await listFiles(target)).filter((file) => !file.includes(".dist-info")), ["glow/__init__.py", "glow/fx.py"]);
    });
  }

  test("a package.json folder whose pyproject.toml has a [project] table is still packed as a project", async () => {
    const dir = await writeFolder({ ...MIP_PACKAGE, "pyproject.toml": '[project]\nname = "glow-project"\nversion = "0.5"\n' });
    const target = path.join(work.dir, "target-project");
    const run = await runMpip(["install", "--no-index", "-p", target, dir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /glow-project==0\.5/, "installed under the name and version of its [project] table");
  });

  test("mpip pack on a mip package with a tools-only pyproject.toml says package.json serves install", async () => {
    const dir = await writeFolder({ ...MIP_PACKAGE, ...TOOL_ONLY[0]![1] });
    const run = await runMpip(["pack", dir]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /is not a Python project: `pyproject\.toml` has no `\[project\]` table/);
    assert.match(run.stderr, /the folder holds a `package\.json`, a mip package: `mpip install` installs it from that as it is/);
  });

  test("a pyproject.toml or setup.cfg that is a link to a device, or a FIFO, is never read: install and pack fail at once, nothing written", { timeout: 120_000 }, async () => {
    const cases: Array<[string, (dir: string) => Promise<void>]> = [
      ["pyproject.toml", (dir) => symlink("/dev/zero", path.join(dir, "pyproject.toml"))],
      ["setup.cfg", (dir) => symlink("/dev/zero", path.join(dir, "setup.cfg"))],
      ["setup.cfg", async (dir) => void execFileSync("mkfifo", [path.join(dir, "setup.cfg")])],
    ];
    for (const [index, [name, make]] of cases.entries()) {
      const dir = await writeFolder(MIP_PACKAGE);
      await make(dir);
      assert.equal(declaresProjectMetadata(dir), true, "counts as declaring a project, so that readProject names the file");
      const target = path.join(work.dir, `target-device-${index}`);
      for (const args of [["install", "--no-index", "-p", target, dir], ["pack", "-o", path.join(work.dir, `out-device-${index}`), dir]]) {
        const run = await runMpip(args);
        assert.equal(run.code, 1, `${args[0]} ${name}: ${run.stderr}`);
        assert.match(run.stderr, new RegExp(`\`[^\`]*${name.replace(".", "\\.")}\` is not a regular file`), run.stderr);
        assert.doesNotMatch(run.stderr, /This is a bug|bad_alloc|Invalid string length/);
      }
      assert.deepEqual(await listFiles(target).catch(() => []), []);
    }
  });

  test("a file the metadata names (readme, dependencies file, version attr module) that is a device, a FIFO or huge is never read whole", { timeout: 120_000 }, async () => {
    const project = (dynamic: string, extra: string) => `[project]\nname = "glowpack"\ndynamic = [${dynamic}]\n${extra}\n[tool.setuptools.dynamic]\n`;
    const cases: Array<[string, string, string, (dir: string) => Promise<void>]> = [
      ["readme", project('"readme"', 'version = "1.0"'), 'readme = {file = ["README.md"]}\n', (dir) => symlink("/dev/zero", path.join(dir, "README.md"))],
      ["dependencies", project('"dependencies"', 'version = "1.0"'), 'dependencies = {file = ["requirements.txt"]}\n', async (dir) => void execFileSync("mkfifo", [path.join(dir, "requirements.txt")])],
      ["version", project('"version"', ""), 'version = {attr = "glowpack.__version__"}\n', async (dir) => { await mkdir(path.join(dir, "glowpack"), { recursive: true }); await symlink("/dev/zero", path.join(dir, "glowpack", "__init__.py")); }],
      ["huge readme", project('"readme"', 'version = "1.0"'), 'readme = {file = ["README.md"]}\n', (dir) => writeFile(path.join(dir, "README.md"), Buffer.alloc(2 * 1024 * 1024, 0x61))],
    ];
    for (const [index, [label, head, dynamic, make]] of cases.entries()) {
      const dir = await writeFolder({ "pyproject.toml": head + dynamic, ...(label === "version" ? {} : { "glowpack.py": "X = 1\n" }) });
      await make(dir);
      const out = path.join(work.dir, `out-named-${index}`);
      const run = await runMpip(["pack", "-o", out, dir]);
      assert.equal(run.code, 1, `${label}: ${run.stderr}`);
      assert.match(run.stderr, /not a regular file|cannot be read as a module|more than the \d+ mpip reads/, `${label}: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /This is a bug|bad_alloc|Invalid string length/);
      assert.deepEqual(await listFiles(out).catch(() => []), [], label);
    }
  });
});
