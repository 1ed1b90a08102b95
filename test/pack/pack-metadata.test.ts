// Unit tests of `mpip pack`'s parts: the setup.cfg reader (configparser's rules), the include/exclude
// globs, the egg-info text, and which files a setup.cfg layout selects.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, test } from "node:test";
import { eggInfoName, renderPkgInfo, renderRequiresTxt, upipUnreadable } from "../../src/pack/egg-info-text.js";
import { compileGlobs } from "../../src/pack/glob.js";
import { parseDict, parseIni, parseList } from "../../src/pack/ini.js";
import type { ProjectMetadata } from "../../src/pack/metadata.js";
import { readProject } from "../../src/pack/project.js";
import { selectFiles } from "../../src/pack/select.js";
import { tempDir } from "../helpers/cli.js";

describe("setup.cfg reader", () => {
  test("sections, both separators, comments, continued values, dashed keys", () => {
    const ini = parseIni(
      [
        "# a comment",
        "[metadata]",
        "name = micropython-foo",
        "Long-Description: first",
        "  second",
        "",
        "  third",
        "",
        "; another comment",
        "[options]",
        "install_requires =",
        "    a>=1",
        "    # not a requirement",
        "    b",
        "packages = find:",
      ].join("\r\n"),
    );
    assert.ok(ini instanceof Map);
    assert.deepEqual(Object.fromEntries(ini.get("metadata")!), { name: "micropython-foo", long_description: "first\nsecond\n\nthird" });
    assert.deepEqual(Object.fromEntries(ini.get("options")!), { install_requires: "a>=1\nb", packages: "find:" });
  });

  test("a line that is no section, key or continuation is reported with its number", () => {
    assert.deepEqual(parseIni("[metadata]\nname = x\n= y\n"), { line: 3, text: "= y" });
    assert.deepEqual(parseIni("name = x\n"), { line: 1, text: "name = x" });
  });

  test("setuptools' list and dict rules", () => {
    assert.deepEqual(parseList("a, b ,c"), ["a", "b", "c"]);
    assert.deepEqual(parseList("a; b", ";"), ["a", "b"]);
    assert.deepEqual(parseList("a, b\nc"), ["a, b", "c"]);
    assert.deepEqual(parseDict("=src"), [["", "src"]]);
    assert.deepEqual(parseDict("= src\npkg = lib/pkg"), [["", "src"], ["pkg", "lib/pkg"]]);
    assert.equal(parseDict("no equals"), "no equals");
  });
});

describe("include and exclude globs", () => {
  const cases: Array<[string, string, boolean]> = [
    ["mypkg/data/*.bin", "mypkg/data/a.bin", true],
    ["mypkg/data/*.bin", "mypkg/data/sub/a.bin", false],
    ["mypkg/**/*.bin", "mypkg/a.bin", true],
    ["mypkg/**/*.bin", "mypkg/x/y/a.bin", true],
    ["**/*.md", "README.md", true],
    ["**/*.md", "mypkg/docs/x.md", true],
    ["mypkg/tests", "mypkg/tests/test_a.py", true],
    ["mypkg/tests", "mypkg/tests_extra.py", false],
    ["tests*", "tests_more/a.py", true],
    ["config/?.json", "config/a.json", true],
    ["config/?.json", "config/ab.json", false],
    ["data/[ab].txt", "data/b.txt", true],
    ["data/[!ab].txt", "data/b.txt", false],
    ["data/[!ab].txt", "data/c.txt", true],
    ["a.b(c)+", "a.b(c)+", true],
    ["a.b", "axb", false],
  ];
  for (const [glob, file, expected] of cases) {
    test(`\`${glob}\` ${expected ? "matches" : "does not match"} \`${file}\``, () => {
      assert.equal(compileGlobs([glob])(file), expected);
    });
  }
  test("no globs match nothing", () => {
    assert.equal(compileGlobs([])("a.py"), false);
  });
});

describe("egg-info text", () => {
  const metadata: ProjectMetadata = {
    name: "micropython-foo.bar",
    version: "1.0",
    summary: "one\nline",
    description: { text: "# Title\r\n\r\nBody\n\n\n", contentType: "text/markdown" },
    license: "MIT\nsecond line",
    authors: [{ name: "Ada" }, { name: "Bob", email: "bob@example.com" }, { email: "c@example.com" }],
    maintainers: [],
    keywords: ["a", "b"],
    classifiers: ["Programming Language :: Python :: Implementation :: MicroPython"],
    urls: [["Source", "https://example.com/src"]],
    dependencies: ["micropython-logging", "micropython-os==0.1", "other>=1"],
    optionalDependencies: [["dev", ["x", "y; python_version < \"3\""]]],
  };

  test("PKG-INFO as setuptools writes it", () => {
    assert.equal(
      renderPkgInfo(metadata),
      [
        "Metadata-Version: 2.1",
        "Name: micropython-foo.bar",
        "Version: 1.0",
        "Summary: one line",
        "Author: Ada",
        "Author-email: Bob <bob@example.com>, c@example.com",
        "License: MIT",
        "        second line",
        "Project-URL: Source, https://example.com/src",
        "Keywords: a,b",
        "Classifier: Programming Language :: Python :: Implementation :: MicroPython",
        "Description-Content-Type: text/markdown",
        "Requires-Dist: micropython-logging",
        "Requires-Dist: micropython-os==0.1",
        "Requires-Dist: other>=1",
        "Provides-Extra: dev",
        'Requires-Dist: x; extra == "dev"',
        'Requires-Dist: y; (python_version < "3") and extra == "dev"',
        "",
        "# Title",
        "",
        "Body",
        "",
      ].join("\n"),
    );
  });

  test("requires.txt: the dependencies one a line, no extras; none when there are none", () => {
    assert.equal(renderRequiresTxt(metadata), "micropython-logging\nmicropython-os==0.1\nother>=1\n");
    assert.equal(renderRequiresTxt({ ...metadata, dependencies: [] }), undefined);
    assert.deepEqual(upipUnreadable(metadata), ["other>=1"]);
  });

  test("the egg-info folder is named as setuptools names it", () => {
    assert.equal(eggInfoName("micropython-foo.bar"), "micropython_foo.bar.egg-info");
    assert.equal(eggInfoName("a__b-_c"), "a_b_c.egg-info");
  });
});

describe("setup.cfg layouts", () => {
  test("`packages = find:` with `where` and `exclude`, py_modules, a static `attr:` version, [tool.mpip] beside it", async () => {
    const { dir, cleanup } = await tempDir("mpip-pack-cfg-");
    try {
      const files: Record<string, string> = {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n\n[tool.mpip]\nexclude = ["**/*.txt"]\n',
        "setup.cfg": [
          "[metadata]",
          "name = micropython-lib-layout",
          "version = attr: mypkg.__version__",
          "[options]",
          "packages = find:",
          "py_modules = solo",
          "[options.packages.find]",
          "where = lib",
          "exclude =",
          "    mypkg.tests",
        ].join("\n"),
        "lib/mypkg/__init__.py": '__version__ = "0.4.2"  # the version\n',
        "lib/mypkg/tests/__init__.py": "",
        "lib/mypkg/data/a.bin": "a",
        "lib/mypkg/data/notes.txt": "n",
        "lib/other/__init__.py": "",
        "lib/solo.py": "",
        "lib/docs/__init__.py": "",
        "setup.py": "",
      };
      for (const [file, body] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), body);
      }
      const project = await readProject(dir);
      assert.equal(project.metadataFile, "setup.cfg");
      assert.equal(project.metadata.version, "0.4.2");
      assert.equal(project.settings.sourceRoot, "lib");
      const selection = await selectFiles(project);
      assert.deepEqual(selection.files.map((file) => file.path), ["mypkg/__init__.py", "mypkg/data/a.bin", "other/__init__.py", "solo.py"]);
    } finally {
      await cleanup();
    }
  });
});

test("a `file:` directive's text with long runs of spaces is read in one pass (setup.cfg and pyproject's dynamic fields)", async () => {
  // `\s+$` over such a text took time quadratic in the run: 200,000 spaces took half a minute.
  const { dir, cleanup } = await tempDir();
  try {
    const spaces = " ".repeat(300_000);
    await writeFile(path.join(dir, "setup.cfg"), "[metadata]\nname = spacey\nversion = file: VERSION\nlong_description = file: README.md\n");
    await writeFile(path.join(dir, "VERSION"), `1.0${spaces}\n`);
    await writeFile(path.join(dir, "README.md"), `x${spaces}y${spaces}\n`);
    await writeFile(path.join(dir, "spacey.py"), "");
    const project = await readProject(dir);
    assert.equal(project.metadata.version, "1.0");
  } finally {
    await cleanup();
  }
});

test("requires.txt holds plain lines: markers decided for MicroPython, extras left out", () => {
  const base = { name: "x", version: "1.0", dependencies: [] as string[] } as unknown as ProjectMetadata;
  const text = renderRequiresTxt({ ...base, dependencies: ['bar; implementation_name == "cpython"', 'baz[fast]>=1; implementation_name == "micropython"', "qux==2"] });
  assert.equal(text, "baz>=1\nqux==2\n");
});
