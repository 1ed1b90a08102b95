// The archive writer: plain ustar with short names only, sorted, folders first, fixed owner/modes/mtime,
// a fixed gzip header and a 4 KiB window; byte-identical whatever the umask or working folder; readable by
// real MicroPython (`deflate.DeflateIO(f, deflate.GZIP, 12)` and its `tarfile`).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, test } from "node:test";
import { scanGzip } from "../../src/archive/gzip-scan.js";
import { DEFAULT_MTIME, defaultMtime, writeSdist, writeTar, type ArchiveFile } from "../../src/pack/writer.js";
import { ROOT, runCommand, tempDir } from "../helpers/cli.js";
import { runMicroPython } from "../helpers/micropython.js";
import { prng } from "./python-oracle.js";

interface Header {
  name: string;
  mode: string;
  uid: string;
  gid: string;
  size: number;
  mtime: number;
  typeflag: string;
  magic: string;
  uname: string;
  gname: string;
  prefix: string;
}

function headers(tar: Buffer): Header[] {
  const out: Header[] = [];
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const text = (start: number, length: number) => tar.toString("utf8", at + start, at + start + length).replace(/\0+$/, "");
    const size = parseInt(text(124, 12), 8);
    out.push({
      name: text(0, 100), mode: text(100, 8), uid: text(108, 8), gid: text(116, 8), size, mtime: parseInt(text(136, 12), 8),
      typeflag: text(156, 1), magic: tar.toString("latin1", at + 257, at + 265), uname: text(265, 32), gname: text(297, 32), prefix: text(345, 155),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const noise = (length: number, seed: number) => {
  const next = prng(seed);
  return Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
};
const far = Buffer.concat([noise(6000, 1), Buffer.from("between"), noise(6000, 1)]); // repeats 6 KiB back

const FILES: ArchiveFile[] = [
  { path: "demo-1.0/demo/data/blob.bin", data: far },
  { path: "demo-1.0/demo/__init__.py", data: Buffer.from("from . import core\n") },
  { path: "demo-1.0/demo.egg-info/PKG-INFO", data: Buffer.from("Metadata-Version: 1.1\nName: demo\nVersion: 1.0\n") },
  { path: "demo-1.0/demo/core.py", data: Buffer.from("VALUE = 42\n") },
  { path: "demo-1.0/demo/data/empty.txt", data: new Uint8Array() },
  { path: "demo-1.0/demo/data/café.txt", data: Buffer.from("crème\n") },
  { path: "demo-1.0/top.py", data: Buffer.from("import demo\n") },
];

describe("writeSdist", () => {
  test("plain ustar: sorted by path, each folder before its contents, fixed owner, modes and mtime", () => {
    const list = headers(writeTar(FILES, { mtime: 1234567890 }));
    assert.deepEqual(list.map((h) => `${h.typeflag} ${h.name}`), [
      "5 demo-1.0/",
      "5 demo-1.0/demo.egg-info/",
      "0 demo-1.0/demo.egg-info/PKG-INFO",
      "5 demo-1.0/demo/",
      "0 demo-1.0/demo/__init__.py",
      "0 demo-1.0/demo/core.py",
      "5 demo-1.0/demo/data/",
      "0 demo-1.0/demo/data/blob.bin",
      "0 demo-1.0/demo/data/café.txt",
      "0 demo-1.0/demo/data/empty.txt",
      "0 demo-1.0/top.py",
    ]);
    for (const h of list) {
      assert.equal(h.mode, h.typeflag === "5" ? "0000755" : "0000644");
      assert.deepEqual([h.uid, h.gid, h.uname, h.gname, h.prefix, h.mtime, h.magic], ["0000000", "0000000", "", "", "", 1234567890, "ustar\u000000"]);
    }
    assert.equal(list.find((h) => h.name.endsWith("blob.bin"))!.size, far.length);
  });

  test("gzip: fixed header (no mtime, OS byte 3), level 9, and no distance beyond 4 KiB", () => {
    const gz = writeSdist(FILES);
    assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    const scan = scanGzip(gz);
    assert.ok(scan.maxDistance <= 4096, `largest distance ${scan.maxDistance}`);
    assert.ok(gunzipSync(gz).equals(writeTar(FILES)));
  });

  test("refuses names a device reader cannot take, naming the path", () => {
    const one = (p: string, data = Buffer.from("x")) => () => writeSdist([{ path: p, data }]);
    const long = `demo-1.0/${"m".repeat(89)}.py`; // 101 bytes
    assert.throws(one(long), (e: Error & { code?: string }) => e.code === "archive-name" && e.message.includes(long) && e.message.includes("101 bytes"));
    assert.doesNotThrow(one(`demo-1.0/${"m".repeat(88)}.py`)); // exactly 100
    assert.doesNotThrow(one(`demo-1.0/${"é".repeat(44)}.py`)); // exactly 100 bytes of UTF-8 (88 characters)
    assert.throws(one(`demo-1.0/${"é".repeat(44)}ab.py`), /102 bytes long, more than the 100/);
    for (const bad of ["/abs/x.py", "demo-1.0/../x.py", "demo-1.0//x.py", "demo-1.0/./x.py", "x.py", "demo-1.0\\x.py", "demo-1.0/a\nb", "demo-1.0/\ud800.py"]) {
      assert.throws(one(bad), (e: Error & { code?: string }) => e.code === "archive-name", bad);
    }
    assert.throws(() => writeSdist([{ path: "d-1/a.py", data: Buffer.from("1") }, { path: "d-1/a.py", data: Buffer.from("2") }]), /twice/);
    assert.throws(() => writeSdist([{ path: "d-1/a", data: Buffer.from("1") }, { path: "d-1/a/b.py", data: Buffer.from("2") }]), /both a file and a folder/);
  });

  test("the default mtime is SOURCE_DATE_EPOCH when valid, else 1980-01-01", () => {
    assert.equal(DEFAULT_MTIME, Date.UTC(1980, 0, 1) / 1000);
    assert.equal(defaultMtime({}), DEFAULT_MTIME);
    assert.equal(defaultMtime({ SOURCE_DATE_EPOCH: "1700000000" }), 1700000000);
    for (const invalid of ["", "soon", "-5", "1.5", "1e9", "99999999999999"]) assert.equal(defaultMtime({ SOURCE_DATE_EPOCH: invalid }), DEFAULT_MTIME, invalid);
  });

  test("byte-identical in other processes with another umask and working folder; SOURCE_DATE_EPOCH changes the mtimes", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const input = path.join(dir, "files.json");
      await writeFile(input, JSON.stringify(FILES.map((f) => ({ path: f.path, data: Buffer.from(f.data).toString("base64") }))));
      const script = path.join(dir, "write.mjs");
      await writeFile(script, [
        `import { readFileSync } from "node:fs";`,
        `import { createHash } from "node:crypto";`,
        `const { writeSdist } = await import(${JSON.stringify(path.join(ROOT, "dist", "pack", "writer.js"))});`,
        `const files = JSON.parse(readFileSync(process.argv[2], "utf8")).map((f) => ({ path: f.path, data: Buffer.from(f.data, "base64") }));`,
        `process.stdout.write(createHash("sha256").update(writeSdist(files)).digest("hex"));`,
      ].join("\n"));
      const sha = async (umask: string, cwd: string, env: NodeJS.ProcessEnv = {}) => {
        const run = await runCommand("sh", ["-c", `umask ${umask} && exec "${process.execPath}" "${script}" "${input}"`], { cwd, env: { SOURCE_DATE_EPOCH: "", ...env } });
        assert.equal(run.code, 0, run.stderr);
        return run.stdout;
      };
      const here = createHash("sha256").update(writeSdist(FILES, { mtime: DEFAULT_MTIME })).digest("hex");
      assert.equal(await sha("022", ROOT), here);
      assert.equal(await sha("077", dir), here);
      assert.equal(await sha("000", "/"), here);
      const dated = await sha("022", ROOT, { SOURCE_DATE_EPOCH: "1700000000" });
      assert.notEqual(dated, here);
      assert.equal(dated, createHash("sha256").update(writeSdist(FILES, { mtime: 1700000000 })).digest("hex"));
      assert.ok(headers(gunzipSync(writeSdist(FILES, { mtime: 1700000000 }))).every((h) => h.mtime === 1700000000));
    } finally {
      await cleanup();
    }
  });

  test("real MicroPython inflates it with a 4 KiB window and lists it with its tarfile", async () => {
    const archive = writeSdist(FILES);
    const result = await runMicroPython(
      [
        "import deflate, tarfile, hashlib, binascii",
        "f = open('/archive.tar.gz', 'rb')",
        "t = tarfile.TarFile(fileobj=deflate.DeflateIO(f, deflate.GZIP, 12))",
        "for i in t:",
        "    data = t.extractfile(i).read() if i.type == tarfile.REGTYPE else b''",
        "    print(i.name, i.type, i.size, len(data), binascii.hexlify(hashlib.sha256(data).digest()).decode())",
      ].join("\n"),
      { files: { "/archive.tar.gz": archive } },
    );
    assert.equal(result.error, undefined, result.error);
    const sha = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
    const expected = headers(writeTar(FILES)).map((h) => {
      const file = FILES.find((f) => f.path === h.name);
      const data = file?.data ?? new Uint8Array();
      return `${h.name} ${h.typeflag === "5" ? "dir" : "file"} ${h.size} ${data.length} ${sha(data)}`;
    });
    assert.deepEqual(result.stdout.trimEnd().split("\n"), expected);
  });
});

test("refuses names mpip install would refuse: `:` and C1 control characters", () => {
  for (const name of ["p-1/p/a:b.txt", "p-1/p/a\u0085b.txt"]) {
    assert.throws(() => writeSdist([{ path: name, data: Buffer.from("x") }]), (error: { code?: string }) => error.code === "archive-name", name);
  }
});

test("the compressed bytes do not depend on the Node binary's zlib: a pinned pure-JS deflate gives a known digest", () => {
  const files: ArchiveFile[] = [
    { path: "golden-1.0/golden/__init__.py", data: Buffer.from("def f(x):\n    return x * 2\n".repeat(40)) },
    { path: "golden-1.0/golden.egg-info/PKG-INFO", data: Buffer.from("Metadata-Version: 2.1\nName: golden\nVersion: 1.0\n") },
  ];
  const archive = writeSdist(files, { mtime: 1700000000 });
  assert.equal(createHash("sha256").update(archive).digest("hex"), GOLDEN_SHA256);
});

/** What pako 3 (level 9, 4 KiB window, memLevel 8) makes of the archive above; any machine must agree. */
const GOLDEN_SHA256 = "df356a127c0b5c4b4289eea77fb470df4979802b93761a33f62d23d9d5a45eb1";
