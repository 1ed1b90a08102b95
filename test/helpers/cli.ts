// Runs the built CLI as a user would (`node bin/mpip.js ...`) and captures what it printed.
// Each run gets a download cache of its own (MPIP_CACHE_DIR in a fresh temporary folder, removed when it
// ends) unless the test names one (or sets MPIP_CACHE_DIR to undefined): runs never share a cache by
// accident, and never write to the user's ~/.cache.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createHash } from "node:crypto";
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

export function runMpip(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return runCommand(process.execPath, [BIN, ...args], options);
}

export function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  const { env, cleanup } = childEnv(options.env);
  return new Promise((resolve) => {
    execFile(command, args, { env, cwd: options.cwd ?? ROOT, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      cleanup();
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
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
