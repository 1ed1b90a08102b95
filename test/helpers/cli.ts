// Runs the built CLI as a user would (`node bin/mpip.js ...`) and captures what it printed.
// Each run gets a download cache of its own (MPIP_CACHE_DIR in a fresh temporary folder, removed when it
// ends) unless the test names one (or sets MPIP_CACHE_DIR to undefined): runs never share a cache by
// accident, and never write to the user's ~/.cache.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { checkoutRoot } from "./checkout.js";

export const ROOT = checkoutRoot(import.meta.url);
export const BIN = path.join(ROOT, "bin", "mpip.js");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `mpip ARGS` with the test's environment and `options.env` (see `childEnv`), in `options.cwd` (the
 * checkout by default), and resolves with its exit code and output once it has ended.
 *
 * The run is made in this test file's run server (test/helpers/run-server.cjs: bin/mpip.js from its top,
 * with fresh modules, in a Node process kept for the purpose) when that is free, the run's folder is
 * one, and the run's environment asks nothing of Node's start-up (NODE_* variables as the server's); else
 * in a process of its own, as `runCommand`. MPIP_TEST_RUN_SERVER=0 makes every run a process of its own.
 */
export function runMpip(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  const { env, cleanup } = childEnv(options.env);
  const cwd = options.cwd ?? ROOT;
  // A folder that is not one fails the start of a process (code 1, no output), not the server's run.
  const server = isFolder(cwd) ? RunServer.free(env) : undefined;
  const done = server === undefined ? runFile(process.execPath, [BIN, ...args], env, cwd) : server.run(args, env, cwd);
  return done.finally(cleanup);
}

export function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  const { env, cleanup } = childEnv(options.env);
  return runFile(command, args, env, options.cwd ?? ROOT).finally(cleanup);
}

function isFolder(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isDirectory() === true;
}

function runFile(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Whether `chunks` end with a line that starts with `mark` (a run server's end of a run: `MARK CODE CPU LAST\\n`). */
function endsWithMark(chunks: Buffer[], mark: string): boolean {
  let tail = Buffer.alloc(0);
  for (let i = chunks.length - 1; i >= 0 && tail.length < mark.length + 40; i--) tail = Buffer.concat([chunks[i]!, tail]);
  const text = tail.toString("latin1");
  return text.endsWith("\n") && text.lastIndexOf(mark) >= 0 && !text.slice(text.lastIndexOf(mark)).slice(0, -1).includes("\n");
}

/** What a run's environment may not change from the server's: what Node reads as it starts. */
function startsNodeDifferently(env: NodeJS.ProcessEnv, serverEnv: NodeJS.ProcessEnv): boolean {
  const names = new Set([...Object.keys(env), ...Object.keys(serverEnv)]);
  for (const name of names) if ((name.startsWith("NODE_") || name === "UV_THREADPOOL_SIZE") && env[name] !== serverEnv[name]) return true;
  return false;
}

/**
 * The CPU seconds of each run server still running, as it last said: scripts/test-reporter.mjs adds them
 * to the file's own, which counts only the processes it waited for.
 */
const RUN_SERVER_CPU: Map<object, number> = ((globalThis as { [key: symbol]: Map<object, number> })[Symbol.for("mpip.test.runServerCpu")] ??= new Map());

/**
 * This test file's run server (test/helpers/run-server.cjs), started on first use and again after a run
 * ended it; it never keeps the test file's process alive between runs, and ends with it.
 */
class RunServer {
  private static server: RunServer | undefined;
  private static readonly SCRIPT = path.join(ROOT, "test", "helpers", "run-server.cjs");
  private readonly child: ChildProcess;
  private readonly mark = `\u001eMPIP-RUN-END-${randomBytes(8).toString("hex")} `;
  private readonly env: NodeJS.ProcessEnv;
  private busy = false;
  private dead = false;
  private output: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  private onChange: (() => void) | undefined;

  /** The server, when it is free for a run in `env`; undefined when the run needs a process of its own. */
  static free(env: NodeJS.ProcessEnv): RunServer | undefined {
    if (process.env.MPIP_TEST_RUN_SERVER === "0") return undefined;
    if (RunServer.server?.dead === true) RunServer.server = undefined;
    const server = (RunServer.server ??= new RunServer());
    if (server.busy || !server.child.connected || startsNodeDifferently(env, server.env)) return undefined;
    return server;
  }

  /** A server of its own for the script `bin` (laid out as bin/mpip.js, with ../dist/start.cjs), never shared. */
  static start(bin: string): RunServer {
    return new RunServer(bin);
  }

  private constructor(bin = BIN) {
    this.env = { ...process.env };
    this.child = spawn(process.execPath, [RunServer.SCRIPT, bin, this.mark], { cwd: ROOT, env: this.env, stdio: ["pipe", "pipe", "pipe", "ipc"] });
    for (const name of ["stdout", "stderr"] as const) {
      this.child[name]!.on("data", (chunk: Buffer) => {
        this.output[name].push(chunk);
        this.onChange?.();
      });
    }
    this.child.on("close", () => {
      // Waited for now: its CPU counts among this process's children's.
      RUN_SERVER_CPU.delete(this);
      this.dead = true;
      this.onChange?.();
    });
    this.child.on("error", () => {
      this.dead = true;
      this.onChange?.();
    });
    this.hold(false);
  }

  /** Whether the server's process and pipes keep this process's event loop alive. */
  private hold(alive: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr, this.child.channel] as ({ ref?(): void; unref?(): void } | null | undefined)[];
    for (const handle of handles) (alive ? handle?.ref : handle?.unref)?.call(handle);
  }

  run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<RunResult> {
    this.busy = true;
    this.hold(true);
    this.output = { stdout: [], stderr: [] };
    return new Promise((resolve) => {
      const finish = (result: RunResult) => {
        this.onChange = undefined;
        this.busy = false;
        this.hold(false);
        resolve(result);
      };
      this.onChange = () => {
        if (!this.dead && !(endsWithMark(this.output.stdout, this.mark) && endsWithMark(this.output.stderr, this.mark))) return;
        const stdout = Buffer.concat(this.output.stdout).toString("utf8");
        const stderr = Buffer.concat(this.output.stderr).toString("utf8");
        const ends = [stdout.lastIndexOf(this.mark), stderr.lastIndexOf(this.mark)];
        if (ends[0]! >= 0 && ends[1]! >= 0 && stdout.endsWith("\n") && stderr.endsWith("\n")) {
          const [code, cpu, last] = stdout.slice(ends[0]! + this.mark.length, -1).split(" ").map(Number) as [number, number, number];
          RUN_SERVER_CPU.set(this, cpu);
          // The run ended the server (`process.exit`): the next run starts another.
          if (last === 1) this.dead = true;
          finish({ code, stdout: stdout.slice(0, ends[0]), stderr: stderr.slice(0, ends[1]) });
        } else if (this.dead) {
          const code = this.child.exitCode ?? 1;
          finish({ code, stdout: ends[0]! >= 0 ? stdout.slice(0, ends[0]) : stdout, stderr: ends[1]! >= 0 ? stderr.slice(0, ends[1]) : stderr });
        }
      };
      this.child.send({ args, env, cwd });
    });
  }
}

/**
 * Runs `bin` (a script laid out as bin/mpip.js is) in a run server of its own, as `runMpip` runs mpip:
 * for tests of the server itself.
 */
export function runServerFor(bin: string): (args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string }) => Promise<RunResult> {
  const server = RunServer.start(bin);
  return (args, options = {}) => {
    const { env, cleanup } = childEnv(options.env);
    return server.run(args, env, options.cwd ?? ROOT).finally(cleanup);
  };
}

/**
 * The environment of a child process: the test's own, no colour, and a private download cache (a fresh
 * folder, removed by `cleanup`) unless `extra` has MPIP_CACHE_DIR (a folder, or undefined for none).
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  delete env.FORCE_COLOR;
  if ("MPIP_CACHE_DIR" in extra) {
    if (extra.MPIP_CACHE_DIR === undefined) delete env.MPIP_CACHE_DIR;
    return { env, cleanup: () => {} };
  }
  const cache = mkdtempSync(path.join(os.tmpdir(), "mpip-cache-"));
  env.MPIP_CACHE_DIR = cache;
  return { env, cleanup: () => rmSync(cache, { recursive: true, force: true }) };
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix = "mpip-test-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file and folder below `dir`, with a digest of each file: equal snapshots mean an unchanged tree. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        result[`${child}/`] = "dir";
        await walk(child);
      } else {
        result[child] = createHash("sha256").update(await readFile(path.join(dir, child))).digest("hex");
      }
    }
  };
  await walk("");
  return result;
}

/** The files below `dir` (not folders), sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  return Object.keys(await snapshot(dir)).filter((name) => !name.endsWith("/"));
}
