// One file, two names, on a real FAT filesystem (FUSE): the SD card of a board, where `Mod.py` and
// `mod.py` are one file. The target already holds `MOD.py`; two packages ship `Mod.py` and `mod.py`. An
// install that succeeds leaves one file, the later package's; one stopped mid-commit (Ctrl-C, or kill -9
// and the next run) gives back the user's file, every byte, under its own name.

import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { fatUnavailable, mountFat } from "../helpers/mounts.js";
import { startMpip, until } from "../helpers/process.js";
import { buildSdist, sdistFilename, type SdistSpec } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let unmount: (() => Promise<void>) | undefined;
let fat: string;
let sdists: string;
let counter = 0;
const unavailable = fatUnavailable();

before(async () => {
  work = await tempDir("mpip-fat-");
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  const specs: SdistSpec[] = [
    { name: "fat-a", version: "1.0", files: { "Mod.py": "FROM_A = 1\n", "fat_a.py": "A = 1\n" } },
    { name: "fat-b", version: "1.0", files: { "mod.py": "FROM_B = 1\n", "Fat_B/__init__.py": "B = 1\n", "Fat_B/x.py": "X = 1\n" } },
    // Two packages shipping one file under two spellings, the same bytes; the first's next version ships it no more.
    { name: "twin-a", version: "1.0", files: { "Twin.py": "TWIN = 1\n", "twin_a.py": "A = 1\n" } },
    { name: "twin-a", version: "2.0", files: { "twin_a.py": "A = 2\n" } },
    { name: "twin-b", version: "1.0", files: { "twin.py": "TWIN = 1\n", "twin_b.py": "B = 1\n" } },
    // The same, the two spellings in a folder's name.
    { name: "dtwin-a", version: "1.0", files: { "Pkg/twin.py": "TWIN = 1\n", "dtwin_a.py": "A = 1\n" } },
    { name: "dtwin-a", version: "2.0", files: { "dtwin_a.py": "A = 2\n" } },
    { name: "dtwin-b", version: "1.0", files: { "pkg/twin.py": "TWIN = 1\n", "dtwin_b.py": "B = 1\n" } },
    // One file under two spellings, other bytes: the later package's copy wins, and its record alone lists it.
    { name: "spell-a", version: "1.0", files: { "Spell.py": "FROM_A = 1\n", "Sp/Deep.py": "DA = 1\n", "spell_a.py": "A = 1\n" } },
    { name: "spell-b", version: "1.0", files: { "spell.py": "FROM_B = 1\n", "SP/deep.py": "DB = 1\n", "spell_b.py": "B = 1\n" } },
    // An upgrade that changes the case of its folder and files.
    { name: "recase", version: "1.0", files: { "Pkg/__init__.py": "V = 1\n", "Pkg/A.py": "A = 1\n", "Pkg/Old.py": "O = 1\n" } },
    { name: "recase", version: "2.0", files: { "pkg/__init__.py": "V = 2\n", "pkg/a.py": "A = 2\n", "pkg/new.py": "N = 2\n" } },
  ];
  for (const spec of specs) await writeFile(path.join(sdists, sdistFilename(spec)), await buildSdist(spec));
  if (unavailable !== undefined) return;
  fat = path.join(work.dir, "card");
  unmount = await mountFat(path.join(work.dir, "card.img"), fat);
});
after(async () => {
  await unmount?.();
  await work.cleanup();
});

async function image(): Promise<{ target: string; before: Record<string, string> }> {
  const target = path.join(fat, `image${++counter}`);
  await mkdir(target);
  await writeFile(path.join(target, "MOD.py"), "ORIGINAL = 'the user''s own'\n");
  await mkdir(path.join(target, "FAT_B"));
  await writeFile(path.join(target, "FAT_B", "X.PY"), "OLD_X = 1\n");
  return { target, before: await snapshot(target) };
}

/** The commit has replaced the user's `MOD.py` (held there by a gate that never opens). */
async function inFirstSteps(target: string): Promise<boolean> {
  const names = await readdir(target);
  const mod = names.find((name) => name.toLowerCase() === "mod.py");
  return mod !== undefined && (await readFile(path.join(target, mod), "utf8").catch(() => "")).startsWith("FROM_");
}

const install = (target: string) => ["install", "--no-index", "-f", sdists, "-p", target, "fat-a", "fat-b"];

describe("a target on a FAT filesystem", { skip: unavailable }, () => {
  test("two names of one file install as one file: the later package's", async () => {
    const { target } = await image();
    const result = await runMpip(install(target));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /differ only by case/);
    const names = (await readdir(target)).filter((name) => name.toLowerCase() === "mod.py");
    assert.equal(names.length, 1, names.join(", "));
    assert.equal(await readFile(path.join(target, names[0]!), "utf8"), "FROM_B = 1\n");
    assert.equal(await readFile(path.join(target, "fat_b", "x.py"), "utf8"), "X = 1\n");
    assert.deepEqual((await readdir(fat)).filter((name) => name.includes("mpip")), []);
  });

  test("a package going never takes the file another package keeps under another spelling: uninstall, and an upgrade that drops it", async () => {
    const twin = async (target: string) => (await readdir(target)).filter((name) => name.toLowerCase() === "twin.py");
    const run = async (...args: string[]) => {
      const result = await runMpip(args);
      assert.equal(result.code, 0, result.stderr);
      return result;
    };
    // Installed one after the other, then the first uninstalled.
    const apart = path.join(fat, `image${++counter}`);
    await run("install", "--no-index", "-f", sdists, "-p", apart, "twin-a==1.0");
    await run("install", "--no-index", "-f", sdists, "-p", apart, "twin-b");
    await run("uninstall", "-y", "-p", apart, "twin-a");
    assert.deepEqual((await twin(apart)).length, 1, "twin-b's file is still there");
    const shown = await run("show", "-f", "-p", apart, "twin-b");
    assert.doesNotMatch(shown.stdout, /missing/);
    // Installed together, then the first upgraded to a version without it.
    const together = path.join(fat, `image${++counter}`);
    await run("install", "--no-index", "-f", sdists, "-p", together, "twin-a==1.0", "twin-b");
    await run("install", "-U", "--no-index", "-f", sdists, "-p", together, "twin-a");
    assert.deepEqual((await twin(together)).length, 1, "twin-b's file is still there after the upgrade");
    assert.equal(await readFile(path.join(together, "twin_a.py"), "utf8"), "A = 2\n");
    // The two spellings in a folder's name: `Pkg/twin.py` of one package is `pkg/twin.py` of the other.
    const folders = path.join(fat, `image${++counter}`);
    await run("install", "--no-index", "-f", sdists, "-p", folders, "dtwin-a==1.0");
    await run("install", "--no-index", "-f", sdists, "-p", folders, "dtwin-b");
    // The folder's own spelling is the first package's: the file is looked for in it, whatever its case.
    const inFolder = async (target: string) => {
      const folder = (await readdir(target)).find((name) => name.toLowerCase() === "pkg");
      return folder === undefined ? [] : readdir(path.join(target, folder));
    };
    await run("uninstall", "-y", "-p", folders, "dtwin-a");
    assert.deepEqual(await inFolder(folders), ["twin.py"], "dtwin-b's file is still there");
    const upgraded = path.join(fat, `image${++counter}`);
    await run("install", "--no-index", "-f", sdists, "-p", upgraded, "dtwin-a==1.0", "dtwin-b");
    await run("install", "-U", "--no-index", "-f", sdists, "-p", upgraded, "dtwin-a");
    assert.deepEqual(await inFolder(upgraded), ["twin.py"], "dtwin-b's file is still there after the upgrade");
  });

  test("a package that ships a file another one installed under another spelling takes it over: no false warning, and the first record gives it up", async () => {
    const target = path.join(fat, `image${++counter}`);
    const first = await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "spell-a"]);
    assert.equal(first.code, 0, first.stderr);
    const second = await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "spell-b"]);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /belongs to no installed package/);
    const records = async (distInfo: string) => (await readFile(path.join(target, distInfo, "RECORD"), "utf8")).split("\n").filter(Boolean).map((line) => line.split(",")[0]!).filter((file) => !file.includes(".dist-info/")).sort();
    assert.deepEqual(await records("spell_a-1.0.dist-info"), ["spell_a.py"], "the first record gives both files up");
    assert.deepEqual(await records("spell_b-1.0.dist-info"), ["SP/deep.py", "spell.py", "spell_b.py"]);
    const spell = (await readdir(target)).filter((name) => name.toLowerCase() === "spell.py");
    assert.equal(spell.length, 1);
    assert.equal(await readFile(path.join(target, spell[0]!), "utf8"), "FROM_B = 1\n");
    // The listing agrees: nothing is another's, missing or unrecorded.
    for (const name of ["spell-a", "spell-b"]) {
      const shown = await runMpip(["show", "-f", "-p", target, name]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.doesNotMatch(shown.stdout, /missing|now .*'s|changed since install/, shown.stdout);
    }
    const listed = JSON.parse((await runMpip(["list", "--json", "-p", target])).stdout) as { packages: Array<{ name: string; files: number }>; unrecorded: unknown[] };
    assert.deepEqual(listed.packages.map((item) => [item.name, item.files]).sort(), [["spell-a", 6], ["spell-b", 8]]);
    assert.deepEqual(listed.unrecorded, []);
    // Removing the first leaves the second whole; removing the second then leaves nothing of either.
    assert.equal((await runMpip(["uninstall", "-y", "-p", target, "spell-a"])).code, 0);
    assert.equal(await readFile(path.join(target, spell[0]!), "utf8"), "FROM_B = 1\n");
    assert.equal((await runMpip(["uninstall", "-y", "-p", target, "spell-b"])).code, 0);
    assert.deepEqual(await readdir(target), []);
  });

  test("an upgrade that changes the case of a folder and its files: records, list and show agree with the disk; uninstall removes it all", async () => {
    const target = path.join(fat, `image${++counter}`);
    assert.equal((await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "recase==1.0"])).code, 0);
    const upgraded = await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "recase==2.0"]);
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.doesNotMatch(upgraded.stderr, /belongs to no installed package|warning/, upgraded.stderr);
    const folder = (await readdir(target)).find((name) => name.toLowerCase() === "pkg")!;
    assert.deepEqual((await readdir(path.join(target, folder))).map((name) => name.toLowerCase()).sort(), ["__init__.py", "a.py", "new.py"], "the old version's Old.py is gone");
    assert.equal(await readFile(path.join(target, "pkg", "a.py"), "utf8"), "A = 2\n");
    const shown = await runMpip(["show", "-f", "-p", target, "recase"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Size: 8 files/m, shown.stdout);
    assert.doesNotMatch(shown.stdout, /missing|changed since install|now /, shown.stdout);
    const json = JSON.parse((await runMpip(["show", "--json", "-f", "-p", target, "recase"])).stdout) as { packages: Array<{ missing: string[]; fileCount: number; files: Array<{ path: string; state: string }> }> };
    assert.deepEqual(json.packages.map((item) => [item.fileCount, item.missing]), [[8, []]]);
    // Each file under the spelling the disk gives it, once, and as installed.
    const files = json.packages[0]!.files.filter((file) => !file.path.includes(".dist-info/"));
    assert.deepEqual(files.map((file) => [file.path.toLowerCase(), file.state]), [["pkg/__init__.py", "unchanged"], ["pkg/a.py", "unchanged"], ["pkg/new.py", "unchanged"]]);
    for (const file of files) assert.ok((await readdir(path.join(target, path.dirname(file.path)))).includes(path.basename(file.path)), `${file.path} is spelt as on the disk`);
    const listed = JSON.parse((await runMpip(["list", "--json", "-p", target])).stdout) as { packages: Array<{ name: string; files: number }>; unrecorded: unknown[] };
    assert.deepEqual(listed.packages.map((item) => [item.name, item.files]), [["recase", 8]]);
    assert.deepEqual(listed.unrecorded, []);
    const removed = await runMpip(["uninstall", "-y", "-p", target, "recase"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.doesNotMatch(removed.stderr, /warning/);
    assert.deepEqual(await readdir(target), []);
  });

  test("Ctrl-C in the middle of the commit gives the user's files back, every byte, under their own names", async () => {
    const { target, before: original } = await image();
    const running = startMpip(install(target), { env: { MPIP_TEST_COMMIT_GATE: path.join(work.dir, "closed-gate") } });
    assert.ok(await until(() => inFirstSteps(target), running), "the commit started");
    running.child.kill("SIGINT");
    const exit = await running.exited;
    assert.equal(exit.code, 130, exit.stderr);
    assert.deepEqual(await snapshot(target), original);
    assert.deepEqual((await readdir(fat)).filter((name) => name.includes("mpip")), []);
  });

  test("kill -9 in the middle of the commit, then the next run: the user's files are back", async () => {
    const { target, before: original } = await image();
    const running = startMpip(install(target), { env: { MPIP_TEST_COMMIT_GATE: path.join(work.dir, "closed-gate") } });
    assert.ok(await until(() => inFirstSteps(target), running), "the commit started");
    running.child.kill("SIGKILL");
    await running.exited;
    const next = await runMpip(["install", "--no-index", "-f", sdists, "-p", target, "fat-no-such-package"]);
    assert.equal(next.code, 1);
    assert.match(next.stderr, /rolled that install back/);
    assert.deepEqual(await snapshot(target), original);
    assert.deepEqual((await readdir(fat)).filter((name) => name.includes("mpip")), []);
  });

  test("the next run may type the target in another case: it still rolls back and cleans up everything", async () => {
    const { target, before: original } = await image();
    const running = startMpip(install(target), { env: { MPIP_TEST_COMMIT_GATE: path.join(work.dir, "closed-gate") } });
    assert.ok(await until(() => inFirstSteps(target), running), "the commit started");
    running.child.kill("SIGKILL");
    await running.exited;
    const shouted = path.join(path.dirname(target), path.basename(target).toUpperCase());
    const next = await runMpip(["install", "--no-index", "-f", sdists, "-p", shouted, "fat-no-such-package"]);
    assert.equal(next.code, 1);
    assert.match(next.stderr, /rolled that install back/);
    assert.deepEqual(await snapshot(target), original);
    assert.deepEqual((await readdir(fat)).filter((name) => name.toLowerCase().includes("mpip")), []);
  });
});
