// The WebAssembly mpy-cross on worker threads, so compiles really run side by side (on the main thread
// they only interleave). Workers start lazily, one per compile asked for at once, up to the machine's
// parallelism: callers bound their own concurrency (`compileTree` runs at most `jobs` compiles), so the
// pool ends up min(jobs, cores, files) strong. Each worker loads the wasm once and compiles many files,
// one at a time. An idle worker is `unref`'d, so it never keeps the process alive (the CLI exits as soon
// as its work is done) yet is reused by the next package's compiles; a busy one is ref'd, so the process
// cannot exit while a compile is awaited. A worker that dies fails its file with `compile-failed`.

import os from "node:os";
import { Worker } from "node:worker_threads";
import { MpipError, type ErrorCode } from "../errors.js";
import type { MpyCrossRun } from "./wasm.js";
import { beforeWasmCompile } from "../wasm-tiering.js";

/** What compile-worker.ts receives and sends back. */
export type WorkerRequest =
  | { id: number; kind: "load" }
  | { id: number; kind: "compile"; args: string[]; input: string | Uint8Array };
export type WorkerReply =
  | { id: number; kind: "loaded" }
  | { id: number; kind: "done"; run: MpyCrossRun }
  | { id: number; kind: "failed"; error: SerializedError };
export interface SerializedError {
  code: ErrorCode | undefined;
  message: string;
  hint: string | undefined;
  cause: string | undefined;
}

interface Task {
  request: WorkerRequest;
  fileName: string;
  resolve: (run: MpyCrossRun | undefined) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  /** Why it died, from its `error` event, for the message. */
  crash: unknown;
  /** Stopped on purpose (closed, or stuck): its exit is expected. */
  retired: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface WasmPoolOptions {
  /** Most workers at once (default: `os.availableParallelism()`). */
  size?: number;
  /** The worker script (default: compile-worker beside this module); tests point it elsewhere. */
  workerUrl?: URL;
  /** A compile taking longer than this is stuck: its worker is stopped (default 60 s, as for a native mpy-cross). */
  timeoutMs?: number;
}

export class WasmWorkerPool {
  private readonly size: number;
  private readonly workerUrl: URL;
  private readonly timeoutMs: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  /** Workers started since creation (for tests and the bench). */
  started = 0;

  constructor(options: WasmPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? os.availableParallelism()));
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Runs mpy-cross with `args` on `input` in a worker; `fileName` is for the message if the worker dies. */
  run(args: string[], input: string | Uint8Array, fileName: string): Promise<MpyCrossRun> {
    return this.enqueue({ id: this.nextId++, kind: "compile", args, input }, fileName).then((run) => run!);
  }

  /** Starts a worker if there is none and waits until it has loaded the wasm (so a broken install fails early). */
  async warm(): Promise<void> {
    if (this.slots.length > 0) return;
    await this.enqueue({ id: this.nextId++, kind: "load" }, "");
  }

  /** Stops every worker; compiles still queued or running fail. */
  async close(): Promise<void> {
    const waiting = this.queue.splice(0);
    for (const task of waiting) task.reject(stopped(task.fileName));
    await Promise.all(this.slots.splice(0).map((slot) => this.retire(slot)));
  }

  get workers(): number {
    return this.slots.length;
  }

  private enqueue(request: WorkerRequest, fileName: string): Promise<MpyCrossRun | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, fileName, resolve, reject });
      this.pump();
    });
  }

  /** Hands queued tasks to idle workers, starting new ones while under `size`. */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((candidate) => candidate.task === undefined) ?? this.spawn();
      if (slot === undefined) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.timer = setTimeout(() => this.stuck(slot), this.timeoutMs).unref();
      slot.worker.postMessage(task.request);
    }
  }

  private spawn(): Slot | undefined {
    if (this.slots.length >= this.size) return undefined;
    const worker = startWorker(this.workerUrl);
    this.started++;
    const slot: Slot = { worker, task: undefined, crash: undefined, retired: false, timer: undefined };
    this.slots.push(slot);
    worker.on("message", (reply: WorkerReply) => this.settle(slot, reply));
    worker.on("error", (error) => (slot.crash ??= error));
    worker.on("messageerror", (error) => (slot.crash ??= error));
    worker.on("exit", (code) => this.lost(slot, code));
    return slot;
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    const task = slot.task;
    if (task === undefined || reply.id !== task.request.id) return;
    slot.task = undefined;
    clearTimeout(slot.timer);
    slot.worker.unref();
    if (reply.kind === "failed") task.reject(revive(reply.error));
    else task.resolve(reply.kind === "done" ? reply.run : undefined);
    this.pump();
  }

  /** A worker exited: fail its task and, unless we stopped it, let a new worker take the queue. */
  private lost(slot: Slot, code: number): void {
    const task = slot.task;
    slot.task = undefined;
    clearTimeout(slot.timer);
    if (task !== undefined) task.reject(slot.retired ? stopped(task.fileName) : crashed(task.fileName, code, slot.crash));
    if (slot.retired) return;
    this.forget(slot);
    this.pump();
  }

  /** A compile that never ends (it would hang the install): fail it and replace its worker. */
  private stuck(slot: Slot): void {
    const task = slot.task;
    if (task === undefined) return;
    slot.task = undefined;
    this.forget(slot);
    void this.retire(slot);
    const what = task.request.kind === "load" ? "loading" : `compiling \`${task.fileName}\``;
    task.reject(new MpipError("compile-failed", `the WebAssembly mpy-cross was still ${what} after ${this.timeoutMs / 1000} s`, {
      hint: "compile with a native mpy-cross via `--mpy-cross <path>`, and report it as a bug",
    }));
    this.pump();
  }

  private forget(slot: Slot): void {
    const at = this.slots.indexOf(slot);
    if (at !== -1) this.slots.splice(at, 1);
  }

  private retire(slot: Slot): Promise<number> {
    slot.retired = true;
    return slot.worker.terminate();
  }
}

/** The worker script next to this module: `.js` when built, `.ts` when run through tsx. */
function defaultWorkerUrl(): URL {
  return new URL(import.meta.url.endsWith(".ts") ? "./compile-worker.ts" : "./compile-worker.js", import.meta.url);
}

/**
 * A built `.js` worker starts as is, with no flags (it must not rerun preloads such as a bench's probe).
 * A `.ts` one (tests and benches run the sources through tsx) needs tsx inside the worker, but Node 20
 * does not apply loaders given by `--import` in `execArgv` to a worker's entry module (nodejs/node#47747,
 * privatenumber/tsx#354): a tiny ESM entry imports the worker through tsx's own API instead.
 */
function startWorker(workerUrl: URL): Worker {
  // The worker compiles the mpy-cross; V8's flags are the process's, set from this thread.
  beforeWasmCompile();
  if (!workerUrl.pathname.endsWith(".ts")) return new Worker(workerUrl, { execArgv: [] });
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = `import { tsImport } from ${JSON.stringify(tsx)};\nawait tsImport(${JSON.stringify(workerUrl.href)}, ${JSON.stringify(workerUrl.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(entry)}`), { execArgv: [] });
}

function revive(error: SerializedError): MpipError {
  return new MpipError(error.code ?? "compile-failed", error.message, {
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...(error.cause === undefined ? {} : { cause: new Error(error.cause) }),
  });
}

function crashed(fileName: string, code: number, cause: unknown): MpipError {
  const what = fileName === "" ? "while loading" : `while compiling \`${fileName}\``;
  return new MpipError("compile-failed", `the WebAssembly mpy-cross worker thread stopped (exit code ${code}) ${what}`, {
    ...(cause === undefined ? {} : { cause }),
    hint: "retry, or reinstall mpip; or compile with a native mpy-cross via `--mpy-cross <path>`",
  });
}

function stopped(fileName: string): MpipError {
  return new MpipError("compile-failed", `the WebAssembly mpy-cross workers were stopped before \`${fileName}\` was compiled`);
}
