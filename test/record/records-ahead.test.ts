// Records staged ahead (record/stage.ts RecordsAhead): an install writes each package's record as soon as
// the package is prepared, while it waits for the network, and takes it at the end only if it was staged
// from exactly what the end decides. Every way the end can decide otherwise must give the record the end
// decides: a file another package also ships (the later one owns it), a package requested because the
// version it replaces was, a package compiled after it was prepared. And whatever was taken, each RECORD
// must list the installed files with their real hashes and sizes.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { connect, createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { RecordsAhead } from "../../src/record/stage.js";
import { stagedRecordFile, type RecordInput } from "../../src/record/write.js";
import { BIN, runCommand, runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-records-ahead-");
  // Three levels; `kite-tail` and `kite-string` both ship `kite_common.py`: the later in plan order owns it.
  await server.addSdist({ name: "kite", version: "1.0", files: { "kite/__init__.py": "FLY = 1\n", "kite/frame.py": "RIBS = 4\n" }, requires: ["kite-tail", "kite-string"] });
  await server.addSdist({ name: "kite-tail", version: "2.0", files: { "kite_tail.py": "BOWS = 6\n", "kite_common.py": "FROM = 'tail'\n" }, requires: ["kite-knot"] });
  await server.addSdist({ name: "kite-string", version: "0.3", files: { "kite_string.py": "METRES = 50\n", "kite_common.py": "FROM = 'string'\n" }, requires: ["kite-knot"] });
  await server.addSdist({ name: "kite-knot", version: "0.1", files: { "kite_knot.py": "KIND = 'bowline'\n" } });
  await server.addSdist({ name: "kite-knot", version: "0.2", files: { "kite_knot.py": "KIND = 'hitch'\n" } });
  // Many packages of many files, staged (and their records) side by side.
  const sails = Array.from({ length: 32 }, (_, at) => `sail-${at}`);
  for (const [at, name] of sails.entries()) {
    const files = Object.fromEntries(Array.from({ length: 32 }, (_, file) => [`sail_${at}/part_${file}.py`, `PART = ${file}\n${"#".repeat(1000)}\n`]));
    await server.addSdist({ name, version: "1.0", files });
  }
  await server.addSdist({ name: "fleet", version: "1.0", files: { "fleet.py": "SHIPS = 32\n" }, requires: sails });
  // Hashed while unpacking: one archive inflated at once, one too large for that (streamed to disk), and
  // one whose shipped .mpy a compile writes over (the hash taken while unpacking no longer holds).
  const large = Array.from({ length: 16000 }, (_, line) => `LINE_${line} = ${(line * 7919) % 104729}\n`).join("");
  await server.addSdist({ name: "kite-bag", version: "1.0", files: { "kite_bag/__init__.py": "HOLDS = 3\n", "kite_bag/big.py": large, "kite_bag/data/spare.txt": "spare line\n" } });
  await server.addSdist({ name: "kite-spool", version: "1.0", files: { "kite_spool.py": "TURNS = 12\n", "kite_spool.mpy": "not bytecode, left from an old build\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const sha256 = (data: Buffer) => `sha256=${createHash("sha256").update(data).digest("base64url")}`;

/** Each `.dist-info` of `target` with the rows of its RECORD, checked against the files: every hashed row matches its file. */
async function checkedRecords(target: string): Promise<Map<string, string[]>> {
  const records = new Map<string, string[]>();
  for (const distInfo of (await readdir(target)).filter((name) => name.endsWith(".dist-info")).sort()) {
    const rows = (await readFile(path.join(target, distInfo, "RECORD"), "utf8")).trim().split("\n").map((line) => line.split(","));
    for (const [file, hash, size] of rows) {
      if (hash === "") continue;
      const data = await readFile(path.join(target, file!));
      assert.equal(hash, sha256(data), `${distInfo}: the hash of ${file}`);
      assert.equal(Number(size), data.length, `${distInfo}: the size of ${file}`);
    }
    records.set(distInfo, rows.map(([file]) => file!).filter((file) => !file.includes(".dist-info/")).sort());
  }
  return records;
}

describe("records staged ahead", () => {
  test("a graph whose packages share a file: each RECORD lists what its package owns, with the installed bytes' hashes", async () => {
    const target = path.join(work.dir, "shared");
    const result = await runMpip(["install", "--no-cache", "-i", server.url, "-p", target, "kite"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /`kite_common\.py` is in both/);
    const records = await checkedRecords(target);
    const common = await readFile(path.join(target, "kite_common.py"), "utf8");
    const owner = common.includes("string") ? "kite_string-0.3.dist-info" : "kite_tail-2.0.dist-info";
    const other = owner === "kite_string-0.3.dist-info" ? "kite_tail-2.0.dist-info" : "kite_string-0.3.dist-info";
    assert.ok(records.get(owner)!.includes("kite_common.py"), `${owner} owns the copy installed`);
    assert.ok(!records.get(other)!.includes("kite_common.py"), `${other} does not list the file it lost`);
    assert.deepEqual(records.get("kite-1.0.dist-info"), ["kite/__init__.py", "kite/frame.py"]);
    assert.deepEqual(records.get("kite_knot-0.2.dist-info"), ["kite_knot.py"]);
    // Only what the user named is REQUESTED.
    for (const [distInfo] of records) assert.equal((await readdir(path.join(target, distInfo))).includes("REQUESTED"), distInfo === "kite-1.0.dist-info", distInfo);
  });

  test("a dependency that replaces a version the user had asked for stays REQUESTED", async () => {
    const target = path.join(work.dir, "replaced");
    const first = await runMpip(["install", "-q", "--no-cache", "-i", server.url, "-p", target, "kite-knot==0.1"]);
    assert.equal(first.code, 0, first.stderr);
    // kite-tail's dependency kite-knot, held to 0.2 by a constraint, replaces the 0.1 the user asked for.
    const constraints = path.join(work.dir, "knot-02.txt");
    await writeFile(constraints, "kite-knot==0.2\n");
    const second = await runMpip(["install", "-q", "--no-cache", "-i", server.url, "-p", target, "-c", constraints, "kite-tail"]);
    assert.equal(second.code, 0, second.stderr);
    const records = await checkedRecords(target);
    assert.deepEqual([...records.keys()], ["kite_knot-0.2.dist-info", "kite_tail-2.0.dist-info"]);
    assert.ok((await readdir(path.join(target, "kite_knot-0.2.dist-info"))).includes("REQUESTED"), "the version asked for was requested: its replacement is");
    assert.ok((await readdir(path.join(target, "kite_tail-2.0.dist-info"))).includes("REQUESTED"), "kite-tail was named");
  });

  test("records staged side by side hold few files open at once: a wide install works under `ulimit -n 128`", async () => {
    const target = path.join(work.dir, "fleet");
    // Before: the records of every prepared package were staged at once, 16 files open for each, and the
    // install failed (EMFILE) while it unpacked the packages still coming.
    const result = await runCommand("sh", ["-c", 'ulimit -n 128 && exec "$0" "$@"', process.execPath, BIN, "install", "-q", "--no-cache", "-i", server.url, "-p", target, "fleet"]);
    assert.equal(result.code, 0, result.stderr);
    const records = await checkedRecords(target);
    assert.equal(records.size, 33);
    assert.equal(records.get("sail_7-1.0.dist-info")?.length, 32);
  });

  test("the hashes taken while unpacking are the installed bytes', for an archive inflated at once and one streamed", async () => {
    const target = path.join(work.dir, "bag");
    const result = await runMpip(["install", "-q", "--no-cache", "-i", server.url, "-p", target, "kite-bag", "kite-knot"]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await readFile(path.join(target, "kite_bag", "big.py"))).length > 256 * 1024, "big enough to be streamed");
    const records = await checkedRecords(target);
    assert.deepEqual(records.get("kite_bag-1.0.dist-info"), ["kite_bag/__init__.py", "kite_bag/big.py", "kite_bag/data/spare.txt"]);
    assert.deepEqual(records.get("kite_knot-0.2.dist-info"), ["kite_knot.py"]);
  });

  test("packages compiled after they were prepared: RECORD lists the .mpy files written, with their hashes", async () => {
    const target = path.join(work.dir, "compiled");
    const result = await runMpip(["install", "-q", "--no-cache", "--compile", "-i", server.url, "-p", target, "kite-tail"]);
    assert.equal(result.code, 0, result.stderr);
    const records = await checkedRecords(target);
    assert.deepEqual(records.get("kite_tail-2.0.dist-info"), ["kite_common.mpy", "kite_tail.mpy"]);
    assert.deepEqual(records.get("kite_knot-0.2.dist-info"), ["kite_knot.mpy"]);
    // A shipped .mpy the compile writes over: its hash is the compiled file's, not the one unpacked.
    const spool = path.join(work.dir, "compiled-spool");
    const over = await runMpip(["install", "-q", "--no-cache", "--compile", "-i", server.url, "-p", spool, "kite-spool"]);
    assert.equal(over.code, 0, over.stderr);
    assert.deepEqual((await checkedRecords(spool)).get("kite_spool-1.0.dist-info"), ["kite_spool.mpy"]);
    assert.doesNotMatch(await readFile(path.join(spool, "kite_spool.mpy"), "latin1"), /old build/);
  });
});

describe("RecordsAhead", () => {
  async function packageDir(name: string, files: Record<string, string>): Promise<string> {
    const dir = path.join(work.dir, "staged", name);
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    return dir;
  }
  const input = (dir: string, files: string[], requested = false): RecordInput => ({
    name: "reel",
    version: "1.0",
    requiresDist: [],
    requested,
    provenance: { index: "https://example.invalid/pypi", kind: "pypi", artifact: "dist", url: "https://example.invalid/reel-1.0.tar.gz", sha256: null, spec: null, build: { compile: "no", mpy: null } },
    files: files.map((file) => ({ path: file, staged: path.join(dir, file) })),
  });

  test("gives the record staged ahead only for the very input it was staged from", async () => {
    const dir = await packageDir("reel", { "reel.py": "SPOOL = 1\n", "reel_extra.py": "X = 2\n" });
    const ahead = new RecordsAhead(path.join(work.dir, "ahead-one"));
    ahead.start("reel", input(dir, ["reel.py", "reel_extra.py"]));
    const taken = await ahead.take("reel", input(dir, ["reel.py", "reel_extra.py"]));
    assert.ok(taken !== undefined);
    assert.equal(taken.distInfo, "reel-1.0.dist-info");
    assert.match(await readFile(stagedRecordFile(taken, `${taken.distInfo}/RECORD`), "utf8"), /^reel\.py,sha256=[\w-]{43},10\nreel_extra\.py,/);
    assert.equal(await ahead.take("reel", input(dir, ["reel.py"])), undefined, "another set of files owned");
    assert.equal(await ahead.take("reel", input(dir, ["reel.py", "reel_extra.py"], true)), undefined, "requested after all");
    assert.equal(await ahead.take("spool", input(dir, ["reel.py", "reel_extra.py"])), undefined, "another package");
    await ahead.settled();
  });

  test("records started together are staged one at a time, with the event loop's I/O between: a connection made meanwhile is not held back until all of them are written", async () => {
    // Records are written in blocking calls. Six started at once used to be written in one go, before
    // the event loop polled again, so the connection opened for a dependency's request (undici sends
    // it only once connected) waited for all six. Now each waits for a poll of its own.
    const dir = await packageDir("lane", { "reel.py": "SPOOL = 1\n" });
    const into = path.join(work.dir, "ahead-lane");
    const ahead = new RecordsAhead(into);
    const listener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    try {
      const port = (listener.address() as AddressInfo).port;
      const keys = Array.from({ length: 6 }, (_, at) => `reel-${at}`);
      for (const key of keys) ahead.start(key, input(dir, ["reel.py"]));
      const stagedWhenConnected = await new Promise<number>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.destroy();
          resolve(existsSync(into) ? readdirSync(into).length : 0);
        });
        socket.on("error", reject);
      });
      assert.ok(stagedWhenConnected < keys.length, `${stagedWhenConnected} of ${keys.length} records were staged before the connection was seen to be made`);
      await ahead.settled();
      for (const key of keys) assert.ok((await ahead.take(key, input(dir, ["reel.py"]))) !== undefined, `${key} staged ahead`);
      assert.equal(readdirSync(into).length, keys.length);
    } finally {
      listener.close();
    }
  });

  test("a record that cannot be staged ahead is not taken, and says nothing until it is staged at the end", async () => {
    const dir = await packageDir("broken", { "reel.py": "SPOOL = 1\n" });
    const ahead = new RecordsAhead(path.join(work.dir, "ahead-two"));
    const missing = input(dir, ["reel.py", "gone.py"]);
    ahead.start("reel", missing);
    await ahead.settled();
    assert.equal(await ahead.take("reel", missing), undefined);
  });
});
