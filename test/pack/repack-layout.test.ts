// `mpip repack` decides what is a package the way the distribution does: from `top_level.txt` when the
// egg-info has it, else by finding importable packages and modules as `mpip pack` does, leaving out docs,
// examples and tests. Every file inside a kept package's tree stays (namespace packages and deeper
// folders too), and what is dropped is said. Unit tests on planRepack, then the built CLI end to end.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { planRepack } from "../../src/pack/repack.js";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { modernSdist } from "./modern-sdist.js";

const PKG_INFO = (name: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`;

/** An sdist with a top-level PKG-INFO and these files, planned for repacking. */
function plan(name: string, files: Record<string, string>) {
  return planRepack({
    top: `${name}-1.0`,
    files: [["PKG-INFO", PKG_INFO(name)], ...Object.entries(files)].map(([file, text]) => ({ path: file!, data: Buffer.from(text!) })),
    maxDistance: 0,
  });
}
const kept = (result: ReturnType<typeof plan>) => result.files.map((file) => file.path.slice(file.path.indexOf("/") + 1)).sort();
const ruleOf = (result: ReturnType<typeof plan>, file: string) => result.dropped.find((entry) => entry.path === file)?.rule;

describe("repack: which folders are packages", () => {
  test("a data file in a namespace package, or in a deeper folder of one, is kept and goes into R.py", () => {
    for (const [name, files, dataFile, rPy, key] of [
      ["nsp_dist", { "nsp/sub/mod.py": "X = 1\n", "nsp/sub/res.bin": "\x00\x01" }, "nsp/sub/res.bin", "nsp/R.py", "sub/res.bin"],
      ["deep_dist", { "lights/core/strip/driver.py": "", "lights/core/strip/palette/warm.json": "{}" }, "lights/core/strip/palette/warm.json", "lights/R.py", "core/strip/palette/warm.json"],
      ["mixed_dist", { "board/__init__.py": "", "board/pins/table.csv": "a,b\n", "board/pins/extra/more.txt": "m" }, "board/pins/extra/more.txt", "board/R.py", "pins/extra/more.txt"],
    ] as const) {
      const result = plan(name, files);
      assert.ok(kept(result).includes(dataFile), `${name}: ${dataFile} kept`);
      assert.deepEqual(result.dropped.filter((entry) => entry.path.endsWith(".py")), [], name);
      const r = result.files.find((file) => file.path === `${name}-1.0/${rPy}`);
      assert.ok(r, `${name}: ${rPy} generated`);
      assert.match(Buffer.from(r.data).toString("utf8"), new RegExp(`'${key.replace(/\./g, "\\.")}': b'`));
    }
  });

  test("docs (with conf.py), examples, tests and other non-packages are dropped, and no docs/R.py is made", () => {
    const result = plan("sensor", {
      "sensor/__init__.py": "",
      "sensor/data/cal.bin": "c",
      "docs/conf.py": "project = 'x'\n",
      "docs/index.rst": "Docs\n",
      "examples/demo.py": "import sensor\n",
      "examples/wiring.png": "png",
      "tests/test_sensor.py": "",
      "tests/fixtures/sample.bin": "s",
      "conftest.py": "",
      "noxfile.py": "",
      "main.py": "import sensor\n",
      "helper.py": "H = 1\n",
      "assets/logo.png": "png",
      "setup.py": "",
    });
    assert.deepEqual(kept(result), ["helper.py", "sensor.egg-info/PKG-INFO", "sensor/R.py", "sensor/__init__.py", "sensor/data/cal.bin"]);
    for (const file of ["docs/conf.py", "docs/index.rst", "examples/demo.py", "examples/wiring.png", "tests/test_sensor.py", "tests/fixtures/sample.bin", "conftest.py", "noxfile.py", "main.py", "assets/logo.png"]) {
      assert.equal(ruleOf(result, file), "not a package or module", file);
    }
    assert.equal(ruleOf(result, "setup.py"), "setup.py");
    assert.deepEqual(result.generated.filter((file) => file.endsWith("R.py")), ["sensor/R.py"]);
    assert.deepEqual(result.layout, { packages: ["sensor"], modules: ["helper.py"], missing: [] });
  });

  test("top_level.txt decides: a listed name is kept even where discovery would leave it out; an unlisted folder is dropped", () => {
    const result = plan("kit", {
      "kit.egg-info/PKG-INFO": PKG_INFO("kit"),
      "kit.egg-info/top_level.txt": "tools\nkit_compat\nghost\n",
      "tools/__init__.py": "",
      "tools/table.dat": "t",
      "kit_compat.py": "",
      "scratch/__init__.py": "",
      "scratch/notes.txt": "n",
      "other.py": "",
    });
    assert.deepEqual(kept(result), ["kit.egg-info/PKG-INFO", "kit_compat.py", "tools/R.py", "tools/__init__.py", "tools/table.dat"]);
    assert.equal(ruleOf(result, "scratch/__init__.py"), "not a package or module");
    assert.equal(ruleOf(result, "other.py"), "not a package or module");
    assert.equal(ruleOf(result, "kit.egg-info/top_level.txt"), "other egg-info file");
    assert.deepEqual(result.layout, { packages: ["tools"], modules: ["kit_compat.py"], from: "kit.egg-info/top_level.txt", missing: ["ghost"] });
    assert.ok(result.warnings.some((warning) => /`kit\.egg-info\/top_level\.txt` lists `ghost`, which the sdist does not hold/.test(warning)), result.warnings.join("\n"));
  });

  test("a top_level.txt naming nothing the sdist holds falls back to the files, with a warning", () => {
    const result = plan("stale", { "stale.egg-info/top_level.txt": "gone\n", "fresh/__init__.py": "", "fresh/x.txt": "x" });
    assert.deepEqual(result.layout.packages, ["fresh"]);
    assert.equal(result.layout.from, undefined);
    assert.ok(result.warnings.some((warning) => /holds none of its names/.test(warning)));
  });

  test("a src layout keeps its packages' data, with R.py in the package; caches and hidden files are dropped", () => {
    const result = plan("srcy", {
      "src/srcy.egg-info/top_level.txt": "srcy\n",
      "src/srcy/__init__.py": "",
      "src/srcy/fonts/small.bin": "f",
      "src/srcy/__pycache__/x.cpython-312.pyc": "c",
      "src/srcy/.gitignore": "*",
      "tests/test_srcy.py": "",
    });
    assert.deepEqual(kept(result), ["src/srcy/R.py", "src/srcy/__init__.py", "src/srcy/fonts/small.bin", "srcy.egg-info/PKG-INFO"]);
    assert.equal(ruleOf(result, "src/srcy/__pycache__/x.cpython-312.pyc"), "cache or hidden file");
    assert.equal(ruleOf(result, "src/srcy/.gitignore"), "cache or hidden file");
    assert.ok(result.warnings.some((warning) => /`src\/` layout/.test(warning)));
  });
});

describe("mpip repack (CLI): packages", () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    work = await tempDir();
  });
  after(() => work.cleanup());

  test("a namespace package's resource installs; docs/ and examples/ are listed as dropped; the output passes check", async () => {
    const input = path.join(work.dir, "in", "nsdist-1.0.tar.gz");
    await mkdir(path.dirname(input), { recursive: true });
    await writeFile(
      input,
      modernSdist({
        name: "nsdist",
        version: "1.0",
        requiresDist: [],
        files: { "nsp/sub/mod.py": "def value():\n    return 7\n", "nsp/sub/res.bin": "RES", "docs/conf.py": "", "docs/index.md": "# d\n", "examples/blink.py": "", "README.md": "# r\n" },
      }),
    );
    const out = path.join(work.dir, "out");
    const run = await runMpip(["repack", input, "-o", out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr + run.stdout, /kept packages `nsp` \(found from the files; docs, tests and examples left out\)/);
    for (const file of ["docs/conf.py", "docs/index.md", "examples/blink.py"]) assert.match(run.stderr + run.stdout, new RegExp(`- ${file.replace(/\./g, "\\.")} \\(not a package or module\\)`));
    assert.match(run.stderr + run.stdout, /\+ nsp\/R\.py \(generated\)/);
    const checked = await runMpip(["check", path.join(out, "nsdist-1.0.tar.gz")]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    const target = path.join(work.dir, "target");
    const installed = await runMpip(["install", "--no-index", "-f", out, "-p", target, "nsdist"]);
    assert.equal(installed.code, 0, installed.stderr);
    const files = await listFiles(target);
    assert.ok(files.includes("nsp/sub/res.bin") && files.includes("nsp/R.py") && files.includes("nsp/sub/mod.py"), files.join(", "));
    assert.ok(!files.some((file) => file.startsWith("docs/") || file.startsWith("examples/")), files.join(", "));
  });
});
