// R.py rendering: Python's repr of str and bytes, byte for byte, checked against CPython over many seeded
// random cases (skipped with a message when python3 is absent), plus fixed cases that need no Python.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pyReprBytes, pyReprStr, renderResourceModule } from "../../src/pack/r-py.js";
import { askPython, prng, PYTHON, type OracleCase } from "./python-oracle.js";

const NO_PYTHON = PYTHON === undefined ? "python3 is not installed: the CPython oracle cannot run (the fixed cases still do)" : false;

// Code point ranges whose Unicode categories are the same from Unicode 14 (CPython 3.11) to 17, so the
// oracle's answer does not depend on which Unicode version either side was built with.
const RANGES: Array<[number, number]> = [
  [0x00, 0x7f], [0x00, 0x7f], [0x80, 0xff], [0x370, 0x3ff], [0x2000, 0x206f], [0x4e00, 0x9fff],
  [0xd800, 0xdfff], [0xe000, 0xe0ff], [0xfff0, 0xffff], [0x1d400, 0x1d4ff], [0x1f600, 0x1f64f],
  [0xe0000, 0xe007f], [0xf0000, 0xf00ff], [0x10fff0, 0x10ffff],
];
const AWKWARD = ["'", '"', "\\", "\n", "\r", "\t", "\0", "\x7f", "\x85", "\xa0", "\xad", "\u2028", "\u2029", "\u200b", "\ufeff", "\u{1f600}", "\u{e0001}", "é", " "];

function randomKey(next: () => number): string {
  const length = Math.floor(next() * 12);
  let key = "";
  for (let i = 0; i < length; i++) {
    if (next() < 0.3) {
      key += AWKWARD[Math.floor(next() * AWKWARD.length)]!;
      continue;
    }
    const [low, high] = RANGES[Math.floor(next() * RANGES.length)]!;
    key += String.fromCodePoint(low + Math.floor(next() * (high - low + 1)));
  }
  return key;
}

function randomBytes(next: () => number): Uint8Array {
  const length = next() < 0.1 ? 0 : Math.floor(next() * 300);
  const bytes = new Uint8Array(length);
  const special = [0x27, 0x22, 0x5c, 0x0a, 0x0d, 0x09, 0x00, 0x7f, 0x80, 0xff, 0x20];
  for (let i = 0; i < length; i++) bytes[i] = next() < 0.2 ? special[Math.floor(next() * special.length)]! : Math.floor(next() * 256);
  return bytes;
}

describe("R.py rendering", () => {
  test("fixed cases, as CPython 3 prints them", () => {
    assert.equal(pyReprStr(""), "''");
    assert.equal(pyReprStr("it's"), `"it's"`);
    assert.equal(pyReprStr(`both ' and "`), `'both \\' and "'`);
    assert.equal(pyReprStr('say "hi"'), `'say "hi"'`);
    assert.equal(pyReprStr("a\\b\n\r\t\0\x1f\x7f"), "'a\\\\b\\n\\r\\t\\x00\\x1f\\x7f'");
    assert.equal(pyReprStr("é中😀"), "'é中😀'");
    assert.equal(pyReprStr("\x85\xa0\xad\u2028\u200b\ue000\u{e0001}\u{10ffff}\ud800"), "'\\x85\\xa0\\xad\\u2028\\u200b\\ue000\\U000e0001\\U0010ffff\\ud800'");
    assert.equal(pyReprBytes(new Uint8Array()), "b''");
    assert.equal(pyReprBytes(Buffer.from("it's")), `b"it's"`);
    assert.equal(pyReprBytes(Buffer.from(`'"`)), `b'\\'"'`);
    assert.equal(pyReprBytes(Buffer.from([0, 9, 10, 13, 0x5c, 0x7e, 0x7f, 0x80, 0xff])), "b'\\x00\\t\\n\\r\\\\~\\x7f\\x80\\xff'");
    assert.equal(
      renderResourceModule([{ key: "data/a.txt", data: Buffer.from("hi\n") }, { key: "empty", data: new Uint8Array() }]),
      "R = {\n'data/a.txt': b'hi\\n',\n'empty': b'',\n}\n",
    );
    assert.equal(renderResourceModule([]), "R = {\n}\n");
  });

  test("matches CPython's repr over seeded random keys, byte strings and whole modules", { skip: NO_PYTHON }, (t) => {
    const next = prng(20240613);
    const cases: OracleCase[] = [];
    for (let i = 0; i < 3000; i++) cases.push({ kind: "str", value: randomKey(next) });
    for (let i = 0; i < 3000; i++) cases.push({ kind: "bytes", value: randomBytes(next) });
    for (let i = 0; i < 200; i++) {
      const resources = Array.from({ length: Math.floor(next() * 6) }, () => ({ key: randomKey(next), data: randomBytes(next) }));
      cases.push({ kind: "module", resources });
    }
    // Every single byte and every code point below 0x3000 on its own, too.
    cases.push({ kind: "bytes", value: Uint8Array.from({ length: 256 }, (_, i) => i) });
    for (let code = 0; code < 0x3000; code++) cases.push({ kind: "str", value: String.fromCodePoint(code) });

    const answer = askPython(cases);
    assert.equal(answer.reprs.length, cases.length);
    // A code point assigned in one Unicode version and not in the other (Node's ICU is usually newer than
    // CPython's tables) is printable on one side only. Those cases test the Unicode version, not the repr
    // rules: they are counted and left out, and every other case must match exactly.
    const printableHere = (text: string) => [...text].map((char) => (/^[\p{C}\p{Z}]$/u.test(char) && char !== " " ? "0" : "1")).join("");
    let strIndex = 0;
    let versionDependent = 0;
    let compared = 0;
    cases.forEach((c, i) => {
      if (c.kind === "str" && printableHere(c.value) !== answer.printable[strIndex++]) {
        versionDependent++;
        return;
      }
      compared++;
      const ours = c.kind === "str" ? pyReprStr(c.value) : c.kind === "bytes" ? pyReprBytes(c.value) : renderResourceModule(c.resources);
      if (ours !== answer.reprs[i]) assert.equal(ours, answer.reprs[i], `case ${i} (${c.kind}) differs from CPython: ${JSON.stringify(c.kind === "str" ? c.value : "")}`);
    });
    t.diagnostic(`compared ${compared} cases with CPython ${answer.version} (Unicode ${answer.unicode}; Node has Unicode ${process.versions.unicode}); left out ${versionDependent} strings holding a character whose printability differs between the two Unicode versions`);
    assert.ok(versionDependent < cases.length / 100, `${versionDependent} cases depend on the Unicode version: more than expected`);
  });
});
