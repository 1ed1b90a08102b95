import { test } from "node:test";
import assert from "node:assert/strict";
import { MpipError } from "../../src/errors.js";
import { formatRequirement, parseRequirement } from "../../src/spec/requirement.js";

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseRequirement(text),
    (error: unknown) => {
      assert.ok(error instanceof MpipError, `expected MpipError for ${JSON.stringify(text)}`);
      assert.equal(error.code, "bad-requirement");
      assert.match(error.message, pattern);
      return true;
    },
    text,
  );
}

test("bare name", () => {
  const r = parseRequirement("  micropython-umqtt.simple  ");
  assert.deepEqual(r, { name: "micropython-umqtt.simple", extras: [], specifier: "", text: "micropython-umqtt.simple" });
});

test("each specifier operator", () => {
  assert.equal(parseRequirement("foo==1.2").specifier, "==1.2");
  assert.equal(parseRequirement("foo>=1.0,<2").specifier, ">=1.0,<2");
  assert.equal(parseRequirement("foo ~= 1.2").specifier, "~=1.2");
  assert.equal(parseRequirement("foo!=1.3").specifier, "!=1.3");
  assert.equal(parseRequirement("foo===1.0").specifier, "===1.0");
  assert.equal(parseRequirement("foo===weird-thing").specifier, "===weird-thing");
  assert.equal(parseRequirement("foo<=2").specifier, "<=2");
  assert.equal(parseRequirement("foo>1").specifier, ">1");
  assert.equal(parseRequirement("foo<2").specifier, "<2");
  assert.equal(parseRequirement("foo >= 1.0 , < 2 , != 1.5").specifier, ">=1.0,<2,!=1.5");
});

test("name keeps its spelling; specifier keeps version spelling", () => {
  const r = parseRequirement("Foo_Bar>=1.0.post1");
  assert.equal(r.name, "Foo_Bar");
  assert.equal(r.specifier, ">=1.0.post1");
});

test("parenthesised (old-style) specifiers", () => {
  assert.equal(parseRequirement("foo (>=1.0)").specifier, ">=1.0");
  assert.equal(parseRequirement("foo(>=1.0, <2)").specifier, ">=1.0,<2");
  assert.equal(parseRequirement("foo ( == 1.2 )").specifier, "==1.2");
  assert.equal(parseRequirement("foo ()").specifier, "");
});

test("wildcards with == and !=", () => {
  assert.equal(parseRequirement("foo==1.*").specifier, "==1.*");
  assert.equal(parseRequirement("foo!=1.2.*").specifier, "!=1.2.*");
  assert.equal(parseRequirement("foo>=1,==1.*").specifier, ">=1,==1.*");
});

test("PEP 440 version forms", () => {
  for (const v of ["1.0a1", "1.0rc2", "1.0.dev3", "1!2.0", "2024.1.1", "1.0.post1.dev2", "v1.0"]) {
    assert.equal(parseRequirement(`foo==${v}`).specifier, `==${v}`);
  }
  assert.equal(parseRequirement("foo==1.0+local.7").specifier, "==1.0+local.7");
});

test("extras", () => {
  const r = parseRequirement("name[extra1,extra2]>=1");
  assert.deepEqual(r.extras, ["extra1", "extra2"]);
  assert.equal(r.specifier, ">=1");
  assert.deepEqual(parseRequirement("name [ a , b ] (>=1)").extras, ["a", "b"]);
  assert.deepEqual(parseRequirement("name[]").extras, []);
});

test("URL requirements", () => {
  const r = parseRequirement("name @ https://example.com/name-1.0.tar.gz#sha256=abc");
  assert.equal(r.url, "https://example.com/name-1.0.tar.gz#sha256=abc");
  assert.equal(r.specifier, "");
  const m = parseRequirement('name[x]@ file:///tmp/name.tar.gz ; python_version >= "3"');
  assert.equal(m.url, "file:///tmp/name.tar.gz");
  assert.deepEqual(m.extras, ["x"]);
  assert.ok(m.marker);
});

test("markers", () => {
  const r = parseRequirement('name; python_version < "3.8"');
  assert.deepEqual(r.marker, {
    type: "compare",
    left: { type: "variable", name: "python_version" },
    op: "<",
    right: { type: "string", value: "3.8" },
  });
  const c = parseRequirement(
    'name>=1 ; implementation_name == "micropython" and (os_name == "posix" or extra == "x")',
  );
  assert.equal(c.specifier, ">=1");
  assert.equal(c.marker?.type, "and");
  assert.equal(parseRequirement("name;os_name=='nt'").marker?.type, "compare");
});

test("text is the trimmed original", () => {
  assert.equal(parseRequirement("  foo (>= 1.0)  ").text, "foo (>= 1.0)");
});

test("formatRequirement", () => {
  assert.equal(formatRequirement(parseRequirement("foo")), "foo");
  assert.equal(formatRequirement(parseRequirement("foo (>= 1.0 , <2)")), "foo>=1.0,<2");
  assert.equal(formatRequirement(parseRequirement("foo[a, b] ~= 1.2")), "foo[a,b]~=1.2");
  assert.equal(
    formatRequirement(parseRequirement("foo>=1;python_version<'3.8' and (os_name=='a' or os_name=='b')")),
    'foo>=1; python_version < "3.8" and (os_name == "a" or os_name == "b")',
  );
  assert.equal(
    formatRequirement(parseRequirement('foo @ https://x/y.tgz ; os_name == "nt"')),
    'foo @ https://x/y.tgz ; os_name == "nt"',
  );
  for (const text of ["foo[a]==1.*; extra == 'x'", "bar @ https://x/b.tgz", "baz (>=1, !=1.5); 'linux' in sys_platform"]) {
    const once = formatRequirement(parseRequirement(text));
    assert.equal(formatRequirement(parseRequirement(once)), once);
    const a = parseRequirement(text);
    const b = parseRequirement(once);
    assert.deepEqual({ ...b, text: "" }, { ...a, text: "" });
  }
});

test("rejects bad names and structure", () => {
  rejects("", /expected a package name/);
  rejects("   ", /expected a package name/);
  rejects("-foo", /invalid requirement `-foo`: expected a package name/);
  rejects("foo bar", /`foo bar`.*found `bar`/);
  rejects("foo-", /found `-`/);
  rejects("foo[bar", /expected `\]`/);
  rejects("foo[b ar]", /invalid extra name `b ar`/);
  rejects("foo[a,]", /empty extra name in `\[a,\]`/);
  rejects("foo # comment", /found `# comment`/);
});

test("rejects bad specifiers", () => {
  rejects("foo>=", /invalid requirement `foo>=`: expected a version after `>=`/);
  rejects("foo==", /expected a version after `==`/);
  rejects("foo=1.0", /expected a version operator/);
  rejects("foo=>1.0", /expected a version operator/);
  rejects("foo>=1.0,", /expected a version specifier after `,`/);
  rejects("foo>=1.0<2", /expected `,`, `;` or the end, found `<2`/);
  rejects("foo>=1.0 2.0", /found `2.0`/);
  rejects("foo==1.x", /`1.x` is not a valid PEP 440 version/);
  rejects("foo>=abc", /`abc` is not a valid PEP 440 version/);
  rejects("foo>=1.*", /wildcard version \(`>=1.\*`\) is only allowed with `==` or `!=`/);
  rejects("foo~=1.*", /only allowed with `==` or `!=`/);
  rejects("foo==1.*.2", /not a valid PEP 440 version/);
  rejects("foo==1.0.dev1.*", /not a valid PEP 440 wildcard version/);
  rejects("foo~=1", /`~=1` needs a version with at least two release segments/);
  rejects("foo>=1.0+local", /local version label/);
  rejects("foo (>=1.0", /expected `,` or `\)`/);
  rejects("foo (>=1.0))", /found `\)`/);
  rejects("foo (1.0)", /expected a version operator/);
  rejects("foo ===", /expected a version after `===`/);
});

test("rejects bad URLs and markers", () => {
  rejects("foo @", /expected a URL after `@`/);
  rejects("foo @ not a url", /expected a URL after `@`/);
  rejects("foo @ https://x/y.tgz extra", /expected `;` and a marker after the URL/);
  rejects("foo;", /expected a marker after `;`/);
  rejects("foo; ", /expected a marker after `;`/);
  rejects('foo; bogus == "1"', /invalid requirement `foo; bogus == "1"`: invalid marker `bogus == "1"`: unknown marker variable `bogus`/);
  rejects('foo; python_version "3"', /expected a comparison operator/);
  rejects('foo; python_version == "3', /unterminated string/);
  rejects('foo; (python_version == "3"', /expected `\)`/);
  rejects('foo; python_version == "3" and', /expected a marker variable or a quoted string/);
  rejects('foo; python_version == "3" xor os_name == "a"', /expected `and`, `or` or the end/);
});

test("a `;` right after a URL is part of it (PEP 508): one that meant a marker is told to take a space", () => {
  for (const text of ["leaf @ http://h/v1.0.tar.gz; implementation_name == 'micropython'", "leaf @ http://h/v1.0.tar.gz;sys_platform == 'never'"]) {
    assert.throws(() => parseRequirement(text), (error: MpipError) => error.code === "bad-requirement" && /a `;` right after a URL is part of the URL \(PEP 508\): put a space before the `;` that starts the marker/.test(error.message), text);
  }
  // A URL that holds a `;`, alone or before a marker with its space, is read as written.
  assert.equal(parseRequirement("leaf @ http://h/a;b/leaf-1.0.tar.gz").url, "http://h/a;b/leaf-1.0.tar.gz");
  const marked = parseRequirement("leaf @ http://h/a;b/leaf-1.0.tar.gz ; sys_platform == 'never'");
  assert.equal(marked.url, "http://h/a;b/leaf-1.0.tar.gz");
  assert.notEqual(marked.marker, undefined);
});
