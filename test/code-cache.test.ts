// The code cache the CLI's bundle is compiled with (src/code-cache.ts, used by bin/mpip.js): each case
// runs Node on a small CommonJS bundle in a temporary folder through the built loader (dist/code-cache.js),
// as bin/mpip.js does, and looks at what the run printed and at the cache file beside the bundle. A cache
// must never make a run use code other than the bundle's own, whatever is in the cache file.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdir, readFile, readdir, rm, stat, symlink, truncate, unlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { ROOT, runCommand, tempDir } from "./helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
/** Scripts run by file (not by -e, whose code Node counts among its options, which tag the cache). */
const scripts = { load: "", probe: "" };
before(async () => {
  work = await tempDir("mpip-code-cache-");
  scripts.load = path.join(work.dir, "load.mjs");
  scripts.probe = path.join(work.dir, "probe.mjs");
  // After the bundle and the kind, how the run treats V8's flags (see `load`), as the CLI does through
  // its WebAssembly tiering (src/wasm-tiering.ts): it sets `--liftoff-only` once the bundle has loaded,
  // and sets it back before the cache is made ("tiering"), or does not ("tiering, unrestored").
  await writeFile(
    scripts.load,
    [
      `import { loadBundle } from ${JSON.stringify(LOADER)};`,
      `import { beforeWasmCompile, restoreWasmTiering, useBaselineWasm } from ${JSON.stringify(TIERING)};`,
      "const flags = process.argv[4] ?? \"\";",
      "if (flags !== \"\") useBaselineWasm();",
      "const { exports, cache, cacheFile } = loadBundle(process.argv[2], { partial: process.argv[3] === \"partial\", locked: process.argv[3] === \"locked\", ...(flags === \"tiering\" ? { beforeCaching: restoreWasmTiering } : {}) });",
      "if (flags !== \"\") beforeWasmCompile();",
      "process.stdout.write(JSON.stringify({ answer: exports.answer(), cache, file: cacheFile }));",
      "",
    ].join("\n"),
  );
  // Both kinds' names in one run: a Node start each would cost more than the rest of most cases.
  await writeFile(scripts.probe, `import { codeCacheFile } from ${JSON.stringify(LOADER)};\nprocess.stdout.write(JSON.stringify({ full: codeCacheFile(process.argv[2], "full"), locked: codeCacheFile(process.argv[2], "locked"), partial: codeCacheFile(process.argv[2], "partial") }));\n`);
});
after(() => work.cleanup());

const LOADER = pathToFileURL(path.join(ROOT, "dist", "code-cache.js")).href;
const TIERING = pathToFileURL(path.join(ROOT, "dist", "wasm-tiering.js")).href;

/** A bundle whose `answer()` returns `value`, with enough functions for V8 to have something to cache. */
function bundleText(value: string): string {
  const helpers = Array.from({ length: 40 }, (_, i) => `function helper${i}(x) { return x.length + ${i}; }`).join("\n");
  return `"use strict";\n${helpers}\nexports.answer = () => ${JSON.stringify(value)} + ":" + helper3("abc") + ":" + require("node:path").basename(__filename) + ":" + typeof module;\n`;
}

/**
 * Runs the loader on `bundle` in a new Node started with `flags` (as a run for help: `partial`): what
 * `answer()` returned, and the cache's state.
 */
async function load(bundle: string, flags: string[] = [], partial: boolean | "locked" = false, tiering: "" | "tiering" | "tiering, unrestored" = ""): Promise<{ answer: string; cache: string }> {
  const { answer, cache } = await loadNamed(bundle, flags, partial, tiering);
  return { answer, cache };
}

/** As `load`, and the cache file the run used (the loader's `cacheFile`, named as `codeCacheFile` names it). */
async function loadNamed(bundle: string, flags: string[] = [], partial: boolean | "locked" = false, tiering: "" | "tiering" | "tiering, unrestored" = ""): Promise<{ answer: string; cache: string; file: string }> {
  const result = await runCommand(process.execPath, [...flags, scripts.load, bundle, partial === "locked" ? "locked" : partial ? "partial" : "full", tiering]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "", "a run says nothing of its cache");
  return JSON.parse(result.stdout) as { answer: string; cache: string; file: string };
}

/** The cache files of every kind a Node started with `flags` uses for `bundle` (the tag depends on the flags). */
async function cachesOf(bundle: string, flags: string[] = []): Promise<{ full: string; locked: string; partial: string }> {
  const result = await runCommand(process.execPath, [...flags, scripts.probe, bundle]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { full: string; locked: string; partial: string };
}

/** The cache file of `kind` a Node started with `flags` uses for `bundle`. */
async function cacheOf(bundle: string, flags: string[] = [], kind: "full" | "locked" | "partial" = "full"): Promise<string> {
  return (await cachesOf(bundle, flags))[kind];
}

/** A copy of the built CLI, so that the caches its runs write are this file's own (made once: each test removes the caches first). */
let cliCopy: Promise<string> | undefined;
function copyOfCli(): Promise<string> {
  cliCopy ??= (async () => {
    const copy = path.join(work.dir, "cli");
    for (const part of ["bin", "dist", "package.json"]) await cp(path.join(ROOT, part), path.join(copy, part), { recursive: true });
    return copy;
  })();
  return cliCopy;
}

async function folderWith(name: string, text: string): Promise<string> {
  const dir = path.join(work.dir, name);
  await mkdir(dir, { recursive: true });
  const bundle = path.join(dir, "bundle.cjs");
  await writeFile(bundle, text);
  return bundle;
}

describe("the CLI bundle's code cache", () => {
  test("is written by the first run and used by the next, which does not write it again", async () => {
    const bundle = await folderWith("fresh", bundleText("one"));
    const first = await loadNamed(bundle);
    assert.deepEqual({ answer: first.answer, cache: first.cache }, { answer: "one:6:bundle.cjs:object", cache: "missing" });
    const cacheFile = first.file;
    assert.equal(cacheFile, await cacheOf(bundle), "the file the loader used is the one codeCacheFile names");
    assert.match(path.basename(cacheFile), /^bundle\.cjs\.[0-9a-f]{8}\.v8-cache$/);
    const written = await readFile(cacheFile);
    assert.match(written.subarray(0, 140).toString("latin1"), /^mpip-v8-cache \d+ (crc32:[0-9a-f]{1,8} crc32:[0-9a-f]{1,8}|sha256:[0-9a-f]{64} sha256:[0-9a-f]{64})\n/);
    const writtenAt = (await stat(cacheFile)).mtimeMs;
    assert.deepEqual(await load(bundle), { answer: "one:6:bundle.cjs:object", cache: "used" });
    assert.equal((await stat(cacheFile)).mtimeMs, writtenAt, "an accepted cache is left alone");
    assert.deepEqual((await readdir(path.dirname(bundle))).sort(), ["bundle.cjs", path.basename(cacheFile)], "no temporary file is left");
  });

  test("a run for help reads and writes a partial cache of its own, a run that does the work the full one: neither takes the other's", async () => {
    const bundle = await folderWith("partial", bundleText("help"));
    const { full: fullFile, partial: partialFile } = await cachesOf(bundle);
    assert.equal(partialFile, fullFile.replace(/\.v8-cache$/, ".partial.v8-cache"));
    const firstLine = async (file: string) => (await readFile(file)).subarray(0, 40).toString("latin1");
    const mtime = async (file: string) => (await stat(file)).mtimeMs;
    assert.deepEqual(await load(bundle, [], true), { answer: "help:6:bundle.cjs:object", cache: "missing" });
    assert.match(await firstLine(partialFile), /^mpip-v8-cache partial \d+ /);
    assert.deepEqual((await readdir(path.dirname(bundle))).sort(), ["bundle.cjs", path.basename(partialFile)], "a run for help writes no full cache");
    const partialAt = await mtime(partialFile);
    assert.deepEqual(await load(bundle, [], true), { answer: "help:6:bundle.cjs:object", cache: "used" });
    assert.equal(await mtime(partialFile), partialAt, "a run for help keeps a partial cache");
    // The run that does the work does not take the partial cache: it compiles whole and writes the full one.
    assert.deepEqual(await load(bundle), { answer: "help:6:bundle.cjs:object", cache: "missing" });
    assert.match(await firstLine(fullFile), /^mpip-v8-cache \d+ /);
    const fullAt = await mtime(fullFile);
    assert.deepEqual(await load(bundle), { answer: "help:6:bundle.cjs:object", cache: "used" });
    assert.deepEqual(await load(bundle, [], true), { answer: "help:6:bundle.cjs:object", cache: "used" });
    assert.equal(await mtime(fullFile), fullAt, "a full cache is left alone by every run");
    assert.equal(await mtime(partialFile), partialAt, "and a partial one too");
    assert.deepEqual((await readdir(path.dirname(bundle))).sort(), ["bundle.cjs", path.basename(fullFile), path.basename(partialFile)].sort(), "no temporary file is left");
  });

  test("a locked run (an install from a lock) reads and writes a full cache of its own: no other kind of run takes it, nor it theirs", async () => {
    const bundle = await folderWith("locked", bundleText("lock"));
    const { full: fullFile, locked: lockedFile, partial: partialFile } = await cachesOf(bundle);
    assert.equal(lockedFile, fullFile.replace(/\.v8-cache$/, ".locked.v8-cache"));
    const firstLine = async (file: string) => (await readFile(file)).subarray(0, 40).toString("latin1");
    const mtime = async (file: string) => (await stat(file)).mtimeMs;
    // Each kind in turn finds no cache of its own, whatever the others wrote, and writes its own.
    assert.deepEqual(await loadNamed(bundle, [], "locked"), { answer: "lock:6:bundle.cjs:object", cache: "missing", file: lockedFile });
    assert.match(await firstLine(lockedFile), /^mpip-v8-cache locked \d+ /);
    assert.deepEqual((await readdir(path.dirname(bundle))).sort(), ["bundle.cjs", path.basename(lockedFile)], "a locked run writes only its own cache");
    assert.deepEqual(await load(bundle), { answer: "lock:6:bundle.cjs:object", cache: "missing" });
    assert.deepEqual(await load(bundle, [], true), { answer: "lock:6:bundle.cjs:object", cache: "missing" });
    const written = { full: await mtime(fullFile), locked: await mtime(lockedFile), partial: await mtime(partialFile) };
    assert.deepEqual(await load(bundle, [], "locked"), { answer: "lock:6:bundle.cjs:object", cache: "used" });
    assert.deepEqual(await load(bundle), { answer: "lock:6:bundle.cjs:object", cache: "used" });
    assert.deepEqual(await load(bundle, [], true), { answer: "lock:6:bundle.cjs:object", cache: "used" });
    assert.deepEqual({ full: await mtime(fullFile), locked: await mtime(lockedFile), partial: await mtime(partialFile) }, written, "each kind's cache is left alone once made");
    // The full cache under the locked name is refused (its first line says its kind) and replaced.
    await writeFile(lockedFile, await readFile(fullFile));
    assert.deepEqual(await load(bundle, [], "locked"), { answer: "lock:6:bundle.cjs:object", cache: "missing" });
    assert.match(await firstLine(lockedFile), /^mpip-v8-cache locked \d+ /);
  });

  test("a run that sets a V8 flag after loading writes its cache only with the flag set back, so that the next run takes it", async () => {
    const bundle = await folderWith("run-time-flags", bundleText("flags"));
    // Left set, the flag would stamp the cache with flags no run loads under: V8 would refuse it at every
    // next run, which would write it again. So none is written.
    for (let turn = 0; turn < 2; turn++) {
      assert.deepEqual(await load(bundle, [], false, "tiering, unrestored"), { answer: "flags:6:bundle.cjs:object", cache: "missing" });
      assert.deepEqual(await readdir(path.dirname(bundle)), ["bundle.cjs"], "no cache, and no temporary file");
    }
    // Set back (as the CLI does), the cache is written, and taken by runs that set the flag again and by those that do not.
    const restored = await loadNamed(bundle, [], false, "tiering");
    assert.deepEqual({ answer: restored.answer, cache: restored.cache }, { answer: "flags:6:bundle.cjs:object", cache: "missing" });
    const cacheFile = restored.file;
    const writtenAt = (await stat(cacheFile)).mtimeMs;
    assert.deepEqual(await load(bundle, [], false, "tiering"), { answer: "flags:6:bundle.cjs:object", cache: "used" });
    assert.deepEqual(await load(bundle, [], false, "tiering, unrestored"), { answer: "flags:6:bundle.cjs:object", cache: "used" });
    assert.deepEqual(await load(bundle), { answer: "flags:6:bundle.cjs:object", cache: "used" });
    assert.equal((await stat(cacheFile)).mtimeMs, writtenAt, "never rewritten");
    // A user's own WebAssembly tiering flag, in any of V8's spellings, is left alone: the cache is that of
    // the options the user gave. (Before: `--no_wasm_tier_up` was taken for no such flag, the run set its
    // own and back to V8's defaults, and never wrote a cache.)
    for (const own of [["--no-wasm-tier-up"], ["--no_wasm_tier_up"], ["--nowasm-dynamic-tiering"], ["--no_liftoff"], ["--liftoff_only"]]) {
      assert.deepEqual(await load(bundle, own, false, "tiering"), { answer: "flags:6:bundle.cjs:object", cache: "missing" }, own[0]);
      assert.deepEqual(await load(bundle, own, false, "tiering"), { answer: "flags:6:bundle.cjs:object", cache: "used" }, own[0]);
    }
  });

  test("a cache file of the other kind under a kind's name is never taken, and is replaced", async () => {
    const bundle = await folderWith("swapped", bundleText("swap"));
    const { full: fullFile, partial: partialFile } = await cachesOf(bundle);
    await load(bundle);
    await load(bundle, [], true);
    const full = await readFile(fullFile);
    const partial = await readFile(partialFile);
    await writeFile(fullFile, partial);
    await writeFile(partialFile, full);
    assert.deepEqual(await load(bundle), { answer: "swap:6:bundle.cjs:object", cache: "missing" });
    assert.deepEqual(await load(bundle, [], true), { answer: "swap:6:bundle.cjs:object", cache: "missing" });
    assert.match((await readFile(fullFile)).subarray(0, 40).toString("latin1"), /^mpip-v8-cache \d+ /);
    assert.match((await readFile(partialFile)).subarray(0, 40).toString("latin1"), /^mpip-v8-cache partial \d+ /);
  });

  test("the CLI writes only the partial cache in every run that compiles little: help, another command than those that fetch, a usage error", async () => {
    const copy = await copyOfCli();
    const bin = path.join(copy, "bin", "mpip.js");
    const caches = async () => (await readdir(path.join(copy, "dist"))).filter((name) => name.endsWith(".v8-cache")).map((name) => path.join(copy, "dist", name));
    for (const file of await caches()) await rm(file);
    /** The cache file a run of `args` wrote (the only one), named by its bundle and kind, and its first line. */
    const stamp = async (args: string[]): Promise<string> => {
      for (const file of await caches()) await rm(file);
      await runCommand(process.execPath, [bin, ...args]);
      const [file, ...more] = await caches();
      assert.equal(more.length, 0);
      const kind = file!.endsWith(".partial.v8-cache") ? "partial file" : file!.endsWith(".locked.v8-cache") ? "locked file" : "full file";
      return `${path.basename(file!).replace(/\..*/, "")} ${kind}: ${(await readFile(file!)).subarray(0, 40).toString("latin1")}`;
    };
    // Before: a first run of `mpip list` (or a mistyped install) wrote a cache marked whole, which every
    // later install took, compiling most of its code itself at each run.
    // `install -qh` prints help though no argument is `-h`; `install -V` prints the version; an install
    // into a path below a file fails (exit 1) after it began its work. The runs that say they ask for help
    // run the help bundle (dist/mpip-help.cjs), which has a partial cache of its own.
    const fixture = path.join(ROOT, "fixtures", "mpip-demo-fmt-1.0.tar.gz");
    const failing = ["install", "-q", "--no-deps", "--no-cache", "-p", path.join(ROOT, "package.json", "image"), fixture];
    for (const args of [[], ["--help"], ["help", "install"], ["install", "--help"], ["install", "-h"]]) {
      assert.match(await stamp(args), /^mpip-help partial file: mpip-v8-cache partial \d+ /, args.join(" "));
    }
    for (const args of [["install", "-qh"], ["sync", "-V"], ["list", "-p", path.join(work.dir, "none")], ["cache", "dir"], ["instal", "x"], ["install"], failing]) {
      assert.match(await stamp(args), /^mpip partial file: mpip-v8-cache partial \d+ /, args.join(" "));
    }
    const image = path.join(work.dir, "image");
    assert.match(await stamp(["install", "-q", "--no-cache", "--no-deps", "-p", image, fixture]), /^mpip full file: mpip-v8-cache \d+ /);
    // The runs that install from a lock write the locked runs' cache, and only it.
    const project = path.join(work.dir, "locked-project");
    await mkdir(project, { recursive: true });
    await cp(fixture, path.join(project, path.basename(fixture)));
    const lockFile = path.join(project, "pylock.toml");
    const made = await runCommand(process.execPath, [bin, "lock", "-q", "--no-deps", "-o", lockFile, path.join(project, path.basename(fixture))]);
    assert.equal(made.code, 0, made.stderr);
    for (const [at, args] of [["install", "-q", "--lock", lockFile], ["install", "-q", `--lock=${lockFile}`], ["sync", "-q", lockFile]].entries()) {
      const lockedImage = path.join(work.dir, `locked-image-${at}`);
      assert.match(await stamp([...args, "-p", lockedImage]), /^mpip locked file: mpip-v8-cache locked \d+ /, args.join(" "));
      assert.ok((await readdir(lockedImage)).some((name) => name.endsWith(".dist-info")), "the locked install installed");
    }
    assert.ok((await readdir(image)).some((name) => name.endsWith(".dist-info")), "the install that did the work installed");
    // No light run sets a V8 flag before the bundle loads: help runs and the others share one partial
    // cache per bundle, used and never rewritten as they alternate; a working command that stops short
    // writes no full cache, nor over their partial one.
    for (const file of await caches()) await rm(file);
    const light = [["--help"], ["list", "-p", path.join(work.dir, "none")], ["-h"], ["cache", "dir"], ["help", "list"], ["instal", "x"], ["install", "-qh"], ["install"], failing];
    for (const args of light) await runCommand(process.execPath, [bin, ...args]);
    const written = new Map(await Promise.all((await caches()).map(async (file) => [file, (await stat(file)).mtimeMs] as const)));
    assert.deepEqual([...written.keys()].map((file) => path.basename(file).replace(/\.[0-9a-f]{8}\./, ".TAG.")).sort(), ["mpip-help.cjs.TAG.partial.v8-cache", "mpip.cjs.TAG.partial.v8-cache"], "one partial cache per bundle");
    // Each light run again, every one now finding its bundle's partial cache (a second such round reaches the same path).
    for (const args of light) await runCommand(process.execPath, [bin, ...args]);
    for (const [file, at] of written) assert.equal((await stat(file)).mtimeMs, at, `${path.basename(file)} is used, not rewritten`);
  });

  test("a run the words typed misread (a resolving install they take for a locked one, a locked one they take for a resolving one) writes no cache, which would be the other kind's for good", async () => {
    const copy = await copyOfCli();
    const bin = path.join(copy, "bin", "mpip.js");
    const caches = async () => (await readdir(path.join(copy, "dist"))).filter((name) => name.startsWith("mpip.cjs.") && name.endsWith(".v8-cache"));
    const fixture = path.join(ROOT, "fixtures", "mpip-demo-fmt-1.0.tar.gz");
    const project = path.join(work.dir, "misread");
    await mkdir(project, { recursive: true });
    await cp(fixture, path.join(project, path.basename(fixture)));
    const made = await runCommand(process.execPath, [bin, "lock", "-q", "--no-deps", "-o", "pylock.toml", path.basename(fixture)], { cwd: project });
    assert.equal(made.code, 0, made.stderr);
    /** The bundle's cache files a run of `args` left, none there before it; and that it installed. */
    const left = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> => {
      for (const name of await caches()) await rm(path.join(copy, "dist", name));
      const result = await runCommand(process.execPath, [bin, ...args], { cwd: project, env });
      assert.equal(result.code, 0, result.stderr);
      return (await caches()).map((name) => name.replace(/\.[0-9a-f]{8}\./, ".TAG."));
    };
    // Before: the resolving install of the fixture into a folder named `--lock` wrote the locked runs'
    // cache, and the locked install MPIP_LOCK asks for wrote the resolving runs' full one: each kind's
    // later runs took the other's for good, compiling their own code themselves at every run.
    assert.deepEqual(await left(["install", "-q", "--no-deps", "--no-cache", "-p", "--lock", path.basename(fixture)]), []);
    assert.ok((await readdir(path.join(project, "--lock"))).some((name) => name.endsWith(".dist-info")), "the install into `--lock` installed");
    assert.deepEqual(await left(["install", "-q", "--no-cache", "-p", "from-environment"], { MPIP_LOCK: "pylock.toml" }), []);
    assert.ok((await readdir(path.join(project, "from-environment"))).some((name) => name.endsWith(".dist-info")), "the locked install installed");
    // Read right, each writes its own kind's.
    assert.deepEqual(await left(["install", "-q", "--no-cache", "-p", "typed", "--lock", "pylock.toml"]), ["mpip.cjs.TAG.locked.v8-cache"]);
    assert.deepEqual(await left(["install", "-q", "--no-deps", "--no-cache", "-p", "resolved", path.basename(fixture)], { MPIP_LOCK: "pylock.toml" }), ["mpip.cjs.TAG.v8-cache"]);
  });

  test("the CLI compiles undici's HTTP parser with Liftoff only, and the full cache an install over HTTP leaves is taken by the next", async () => {
    const copy = await copyOfCli();
    for (const name of await readdir(path.join(copy, "dist"))) if (name.endsWith(".v8-cache")) await rm(path.join(copy, "dist", name));
    const fixture = "mpip-demo-fmt-1.0.tar.gz";
    const archive = await readFile(path.join(ROOT, "fixtures", fixture));
    const server = createServer((request, response) => (request.url === `/${fixture}` ? response.end(archive) : response.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${fixture}`;
      // V8 says how it compiled each WebAssembly function. Without --liftoff-only, these two requests are
      // enough for it to recompile llhttp's parser with TurboFan.
      const flags = ["--trace-wasm-compilation-times"];
      const install = async (image: string) => {
        const result = await runCommand(process.execPath, [...flags, path.join(copy, "bin", "mpip.js"), "install", "-q", "--no-cache", "--no-deps", "-p", path.join(work.dir, image), url]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /using Liftoff/, "llhttp was compiled");
        assert.doesNotMatch(result.stdout, /TurboFan/);
      };
      await install("http-1");
      // A program that runs the CLI's `main` in its own process keeps its V8 flags: a code cache made before
      // the install is still one V8 takes after it (V8 checks a cache against its source's length and its
      // flags: texts of one length, each compiled once).
      const inProcess = path.join(work.dir, "in-process.mjs");
      await writeFile(
        inProcess,
        [
          'import { Script } from "node:vm";',
          `import { main } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "dist", "cli.js")).href)};`,
          "let count = 0;",
          "const text = () => `void ${String(count++).padStart(12, \"0\")}`;",
          "const made = new Script(text()).createCachedData();",
          "const taken = () => new Script(text(), { cachedData: made }).cachedDataRejected !== true;",
          "const before = taken();",
          "const code = await main(process.argv.slice(0, 2).concat(process.argv.slice(2)));",
          "process.stdout.write(JSON.stringify({ code, before, after: taken() }));",
          "",
        ].join("\n"),
      );
      // --compile: the library's own modules run (dist/cli.js), whose undici is not the bundle's; the mpy-cross is compiled.
      const hosted = await runCommand(process.execPath, [inProcess, "install", "-q", "--no-cache", "--no-deps", "--compile", "-p", path.join(work.dir, "http-hosted"), url]);
      assert.equal(hosted.code, 0, hosted.stderr);
      assert.deepEqual(JSON.parse(hosted.stdout), { code: 0, before: true, after: true });
      const cacheFile = await cacheOf(path.join(copy, "dist", "mpip.cjs"), flags);
      assert.match((await readFile(cacheFile)).subarray(0, 40).toString("latin1"), /^mpip-v8-cache \d+ /, "the install wrote the full cache");
      const writtenAt = (await stat(cacheFile)).mtimeMs;
      await install("http-2");
      assert.equal((await stat(cacheFile)).mtimeMs, writtenAt, "the next install took it (V8 refused none: the flag was set back before it was made)");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("made for another build of the bundle is never used: other length, or the same length written later", async () => {
    const bundle = await folderWith("rebuilt", bundleText("old"));
    await load(bundle);
    // Another length.
    await writeFile(bundle, bundleText("newer"));
    assert.deepEqual(await load(bundle), { answer: "newer:6:bundle.cjs:object", cache: "missing" });
    assert.deepEqual(await load(bundle), { answer: "newer:6:bundle.cjs:object", cache: "used" });
    // The same length, other code: V8 alone would take the cache (it checks the source's length only).
    const before = (await stat(bundle)).mtime;
    await writeFile(bundle, bundleText("other"));
    await utimes(bundle, before, new Date(before.getTime() + 5000));
    assert.deepEqual(await load(bundle), { answer: "other:6:bundle.cjs:object", cache: "missing" });
  });

  test("made for another build of the same length and modification time (npm stamps every file 1985-10-26) is never used", async () => {
    const bundle = await folderWith("npm-times", bundleText("old"));
    const npmTime = new Date("1985-10-26T08:15:00Z");
    await utimes(bundle, npmTime, npmTime);
    assert.deepEqual(await load(bundle), { answer: "old:6:bundle.cjs:object", cache: "missing" });
    // An upgrade that replaces the bundle in place: same length, same stamped time, other code.
    await writeFile(bundle, bundleText("new"));
    await utimes(bundle, npmTime, npmTime);
    assert.deepEqual(await load(bundle), { answer: "new:6:bundle.cjs:object", cache: "missing" });
    assert.deepEqual(await load(bundle), { answer: "new:6:bundle.cjs:object", cache: "used" });
  });

  test("a FIFO, a device or a huge file where the cache should be is neither waited on nor read", async (t) => {
    const bundle = await folderWith("not-a-cache", bundleText("plain"));
    const cacheFile = await cacheOf(bundle);
    /** As `load`, in a Node killed if it never ends (as a run that waits on a FIFO would not). */
    const loadOrHang = (): { answer: string; cache: string } => {
      const result = spawnSync(process.execPath, [scripts.load, bundle], { encoding: "utf8", timeout: 60_000, killSignal: "SIGKILL" });
      assert.equal(result.signal, null, "the run ended by itself");
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, "");
      const { answer, cache } = JSON.parse(result.stdout) as { answer: string; cache: string };
      return { answer, cache };
    };
    const fifo = spawnSync("mkfifo", [cacheFile]);
    if (fifo.status === 0) {
      assert.deepEqual(loadOrHang(), { answer: "plain:6:bundle.cjs:object", cache: "missing" }, "a FIFO");
      await unlink(cacheFile);
    } else t.diagnostic("mkfifo is not available here: the FIFO case is skipped");
    await symlink("/dev/zero", cacheFile);
    assert.deepEqual(loadOrHang(), { answer: "plain:6:bundle.cjs:object", cache: "missing" }, "a link to /dev/zero");
    assert.equal((await readdir(path.dirname(bundle))).length, 2, "no temporary file is left");
    await unlink(cacheFile);
    // A huge (sparse) regular file that begins as a cache would.
    await load(bundle);
    await truncate(cacheFile, 1.5 * 1024 ** 3);
    assert.deepEqual(loadOrHang(), { answer: "plain:6:bundle.cjs:object", cache: "missing" }, "a huge file");
  });

  test("damaged, or refused by V8, is not used, and is written again", async () => {
    const bundle = await folderWith("damaged", bundleText("safe"));
    const cacheFile = (await loadNamed(bundle)).file;
    const data = await readFile(cacheFile);
    const keyLength = data.indexOf(10) + 1;
    for (let at = keyLength + 16; at < data.length; at += 7) data[at] = data[at]! ^ 0x5a;
    await writeFile(cacheFile, data);
    // V8 would crash on it (it checks no checksum of a code cache): the loader does not hand it over.
    assert.deepEqual(await load(bundle), { answer: "safe:6:bundle.cjs:object", cache: "missing" });
    assert.deepEqual(await load(bundle), { answer: "safe:6:bundle.cjs:object", cache: "used" });
    // Cut short (a disk that filled up), or only its first line left.
    const whole = await readFile(cacheFile);
    for (const length of [Math.floor(whole.length / 2), whole.indexOf(10) + 1, 10]) {
      await writeFile(cacheFile, whole.subarray(0, length));
      assert.deepEqual(await load(bundle), { answer: "safe:6:bundle.cjs:object", cache: "missing" }, `cut to ${length} bytes`);
    }
    // A cache V8 refuses (made with other V8 flags, put where this run's should be): the run writes its own.
    const flags = ["--no-lazy-feedback-allocation"];
    await writeFile(cacheFile, await readFile((await loadNamed(bundle, flags)).file));
    assert.deepEqual(await load(bundle), { answer: "safe:6:bundle.cjs:object", cache: "refused" });
    assert.deepEqual(await load(bundle), { answer: "safe:6:bundle.cjs:object", cache: "used" });
  });

  test("runs started with other options keep caches of their own, not throwing out one another's; eight are kept", async () => {
    const bundle = await folderWith("options", bundleText("opt"));
    const folder = path.dirname(bundle);
    const other = ["--no-lazy-feedback-allocation"];
    const plain = await loadNamed(bundle);
    const withOther = await loadNamed(bundle, other);
    assert.deepEqual([plain.answer, plain.cache, withOther.answer, withOther.cache], ["opt:6:bundle.cjs:object", "missing", "opt:6:bundle.cjs:object", "missing"]);
    assert.notEqual(plain.file, withOther.file);
    for (let turn = 0; turn < 2; turn++) {
      assert.deepEqual(await load(bundle), { answer: "opt:6:bundle.cjs:object", cache: "used" });
      assert.deepEqual(await load(bundle, other), { answer: "opt:6:bundle.cjs:object", cache: "used" });
    }
    // A temporary file left by a run killed while writing, long ago, and one being written now.
    const stale = path.join(folder, "bundle.cjs.0badcafe.v8-cache.1-abc.tmp");
    const fresh = path.join(folder, "bundle.cjs.0badcafe.v8-cache.2-def.tmp");
    await writeFile(stale, "x");
    await writeFile(fresh, "x");
    const longAgo = new Date(Date.now() - 3600_000);
    await utimes(stale, longAgo, longAgo);
    // Nine more sets of options: the eight caches written last are kept.
    const sets = [100, 101, 102, 103, 104, 105, 106, 107, 108].map((size) => [`--max-old-space-size=${size}`]);
    const written: string[] = [];
    for (const set of sets) {
      const run = await loadNamed(bundle, set);
      assert.deepEqual({ answer: run.answer, cache: run.cache }, { answer: "opt:6:bundle.cjs:object", cache: "missing" });
      written.push(run.file);
    }
    const caches = (await readdir(folder)).filter((name) => name.endsWith(".v8-cache")).sort();
    assert.deepEqual(caches, written.slice(1).map((file) => path.basename(file)).sort());
    const temporary = (await readdir(folder)).filter((name) => name.endsWith(".tmp"));
    assert.deepEqual(temporary, [path.basename(fresh)], "the stale temporary file is removed, the fresh one kept");
  });

  test("the caches kept are those used last: the cache of Node's default options, written first and used since, outlives later option sets", async () => {
    const bundle = await folderWith("used-last", bundleText("used"));
    const plain = await loadNamed(bundle);
    const sets = [200, 201, 202, 203, 204, 205, 206, 207].map((size) => [`--max-old-space-size=${size}`]);
    const written: string[] = [];
    // Seven more sets: eight caches, none removed yet.
    for (const set of sets.slice(0, 7)) written.push((await loadNamed(bundle, set)).file);
    // All written days ago, the default options' first; a week of runs that took it changed no file.
    const daysAgo = Date.now() - 3 * 24 * 3600_000;
    for (const [index, file] of [plain.file, ...written].entries()) await utimes(file, new Date(daysAgo + index * 1000), new Date(daysAgo + index * 1000));
    // A run that takes it marks it used; the next set written then removes the one used longest ago.
    assert.deepEqual(await load(bundle), { answer: "used:6:bundle.cjs:object", cache: "used" });
    assert.ok((await stat(plain.file)).mtimeMs > daysAgo + 24 * 3600_000, "marked as used");
    written.push((await loadNamed(bundle, sets[7]!)).file);
    const caches = (await readdir(path.dirname(bundle))).filter((name) => name.endsWith(".v8-cache")).sort();
    assert.deepEqual(caches, [plain.file, ...written.slice(1)].map((file) => path.basename(file)).sort());
    assert.deepEqual(await load(bundle), { answer: "used:6:bundle.cjs:object", cache: "used" });
  });

  test("that cannot be written costs nothing but time: the run ends as it would, saying nothing", async () => {
    const bundle = await folderWith("unwritable", bundleText("fine"));
    // A folder where the cache should be: the rename over it fails.
    const cacheFile = await cacheOf(bundle);
    await mkdir(cacheFile);
    assert.deepEqual(await load(bundle), { answer: "fine:6:bundle.cjs:object", cache: "missing" });
    assert.deepEqual(await load(bundle), { answer: "fine:6:bundle.cjs:object", cache: "missing" });
    assert.deepEqual((await readdir(path.dirname(bundle))).sort(), ["bundle.cjs", path.basename(cacheFile)], "no temporary file is left");
  });

  test("in a folder the run may not write to (as for a global install by another user), the run ends as it would", async (t) => {
    const bundle = await folderWith("read-only", bundleText("kept"));
    const folder = path.dirname(bundle);
    const locked = spawnSync("chattr", ["+i", folder]);
    if (locked.status !== 0) return t.skip("`chattr +i` is not available here (needs root and an ext4-like filesystem)");
    try {
      assert.deepEqual(await load(bundle), { answer: "kept:6:bundle.cjs:object", cache: "missing" });
      assert.deepEqual(await readdir(folder), ["bundle.cjs"]);
    } finally {
      spawnSync("chattr", ["-i", folder]);
    }
  });
});
