// Fitting the staged image to the firmware it is for, before anything reaches the target: with
// `--compile`, every staged `.py` becomes `.mpy` (mpy-cross, WebAssembly or native); with a target
// (`--target-version`, `--mpy`), every staged `.mpy`, whatever its source, is checked against it.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { compileTree, type Compiler } from "../mpy/compile.js";
import { checkMpyFile, type MpyTarget } from "../mpy/target.js";
import type { ResolvedPackage } from "../resolve/resolve.js";
import type { Staged } from "./context.js";

export interface FirmwareOptions {
  target?: MpyTarget;
  compile?: { compiler: Compiler; keepSources: boolean; jobs: number; scratchDir?: string };
}

export async function fitToFirmware(nodes: Array<ResolvedPackage<Staged>>, options: FirmwareOptions, signal?: AbortSignal): Promise<void> {
  const fresh = new Set<string>();
  if (options.compile !== undefined) {
    for (const node of nodes) {
      signal?.throwIfAborted();
      const result = await inPackage(node, () => compileTree(node.prepared.dir, node.prepared.files, { ...options.compile!, ...(options.target === undefined ? {} : { target: options.target }), ...(signal === undefined ? {} : { signal }) }));
      const removed = new Set(result.removed);
      const compiled = new Set(result.compiled);
      node.prepared.files = [...node.prepared.files.filter((file) => !removed.has(file) && !compiled.has(file)), ...result.compiled];
      for (const file of result.compiled) fresh.add(path.join(node.prepared.dir, file));
    }
  }
  const { target } = options;
  if (target === undefined) return;
  for (const node of nodes) {
    for (const file of node.prepared.files.filter((name) => name.endsWith(".mpy"))) {
      const absolute = path.join(node.prepared.dir, ...file.split("/"));
      if (fresh.has(absolute)) continue; // compileTree checked what it wrote
      const data = await readFile(absolute);
      await inPackage(node, async () => checkMpyFile(data, file, target));
    }
  }
}

/** Errors about one file also say which package it is in. */
async function inPackage<T>(node: ResolvedPackage<Staged>, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    if (!(error instanceof MpipError)) throw error;
    const name = `\`${node.name}${node.version === "" ? "" : ` ${node.version}`}\``;
    throw new MpipError(error.code, `in ${name} (from ${node.source}): ${error.message}`, { cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
  }
}
