// Runs the bundled command line (dist/mpip.cjs, one CommonJS file) with a V8 code cache kept beside it,
// as Node 22's `module.enableCompileCache()` does for modules (Node 20 has no such thing): the bytecode of
// every function a run compiled is saved when the run ends, and the next run starts from it instead of
// compiling the 2 MB bundle's functions again.
//
// The cache is `<bundle>.<tag>.v8-cache` in the bundle's own folder, which holds the code it stands for
// and is trusted as much (a folder anybody can write to, such as the system's temporary folder, would let
// them run code in mpip). V8 takes a cache only from its own version and flags, so each Node and set of
// options it is started with (`process.execArgv`, NODE_OPTIONS) has a cache of its own, named by a
// checksum of them (the tag): runs that alternate between two sets keep both caches instead of throwing
// out and rewriting one at every turn. The eight most recently written are kept. A run that changes
// V8's flags while it runs (wasm-tiering.ts) sets them back before its cache is made
// (`LoadOptions.beforeCaching`); should they still differ from those the bundle was loaded under, no
// cache is written, since every later run would refuse it.
//
// Its first line names the bundle's size and a checksum of its bytes, and a checksum of the rest: a cache
// for another build of the bundle, or damaged, is never used, nor is a file that is not a regular one of a
// plausible size. V8 itself refuses a cache made by another V8 version or with other V8 flags
// (`cachedDataRejected`). A missing or refused cache is written again when the run ends, to a temporary
// file renamed over it, so that runs side by side read either the old cache or the new one whole. Every
// failure to read or write it is ignored: the cache only saves time.
//
// V8 caches the functions a run compiled, which for `--help` is little of the bundle: an install started
// from a help run's cache compiles most of its code again (~40 ms), and would at every run, since a cache
// that V8 takes is never rewritten. The other way round, a help run started from an install's cache
// deserializes all of it (1 MB, ~10 ms) to use a fraction. So there are two caches per tag: the full
// one, which only runs that do the work (install, sync, download, lock) read and write, and a partial
// one (`<bundle>.<tag>.partial.v8-cache`), which the runs that say they do little (`partial`: help,
// `list`, `cache dir`) read and write. A run meant to do the work that does not complete it (a usage
// error, a failure, an interrupt: `endedEarly`) compiled only part of it: it writes the partial cache,
// and only where there is none, not the full one (which V8 would take for good). Each file's first
// line says which kind it is, and a file of another kind is never taken.
//
// The runs that install from a lock (`install --lock`, `sync`: `LoadOptions.locked`) have a full cache of
// their own (`<bundle>.<tag>.locked.v8-cache`): they run little of what resolving runs (index look-ups,
// the selection of releases, the lock's writing), and V8 deserializes a whole cache before the first line
// runs, functions never called included. The full cache resolving runs leave is 1.3 MB, a locked run's
// 0.8 MB: ~8 ms less of every locked install's start-up here. A locked run reads and writes only its own.
// A run loaded as one kind that turns out to be the other (`LoadOptions.misread`) writes no cache.

import { isAscii } from "node:buffer";
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import zlib from "node:zlib";
import { Script } from "node:vm";

/**
 * The kinds of cache a bundle has for each tag: `full` for the runs that do the work (resolving ones),
 * `locked` for those that install from a lock, `partial` for those that do little (see the top).
 */
export type CacheKind = "full" | "locked" | "partial";

/** What marks the first line of a cache file. */
const MAGIC = "mpip-v8-cache";
/** How many caches of one bundle (of every kind, for different Nodes or options) are kept. */
const KEPT_CACHES = 8;
/**
 * A cache V8 takes is marked as used (its modification time set to now) when its time is older than this:
 * pruning keeps the caches used last, and a cache taken at every run is never written again, so by its
 * write time alone the one for Node's default options, made first, would be the first thrown out once
 * runs with other options had written eight (and the next run that did little would write a small one
 * that every later install took, compiling the rest itself). Once a day keeps it to a write a day at most.
 */
const MARK_USED_AFTER_MS = 24 * 60 * 60 * 1000;
/** A temporary file older than this was left by a run that was killed while writing it. */
const STALE_TEMPORARY_MS = 10 * 60 * 1000;

/**
 * The cache file of `kind` for `bundle` in this process: tagged by what decides whether V8 takes a cache
 * (the Node and V8 versions, the architecture, the options Node was started with, which carry V8's flags).
 */
export function codeCacheFile(bundle: string, kind: CacheKind = "full"): string {
  const options = `${process.version} ${process.versions.v8} ${process.arch}\0${process.execArgv.join("\0")}\0${process.env.NODE_OPTIONS ?? ""}`;
  // Eight hex digits always (a CRC-32 written in hex may have fewer).
  const tag = checksum(Buffer.from(options, "utf8")).replace(/^[a-z0-9]+:/, "").slice(0, 8).padStart(8, "0");
  return kind === "full" ? `${bundle}.${tag}.v8-cache` : `${bundle}.${tag}.${kind}.v8-cache`;
}

/**
 * Removes the caches of `bundle` beyond the KEPT_CACHES most recently written or used (see
 * MARK_USED_AFTER_MS), and temporary files left by
 * killed runs. Failures are ignored (another run may be removing the same files).
 */
function pruneCaches(bundle: string): void {
  try {
    const folder = path.dirname(bundle);
    const prefix = `${path.basename(bundle)}.`;
    const caches: Array<{ file: string; time: number }> = [];
    for (const name of readdirSync(folder)) {
      if (!name.startsWith(prefix) || !(name.endsWith(".v8-cache") || name.endsWith(".tmp"))) continue;
      const file = path.join(folder, name);
      try {
        const time = statSync(file).mtimeMs;
        if (name.endsWith(".v8-cache")) caches.push({ file, time });
        else if (Date.now() - time > STALE_TEMPORARY_MS) unlinkSync(file);
      } catch {
        // gone already
      }
    }
    caches.sort((a, b) => b.time - a.time);
    for (const { file } of caches.slice(KEPT_CACHES)) {
      try {
        unlinkSync(file);
      } catch {
        // gone already
      }
    }
  } catch {
    // the folder cannot be listed: nothing to prune
  }
}

/** Sets the modification time of the cache `file` to now if it is older than MARK_USED_AFTER_MS; failures are ignored (a folder the user may not write to). */
function markUsed(file: string): void {
  try {
    if (Date.now() - statSync(file).mtimeMs < MARK_USED_AFTER_MS) return;
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // the cache only saves time
  }
}

/**
 * How the first line of the cache for the bundle whose bytes are `bytes` begins, for a full cache and for
 * a locked one and a partial one (the bundle's bytes are checksummed once for all): the cache is used only if
 * it says this. Keyed by the bytes that are compiled, not by the file's modification time: npm writes every
 * file of a package with the same time (1985-10-26), so two builds of the same length would share a key,
 * and V8 checks only the source's length (it would run the old build's bytecode); a stat would also race
 * with a rebuild between reading the bundle and stamping its cache.
 */
function cacheKeys(bytes: Uint8Array): Record<CacheKind, string> {
  const stamp = `${bytes.length} ${checksum(bytes)}`;
  return { full: `${MAGIC} ${stamp}`, locked: `${MAGIC} locked ${stamp}`, partial: `${MAGIC} partial ${stamp}` };
}

/**
 * The largest cache file read, in bytes, for a bundle of `length` bytes: V8's cache of a script is a
 * fraction of its source to a few times it, so anything far larger is not one (a huge file left there,
 * or a device such as /dev/zero) and is not read into memory.
 */
function cacheLimit(length: number): number {
  return 16 * length + (1 << 20);
}

/**
 * The cache's bytes for V8 when the first line of `file` is `key` followed by their checksum; else
 * undefined (none, unreadable, another build, damaged, or a cache of the other kind).
 * V8 checks no checksum of a code cache (only its debug builds do) and crashes on a damaged one, so the
 * hash is checked here.
 */
function readCache(file: string, key: string, limit: number): Buffer | undefined {
  try {
    const data = readRegularFile(file, limit);
    if (data === undefined) return undefined;
    const end = data.indexOf(10);
    if (end < 0) return undefined;
    const line = data.subarray(0, end).toString("latin1");
    const payload = data.subarray(end + 1);
    const sum = checksum(payload);
    return line === `${key} ${sum}` ? payload : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bytes of `file` if it is a regular file of at most `limit` bytes, else undefined. Opened without
 * blocking and checked before reading: `readFileSync` would wait forever on a FIFO and read a device
 * such as /dev/zero until memory ran out, with the main thread blocked so that not even SIGTERM stops it.
 */
function readRegularFile(file: string, limit: number): Buffer | undefined {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > limit) return undefined;
    const data = Buffer.allocUnsafe(info.size);
    let filled = 0;
    while (filled < data.length) {
      const read = readSync(fd, data, filled, data.length - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return data.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

/**
 * The checksum the first line carries: CRC-32 where Node has it (20.15 and later: zlib, which an install
 * loads anyway), else SHA-256 (node:crypto, which `--help` would otherwise not load). It guards against
 * damage, not against someone who can write the folder (they can write the bundle too). Named by its
 * algorithm, so that a cache written by another Node is refused, not misread.
 */
function checksum(data: Uint8Array): string {
  const { crc32 } = zlib as { crc32?: (data: Uint8Array) => number };
  if (crc32 !== undefined) return `crc32:${crc32(data).toString(16)}`;
  const { createHash } = createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/**
 * Writes the cache made by `make` into `file` for `bundle`, stamped `key`, then prunes the bundle's others. The temporary file is opened first: where
 * it cannot be (a folder the user may not write to, as for a global install by root), the cache is not
 * even made, which would cost every run some milliseconds for nothing.
 */
function writeCache(bundle: string, file: string, key: string, make: () => Buffer): void {
  // The process id alone could be another process's too: containers sharing a volume each have a pid 1.
  const temporary = `${file}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`;
  let fd: number;
  try {
    fd = openSync(temporary, "w");
  } catch {
    return;
  }
  try {
    const data = make();
    writeFileSync(fd, Buffer.concat([Buffer.from(`${key} ${checksum(data)}\n`, "latin1"), data]));
    closeSync(fd);
    renameSync(temporary, file);
    pruneCaches(bundle);
  } catch {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    try {
      unlinkSync(temporary);
    } catch {
      // gone already
    }
  }
}

/**
 * What became of the code cache in `loadBundle`: `used` (V8 took it), `refused` (V8 did not: another V8
 * version or flags, or damaged), `missing` (none of the run's kind for this build of the bundle),
 * `unavailable` (the bundle's folder could not be read for it). The cache
 * is written at exit after `refused` and `missing`.
 */
export type CodeCacheState = "used" | "refused" | "missing" | "unavailable";

export interface LoadOptions {
  /**
   * The run does little of the bundle's work (help): it reads and writes the partial cache, never the
   * full one.
   */
  partial?: boolean;
  /**
   * The run installs from a lock (`install --lock`, `sync`): it reads and writes the locked runs' full
   * cache, never the one of the runs that resolve. Ignored for a `partial` run.
   */
  locked?: boolean;
  /**
   * Asked at exit: whether a run meant to do the work did not complete it (a usage error, a failure, an
   * interrupt, or no work begun). It then writes the partial cache, where there is none, and never the
   * full one it read: V8 would take a cache of part of the work for good.
   */
  endedEarly?: () => boolean;
  /**
   * Asked at exit: whether the run was of another kind than `locked` said (bin/mpip.js reads it from the
   * words typed, before they are parsed: `install -p --lock pkg` resolves `pkg`; MPIP_LOCK makes an
   * install a locked one). It then writes no cache: what it compiled is another kind's, which V8 would
   * take for good in place of this kind's.
   */
  misread?: () => boolean;
  /**
   * Called at exit before a cache is made: sets back the V8 flags the run changed since loading (V8
   * refuses a cache made under other flags than its own). A failure is ignored.
   */
  beforeCaching?: () => void;
}

/**
 * Made when the bundle is loaded: tells, later, whether V8's flags are still those it had then, by
 * offering a code cache made now to V8. V8 checks a cache against the length of its source, not its text,
 * so each offer compiles a new text of the same length (one compiled before would come from the isolate's
 * own cache, and no check be made). Where V8 refuses even an offer made under the same flags (a V8 that
 * checks more), the probe can tell nothing and always answers yes.
 */
function flagsProbe(): () => boolean {
  let count = 0;
  const text = () => `void ${String(count++).padStart(12, "0")}`;
  const made = new Script(text()).createCachedData();
  const taken = () => new Script(text(), { cachedData: made }).cachedDataRejected !== true;
  const meaningful = taken();
  return () => !meaningful || taken();
}

/**
 * Loads the CommonJS file `bundle` (an absolute path) as Node's `require` would, compiled with the code
 * cache beside it (`codeCacheFile`: the partial one for a `partial` run, the locked one for a `locked`
 * run, else the full one), and returns its `module.exports` with what became of the cache and the file
 * read. The cache is written when the process exits if it was missing or refused: into the partial file
 * for a `partial` run or one that `endedEarly`, else into the run's own (locked or full); none when the
 * run was `misread`. Throws what reading, compiling or running the bundle throws; never what reading or
 * writing the cache does.
 */
export function loadBundle(bundle: string, options: LoadOptions = {}): { exports: Record<string, unknown>; cache: CodeCacheState; cacheFile: string } {
  const bytes = readFileSync(bundle);
  // An ASCII file (as scripts/bundle.mjs writes the bundle) needs no UTF-8 decoding.
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const partial = options.partial === true;
  const kind: CacheKind = partial ? "partial" : options.locked === true ? "locked" : "full";
  const cacheFile = codeCacheFile(bundle, kind);
  let keys: Record<CacheKind, string> | undefined;
  let cachedData: Buffer | undefined;
  try {
    keys = cacheKeys(bytes);
    cachedData = readCache(cacheFile, keys[kind], cacheLimit(bytes.length));
  } catch {
    keys = undefined;
  }
  // As Node wraps a CommonJS module.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new Script(wrapped, { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) });
  const cache: CodeCacheState = keys === undefined ? "unavailable" : cachedData === undefined ? "missing" : script.cachedDataRejected === true ? "refused" : "used";
  if (cache === "used") markUsed(cacheFile);
  if (keys !== undefined && cache !== "used") {
    const { [kind]: own, partial: stopped } = keys;
    const endedEarly = options.endedEarly;
    const limit = cacheLimit(bytes.length);
    const sameFlags = flagsProbe();
    // At exit, the cache holds every function the run compiled, not only the top level.
    process.once("exit", () => {
      try {
        if (options.misread?.() === true) return;
      } catch {
        // Not known to be of this kind: no cache.
        return;
      }
      let early = false;
      try {
        early = endedEarly?.() === true;
      } catch {
        // The cache only saves time: a failing question leaves it as the run began.
      }
      try {
        options.beforeCaching?.();
      } catch {
        // Checked below: flags left changed write no cache.
      }
      if (!sameFlags()) return;
      const partialFile = codeCacheFile(bundle, "partial");
      if (partial) {
        writeCache(bundle, partialFile, stopped, () => script.createCachedData());
      } else if (early) {
        // A working run that stopped short leaves the partial cache the runs that read it have made.
        if (readCache(partialFile, stopped, limit) === undefined) writeCache(bundle, partialFile, stopped, () => script.createCachedData());
      } else {
        writeCache(bundle, cacheFile, own, () => script.createCachedData());
      }
    });
  }
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  const module = { exports: {} as Record<string, unknown> };
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  return { exports: module.exports, cache, cacheFile };
}
