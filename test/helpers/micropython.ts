// Runs real MicroPython (1.27, WebAssembly build) against a folder on the host disk.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

export interface MicroPythonResult {
  stdout: string;
  /** The Python traceback text if the code raised. */
  error?: string;
  /** Whatever MicroPython wrote to stderr (usually empty: tracebacks go to `error`). */
  stderr: string;
}

export interface MicroPythonOptions {
  /** Host folder copied recursively into the interpreter's `/lib`, which goes first on `sys.path`. */
  libDir?: string;
  /** Extra files for the interpreter's filesystem: absolute path there => content. */
  files?: Record<string, string | Uint8Array>;
  /** GC heap in bytes (default 4 MiB; the package's own default is 1 MiB). */
  heapsize?: number;
}

async function hostFiles(dir: string, rel = ""): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await hostFiles(dir, r)));
    else if (entry.isFile() || entry.isSymbolicLink()) out.push([r, path.join(dir, r)]);
  }
  return out;
}

// Each run gets a fresh interpreter; loads are serialized because the Emscripten module sets globalThis.Module.
let queue: Promise<unknown> = Promise.resolve();

export function runMicroPython(code: string, options: MicroPythonOptions = {}): Promise<MicroPythonResult> {
  const run = queue.then(() => runOnce(code, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runOnce(code: string, options: MicroPythonOptions): Promise<MicroPythonResult> {
  const out: number[] = [];
  const err: number[] = [];
  const mp = await loadMicroPython({
    heapsize: options.heapsize ?? 4 * 1024 * 1024,
    linebuffer: false,
    stdout: (data) => pushBytes(out, data),
    stderr: (data) => pushBytes(err, data),
  });
  mp.FS.mkdirTree("/lib");
  if (options.libDir) {
    for (const [rel, abs] of await hostFiles(options.libDir)) {
      const target = `/lib/${rel}`;
      mp.FS.mkdirTree(target.slice(0, target.lastIndexOf("/")));
      mp.FS.writeFile(target, new Uint8Array(await readFile(abs)));
    }
  }
  for (const [target, content] of Object.entries(options.files ?? {})) {
    const dir = target.slice(0, target.lastIndexOf("/"));
    if (dir) mp.FS.mkdirTree(dir);
    mp.FS.writeFile(target, typeof content === "string" ? new TextEncoder().encode(content) : content);
  }
  mp.runPython("import sys\nwhile '/lib' in sys.path:\n    sys.path.remove('/lib')\nsys.path.insert(0, '/lib')\n");
  let error: string | undefined;
  try {
    mp.runPython(code);
  } catch (e) {
    if (!(e instanceof Error) || e.name !== "PythonError") throw e;
    error = e.message;
  }
  const decode = (bytes: number[]) => new TextDecoder().decode(new Uint8Array(bytes));
  const result: MicroPythonResult = { stdout: decode(out), stderr: decode(err) };
  if (error !== undefined) result.error = error;
  return result;
}

function pushBytes(target: number[], data: string | Uint8Array): void {
  if (typeof data === "string") for (const b of new TextEncoder().encode(data)) target.push(b);
  else for (const b of data) target.push(b);
}
