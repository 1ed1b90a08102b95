// `--size`: what a package takes on a device's filesystem (the bytes of its files), and what freezing it
// into firmware adds, estimated as the size of its bytecode: each `.py` compiled with the built-in
// mpy-cross (WebAssembly, MicroPython 1.19, as `install --compile` does), each `.mpy` as it is; other
// files are never frozen (MicroPython's manifest freezes only `.py` and `.mpy`) and add nothing.
// Compiled sizes are cached by content: the cache key is the compiler, the file's path in the image (it
// is embedded in the bytecode) and the source's bytes, so a second run compiles nothing it has seen.

import { createHash, randomBytes } from "node:crypto";
import { rename, stat, unlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { wasmCompiler, type Compiler } from "../mpy/compile.js";
import { Pool } from "../pool.js";
import { printable } from "../text.js";
import type { Inventory } from "./inventory.js";
import { makeDirs } from "../image/make-dirs.js";
import { readSmallFile } from "../local-file.js";
import { cacheWriteWarning } from "../cache/warning.js";

export interface SizeEstimate {
  /** Bytes of the files as they are (what they take on a filesystem, before its block rounding). */
  bytes: number;
  /** Bytes of bytecode freezing them adds: compiled `.py` plus `.mpy` files. */
  frozenBytes: number;
  /** `.py` files that did not compile (not counted in frozenBytes), each with mpy-cross's reason. */
  notCompiled: Array<{ path: string; reason: string }>;
}

export interface SizeOptions {
  /** The cache folder (see src/cache-dir.ts); the compiled files go in its `mpy/` folder. */
  cacheDir: string;
  /** Default: the built-in WebAssembly mpy-cross. */
  compiler?: Compiler;
  /** Compiles at once; default the number of cores. */
  jobs?: number;
  /** Told once when the cache cannot be written (the estimate still works). */
  warn(message: string): void;
}

/** The largest `.py` compiled for an estimate: far above any module a device imports. */
export const MAX_COMPILED_SOURCE = 4 * 1024 * 1024;

/**
 * Sizes of groups of files of the inventory (a package's files, the unrecorded ones): for each key, its
 * files' bytes and the bytecode they would freeze to. Never throws for a file: one that cannot be read or
 * compiled is listed in `notCompiled`.
 */
export async function estimateSizes<K>(inventory: Inventory, groups: ReadonlyMap<K, readonly string[]>, options: SizeOptions): Promise<Map<K, SizeEstimate>> {
  const compiler = options.compiler ?? wasmCompiler();
  const cache = new MpyCache(path.join(options.cacheDir, "mpy"), compiler, options.warn);
  const frozen = new Map<string, Promise<number | { reason: string }>>();
  const queue = new Pool(options.jobs ?? Math.max(1, os.availableParallelism()));
  const frozenSize = (file: string): Promise<number | { reason: string }> => {
    let size = frozen.get(file);
    if (size === undefined) {
      size = queue.run(() => frozenBytesOf(inventory, file, cache));
      frozen.set(file, size);
    }
    return size;
  };
  const result = new Map<K, SizeEstimate>();
  await Promise.all([...groups].map(async ([key, files]) => {
    const estimate: SizeEstimate = { bytes: 0, frozenBytes: 0, notCompiled: [] };
    for (const file of files) estimate.bytes += inventory.files.get(file)?.size ?? 0;
    for (const [file, size] of await Promise.all(files.map(async (file) => [file, await frozenSize(file)] as const))) {
      if (typeof size === "number") estimate.frozenBytes += size;
      else estimate.notCompiled.push({ path: file, reason: size.reason });
    }
    result.set(key, estimate);
  }));
  return result;
}

/** Sums estimates: the total of a listing. */
export function addEstimates(estimates: Iterable<SizeEstimate>): SizeEstimate {
  const total: SizeEstimate = { bytes: 0, frozenBytes: 0, notCompiled: [] };
  for (const estimate of estimates) {
    total.bytes += estimate.bytes;
    total.frozenBytes += estimate.frozenBytes;
    total.notCompiled.push(...estimate.notCompiled);
  }
  return total;
}

async function frozenBytesOf(inventory: Inventory, file: string, cache: MpyCache): Promise<number | { reason: string }> {
  const entry = inventory.files.get(file);
  if (entry === undefined || entry.kind !== "file") return 0;
  // A `.dist-info` folder is not importable: nothing in it is frozen.
  if (/^[^/]+\.dist-info\//i.test(file)) return 0;
  if (/\.mpy$/i.test(file)) return entry.size;
  if (!/\.py$/i.test(file)) return 0;
  if (entry.size > MAX_COMPILED_SOURCE) return { reason: `it is ${entry.size} bytes, more than the ${MAX_COMPILED_SOURCE} mpip compiles for an estimate` };
  const source = await readRegularFile(path.join(inventory.target, file));
  if (source === undefined) return { reason: "it cannot be read" };
  return cache.compiledSize(source, file);
}

class MpyCache {
  private warned = false;

  constructor(private readonly dir: string, private readonly compiler: Compiler, private readonly warn: (message: string) => void) {}

  async compiledSize(source: Buffer, fileName: string): Promise<number | { reason: string }> {
    const key = createHash("sha256").update(`${this.compiler.label}\0${fileName}\0`).update(source).digest("hex");
    const file = path.join(this.dir, key.slice(0, 2), `${key}.mpy`);
    const cached = await stat(file).catch(() => undefined);
    if (cached?.isFile() === true) {
      // Marked as used, for `mpip cache clean --older-than` (cache/maintenance.ts).
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined);
      return cached.size;
    }
    let mpy: Uint8Array;
    try {
      mpy = await this.compiler.compile(source, fileName);
    } catch (error) {
      return { reason: (error as Error).message };
    }
    await this.store(file, mpy);
    return mpy.length;
  }

  /** Written beside its place and renamed, so a reader never sees half a file; a failure costs only time. */
  private async store(file: string, mpy: Uint8Array): Promise<void> {
    const temporary = `${file}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
    try {
      await makeDirs(path.dirname(file));
      await writeFile(temporary, mpy);
      await rename(temporary, file);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      if (!this.warned) this.warn(cacheWriteWarning(path.dirname(this.dir), error, "compiled sizes", "set MPIP_CACHE_DIR to a writable folder"));
      this.warned = true;
    }
  }
}

async function readRegularFile(file: string): Promise<Buffer | undefined> {
  const read = await readSmallFile(file, MAX_COMPILED_SOURCE, { follow: false });
  return read.kind === "read" ? read.data : undefined;
}
