// A seeded fuzz test of everything hostile mpip reads: sdists (the gzip layer, the tar layer, crafted tar
// headers, tight limits) and index metadata (crafted JSON, mangled text). Most cases run the real install
// pipeline in-process (install() with --find-links, or against the test index); a sample runs through the
// built CLI. Every case must end in one of two ways:
//   - mpip fails with an MpipError (CLI: exit 1, `error:` on stderr, no "This is a bug"), nothing exists
//     beside the target, and the target is byte-identical to before;
//   - or the mutation was harmless, and the target holds exactly what an independent reader (tar-stream)
//     finds in the archive, plus what was there before.
// MPIP_FUZZ_SEED=<n> replays a run, MPIP_FUZZ_CASES=<n> sets the in-process count (the CLI sample is a twentieth).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { extract } from "tar-stream";
import { upipSkips } from "../src/archive/skip-rules.js";
import { MpipError } from "../src/errors.js";
import { install } from "../src/install.js";
import type { Limits } from "../src/limits.js";
import { Reporter } from "../src/log.js";
import { parseRequirement } from "../src/spec/requirement.js";
import { BIN, snapshot, tempDir, childEnv } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { buildSdistTar, gzipReproducible, type SdistOptions } from "./helpers/sdist.js";
import { fixChecksum, headerOffsets, paxData, tarEntry, tarHeader } from "./helpers/tar-craft.js";
import { prng as mulberry32 } from "./helpers/prng.js";
import { budget } from "./helpers/budget.js";

const SEED = seedFrom(process.env.MPIP_FUZZ_SEED) ?? 0x6d706970;
// Bounded by a count, never by the clock, so a loaded machine runs the same cases, only slower. More run
// with MPIP_FUZZ_CASES; the CLI sample is a twentieth of them, as each case costs a process.
const CASES = Number(process.env.MPIP_FUZZ_CASES ?? 400);
const CLI_CASES = Math.max(1, Math.ceil(CASES / 20));
/** A folder to write the inputs of failing in-process cases to, for replaying them by hand. */
const DUMP = process.env.MPIP_FUZZ_DUMP;

function seedFrom(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  assert.ok(Number.isInteger(value), `MPIP_FUZZ_SEED must be an integer, not ${text}`);
  return value >>> 0;
}

// ---------------------------------------------------------------------------------------------------------
// randomness: one mulberry32 stream per case, so any case can be replayed alone

type Rng = () => number;


const caseRng = (stream: number, index: number): Rng => mulberry32(Math.imul(SEED ^ 0x9e3779b9, 31) + Math.imul(stream, 1_000_003) + index);
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number): boolean => rng() < p;
const randomBytes = (rng: Rng, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(rng, 0, 255)));

function text(seed: number, size: number): string {
  const rng = mulberry32(seed);
  const words = ["def", "return", "self", "import", "class", "value", "micropython", "pin", "0x1f", "\n", "    "];
  let out = "";
  while (out.length < size) out += `${pick(rng, words)} `;
  return out.slice(0, size);
}

// ---------------------------------------------------------------------------------------------------------
// the inputs

const PKG = "fzpkg";
const TOP = `${PKG}-1.0`;
let work: { dir: string; cleanup: () => Promise<void> };
let server: IndexServer;

interface Base {
  tar: Buffer;
  windowBits: number;
}

function bases(): Base[] {
  const files: Record<string, string> = {
    "fzpkg/__init__.py": "from .core import run\n",
    "fzpkg/core.py": "def run():\n    return 42\n".repeat(30),
    "fzpkg/data/table.txt": text(1, 3000),
    "fzpkg.py": "X = 1\n",
    LICENSE: "MIT\n",
    "setup.py": "raise SystemExit\n",
  };
  const spec = { name: PKG, version: "1.0", files, requires: [] as string[] };
  const long = `fzpkg/${"nested_folder/".repeat(9)}deep.py`;
  const far = text(2, 6000);
  const build = (extra: Record<string, string>, options: SdistOptions) => buildSdistTar({ ...spec, files: { ...files, ...extra } }, options);
  return [
    { tar: build({}, {}), windowBits: 12 },
    { tar: build({ [long]: "DEEP = 1\n" }, { format: "pax" }), windowBits: 12 },
    { tar: build({ [long]: "DEEP = 1\n" }, { format: "gnu" }), windowBits: 12 },
    { tar: build({ [long]: "DEEP = 1\n", "fzpkg/far.txt": far + far }, { format: "ustar-prefix" }), windowBits: 15 },
  ];
}

const BASES = bases();
/** An archive over the ratio floor (1 MiB), for cases with a tight ratio limit. */
const ZEROS = buildSdistTar({ name: PKG, version: "1.0", files: { "fzpkg.py": "", "zeros.bin": new Uint8Array(1_200_000) } });

interface Case {
  what: string;
  limits?: Partial<Limits>;
}
interface ArchiveCase extends Case {
  gz: Buffer;
}
interface MetadataCase extends Case {
  body: Buffer;
}

/** Byte-level damage: to a gzip file, a tar, or a JSON text. */
function mutateBytes(rng: Rng, input: Buffer): [string, Buffer] {
  const data = Buffer.from(input);
  const at = () => int(rng, 0, Math.max(0, data.length - 1));
  switch (pick(rng, ["flip", "flip", "set", "truncate", "insert", "delete", "append", "repeat"] as const)) {
    case "flip": {
      const spots = Array.from({ length: int(rng, 1, 8) }, () => (chance(rng, 0.3) ? pick(rng, [int(rng, 0, 20), data.length - int(rng, 1, 8)]) : at()));
      for (const spot of spots) if (spot >= 0 && spot < data.length) data[spot]! ^= 1 << int(rng, 0, 7);
      return [`flip bits at ${spots.join(",")}`, data];
    }
    case "set": {
      const spot = at();
      const bytes = randomBytes(rng, int(rng, 1, 4));
      bytes.copy(data, spot);
      return [`overwrite ${bytes.length} bytes at ${spot}`, data];
    }
    case "truncate": {
      const end = at();
      return [`truncate to ${end} of ${data.length} bytes`, data.subarray(0, end)];
    }
    case "insert": {
      const spot = at();
      return [`insert bytes at ${spot}`, Buffer.concat([data.subarray(0, spot), randomBytes(rng, int(rng, 1, 16)), data.subarray(spot)])];
    }
    case "delete": {
      const spot = at();
      return [`delete bytes at ${spot}`, Buffer.concat([data.subarray(0, spot), data.subarray(spot + int(rng, 1, 64))])];
    }
    case "append": {
      const tail = pick(rng, [randomBytes(rng, int(rng, 1, 64)), Buffer.alloc(int(rng, 1, 2048)), Buffer.from(data.subarray(0, 32))]);
      return [`append ${tail.length} bytes`, Buffer.concat([data, tail])];
    }
    case "repeat": {
      const spot = at();
      return [`repeat a slice at ${spot}`, Buffer.concat([data.subarray(0, spot), data.subarray(spot, spot + 600), data.subarray(spot)])];
    }
  }
}

const FIELDS = { name: [0, 100], mode: [100, 8], uid: [108, 8], size: [124, 12], mtime: [136, 12], checksum: [148, 8], typeflag: [156, 1], linkname: [157, 100], magic: [257, 8], prefix: [345, 155] } as const;

function fieldValue(rng: Rng, field: keyof typeof FIELDS): Buffer {
  const octal = (n: number, width: number) => Buffer.from(n.toString(8).padStart(width - 1, "0") + "\0");
  const base256 = (negative: boolean) => Buffer.from([negative ? 0xff : 0x80, ...randomBytes(rng, 11)]);
  switch (field) {
    case "size":
      return pick(rng, [octal(int(rng, 0, 100_000), 12), Buffer.from("77777777777\0"), Buffer.from("00000000009\0"), Buffer.from("   1234    \0"), base256(false), base256(true), randomBytes(rng, 12), Buffer.alloc(12)]);
    case "typeflag":
      return Buffer.from([pick(rng, [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x78, 0x67, 0x4c, 0x4b, 0x56, 0x53, 0, int(rng, 0, 255)])]);
    case "magic":
      return pick(rng, [Buffer.from("ustar\u000000"), Buffer.from("ustar  \0"), Buffer.alloc(8), randomBytes(rng, 8)]);
    case "name":
    case "linkname":
    case "prefix":
      return Buffer.from(pick(rng, hostileNames(rng)));
    default:
      return pick(rng, [octal(int(rng, 0, 0o777777), FIELDS[field][1]), base256(true), randomBytes(rng, FIELDS[field][1]), Buffer.alloc(FIELDS[field][1])]);
  }
}

function hostileNames(rng: Rng): string[] {
  const up = "../".repeat(int(rng, 1, 6));
  return [
    `${TOP}/${up}escaped-${int(rng, 0, 9)}.py`,
    path.join(work.dir, `escaped-absolute-${int(rng, 0, 9)}.py`),
    `C:/escaped.py`,
    `${TOP}\\${up.replace(/\//g, "\\")}escaped.py`,
    `${TOP}/nul\0byte.py`,
    `${TOP}/control\u001b[2J.py`,
    `${TOP}/stream.py:hidden`,
    `${TOP}/fzpkg/CORE.py`,
    `${TOP}/fzpkg/core.py`,
    `${TOP}/Fzpkg/other.py`,
    `${TOP}/fzpkg.py/inside.py`,
    `${TOP}`,
    `${TOP}/`,
    `${TOP}/harmless-${int(rng, 0, 99)}.py`,
    `${TOP}/setup.cfg`,
    `${TOP}/${"n".repeat(int(rng, 1, 100))}`,
    `${TOP}/\u00e9\u0301t\u00e9.py`,
    "",
  ];
}

/** Tar-level damage; the caller gzips the result, so the tar reader sees it. */
function mutateTar(rng: Rng, input: Buffer): [string, Buffer] {
  const tar = Buffer.from(input);
  const headers = headerOffsets(tar);
  const header = pick(rng, headers);
  const end = headers.length === 0 ? 0 : tar.length - 1024;
  switch (pick(rng, ["bytes", "field", "field", "header-bits", "zero-block", "drop-end", "after-end", "block"] as const)) {
    case "bytes":
      return mutateBytes(rng, tar);
    case "field": {
      const name = pick(rng, Object.keys(FIELDS) as Array<keyof typeof FIELDS>);
      const [start, width] = FIELDS[name];
      tar.fill(0, header + start, header + start + width);
      fieldValue(rng, name).copy(tar, header + start, 0, width);
      const fixed = name !== "checksum" && chance(rng, 0.85);
      if (fixed) fixChecksum(tar, header);
      return [`set ${name} of the header at ${header}${fixed ? "" : " (checksum left stale)"}`, tar];
    }
    case "header-bits": {
      const spot = header + int(rng, 0, 511);
      tar[spot]! ^= 1 << int(rng, 0, 7);
      const fixed = chance(rng, 0.5);
      if (fixed) fixChecksum(tar, header);
      return [`flip a bit at ${spot}${fixed ? ", checksum fixed" : ""}`, tar];
    }
    case "zero-block":
      return [`zero block before the header at ${header}`, Buffer.concat([tar.subarray(0, header), Buffer.alloc(512), tar.subarray(header)])];
    case "drop-end":
      return ["no end-of-archive marker", tar.subarray(0, end + int(rng, 0, 1) * 512)];
    case "after-end": {
      const tail = pick(rng, [Buffer.alloc(int(rng, 1, 20) * 512), randomBytes(rng, int(rng, 1, 600)), tarEntry({ name: `${TOP}/hidden.py` }, "HIDDEN = 1\n")]);
      return [`${tail.length} bytes after the end marker`, Buffer.concat([tar, tail])];
    }
    case "block": {
      const copy = pick(rng, headers);
      return [`copy of the header at ${copy} inserted at ${header}`, Buffer.concat([tar.subarray(0, header), tar.subarray(copy, copy + 512), tar.subarray(header)])];
    }
  }
}

/** One hand-made hostile (or harmless) member, as tar blocks. */
function craftedEntry(rng: Rng): [string, Buffer] {
  const name = pick(rng, hostileNames(rng));
  const nameBytes = Buffer.from(name);
  const plainName = nameBytes.length <= 100 && !name.includes("\0") ? name : `${TOP}/pax-${int(rng, 0, 99)}.py`;
  const data = chance(rng, 0.7) ? `DATA = ${int(rng, 0, 1000)}\n` : "";
  switch (pick(rng, ["file", "file", "type", "pax", "pax", "gnu", "numbers", "long", "checksum", "dangling", "global"] as const)) {
    case "file":
      return [`file \`${name}\``, name.includes("\0") || nameBytes.length > 100 ? tarEntry({ name: "x", typeflag: "x" }, paxData({ path: name })) : tarEntry({ name }, data)];
    case "type": {
      const typeflag = pick(rng, ["1", "2", "3", "4", "6", "7", "V", "S", "A", "\x7f"]);
      return [`type ${JSON.stringify(typeflag)} \`${plainName}\``, tarEntry({ name: plainName, typeflag, linkname: pick(rng, ["/etc/passwd", "../x", `${TOP}/fzpkg.py`]), size: typeflag === "7" ? data.length : 0 }, typeflag === "7" ? data : "")];
    }
    case "pax": {
      const records = pick<Record<string, string>>(rng, [
        { path: name },
        { path: name, size: String(data.length) },
        { size: pick(rng, ["99999999999", "-1", "1e3", "", "0x10", "18446744073709551616"]) },
        { linkpath: "/etc/passwd" },
        { "GNU.sparse.map": "0,10" },
        { hdrcharset: "BINARY", path: name },
        { comment: "harmless", mtime: "1700000000.5" },
        { path: "" },
      ]);
      let pax = paxData(records);
      if (chance(rng, 0.2)) pax = Buffer.concat([Buffer.from(String(int(rng, 1, 400))), pax.subarray(pax.indexOf(0x20))]); // a wrong record length
      return [`pax ${JSON.stringify(records)}`, Buffer.concat([tarEntry({ name: "././@PaxHeader", typeflag: "x" }, pax), tarEntry({ name: plainName }, data)])];
    }
    case "gnu": {
      const long = Buffer.concat([Buffer.from(name.length > 0 ? name : `${TOP}/${"g".repeat(150)}.py`), Buffer.alloc(1)]);
      return [`GNU long name \`${name}\``, Buffer.concat([tarEntry({ name: "././@LongLink", typeflag: pick(rng, ["L", "K"]), magic: "gnu" }, long), tarEntry({ name: plainName, magic: "gnu" }, data)])];
    }
    case "numbers": {
      const size = fieldValue(rng, "size");
      return [`size field ${JSON.stringify(size.toString("latin1"))}`, Buffer.concat([tarHeader({ name: plainName, size }), Buffer.from(data.padEnd(512, "\0"))])];
    }
    case "long": {
      const long = `${TOP}/fzpkg/${"x".repeat(int(rng, 200, 6000))}.py`;
      return [`a name of ${long.length} bytes`, Buffer.concat([tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData({ path: long })), tarEntry({ name: plainName }, data)])];
    }
    case "checksum":
      return ["a bad checksum", tarEntry({ name: plainName, checksum: pick(rng, ["0000000\0", "7777777\0", "\0\0\0\0\0\0\0\0", "zzzzzz\0 "]) }, data)];
    case "dangling":
      return ["a pax header with no entry", tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData({ path: name }))];
    case "global":
      return ["a global pax header", tarEntry({ name: "././@GlobalHead", typeflag: "g" }, paxData({ comment: "harmless" }))];
  }
}

function archiveCase(rng: Rng): ArchiveCase {
  const base = pick(rng, BASES);
  const gzip = (tar: Buffer) => gzipReproducible(tar, 9, base.windowBits);
  switch (pick(rng, ["gzip", "gzip", "tar", "tar", "crafted", "crafted", "crafted", "limits"] as const)) {
    case "gzip": {
      const [what, gz] = mutateBytes(rng, gzip(base.tar));
      return { what: `gzip: ${what}`, gz };
    }
    case "tar": {
      const [what, tar] = mutateTar(rng, base.tar);
      return { what: `tar: ${what}`, gz: gzip(tar) };
    }
    case "crafted": {
      const entries = Array.from({ length: int(rng, 1, 3) }, () => craftedEntry(rng));
      const headers = headerOffsets(base.tar);
      const at = chance(rng, 0.5) ? base.tar.length - 1024 : pick(rng, headers.slice(1));
      let tar: Buffer = Buffer.concat([base.tar.subarray(0, at), ...entries.map(([, blocks]) => blocks), base.tar.subarray(at)]);
      let what = `crafted at ${at}: ${entries.map(([description]) => description).join("; ")}`;
      if (chance(rng, 0.2)) {
        const [more, mutated] = mutateTar(rng, tar);
        tar = mutated;
        what += `; then ${more}`;
      }
      return { what, gz: gzip(tar) };
    }
    case "limits": {
      const limits: Partial<Limits> = pick(rng, [
        { maxEntries: int(rng, 1, 12) },
        { maxUnpackedBytes: int(rng, 512, 40_000) },
        { maxPathLength: int(rng, 5, 40) },
        { maxRatio: int(rng, 1, 50) },
        { maxMetadataBytes: int(rng, 10, 200) }, // caps requires.txt and PKG-INFO
      ]);
      const tar = limits.maxRatio === undefined ? base.tar : ZEROS;
      return { what: `limits ${JSON.stringify(limits)}`, gz: gzipReproducible(tar, 9, 12), limits };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// metadata

const RAW = "\u0000raw\u0000";

function randomValue(rng: Rng): { value: unknown; raw?: string } {
  return pick(rng, [
    () => ({ value: "" }),
    () => ({ value: "../../etc/passwd" }),
    () => ({ value: "a/b\\c" }),
    () => ({ value: "\u001b[31mred\u0000\ud800" }),
    () => ({ value: "x".repeat(int(rng, 1000, 100_000)) }),
    () => ({ value: pick(rng, [0, -1, 1.5, 1e308, 2 ** 53 + 1]) }),
    () => ({ value: pick(rng, [true, false, null]) }),
    () => ({ value: [] }),
    () => ({ value: {} }),
    () => ({ value: [1, "two", null] }),
    () => ({ value: { a: { b: {} } } }),
    () => ({ value: RAW, raw: pick(rng, ["1e999", "-1e999", "123456789012345678901234567890"]) }),
    () => {
      const depth = int(rng, 1000, 100_000);
      return { value: RAW, raw: chance(rng, 0.5) ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth) };
    },
  ])();
}

/** Every (container, key) of a JSON tree, in document order. */
function nodes(value: unknown, out: Array<[Record<string | number, unknown>, string | number]> = []): Array<[Record<string | number, unknown>, string | number]> {
  if (value === null || typeof value !== "object") return out;
  const container = value as Record<string | number, unknown>;
  for (const key of Array.isArray(value) ? value.keys() : Object.keys(container)) {
    out.push([container, key]);
    nodes(container[key], out);
  }
  return out;
}

const TARGETED: Array<[string, (doc: any, rng: Rng) => void]> = [
  ["filename", (doc, rng) => (release(doc).filename = pick(rng, ["../x.tar.gz", "a/b.tar.gz", "..", ".", "", "a\\b", "x\u0001.tar.gz", "y".repeat(300)]))],
  ["url", (doc, rng) => (release(doc).url = pick(rng, ["file:///etc/passwd", "http://[::1", "javascript:alert(1)", "", "../../files/nope", "ftp://127.0.0.1/x", "http://127.0.0.1:1/x", `${server.origin.replace("http:", "https:")}/files/x`, "data:,hello"]))],
  ["sha256", (doc, rng) => (release(doc).digests = pick(rng, [{ sha256: "0".repeat(64) }, { sha256: "zz" }, { sha256: null }, null, { sha256: 12 }, { md5: "x" }]))],
  ["version key", (doc, rng) => (doc.releases = { [pick(rng, ["nonsense", "1" + "0".repeat(400), "\ud800", "1.0/../2", "", "v1", "1.0", "99999999999999999999.0"])]: doc.releases["1.0"] })],
  ["info.version", (doc, rng) => {
    delete doc.releases;
    doc.info.version = pick(rng, ["nonsense", "1.0/../x", "", null, 1, "\ud800", "1.0"]);
  }],
  ["info.name", (doc, rng) => (doc.info.name = pick(rng, ["", "-x", "a b", null, 7, "x".repeat(300), "fzmeta"]))],
  ["yanked", (doc, rng) => (release(doc).yanked = pick(rng, [true, "yes", 1, null]))],
  ["packagetype", (doc, rng) => (release(doc).packagetype = pick(rng, ["bdist_wheel", "", 5, "x".repeat(100)]))],
  ["releases", (doc, rng) => (doc.releases = pick(rng, [[], {}, null, "x", { "1.0": [] }, { "1.0": {} }, { "1.0": [null] }]))],
  ["urls", (doc, rng) => {
    delete doc.releases;
    doc.urls = pick(rng, [[], null, {}, [{}], [release(doc)]]);
  }],
];

function release(doc: any): any {
  return doc.releases?.["1.0"]?.[0] ?? {};
}

function metadataCase(rng: Rng, base: unknown): MetadataCase {
  const doc = structuredClone(base) as any;
  const json = (value: unknown, raw?: string) => {
    const encoded = JSON.stringify(value);
    return Buffer.from(raw === undefined ? encoded : encoded.replace(JSON.stringify(RAW), raw));
  };
  switch (pick(rng, ["replace", "replace", "delete", "targeted", "targeted", "targeted", "text", "raw"] as const)) {
    case "replace": {
      const [container, key] = pick(rng, nodes(doc));
      const { value, raw } = randomValue(rng);
      container[key] = value;
      return { what: `replace \`${String(key)}\` with ${raw === undefined ? JSON.stringify(value).slice(0, 40) : `raw ${raw.slice(0, 20)}`}`, body: json(doc, raw) };
    }
    case "delete": {
      const [container, key] = pick(rng, nodes(doc));
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
      return { what: `delete \`${String(key)}\``, body: json(doc) };
    }
    case "targeted": {
      const [what, edit] = pick(rng, TARGETED);
      edit(doc, rng);
      return { what: `targeted ${what}`, body: json(doc) };
    }
    case "text": {
      const [what, body] = mutateBytes(rng, json(doc));
      return { what: `text: ${what}`, body };
    }
    case "raw": {
      const body = pick(rng, ["", "null", "[]", "{}", "\ufeff" + JSON.stringify(doc), JSON.stringify(doc) + "garbage", "<html>503</html>", randomBytes(rng, 200).toString("latin1"), '{"info": 1e999}']);
      return { what: `raw body ${JSON.stringify(body.slice(0, 30))}`, body: Buffer.from(body, body.startsWith("\ufeff") ? "utf8" : "latin1") };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// running a case and checking the promises

interface Outcome {
  ok: boolean;
  detail: string;
}
const problems: string[] = [];
const tally = { inProcess: 0, cli: 0, refused: 0, installed: 0, archive: 0, metadata: 0 };
let caseNumber = 0;

/** A fresh target holding files of its own (one the package would replace), alone in its folder. */
async function freshTarget(): Promise<{ parent: string; target: string; before: Record<string, string> }> {
  const parent = path.join(work.dir, `case-${++caseNumber}`);
  const target = path.join(parent, "target");
  await mkdir(path.join(target, "mine"), { recursive: true });
  await writeFile(path.join(target, "mine", "keep.py"), "KEEP = 1\n");
  await writeFile(path.join(target, "fzpkg.py"), "OLD = 1\n");
  return { parent, target, before: await snapshot(target) };
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

/** What an independent tar reader finds to install in the archive, as a snapshot of the target would show it. */
async function expectedTarget(gz: Buffer, before: Record<string, string>): Promise<Record<string, string>> {
  const files = new Map<string, string>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on("end", () => {
        const stripped = header.name.split("/").filter((part) => part !== "" && part !== ".").slice(1).join("/");
        // tar-stream 3 computes the type before its own "old tars mark folders with a trailing slash" rule: apply it here.
        const folder = header.type === "file" && header.name.endsWith("/");
        if ((header.type === "file" || header.type === "contiguous-file") && !folder && stripped !== "" && !upipSkips(stripped)) files.set(stripped, sha256(Buffer.concat(chunks)));
        next();
      });
    });
    reader.on("finish", resolve);
    reader.on("error", reject);
  });
  const tar = withoutEmptyExtensions(gunzipSync(gz));
  // tar-stream wants whole blocks even after the end marker; zeros there change nothing.
  reader.end(Buffer.concat([tar, Buffer.alloc((512 - (tar.length % 512)) % 512)]));
  await done;
  const expected = { ...before };
  for (const [file, digest] of files) {
    expected[file] = digest;
    const parts = file.split("/");
    for (let i = 1; i < parts.length; i++) expected[`${parts.slice(0, i).join("/")}/`] = "dir";
  }
  return expected;
}

/**
 * tar-stream 3 loses its place after a pax or GNU header of size 0 (it reads the next entry's data as that
 * header's); such a header means nothing (no records, an empty name that mpip would refuse anyway), so the
 * oracle gets the tar without them. A pax `size` record moves the next entry's end, as in any reader.
 */
function withoutEmptyExtensions(tar: Buffer): Buffer {
  const kept: Buffer[] = [];
  let paxSize: number | undefined;
  let at = 0;
  while (at + 512 <= tar.length) {
    const block = tar.subarray(at, at + 512);
    if (block.every((byte) => byte === 0)) break;
    const field = block.subarray(124, 136);
    const headerSize = field[0] === 0x80 ? field.subarray(1).reduce((sum, byte) => sum * 256 + byte, 0) : parseInt(field.toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8) || 0;
    const typeflag = String.fromCharCode(block[156]!);
    const extension = "xgLK".includes(typeflag) && block[156] !== 0;
    const size = extension ? headerSize : paxSize ?? headerSize;
    const end = Math.min(tar.length, at + 512 + Math.ceil(size / 512) * 512);
    if (typeflag === "x") paxSize = Number(/(?:^|\n)\d+ size=(\d+)\n/.exec(tar.toString("latin1", at + 512, at + 512 + size))?.[1] ?? Number.NaN) || undefined;
    else if (!extension) paxSize = undefined;
    if (!(extension && headerSize === 0)) kept.push(tar.subarray(at, end));
    at = end;
  }
  kept.push(tar.subarray(at));
  return Buffer.concat(kept);
}

/** The promises that hold whatever happened: nothing beside the target, nothing escaped into the work folder. */
async function checkSurroundings(parent: string, workBefore: string[]): Promise<string | undefined> {
  const beside = await readdir(parent);
  if (beside.join() !== "target") return `beside the target: ${beside.join(", ")}`;
  const top = (await readdir(work.dir)).filter((name) => !name.startsWith("case-")).sort();
  if (top.join() !== workBefore.join()) return `the work folder changed: ${top.join(", ")}`;
  return undefined;
}

async function judge(failure: { mpip: boolean; message: string } | undefined, target: string, before: Record<string, string>, expected: () => Promise<Record<string, string>>): Promise<Outcome> {
  const after = await snapshot(target);
  if (failure !== undefined) {
    if (!failure.mpip) return { ok: false, detail: `not an MpipError: ${failure.message}` };
    tally.refused++;
    try {
      assert.deepEqual(after, before);
    } catch {
      return { ok: false, detail: `the target changed on failure (${failure.message})` };
    }
    return { ok: true, detail: failure.message };
  }
  tally.installed++;
  let want: Record<string, string>;
  try {
    want = await expected();
  } catch (error) {
    return { ok: false, detail: `mpip installed an archive tar-stream cannot read (${(error as Error).message})` };
  }
  try {
    assert.deepEqual(after, want);
  } catch (error) {
    return { ok: false, detail: `installed the wrong files: ${(error as Error).message.slice(0, 600)}` };
  }
  return { ok: true, detail: "installed" };
}

const quiet = new Reporter({ verbosity: "quiet", stream: new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream, color: false, progress: false });

async function runInProcess(target: string, options: { findLinks?: string; index?: string; name: string; limits?: Partial<Limits> }): Promise<{ mpip: boolean; message: string } | undefined> {
  try {
    await install({
      target,
      requests: [{ requirement: parseRequirement(options.name), requestedBy: "the fuzz test" }],
      indexUrls: options.index === undefined ? [] : [options.index],
      findLinks: options.findLinks === undefined ? [] : [options.findLinks],
      noDeps: false,
      pre: false,
      strictWindow: false,
      jobs: 2,
      timeoutMs: 5000,
      retries: 0,
      wait: false,
      reporter: quiet,
      // The oracle is the archive's files, as upip installs them: no install record.
      record: false,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
    return undefined;
  } catch (error) {
    return { mpip: error instanceof MpipError, message: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 400) : String(error) };
  }
}

function record(kind: string, index: number, what: string, outcome: Outcome, problem?: string): void {
  if (outcome.ok && problem === undefined) return;
  problems.push(`${kind} case ${index} (MPIP_FUZZ_SEED=${SEED}): ${what}\n    → ${problem ?? outcome.detail}`);
}

let workBefore: string[] = [];
let baseDocument: unknown;
let baselineInstall: Record<string, string>;
/** Bodies for the metadata routes, by project name; the in-process cases share "fzmeta". */
const documents = new Map<string, Buffer>();

before(async () => {
  work = await tempDir("mpip-fuzz-");
  server = await startIndexServer();
  // Any host but 127.0.0.1 goes to a dead proxy: a mangled URL can never reach the network or wait on DNS.
  Object.assign(process.env, FUZZ_ENV);
  await server.addSdist({ name: "fzmeta", version: "1.0", files: { "fzmeta.py": "META = 1\n", "fzpkg.py": "NEW = 1\n" } });
  const response = await fetch(`${server.url}/fzmeta/json`);
  const doc = (await response.json()) as any;
  // Relative file URLs: a mangled one still points at this server.
  for (const file of [...doc.urls, ...doc.releases["1.0"]]) file.url = new URL(file.url).pathname;
  baseDocument = doc;
  server.routes.unshift({
    name: "fuzz documents",
    pattern: /^\/pypi\/(fzmeta|fzc-\d+)\/(?:[^/]+\/)?json$/,
    handle: ({ match }) => ({ status: 200, headers: { "Content-Type": "application/json" }, body: documents.get(match[1]!) ?? Buffer.from("{}") }),
  });
  workBefore = (await readdir(work.dir)).sort();
});

after(async () => {
  await server.close();
  await work.cleanup();
  for (const key of Object.keys(FUZZ_ENV)) delete process.env[key];
});

const FUZZ_ENV = { HTTP_PROXY: "http://127.0.0.1:9", HTTPS_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1", MPIP_RETRY_BASE_MS: "1" };

describe("fuzz", () => {
  test(`hostile archives and metadata, in-process (seed ${SEED})`, async () => {
    // The unmutated document must install: the baseline for the metadata cases.
    documents.set("fzmeta", Buffer.from(JSON.stringify(baseDocument)));
    const base = await freshTarget();
    const baseFailure = await runInProcess(base.target, { index: server.url, name: "fzmeta" });
    assert.equal(baseFailure, undefined, baseFailure?.message);
    baselineInstall = await snapshot(base.target);
    await rm(base.parent, { recursive: true });

    for (let index = 0; index < CASES; index++) {
      const rng = caseRng(1, index);
      const { parent, target, before } = await freshTarget();
      let what: string;
      let outcome: Outcome;
      if (chance(rng, 0.6)) {
        tally.archive++;
        const fuzzCase = archiveCase(rng);
        what = `archive ${fuzzCase.what}`;
        const links = path.join(parent, "..", `links-${caseNumber}`);
        await mkdir(links);
        await writeFile(path.join(links, `${PKG}-1.0.tar.gz`), fuzzCase.gz);
        const failure = await runInProcess(target, { findLinks: links, name: PKG, ...(fuzzCase.limits === undefined ? {} : { limits: fuzzCase.limits }) });
        outcome = await judge(failure, target, before, () => expectedTarget(fuzzCase.gz, before));
        if (!outcome.ok && DUMP !== undefined) await writeFile(path.join(DUMP, `archive-${SEED}-${index}.tar.gz`), fuzzCase.gz);
        await rm(links, { recursive: true });
      } else {
        tally.metadata++;
        const fuzzCase = metadataCase(rng, baseDocument);
        what = `metadata ${fuzzCase.what}`;
        documents.set("fzmeta", fuzzCase.body);
        const failure = await runInProcess(target, { index: server.url, name: "fzmeta" });
        outcome = await judge(failure, target, before, async () => baselineInstall);
        if (!outcome.ok && DUMP !== undefined) await writeFile(path.join(DUMP, `metadata-${SEED}-${index}.json`), fuzzCase.body);
      }
      tally.inProcess++;
      record("in-process", index, what, outcome, await checkSurroundings(parent, workBefore));
      await rm(parent, { recursive: true, force: true });
    }
    console.log(`fuzz: seed ${SEED}: ${tally.inProcess} in-process cases (${tally.archive} archives, ${tally.metadata} metadata documents): ${tally.refused} refused with an MpipError, ${tally.installed} harmless and installed correctly, ${problems.length} problems`);
    assert.deepEqual(problems, []);
  });

  test(`hostile archives and metadata through the CLI (seed ${SEED})`, async () => {
    const cases = Array.from({ length: CLI_CASES }, (_, index) => index);
    const before = { refused: tally.refused, installed: tally.installed };
    problems.length = 0;
    await inParallel(cases, 3, async (index) => {
      const rng = caseRng(2, index);
      const name = `fzc-${index}`;
      const { parent, target, before: targetBefore } = await freshTarget();
      let what: string;
      let expected: () => Promise<Record<string, string>>;
      const args: string[] = [];
      if (index % 2 === 0) {
        const fuzzCase = archiveCase(rng);
        what = `archive ${fuzzCase.what}`;
        server.addFile(name, "1.0", { filename: `${name}-1.0.tar.gz`, body: fuzzCase.gz });
        // Not --max-metadata-bytes: it would also refuse the index document, which is not this case's subject.
        for (const [key, value] of Object.entries(fuzzCase.limits ?? {})) if (key !== "maxMetadataBytes") args.push(`--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`, String(value));
        expected = () => expectedTarget(fuzzCase.gz, targetBefore);
      } else {
        const fuzzCase = metadataCase(rng, baseDocument);
        what = `metadata ${fuzzCase.what}`;
        documents.set(name, fuzzCase.body);
        expected = async () => baselineInstall;
      }
      const result = await runCli(["install", "--no-record", "--json", "--retries", "0", "--timeout", "5", "-i", server.url, "-p", target, ...args, name]);
      let failure: { mpip: boolean; message: string } | undefined;
      if (result.code !== 0) {
        const rendered = /^(warning: .*\n)*error: /.test(result.stderr) && !/This is a bug/.test(result.stderr);
        failure = { mpip: result.code === 1 && rendered, message: `exit ${result.code}: ${result.stderr.slice(0, 400)}` };
      }
      const outcome = await judge(failure, target, targetBefore, expected);
      tally.cli++;
      record("CLI", index, what, outcome, await checkSurroundings(parent, workBefore));
      await rm(parent, { recursive: true, force: true });
    });
    console.log(`fuzz: seed ${SEED}: ${tally.cli} CLI cases: ${tally.refused - before.refused} refused with exit 1 and an error, ${tally.installed - before.installed} harmless and installed correctly, ${problems.length} problems`);
    assert.deepEqual(problems, []);
  });
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { env, cleanup } = childEnv(FUZZ_ENV);
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: budget(120_000), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      cleanup();
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr: error?.killed ? `killed after 120 s\n${stderr}` : stderr });
    });
  });
}

async function inParallel<T>(items: T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await run(items[next++]!);
  }));
}
