import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CaseIndex, caseClashWarnings, describeClash } from "../../src/archive/case-fold.js";
import { TarFormatError, TarReader, type TarEntry, type TarEvent } from "../../src/archive/tar-reader.js";
import { formatBytes, parseByteSize } from "../../src/limits.js";
import { buildSdistTar } from "../helpers/sdist.js";
import { fixChecksum, paxData, tarEnd, tarEntry } from "../helpers/tar-craft.js";

interface Member { entry: TarEntry; data: string }

/** Reads a whole tar, `chunk` bytes at a time. */
function read(tar: Buffer, chunk = tar.length || 1): Member[] {
  const reader = new TarReader();
  const members: Member[] = [];
  let data: Buffer[] = [];
  const take = (event: TarEvent) => {
    if (event.kind === "entry") members.push({ entry: event.entry, data: "" });
    else if (event.kind === "data") data.push(Buffer.from(event.bytes));
    else {
      members.at(-1)!.data = Buffer.concat(data).toString();
      data = [];
    }
  };
  for (let at = 0; at < tar.length; at += chunk) for (const event of reader.push(tar.subarray(at, at + chunk))) take(event);
  reader.finish();
  return members;
}

const names = (members: Member[]) => members.map((member) => `${member.entry.type} ${member.entry.name}`);
const spec = { name: "demo", version: "1.0", files: { [`demo/${"long_folder/".repeat(12)}mod.py`]: "X = 1\n", "demo/__init__.py": "" } };

describe("TarReader", () => {
  test("reads ustar, pax and GNU long names alike, whatever the chunk size", () => {
    const expected = names(read(buildSdistTar(spec, { format: "ustar-prefix" })));
    assert.ok(expected.includes(`file demo-1.0/demo/${"long_folder/".repeat(12)}mod.py`));
    for (const format of ["pax", "gnu"] as const) {
      const tar = buildSdistTar(spec, { format });
      for (const chunk of [1, 7, 512, 100_000]) assert.deepEqual(names(read(tar, chunk)), expected, `${format} in chunks of ${chunk}`);
    }
  });

  test("applies pax size and path, ignores other pax and global records; takes base-256 sizes and signed checksums", () => {
    const base256 = Buffer.alloc(12);
    base256[0] = 0x80;
    base256[11] = 5;
    const signed = tarHeader8bit();
    const tar = Buffer.concat([
      signed,
      tarEntry({ name: "g", typeflag: "g" }, paxData({ comment: "global", mtime: "1700000000" })),
      tarEntry({ name: "a.py" }, "AAAA"),
      tarEntry({ name: "x", typeflag: "x" }, paxData({ mtime: "1" })),
      tarEntry({ name: "b.py" }),
      tarEntry({ name: "c.py", size: base256 }, "CCCCC"),
      tarEntry({ name: "x", typeflag: "x" }, paxData({ size: "3", path: "d.py" })),
      tarEntry({ name: "ignored", size: 0 }, "DDD"),
      tarEnd(),
      Buffer.alloc(8192), // record padding, as Python's tarfile writes it
    ]);
    const members = read(tar);
    assert.deepEqual(members.map((member) => [member.entry.name, member.data]), [["naïve.py", ""], ["a.py", "AAAA"], ["b.py", ""], ["c.py", "CCCCC"], ["d.py", "DDD"]]);
  });

  test("refuses what readers disagree on, saying where", () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ["bad checksum", Buffer.concat([tarEntry({ name: "a", checksum: "0000001\0" }), tarEnd()]), /the tar header at byte 0 has a bad checksum \(it stores 0o1, its bytes sum to 0o\d+\)/],
      ["checksum not a number", Buffer.concat([tarEntry({ name: "a", checksum: "zzzzzz\0 " }), tarEnd()]), /bad checksum \(it stores no number/],
      ["negative size", Buffer.concat([tarEntry({ name: "a", size: Buffer.alloc(12, 0xff) }), tarEnd()]), /the size of the tar header at byte 0 is negative/],
      ["huge base-256 size", Buffer.concat([tarEntry({ name: "a", size: Buffer.from([0x80, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]) }), tarEnd()]), /is too large/],
      ["size not octal", Buffer.concat([tarEntry({ name: "a", size: "0000000008\0\0" }), tarEnd()]), /the size of the tar header at byte 0 is not an octal number/],
      ["v7 header", Buffer.concat([tarEntry({ name: "a", magic: Buffer.alloc(8) }), tarEnd()]), /unknown format/],
      ["data after the end", Buffer.concat([tarEnd(), Buffer.from([0, 0, 1])]), /data after the tar's end-of-archive marker \(at byte 1026 of the tar\)/],
      ["data after the end, blocks later", Buffer.concat([tarEnd(), Buffer.alloc(5000), Buffer.from([7])]), /data after the tar's end-of-archive marker \(at byte 6024 of the tar\)/],
      ["no end marker", tarEntry({ name: "a" }, "x"), /the tar ends at byte 1024 without its end-of-archive marker/],
      ["cut in a header", Buffer.alloc(100, 1), /ends in the middle of a header/],
      ["cut in the data", tarEntry({ name: "a" }, "x").subarray(0, 600), /ends in the middle of the data of an entry/],
      ["empty", Buffer.alloc(0), /the tar inside is empty/],
      ["a pax record longer than its header", Buffer.concat([tarEntry({ name: "x", typeflag: "x" }, "30 path=a\n"), tarEntry({ name: "a" }), tarEnd()]), /malformed record/],
      ["a pax record without `=`", Buffer.concat([tarEntry({ name: "x", typeflag: "x" }, "9 pathab\n"), tarEntry({ name: "a" }), tarEnd()]), /malformed record/],
      ["a pax size that is no number", Buffer.concat([tarEntry({ name: "x", typeflag: "x" }, paxData({ size: "-1" })), tarEntry({ name: "a" }), tarEnd()]), /pax size .* is not a number/],
      ["a sparse file", Buffer.concat([tarEntry({ name: "x", typeflag: "x" }, paxData({ "GNU.sparse.map": "0,1" })), tarEntry({ name: "a" }), tarEnd()]), /GNU sparse file/],
      ["a pax header with no entry", Buffer.concat([tarEntry({ name: "x", typeflag: "x" }, paxData({ path: "a" })), tarEnd()]), /extended header at byte 0 of the tar is not followed by an entry/],
      ["a huge pax header", Buffer.concat([tarEntry({ name: "x", typeflag: "x", size: 2 * 1024 * 1024 }), tarEnd()]), /claims 2097152 bytes, more than 1048576/],
      ["a folder with data", Buffer.concat([tarEntry({ name: "d/", typeflag: "5" }, "data"), tarEnd()]), /the directory entry at byte 0 of the tar claims 4 bytes of data/],
      ["a name that is not UTF-8", Buffer.concat([tarEntry({ name: Buffer.from([0x61, 0xff, 0x62]) }), tarEnd()]), /the name at byte 0 of the tar is not valid UTF-8/],
    ];
    for (const [what, tar, message] of cases) {
      assert.throws(() => read(tar), (error: unknown) => error instanceof TarFormatError && message.test(error.message), what);
      assert.throws(() => read(tar, 3), TarFormatError, `${what}, in small chunks`);
    }
  });

  test("yields an entry before refusing its data, so the caller can say what the entry is", () => {
    const tar = Buffer.concat([tarEntry({ name: "link", typeflag: "2", size: 10 }), tarEnd()]);
    const reader = new TarReader();
    const events = reader.push(tar);
    const first = events.next();
    assert.equal(!first.done && first.value.kind === "entry" && first.value.entry.type, "symlink");
    assert.throws(() => events.next(), /the symlink entry at byte 0 of the tar claims 10 bytes of data/);
  });
});

/** A header whose name holds a byte above 127, with a checksum computed the signed way (old tars did). */
function tarHeader8bit(): Buffer {
  const entry = tarEntry({ name: "naïve.py" });
  fixChecksum(entry);
  let signed = 0;
  for (let i = 0; i < 512; i++) signed += i >= 148 && i < 156 ? 0x20 : entry[i]! > 127 ? entry[i]! - 256 : entry[i]!;
  entry.write(signed.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return entry;
}

describe("case-insensitive clashes", () => {
  test("within one index: files, folders, and a file where a folder is needed", () => {
    const index = new CaseIndex<string>();
    assert.deepEqual(index.add("pkg/mod.py", "a"), []);
    assert.deepEqual(index.add("pkg/other.py", "a"), []);
    const [file] = index.add("pkg/MOD.py", "a");
    assert.match(describeClash(file!), /^it differs only by case from `pkg\/mod\.py`/);
    const [folder] = index.add("Pkg/new.py", "a");
    assert.match(describeClash(folder!), /^its folder `Pkg` differs only by case from the folder `pkg`/);
    const [fileFolder] = index.add("pkg/mod.py/x.py", "a");
    assert.match(describeClash(fileFolder!), /^its folder `pkg\/mod\.py` is also a file in the archive/);
    assert.equal(index.add("ÉCOLE.py", "a").length, 0);
    assert.equal(index.add("e\u0301cole.py", "a").length, 1, "NFD and NFC spellings are one name");
  });

  test("across packages: one warning per pair, none for the very same path", () => {
    const warnings = caseClashWarnings([
      { name: "a", files: ["lib/Util.py", "same.py"] },
      { name: "b", files: ["lib/util.py", "same.py", "LIB/x.py"] },
    ]);
    assert.deepEqual(warnings, [
      "`lib/Util.py` (from `a`) and `lib/util.py` (from `b`) differ only by case: on a case-insensitive filesystem (FAT, as on most devices; macOS; Windows) they are one file, so the image will differ there",
      "the folder `lib` (from `a`) and the folder `LIB` (from `b`) differ only by case: on a case-insensitive filesystem (FAT, as on most devices; macOS; Windows) they are one folder, so the image will differ there",
    ]);
  });
});

describe("limits", () => {
  test("sizes take binary units", () => {
    const cases: Array<[string, number | undefined]> = [["4096", 4096], ["512KiB", 524288], ["64 MiB", 67108864], ["1g", 1073741824], ["1.5k", 1536], ["12XB", undefined], ["-1", undefined], ["", undefined], ["1e3", undefined]];
    for (const [text, bytes] of cases) assert.equal(parseByteSize(text), bytes, text);
    assert.equal(formatBytes(64 * 1024 * 1024), "64 MiB");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(100), "100 bytes");
  });
});
