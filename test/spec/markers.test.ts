import { test } from "node:test";
import assert from "node:assert/strict";
import { MpipError } from "../../src/errors.js";
import {
  evaluateMarker,
  formatMarker,
  MICROPYTHON_ENVIRONMENT,
  parseMarker,
  type Marker,
  type MarkerEnvironment,
} from "../../src/spec/markers.js";

const evalIn = (text: string, env?: MarkerEnvironment): boolean => evaluateMarker(parseMarker(text), env);
const ev = (text: string): boolean => evalIn(text);
const cmp = (name: string, value: string): Marker => ({
  type: "compare",
  left: { type: "variable", name },
  op: "==",
  right: { type: "string", value },
});

test("MICROPYTHON_ENVIRONMENT values", () => {
  assert.deepEqual({ ...MICROPYTHON_ENVIRONMENT }, {
    implementation_name: "micropython",
    platform_python_implementation: "MicroPython",
    implementation_version: "1.27.0",
    python_version: "3.4",
    python_full_version: "3.4.0",
    sys_platform: "micropython",
    os_name: "micropython",
    platform_system: "MicroPython",
    platform_machine: "",
    platform_release: "",
    platform_version: "",
    extra: "",
  });
  assert.ok(Object.isFrozen(MICROPYTHON_ENVIRONMENT));
});

test("parse a simple comparison, either quote style, either side", () => {
  assert.deepEqual(parseMarker('os_name == "a"'), cmp("os_name", "a"));
  assert.deepEqual(parseMarker("os_name=='a'"), cmp("os_name", "a"));
  assert.deepEqual(parseMarker(`"3.8" > python_version`), {
    type: "compare",
    left: { type: "string", value: "3.8" },
    op: ">",
    right: { type: "variable", name: "python_version" },
  });
  assert.deepEqual(parseMarker(`os_name == 'say "hi"'`).type, "compare");
});

test("every operator parses", () => {
  for (const op of ["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in"]) {
    const m = parseMarker(`python_version ${op} "3.4"`);
    assert.equal(m.type === "compare" && m.op, op);
  }
  const m = parseMarker(`"linux" not   in sys_platform`);
  assert.equal(m.type === "compare" && m.op, "not in");
});

test("and binds tighter than or; both are left-associative", () => {
  const a = cmp("os_name", "a");
  const b = cmp("os_name", "b");
  const c = cmp("os_name", "c");
  assert.deepEqual(parseMarker('os_name == "a" or os_name == "b" and os_name == "c"'), {
    type: "or",
    left: a,
    right: { type: "and", left: b, right: c },
  });
  assert.deepEqual(parseMarker('os_name == "a" and os_name == "b" or os_name == "c"'), {
    type: "or",
    left: { type: "and", left: a, right: b },
    right: c,
  });
  assert.deepEqual(parseMarker('os_name == "a" and os_name == "b" and os_name == "c"'), {
    type: "and",
    left: { type: "and", left: a, right: b },
    right: c,
  });
});

test("parentheses override precedence", () => {
  assert.deepEqual(parseMarker('(os_name == "a" or os_name == "b") and os_name == "c"'), {
    type: "and",
    left: { type: "or", left: cmp("os_name", "a"), right: cmp("os_name", "b") },
    right: cmp("os_name", "c"),
  });
  assert.deepEqual(parseMarker('((os_name == "a"))'), cmp("os_name", "a"));
  // true or false and false: `and` first gives true; forced `or` first gives false.
  const t = 'implementation_name == "micropython"';
  const f = 'os_name == "posix"';
  assert.equal(ev(`${t} or ${f} and ${f}`), true);
  assert.equal(ev(`(${t} or ${f}) and ${f}`), false);
});

test("keywords need no surrounding space after a quote, but are whole words", () => {
  assert.equal(ev('os_name=="micropython"and python_version=="3.4"'), true);
  assert.throws(() => parseMarker('os_name == "a" andos_name == "b"'), MpipError);
});

test("old dotted variable names are accepted and canonicalised", () => {
  assert.deepEqual(parseMarker("os.name == 'a'"), cmp("os_name", "a"));
  assert.deepEqual(parseMarker("sys.platform == 'a'"), cmp("sys_platform", "a"));
  assert.deepEqual(parseMarker("platform.python_implementation == 'a'"), cmp("platform_python_implementation", "a"));
  assert.deepEqual(parseMarker("python_implementation == 'a'"), cmp("platform_python_implementation", "a"));
});

test("version comparison when both sides are versions", () => {
  assert.equal(ev('python_version >= "3.10"'), false);
  assert.equal(ev('python_version < "3.10"'), true);
  assert.equal(ev('python_version < "3.8"'), true);
  assert.equal(ev('python_version >= "3"'), true);
  assert.equal(ev('python_version == "3.4.0"'), true);
  assert.equal(ev('python_version == "3.*"'), true);
  assert.equal(ev('python_version != "3.4.*"'), false);
  assert.equal(ev('python_full_version ~= "3.4.0"'), true);
  assert.equal(ev('python_version ~= "3.5"'), false);
  assert.equal(ev('"3.10" > python_version'), true, "3.10 > 3.4 with the literal on the left");
  assert.equal(ev('"3.10" <= python_version'), false);
  assert.equal(ev('implementation_version >= "1.20"'), true);
  assert.equal(evalIn('python_full_version >= "3.12"', { ...MICROPYTHON_ENVIRONMENT, python_full_version: "3.13.0rc1" }), true);
});

test("string comparison otherwise (Python semantics)", () => {
  assert.equal(ev('sys_platform == "micropython"'), true);
  assert.equal(ev('sys_platform != "linux"'), true);
  assert.equal(ev('platform_python_implementation == "micropython"'), false, "case-sensitive");
  assert.equal(ev('os_name < "posix"'), true, "'micropython' < 'posix' as strings");
  assert.equal(ev('os_name >= "nt"'), false);
  assert.equal(ev('platform_release >= "5.0"'), false, "'' vs '5.0' compares as strings");
  assert.equal(ev('platform_machine == ""'), true);
  assert.equal(ev('os_name ~= "posix"'), false, "~= between non-versions never matches");
  // "3.4" vs "3.10" as *strings* would make 3.4 the larger one: versions must win.
  assert.equal(evalIn('platform_release > "3.10"', { ...MICROPYTHON_ENVIRONMENT, platform_release: "3.4" }), false);
  assert.equal(evalIn('platform_release > "3.10a"', { ...MICROPYTHON_ENVIRONMENT, platform_release: "3.4x" }), true);
});

test("=== is arbitrary (string) equality", () => {
  assert.equal(ev('python_version === "3.4"'), true);
  assert.equal(ev('python_version === "3.4.0"'), false);
  assert.equal(ev('implementation_name === "MicroPython"'), true);
});

test("in / not in are substring tests", () => {
  assert.equal(ev('"micro" in sys_platform'), true);
  assert.equal(ev('"linux" in sys_platform'), false);
  assert.equal(ev('"linux" not in sys_platform'), true);
  assert.equal(ev('sys_platform in "micropython linux"'), true);
  assert.equal(ev('python_version in "3.4 3.5"'), true);
});

test("extra compares normalized names and is empty by default", () => {
  assert.equal(ev('extra == "x"'), false);
  assert.equal(ev('extra != "x"'), true);
  assert.equal(evalIn('extra == "Foo_Bar"', { ...MICROPYTHON_ENVIRONMENT, extra: "foo-bar" }), true);
  assert.equal(evalIn('"foo.bar" == extra', { ...MICROPYTHON_ENVIRONMENT, extra: "FOO_BAR" }), true);
  assert.equal(evalIn('extra == "x"', { os_name: "posix" }), false, "a missing extra counts as empty");
});

test("the brief's combined example", () => {
  const m = parseMarker('implementation_name == "micropython" and (os_name == "posix" or extra == "x")');
  assert.equal(evaluateMarker(m), false);
  assert.equal(evaluateMarker(m, { ...MICROPYTHON_ENVIRONMENT, os_name: "posix" }), true);
  assert.equal(evaluateMarker(m, { ...MICROPYTHON_ENVIRONMENT, extra: "x" }), true);
});

test("a variable missing from a custom environment is an error", () => {
  assert.throws(() => evalIn('os_name == "a"', {}), (e: unknown) => e instanceof MpipError && e.code === "bad-spec");
});

test("formatMarker round-trips", () => {
  for (const text of [
    'os_name == "a"',
    `os_name == 'say "hi"'`,
    'os_name == "a" or os_name == "b" and os_name == "c"',
    '(os_name == "a" or os_name == "b") and os_name == "c"',
    'os_name == "a" or (os_name == "b" or os_name == "c")',
    'os_name == "a" and (os_name == "b" and os_name == "c")',
    '"x" not in sys_platform',
  ]) {
    const m = parseMarker(text);
    assert.deepEqual(parseMarker(formatMarker(m)), m, text);
  }
  assert.equal(formatMarker(parseMarker("os_name=='a'  and(os_name=='b'or os_name=='c')")), 'os_name == "a" and (os_name == "b" or os_name == "c")');
});

test("parse errors", () => {
  const bad: [string, RegExp][] = [
    ["", /empty marker/],
    ['bogus == "1"', /invalid marker `bogus == "1"`: unknown marker variable `bogus`/],
    ['extras == "1"', /unknown marker variable `extras`/],
    ['os_name = "a"', /expected a comparison operator after `os_name`, found `= "a"`/],
    ['os_name "a"', /expected a comparison operator/],
    ['os_name == "a', /unterminated string/],
    ['os_name == ', /expected a marker variable or a quoted string, found the end/],
    ['(os_name == "a"', /expected `\)`/],
    ['os_name == "a")', /expected `and`, `or` or the end, found `\)`/],
    ['os_name == "a" and', /expected a marker variable or a quoted string/],
    ['os_name == "a" os_name == "b"', /expected `and`, `or` or the end/],
    ['os_name in_ "a"', /expected a comparison operator/],
    ["os_name == 3", /expected a marker variable or a quoted string, found `3`/],
  ];
  for (const [text, pattern] of bad) {
    assert.throws(
      () => parseMarker(text),
      (e: unknown) => e instanceof MpipError && e.code === "bad-requirement" && pattern.test(e.message),
      text,
    );
  }
});
