// Runs `bin/mpip.js` again and again in one Node process, for the tests (test/helpers/cli.ts `runMpip`).
//
//   node test/helpers/run-server.cjs BIN MARK      (started by cli.ts, with an IPC channel)
//
// A CLI run in a process of its own costs ~250 ms of CPU on a 2-core machine, two thirds of it Node's
// start-up and loading the bundle; the suite makes thousands. Here each run is the same code a process
// runs, from the top of bin/mpip.js, with fresh modules: bin/mpip.js and dist/start.cjs are required
// again, and the bundle is a new module each time (the first time by src/code-cache.ts `loadBundle`,
// after that compiled again from the source kept, which V8 finds in its compilation cache: `loadAgain`). What a process has once, and
// each run sets, is set for the run and put back after it: the arguments, the environment (the real one,
// which libuv reads too), the current folder, the exit code, the process's listeners, its standard streams'
// getters, `process.emitWarning` and `process.exit`, node:worker_threads' `Worker` (see `run`), and the
// globals (mpip keeps its signal handling in one).
//
// The run ends when Node would end it: when nothing is left that keeps the event loop alive beyond what
// this process itself holds (`process.getActiveResourcesInfo`, and the worker threads the run started and
// has not unref'd, which Node does not list there). Then its `exit` listeners run with the exit code, as
// a process's would, the worker threads it left are stopped, as a process's end stops them, and a line
// is written to stdout and to stderr: MARK, the exit code, this process's CPU seconds so far, and 1 if
// this process ends with the run (else 0). All the run wrote comes before it, as every write is done by
// then. A run that calls `process.exit` (a signal's handler) ends this
// process after writing the same line; an uncaught exception ends it as it would end a process of the
// run's own, with Node's message on stderr. cli.ts starts another for the next run.
//
// One run at a time: a request that comes while one runs is a bug in cli.ts.
"use strict";

const { isAscii } = require("node:buffer");
const { readFileSync, statSync, writeSync } = require("node:fs");
const { createRequire } = require("node:module");
const { Script } = require("node:vm");
const path = require("node:path");
const workerThreads = require("node:worker_threads");

const [bin, mark] = process.argv.slice(2);
const start = path.join(path.dirname(bin), "..", "dist", "start.cjs");
const realExit = process.exit;
const RealWorker = workerThreads.Worker;
const own = {
  argv: process.argv,
  env: { ...process.env },
  cwd: process.cwd(),
  emitWarning: process.emitWarning,
};
let running = false;
// Made now, so that their handles are part of every run's baseline: a run that makes one (uninstall asks
// whether stdin is a terminal) would otherwise leave a handle that the count below takes for work under
// way (Node lists a pipe's handle while it is referenced, even when it neither reads nor writes).
void process.stdin;
// Made, a pipe's stream makes its descriptor non-blocking; a run in a process of its own writes to the
// descriptors as they came, blocking (src/standard-streams.ts writes to them directly), so they are made
// blocking again: a write waits for a slow reader, as there, instead of failing with EAGAIN.
for (const stream of [process.stdout, process.stderr]) stream._handle?.setBlocking?.(true);

process.on("disconnect", () => realExit(0));
process.on("message", (request) => {
  if (running) throw new Error("run-server: a run was asked for while one ran");
  running = true;
  run(request);
});

/** CPU seconds of this process and the processes it waited for, as scripts/test-reporter.mjs counts them. */
function cpuSeconds() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = [11, 12, 13, 14].reduce((total, index) => total + Number(fields[index]), 0);
    return Number.isFinite(ticks) ? ticks / 100 : 0;
  } catch {
    return 0; // not Linux
  }
}

/** What `writeWhole` waits on, for a millisecond at a time. */
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes `text` whole to the descriptor `fd`. Should the descriptor be non-blocking after all (where the
 * stream above could not make it blocking), a write to a pipe the run's output filled fails with EAGAIN
 * while the reader is behind, and is tried again each millisecond until it makes room.
 */
function writeWhole(fd, text) {
  const data = Buffer.from(text, "utf8");
  let written = 0;
  while (written < data.length) {
    try {
      written += writeSync(fd, data, written);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/**
 * Each bundle loaded before (by its path), with what tells its file unchanged and its source as
 * src/code-cache.ts `loadBundle` wraps it. loadBundle reads the 2 MB bundle and its code cache and hashes
 * both at every load (~30 ms of CPU a run here, most of a short run's); a bundle this process has loaded,
 * unchanged since, is compiled again from the source kept, which V8 finds in its compilation cache, and
 * run as a new module, as loadBundle makes one. The code cache, which only saves a process compiling, is
 * left out of such runs (test/code-cache.test.ts runs processes of their own).
 */
const bundles = new Map();

/** Keeps `bundle`'s source for loadAgain, and gives the stamp of its file. */
function stampOf(bundle) {
  const info = statSync(bundle, { throwIfNoEntry: false });
  return info === undefined ? undefined : `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
}

/** A new module of `bundle` from the source kept, if this process loaded it before and its file is unchanged; else undefined. */
function loadAgain(bundle) {
  const stamp = stampOf(bundle);
  const known = bundles.get(bundle);
  if (stamp === undefined || known?.stamp !== stamp) {
    if (stamp !== undefined) {
      const bytes = readFileSync(bundle);
      const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
      bundles.set(bundle, { stamp, wrapped: `(function (exports, require, module, __filename, __dirname) { ${source}\n});` });
    }
    return undefined;
  }
  const run = new Script(known.wrapped, { filename: bundle }).runInThisContext();
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  return { exports: module.exports, cache: "used", cacheFile: "" };
}

/** Sets the real environment to `env` (every variable not in it removed). */
function setEnvironment(env) {
  for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
  for (const [name, value] of Object.entries(env)) if (process.env[name] !== value) process.env[name] = value;
}

/** How many of each kind of resource keeps the event loop alive. */
function resources() {
  const counts = new Map();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function atMost(counts, baseline) {
  for (const [kind, count] of counts) if (count > (baseline.get(kind) ?? 0)) return false;
  return true;
}

function run({ args, env, cwd }) {
  const baseline = resources();
  // The listeners of the process and of its standard streams (bin/mpip.js adds to both).
  const emitters = [process, process.stdout, process.stderr].map((emitter) => [emitter, new Map(emitter.eventNames().map((name) => [name, emitter.listeners(name)]))]);
  const listeners = emitters[0][1];
  const globals = new Set(Reflect.ownKeys(globalThis));
  const streams = ["stdout", "stderr"].map((name) => [name, Object.getOwnPropertyDescriptor(process, name)]);
  let ended = false;
  // The worker threads the run starts (mpip compiles on them), each with whether it is referenced. Node
  // lists none among the resources above, yet a process waits for a referenced one, and its end stops
  // the rest (mpip leaves its idle workers unref'd for that): left running here, each would hold a
  // thread and its memory for good, and what it did later would come in a later run.
  const workers = new Map();
  workerThreads.Worker = class Worker extends RealWorker {
    constructor(...workerArgs) {
      super(...workerArgs);
      workers.set(this, true);
    }
    ref() {
      super.ref();
      if (workers.has(this)) workers.set(this, true);
    }
    unref() {
      super.unref();
      if (workers.has(this)) workers.set(this, false);
    }
  };
  // A worker that has exited has thread id -1.
  const alive = (worker) => worker.threadId !== -1;

  /** Ends the run with `code`: its exit listeners, then its workers stopped, then the marks; `last`: the process ends too. */
  const end = (code, last) => {
    if (ended) return;
    ended = true;
    process.exitCode = code;
    for (const listener of process.listeners("exit")) if (!(listeners.get("exit") ?? []).includes(listener)) listener.call(process, code);
    // Called once, as at a process's end: where this process does end, not again by Node.
    if (last) process.removeAllListeners("exit");
    workerThreads.Worker = RealWorker;
    if (last) {
      writeMarks(code, true);
      realExit(code);
    }
    // Stopped without a word to the run's listeners, which a process's end never calls; the marks come
    // once every thread has ended.
    const left = [...workers.keys()].filter(alive);
    for (const worker of left) {
      worker.removeAllListeners();
      worker.on("error", () => {});
    }
    if (left.length === 0) restore(code);
    else Promise.all(left.map((worker) => worker.terminate())).then(() => restore(code));
  };

  /** Writes the marks of the run's end with `code`; `last`: this process ends with it. */
  const writeMarks = (code, last) => {
    const line = `${mark}${code} ${cpuSeconds()} ${last ? 1 : 0}\n`;
    writeWhole(1, line);
    writeWhole(2, line);
  };

  /** Writes the marks and puts back what the run changed. */
  const restore = (code) => {
    writeMarks(code, false);
    for (const [emitter, before] of emitters) {
      for (const name of emitter.eventNames()) {
        const kept = before.get(name) ?? [];
        for (const listener of emitter.listeners(name)) if (!kept.includes(listener)) emitter.removeListener(name, listener);
      }
    }
    for (const [name, descriptor] of streams) if (descriptor !== undefined) Object.defineProperty(process, name, descriptor);
    for (const key of Reflect.ownKeys(globalThis)) if (!globals.has(key)) delete globalThis[key];
    process.emitWarning = own.emitWarning;
    process.exit = realExit;
    process.argv = own.argv;
    process.exitCode = undefined;
    setEnvironment(own.env);
    process.chdir(own.cwd);
    running = false;
  };

  setEnvironment(env);
  try {
    process.chdir(cwd);
  } catch {
    // As a process that cannot be started in `cwd`: no output, and runMpip's code for a failed start.
    end(1, false);
    return;
  }
  process.argv = [process.execPath, bin, ...args];
  process.exitCode = undefined;
  process.exit = (code) => end(Number(code ?? process.exitCode ?? 0), true);
  delete require.cache[bin];
  delete require.cache[start];
  // What bin/mpip.js calls in a bundle it loads (`main`, `helpOnly`) returns the promise of the command's
  // work, which may wait on what no resource shows (V8 compiling WebAssembly in the background): the
  // run is not over while one is pending.
  let pending = 0;
  require(start);
  const startModule = require.cache[start];
  const loadBundle = startModule.exports.loadBundle;
  startModule.exports = { ...startModule.exports };
  startModule.exports.loadBundle = (...loadArgs) => {
    const loaded = loadAgain(loadArgs[0]) ?? loadBundle(...loadArgs);
    const exports = { ...loaded.exports };
    for (const name of ["main", "helpOnly"]) {
      const entry = exports[name];
      if (typeof entry !== "function") continue;
      exports[name] = (...entryArgs) => {
        pending += 1;
        const work = entry(...entryArgs);
        const settled = () => setImmediate(() => (pending -= 1));
        work.then(settled, settled);
        return work;
      };
    }
    return { ...loaded, exports };
  };
  require(bin);

  // Polled on a timer that does not itself keep the loop alive; twice idle in a row, as a run's last
  // callback may start more work.
  let idle = 0;
  const check = () => {
    if (ended) return;
    const waited = [...workers].some(([worker, referenced]) => referenced && alive(worker));
    idle = pending === 0 && !waited && atMost(resources(), baseline) ? idle + 1 : 0;
    if (idle >= 2) end(Number(process.exitCode ?? 0), false);
    else setTimeout(check, 2).unref();
  };
  setTimeout(check, 0).unref();
}
