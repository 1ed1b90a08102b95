// Targets from `--target-version` / `--mpy` / `--arch`, and the rule deciding whether an .mpy file
// loads on one. Files are real mpy-cross output where it can make them, hand-made headers otherwise.

import assert from "node:assert/strict";
import { test } from "node:test";
import { compileSource } from "../../src/mpy/compile.js";
import { checkMpyFile, mipFlavor, targetFromMpy, targetFromVersion, targetOfCompiler, type MpyTarget } from "../../src/mpy/target.js";
import { throwsMpip } from "../helpers/expect.js";

const header = (major: number, sub: number, archIndex: number) => new Uint8Array([0x4d, major, (archIndex << 2) | sub, 31, 0, 0]);
const XTENSAWIN = 10;
const ARMV6M = 4;

const rejects = throwsMpip;

test("MicroPython releases map to .mpy versions", () => {
  const cases: Array<[string, number, number | undefined]> = [
    ["1.12", 5, undefined],
    ["1.18", 5, undefined],
    ["1.19.1", 6, 0],
    ["1.20", 6, 1],
    ["v1.21.0", 6, 1],
    ["1.22", 6, 2],
    ["1.22.2", 6, 2],
    ["1.23.0-preview", 6, 3],
    ["1.27.0", 6, 3],
  ];
  for (const [version, major, sub] of cases) {
    const target = targetFromVersion(version);
    assert.equal(target.major, major, version);
    assert.equal(target.sub, sub, version);
  }
  assert.equal(targetFromVersion("1.22").label, "MicroPython 1.22 (mpy 6.2)");
  assert.equal(targetFromVersion("v1.22.0", "xtensawin").label, "MicroPython 1.22.0 (mpy 6.2, xtensawin)");
});

test("old, unknown and malformed versions are usage errors that say what is supported", () => {
  const old = rejects(() => targetFromVersion("1.11"), "usage", "MicroPython 1.11", "1.12 and later");
  assert.ok(old.hint?.includes("sources"));
  rejects(() => targetFromVersion("1.9.4"), "usage", "1.12 and later");
  rejects(() => targetFromVersion("2.0"), "usage", "MicroPython 2.0");
  rejects(() => targetFromVersion("latest"), "usage", "`latest`");
  rejects(() => targetFromVersion("1.22; rm -rf"), "usage");
});

test("--mpy takes a major version or 6.x, and --arch a known architecture", () => {
  assert.deepEqual(targetFromMpy("6"), { major: 6, label: "mpy 6" });
  assert.deepEqual(targetFromMpy("6.2", "armv6m"), { major: 6, sub: 2, arch: "armv6m", label: "mpy 6.2, armv6m" });
  assert.deepEqual(targetFromMpy("5"), { major: 5, label: "mpy 5" });
  rejects(() => targetFromMpy("4"), "usage", "`4`");
  rejects(() => targetFromMpy("six"), "usage");
  rejects(() => targetFromMpy("6.4"), "usage", "6.4");
  rejects(() => targetFromMpy("5.1"), "usage", "5.1");
  const arch = rejects(() => targetFromMpy("6", "z80"), "usage", "`z80`");
  assert.ok(arch.hint?.includes("xtensawin"));
  rejects(() => targetFromVersion("1.22", "none"), "usage");
});

test("the v2 index folder follows the target", () => {
  assert.equal(mipFlavor(undefined), "py");
  assert.equal(mipFlavor(targetFromVersion("1.22")), "6");
  assert.equal(mipFlavor(targetFromMpy("5")), "5");
});

test("bytecode needs only the major version", async () => {
  const real = await compileSource("def f():\n    return 1\n", "lib/f.py");
  for (const target of [targetFromVersion("1.19"), targetFromVersion("1.23"), targetFromMpy("6"), targetFromMpy("6.3", "armv6m")]) {
    checkMpyFile(real, "lib/f.mpy", target);
  }
  checkMpyFile(header(6, 3, 0), "a.mpy", targetFromVersion("1.20"));
  const error = rejects(() => checkMpyFile(real, "lib/f.mpy", targetFromVersion("1.18")), "mpy-incompatible",
    "`lib/f.mpy`", "mpy 6 bytecode", "MicroPython 1.18 (mpy 5)");
  assert.ok(error.hint?.includes("--target-version"));
  rejects(() => checkMpyFile(header(5, 2, 0), "old.mpy", targetFromMpy("6")), "mpy-incompatible", "`old.mpy`", "mpy 5 bytecode", "mpy 6");
});

test("native code needs the same sub-version and architecture", async () => {
  const real = await compileSource("import micropython\n@micropython.native\ndef f():\n    return 1\n", "fast.py", { arch: "xtensawin" });
  checkMpyFile(real, "fast.mpy", targetFromVersion("1.19", "xtensawin"));
  checkMpyFile(header(6, 2, XTENSAWIN), "n.mpy", targetFromVersion("1.22.1", "xtensawin"));

  rejects(() => checkMpyFile(real, "fast.mpy", targetFromVersion("1.22", "xtensawin")), "mpy-incompatible",
    "`fast.mpy`", "mpy 6.0 (native xtensawin)", "MicroPython 1.22 (mpy 6.2, xtensawin)", "sub-version");
  rejects(() => checkMpyFile(header(6, 2, ARMV6M), "pkg/n.mpy", targetFromVersion("1.22", "xtensawin")), "mpy-incompatible",
    "`pkg/n.mpy`", "mpy 6.2 (native armv6m)", "MicroPython 1.22 (mpy 6.2, xtensawin)", "architecture");
  const noSub = rejects(() => checkMpyFile(header(6, 2, ARMV6M), "n.mpy", targetFromMpy("6", "armv6m")), "mpy-incompatible",
    "`n.mpy`", "mpy 6.2 (native armv6m)", "mpy 6, armv6m");
  assert.ok(noSub.hint?.includes("--target-version"));
  const noArch = rejects(() => checkMpyFile(header(6, 2, ARMV6M), "n.mpy", targetFromVersion("1.22")), "mpy-incompatible",
    "`n.mpy`", "mpy 6.2 (native armv6m)", "MicroPython 1.22 (mpy 6.2)");
  assert.ok(noArch.hint?.includes("--arch armv6m"));
});

test(".mpy 5 native code has no sub-version to compare", () => {
  const target: MpyTarget = targetFromVersion("1.15", "armv7em");
  checkMpyFile(header(5, 3, 6), "v5.mpy", target);
  rejects(() => checkMpyFile(header(5, 3, 6), "v5.mpy", targetFromVersion("1.15", "xtensa")), "mpy-incompatible", "mpy 5 (native armv7em)");
});

test("a file that is not an .mpy is refused by name", () => {
  rejects(() => checkMpyFile(new TextEncoder().encode("print(1)\n"), "lib/x.mpy", targetFromMpy("6")), "mpy-incompatible", "`lib/x.mpy`", "not a compiled .mpy");
});

test("a shipped file's hint offers what its package has: its source, the index's sources, or another release", () => {
  const old = header(5, 0, 0);
  const shipped = { type: "shipped", package: "blob 1.0", compiling: false } as const;
  const none = rejects(() => checkMpyFile(old, "blob.mpy", targetFromMpy("6"), shipped), "mpy-incompatible", "`blob.mpy`", "mpy 5 bytecode", "the target is mpy 6");
  assert.match(none.hint ?? "", /^it loads on MicroPython 1\.12 to 1\.18; `blob 1\.0` ships no source for it/);
  assert.doesNotMatch(none.hint ?? "", /install sources/);
  const withSource = rejects(() => checkMpyFile(old, "blob.mpy", targetFromMpy("6"), { ...shipped, source: "blob.py" }), "mpy-incompatible");
  assert.match(withSource.hint ?? "", /add `--compile`: `blob 1\.0` also ships `blob\.py`/);
  const fromIndex = rejects(() => checkMpyFile(old, "blob.mpy", targetFromMpy("6"), { ...shipped, mipIndex: "https://mip.example/v2" }), "mpy-incompatible");
  assert.match(fromIndex.hint ?? "", /leave out `--target-version` and `--mpy` to install the package's sources from `https:\/\/mip\.example\/v2`/);
  const compiled = rejects(() => checkMpyFile(old, "blob.mpy", targetOfCompiler(6), { ...shipped, compiling: true, source: "blob.py" }), "mpy-incompatible", "what `--compile` writes");
  assert.match(compiled.hint ?? "", /ships no source for it.*built for mpy 6.*--target-version.*--mpy-cross/);
  const text = rejects(() => checkMpyFile(new TextEncoder().encode("x = 1\n"), "blob.mpy", targetOfCompiler(6), { ...shipped, compiling: true }), "mpy-incompatible", "not a compiled .mpy");
  assert.match(text.hint ?? "", /ships a broken \.mpy file and no source for it/);
});

test("an .mpy sub-version that does not exist says which exist, and for which releases", () => {
  for (const spec of ["6.9", "6.4"]) {
    const error = throwsMpip(() => targetFromMpy(spec), "usage", `there is no .mpy version ${spec}: .mpy 6's sub-versions are 6.0 (MicroPython 1.19), 6.1 (1.20, 1.21), 6.2 (1.22) and 6.3 (1.23 and later)`);
    assert.doesNotMatch(error.message, /only \.mpy 6 has sub-versions/);
  }
  throwsMpip(() => targetFromMpy("5.1"), "usage", "there is no .mpy version 5.1: .mpy 5 has no sub-versions (write `5`)");
});
