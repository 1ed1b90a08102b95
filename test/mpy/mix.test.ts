// Whether one firmware loads every .mpy of an image (mpy/mix.ts), and the firmware each kind of .mpy
// loads on (firmwareFor, loadsOn in mpy/target.ts). Headers are hand-made: the rule reads only them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMpyHeader, type MpyHeader } from "../../src/mpy/header.js";
import { mixedMpyWarning, type ImageMpy } from "../../src/mpy/mix.js";
import { firmwareFor, loadsOn, targetFromMpy, targetFromVersion, targetOfCompiler } from "../../src/mpy/target.js";

const header = (major: number, sub: number, archIndex: number): MpyHeader => parseMpyHeader(new Uint8Array([0x4d, major, (archIndex << 2) | sub, 31]))!;
const XTENSAWIN = 10;
const ARMV6M = 4;
const entry = (file: string, h: MpyHeader, owner = "from `p 1.0`"): ImageMpy => ({ file, owner, header: h });

test("the firmware each kind of .mpy loads on", () => {
  assert.equal(firmwareFor(header(5, 0, 0)), "MicroPython 1.12 to 1.18");
  assert.equal(firmwareFor(header(5, 3, ARMV6M)), "MicroPython 1.12 to 1.18 on armv6m");
  assert.equal(firmwareFor(header(6, 2, 0)), "MicroPython 1.19 or later");
  assert.equal(firmwareFor(header(6, 0, XTENSAWIN)), "MicroPython 1.19 on xtensawin");
  assert.equal(firmwareFor(header(6, 1, XTENSAWIN)), "MicroPython 1.20 or 1.21 on xtensawin");
  assert.equal(firmwareFor(header(6, 2, XTENSAWIN)), "MicroPython 1.22 on xtensawin");
  assert.equal(firmwareFor(header(6, 3, XTENSAWIN)), "MicroPython 1.23 or later on xtensawin");
  assert.equal(firmwareFor(header(4, 0, 0)), "MicroPython older than 1.12");
  assert.match(firmwareFor(header(7, 0, 0)), /newer than mpip knows \(\.mpy 7\)/);
});

test("loadsOn agrees with the rule checkMpyFile enforces", () => {
  assert.equal(loadsOn(header(6, 0, 0), targetFromVersion("1.23")), true);
  assert.equal(loadsOn(header(5, 0, 0), targetFromVersion("1.23")), false);
  assert.equal(loadsOn(header(6, 2, XTENSAWIN), targetFromVersion("1.22", "xtensawin")), true);
  assert.equal(loadsOn(header(6, 2, XTENSAWIN), targetFromVersion("1.23", "xtensawin")), false);
  assert.equal(loadsOn(header(6, 2, XTENSAWIN), targetFromMpy("6")), false);
  assert.equal(loadsOn(header(6, 2, ARMV6M), targetFromVersion("1.22", "xtensawin")), false);
});

test("--compile alone implies the compiler's .mpy version, checked as --mpy would", () => {
  const target = targetOfCompiler(6);
  assert.equal(target.major, 6);
  assert.equal(target.sub, undefined);
  assert.equal(target.arch, undefined);
  assert.match(target.label, /^mpy 6, what `--compile` writes$/);
});

test("no warning when one firmware loads every file", () => {
  assert.equal(mixedMpyWarning([]), undefined);
  assert.equal(mixedMpyWarning([entry("a.mpy", header(6, 0, 0)), entry("b.mpy", header(6, 3, 0))]), undefined);
  assert.equal(mixedMpyWarning([entry("a.mpy", header(6, 0, 0)), entry("n.mpy", header(6, 2, XTENSAWIN)), entry("m.mpy", header(6, 2, XTENSAWIN))]), undefined);
  assert.equal(mixedMpyWarning([entry("a.mpy", header(5, 0, 0)), entry("n.mpy", header(5, 0, ARMV6M))]), undefined);
});

test("a warning for each way files part: major version, native sub-version, native architecture", () => {
  const majors = mixedMpyWarning([entry("new.mpy", header(6, 0, 0), "already in the target"), entry("old.mpy", header(5, 0, 0))]);
  assert.equal(majors, "no one firmware loads every .mpy file of the image: `old.mpy` (from `p 1.0`) is mpy 5 bytecode, which loads on MicroPython 1.12 to 1.18; `new.mpy` (already in the target) is mpy 6 bytecode, which loads on MicroPython 1.19 or later. Give the board's MicroPython version with `--target-version` to have each .mpy checked against it");
  assert.match(mixedMpyWarning([entry("a.mpy", header(6, 1, XTENSAWIN)), entry("b.mpy", header(6, 2, XTENSAWIN))]) ?? "", /mpy 6\.1 \(native xtensawin\), which loads on MicroPython 1\.20 or 1\.21 on xtensawin; .*mpy 6\.2/);
  assert.match(mixedMpyWarning([entry("a.mpy", header(6, 2, ARMV6M)), entry("b.mpy", header(6, 2, XTENSAWIN))]) ?? "", /armv6m.*xtensawin/);
});

test("many files of one kind: two named, the rest counted", () => {
  const files = ["e.mpy", "d.mpy", "c.mpy", "b.mpy"].map((file) => entry(file, header(5, 0, 0)));
  const warning = mixedMpyWarning([...files, entry("z.mpy", header(6, 0, 0))]) ?? "";
  assert.match(warning, /`b\.mpy` \(from `p 1\.0`\), `c\.mpy` \(from `p 1\.0`\) and 2 more are mpy 5 bytecode/);
  assert.match(warning, /`z\.mpy` \(from `p 1\.0`\) is mpy 6 bytecode/);
});
