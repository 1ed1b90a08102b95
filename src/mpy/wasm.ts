// mpy-cross from MicroPython 1.19 as WebAssembly (@pybricks/mpy-cross-v6): compiles with no native
// binary. We drive the package's Emscripten factory ourselves instead of its `compile()` because:
// - its loader `fetch()`es the .wasm by file path on Node 18+, which fails ("Failed to parse URL") and
//   leaves the promise pending forever; we hand it a compiled module through `instantiateWasm`;
// - compiling the .wasm once and instantiating per file is much cheaper than reading and compiling it
//   for every file;
// - each instance registers process-wide `uncaughtException` / `unhandledRejection` handlers (the
//   latter rethrows), so we remove whatever it added.
// Every call gets a fresh instance with its own memory, so concurrent calls are safe; but calls on one
// thread only interleave, so mpip runs this in worker threads (compile-worker.ts, wasm-pool.ts).

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { MpipError } from "../errors.js";

export interface MpyCrossRun {
  status: number;
  mpy: Uint8Array | undefined;
  out: string[];
  err: string[];
}

type Factory = (module: Record<string, unknown>) => Promise<unknown>;
type Receive = (instance: object) => void;

// The slice of the WebAssembly global we use (tsconfig's `lib` has no DOM types, which declare it).
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface WasmRuntime {
  factory: Factory;
  module: object;
}

const require = createRequire(import.meta.url);
let runtime: Promise<WasmRuntime> | undefined;

/** Loads and compiles the WebAssembly mpy-cross once per process. */
export function loadWasmRuntime(): Promise<WasmRuntime> {
  runtime ??= (async () => {
    try {
      const factory = require("@pybricks/mpy-cross-v6/build/mpy-cross-v6.js") as Factory;
      const wasmPath = require.resolve("@pybricks/mpy-cross-v6/build/mpy-cross-v6.wasm");
      const module = await WebAssembly.compile(await readFile(wasmPath));
      return { factory, module };
    } catch (error) {
      runtime = undefined;
      throw new MpipError("compile-failed", "could not load the WebAssembly mpy-cross (`@pybricks/mpy-cross-v6`)", {
        cause: error,
        hint: "reinstall mpip, or compile with a native mpy-cross via `--mpy-cross <path>`",
      });
    }
  })();
  return runtime;
}

const PROCESS_EVENTS = ["uncaughtException", "unhandledRejection"];
const processEvents: NodeJS.EventEmitter = process;

/** Runs mpy-cross once, as if from the command line, with `input` as the file named last in `args`. */
export async function runWasmMpyCross(args: string[], input: string | Uint8Array): Promise<MpyCrossRun> {
  const { factory, module } = await loadWasmRuntime();
  let result: MpyCrossRun | undefined;
  let fail!: (error: unknown) => void;
  // A failed instantiation leaves the factory's promise pending forever, so we race it with this.
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const before = PROCESS_EVENTS.map((event) => new Set(processEvents.listeners(event)));
  let ready: Promise<unknown>;
  try {
    ready = factory({
      arguments: args,
      inputFileContents: input,
      // Called on exit; Emscripten may call it twice (exit() inside main, then main's return).
      callback: (status: number, mpy: Uint8Array | undefined, out: string[], err: string[]) => {
        result ??= { status, mpy: mpy === undefined ? undefined : new Uint8Array(mpy), out, err };
      },
      instantiateWasm: (imports: object, receive: Receive) => {
        WebAssembly.instantiate(module, imports).then((instance) => receive(instance)).catch(fail);
        return {};
      },
    });
  } finally {
    PROCESS_EVENTS.forEach((event, i) => {
      for (const listener of processEvents.listeners(event)) {
        if (!before[i]!.has(listener)) processEvents.removeListener(event, listener as (...args: unknown[]) => void);
      }
    });
  }
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    throw new MpipError("compile-failed", "the WebAssembly mpy-cross failed", { cause: error });
  }
  if (result === undefined) {
    // Emscripten aborted inside main (it reports that on stderr, which we cannot see here).
    throw new MpipError("compile-failed", "the WebAssembly mpy-cross stopped without a result");
  }
  return result;
}
