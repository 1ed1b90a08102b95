import { test } from "node:test";
import assert from "node:assert/strict";
import { createContext, Script } from "node:vm";
import { crc32, deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from "node:zlib";
import { loadMicroPython, type MicroPython } from "@micropython/micropython-webassembly-pyscript";
import { MpipError } from "../../src/errors.js";
import { SMALL_WINDOW, scanGzip } from "../../src/archive/gzip-scan.js";
import { prng as mulberry32 } from "../helpers/prng.js";

const int = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

function randomBytes(rng: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256);
  return b;
}

function wordSalad(rng: () => number, size: number, vocabulary: number): Buffer {
  const words = Array.from({ length: vocabulary }, () =>
    Array.from({ length: int(rng, 2, 9) }, () => String.fromCharCode(97 + int(rng, 0, 25))).join(""),
  );
  let text = "";
  while (text.length < size) text += words[Math.floor(rng() * words.length)] + (rng() < 0.1 ? "\n" : " ");
  return Buffer.from(text.slice(0, size));
}

const gzip = (data: Uint8Array, windowBits: number, level = 9): Buffer =>
  gzipSync(data, { level, windowBits, memLevel: 8 });

function le32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

// A gzip member with a hand-made header around a raw deflate stream.
interface HeaderFields {
  extra?: Buffer;
  name?: string;
  comment?: string;
  hcrc?: boolean;
  raw?: Buffer; // the deflate stream, if not deflateRawSync(data)
}
function craftGzip(data: Buffer, opts: HeaderFields): Buffer {
  const has = (v: unknown): number => (v === undefined || v === false ? 0 : 1);
  const flags = (has(opts.hcrc) << 1) | (has(opts.extra) << 2) | (has(opts.name) << 3) | (has(opts.comment) << 4);
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 2, 3])];
  if (opts.extra) parts.push(Buffer.from([opts.extra.length & 255, opts.extra.length >> 8]), opts.extra);
  if (opts.name !== undefined) parts.push(Buffer.from(opts.name + "\0", "latin1"));
  if (opts.comment !== undefined) parts.push(Buffer.from(opts.comment + "\0", "latin1"));
  if (opts.hcrc) parts.push(le32(crc32(Buffer.concat(parts)) & 0xffff).subarray(0, 2));
  parts.push(opts.raw ?? deflateRawSync(data), le32(crc32(data)), le32(data.length));
  return Buffer.concat(parts);
}

// Writes a raw deflate stream bit by bit, for blocks zlib would never emit.
class BitWriter {
  private bytes: number[] = [];
  private bit = 0;
  bits(value: number, n: number): this {
    for (let i = 0; i < n; i++) this.push((value >> i) & 1);
    return this;
  }
  code(value: number, n: number): this {
    for (let i = n - 1; i >= 0; i--) this.push((value >> i) & 1); // Huffman codes go most significant bit first
    return this;
  }
  private push(b: number): void {
    if (this.bit === 0) this.bytes.push(0);
    this.bytes[this.bytes.length - 1]! |= b << this.bit;
    this.bit = (this.bit + 1) & 7;
  }
  done(): Buffer {
    return Buffer.from(this.bytes);
  }
}
// Fixed Huffman codes (RFC 1951 3.2.6).
function fixedLiteral(w: BitWriter, sym: number): BitWriter {
  if (sym < 144) return w.code(0x30 + sym, 8);
  if (sym < 256) return w.code(0x190 + sym - 144, 9);
  if (sym < 280) return w.code(sym - 256, 7);
  return w.code(0xc0 + sym - 280, 8);
}

function assertCorrupt(data: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => scanGzip(data),
    (e: unknown) => e instanceof MpipError && e.code === "archive-corrupt" && pattern.test(e.message),
  );
}

test("windowBits 12 archives stay within the small window and report their size", () => {
  const rng = mulberry32(1);
  const inputs = [
    wordSalad(rng, 200_000, 3000),
    wordSalad(rng, 50_000, 30),
    randomBytes(rng, 20_000),
    Buffer.alloc(100_000),
  ];
  for (const data of inputs) {
    const gz = gzip(data, 12);
    const scan = scanGzip(gz);
    assert.ok(scan.maxDistance <= SMALL_WINDOW, `maxDistance ${scan.maxDistance}`);
    assert.equal(scan.uncompressedSize, data.length);
    assert.equal(scan.end, gz.length);
  }
});

test("windowBits 15 archives with long-range repeats need a larger window", () => {
  const block = randomBytes(mulberry32(2), 6000);
  const scan = scanGzip(gzip(Buffer.concat([block, block, block]), 15));
  assert.equal(scan.maxDistance, 6000);
  assert.equal(scan.uncompressedSize, 18_000);
  assert.ok(scanGzip(gzip(wordSalad(mulberry32(3), 100_000, 5000), 15)).maxDistance > SMALL_WINDOW);
});

test("stored, fixed-Huffman and empty members", () => {
  const big = randomBytes(mulberry32(4), 150_000); // several stored blocks
  const stored = gzip(big, 15, 0);
  assert.deepEqual(scanGzip(stored), { maxDistance: 0, uncompressedSize: 150_000, end: stored.length });
  const short = Buffer.from("abcabcabcabc hello hello"); // zlib picks a fixed-Huffman block
  const scan = scanGzip(gzip(short, 15));
  assert.equal(scan.uncompressedSize, short.length);
  assert.equal(scan.maxDistance, 6);
  assert.deepEqual(scanGzip(gzip(Buffer.alloc(0), 15)), { maxDistance: 0, uncompressedSize: 0, end: 20 });
  // A literal then a 3-byte match at distance 1: the fixed-Huffman path, checked against zlib too.
  const w = new BitWriter().bits(1, 1).bits(1, 2);
  fixedLiteral(w, 97);
  fixedLiteral(w, 257).code(0, 5);
  const raw = fixedLiteral(w, 256).done();
  assert.equal(inflateRawSync(raw).toString(), "aaaa");
  const fixed = craftGzip(Buffer.from("aaaa"), { raw });
  assert.deepEqual(scanGzip(fixed), { maxDistance: 1, uncompressedSize: 4, end: fixed.length });
});

test("gzip headers with FEXTRA, FNAME, FCOMMENT and FHCRC", () => {
  const data = wordSalad(mulberry32(5), 5000, 100);
  const variants = [
    { name: "pkg-1.0.tar" },
    { comment: "made by hand" },
    { extra: Buffer.from("AB\x04\x00data", "latin1") },
    { hcrc: true },
    { extra: Buffer.alloc(0), name: "", comment: "", hcrc: true },
    { extra: randomBytes(mulberry32(6), 300), name: "x".repeat(200), comment: "c", hcrc: true },
  ];
  for (const opts of variants) {
    const gz = craftGzip(data, opts);
    assert.deepEqual(gunzipSync(gz), data); // the crafted header is valid for zlib
    const scan = scanGzip(gz);
    assert.equal(scan.uncompressedSize, data.length);
    assert.equal(scan.end, gz.length);
    const trailing = scanGzip(Buffer.concat([gz, Buffer.from("junk")]));
    assert.equal(trailing.end, gz.length);
  }
  const badCrc = craftGzip(data, { name: "a", hcrc: true });
  badCrc[12]! ^= 1;
  assertCorrupt(badCrc, /header CRC/);
});

test("malformed streams throw archive-corrupt with a clear message", () => {
  const gz = gzip(wordSalad(mulberry32(7), 3000, 50), 12);
  const patch = (at: number, value: number): Buffer => {
    const copy = Buffer.from(gz);
    copy[at < 0 ? copy.length + at : at] = value;
    return copy;
  };
  assertCorrupt(patch(0, 0x1e), /not a gzip stream/);
  assertCorrupt(patch(2, 7), /compression method 7/);
  assertCorrupt(patch(3, 0x20), /reserved flag/);
  assertCorrupt(patch(-1, 0x80), /ISIZE/);
  const header = gz.subarray(0, 10);
  const member = (raw: Buffer): Buffer => Buffer.concat([header, raw, Buffer.alloc(8)]);
  assertCorrupt(member(Buffer.from([0x07])), /invalid block type/);
  assertCorrupt(member(Buffer.from([0x01, 5, 0, 0xfb, 0xff])), /complement/);
  assertCorrupt(member(fixedLiteral(new BitWriter().bits(1, 1).bits(1, 2), 286).code(0, 8).done()), /invalid literal/);
  const badDist = fixedLiteral(new BitWriter().bits(1, 1).bits(1, 2), 65);
  assertCorrupt(member(fixedLiteral(badDist, 257).code(30, 5).code(0, 16).done()), /invalid distance code/);
  const tooFar = fixedLiteral(new BitWriter().bits(1, 1).bits(1, 2), 65);
  assertCorrupt(member(fixedLiteral(tooFar, 257).code(1, 5).code(0, 16).done()), /refers back 2 bytes.*1 bytes so far/);
  // Dynamic block whose code length code is over-subscribed: all 19 lengths 1.
  const dyn = new BitWriter().bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(15, 4);
  for (let i = 0; i < 19; i++) dyn.bits(1, 3);
  assertCorrupt(member(dyn.bits(0, 16).done()), /code length code is over-subscribed/);
  for (let n = 0; n < gz.length; n++) assertCorrupt(gz.subarray(0, n), /truncated/);
});

// A dynamic block's header (RFC 1951 3.2.7): 257 literal/length and 1 distance code lengths, given by a
// code-length code whose `lengths` (by code-length symbol, 0 for unused) are sent in the RFC's order.
function dynamicHeader(lengths: Record<number, number>): BitWriter {
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
  const w = new BitWriter().bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(15, 4);
  for (const sym of order) w.bits(lengths[sym] ?? 0, 3);
  return w;
}

test("a dynamic block's code lengths: each repeat code, and repeats that are not allowed", () => {
  const header = gzip(Buffer.from("x"), 15).subarray(0, 10);
  const member = (raw: Buffer, data = Buffer.alloc(0)): Buffer => Buffer.concat([header, raw, le32(crc32(data)), le32(data.length)]);
  // Code-length symbols 0 and 16 have 1-bit codes (0 and 1): a 16 (repeat the previous length) comes first.
  assertCorrupt(member(dynamicHeader({ 16: 1, 0: 1 }).code(1, 1).bits(0, 2).bits(0, 16).done()), /repeats a code length before any was given/);
  // 0 and 18 (a zero length 11-138 times): twice 138 runs past the 258 lengths declared.
  assertCorrupt(member(dynamicHeader({ 18: 1, 0: 1 }).code(1, 1).bits(127, 7).code(1, 1).bits(127, 7).bits(0, 16).done()), /code lengths run past the end of the alphabet/);

  // Symbols 1, 16, 17 and 18 have 2-bit codes (canonical order: 1=00, 16=01, 17=10, 18=11). The lengths:
  // 0-96 zero (18, 97 times), 97 ('a') 1, 98-235 zero (18, 138 times), 236-255 zero (17, twice 10
  // times), 256 (end of block) 1; then the one distance code.
  const lengths = () =>
    dynamicHeader({ 1: 2, 16: 2, 17: 2, 18: 2 })
      .code(0b11, 2).bits(97 - 11, 7).code(0b00, 2)
      .code(0b11, 2).bits(138 - 11, 7).code(0b10, 2).bits(10 - 3, 3).code(0b10, 2).bits(10 - 3, 3)
      .code(0b00, 2);
  // The distance code's length as 16 (the previous length, at least 3 times) runs past the end.
  assertCorrupt(member(lengths().code(0b01, 2).bits(0, 2).bits(0, 16).done()), /code lengths run past the end of the alphabet/);
  // Given as 1: a valid block, then 'a', 'a' (code 0) and end of block (code 1).
  const data = Buffer.from("aa");
  const gz = member(lengths().code(0b00, 2).code(0, 1).code(0, 1).code(1, 1).done(), data);
  assert.deepEqual(gunzipSync(gz), data); // zlib reads the block as written
  assert.deepEqual(scanGzip(gz), { maxDistance: 0, uncompressedSize: 2, end: gz.length });
});

test("the exact boundary: distance 4096 inflates with a 4 KiB window, 4097 does not", async () => {
  const mp = await micropython();
  for (const size of [4096, 4097]) {
    const r = randomBytes(mulberry32(8), size);
    const data = Buffer.concat([r, r.subarray(0, 300)]);
    const gz = gzip(data, 15);
    assert.equal(scanGzip(gz).maxDistance, size);
    assert.equal(inflatesInSmallWindow(mp, gz, data), size === 4096);
  }
});

// MicroPython's DeflateIO with wbits 12 is exact: it is the reference for "fits a 4 KiB window".
async function micropython(): Promise<MicroPython> {
  const mp = await loadMicroPython({ heapsize: 4 * 1024 * 1024, stdout: () => {}, stderr: () => {} });
  mp.runPython(
    [
      "import deflate",
      "def inflate12():",
      "    with open('/a.gz', 'rb') as f:",
      "        data = deflate.DeflateIO(f, deflate.GZIP, 12).read()",
      "    with open('/out', 'wb') as f:",
      "        f.write(data)",
    ].join("\n"),
  );
  return mp;
}

function inflatesInSmallWindow(mp: MicroPython, gz: Uint8Array, data: Uint8Array): boolean {
  mp.FS.writeFile("/a.gz", gz);
  try {
    mp.runPython("inflate12()");
  } catch {
    return false;
  }
  return Buffer.from(mp.FS.readFile("/out")).equals(data);
}

// Data whose longest match lands around 4 KiB, or far beyond it, or (with windowBits 12) well inside it.
function sampleArchive(rng: () => number, i: number): { data: Buffer; windowBits: number } {
  const windowBits = rng() < 0.3 ? 12 : 15;
  if (i % 3 === 0) {
    const k = int(rng, 3950, 4350);
    const r = randomBytes(rng, k);
    const s = int(rng, 0, 60);
    const repeat = r.subarray(s, s + int(rng, 4, 300));
    return { data: Buffer.concat([r, repeat, randomBytes(rng, int(rng, 0, 200))]), windowBits };
  }
  if (i % 3 === 1) return { data: wordSalad(rng, int(rng, 3000, 30_000), int(rng, 20, 2000)), windowBits };
  const block = randomBytes(rng, int(rng, 3000, 9000));
  const copy = Buffer.from(block);
  for (let n = int(rng, 0, 20); n > 0; n--) copy[int(rng, 0, copy.length - 1)] = int(rng, 0, 255);
  return { data: Buffer.concat([block, copy]), windowBits };
}

test("scanGzip agrees with MicroPython's 4 KiB DeflateIO on 150 seeded archives", async () => {
  const mp = await micropython();
  const rng = mulberry32(9);
  const tally = { fits: 0, tooFar: 0, near: 0 };
  for (let i = 0; i < 150; i++) {
    const { data, windowBits } = sampleArchive(rng, i);
    const gz = gzip(data, windowBits);
    const scan = scanGzip(gz);
    assert.equal(scan.uncompressedSize, data.length);
    const fits = scan.maxDistance <= SMALL_WINDOW;
    assert.equal(fits, inflatesInSmallWindow(mp, gz, data), `archive ${i}: maxDistance ${scan.maxDistance}`);
    if (windowBits === 12) assert.ok(fits);
    tally[fits ? "fits" : "tooFar"]++;
    if (Math.abs(scan.maxDistance - SMALL_WINDOW) <= 200) tally.near++;
  }
  assert.ok(tally.fits >= 30 && tally.tooFar >= 30 && tally.near >= 20, JSON.stringify(tally));
});

// node:test's timeout cannot stop a synchronous endless loop; the vm watchdog can.
const sandbox = createContext({ run: (): unknown => undefined });
const callRun = new Script("run()");
function withDeadline<T>(ms: number, run: () => T): T {
  sandbox.run = run;
  return callRun.runInContext(sandbox, { timeout: ms }) as T;
}

test("fuzz: bit flips and truncations either scan or throw archive-corrupt, and never hang", () => {
  const rng = mulberry32(10);
  const pool = [
    gzip(wordSalad(rng, 8000, 300), 12),
    gzip(wordSalad(rng, 3000, 40), 15),
    gzip(Buffer.from("hello, hello, world"), 15),
    gzip(randomBytes(rng, 2000), 15, 0),
    gzip(Buffer.alloc(0), 15),
    gzip(Buffer.alloc(5000), 15), // truncated, it reads as endless matches: a missed guard once looped forever
    craftGzip(wordSalad(rng, 1000, 50), { extra: Buffer.from("xy"), name: "n", comment: "c", hcrc: true }),
  ];
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const m = Buffer.from(pool[i % pool.length]!);
    for (let n = int(rng, rng() < 0.3 ? 0 : 1, 3); n > 0; n--) {
      const at = rng() < 0.5 ? int(rng, 0, Math.min(40, m.length - 1)) : int(rng, 0, m.length - 1);
      if (rng() < 0.2) m[at] = int(rng, 0, 255);
      else m[at]! ^= 1 << int(rng, 0, 7);
    }
    const mutant = rng() < 0.4 ? m.subarray(0, int(rng, 0, m.length)) : m;
    let scan;
    try {
      scan = withDeadline(2000, () => scanGzip(mutant));
      accepted++;
    } catch (e) {
      assert.ok(e instanceof MpipError && e.code === "archive-corrupt", `case ${i}: ${String(e)}`);
    }
    let inflated: Buffer | undefined;
    try {
      inflated = mutant.length > 0 ? gunzipSync(mutant) : undefined;
    } catch {
      // zlib also checks the CRC, which scanGzip leaves alone
    }
    if (inflated) {
      assert.ok(scan, `case ${i}: zlib inflates what scanGzip rejects`);
      if (scan.end === mutant.length) assert.equal(scan.uncompressedSize, inflated.length, `case ${i}`);
    }
  }
  assert.ok(accepted > 100, `only ${accepted} mutants scanned`);
});
