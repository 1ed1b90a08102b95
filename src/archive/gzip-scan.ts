// Measures the largest back-reference distance of a gzip member without inflating it.
// Why: upip archives must inflate on devices with a 4 KiB window (wbits=12), and zlib's own inflate at
// windowBits 12 is no exact check: it lets distances reach into its output buffer, so it accepts many
// archives that need a 32 KiB window. Only the distances in the deflate stream tell the truth.
// The decoder follows RFC 1951 and zlib's validity rules; it counts output instead of producing it.
import * as zlib from "node:zlib";
import { MpipError } from "../errors.js";

export interface GzipScan {
  maxDistance: number; // largest match distance in the deflate stream (0 if none)
  uncompressedSize: number; // bytes the member inflates to (computed while parsing)
  end: number; // offset just after the gzip trailer (CRC32 + ISIZE), so callers can detect trailing bytes
}

export const SMALL_WINDOW = 4096; // what a device with wbits=12 can inflate

const TRUNCATED = "gzip stream is truncated (deflate block ended early)";
const HEADER_TRUNCATED = "gzip stream is truncated (header ended early)";
const BAD_LITERAL = "deflate stream has an invalid literal/length code";
const BAD_DISTANCE = "deflate stream has an invalid distance code";
const MAX_BITS = 15;
const LIT_ROOT = 10; // table bits: covers nearly every literal/length code, the rest take the slow path
const DIST_ROOT = 8;

function corrupt(message: string): MpipError {
  return new MpipError("archive-corrupt", message);
}

// Table entries pack everything the hot loop needs into one int: bits 0-3 code length (0 = not in the
// table), 4-7 extra bits, 8-9 kind, 10+ base value; literals also set the sign bit, for a one-compare test.
const LITERAL = 0, END = 1, MATCH = 2, BAD = 3;

function entry(kind: number, extra: number, base: number): number {
  return (base << 10) | (kind << 8) | (extra << 4);
}

const LIT_ENTRY = new Int32Array(288);
const DIST_ENTRY = new Int32Array(32);
const CODE_LEN_ENTRY = Int32Array.from({ length: 19 }, (_, sym) => entry(LITERAL, 0, sym));
const CODE_LEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

for (let sym = 0; sym < 256; sym++) LIT_ENTRY[sym] = entry(LITERAL, 0, sym) | (1 << 31);
LIT_ENTRY[256] = entry(END, 0, 0);
for (let i = 0, base = 3; i < 28; i++) {
  const extra = i < 8 ? 0 : (i >> 2) - 1;
  LIT_ENTRY[257 + i] = entry(MATCH, extra, base);
  base += 1 << extra;
}
LIT_ENTRY[285] = entry(MATCH, 0, 258);
LIT_ENTRY[286] = LIT_ENTRY[287] = DIST_ENTRY[30] = DIST_ENTRY[31] = entry(BAD, 0, 0);
for (let i = 0, base = 1; i < 30; i++) {
  const extra = i < 4 ? 0 : (i >> 1) - 1;
  DIST_ENTRY[i] = entry(MATCH, extra, base);
  base += 1 << extra;
}

interface Huffman {
  fast: Int32Array; // indexed by the next `root` bits of input
  count: Uint16Array; // codes per length, for the canonical slow path (as in zlib's puff.c)
  symbol: Uint16Array; // symbols ordered by code
  entries: Int32Array; // entry of each symbol, without its code length
}

/** `code`'s low `len` bits in reverse order (deflate sends Huffman codes most significant bit first). */
function reverseBits(code: number, len: number): number {
  // Straight-line swaps rather than a loop over the bits: this runs once per symbol of every table, in
  // processes too short-lived for V8 to optimise it, where each loop turn is interpreted.
  let v = ((code >>> 1) & 0x5555) | ((code & 0x5555) << 1);
  v = ((v >>> 2) & 0x3333) | ((v & 0x3333) << 2);
  v = ((v >>> 4) & 0x0f0f) | ((v & 0x0f0f) << 4);
  v = ((v >>> 8) & 0x00ff) | ((v & 0x00ff) << 8);
  return v >>> (16 - len);
}

function buildHuffman(
  lens: Uint8Array,
  entries: Int32Array,
  root: number,
  what: string,
  complete: boolean,
): Huffman {
  // Indexed loops throughout: an archive's tables are built a few times in a short run, mostly by V8's
  // interpreter, where `for...of` and `forEach` cost several times a plain loop.
  const n = lens.length;
  const count = new Uint16Array(MAX_BITS + 1);
  for (let sym = 0; sym < n; sym++) count[lens[sym]!]!++;
  let left = 1;
  let max = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    left = (left << 1) - count[len]!;
    if (left < 0) throw corrupt(`deflate ${what} code is over-subscribed`);
    if (count[len]) max = len;
  }
  // zlib's rule: only a lone 1-bit code, or no code at all, may leave the code space incomplete.
  if (left > 0 && (complete || max > 1)) throw corrupt(`deflate ${what} code is incomplete`);
  const offsets = new Uint16Array(MAX_BITS + 2);
  for (let len = 1; len <= MAX_BITS; len++) offsets[len + 1] = offsets[len]! + count[len]!;
  const symbol = new Uint16Array(n);
  for (let sym = 0; sym < n; sym++) {
    const len = lens[sym]!;
    if (len) symbol[offsets[len]!++] = sym;
  }
  const size = 1 << root;
  const fast = new Int32Array(size);
  for (let len = 1, code = 0, k = 0; len <= root; len++, code <<= 1) {
    const step = 1 << len;
    for (let c = count[len]!; c > 0; c--, code++) {
      const e = entries[symbol[k++]!]! | len;
      for (let j = reverseBits(code, len); j < size; j += step) fast[j] = e;
    }
  }
  return { fast, count, symbol, entries };
}

// Canonical decoding for codes longer than the table; returns 0 for a code the stream may not use.
function slowDecode(h: Huffman, bits: number): number {
  for (let len = 1, code = 0, first = 0, index = 0; len <= MAX_BITS; len++) {
    code |= (bits >>> (len - 1)) & 1;
    const c = h.count[len]!;
    if (code - first < c) return h.entries[h.symbol[index + code - first]!]! | len;
    index += c;
    first = (first + c) << 1;
    code <<= 1;
  }
  return 0;
}

function fixedTables(): [Huffman, Huffman] {
  const lens = new Uint8Array(288);
  lens.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
  const dist = new Uint8Array(32).fill(5);
  return [
    buildHuffman(lens, LIT_ENTRY, LIT_ROOT, "literal/length", true),
    buildHuffman(dist, DIST_ENTRY, DIST_ROOT, "distance", true),
  ];
}
/** The fixed codes' tables, built when a first fixed block is met rather than when mpip loads. */
let fixed: [Huffman, Huffman] | undefined;

// Bit reader plus output tally. Past the end it reads zero bits (a few bytes at most); `overrun` then
// tells whether those phantom bits were really consumed.
class Scanner {
  readonly bytes: Uint8Array; // the input plus zero padding, so reads near the end need no bounds checks
  readonly size: number;
  buf = 0;
  cnt = 0;
  out = 0;
  maxDist = 0;
  constructor(data: Uint8Array, public pos: number) {
    this.size = data.length;
    this.bytes = new Uint8Array(data.length + 16);
    this.bytes.set(data);
  }
  need(k: number): void {
    while (this.cnt < k) {
      if (this.pos >= this.size + 8) throw corrupt(TRUNCATED);
      this.buf |= this.bytes[this.pos++]! << this.cnt;
      this.cnt += 8;
    }
  }
  take(k: number): number {
    this.need(k);
    const v = this.buf & ((1 << k) - 1);
    this.buf >>= k;
    this.cnt -= k;
    return v;
  }
  overrun(): boolean {
    return this.pos * 8 - this.cnt > this.size * 8;
  }
  fail(message: string): MpipError {
    return corrupt(this.overrun() ? TRUNCATED : message);
  }
  // Drops the partial byte and hands back the byte offset of the next unread byte.
  align(): number {
    const at = this.pos - ((this.cnt - (this.cnt & 7)) >>> 3);
    this.buf = this.cnt = 0;
    this.pos = at;
    return at;
  }
}

// The hot loop: state lives in locals, errors leave through `err` so no closure captures them.
// Refilling 16 bits only below 15 keeps the buffer under 2^30, a small int for V8 (hence `>>`, not `>>>`):
// with a full 32-bit buffer V8 falls back to doubles, which measured a third slower.
function inflateCodes(z: Scanner, lit: Huffman, dist: Huffman): void {
  const bytes = z.bytes;
  const limit = z.size + 4;
  const { fast: lfast } = lit;
  const { fast: dfast } = dist;
  const lmask = lfast.length - 1;
  const dmask = dfast.length - 1;
  let { pos, buf, cnt, out, maxDist } = z;
  let err = "";
  for (;;) {
    if (pos >= limit) { err = TRUNCATED; break; } // one pass refills at most 8 bytes: the padding holds
    if (cnt < 15) { buf |= (bytes[pos]! | (bytes[pos + 1]! << 8)) << cnt; pos += 2; cnt += 16; }
    let e = lfast[buf & lmask]!;
    if ((e & 15) === 0 && (e = slowDecode(lit, buf)) === 0) { err = BAD_LITERAL; break; }
    buf >>= e & 15;
    cnt -= e & 15;
    if (e < 0) { out++; continue; }
    const kind = (e >> 8) & 3;
    if (kind === END) break;
    if (kind === BAD) { err = BAD_LITERAL; break; }
    let extra = (e >> 4) & 15;
    if (cnt < extra) { buf |= (bytes[pos]! | (bytes[pos + 1]! << 8)) << cnt; pos += 2; cnt += 16; }
    const length = (e >> 10) + (buf & ((1 << extra) - 1));
    buf >>= extra;
    cnt -= extra;
    if (cnt < 15) { buf |= (bytes[pos]! | (bytes[pos + 1]! << 8)) << cnt; pos += 2; cnt += 16; }
    e = dfast[buf & dmask]!;
    if ((e & 15) === 0 && (e = slowDecode(dist, buf)) === 0) { err = BAD_DISTANCE; break; }
    if (((e >> 8) & 3) === BAD) { err = BAD_DISTANCE; break; }
    buf >>= e & 15;
    cnt -= e & 15;
    extra = (e >> 4) & 15;
    if (cnt < extra) { buf |= (bytes[pos]! | (bytes[pos + 1]! << 8)) << cnt; pos += 2; cnt += 16; }
    const distance = (e >> 10) + (buf & ((1 << extra) - 1));
    buf >>= extra;
    cnt -= extra;
    if (distance > out) {
      err = `deflate stream refers back ${distance} bytes, before the start of its output (${out} bytes so far)`;
      break;
    }
    if (distance > maxDist) maxDist = distance;
    out += length;
  }
  Object.assign(z, { pos, buf, cnt, out, maxDist });
  if (err) throw z.fail(err);
}

function storedBlock(z: Scanner): void {
  const d = z.bytes;
  const at = z.align();
  if (at + 4 > z.size) throw corrupt(TRUNCATED);
  const len = d[at]! | (d[at + 1]! << 8);
  const nlen = d[at + 2]! | (d[at + 3]! << 8);
  if (len !== (~nlen & 0xffff)) throw corrupt("deflate stored block length does not match its complement");
  if (at + 4 + len > z.size) throw corrupt(TRUNCATED);
  z.pos = at + 4 + len;
  z.out += len;
}

function dynamicTables(z: Scanner): [Huffman, Huffman] {
  const nlen = z.take(5) + 257;
  const ndist = z.take(5) + 1;
  const ncode = z.take(4) + 4;
  if (nlen > 286 || ndist > 30) throw z.fail("deflate block declares too many length or distance codes");
  const clens = new Uint8Array(19);
  for (let i = 0; i < ncode; i++) clens[CODE_LEN_ORDER[i]!] = z.take(3);
  if (z.overrun()) throw corrupt(TRUNCATED);
  const cl = buildHuffman(clens, CODE_LEN_ENTRY, 7, "code length", true);
  const lens = new Uint8Array(nlen + ndist);
  const total = lens.length;
  const clFast = cl.fast;
  for (let i = 0; i < total; ) {
    // need() and take() written out: this loop runs a few hundred times a block, interpreted.
    if (z.cnt < 14) z.need(14); // a code (at most 7 bits) and its repeat count (at most 7)
    const e = clFast[z.buf & 127]!;
    const used = e & 15;
    z.buf >>= used;
    z.cnt -= used;
    const sym = e >>> 10;
    if (sym < 16) { lens[i++] = sym; continue; }
    if (sym === 16 && i === 0) throw z.fail("deflate stream repeats a code length before any was given");
    const value = sym === 16 ? lens[i - 1]! : 0;
    const bits = sym === 16 ? 2 : sym === 17 ? 3 : 7;
    const repeat = (sym === 18 ? 11 : 3) + (z.buf & ((1 << bits) - 1));
    z.buf >>= bits;
    z.cnt -= bits;
    if (i + repeat > total) throw z.fail("deflate code lengths run past the end of the alphabet");
    for (let end = i + repeat; i < end; i++) lens[i] = value;
  }
  if (z.overrun()) throw corrupt(TRUNCATED);
  if (lens[256] === 0) throw corrupt("deflate block has no end-of-block code");
  return [
    buildHuffman(lens.subarray(0, nlen), LIT_ENTRY, LIT_ROOT, "literal/length", false),
    buildHuffman(lens.subarray(nlen), DIST_ENTRY, DIST_ROOT, "distance", false),
  ];
}

// Returns the offset of the deflate stream.
function parseHeader(d: Uint8Array): number {
  const magic = d[0] === 0x1f && (d.length < 2 || d[1] === 0x8b);
  if (d.length > 0 && !magic) throw corrupt("not a gzip stream (bad magic bytes)");
  if (d.length < 10) throw corrupt(HEADER_TRUNCATED);
  if (d[2] !== 8) throw corrupt(`gzip stream uses compression method ${d[2]}, not deflate`);
  const flags = d[3]!;
  if (flags & 0xe0) throw corrupt("gzip header has reserved flag bits set");
  let at = 10;
  if (flags & 4) {
    if (at + 2 > d.length) throw corrupt(HEADER_TRUNCATED);
    at += 2 + (d[at]! | (d[at + 1]! << 8));
  }
  for (const flag of [8, 16]) {
    if (!(flags & flag)) continue; // FNAME, FCOMMENT: zero-terminated
    const zero = d.indexOf(0, at);
    if (zero < 0) throw corrupt(HEADER_TRUNCATED);
    at = zero + 1;
  }
  if (flags & 2) {
    if (at + 2 > d.length) throw corrupt(HEADER_TRUNCATED);
    const stored = d[at]! | (d[at + 1]! << 8);
    // zlib.crc32 exists from Node 20.15 on; older versions skip this check.
    if (typeof zlib.crc32 === "function" && (zlib.crc32(d.subarray(0, at)) & 0xffff) !== stored) {
      throw corrupt("gzip header CRC does not match");
    }
    at += 2;
  }
  if (at > d.length) throw corrupt(HEADER_TRUNCATED);
  return at;
}

export function scanGzip(data: Uint8Array): GzipScan {
  const z = new Scanner(data, parseHeader(data));
  for (let last = 0; !last; ) {
    last = z.take(1);
    const type = z.take(2);
    if (type === 0) storedBlock(z);
    else if (type === 1) inflateCodes(z, ...(fixed ??= fixedTables()));
    else if (type === 2) inflateCodes(z, ...dynamicTables(z));
    else throw z.fail("deflate stream has an invalid block type (3)");
    if (z.overrun()) throw corrupt(TRUNCATED);
  }
  const at = z.align();
  if (at + 8 > data.length) throw corrupt("gzip stream is truncated (trailer missing)");
  const isize = (data[at + 4]! | (data[at + 5]! << 8) | (data[at + 6]! << 16) | (data[at + 7]! << 24)) >>> 0;
  if (isize !== z.out % 2 ** 32) {
    throw corrupt(`gzip trailer says ${isize} bytes (ISIZE) but the stream inflates to ${z.out}`);
  }
  return { maxDistance: z.maxDist, uncompressedSize: z.out, end: at + 8 };
}
