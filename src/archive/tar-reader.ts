// A strict tar reader, fed the inflated bytes chunk by chunk: ustar, pax (`x`, `g`) and GNU long names
// (`L`, `K`) are applied. It is strict wherever tar readers disagree, because an archive that two tools
// read differently can show a reviewer one set of files and install another: a header with a bad
// checksum, a size that is not a number, data after the end-of-archive marker, an extended header with
// no entry after it, a folder or link that carries data — each is an error here. So is every field given
// twice, since readers pick different ones (GNU tar the last record, Python's tarfile the first, an
// `L` name over a pax `path`): an entry's name comes from its header or from one `L` record or one pax
// `path`, its link name likewise (`K`, `linkpath`); an entry has at most one pax header, with each key
// once; a global header sets no `path`, `linkpath` or `size` (it would give every entry the same one);
// a pax `path`, `linkpath` or `size` is never empty (Python's tarfile takes "" or 0, GNU tar "" or an
// error, POSIX the header's); a GNU-format header has no name prefix (Python's tarfile reads one there,
// GNU tar does not); and a regular file's name does not end in `/` (GNU tar makes it a folder, Python's
// tarfile a file).
// Pure logic: bytes in, events out; unpack.ts does the I/O and decides what is allowed.

import { isAscii } from "node:buffer";
import { printable, quantity } from "../text.js";

export type EntryType = "file" | "directory" | "symlink" | "link" | "character-device" | "block-device" | "fifo" | "unknown";

export interface TarEntry {
  /** 1-based number of the member; pax and GNU records are not members. */
  index: number;
  /** Byte offset of the member's first header (its first pax/GNU record, if any) in the tar. */
  offset: number;
  name: string;
  linkname: string;
  type: EntryType;
  /** The raw type flag, for messages about unknown types. */
  typeflag: string;
  /** Bytes of data that follow (0 for anything but files). */
  size: number;
}

export type TarEvent = { kind: "entry"; entry: TarEntry } | { kind: "data"; bytes: Buffer } | { kind: "entry-end" };

/** The tar is malformed; the message says where. unpack.ts adds which archive. */
export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
}

const BLOCK = 512;
/** pax and GNU records hold a name or a few attributes; anything near this is not a real archive. */
export const MAX_EXTENSION_BYTES = 1024 * 1024;

const TYPES: Record<string, EntryType> = {
  "0": "file", "7": "file", "1": "link", "2": "symlink", "3": "character-device", "4": "block-device", "5": "directory", "6": "fifo",
};
const EXTENSIONS = new Set(["x", "g", "L", "K"]);

const utf8 = new TextDecoder("utf-8", { fatal: true });

type State =
  | { at: "header" }
  | { at: "data"; remaining: number; padding: number }
  | { at: "extension"; typeflag: string; offset: number; size: number; parts: Buffer[]; have: number }
  | { at: "padding"; remaining: number }
  | { at: "end" };

interface Pending {
  offset?: number;
  /** The entry's own pax header (`x`), once read: an entry has at most one. */
  pax?: Map<string, string>;
  longName?: string;
  longLink?: string;
}

/** Keys a global header may not set: every later entry would get the same name, link name or size. */
const NOT_GLOBAL = ["path", "linkpath", "size"];

export class TarReader {
  private state: State = { at: "header" };
  private offset = 0;
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private members = 0;
  private pending: Pending = {};

  /** Parses one chunk. Lazy: a consumer that throws on an event stops the parse right there. */
  *push(chunk: Buffer): Generator<TarEvent> {
    let at = 0;
    while (at < chunk.length) {
      const state = this.state;
      const available = chunk.length - at;
      switch (state.at) {
        case "header": {
          const n = Math.min(BLOCK - this.headerFill, available);
          chunk.copy(this.header, this.headerFill, at, at + n);
          this.headerFill += n;
          at += n;
          this.offset += n;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            yield* this.onHeader();
          }
          break;
        }
        case "data": {
          const n = Math.min(state.remaining, available);
          yield { kind: "data", bytes: chunk.subarray(at, at + n) };
          state.remaining -= n;
          at += n;
          this.offset += n;
          if (state.remaining === 0) {
            this.state = state.padding > 0 ? { at: "padding", remaining: state.padding } : { at: "header" };
            yield { kind: "entry-end" };
          }
          break;
        }
        case "extension": {
          const n = Math.min(state.size - state.have, available);
          state.parts.push(chunk.subarray(at, at + n));
          state.have += n;
          at += n;
          this.offset += n;
          if (state.have === state.size) this.onExtension(state.typeflag, Buffer.concat(state.parts), state.offset);
          break;
        }
        case "padding": {
          const n = Math.min(state.remaining, available);
          state.remaining -= n;
          at += n;
          this.offset += n;
          if (state.remaining === 0) this.state = { at: "header" };
          break;
        }
        case "end": {
          const stray = firstNonZero(chunk, at);
          if (stray >= 0) throw new TarFormatError(`it has data after the tar's end-of-archive marker (at byte ${this.offset + stray - at} of the tar)`);
          this.offset += available;
          at = chunk.length;
          break;
        }
      }
    }
  }

  /** Call after the last chunk: the tar must have ended cleanly, with its end-of-archive marker. */
  finish(): void {
    const { state } = this;
    if (state.at === "end") return;
    if (this.offset === 0) throw new TarFormatError("the tar inside is empty");
    if (state.at === "header" && this.headerFill === 0) {
      throw new TarFormatError(`the tar ends at byte ${this.offset} without its end-of-archive marker (it is truncated)`);
    }
    const where = state.at === "header" ? "a header" : state.at === "extension" ? "an extended header" : "the data of an entry";
    throw new TarFormatError(`the tar is truncated: it ends in the middle of ${where}, at byte ${this.offset}`);
  }

  private *onHeader(): Generator<TarEvent> {
    const block = this.header;
    const offset = this.offset - BLOCK;
    if (firstNonZero(block, 0) < 0) {
      if (this.pending.offset !== undefined) throw new TarFormatError(`the extended header at byte ${this.pending.offset} of the tar is not followed by an entry`);
      this.state = { at: "end" };
      return;
    }
    checkHeader(block, offset);
    const typeflag = block[156] === 0 ? "0" : String.fromCharCode(block[156]!);
    const headerSize = readNumber(block, 124, 12, "size", offset);
    if (EXTENSIONS.has(typeflag)) {
      if (headerSize > MAX_EXTENSION_BYTES) throw new TarFormatError(`the extended header at byte ${offset} of the tar claims ${headerSize} bytes, more than ${MAX_EXTENSION_BYTES}`);
      this.pending.offset ??= offset;
      if (headerSize === 0) this.onExtension(typeflag, Buffer.alloc(0), offset);
      else this.state = { at: "extension", typeflag, offset, size: headerSize, parts: [], have: 0 };
      return;
    }
    const entry = this.member(block, offset, typeflag, headerSize);
    yield { kind: "entry", entry };
    if (entry.size > 0 && entry.type !== "file" && entry.type !== "unknown") {
      // Readers disagree on whether such data exists (tar-stream skips it, Python's tarfile does not).
      throw new TarFormatError(`the ${entry.type} entry at byte ${offset} of the tar claims ${quantity(entry.size, "byte")} of data; entries of this type carry none`);
    }
    if (entry.size === 0) {
      yield { kind: "entry-end" };
      return;
    }
    this.state = { at: "data", remaining: entry.size, padding: padding(entry.size) };
  }

  private member(block: Buffer, offset: number, typeflag: string, headerSize: number): TarEntry {
    const pending = this.pending;
    this.pending = {};
    const pax = pending.pax ?? new Map<string, string>();
    const magic = block.toString("latin1", 257, 263);
    let name = readString(block, 0, 100, "name", offset);
    if (block[345] !== 0) {
      if (magic !== "ustar\0") throw new TarFormatError(`the GNU-format header at byte ${offset} of the tar has bytes where ustar keeps a name prefix: Python's tarfile reads them as part of the name, GNU tar does not`);
      name = `${readString(block, 345, 155, "name prefix", offset)}/${name}`;
    }
    const extended = pax.get("path") ?? pending.longName;
    name = extended ?? name;
    const linkname = pax.get("linkpath") ?? pending.longLink ?? readString(block, 157, 100, "link name", offset);
    let type = TYPES[typeflag] ?? "unknown";
    if (type === "file" && name.endsWith("/")) {
      // Old tars mark folders so (type NUL and a name ending in `/` in the header), and every reader agrees;
      // a `0` or `7`, or a name from an extended record, is a folder to GNU tar and a file to Python's tarfile.
      if (block[156] !== 0 || extended !== undefined) {
        throw new TarFormatError(`the entry at byte ${pending.offset ?? offset} of the tar is a regular file whose name \`${printable(name, 200)}\` ends in \`/\`: GNU tar takes it for a folder, Python's tarfile for a file`);
      }
      type = "directory";
    }
    const paxSize = pax.get("size");
    if (paxSize !== undefined && !/^\d{1,15}$/.test(paxSize)) throw new TarFormatError(`the pax size of the entry at byte ${offset} of the tar is not a number`);
    const size = paxSize === undefined ? headerSize : Number(paxSize);
    return { index: ++this.members, offset: pending.offset ?? offset, name, linkname, type, typeflag, size };
  }

  private onExtension(typeflag: string, data: Buffer, offset: number): void {
    const size = data.length;
    const pending = this.pending;
    const twice = (what: string) => new TarFormatError(`the entry after byte ${pending.offset ?? offset} of the tar is given ${what}; tar readers disagree on which one counts`);
    if (typeflag === "L" || typeflag === "K") {
      const end = data.indexOf(0);
      const value = decode(data.subarray(0, end < 0 ? data.length : end), "GNU long name", offset);
      const [field, key, other] = typeflag === "L" ? ["longName", "path", "name"] as const : ["longLink", "linkpath", "link name"] as const;
      if (pending[field] !== undefined) throw twice(`two GNU long ${other} records (\`${typeflag}\`)`);
      if (pending.pax?.has(key) === true) throw twice(`its ${other} twice, by a pax \`${key}\` and a GNU long ${other} record (\`${typeflag}\`)`);
      pending[field] = value;
    } else {
      const records = parsePax(data, offset);
      if (typeflag === "g") {
        const key = NOT_GLOBAL.find((candidate) => records.has(candidate));
        if (key !== undefined) throw new TarFormatError(`the global pax header at byte ${offset} of the tar sets \`${key}\`, which would give every later entry the same one`);
        if (pending.pax === undefined && pending.longName === undefined && pending.longLink === undefined) {
          pending.offset = undefined; // a global header stands alone: no entry need follow it
        }
      } else {
        if (pending.pax !== undefined) throw twice("two pax headers (`x`)");
        for (const key of ["path", "linkpath", "size"]) {
          if (records.get(key) === "") throw new TarFormatError(`the pax header at byte ${offset} of the tar has an empty \`${key}\`: tar readers disagree on what it means (none, the header's, or an error)`);
        }
        if (records.has("path") && pending.longName !== undefined) throw twice("its name twice, by a GNU long name record (`L`) and a pax `path`");
        if (records.has("linkpath") && pending.longLink !== undefined) throw twice("its link name twice, by a GNU long link name record (`K`) and a pax `linkpath`");
        pending.pax = records;
      }
    }
    this.state = padding(size) > 0 ? { at: "padding", remaining: padding(size) } : { at: "header" };
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** A block of zeros, to compare with natively rather than byte by byte. */
const ZEROS = Buffer.alloc(BLOCK);

/**
 * The index of the first byte from `start` on in `bytes` that is not zero, or -1. Compared a block at a
 * time by the native `compare` (a tar ends with up to 10 KiB of zeros, which an interpreted loop over
 * each byte spends far longer on); a block that differs is then searched byte by byte.
 */
function firstNonZero(bytes: Buffer, start: number): number {
  for (let at = start; at < bytes.length; at += BLOCK) {
    const end = Math.min(at + BLOCK, bytes.length);
    if (bytes.compare(ZEROS, 0, end - at, at, end) === 0) continue;
    for (let i = at; i < end; i++) if (bytes[i] !== 0) return i;
  }
  return -1;
}

function checkHeader(block: Buffer, offset: number): void {
  const stored = parseOctal(block.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) {
    const storedText = stored === undefined ? "no number" : `0o${stored.toString(8)}`;
    throw new TarFormatError(`the tar header at byte ${offset} has a bad checksum (it stores ${storedText}, its bytes sum to 0o${unsigned.toString(8)})`);
  }
  const magic = block.toString("latin1", 257, 265);
  if (!magic.startsWith("ustar\0") && magic !== "ustar  \0") {
    throw new TarFormatError(`the tar header at byte ${offset} is in an unknown format (not ustar, pax or GNU)`);
  }
}

/** Octal digits, optionally padded with spaces, ended by a NUL or space (as Python's tarfile reads them). */
function parseOctal(field: Buffer): number | undefined {
  const zero = field.indexOf(0);
  const text = field.toString("latin1", 0, zero < 0 ? field.length : zero).trim();
  if (text === "") return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

function readNumber(block: Buffer, start: number, length: number, what: string, offset: number): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    // GNU base-256: 0x80 then a big-endian number; 0xff starts a negative one.
    if (field[0] !== 0x80) throw new TarFormatError(`the ${what} of the tar header at byte ${offset} is negative`);
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`the ${what} of the tar header at byte ${offset} is too large`);
    return value;
  }
  const value = parseOctal(field);
  if (value === undefined) throw new TarFormatError(`the ${what} of the tar header at byte ${offset} is not an octal number`);
  return value;
}

function readString(block: Buffer, start: number, length: number, what: string, offset: number): string {
  const end = block.indexOf(0, start);
  return decode(block.subarray(start, end < 0 || end > start + length ? start + length : end), what, offset);
}

function decode(bytes: Buffer, what: string, offset: number): string {
  // Names are nearly always ASCII, which is valid UTF-8 and reads the same in latin1: the native check
  // and slice cost a fraction of the decoder's validating call.
  if (isAscii(bytes)) return bytes.toString("latin1");
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TarFormatError(`the ${what} at byte ${offset} of the tar is not valid UTF-8`);
  }
}

/** pax records: "<length> <key>=<value>\n", the length counting the whole record; each key at most once. */
function parsePax(data: Buffer, offset: number): Map<string, string> {
  const records = new Map<string, string>();
  const malformed = () => new TarFormatError(`the pax header at byte ${offset} of the tar has a malformed record`);
  for (let at = 0; at < data.length; ) {
    if (firstNonZero(data, at) < 0) break; // some writers pad the block with NULs
    const space = data.indexOf(0x20, at);
    const lengthText = data.toString("latin1", at, space);
    if (space < 0 || !/^[1-9]\d{0,7}$/.test(lengthText)) throw malformed();
    const end = at + Number(lengthText);
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) throw malformed();
    const record = data.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw malformed();
    const key = decode(record.subarray(0, equals), "pax record key", offset);
    if (key.startsWith("GNU.sparse.")) throw new TarFormatError(`the entry after byte ${offset} of the tar is a GNU sparse file, which mpip does not unpack`);
    if (records.has(key)) throw new TarFormatError(`the pax header at byte ${offset} of the tar gives \`${printable(key, 60)}\` twice; tar readers disagree on which one counts`);
    records.set(key, decode(record.subarray(equals + 1), `pax \`${key}\` record`, offset));
    at = end;
  }
  return records;
}
