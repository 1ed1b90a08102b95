// A worker thread of the WebAssembly mpy-cross pool (wasm-pool.ts): loads the wasm once, as soon as it
// starts, then runs one compile per message and sends back mpy-cross's raw result. Turning that into
// .mpy bytes or a message stays on the main thread (compile.ts), so both paths read the same.

import { parentPort } from "node:worker_threads";
import { MpipError } from "../errors.js";
import type { SerializedError, WorkerReply, WorkerRequest } from "./wasm-pool.js";
import { loadWasmRuntime, runWasmMpyCross } from "./wasm.js";

const port = parentPort;
if (port === null) throw new Error("compile-worker.ts runs only as a worker thread");

// Start loading at once, overlapping the first request; a failure is reported by that request.
loadWasmRuntime().catch(() => undefined);

port.on("message", (request: WorkerRequest) => {
  void answer(request).then((reply) => {
    const mpy = reply.kind === "done" ? reply.run.mpy : undefined;
    port.postMessage(reply, mpy === undefined ? [] : [mpy.buffer as ArrayBuffer]);
  });
});

async function answer(request: WorkerRequest): Promise<WorkerReply> {
  try {
    if (request.kind === "load") {
      await loadWasmRuntime();
      return { id: request.id, kind: "loaded" };
    }
    return { id: request.id, kind: "done", run: await runWasmMpyCross(request.args, request.input) };
  } catch (error) {
    return { id: request.id, kind: "failed", error: serialize(error) };
  }
}

/** MpipErrors cross the thread boundary as plain data (structured clone drops their class). */
function serialize(error: unknown): SerializedError {
  const cause = error instanceof Error ? error.cause : undefined;
  return {
    code: error instanceof MpipError ? error.code : undefined,
    message: error instanceof MpipError ? error.message : `the WebAssembly mpy-cross failed: ${String(error)}`,
    hint: error instanceof MpipError ? error.hint : undefined,
    cause: cause === undefined ? undefined : String(cause),
  };
}
