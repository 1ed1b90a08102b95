// Bundles the command line into one CommonJS file, dist/mpip.cjs, after tsc has built dist/: every mpip
// run pays for loading it before any work, and one script with undici, commander and the other
// dependencies inside loads in a fraction of the time Node's ES module loader takes to resolve, link and
// compile the same code as modules (measured: a one-package install 0.38 -> 0.29 s of CPU). bin/mpip.js
// compiles it with a V8 code cache (src/code-cache.ts). The parts only some runs need (pack, pako, the
// compiler, undici, each command) stay behind esbuild's lazy module wrappers: their code is parsed but
// runs only when first imported.
//
// A run that asks for help loads a second, smaller bundle instead, dist/mpip-help.cjs (src/cli-help.ts):
// the command line without any command's work, 0.13 MB against 1.36 once minified (measured, before: `mpip --help` 39 -> 28 ms
// of CPU beyond Node's own start-up).
//
// The library API (dist/index.js) stays tsc's output. The compile worker, which wasm-pool starts by a URL
// next to its own module, is bundled on its own as dist/compile-worker.js (ES module) beside the CLI.
// Left outside both: the WebAssembly mpy-cross, which loads its .wasm by a path of its own.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * A plugin that gives the package `dependency` (its folder name under node_modules) a stand-in, the
 * CommonJS module `contents`, for Node's module `builtin` (imported with or without `node:`): the
 * stand-in loads the real one only when needed. Other importers get the real module.
 */
function standIn(dependency, builtin, contents) {
  return {
    name: `lazy-${builtin}-for-${dependency}`,
    setup(build) {
      const folder = `${path.sep}node_modules${path.sep}${dependency}${path.sep}`;
      const namespace = `lazy-${builtin}`;
      build.onResolve({ filter: new RegExp(`^(node:)?${builtin}$`) }, (args) => (args.importer.includes(folder) ? { path: builtin, namespace } : undefined));
      build.onLoad({ filter: /.*/, namespace }, () => ({ contents, loader: "js" }));
    },
  };
}

/**
 * commander requires node:child_process at load, for executable subcommands mpip does not have; loading
 * it (with node:net and node:dgram behind it) is most of commander's load time, which every run pays,
 * `--version` and `--help` included. commander gets a stand-in that loads it on first use instead.
 */
const lazyChildProcess = standIn("commander", "child_process", 'let loaded; module.exports = new Proxy({}, { get(_, key) { loaded ??= require("node:child_process"); return loaded[key]; } });');

/**
 * undici requires node:assert at load in 18 of its modules and only ever calls it as `assert(value)` or
 * `assert(value, message)`. Loading it brings node:assert's AssertionError and colour support, which
 * asks whether stderr is a terminal and so makes process.stderr (a pipe's stream loads node:net): ~3 ms
 * of every run, before the first request, for checks that hold. undici gets a stand-in,
 * scripts/undici-assert.cjs, that checks the value itself and loads node:assert only to throw its
 * AssertionError when one fails.
 */
const lazyAssert = standIn("undici", "assert", await readFile(new URL("./undici-assert.cjs", import.meta.url), "utf8"));

/**
 * Node's modules that undici requires at load but mpip's plain HTTP/1.1 requests never use, made to load
 * on first use. Each rewrite names the text it replaces, which must occur exactly once: should a later
 * undici no longer read as expected, the build fails rather than quietly loading them again.
 * - The client requires its HTTP/2 half (client-h2.js), which requires node:http2 and with it node:http:
 *   about 15 ms of every run, for a protocol spoken only when an HTTPS server offers it. It loads the
 *   first time a connection negotiates HTTP/2.
 * - node:http itself (with its agent, client, server and parser modules: ~10 ms) is required by the
 *   client, for the default of `maxHeaderSize` (mpip gives its own: src/http.ts), and by undici's
 *   `destroy()`, to tell an `http.IncomingMessage` apart, which only a stream of that class's name can be.
 * One rewrite adds a call rather than a delay: the HTTP/1.1 client compiles its parser (llhttp, in
 * WebAssembly) on its first connection, and tells src/wasm-tiering.ts first, which then sets the V8 flag
 * the command line runs WebAssembly with.
 */
const wasmTiering = JSON.stringify(fileURLToPath(new URL("../src/wasm-tiering.ts", import.meta.url)));
const undiciRewrites = {
  "dispatcher/client-h1.js": [["function lazyllhttp () {\n", `function lazyllhttp () {\n  require(${wasmTiering}).beforeWasmCompile()\n`]],
  "dispatcher/client.js": [
    ["const connectH2 = require('./client-h2.js')", "let loadedH2\nconst connectH2 = (...args) => (loadedH2 ??= require('./client-h2.js'))(...args)"],
    ["const http = require('node:http')", ""],
    [
      "const getDefaultNodeMaxHeaderSize = http &&\n  http.maxHeaderSize &&\n  Number.isInteger(http.maxHeaderSize) &&\n  http.maxHeaderSize > 0\n  ? () => http.maxHeaderSize\n  : () => { throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid') }",
      "const getDefaultNodeMaxHeaderSize = () => {\n  const { maxHeaderSize } = require('node:http')\n  if (Number.isInteger(maxHeaderSize) && maxHeaderSize > 0) return maxHeaderSize\n  throw new InvalidArgumentError('http module not available or http.maxHeaderSize invalid')\n}",
    ],
  ],
  "core/util.js": [
    ["const { IncomingMessage } = require('node:http')", ""],
    [
      "if (Object.getPrototypeOf(stream).constructor === IncomingMessage) {",
      "const { constructor } = Object.getPrototypeOf(stream)\n    if (constructor?.name === 'IncomingMessage' && constructor === require('node:http').IncomingMessage) {",
    ],
  ],
};

const lazyUndiciBuiltins = {
  name: "lazy-undici-builtins",
  setup(build) {
    const rewritten = new Set();
    build.onLoad({ filter: /[\\/]undici[\\/]lib[\\/](dispatcher[\\/]client(-h1)?|core[\\/]util)\.js$/ }, async (args) => {
      const part = args.path.split(/[\\/]/).slice(-2).join("/");
      rewritten.add(part);
      let text = await readFile(args.path, "utf8");
      for (const [from, to] of undiciRewrites[part] ?? []) {
        const at = text.indexOf(from);
        if (at === -1 || text.indexOf(from, at + 1) !== -1) throw new Error(`${args.path} no longer reads as scripts/bundle.mjs expects (${JSON.stringify(from.slice(0, 60))}): update its lazy-undici-builtins plugin`);
        text = text.slice(0, at) + to + text.slice(at + from.length);
      }
      return { contents: text, loader: "js" };
    });
    build.onEnd(() => {
      const missed = Object.keys(undiciRewrites).filter((part) => !rewritten.has(part));
      if (missed.length > 0) throw new Error(`undici's ${missed.join(", ")} no longer in the bundle where scripts/bundle.mjs expects: update its lazy-undici-builtins plugin`);
    });
  },
};

/**
 * src/http/undici.ts loads undici's parts and falls back to its whole index should a later undici move
 * them. In the bundle the parts are fixed when it is built (esbuild fails on a part it cannot find), so
 * the fallback can never be needed there: the index (fetch, WebSocket, caches, mocks; most of undici's
 * code) is left out of it, and importing it fails with a message that names the cause.
 */
const noUndiciIndex = {
  name: "no-undici-index",
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: "undici", namespace: "no-undici-index" }));
    build.onLoad({ filter: /.*/, namespace: "no-undici-index" }, () => ({
      contents: 'throw new Error("undici\'s parts failed to load in the bundled CLI, which does not carry undici\'s index (scripts/bundle.mjs)");',
      loader: "js",
    }));
  },
};

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  outdir: "dist",
  external: ["@pybricks/mpy-cross-v6"],
  logLevel: "warning",
};

/** What the bundles of the command line share (the whole one and the help one). */
const commandLine = {
  ...common,
  format: "cjs",
  charset: "ascii",
  outExtension: { ".js": ".cjs" },
  // Every run reads the whole bundle and makes a string of it before compiling (src/code-cache.ts), at
  // ~7 ms per MB on a small machine: without indentation, comments and the longer spellings of the same
  // code, the bundle is a quarter smaller (1.84 -> 1.36 MB). Names are kept, so that stack traces (--debug,
  // a bug's report) and every function's `name` read as in the sources; only mangling them would save more.
  minifyWhitespace: true,
  minifySyntax: true,
  // `import()` of Node's own modules becomes require(): a script compiled by node:vm has no loader for
  // import() (bin/mpip.js runs the bundle that way, for its code cache).
  supported: { "dynamic-import": false },
  // The modules find files beside their own (package.json, the compile worker) by import.meta.url, which
  // CommonJS has not: the bundle's own URL stands in. import.meta.resolve is used only when running the
  // TypeScript sources (tsx), never in the bundle.
  define: { "import.meta.url": "__mpipBundleUrl", "import.meta.resolve": "undefined" },
  banner: { js: 'const __mpipBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
};

await build({ ...commandLine, entryPoints: { mpip: "src/cli.ts" }, plugins: [lazyChildProcess, lazyAssert, lazyUndiciBuiltins, noUndiciIndex] });

/**
 * For the help bundle: every module the command line imports when a command runs (`await import(...)` of
 * one of mpip's own modules, in an action) is left out, and importing it fails with a message that names
 * the cause. The help bundle never runs an action (src/cli-help.ts), so none is ever imported.
 */
const noCommandWork = {
  name: "no-command-work",
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => (args.kind === "dynamic-import" ? { path: args.path, namespace: "no-command-work" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "no-command-work" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the help bundle, which runs no command (scripts/bundle.mjs)`)});`,
      loader: "js",
    }));
  },
};

// What bin/mpip.js loads for a run that asks for help (src/cli-help.ts).
await build({ ...commandLine, entryPoints: { "mpip-help": "src/cli-help.ts" }, plugins: [lazyChildProcess, noCommandWork] });

// The bundles are read at every run (src/code-cache.ts): as ASCII, Node reads them into a one-byte string
// without decoding UTF-8 (~10 ms less for 2 MB), and V8 keeps them in half the memory. esbuild escapes
// every other character in code (charset "ascii"); any left is in a comment copied from a dependency,
// which loses nothing by spelling it `?`.
for (const bundleFile of ["dist/mpip.cjs", "dist/mpip-help.cjs"]) {
  const bundled = await readFile(bundleFile, "utf8");
  const ascii = bundled.replace(/[^\x00-\x7f]/g, "?");
  if (ascii !== bundled) await writeFile(bundleFile, ascii);
}

// What bin/mpip.js loads before the CLI (src/start.ts), as CommonJS: see there.
await build({
  ...common,
  entryPoints: { start: "src/start.ts" },
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  define: { "import.meta.url": "__mpipStartUrl" },
  banner: { js: 'const __mpipStartUrl = require("node:url").pathToFileURL(__filename).href;' },
});

await build({
  ...common,
  // Where wasm-pool looks for it: beside the module that starts it, which in the bundle is dist/mpip.cjs.
  entryPoints: { "compile-worker": "src/mpy/compile-worker.ts" },
  format: "esm",
  // CommonJS dependencies call require() for Node's own modules.
  banner: { js: 'import { createRequire as __mpipCreateRequire } from "node:module"; const require = __mpipCreateRequire(import.meta.url);' },
});
