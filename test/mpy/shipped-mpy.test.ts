// Packages that ship `.mpy` files of their own, through the CLI: with `--compile` they are checked
// against the .mpy version the compiler writes (as `--mpy` checks them); with no target at all, an image
// whose `.mpy` files no one firmware loads gets a warning saying which firmware each kind needs; and a
// refused file's hint offers only what the package really has (its own source, the index's sources, or
// a release built for the target). Packages come from an index, a package.json repo, a URL and a local
// file; `.mpy` 6 files are real mpy-cross output, `.mpy` 5 and other sub-versions hand-made headers.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { compileSource } from "../../src/mpy/compile.js";
import { listFiles, runMpip, snapshot, tempDir, type RunResult } from "../helpers/cli.js";
import { notFound, startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { runMicroPython } from "../helpers/micropython.js";
import { serveRepos, type RepoServer } from "../helpers/repo-server.js";
import { writeTree } from "../helpers/expect.js";

let server: IndexServer;
let repos: RepoServer;
let staleMip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let counter = 0;
const plain = new Map<string, Buffer>();

/** A hand-made `.mpy` 5 file (MicroPython 1.12 to 1.18): header, then a body no loader here reads. */
const mpy5 = (tag: string) => Buffer.concat([Buffer.from([0x4d, 5, 0, 31]), Buffer.from(`\x00${tag}`)]);
/** A hand-made `.mpy` 6.x file holding native code for xtensawin (architecture 10). */
const native6 = (sub: number) => Buffer.from([0x4d, 6, (10 << 2) | sub, 31, 0, 0]);
let bytecode6: Uint8Array; // real mpy-cross output: `.mpy` 6 bytecode

const json = (value: object) => `${JSON.stringify(value)}\n`;

before(async () => {
  work = await tempDir("mpip-shipped-mpy-");
  bytecode6 = await compileSource("def speed():\n    return 6\n", "turbo.py");
  server = await startIndexServer();
  server.routes.push({
    name: "plain",
    pattern: /^\/plain\/(.+)$/,
    handle: ({ match }) => {
      const body = plain.get(match[1]!);
      return body === undefined ? notFound() : { status: 200, headers: { "Content-Type": "application/octet-stream" }, body };
    },
  });
  repos = serveRepos(server);
  env = { MPIP_GITHUB_URL: repos.hosts.github };
  // Only compiled code, from firmware 1.12 to 1.18: no source to fall back on.
  await server.addSdist({ name: "oldblob", version: "1.0", files: { "oldblob.mpy": mpy5("oldblob") } });
  await server.addSdist({ name: "pkgblob", version: "2.0", files: { "pkgblob/__init__.py": "from .fast import go\n", "pkgblob/fast.mpy": mpy5("fast") } });
  // A text file that only looks like compiled code by its name.
  await server.addSdist({ name: "textmpy", version: "0.1", files: { "textmpy.mpy": "print('I am not bytecode')\n" } });
  // A stale .mpy 5 beside its source.
  await server.addSdist({ name: "staleboth", version: "3.0", files: { "staleboth.py": "def hi():\n    return 'fresh'\n", "staleboth.mpy": mpy5("stale") } });
  // .mpy files any MicroPython 1.19 or later loads, and native code for one sub-version.
  await server.addSdist({ name: "turbo", version: "1.0", files: { "turbo.mpy": bytecode6 } });
  await server.addSdist({ name: "nativeblob", version: "1.0", files: { "nativeblob.mpy": native6(2) } });
  await server.addSdist({ name: "nativenewer", version: "1.0", files: { "nativenewer.mpy": native6(3) } });
  await server.addSdist({ name: "plainpy", version: "1.0", files: { "plainpy.py": "P = 1\n" } });
  // A mip package in a repo whose package.json lists a stale .mpy 5.
  repos.addRepo("github", "acme", "sensor", "main", {
    "package.json": json({ version: "0.5", urls: [["sensor/__init__.py", "sensor/__init__.py"], ["sensor/driver.mpy", "build/driver.mpy"]] }),
    "sensor/__init__.py": "from .driver import read\n",
    "build/driver.mpy": mpy5("driver"),
  });
  plain.set("oldmod.mpy", mpy5("oldmod"));
  await writeFile(path.join(work.dir, "localold.mpy"), mpy5("localold"));
  // A v2 index whose `6` folder serves .mpy 5 files: its `py` folder still has the sources.
  staleMip = serveMipIndex(server, { prefix: "/stale/v2", compile: async (_source, fileName) => mpy5(fileName) });
  await staleMip.publish({ name: "gadget", version: "1.0", files: { "gadget.py": "G = 1\n" } });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

async function newTarget(files: Record<string, Uint8Array | string> = {}): Promise<string> {
  const target = path.join(work.dir, `t${++counter}`, "lib");
  await mkdir(target, { recursive: true });
  await writeTree(target, files);
  return target;
}

const install = (target: string, ...args: string[]) => runMpip(["install", "--no-record", "-i", server.url, "-p", target, ...args], { env, cwd: work.dir });

/** The install fails with exit 1, names the file and package, and leaves the target as it was. */
async function refused(args: string[], ...patterns: RegExp[]): Promise<RunResult> {
  const target = await newTarget({ "kept.py": "K = 1\n" });
  const before = await snapshot(target);
  const result = await install(target, ...args);
  assert.equal(result.code, 1, result.stderr);
  for (const pattern of patterns) assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /leave it out to install sources|This is a bug/);
  assert.deepEqual(await snapshot(target), before);
  return result;
}

const warnings = (result: RunResult) => result.stderr.split("\n").filter((line) => line.startsWith("warning: "));
const mixWarnings = (result: RunResult) => warnings(result).filter((line) => line.includes("no one firmware loads"));

describe("--compile checks the .mpy files packages ship, as --mpy 6 does", () => {
  test("a stale .mpy 5 with no source: refused, and the hint says there is no source and what would help", async () => {
    const result = await refused(["--compile", "oldblob"],
      /^error: in `oldblob 1\.0` \(from .*\): `oldblob\.mpy` is mpy 5 bytecode, but the target is mpy 6, what `--compile` writes$/m,
      /^hint: it loads on MicroPython 1\.12 to 1\.18; `oldblob 1\.0` ships no source for it, .*built for mpy 6.*--target-version.*--mpy-cross/m);
    assert.doesNotMatch(result.stderr, /install sources/);
  });

  test("a stale .mpy 5 inside a package that also has sources: refused, the target unchanged", async () => {
    await refused(["--compile", "plainpy", "pkgblob"], /`pkgblob\/fast\.mpy` is mpy 5 bytecode, but the target is mpy 6/, /ships no source for it/);
  });

  test("a text file named .mpy is not compiled code", async () => {
    await refused(["--compile", "textmpy"], /^error: in `textmpy 0\.1` .*`textmpy\.mpy` is not a compiled \.mpy file/m, /^hint: `textmpy 0\.1` ships a broken \.mpy file and no source for it/m);
  });

  test("every source kind: a package.json repo, a URL, a local file", async () => {
    await refused(["--compile", "github:acme/sensor"], /`sensor\/driver\.mpy` is mpy 5 bytecode, but the target is mpy 6/);
    await refused(["--compile", `${server.origin}/plain/oldmod.mpy`], /`oldmod\.mpy` is mpy 5 bytecode, but the target is mpy 6/);
    await refused(["--compile", "./localold.mpy"], /`localold\.mpy` is mpy 5 bytecode, but the target is mpy 6/);
  });

  test("native code shipped as .mpy needs the firmware's exact version, as with --mpy 6", async () => {
    await refused(["--compile", "nativeblob"], /`nativeblob\.mpy` is mpy 6\.2 \(native xtensawin\), but the target is mpy 6, what `--compile` writes: native code needs the exact sub-version/, /^hint: .*--target-version/m);
    const target = await newTarget();
    const result = await install(target, "--compile", "--target-version", "1.22", "--arch", "xtensawin", "nativeblob", "plainpy");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["nativeblob.mpy", "plainpy.mpy"]);
  });

  test("shipped .mpy 6 bytecode installs beside the compiled files and imports in MicroPython", async () => {
    const target = await newTarget();
    const result = await install(target, "--compile", "turbo", "plainpy");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(warnings(result), []);
    assert.deepEqual(await listFiles(target), ["plainpy.mpy", "turbo.mpy"]);
    const run = await runMicroPython("import turbo, plainpy\nprint(turbo.speed() + plainpy.P)", { libDir: target });
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.stdout.trim(), "7");
  });

  test("a stale .mpy beside its source is replaced by the freshly compiled one", async () => {
    const target = await newTarget();
    const result = await install(target, "--compile", "staleboth");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["staleboth.mpy"]);
    assert.equal((await readFile(path.join(target, "staleboth.mpy")))[1], 6);
    const run = await runMicroPython("import staleboth\nprint(staleboth.hi())", { libDir: target });
    assert.equal(run.stdout.trim(), "fresh", run.error);
  });
});

describe("with no target, a warning when no one firmware loads every .mpy of the image", () => {
  test(".mpy 5 and .mpy 6 from two packages: each kind named with the firmware it loads on", async () => {
    const target = await newTarget();
    const result = await install(target, "oldblob", "turbo");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["oldblob.mpy", "turbo.mpy"]);
    const [warning, ...rest] = mixWarnings(result);
    assert.deepEqual(rest, []);
    assert.match(warning ?? "", /`oldblob\.mpy` \(from `oldblob 1\.0`\) is mpy 5 bytecode, which loads on MicroPython 1\.12 to 1\.18/);
    assert.match(warning ?? "", /`turbo\.mpy` \(from `turbo 1\.0`\) is mpy 6 bytecode, which loads on MicroPython 1\.19 or later/);
    assert.match(warning ?? "", /--target-version/);
  });

  test("native code for two sub-versions; a package.json's .mpy 5 beside a URL's .mpy 6", async () => {
    const natives = await install(await newTarget(), "nativeblob", "nativenewer");
    assert.equal(natives.code, 0, natives.stderr);
    assert.match(mixWarnings(natives)[0] ?? "", /`nativeblob\.mpy` .* is mpy 6\.2 \(native xtensawin\), which loads on MicroPython 1\.22 on xtensawin; `nativenewer\.mpy` .* is mpy 6\.3 \(native xtensawin\), which loads on MicroPython 1\.23 or later on xtensawin/);
    plain.set("fresh.mpy", Buffer.from(bytecode6));
    const kinds = await install(await newTarget(), "github:acme/sensor", `${server.origin}/plain/fresh.mpy`);
    assert.equal(kinds.code, 0, kinds.stderr);
    assert.match(mixWarnings(kinds)[0] ?? "", /`sensor\/driver\.mpy` \(from `sensor 0\.5`\) is mpy 5 bytecode, .*; `fresh\.mpy` \(from `fresh`\) is mpy 6 bytecode/);
  });

  test("a package that brings .mpy 5 into a target already holding .mpy 6", async () => {
    const target = await newTarget({ "app/main_loop.mpy": bytecode6 });
    const result = await install(target, "oldblob");
    assert.equal(result.code, 0, result.stderr);
    const warning = mixWarnings(result)[0] ?? "";
    assert.match(warning, /`app\/main_loop\.mpy` \(already in the target\) is mpy 6 bytecode/);
    assert.match(warning, /`oldblob\.mpy` \(from `oldblob 1\.0`\) is mpy 5 bytecode/);
  });

  test("--compile into a target already holding .mpy 5 files", async () => {
    const target = await newTarget({ "legacy.mpy": mpy5("legacy") });
    const result = await install(target, "--compile", "plainpy");
    assert.equal(result.code, 0, result.stderr);
    assert.match(mixWarnings(result)[0] ?? "", /`legacy\.mpy` \(already in the target\) is mpy 5 bytecode.*`plainpy\.mpy` \(from `plainpy 1\.0`\) is mpy 6 bytecode/);
  });

  test("no warning when one firmware loads them all: bytecode with native code of one version, or a file replaced", async () => {
    const together = await install(await newTarget(), "turbo", "nativeblob");
    assert.equal(together.code, 0, together.stderr);
    assert.deepEqual(mixWarnings(together), []);
    // The .mpy 5 already there is the very file the install replaces.
    const replaced = await install(await newTarget({ "turbo.mpy": mpy5("old turbo") }), "turbo");
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(warnings(replaced), []);
  });

  test("a text file named .mpy is warned about", async () => {
    const result = await install(await newTarget(), "textmpy");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(warnings(result), ["warning: `textmpy.mpy` (from `textmpy 0.1`) is not a compiled .mpy file (it has no `M` header): no firmware loads it"]);
  });
});

describe("the hint of a refused .mpy offers only what the package has", () => {
  test("no sources: a release built for the target, never `leave it out to install sources`", async () => {
    const result = await refused(["--mpy", "6", "oldblob"], /`oldblob\.mpy` is mpy 5 bytecode, but the target is mpy 6$/m);
    assert.match(result.stderr, /^hint: it loads on MicroPython 1\.12 to 1\.18; `oldblob 1\.0` ships no source for it, so it cannot be compiled or installed as source: install a release of it built for mpy 6/m);
    await refused(["--target-version", "1.23", "--arch", "xtensawin", "nativeblob"], /native code needs the same sub-version/, /^hint: it loads on MicroPython 1\.22 on xtensawin; `nativeblob 1\.0` ships no source/m);
  });

  test("a source beside it: add --compile, which then installs", async () => {
    await refused(["--mpy", "6", "staleboth"], /^hint: .*add `--compile`: `staleboth 3\.0` also ships `staleboth\.py`/m);
    const target = await newTarget();
    const result = await install(target, "--mpy", "6", "--compile", "staleboth");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["staleboth.mpy"]);
  });

  test("a v2 index's .mpy folder: its sources, from the same index", async () => {
    const result = await refused(["-i", `mip+${staleMip.base}`, "--mpy", "6", "gadget"], /`gadget\.mpy` is mpy 5 bytecode, but the target is mpy 6$/m);
    assert.match(result.stderr, /^hint: .*leave out `--target-version` and `--mpy` to install the package's sources from `[^`]*stale\/v2`/m);
    const sources = await install(await newTarget(), "-i", `mip+${staleMip.base}`, "gadget");
    assert.equal(sources.code, 0, sources.stderr);
  });

  test("with a firmware given, .mpy files already in the target that it does not load are warned about", async () => {
    const target = await newTarget({ "old/thing.mpy": mpy5("thing"), "ok.mpy": bytecode6 });
    const result = await install(target, "--mpy", "6", "plainpy");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(warnings(result), ["warning: `old/thing.mpy`, already in the target, is mpy 5 bytecode, which does not load on mpy 6: it loads on MicroPython 1.12 to 1.18"]);
  });
});
