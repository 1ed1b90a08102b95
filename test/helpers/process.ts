// Runs the built CLI as a child process the test can stop at a moment of its choosing (SIGINT, SIGTERM,
// SIGKILL), and the small tools the crash and signal tests share: a seeded PRNG, polling the disk until
// something appears, and listing what an install left beside its target.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { BIN, childEnv, ROOT } from "./cli.js";

export interface Exit {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  /** Text printed on stderr so far. */
  stderr(): string;
  exited: Promise<Exit>;
  /** True once the process has ended. */
  readonly done: boolean;
}

export function startMpip(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Running {
  const { env, cleanup } = childEnv(options.env);
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let done = false;
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once("close", (code, signal) => {
      cleanup();
      done = true;
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    get done() {
      return done;
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

/** Polls `condition` every few ms until it holds (true) or `running` has ended first (false). */
export async function until(condition: () => boolean | Promise<boolean>, running: Running): Promise<boolean> {
  for (;;) {
    if (await condition()) return true;
    if (running.done) return false;
    await tick();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { prng } from "./prng.js";

/** Names in `parent` other than the target's own: what an install left beside it. */
export async function beside(parent: string, targetName: string): Promise<string[]> {
  return (await readdir(parent)).filter((name) => name !== targetName).sort();
}

/**
 * A new FIFO at `file` (mkfifo), and its writer: `bytes` are written once, when a reader opens it;
 * `written` settles when the writer is done, or when a reader that stopped early closed its end (EPIPE).
 */
export function fifoGiving(file: string, bytes: Buffer | string): { file: string; written: Promise<void> } {
  execFileSync("mkfifo", [file]);
  const stream = createWriteStream(file);
  const written = new Promise<void>((resolve) => {
    stream.on("error", () => resolve());
    stream.on("finish", () => resolve());
  });
  stream.end(bytes);
  return { file, written };
}
