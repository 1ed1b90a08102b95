// Fitting the staged image to the firmware it is for, before anything reaches the target: with
// `--compile`, every staged `.py` becomes `.mpy` (mpy-cross, WebAssembly or native); with a target
// (`--target-version`, `--mpy`, or with `--compile` alone the compiler's .mpy version), every staged
// `.mpy`, whatever its source, is checked against it. With no target at all, an image whose `.mpy`
// files no one firmware loads gets a warning instead.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { existingMpyFiles, readMpyHead } from "../image/mpy-files.js";
import type { Compiler } from "../mpy/compile.js";
import { describeMpy, parseMpyHeader } from "../mpy/header.js";
import { mixedMpyWarning, type ImageMpy } from "../mpy/mix.js";
import { checkMpyFile, firmwareFor, loadsOn, targetOfCompiler, type MpyOrigin, type MpyTarget } from "../mpy/target.js";
import { printable } from "../text.js";
import type { ResolvedPackage } from "../resolve/resolve.js";
import type { Staged } from "./context.js";

export interface FirmwareOptions {
  /** The firmware given (`--target-version`, `--mpy`); with `compile` and none, the compiler's .mpy version is the target. */
  target?: MpyTarget;
  compile?: { compiler: Compiler; keepSources: boolean; jobs: number; scratchDir?: string };
}

/**
 * Fits the staged packages to the firmware: with `compile`, compiles each package's `.py` files (in
 * place in its staging folder, updating `prepared.files`); then checks every other staged `.mpy`
 * against the target (the one given, else the one `--compile` implies: targetOfCompiler).
 * @throws MpipError `mpy-incompatible` (naming the package and file, with a hint fitted to what the
 *   package ships: see MpyOrigin), `compile-failed`, or the AbortSignal's reason.
 */
export async function fitToFirmware(nodes: Array<ResolvedPackage<Staged>>, options: FirmwareOptions, signal?: AbortSignal): Promise<void> {
  const target = options.target ?? (options.compile === undefined ? undefined : targetOfCompiler(options.compile.compiler.major));
  // What each package shipped, before compiling turns its sources into .mpy files.
  const shippedFiles = new Map(nodes.map((node) => [node, new Set(node.prepared.files)]));
  const fresh = new Set<string>();
  if (options.compile !== undefined) {
    const { compileTree } = await import("../mpy/compile.js");
    for (const node of nodes) {
      signal?.throwIfAborted();
      const result = await inPackage(node, () => compileTree(node.prepared.dir, node.prepared.files, { ...options.compile!, ...(target === undefined ? {} : { target }), ...(signal === undefined ? {} : { signal }) }));
      const removed = new Set(result.removed);
      const compiled = new Set(result.compiled);
      node.prepared.files = [...node.prepared.files.filter((file) => !removed.has(file) && !compiled.has(file)), ...result.compiled];
      for (const file of result.compiled) fresh.add(path.join(node.prepared.dir, file));
    }
  }
  if (target === undefined) return;
  for (const node of nodes) {
    const shipped = shippedFiles.get(node)!;
    for (const file of node.prepared.files.filter(isMpyName)) {
      const absolute = path.join(node.prepared.dir, ...file.split("/"));
      if (fresh.has(absolute)) continue; // compileTree checked what it wrote
      const data = await readFile(absolute);
      const source = `${file.slice(0, -".mpy".length)}.py`;
      const fromMipMpy = node.artifact.type === "package-json" && node.artifact.mip !== undefined && node.artifact.mip.flavor !== "py";
      const origin: MpyOrigin = {
        type: "shipped",
        package: packageName(node),
        compiling: options.compile !== undefined,
        ...(shipped.has(source) ? { source } : {}),
        ...(fromMipMpy ? { mipIndex: node.source } : {}),
      };
      await inPackage(node, async () => checkMpyFile(data, file, target, origin));
    }
  }
}

/**
 * Warnings about the `.mpy` files the image will hold once `nodes` are installed into `targetDir`
 * (the staged files, where two packages ship a path the later one's, and the target's other `.mpy`
 * files), for what fitToFirmware does not refuse:
 * - with no firmware given: when no one firmware loads them all (see mpy/mix.ts), and each staged
 *   file that is no `.mpy` at all (unless `compiling`, which checked every staged file);
 * - with a firmware given: each `.mpy` already in the target that does not load on it.
 * Reads the target, never changes it.
 */
export async function imageMpyWarnings(nodes: Array<ResolvedPackage<Staged>>, targetDir: string, options: { target?: MpyTarget; compiling: boolean }): Promise<string[]> {
  const staged = new Map<string, { owner: string; absolute: string }>();
  for (const node of nodes) {
    for (const file of node.prepared.files.filter(isMpyName)) staged.set(file, { owner: `from \`${packageName(node)}\``, absolute: path.join(node.prepared.dir, ...file.split("/")) });
  }
  const existing = (await existingMpyFiles(targetDir)).filter((entry) => !staged.has(entry.file));
  const warnings: string[] = [];
  if (options.target !== undefined) {
    const { target } = options;
    for (const entry of existing) {
      const header = parseMpyHeader(entry.head);
      if (header === undefined || loadsOn(header, target)) continue;
      warnings.push(`\`${printable(entry.file)}\`, already in the target, is ${describeMpy(header)}, which does not load on ${target.label}: it loads on ${firmwareFor(header)}`);
    }
    return warnings;
  }
  const image: ImageMpy[] = [];
  for (const [file, { owner, absolute }] of staged) {
    const header = parseMpyHeader((await readMpyHead(absolute)) ?? new Uint8Array());
    if (header !== undefined) image.push({ file, owner, header });
    else if (!options.compiling) warnings.push(`\`${printable(file)}\` (${owner}) is not a compiled .mpy file (it has no \`M\` header): no firmware loads it`);
  }
  for (const entry of existing) {
    const header = parseMpyHeader(entry.head);
    if (header !== undefined) image.push({ file: entry.file, owner: "already in the target", header });
  }
  const mixed = mixedMpyWarning(image);
  return mixed === undefined ? warnings : [...warnings, mixed];
}

function isMpyName(file: string): boolean {
  return file.endsWith(".mpy");
}

function packageName(node: ResolvedPackage<Staged>): string {
  return `${node.name}${node.version === "" ? "" : ` ${node.version}`}`;
}

/** Errors about one file also say which package it is in. */
async function inPackage<T>(node: ResolvedPackage<Staged>, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    if (!(error instanceof MpipError)) throw error;
    const name = `\`${packageName(node)}\``;
    throw new MpipError(error.code, `in ${name} (from ${node.source}): ${error.message}`, { cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
  }
}
