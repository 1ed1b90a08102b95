import { gunzipSync } from "node:zlib";
// Hand-made tar headers for hostile-archive tests: every field can be given raw (a bad checksum, a size
// that is not octal, a device type flag), which no tar writer, not even test/helpers/sdist.ts, would emit.

export interface HeaderFields {
  name?: string | Buffer;
  /** The raw 12-byte size field, or a number written as octal. */
  size?: number | string | Buffer;
  typeflag?: string;
  linkname?: string;
  /** "ustar" (POSIX, default), "gnu", or raw bytes for offset 257..265. */
  magic?: "ustar" | "gnu" | Buffer;
  prefix?: string;
  mode?: string;
  mtime?: string;
  /** Raw 8-byte checksum field; by default the correct checksum. */
  checksum?: string | Buffer;
}

const field = (value: string | Buffer): Buffer => (typeof value === "string" ? Buffer.from(value, "utf8") : value);

export function tarHeader(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(512);
  field(fields.name ?? "x").copy(block, 0, 0, 100);
  block.write(fields.mode ?? "0000644\0", 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  const size = fields.size ?? 0;
  if (typeof size === "number") block.write(size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  else field(size).copy(block, 124, 0, 12);
  block.write(fields.mtime ?? "14524770400\0", 136, "latin1");
  block.write(fields.typeflag ?? "0", 156, "latin1");
  field(fields.linkname ?? "").copy(block, 157, 0, 100);
  const magic = fields.magic ?? "ustar";
  if (magic === "ustar") block.write("ustar\u000000", 257, "latin1");
  else if (magic === "gnu") block.write("ustar  \0", 257, "latin1");
  else magic.copy(block, 257, 0, 8);
  if (fields.prefix !== undefined) Buffer.from(fields.prefix).copy(block, 345, 0, 155);
  if (fields.checksum === undefined) fixChecksum(block);
  else field(fields.checksum).copy(block, 148, 0, 8);
  return block;
}

/** Recomputes the checksum of the header block at `offset` of `tar`. */
export function fixChecksum(tar: Buffer, offset = 0): void {
  tar.fill(0x20, offset + 148, offset + 156);
  let sum = 0;
  for (let i = offset; i < offset + 512; i++) sum += tar[i]!;
  tar.write(sum.toString(8).padStart(6, "0") + "\0 ", offset + 148, "latin1");
}

/** A header, then `data` padded to whole blocks. The header's size is data's length unless given. */
export function tarEntry(fields: HeaderFields, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const bytes = field(data);
  const header = tarHeader({ size: bytes.length, ...fields });
  return Buffer.concat([header, bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512)]);
}

/** One pax record: "<len> key=value\n". */
export function paxData(records: Record<string, string | Buffer>): Buffer {
  const parts = Object.entries(records).map(([key, value]) => {
    const body = Buffer.concat([Buffer.from(` ${key}=`), field(value), Buffer.from("\n")]);
    let length = body.length + String(body.length).length;
    if (String(length).length !== String(body.length).length) length = body.length + String(length).length;
    return Buffer.concat([Buffer.from(String(length)), body]);
  });
  return Buffer.concat(parts);
}

export const tarEnd = (): Buffer => Buffer.alloc(1024);

/** Offsets of the header blocks of a well-formed tar (up to its end-of-archive marker). */
export function headerOffsets(tar: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const block = tar.subarray(at, at + 512);
    if (block.every((byte) => byte === 0)) break;
    offsets.push(at);
    const size = parseInt(block.toString("latin1", 124, 136).replace(/\0.*$/s, "").trim() || "0", 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return offsets;
}

/** The regular files of a ustar `.tar.gz` by name, read with a minimal parser (short names: no pax, no prefix). */
export function tarGzMembers(archive: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(archive);
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const name = tar.subarray(at, at + 100).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(tar.subarray(at + 124, at + 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
    out.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
