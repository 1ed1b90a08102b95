// `--compile`: a package compiled by the WebAssembly mpy-cross must import and run in real
// MicroPython (1.27) with only the .mpy files present; failures name the file with mpy-cross's words.
// The native path is exercised with a fake mpy-cross script (see `fakeMpyCross`).

import assert from "node:assert/strict";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { compileSource, compileTree, loadWasmCompiler, nativeCompiler, wasmCompiler, type Compiler } from "../../src/mpy/compile.js";
import { parseMpyHeader } from "../../src/mpy/header.js";
import { parseMpyCrossVersion } from "../../src/mpy/native.js";
import { targetFromMpy, targetFromVersion } from "../../src/mpy/target.js";
import { listFiles, tempDir } from "../helpers/cli.js";
import { runMicroPython } from "../helpers/micropython.js";
import { rejectsMpip, writeTree } from "../helpers/expect.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => (work = await tempDir("mpip-mpy-")));
after(async () => work.cleanup());

async function tree(files: Record<string, string>): Promise<string> {
  return writeTree(path.join(work.dir, `tree-${++counter}`), files);
}

const rejectsWith = rejectsMpip;

const PACKAGE = {
  "shapes/__init__.py": "from .square import Square\nfrom .circle import Circle\n",
  "shapes/square.py": "class Square:\n    def __init__(self, side):\n        self.side = side\n    def area(self):\n        return self.side * self.side\n",
  "shapes/circle.py": "from shapes.consts import PI\nclass Circle:\n    def __init__(self, r):\n        self.r = r\n    def area(self):\n        return round(PI * self.r * self.r, 2)\n",
  "shapes/consts.py": "PI = 3.14159\nNAMES = {'sq': 'square', 'ci': 'circle'}\n",
  "shapes/fail.py": "def boom():\n    x = 1\n    raise ValueError('boom %d' % x)\n",
  "unicode_text.py": "GREETING = 'grüße, 世界'\n",
  "boot.py": "# run by name by the firmware\n",
  "main.py": "import shapes\n",
  "README.txt": "not python\n",
};

test("a compiled package imports and runs in MicroPython with only .mpy files", async () => {
  const dir = await tree(PACKAGE);
  const files = (await listFiles(dir)).filter((file) => file.endsWith(".py"));
  const result = await compileTree(dir, files, { compiler: await loadWasmCompiler(), keepSources: false, jobs: 3, target: targetFromVersion("1.23") });

  const compiled = ["shapes/__init__.mpy", "shapes/circle.mpy", "shapes/consts.mpy", "shapes/fail.mpy", "shapes/square.mpy", "unicode_text.mpy"];
  assert.deepEqual([...result.compiled].sort(), compiled);
  assert.deepEqual([...result.removed].sort(), compiled.map((file) => file.replace(/\.mpy$/, ".py")));
  assert.deepEqual([...result.kept].sort(), ["boot.py", "main.py"]);
  assert.deepEqual((await listFiles(dir)).sort(), ["README.txt", "boot.py", "main.py", ...compiled].sort());
  for (const file of compiled) assert.equal(parseMpyHeader(await readFile(path.join(dir, file)))?.major, 6);

  const run = await runMicroPython(
    [
      "import shapes, unicode_text",
      "from shapes.consts import NAMES",
      "print(shapes.Square(3).area(), shapes.Circle(2).area(), NAMES['ci'], unicode_text.GREETING)",
      "print(shapes.__file__.endswith('__init__.mpy'))",
      "import shapes.fail",
      "shapes.fail.boom()",
    ].join("\n"),
    { libDir: dir },
  );
  assert.equal(run.stdout, "9 12.57 circle grüße, 世界\nTrue\n");
  // The relative path given to mpy-cross is what the device's traceback shows.
  assert.match(run.error ?? "", /File "shapes\/fail\.py", line 3, in boom/);
  assert.match(run.error ?? "", /ValueError: boom 1/);
});

test("keepSources leaves each .py beside its .mpy", async () => {
  const dir = await tree({ "a.py": "A = 1\n", "pkg/b.py": "B = 2\n" });
  const result = await compileTree(dir, ["a.py", "pkg/b.py"], { compiler: wasmCompiler(), keepSources: true, jobs: 2 });
  assert.deepEqual(result.removed, []);
  assert.deepEqual(await listFiles(dir), ["a.mpy", "a.py", "pkg/b.mpy", "pkg/b.py"]);
});

test("a syntax error fails with mpy-cross's message and the file's relative path", async () => {
  const error = await rejectsWith(compileSource("def f(:\n    pass\n", "pkg/broken.py"), "compile-failed",
    "`pkg/broken.py`", "SyntaxError: invalid syntax", "line 1");
  assert.ok(!error.message.includes("__mpip_input__"), error.message);

  const dir = await tree({ "a_bad.py": "x = = 1\n", "b_good.py": "y = 2\n" });
  await rejectsWith(compileTree(dir, ["a_bad.py", "b_good.py"], { compiler: wasmCompiler(), keepSources: false, jobs: 1 }),
    "compile-failed", "`a_bad.py`", "SyntaxError");
  // It stopped at the first failure and removed nothing.
  assert.deepEqual(await listFiles(dir), ["a_bad.py", "b_good.py"]);
});

test("many files compile concurrently, each to its own bytes", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 24; i++) files[`m${i}.py`] = `def value():\n    return ${i} * 1000 + ${i}\n`;
  const dir = await tree(files);
  await compileTree(dir, Object.keys(files), { compiler: wasmCompiler(), keepSources: false, jobs: 8 });
  const code = `print(sum(__import__('m%d' % i).value() for i in range(24)))`;
  const run = await runMicroPython(code, { libDir: dir });
  assert.equal(run.error, undefined, run.error);
  assert.equal(run.stdout.trim(), String(Array.from({ length: 24 }, (_, i) => i * 1001).reduce((a, b) => a + b)));
});

test("the target's arch reaches mpy-cross, and its output is checked against the target", async () => {
  const native = "import micropython\n@micropython.native\ndef f():\n    return 1\n";
  const dir = await tree({ "fast.py": native });
  await compileTree(dir, ["fast.py"], { compiler: wasmCompiler(), keepSources: true, jobs: 1, target: targetFromVersion("1.19", "armv7m") });
  assert.equal(parseMpyHeader(await readFile(path.join(dir, "fast.mpy")))?.arch, "armv7m");
  // The WebAssembly mpy-cross is 1.19 (6.0): its native code does not load on 1.22 (6.2).
  await rejectsWith(compileTree(dir, ["fast.py"], { compiler: wasmCompiler(), keepSources: true, jobs: 1, target: targetFromVersion("1.22", "armv7m") }),
    "mpy-incompatible", "`fast.mpy`", "mpy 6.0 (native armv7m)", "MicroPython 1.22 (mpy 6.2, armv7m)");
});

test("the WebAssembly compiler refuses a target that is not .mpy 6", async () => {
  const dir = await tree({ "a.py": "A = 1\n" });
  const error = await rejectsWith(compileTree(dir, ["a.py"], { compiler: wasmCompiler(), keepSources: false, jobs: 1, target: targetFromVersion("1.17") }),
    "mpy-incompatible", "mpy 6", "MicroPython 1.17 (mpy 5)");
  assert.ok(error.hint?.includes("--mpy-cross"));
  assert.deepEqual(await listFiles(dir), ["a.py"]);
});

test("mpy-cross --version banners, old and new", () => {
  assert.deepEqual(parseMpyCrossVersion("MicroPython v1.22.0 on 2023-12-27; mpy-cross emitting mpy v6.2\n"),
    { major: 6, sub: 2, banner: "MicroPython v1.22.0 on 2023-12-27; mpy-cross emitting mpy v6.2" });
  assert.equal(parseMpyCrossVersion("MicroPython v1.19.1-22-g023736615 on 2022-07-06; mpy-cross emitting mpy v6")?.sub, undefined);
  assert.equal(parseMpyCrossVersion("MicroPython v1.13-221-gc8b055717 on 2020-12-05; mpy-cross emitting mpy v5")?.major, 5);
  assert.equal(parseMpyCrossVersion("CircuitPython 9.0.0 on 2024-03-19; mpy-cross emitting mpy v6.1")?.sub, 1);
  // Without the "emitting" suffix the release number decides.
  assert.deepEqual(parseMpyCrossVersion("MicroPython v1.15 on 2021-04-18"), { major: 5, sub: undefined, banner: "MicroPython v1.15 on 2021-04-18" });
  assert.equal(parseMpyCrossVersion("MicroPython v1.11 on 2019-05-29"), undefined);
  assert.equal(parseMpyCrossVersion("gcc (GCC) 13.2.0"), undefined);
  assert.equal(parseMpyCrossVersion(""), undefined);
});

/**
 * A test double for a native mpy-cross, which cannot be installed here: a shell script that prints
 * `banner` for `--version`, records its arguments and working folder, fails like mpy-cross on a
 * source containing `SYNTAX`, and otherwise writes a fixed .mpy header to `-o`. The real compiler
 * is the WebAssembly one, tested above.
 */
async function fakeMpyCross(banner: string): Promise<{ file: string; log: string }> {
  const dir = path.join(work.dir, `fake-${++counter}`);
  await mkdir(dir);
  const file = path.join(dir, "mpy-cross");
  const log = path.join(dir, "args.log");
  const script = `#!/bin/sh
if [ "$1" = "--version" ]; then echo '${banner}'; exit 0; fi
{ pwd; for arg in "$@"; do echo "$arg"; done; } > '${log}'
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -s) name="$2"; shift 2 ;;
    *) input="$1"; shift ;;
  esac
done
if grep -q SYNTAX "$input"; then
  printf 'Traceback (most recent call last):\\n  File "%s", line 2\\nSyntaxError: invalid syntax\\n' "$input" >&2
  exit 1
fi
printf 'M\\006\\000\\037' > "$out"
`;
  await writeFile(file, script);
  await chmod(file, 0o755);
  return { file, log };
}

test("a native mpy-cross is asked its version and run on each file by its relative path", async () => {
  const fake = await fakeMpyCross("MicroPython v1.23.0 on 2024-05-31; mpy-cross emitting mpy v6.3");
  const compiler: Compiler = await nativeCompiler(fake.file);
  assert.equal(compiler.major, 6);
  assert.ok(compiler.label.includes("mpy v6.3"));
  const dir = await tree({ "pkg/mod.py": "X = 1\n" });
  const result = await compileTree(dir, ["pkg/mod.py"], { compiler, keepSources: false, jobs: 2, target: targetFromMpy("6.3", "xtensawin") });
  assert.deepEqual(result.compiled, ["pkg/mod.mpy"]);
  assert.deepEqual([...(await readFile(path.join(dir, "pkg/mod.mpy")))], [0x4d, 6, 0, 31]);
  const [cwd, ...args] = (await readFile(fake.log, "utf8")).trim().split("\n");
  assert.equal(await readFile(path.join(cwd!, "pkg/mod.py"), "utf8").catch(() => "gone"), "gone", "its temp folder is removed");
  assert.deepEqual(args.slice(0, 1), ["-march=xtensawin"]);
  // The input is `./`-prefixed so a file named like an option is never read as one (native.ts).
  assert.deepEqual(args.slice(-3), ["-s", "pkg/mod.py", "./pkg/mod.py"]);

  await rejectsWith(compiler.compile("x = 1\nSYNTAX\n", "pkg/bad.py"), "compile-failed", "`pkg/bad.py`", "SyntaxError: invalid syntax", "line 2");
});

test("a native mpy-cross for the wrong .mpy version, or not mpy-cross at all, is refused", async () => {
  const v5 = await fakeMpyCross("MicroPython v1.17 on 2021-09-02; mpy-cross emitting mpy v5");
  const error = await rejectsWith(nativeCompiler(v5.file), "mpy-incompatible", `\`${v5.file}\``, "mpy 5", "mpy 6");
  assert.ok(error.hint?.includes("1.19 or later"));
  assert.equal((await nativeCompiler(v5.file, 5)).major, 5);
  const old = await fakeMpyCross("MicroPython v1.15 on 2021-04-18; linux version");
  await rejectsWith(nativeCompiler(old.file), "mpy-incompatible", "mpy 5");

  const other = await fakeMpyCross("Python 3.12.1");
  await rejectsWith(nativeCompiler(other.file), "usage", "does not look like mpy-cross", "Python 3.12.1");
  await rejectsWith(nativeCompiler(path.join(work.dir, "no-such-mpy-cross")), "usage", "could not run");
});

test("compiling leaves no process-wide handlers behind", async () => {
  const counts = () => [process.listenerCount("uncaughtException"), process.listenerCount("unhandledRejection")];
  const before = counts();
  await Promise.all([compileSource("a = 1\n", "a.py"), compileSource("b = (\n", "b.py").catch(() => undefined)]);
  assert.deepEqual(counts(), before);
  // The WebAssembly instances register handlers where they run: check the main-thread path too.
  const mainThread = wasmCompiler({ pool: "main-thread" });
  await Promise.all([mainThread.compile("a = 1\n", "a.py"), mainThread.compile("b = (\n", "b.py").catch(() => undefined)]);
  assert.deepEqual(counts(), before);
});
