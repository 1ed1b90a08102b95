// Extras and requirements whose marker does not hold on MicroPython are not runtime dependencies on a
// device: `mpip pack` leaves them out of requires.txt (PKG-INFO keeps them as core metadata), and
// `mpip check` passes what `mpip pack` writes. Built CLI on projects written by the test, plus
// checkArchive on archives built in the test.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { checkArchive } from "../../src/pack/check.js";
import { writeSdist } from "../../src/pack/writer.js";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => {
  work = await tempDir("mpip-pack-extras-");
});
after(() => work.cleanup());

async function writeProject(files: Record<string, string>): Promise<string> {
  const dir = path.join(work.dir, `project-${++counter}`);
  await writeTree(dir, files);
  return dir;
}

/** Member names and texts of a plain ustar archive, as mpip writes them. */
function members(archive: Buffer): Map<string, string> {
  const tar = gunzipSync(archive);
  const out = new Map<string, string>();
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const size = parseInt(tar.toString("latin1", at + 124, at + 135), 8);
    const name = tar.toString("utf8", at, at + 100).replace(/\0+$/, "");
    out.set(name.slice(name.indexOf("/") + 1), tar.toString("utf8", at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe("pack and check agree on extras", () => {
  const cases: Array<{ what: string; files: Record<string, string>; requires: string | undefined }> = [
    {
      what: "pyproject.toml with only optional-dependencies",
      files: { "pyproject.toml": '[project]\nname = "lamp"\nversion = "1.0"\n[project.optional-dependencies]\ndocs = ["sphinx>=7"]\ntest = ["pytest"]\n', "lamp.py": "" },
      requires: undefined,
    },
    {
      what: "setup.cfg with only extras_require",
      files: { "setup.cfg": "[metadata]\nname = relay\nversion = 2.0\n[options.extras_require]\nplot =\n    matplotlib\n", "relay.py": "" },
      requires: undefined,
    },
    {
      what: "a dependency for CPython only",
      files: { "pyproject.toml": '[project]\nname = "servo"\nversion = "1.0"\ndependencies = ["hostlib; implementation_name == \'cpython\'"]\n', "servo.py": "" },
      requires: undefined,
    },
    {
      what: "runtime dependencies beside extras",
      files: { "pyproject.toml": '[project]\nname = "meter"\nversion = "1.0"\ndependencies = ["micropython-logging"]\n[project.optional-dependencies]\nextra-tools = ["rich"]\n', "meter.py": "" },
      requires: "micropython-logging\n",
    },
  ];
  for (const { what, files, requires } of cases) {
    test(`${what}: requires.txt holds only runtime dependencies, and check passes pack's output`, async () => {
      const dir = await writeProject(files);
      const packed = await runMpip(["pack", dir, "--json"], { env: { SOURCE_DATE_EPOCH: undefined } });
      assert.equal(packed.code, 0, packed.stderr);
      const report = JSON.parse(packed.stdout) as { path: string; name: string };
      const contents = members(await readFile(report.path));
      const egg = `${report.name}.egg-info`;
      assert.equal(contents.get(`${egg}/requires.txt`), requires);
      assert.doesNotMatch(contents.get(`${egg}/requires.txt`) ?? "", /extra|\[/);
      const checked = await runMpip(["check", report.path]);
      assert.equal(checked.code, 0, checked.stdout + checked.stderr);
      assert.match(checked.stdout, /PASS dependencies/);
    });
  }
  test("PKG-INFO keeps the extras as core metadata", async () => {
    const dir = await writeProject(cases[0]!.files);
    const packed = await runMpip(["pack", dir, "--json"], { env: { SOURCE_DATE_EPOCH: undefined } });
    const pkgInfo = members(await readFile((JSON.parse(packed.stdout) as { path: string }).path)).get("lamp.egg-info/PKG-INFO")!;
    assert.match(pkgInfo, /^Provides-Extra: docs\nRequires-Dist: sphinx>=7; extra == "docs"$/m);
  });
});

describe("checkArchive: dependencies that are not runtime ones", () => {
  const archive = (requiresDist: string[]) =>
    writeSdist([
      { path: "x-1.0/x.py", data: Buffer.from("") },
      { path: "x-1.0/x.egg-info/PKG-INFO", data: Buffer.from(`Metadata-Version: 2.1\nName: x\nVersion: 1.0\n${requiresDist.map((line) => `Requires-Dist: ${line}\n`).join("")}`) },
    ]);
  const status = (requiresDist: string[]) => checkArchive(archive(requiresDist), "x-1.0.tar.gz").checks.find((check) => check.id === "dependencies")!;

  test("Requires-Dist only for extras or other platforms passes, naming them", () => {
    for (const lines of [['docs-tool; extra == "docs"'], ["winlib; sys_platform == 'win32'"], ['a; extra == "x"', "b; python_version < '3'"]]) {
      const dependencies = status(lines);
      assert.equal(dependencies.status, "pass", lines.join(", "));
      assert.match(dependencies.message, /no runtime dependencies/);
      assert.deepEqual(dependencies.details, lines.map((line) => `Requires-Dist: ${line}`));
    }
  });

  test("a runtime Requires-Dist without requires.txt still fails, listing only the runtime ones", () => {
    const dependencies = status(["needed>=1", 'docs-tool; extra == "docs"']);
    assert.equal(dependencies.status, "fail");
    assert.deepEqual(dependencies.details, ["Requires-Dist: needed>=1"]);
  });
});
