// How V8 compiles the WebAssembly mpip runs: undici's HTTP parser (llhttp) and the mpy-cross.
//
// V8 compiles a WebAssembly module first with its baseline compiler (Liftoff), then recompiles the hot
// functions with its optimizing one (TurboFan) on a background thread. For llhttp that is its parser
// function: 150-200 ms of CPU in every run that makes a request, a third of a small install's CPU, spent
// on a 2-core machine beside the install, for a parser that reads a few headers, which Liftoff's code
// does fast enough. The WebAssembly mpy-cross was measured no slower with Liftoff alone (bench/compile.ts).
// So the command line runs V8 with `--liftoff-only` (`useBaselineWasm`); the library leaves V8's flags
// as its host set them.
//
// The flag is set only just before the first module compiles (`beforeWasmCompile`), not when the process
// starts: V8 takes a code cache only under the flags it was made with, and that holds for the caches
// built into Node for its own modules too. Set at the start, it had each of Node's modules an install
// loads afterwards (crypto, fs/promises, net, assert: about 35) compiled from its source, ~10-15 ms of
// every run. For the same reason `restoreWasmTiering` sets V8's flags back before mpip's own code cache
// is made at exit (code-cache.ts): the next run loads that cache before any flag is set.
//
// A user who gives Node any of these flags (on its command line or in NODE_OPTIONS, in any of V8's
// spellings) keeps them: mpip then sets none. A flag set at run time by a module Node preloads (`-r`,
// `--import`) is not seen: mpip sets its own and back to V8's defaults, which then differ from that run's
// at load, so the run writes no code cache (code-cache.ts), and each such run compiles the bundle whole.

import { createRequire } from "node:module";

/**
 * V8's `setFlagsFromString`, from node:v8 loaded on first use: loading it takes ~3 ms (it brings the heap
 * and serializer bindings), which a run that compiles no WebAssembly (help, `list`) need not pay.
 */
function setFlagsFromString(flags: string): void {
  (createRequire(import.meta.url)("node:v8") as typeof import("node:v8")).setFlagsFromString(flags);
}

/** The flags `--liftoff-only` changes (it implies the other two), each as V8 has it by default. */
const DEFAULTS = ["--no-liftoff-only", "--wasm-tier-up", "--wasm-dynamic-tiering"];
/**
 * A flag of Node's options that is about WebAssembly tiering, once `_` is read as `-` (V8 takes either):
 * `--liftoff`, `--liftoff-only`, `--wasm-tier-up`, `--wasm-dynamic-tiering`, each also negated as
 * `--no-name`, `--noname` or `--no_name`, and with a value after `=`.
 */
const TIERING_FLAG = /^--(no-?)?(liftoff|wasm-tier-up|wasm-dynamic-tiering)(-only)?(=|$)/;

let wanted = false;
let set = false;

/**
 * Asks for WebAssembly to be compiled with Liftoff only, from the first module compiled on (see the top
 * of this file). Does nothing where Node was given a WebAssembly tiering flag of the user's. bin/mpip.js
 * asks, not the CLI's `main`: a program that runs `main` in its own process keeps its V8 flags.
 */
export function useBaselineWasm(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ""): void {
  wanted = ![...execArgv, ...nodeOptions.split(/\s+/)].some((word) => TIERING_FLAG.test(word.replaceAll("_", "-")));
}

/** Called before a WebAssembly module is compiled, on the main thread: sets `--liftoff-only` if asked for and not yet set. */
export function beforeWasmCompile(): void {
  if (!wanted || set) return;
  setFlagsFromString("--liftoff-only");
  set = true;
}

/**
 * Sets V8's WebAssembly flags back to their defaults if `beforeWasmCompile` changed them. Modules
 * compiled before keep running with Liftoff only; one compiled later (a run does not compile any after
 * its code cache is made, at exit) would be tiered up again.
 */
export function restoreWasmTiering(): void {
  if (!set) return;
  for (const flag of DEFAULTS) setFlagsFromString(flag);
  set = false;
}
