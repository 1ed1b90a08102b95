import { test } from "node:test";
import assert from "node:assert/strict";
import { MpipError } from "../../src/errors.js";
import { MICROPYTHON_ENVIRONMENT } from "../../src/spec/markers.js";
import { parseRequiresDist, parseRequiresTxt } from "../../src/spec/requires.js";

const texts = (list: { text: string }[]): string[] => list.map((r) => r.text);

function throwsLine(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof MpipError && e.code === "bad-requirement" && pattern.test(e.message));
}

test("requires.txt: plain lines, upip style", () => {
  const list = parseRequiresTxt("micropython-os\nmicropython-os.path==0.1\n");
  assert.deepEqual(texts(list), ["micropython-os", "micropython-os.path==0.1"]);
  assert.equal(list[1]!.specifier, "==0.1");
});

test("requires.txt: empty input and CRLF", () => {
  assert.deepEqual(parseRequiresTxt(""), []);
  assert.deepEqual(parseRequiresTxt("\n\n  \n"), []);
  assert.deepEqual(texts(parseRequiresTxt("a\r\nb>=1\r\n")), ["a", "b>=1"]);
});

test("requires.txt: comments and blank lines", () => {
  const text = ["# leading comment", "", "foo>=1.0  # trailing comment", "   # indented comment", "bar", "", "baz @ https://x/baz.tgz#sha256=ab"].join("\n");
  assert.deepEqual(texts(parseRequiresTxt(text)), ["foo>=1.0", "bar", "baz @ https://x/baz.tgz#sha256=ab"]);
});

test("requires.txt: long runs of white space (hostile metadata) are read in one pass, comment or not", () => {
  // A regular expression over such a line took time quadratic in the run: this line took minutes.
  const run = " ".repeat(400_000);
  throwsLine(() => parseRequiresTxt(`a${run}b\n`), /characters/);
  assert.deepEqual(texts(parseRequiresTxt(`foo${run}# a comment\n${run}\nbar${run}\n`)), ["foo", "bar"]);
  assert.deepEqual(texts(parseRequiresTxt(`${run}#${run}x\n`)), []);
});

test("requires.txt: extras sections are skipped", () => {
  const text = ["foo", "", "[test]", "pytest>=7", "", "[docs:python_version >= '3']", "sphinx", "", "[:python_version >= '3']", "after"].join("\n");
  assert.deepEqual(texts(parseRequiresTxt(text)), ["foo", "after"]);
});

test("requires.txt: lines in skipped sections are not even parsed", () => {
  assert.deepEqual(texts(parseRequiresTxt("foo\n[dev]\nthis is not a requirement!!\n")), ["foo"]);
});

test("requires.txt: [:marker] sections apply their marker", () => {
  const text = [
    "always",
    '[:python_version < "3"]',
    "py2only",
    '[:python_version >= "3"]',
    "py3",
    "[:implementation_name == 'micropython' and os_name != 'nt']",
    "mpy",
    "[:sys_platform == 'win32']",
    "windows",
    "[:python_version < '3.10']",
    "old-python",
  ].join("\n");
  assert.deepEqual(texts(parseRequiresTxt(text)), ["always", "py3", "mpy", "old-python"]);
});

test("requires.txt: [] and [:] sections apply unconditionally", () => {
  assert.deepEqual(texts(parseRequiresTxt("[]\na\n[:]\nb\n")), ["a", "b"]);
});

test("requires.txt: each line's own marker is evaluated, also inside sections", () => {
  const text = [
    'a; python_version < "3.10"',
    'b; python_version >= "3.10"',
    "c; extra == 'x'",
    '[:python_version >= "3"]',
    "d; implementation_name == 'micropython'",
    "e; implementation_name == 'cpython'",
  ].join("\n");
  assert.deepEqual(texts(parseRequiresTxt(text)), ['a; python_version < "3.10"', "d; implementation_name == 'micropython'"]);
});

test("requires.txt: a custom environment", () => {
  const env = { ...MICROPYTHON_ENVIRONMENT, python_version: "3.12", sys_platform: "win32" };
  const text = 'a; python_version >= "3.10"\n[:sys_platform == "win32"]\nb\n';
  assert.deepEqual(texts(parseRequiresTxt(text, env)), ['a; python_version >= "3.10"', "b"]);
});

test("requires.txt: exact duplicates are dropped, order kept", () => {
  const text = "b\na>=1\nb\n[:python_version >= '3']\na>=1\na >= 1\n";
  assert.deepEqual(texts(parseRequiresTxt(text)), ["b", "a>=1", "a >= 1"]);
});

test("requires.txt: invalid lines name the line number and the text", () => {
  throwsLine(() => parseRequiresTxt("ok\n\nfoo>=\n"), /^requires\.txt line 3: invalid requirement `foo>=`: expected a version after `>=`/);
  throwsLine(() => parseRequiresTxt("ok\n[:bogus == '1']\nx\n"), /requires\.txt line 2: invalid section `\[:bogus == '1'\]`.*unknown marker variable `bogus`/);
  throwsLine(() => parseRequiresTxt("a b c"), /line 1: invalid requirement `a b c`/);
});

const PKG_INFO = [
  "Metadata-Version: 2.1",
  "Name: example",
  "Version: 1.0",
  "Summary: An example",
  "Description: first line",
  "        ",
  "        Requires-Dist: not-a-header-it-is-description",
  "Requires-Dist: micropython-os",
  "Requires-Dist: foo (>=1.0)",
  "Requires-Dist: bar (>=1.0,",
  "  <2)",
  'requires-dist: only-py2; python_version < "3"',
  'Requires-Dist: pytest; extra == "test"',
  "Requires-Dist: mpy-only; implementation_name == 'micropython'",
  "Requires-Dist: folded;",
  '\timplementation_name == "micropython"',
  "Provides-Extra: test",
  "Requires-Dist: micropython-os",
  "",
  "Requires-Dist: in-the-body",
  "",
].join("\n");

test("PKG-INFO: Requires-Dist lines, old-style parens, continuation lines, markers", () => {
  const list = parseRequiresDist(PKG_INFO);
  assert.deepEqual(
    list.map((r) => [r.name, r.specifier]),
    [
      ["micropython-os", ""],
      ["foo", ">=1.0"],
      ["bar", ">=1.0,<2"],
      ["mpy-only", ""],
      ["folded", ""],
    ],
  );
  assert.equal(list[2]!.text, "bar (>=1.0, <2)");
  assert.equal(list[4]!.text, 'folded; implementation_name == "micropython"');
});

test("PKG-INFO: extras are never installed, even with a custom environment", () => {
  const env = { ...MICROPYTHON_ENVIRONMENT, python_version: "2.7" };
  assert.deepEqual(
    parseRequiresDist(PKG_INFO, env).map((r) => r.name),
    ["micropython-os", "foo", "bar", "only-py2", "mpy-only", "folded"],
  );
});

test("PKG-INFO: CRLF, BOM, no headers, no Requires-Dist", () => {
  assert.deepEqual(texts(parseRequiresDist("\uFEFFName: x\r\nRequires-Dist: a>=1\r\n\r\nbody\r\n")), ["a>=1"]);
  assert.deepEqual(parseRequiresDist(""), []);
  assert.deepEqual(parseRequiresDist("Metadata-Version: 1.1\nName: x\n"), []);
});

test("PKG-INFO: invalid Requires-Dist names the line number", () => {
  throwsLine(
    () => parseRequiresDist("Name: x\nVersion: 1\nRequires-Dist: ok\nRequires-Dist: bad (>=\n"),
    /^PKG-INFO line 4: invalid requirement `bad \(>=`: expected a version after `>=`/,
  );
  throwsLine(() => parseRequiresDist("Name: x\nRequires-Dist: \n"), /PKG-INFO line 2: invalid requirement ``/);
});
