// Builds upip-style sdists (.tar.gz) from a declarative description, byte for byte reproducible.
// The tar writer is hand-made (not tar-stream's pack) so that every header is exactly what the test asks for:
// tar-stream's pack() silently moves long names into the ustar `prefix` field (which MicroPython's tarfile
// ignores) and names its pax header `PaxHeader`; here the format is explicit and checked.
import { gzipSync } from "node:zlib";

export interface SdistSpec {
  name: string;
  version: string;
  /** Paths relative to the top folder, e.g. {"foo/__init__.py": "..."}. */
  files: Record<string, string | Uint8Array>;
  /** Lines of <name>.egg-info/requires.txt, written verbatim. */
  requires?: string[];
  /** If given: Requires-Dist lines of a top-level PKG-INFO, and no requires.txt at all. */
  requiresDist?: string[];
}

export type TarFormat = "ustar" | "ustar-prefix" | "pax" | "gnu";

export interface ExtraEntry {
  /** Full path inside the archive, including the top folder (or not: it is written verbatim). */
  name: string;
  type: "file" | "directory" | "symlink" | "link";
  content?: string | Uint8Array;
  linkname?: string;
  /** Force a pax extended header ('x') with exactly these records before this entry (any format). */
  pax?: Record<string, string>;
  mode?: number;
}

export interface SdistOptions {
  /** Deflate window: default 12 (4 KiB, like sdist_upip); 15 for an archive that needs 32 KiB. */
  windowBits?: number;
  /** Default 9. */
  level?: number;
  /**
   * "ustar" (default): plain ustar, names of at most 100 bytes; a longer name throws.
   * "ustar-prefix": ustar that splits a long name into the 155-byte `prefix` field (POSIX; device readers ignore it).
   * "pax": a pax extended header ('x', named `././@PaxHeader`, record `path=`/`linkpath=`) for names > 100 bytes,
   *   followed by the entry with its name truncated to 100 bytes (as Python's tarfile does).
   * "gnu": a `././@LongLink` 'L' (or 'K' for link names) record, then the entry with a truncated name;
   *   all headers then carry the GNU magic "ustar  \0".
   */
  format?: TarFormat;
  /** Raw entries appended verbatim after the regular ones (for hostile-archive tests). */
  extraEntries?: ExtraEntry[];
  /** Seconds since the epoch written in every tar header; default 1700000000. */
  mtime?: number;
  /** Default `${name}-${version}`. */
  topFolder?: string;
}

export const DEFAULT_MTIME = 1700000000;

export function sdistFilename(spec: SdistSpec): string {
  return `${spec.name}-${spec.version}.tar.gz`;
}

// ---------------------------------------------------------------------------------------------------------------
// tar writing

interface RawEntry {
  name: string;
  typeflag: string; // one character: '0', '5', '2', '1', 'x', 'L', 'K', ...
  data: Buffer;
  linkname: string;
  mode: number;
}

const enc = (s: string | Uint8Array): Buffer => (typeof s === "string" ? Buffer.from(s, "utf8") : Buffer.from(s));

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: value ${value} does not fit in ${width} bytes`);
  return s.padStart(width - 1, "0") + "\0";
}

/** Encodes one 512-byte header block; `name`, `linkname` and `prefix` are written as given (byte-truncated). */
function headerBlock(
  fields: { name: Buffer; prefix?: Buffer; linkname: Buffer; mode: number; size: number; mtime: number; typeflag: string },
  gnu: boolean,
): Buffer {
  const b = Buffer.alloc(512);
  fields.name.copy(b, 0, 0, Math.min(100, fields.name.length));
  b.write(octal(fields.mode, 8), 100, "latin1");
  b.write(octal(0, 8), 108, "latin1"); // uid
  b.write(octal(0, 8), 116, "latin1"); // gid
  b.write(octal(fields.size, 12), 124, "latin1");
  b.write(octal(fields.mtime, 12), 136, "latin1");
  b.write(fields.typeflag, 156, "latin1");
  fields.linkname.copy(b, 157, 0, Math.min(100, fields.linkname.length));
  b.write(gnu ? "ustar  \0" : "ustar\u000000", 257, "latin1");
  if (!gnu) {
    b.write(octal(0, 8), 329, "latin1"); // devmajor
    b.write(octal(0, 8), 337, "latin1"); // devminor
  }
  if (fields.prefix) fields.prefix.copy(b, 345, 0, Math.min(155, fields.prefix.length));
  b.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return b;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % 512;
  return rest === 0 ? [data] : [data, Buffer.alloc(512 - rest)];
}

/** One pax record: "<len> key=value\n", where len counts the whole record including its own digits. */
export function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.byteLength(` ${key}=${value}\n`);
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.from(`${len} ${key}=${value}\n`, "utf8");
}

function splitPrefix(name: Buffer): { prefix: Buffer; name: Buffer } | null {
  // POSIX ustar: prefix (<= 155 bytes) + "/" + name (<= 100 bytes), split at a slash.
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== 0x2f) continue;
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
    }
  }
  return null;
}

function encodeEntry(e: RawEntry, format: TarFormat, mtime: number, forcedPax?: Record<string, string>): Buffer[] {
  const gnu = format === "gnu";
  const name = enc(e.name);
  const linkname = enc(e.linkname);
  const out: Buffer[] = [];
  const base = { name, linkname, mode: e.mode, size: e.data.length, mtime, typeflag: e.typeflag };
  let prefix: Buffer | undefined;
  const paxRecords: Buffer[] = [];
  if (forcedPax) for (const [k, v] of Object.entries(forcedPax)) paxRecords.push(paxRecord(k, v));

  const tooLong = name.length > 100 || linkname.length > 100;
  if (tooLong) {
    switch (format) {
      case "ustar":
        throw new Error(`ustar: name does not fit in 100 bytes (${name.length}/${linkname.length}): ${e.name}; use format "pax" or "gnu"`);
      case "ustar-prefix": {
        const split = linkname.length <= 100 ? splitPrefix(name) : null;
        if (!split) throw new Error(`ustar: name cannot be split into prefix/name: ${e.name}`);
        base.name = split.name;
        prefix = split.prefix;
        break;
      }
      case "pax":
        if (name.length > 100 && !forcedPax?.path) paxRecords.push(paxRecord("path", e.name));
        if (linkname.length > 100 && !forcedPax?.linkpath) paxRecords.push(paxRecord("linkpath", e.linkname));
        break;
      case "gnu":
        if (linkname.length > 100) out.push(...longLink("K", linkname, mtime));
        if (name.length > 100) out.push(...longLink("L", name, mtime));
        break;
    }
  }
  if (paxRecords.length > 0) {
    const data = Buffer.concat(paxRecords);
    const paxName = enc("././@PaxHeader");
    out.push(headerBlock({ name: paxName, linkname: Buffer.alloc(0), mode: 0o644, size: data.length, mtime, typeflag: "x" }, gnu));
    out.push(...padded(data));
  }
  out.push(headerBlock({ ...base, prefix }, gnu));
  if (e.data.length > 0) out.push(...padded(e.data));
  return out;
}

function longLink(typeflag: "L" | "K", value: Buffer, mtime: number): Buffer[] {
  const data = Buffer.concat([value, Buffer.alloc(1)]);
  const name = enc("././@LongLink");
  return [headerBlock({ name, linkname: Buffer.alloc(0), mode: 0o644, size: data.length, mtime, typeflag }, true), ...padded(data)];
}

const TYPEFLAGS = { file: "0", directory: "5", symlink: "2", link: "1" } as const;

// ---------------------------------------------------------------------------------------------------------------
// sdist layout

function pkgInfo(spec: SdistSpec, withRequiresDist: boolean): string {
  const lines = [
    `Metadata-Version: ${withRequiresDist ? "2.1" : "1.1"}`,
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    `Summary: ${spec.name} (test package)`,
  ];
  if (withRequiresDist) for (const r of spec.requiresDist ?? []) lines.push(`Requires-Dist: ${r}`);
  return lines.join("\n") + "\n";
}

/** The uncompressed tar bytes of the sdist. */
export function buildSdistTar(spec: SdistSpec, options: SdistOptions = {}): Buffer {
  const format = options.format ?? "ustar";
  const mtime = options.mtime ?? DEFAULT_MTIME;
  const top = options.topFolder ?? `${spec.name}-${spec.version}`;
  const file = (name: string, content: string | Uint8Array): RawEntry => ({ name, typeflag: "0", data: enc(content), linkname: "", mode: 0o644 });
  const dir = (name: string): RawEntry => ({ name: name.endsWith("/") ? name : name + "/", typeflag: "5", data: Buffer.alloc(0), linkname: "", mode: 0o755 });

  const entries: RawEntry[] = [dir(top)];
  if (spec.requiresDist) entries.push(file(`${top}/PKG-INFO`, pkgInfo(spec, true)));
  entries.push(file(`${top}/${spec.name}.egg-info/PKG-INFO`, pkgInfo(spec, false)));
  if (spec.requires && !spec.requiresDist) {
    entries.push(file(`${top}/${spec.name}.egg-info/requires.txt`, spec.requires.map((l) => l + "\n").join("")));
  }
  const seenDirs = new Set<string>();
  for (const path of Object.keys(spec.files).sort()) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join("/");
      if (!seenDirs.has(d)) {
        seenDirs.add(d);
        entries.push(dir(`${top}/${d}`));
      }
    }
    entries.push(file(`${top}/${path}`, spec.files[path]!));
  }

  const blocks: Buffer[] = [];
  for (const e of entries) blocks.push(...encodeEntry(e, format, mtime));
  for (const x of options.extraEntries ?? []) {
    const raw: RawEntry = {
      name: x.name,
      typeflag: TYPEFLAGS[x.type],
      data: x.type === "file" ? enc(x.content ?? "") : Buffer.alloc(0),
      linkname: x.linkname ?? "",
      mode: x.mode ?? (x.type === "directory" ? 0o755 : 0o644),
    };
    blocks.push(...encodeEntry(raw, format, mtime, x.pax));
  }
  blocks.push(Buffer.alloc(1024)); // end-of-archive marker
  return Buffer.concat(blocks);
}

/** Gzips with zlib (memLevel 8); the header's mtime is 0 and its OS byte is forced to 3 (Unix) for reproducibility. */
export function gzipReproducible(data: Uint8Array, level = 9, windowBits = 12): Buffer {
  const gz = gzipSync(data, { level, windowBits, memLevel: 8 });
  gz[9] = 3;
  return gz;
}

export async function buildSdist(spec: SdistSpec, options: SdistOptions = {}): Promise<Buffer> {
  return gzipReproducible(buildSdistTar(spec, options), options.level ?? 9, options.windowBits ?? 12);
}

/** A tiny valid zip (one stored file `<name>-<version>.dist-info/METADATA`), only meant to be listed. */
export function buildWheelStub(name: string, version: string): Buffer {
  const fname = Buffer.from(`${name.replace(/-/g, "_")}-${version}.dist-info/METADATA`);
  const data = Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fname.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fname.length, 28);
  const cdOffset = local.length + fname.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fname.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, fname, data, central, fname, end]);
}

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
