// Tar records that readers apply differently: whenever two records give one field of an entry (its name,
// its link name, a pax key) GNU tar, Python's tarfile and others pick different ones, so the archive means
// two things and is refused. Each case is built here from the class (every pair and order of `L`, `K`,
// `x`, `g` that sets one field twice, with harmless records in between), read by the tar reader in whole
// and in tiny chunks, then unpacked in-process: refused with `archive-corrupt` naming the package, or
// installed under the one name every reader agrees on. Python's tarfile, when present, confirms the
// accepted ones.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { TarFormatError, TarReader } from "../../src/archive/tar-reader.js";
import { unpackSdist } from "../../src/archive/unpack.js";
import { tempDir } from "../helpers/cli.js";
import { rejectsMpip } from "../helpers/expect.js";
import { gzipReproducible } from "../helpers/sdist.js";
import { paxData, tarEnd, tarEntry } from "../helpers/tar-craft.js";
import { PYTHON } from "../pack/python-oracle.js";

const TOP = "recs-1.0";
const gnuRecord = (typeflag: "L" | "K", value: string) => tarEntry({ name: "././@LongLink", typeflag, magic: "gnu" }, `${value}\0`);
const L = (name: string) => gnuRecord("L", name);
const K = (link: string) => gnuRecord("K", link);
const X = (records: Record<string, string>) => tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData(records));
const G = (records: Record<string, string>) => tarEntry({ name: "././@GlobalHead", typeflag: "g" }, paxData(records));
const FILE = (name = `${TOP}/header.py`) => tarEntry({ name }, "X = 1\n");

/** Harmless records that may stand between the two that clash: none, a global comment, a pax mtime. */
const BETWEEN: Array<[string, Buffer[]]> = [["", []], [" with a global header between", [G({ comment: "c" })]]];

/** Every pair of records that gives one field twice, in both orders, with and without a record between. */
function twiceCases(): Array<[string, Buffer[]]> {
  const name = { L: () => L(`${TOP}/from-l.py`), x: () => X({ path: `${TOP}/from-x.py` }) };
  const link = { K: () => K("target-k.py"), x: () => X({ linkpath: "target-x.py" }) };
  const cases: Array<[string, Buffer[]]> = [];
  for (const [label, between] of BETWEEN) {
    for (const [a, b] of [["L", "L"], ["L", "x"], ["x", "L"], ["x", "x"]] as const) cases.push([`name by ${a} then ${b}${label}`, [name[a](), ...between, name[b](), FILE()]]);
    for (const [a, b] of [["K", "K"], ["K", "x"], ["x", "K"]] as const) cases.push([`link name by ${a} then ${b}${label}`, [link[a](), ...between, link[b](), FILE()]]);
    cases.push([`two pax headers with different keys${label}`, [X({ mtime: "1" }), ...between, X({ path: `${TOP}/x.py` }), FILE()]]);
  }
  for (const key of ["path", "size", "mtime", "linkpath"]) {
    const value = key === "size" ? "6" : key === "mtime" ? "1" : `${TOP}/dup.py`;
    const body = Buffer.concat([paxData({ [key]: value }), paxData({ [key]: value })]);
    cases.push([`\`${key}\` twice in one pax header`, [tarEntry({ name: "././@PaxHeader", typeflag: "x" }, body), FILE()]]);
  }
  return cases;
}

/** Records that are wrong alone: a global name or size, an empty one, a GNU prefix, a file named like a folder. */
const ALONE: Array<[string, Buffer[]]> = [
  ["a global `path`", [G({ path: `${TOP}/global.py` }), FILE()]],
  ["a global `size`", [G({ size: "3" }), FILE()]],
  ["a global `linkpath`", [G({ linkpath: "x" }), FILE()]],
  ["an empty pax `path`", [X({ path: "" }), FILE()]],
  ["an empty pax `size`", [X({ size: "" }), FILE()]],
  ["an empty pax `linkpath`", [X({ linkpath: "" }), FILE()]],
  ["a GNU header with a name prefix", [tarEntry({ name: "p.py", magic: "gnu", prefix: `${TOP}/pre` }, "X = 1\n")]],
  ["a `0` file whose name ends in `/`", [tarEntry({ name: `${TOP}/d/`, typeflag: "0" })]],
  ["a `7` file whose name ends in `/`", [tarEntry({ name: `${TOP}/d/`, typeflag: "7" })]],
  ["a file named by `L` ending in `/`", [L(`${TOP}/d/`), tarEntry({ name: `${TOP}/d`, magic: "gnu" })]],
  ["a NUL-type file named by pax ending in `/`", [X({ path: `${TOP}/d/` }), tarEntry({ name: `${TOP}/d`, typeflag: "\0" })]],
];

/** Records every reader applies alike, and the files they install. */
const AGREED: Array<[string, Buffer[], string[]]> = [
  ["a GNU long name alone", [L(`${TOP}/long.py`), FILE()], ["long.py"]],
  ["a pax path alone", [X({ path: `${TOP}/pax.py` }), FILE()], ["pax.py"]],
  ["a long name and a long link name (two fields)", [L(`${TOP}/both.py`), K("ignored.py"), FILE()], ["both.py"]],
  ["a long name and a pax mtime (two fields)", [L(`${TOP}/mtime.py`), X({ mtime: "1" }), FILE()], ["mtime.py"]],
  ["a global comment, then a pax path", [G({ comment: "c" }), X({ path: `${TOP}/after-g.py` }), FILE()], ["after-g.py"]],
  ["two global headers", [G({ comment: "a" }), G({ comment: "b" }), FILE()], ["header.py"]],
  ["a POSIX name prefix", [tarEntry({ name: "p.py", prefix: `${TOP}/pre` }, "X = 1\n")], ["pre/p.py"]],
  ["an old-tar folder: type NUL, name ending in `/`", [tarEntry({ name: `${TOP}/old/`, typeflag: "\0" }), FILE(`${TOP}/old/in.py`)], ["old/in.py"]],
];

const tarOf = (blocks: Buffer[]) => Buffer.concat([tarEntry({ name: `${TOP}/`, typeflag: "5" }), tarEntry({ name: `${TOP}/recs.py` }, "R = 1\n"), ...blocks, tarEnd()]);

function readNames(tar: Buffer, chunk: number): string[] {
  const reader = new TarReader();
  const names: string[] = [];
  for (let at = 0; at < tar.length; at += chunk) for (const event of reader.push(tar.subarray(at, at + chunk))) if (event.kind === "entry") names.push(event.entry.name);
  reader.finish();
  return names;
}

async function listed(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = `${prefix}${entry.name}`;
    if (entry.isDirectory()) found.push(...(await listed(path.join(dir, entry.name), `${relative}/`)));
    else found.push(relative);
  }
  return found.sort();
}

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => (work = await tempDir("mpip-records-")));
after(() => work.cleanup());

async function freshFolder(): Promise<string> {
  const dir = path.join(work.dir, `u${++counter}`);
  await mkdir(dir);
  return dir;
}

describe("records that give one field twice", () => {
  const refused = [...twiceCases(), ...ALONE];

  test("the tar reader refuses each, whole and in small chunks, saying what is twice or wrong", () => {
    assert.ok(refused.length >= 30, `${refused.length} cases`);
    for (const [what, blocks] of refused) {
      const tar = tarOf(blocks);
      for (const chunk of [tar.length, 7, 512]) {
        assert.throws(() => readNames(tar, chunk), (error: unknown) => error instanceof TarFormatError && /twice|disagree|global pax header|empty|prefix|ends in `\/`/.test(error.message), `${what}, chunks of ${chunk}`);
      }
    }
  });

  test("unpacking refuses each with archive-corrupt naming the package, writing none of the entry", async () => {
    for (const [what, blocks] of refused) {
      const dir = await freshFolder();
      await rejectsMpip(unpackSdist(gzipReproducible(tarOf(blocks)), dir, "`recs 1.0`"), "archive-corrupt", "`recs 1.0` is not a valid .tar.gz archive");
      // The entries before it may be in the staging folder, which the install removes (see names-install.test.ts).
      assert.deepEqual((await listed(dir)).filter((file) => file !== "recs.py"), [], what);
    }
  });
});

describe("records that every reader applies alike", () => {
  test("install under the one name they give", async () => {
    for (const [what, blocks, files] of AGREED) {
      const dir = await freshFolder();
      const unpacked = await unpackSdist(gzipReproducible(tarOf(blocks)), dir, "`recs 1.0`");
      assert.deepEqual([...unpacked.files].sort(), ["recs.py", ...files].sort(), what);
      assert.deepEqual(await listed(dir), ["recs.py", ...files].sort(), what);
    }
  });

  test("Python's tarfile reads the same names as mpip", { skip: PYTHON === undefined ? "python3 is not available" : false }, () => {
    const script = "import base64, io, json, sys, tarfile\nout = []\nfor case in json.load(sys.stdin):\n    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(case))) as tar:\n        out.append([m.name + ('/' if m.isdir() else '') for m in tar])\njson.dump(out, sys.stdout)\n";
    const tars = AGREED.map(([, blocks]) => tarOf(blocks));
    const run = spawnSync(PYTHON!, ["-c", script], { input: JSON.stringify(tars.map((tar) => tar.toString("base64"))), encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const python = JSON.parse(run.stdout) as string[][];
    tars.forEach((tar, i) => {
      const ours = readNames(tar, tar.length).map((name) => name.replace(/\/+$/, "/"));
      assert.deepEqual(python[i], ours, AGREED[i]![0]);
    });
  });
});
