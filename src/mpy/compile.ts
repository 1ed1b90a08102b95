// `--compile`: turn the installed `.py` files into `.mpy` with mpy-cross, either the bundled
// WebAssembly one (mpy 6 bytecode, no native binary needed; run on worker threads, see wasm-pool.ts)
// or a native one from `--mpy-cross`.
// Works on a staging folder: on the first failure it stops, lets running compiles finish and
// throws, so the caller discards the staging and the target never sees half a compiled tree.

import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { compileError, compileNative, probeNativeMpyCross } from "./native.js";
import { checkMpyFile, type MpyTarget } from "./target.js";
import { WasmWorkerPool } from "./wasm-pool.js";
import { runWasmMpyCross } from "./wasm.js";

export interface Compiler {
  kind: "wasm" | "native";
  /** For messages: `mpy-cross (WebAssembly, MicroPython 1.19)`, or the native path and its banner. */
  label: string;
  /** The .mpy major version it emits. */
  major: number;
  /** `fileName` is the relative path tracebacks on the device will show. */
  compile(source: string | Uint8Array, fileName: string, options?: CompileOptions): Promise<Uint8Array>;
}

export interface CompileOptions {
  /** `-march=`: only matters for code using `@micropython.native` / `@micropython.viper`. */
  arch?: string;
  /**
   * Where a native mpy-cross gets its temporary folder: the install's staging scratch folder, so that
   * a run killed mid-compile leaves nothing the next run does not remove. Default: the system's temp folder.
   */
  scratchDir?: string;
  /** Aborting it stops a native compiler at once (the WebAssembly one finishes its file). */
  signal?: AbortSignal;
}

const WASM_INPUT = "__mpip_input__.py";

let sharedPool: WasmWorkerPool | undefined;

/** The worker threads every WebAssembly compiler shares unless given its own pool. */
function wasmPool(): WasmWorkerPool {
  return (sharedPool ??= new WasmWorkerPool());
}

/** Stops the shared workers now. Optional: idle workers never keep the process alive. */
export async function stopWasmWorkers(): Promise<void> {
  const pool = sharedPool;
  sharedPool = undefined;
  await pool?.close();
}

/**
 * The bundled WebAssembly mpy-cross (MicroPython 1.19: .mpy 6.0). Compiles run on worker threads,
 * started lazily and loading the wasm once each; concurrent `compile` calls run in parallel.
 * `pool` gives it its own workers, or `"main-thread"` runs every compile here, one after another
 * (the bench's baseline, and a check that both paths give the same bytes).
 */
export function wasmCompiler(setup: { pool?: WasmWorkerPool | "main-thread" } = {}): Compiler {
  const run = (args: string[], source: string | Uint8Array, fileName: string) =>
    setup.pool === "main-thread" ? runWasmMpyCross(args, source) : (setup.pool ?? wasmPool()).run(args, source, fileName);
  return {
    kind: "wasm",
    label: "mpy-cross (WebAssembly, MicroPython 1.19)",
    major: 6,
    async compile(source, fileName, options = {}) {
      // Its in-memory filesystem has no folders, so the input gets a flat name and `-s` gives the
      // real one to embed; error messages get the real name put back.
      const args = [...archArgs(options), "-s", fileName, WASM_INPUT];
      const result = await run(args, source, fileName);
      if (result.status !== 0 || result.mpy === undefined) {
        throw compileError(fileName, [...result.err, ...result.out].map((line) => line.split(WASM_INPUT).join(fileName)));
      }
      return result.mpy;
    },
  };
}

/**
 * The WebAssembly compiler with one worker started and its wasm loaded now, so a broken install fails
 * early (and the worker warms up while packages download).
 */
export async function loadWasmCompiler(): Promise<Compiler> {
  await wasmPool().warm();
  return wasmCompiler();
}

/** A native mpy-cross at `file`, after checking it emits `.mpy` `expectedMajor` (default 6). */
export async function nativeCompiler(file: string, expectedMajor = 6, options: { scratchDir?: string; signal?: AbortSignal } = {}): Promise<Compiler> {
  // Compiles run in a scratch folder of their own: a relative path must not change meaning there.
  const absolute = path.resolve(file);
  const version = await probeNativeMpyCross(absolute, expectedMajor, options);
  return {
    kind: "native",
    label: `\`${file}\` (${version.banner})`,
    major: version.major,
    compile: (source, fileName, compileOptions = {}) => compileNative(absolute, source, fileName, archArgs(compileOptions), compileOptions.scratchDir, compileOptions.signal),
  };
}

function archArgs(options: CompileOptions): string[] {
  return options.arch === undefined ? [] : [`-march=${options.arch}`];
}

/** Compiles one source file; the default compiler is the WebAssembly one. */
export function compileSource(
  source: string | Uint8Array,
  fileName: string,
  options: CompileOptions & { compiler?: Compiler } = {},
): Promise<Uint8Array> {
  return (options.compiler ?? wasmCompiler()).compile(source, fileName, options);
}

/**
 * Files the firmware runs by name, so they must stay source: `boot.py` and `main.py` at the top of
 * the image (MicroPython's pyexec looks only for those names, never for `.mpy`).
 */
export const KEEP_AS_SOURCE: readonly string[] = ["boot.py", "main.py"];

export interface CompileTreeOptions {
  compiler: Compiler;
  keepSources: boolean;
  jobs: number;
  target?: MpyTarget;
  /** Aborting it (Ctrl-C) starts no further file: the install stops within one compile. */
  signal?: AbortSignal;
  /** See CompileOptions.scratchDir. */
  scratchDir?: string;
}

export interface CompileTreeResult {
  /** Relative paths of the `.mpy` files written. */
  compiled: string[];
  /** Relative paths of the `.py` files removed (empty with `keepSources`). */
  removed: string[];
  /** `.py` files left as source on purpose (see KEEP_AS_SOURCE). */
  kept: string[];
}

/** Compiles each listed `.py` (relative to `dir`, `/`-separated) to an `.mpy` beside it. */
export async function compileTree(dir: string, files: string[], options: CompileTreeOptions): Promise<CompileTreeResult> {
  const { compiler, target } = options;
  if (target !== undefined && target.major !== compiler.major) throw wrongCompiler(compiler, target);
  const sources = files.filter((file) => file.endsWith(".py"));
  const kept = sources.filter((file) => KEEP_AS_SOURCE.includes(file));
  const todo = sources.filter((file) => !KEEP_AS_SOURCE.includes(file));
  const compileOptions: CompileOptions = {
    ...(target?.arch === undefined ? {} : { arch: target.arch }),
    ...(options.scratchDir === undefined ? {} : { scratchDir: options.scratchDir }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };

  const compiled = await runBounded(todo, options.jobs, options.signal, async (file) => {
    const absolute = path.join(dir, ...file.split("/"));
    const mpy = await compiler.compile(await readFile(absolute), file, compileOptions);
    const mpyFile = `${file.slice(0, -".py".length)}.mpy`;
    // Native code from an older compiler can miss the target's sub-version: never write what won't load.
    if (target !== undefined) checkMpyFile(mpy, mpyFile, target, { type: "compiled" });
    await writeFile(path.join(dir, ...mpyFile.split("/")), mpy);
    return mpyFile;
  });
  if (!options.keepSources) {
    await runBounded(todo, options.jobs, options.signal, (file) => rm(path.join(dir, ...file.split("/"))));
  }
  return { compiled, removed: options.keepSources ? [] : todo, kept };
}

/** Throws when `compiler` cannot make .mpy files for `target` (checked before anything is downloaded). */
export function checkCompilerFits(compiler: Compiler, target: MpyTarget | undefined): void {
  if (target !== undefined && target.major !== compiler.major) throw wrongCompiler(compiler, target);
}

function wrongCompiler(compiler: Compiler, target: MpyTarget): MpipError {
  const release = target.major === 5 ? "MicroPython 1.12 to 1.18" : "MicroPython 1.19 or later";
  return new MpipError("mpy-incompatible", `${compiler.label} emits mpy ${compiler.major}, but the target is ${target.label}`, {
    hint: compiler.kind === "wasm"
      ? `compile with a native mpy-cross from ${release}: \`--mpy-cross <path>\``
      : `use mpy-cross from ${release}`,
  });
}

/**
 * Runs `task` over `items`, at most `limit` at once, results in input order. After the first
 * failure no new task starts; the running ones finish before the error is thrown, so nothing keeps
 * writing into a folder the caller is about to discard. The error thrown is the first in input order,
 * whichever finished first (a loop over the items would meet it first): items are taken in order, so
 * every item before a failed one has been started, and none left unstarted can come before it.
 */
async function runBounded<T, R>(items: readonly T[], limit: number, signal: AbortSignal | undefined, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { at: number; error: unknown } | undefined;
  const failed = (at: number, error: unknown) => {
    if (failure === undefined || at < failure.at) failure = { at, error };
  };
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        signal?.throwIfAborted();
        results[index] = await task(items[index]!);
      } catch (error) {
        failed(index, error);
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
