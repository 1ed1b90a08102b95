// Names a device cannot hold, and tar records readers apply differently, through the built CLI: an install
// from every kind of source fails naming the package and the entry, with the target and its folder as they
// were; `mpip check` fails naming the problem; `mpip pack` and `mpip repack` refuse to write such
// archives. All local (files and folders written here), so no server is needed.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir, type RunResult } from "./helpers/cli.js";
import { writeTree } from "./helpers/expect.js";
import { buildSdist, gzipReproducible, type ExtraEntry } from "./helpers/sdist.js";
import { paxData, tarEnd, tarEntry } from "./helpers/tar-craft.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => (work = await tempDir("mpip-names-")));
after(() => work.cleanup());

const fresh = () => path.join(work.dir, `case-${++counter}`);

/** Writes `name`-1.0.tar.gz (one module, plus `extra`) into a fresh folder; returns its path. */
async function sdistFile(name: string, files: Record<string, string>, extra: ExtraEntry[] = []): Promise<string> {
  const dir = fresh();
  await mkdir(dir);
  const file = path.join(dir, `${name}-1.0.tar.gz`);
  await writeFile(file, await buildSdist({ name, version: "1.0", files: { [`${name.replace(/-/g, "_")}.py`]: "X = 1\n", ...files } }, { extraEntries: extra }));
  return file;
}

/** Runs `mpip install --json` into a target that already holds a file; the target and its folder must not change. */
async function failsUnchanged(spec: string, code: string): Promise<{ result: RunResult; message: string; hint: string }> {
  const parent = fresh();
  const target = path.join(parent, "target");
  await writeTree(target, { "mine/keep.py": "KEEP = True\n" });
  const before = await snapshot(target);
  const result = await runMpip(["install", "--json", "--no-index", "-p", target, spec], { cwd: work.dir });
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /This is a bug/);
  const error = (JSON.parse(result.stdout) as { error: { code: string; message: string; hint: string } }).error;
  assert.equal(error.code, code, error.message);
  assert.deepEqual(await snapshot(target), before);
  assert.deepEqual(await readdir(parent), ["target"]);
  return { result, message: error.message, hint: error.hint };
}

describe("mpip install refuses names a device cannot hold", () => {
  test("from an sdist: a DOS device name, a trailing dot or space, a forbidden character, in a file or a folder", async () => {
    // [package, file in the sdist, the entry refused first (the sdist has folder entries), reason]
    const cases: Array<[string, string, string, RegExp]> = [
      ["n-aux", "aux.py", "aux.py", /the name `aux\.py` is the DOS device name `AUX` with an extension/],
      ["n-dot", "pkg/mod.py.", "pkg/mod.py.", /the name `mod\.py\.` ends in a dot, which FAT and Windows strip: it would be `mod\.py`/],
      ["n-space", "pkg /mod.py", "pkg /", /the name `pkg ` ends in a space, which FAT and Windows strip: it would be `pkg`/],
      ["n-folder", "Lpt1/x.py", "Lpt1/", /the name `Lpt1` is the DOS device name `LPT1`:/],
      ["n-star", "pkg/a*b.py", "pkg/a*b.py", /the name `a\*b\.py` contains `\*`/],
    ];
    for (const [name, file, entry, reason] of cases) {
      const { message, hint } = await failsUnchanged(await sdistFile(name, { [file]: "Y = 2\n" }), "unsafe-path");
      assert.ok(message.startsWith(`refused entry \`${name}-1.0/${entry}\` of \`${name} 1.0\``), message);
      assert.match(message, reason);
      assert.match(hint, /FAT .* and Windows cannot hold such names/);
    }
  });

  test("from an sdist: names FAT makes one, and a folder entry then a file of its name", async () => {
    const clash = await failsUnchanged(await sdistFile("n-case", { "pkg/Mod.py": "A = 1\n", "pkg/mod.py": "B = 2\n" }), "unsafe-path");
    assert.match(clash.message, /refused entry `n-case-1\.0\/pkg\/mod\.py` of `n-case.*it differs only by case from `pkg\/Mod\.py`/);
    const folder = await failsUnchanged(await sdistFile("n-dirfile", {}, [{ name: "n-dirfile-1.0/pkg/x/", type: "directory" }, { name: "n-dirfile-1.0/pkg/x", type: "file", content: "" }]), "unsafe-path");
    assert.match(folder.message, /refused entry `n-dirfile-1\.0\/pkg\/x` of `n-dirfile.*it is a file, but the archive also has a folder `pkg\/x`/);
  });

  test("from a package.json and a single module: the destination's name", async () => {
    const dir = fresh();
    await writeTree(dir, { "doc/package.json": JSON.stringify({ urls: [["lib/ok.py", "ok.py"], ["lib/con.py", "con.py"]], version: "1.0" }), "doc/ok.py": "", "doc/con.py": "", "mods/nul.py": "" });
    const doc = await failsUnchanged(path.join(dir, "doc"), "unsafe-path");
    assert.match(doc.message, /lists the file `lib\/con\.py` \(`urls\[1\]`\), refused: the name `con\.py` is the DOS device name `CON`/);
    assert.match(doc.hint, /Windows cannot hold such names .*nothing of it was fetched or written/);
    // A module file of the user's own is installed under its file's name: theirs to change (a usage error).
    const target = path.join(fresh(), "target");
    const module = await runMpip(["install", "--json", "--no-index", "-p", target, path.join(dir, "mods", "nul.py")], { cwd: work.dir });
    assert.equal(module.code, 2, module.stderr);
    const error = (JSON.parse(module.stdout) as { error: { code: string; message: string; hint: string } }).error;
    assert.equal(error.code, "usage");
    assert.match(error.message, /cannot install `nul\.py` of `nul` \(`.*nul\.py`\) under its own name: the name `nul\.py` is the DOS device name `NUL`/);
    assert.match(error.hint, /rename the file/);
    assert.equal(existsSync(target), false, "nothing installed");
  });

  test("an archive whose records give one name twice is corrupt, naming the package", async () => {
    const dir = fresh();
    await mkdir(dir);
    const top = "n-twice-1.0";
    const long = (name: string) => tarEntry({ name: "././@LongLink", typeflag: "L", magic: "gnu" }, `${name}\0`);
    const tar = Buffer.concat([
      tarEntry({ name: `${top}/`, typeflag: "5" }),
      tarEntry({ name: `${top}/n_twice.py` }, "X = 1\n"),
      long(`${top}/shown.py`),
      tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData({ path: `${top}/installed.py` })),
      tarEntry({ name: `${top}/plain.py` }, "Y = 2\n"),
      tarEnd(),
    ]);
    const file = path.join(dir, `${top}.tar.gz`);
    await writeFile(file, gzipReproducible(tar));
    const { message } = await failsUnchanged(file, "archive-corrupt");
    assert.match(message, /`n-twice 1\.0`.* is not a valid \.tar\.gz archive: the entry after byte 1536 of the tar is given its name twice, by a GNU long name record \(`L`\) and a pax `path`/);
  });
});

describe("mpip check, pack and repack", () => {
  test("mpip check fails an archive with such names, or with records that give one name twice, naming the problem", async () => {
    const aux = await sdistFile("c-aux", { "c_pkg/aux.py": "", "c_pkg/Data.txt": "", "c_pkg/data.txt": "" });
    const run = await runMpip(["check", aux]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /FAIL names: mpip install refuses 2 entries for their names/);
    assert.match(run.stdout, /`c-aux-1\.0\/c_pkg\/aux\.py`: the name `aux\.py` is the DOS device name `AUX`/);
    assert.match(run.stdout, /`c-aux-1\.0\/c_pkg\/data\.txt`: it differs only by case from `c_pkg\/Data\.txt`/);
    assert.match(run.stderr, /error: 1 of 1 archive failed: `[^`]*c-aux-1\.0\.tar\.gz`: names/);

    const dir = fresh();
    await mkdir(dir);
    const twice = path.join(dir, "t-1.0.tar.gz");
    const pax = (records: Record<string, string>) => tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData(records));
    await writeFile(twice, gzipReproducible(Buffer.concat([tarEntry({ name: "t-1.0/", typeflag: "5" }), pax({ path: "t-1.0/a.py" }), pax({ path: "t-1.0/b.py" }), tarEntry({ name: "t-1.0/c.py" }, ""), tarEnd()])));
    const json = await runMpip(["check", "--json", twice]);
    assert.equal(json.code, 1);
    const tarCheck = (JSON.parse(json.stdout) as { archives: Array<{ checks: Array<{ id: string; status: string; details: string[] }> }> }).archives[0]!.checks.find((check) => check.id === "tar")!;
    assert.equal(tarCheck.status, "fail");
    assert.match(tarCheck.details[0]!, /^mpip install refuses it: the entry after byte 512 of the tar is given two pax headers \(`x`\)/);
  });

  test("mpip pack refuses a project with a DOS device name, or with names FAT makes one", async () => {
    const toml = (name: string) => `[project]\nname = "${name}"\nversion = "1.0"\n`;
    const cases: Array<[Record<string, string>, RegExp, RegExp]> = [
      [{ "pyproject.toml": toml("p-aux"), "aux.py": "", "good.py": "" }, /cannot write `p-aux-1\.0\/aux\.py` into the archive: the name `aux\.py` is the DOS device name `AUX`/, /rename the file or folder/],
      [{ "pyproject.toml": toml("p-case"), "Mod.py": "", "mod.py": "" }, /cannot write `p-case-1\.0\/mod\.py` into the archive: it differs only by case from `p-case-1\.0\/Mod\.py`/, /rename the file or folder/],
      [{ "pyproject.toml": toml("p-data"), "pkg/__init__.py": "", "pkg/data/x?.txt": "" }, /cannot write `p-data-1\.0\/pkg\/data\/x\?\.txt` into the archive: the name `x\?\.txt` contains `\?`/, /Windows cannot hold/],
    ];
    for (const [files, message, hint] of cases) {
      const dir = fresh();
      await writeTree(dir, files);
      const run = await runMpip(["pack", dir]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, hint);
      assert.deepEqual((await readdir(dir)).filter((name) => name === "dist"), [], "no archive written");
    }
  });

  test("mpip repack refuses an sdist holding such a name", async () => {
    const input = await sdistFile("r-con", { "r_pkg/__init__.py": "", "r_pkg/CON.txt": "" });
    const out = path.join(path.dirname(input), "out");
    const run = await runMpip(["repack", input, "-o", out]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /refused entry `r-con-1\.0\/r_pkg\/CON\.txt` of .*the DOS device name `CON`/);
    assert.deepEqual((await readdir(path.dirname(input))).sort(), ["r-con-1.0.tar.gz"]);
  });
});
