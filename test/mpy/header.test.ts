// .mpy headers: real files from the WebAssembly mpy-cross (bytecode and native code), and
// hand-made headers for what it cannot produce (other sub-versions, .mpy 5, unknown archs).

import assert from "node:assert/strict";
import { test } from "node:test";
import { compileSource } from "../../src/mpy/compile.js";
import { describeMpy, MPY_ARCHES, parseMpyHeader } from "../../src/mpy/header.js";

const header = (...bytes: number[]) => new Uint8Array(bytes);

test("a bytecode file from mpy-cross is mpy 6 with no architecture", async () => {
  const mpy = await compileSource("x = 1\n", "plain.py");
  const parsed = parseMpyHeader(mpy);
  assert.deepEqual(parsed, { major: 6, sub: 0, archIndex: 0, arch: undefined, smallIntBits: mpy[3] });
  assert.equal(describeMpy(parsed!), "mpy 6 bytecode");
});

test("native code compiled for a CPU records its architecture", async () => {
  const source = "import micropython\n@micropython.native\ndef f(x):\n    return x + 1\n";
  for (const arch of ["xtensawin", "armv6m", "x64"]) {
    const parsed = parseMpyHeader(await compileSource(source, "fast.py", { arch }));
    assert.equal(parsed?.arch, arch);
    assert.equal(parsed?.archIndex, MPY_ARCHES.indexOf(arch as (typeof MPY_ARCHES)[number]));
    assert.equal(describeMpy(parsed!), `mpy 6.0 (native ${arch})`);
  }
});

test("the feature byte: sub-version in bits 1..0, architecture above", () => {
  // 0x2a = xtensawin (10) << 2 | 2
  assert.deepEqual(parseMpyHeader(header(0x4d, 6, 0x2a, 31)), { major: 6, sub: 2, archIndex: 10, arch: "xtensawin", smallIntBits: 31 });
  assert.equal(describeMpy(parseMpyHeader(header(0x4d, 6, (11 << 2) | 3, 31))!), "mpy 6.3 (native rv32imc)");
  // A bytecode file's sub-version is kept but not shown: loaders ignore it.
  assert.equal(parseMpyHeader(header(0x4d, 6, 3, 31))?.sub, 3);
  assert.equal(describeMpy(parseMpyHeader(header(0x4d, 6, 3, 31))!), "mpy 6 bytecode");
});

test(".mpy 5 keeps feature flags where 6 has the sub-version", () => {
  // 0x02: the unicode flag, bytecode only.
  assert.deepEqual(parseMpyHeader(header(0x4d, 5, 0x02, 31)), { major: 5, sub: undefined, archIndex: 0, arch: undefined, smallIntBits: 31 });
  const native = parseMpyHeader(header(0x4d, 5, (6 << 2) | 0x03, 31))!;
  assert.equal(native.arch, "armv7em");
  assert.equal(describeMpy(native), "mpy 5 (native armv7em)");
  assert.equal(describeMpy(parseMpyHeader(header(0x4d, 5, 0x03, 31))!), "mpy 5 bytecode");
});

test("an architecture number newer than mpip is named by its number", () => {
  assert.equal(parseMpyHeader(header(0x4d, 6, 20 << 2, 31))?.arch, "arch#20");
});

test("anything without the M header, or too short, is not an .mpy file", () => {
  assert.equal(parseMpyHeader(new TextEncoder().encode("import os\n")), undefined);
  assert.equal(parseMpyHeader(header(0x4d, 6, 0)), undefined);
  assert.equal(parseMpyHeader(new Uint8Array()), undefined);
});
