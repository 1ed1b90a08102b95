// The WebAssembly mpy-cross on worker threads: several workers write exactly the bytes one worker (and
// the main thread) writes, errors keep mpy-cross's words and the file's name, a worker that dies is a
// `compile-failed` error rather than a hang, and idle workers never keep a process alive.

import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { compileTree, wasmCompiler, type Compiler } from "../../src/mpy/compile.js";
import { parseMpyHeader } from "../../src/mpy/header.js";
import { targetFromVersion, type MpyTarget } from "../../src/mpy/target.js";
import { WasmWorkerPool } from "../../src/mpy/wasm-pool.js";
import { listFiles, ROOT, runCommand, tempDir } from "../helpers/cli.js";
import { runMicroPython } from "../helpers/micropython.js";
import { writeTree } from "../helpers/expect.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const pools: WasmWorkerPool[] = [];
before(async () => (work = await tempDir("mpip-pool-")));
after(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  await work.cleanup();
});

function pool(options: ConstructorParameters<typeof WasmWorkerPool>[0] = {}): WasmWorkerPool {
  const created = new WasmWorkerPool(options);
  pools.push(created);
  return created;
}

async function tree(files: Record<string, string>): Promise<string> {
  return writeTree(path.join(work.dir, `tree-${++counter}`), files);
}

/** 16 modules, all different, some in a folder, up to a few KiB; `native` adds native-code functions. */
function modules(native = false): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 16; i++) {
    const body = Array.from({ length: 1 + (i % 5) * 6 }, (_, f) => `def f${f}(x):\n    return [x * ${i} + ${f}, 'text ${i}-${f}', {'k': ${f}.5}]\n`).join("\n");
    const fast = native ? `import micropython\n@micropython.native\ndef fast(a, b):\n    return a + b * ${i}\n` : "";
    files[`${i % 3 === 0 ? "pkg/" : ""}m${i}.py`] = `# module ${i}\nVALUE = ${i * 1001}\n${fast}${body}`;
  }
  return files;
}

async function compileWith(compiler: Compiler, jobs: number, files: Record<string, string>, target?: MpyTarget): Promise<Map<string, Buffer>> {
  const dir = await tree(files);
  const result = await compileTree(dir, Object.keys(files), { compiler, keepSources: false, jobs, ...(target === undefined ? {} : { target }) });
  const out = new Map<string, Buffer>();
  for (const file of result.compiled) out.set(file, await readFile(path.join(dir, file)));
  return out;
}

test("several workers write the same bytes as one worker and as the main thread", async () => {
  const files = modules();
  const several = pool({ size: 4 });
  const parallel = await compileWith(wasmCompiler({ pool: several }), 8, files);
  const single = pool({ size: 1 });
  const serial = await compileWith(wasmCompiler({ pool: single }), 1, files);
  const mainThread = await compileWith(wasmCompiler({ pool: "main-thread" }), 1, files);

  assert.equal(single.started, 1);
  assert.ok(several.started > 1 && several.started <= 4, `started ${several.started} workers`);
  assert.equal(parallel.size, 16);
  assert.deepEqual([...parallel.keys()].sort(), [...serial.keys()].sort());
  for (const [file, bytes] of serial) {
    assert.equal(parseMpyHeader(bytes)?.major, 6, file);
    assert.ok(parallel.get(file)!.equals(bytes), `${file}: several workers wrote other bytes`);
    assert.ok(mainThread.get(file)!.equals(bytes), `${file}: the main thread wrote other bytes`);
  }
  // And the parallel output is real code: MicroPython imports every module.
  const dir = await tree({});
  for (const [file, bytes] of parallel) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), bytes);
  }
  const names = Object.keys(files).map((file) => file.slice(0, -3).replace("/", "."));
  const run = await runMicroPython(`import pkg\nprint(sum(__import__(n, None, None, ['VALUE']).VALUE for n in ${JSON.stringify(names)}))`, {
    libDir: dir,
    files: { "/lib/pkg/__init__.py": "" },
  });
  assert.equal(run.error, undefined, run.error);
  assert.equal(run.stdout.trim(), String(Array.from({ length: 16 }, (_, i) => i * 1001).reduce((a, b) => a + b)));

  // `-march` reaches the workers too: native code for a device, same bytes either way.
  const target = targetFromVersion("1.19", "armv7m");
  const nativeParallel = await compileWith(wasmCompiler({ pool: several }), 8, modules(true), target);
  const nativeSerial = await compileWith(wasmCompiler({ pool: "main-thread" }), 1, modules(true), target);
  assert.equal(nativeParallel.size, 16);
  for (const [file, bytes] of nativeSerial) {
    assert.equal(parseMpyHeader(bytes)?.arch, "armv7m", file);
    assert.ok(nativeParallel.get(file)!.equals(bytes), `${file}: several workers wrote other native code`);
  }
});

test("compiles asked for at once start one worker each, up to the pool's size, then reuse them", async () => {
  const three = pool({ size: 3 });
  const compiler = wasmCompiler({ pool: three });
  const sources = Array.from({ length: 7 }, (_, i) => compiler.compile(`X = ${i}\n`, `x${i}.py`));
  const outputs = await Promise.all(sources);
  assert.equal(three.started, 3);
  assert.equal(three.workers, 3);
  await compiler.compile("Y = 1\n", "y.py");
  assert.equal(three.started, 3, "idle workers are reused");
  const reference = await wasmCompiler({ pool: "main-thread" }).compile("X = 6\n", "x6.py");
  assert.ok(Buffer.from(outputs[6]!).equals(Buffer.from(reference)));
});

test("an error in one file, with several workers, is mpy-cross's message naming that file; nothing is removed", async () => {
  const files = modules();
  files["pkg/m9_bad.py"] = "def broken(:\n    return 1\n";
  const dir = await tree(files);
  const names = Object.keys(files);
  try {
    await compileTree(dir, names, { compiler: wasmCompiler({ pool: pool({ size: 3 }) }), keepSources: false, jobs: 6 });
    assert.fail("expected an error");
  } catch (error) {
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, "compile-failed");
    assert.match(error.message, /^mpy-cross could not compile `pkg\/m9_bad\.py`: SyntaxError: invalid syntax \(line 1\)$/);
    assert.ok(!error.message.includes("__mpip_input__"), error.message);
  }
  const left = await listFiles(dir);
  for (const name of names) assert.ok(left.includes(name), `${name} was removed`);
});

/** A stand-in worker script (plain JavaScript, so it also exercises the built `.js` start path). */
async function fakeWorker(body: string): Promise<URL> {
  const file = path.join(work.dir, `worker-${++counter}.mjs`);
  await writeFile(file, `import { parentPort } from "node:worker_threads";\n${body}\n`);
  return pathToFileURL(file);
}

test("a worker that dies fails its file with compile-failed instead of hanging, and the next compile gets a new worker", async () => {
  const dying = pool({ size: 2, workerUrl: await fakeWorker("parentPort.on('message', () => process.exit(7));") });
  const compiler = wasmCompiler({ pool: dying });
  const results = await Promise.allSettled([compiler.compile("A = 1\n", "pkg/a.py"), compiler.compile("B = 1\n", "b.py"), compiler.compile("C = 1\n", "c.py")]);
  for (const [i, result] of results.entries()) {
    assert.equal(result.status, "rejected");
    const error = (result as PromiseRejectedResult).reason;
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, "compile-failed");
    assert.match(error.message, new RegExp(`worker thread stopped \\(exit code 7\\) while compiling \`${["pkg/a.py", "b.py", "c.py"][i]!.replace(".", "\\.")}\``));
  }
  assert.equal(dying.started, 3, "the third file got a fresh worker after one died");

  const throwing = pool({ workerUrl: await fakeWorker("throw new Error('worker could not start');") });
  const dir = await tree({ "a.py": "A = 1\n", "b.py": "B = 2\n" });
  try {
    await compileTree(dir, ["a.py", "b.py"], { compiler: wasmCompiler({ pool: throwing }), keepSources: false, jobs: 2 });
    assert.fail("expected an error");
  } catch (error) {
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, "compile-failed");
    assert.match(error.message, /worker thread stopped \(exit code 1\) while compiling `[ab]\.py`/);
    assert.match(String((error.cause as Error | undefined)?.message), /worker could not start/);
  }
  assert.deepEqual(await listFiles(dir), ["a.py", "b.py"]);
});

test("closing the pool fails the compiles still waiting for a worker", async () => {
  const silent = pool({ size: 1, workerUrl: await fakeWorker("parentPort.on('message', () => undefined);") });
  const compiler = wasmCompiler({ pool: silent });
  const settled = Promise.allSettled([compiler.compile("A = 1\n", "a.py"), compiler.compile("B = 1\n", "b.py")]);
  await silent.close();
  const [running, waiting] = await settled;
  for (const [result, name] of [[running, "a.py"], [waiting, "b.py"]] as const) {
    assert.equal(result.status, "rejected");
    const error = (result as PromiseRejectedResult).reason;
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, "compile-failed");
    assert.equal(error.message, `the WebAssembly mpy-cross workers were stopped before \`${name}\` was compiled`);
  }
});

test("a compile that never finishes fails after the pool's timeout, and its worker is replaced", async () => {
  const silent = pool({ size: 1, timeoutMs: 300, workerUrl: await fakeWorker("parentPort.on('message', () => undefined);") });
  const compiler = wasmCompiler({ pool: silent });
  const results = await Promise.allSettled([compiler.compile("A = 1\n", "pkg/a.py"), compiler.compile("B = 1\n", "b.py")]);
  for (const [i, result] of results.entries()) {
    assert.equal(result.status, "rejected");
    const error = (result as PromiseRejectedResult).reason;
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, "compile-failed");
    assert.equal(error.message, `the WebAssembly mpy-cross was still compiling \`${["pkg/a.py", "b.py"][i]}\` after 0.3 s`);
  }
  assert.equal(silent.started, 2);
});

test("idle workers do not keep a process alive (the shared pool is never closed here)", async () => {
  const script = path.join(work.dir, "exits.mts");
  const compile = pathToFileURL(path.join(ROOT, "src", "mpy", "compile.ts")).href;
  await writeFile(script, [
    `import { compileTree, loadWasmCompiler } from ${JSON.stringify(compile)};`,
    `import { mkdtemp, writeFile } from "node:fs/promises";`,
    `import path from "node:path";`,
    `const dir = await mkdtemp(path.join(${JSON.stringify(work.dir)}, "exits-"));`,
    `for (let i = 0; i < 6; i++) await writeFile(path.join(dir, "m" + i + ".py"), "V = " + i + "\\n");`,
    `const result = await compileTree(dir, [0, 1, 2, 3, 4, 5].map((i) => "m" + i + ".py"), { compiler: await loadWasmCompiler(), keepSources: false, jobs: 4 });`,
    `console.log(result.compiled.length);`,
  ].join("\n"));
  const run = await runCommand(process.execPath, ["--import", "tsx", script], { cwd: ROOT });
  assert.equal(run.stderr, "");
  assert.equal(run.code, 0);
  assert.equal(run.stdout, "6\n");
});
