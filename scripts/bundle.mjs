// Bundles the command line into one CommonJS file, dist/mpip.cjs, after tsc has built dist/: every mpip
// run pays for loading it before any work, and one script with undici, commander and the other
// dependencies inside loads in a fraction of the time Node's ES module loader takes to resolve, link and
// compile the same code as modules (measured: a one-package install 0.38 -> 0.29 s of CPU). bin/mpip.js
// compiles it with a V8 code cache (src/code-cache.ts). The parts only some runs need (pack, pako, the
// compiler, undici, each command) stay behind esbuild's lazy module wrappers: their code is parsed but
// runs only when first imported.
//
// The library API (dist/index.js) stays tsc's output. The compile worker, which wasm-pool starts by a URL
// next to its own module, is bundled on its own as dist/compile-worker.js (ES module) beside the CLI.
// Left outside both: the WebAssembly mpy-cross, which loads its .wasm by a path of its own.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

/**
 * commander requires node:child_process at load, for executable subcommands mpip does not have; loading
 * it (with node:net and node:dgram behind it) is most of commander's load time, which every run pays,
 * `--version` and `--help` included. commander gets a stand-in that loads it on first use instead.
 */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(build) {
    const commander = `${path.sep}node_modules${path.sep}commander${path.sep}`;
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (args.importer.includes(commander) ? { path: "child_process", namespace: "lazy-builtin" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, () => ({
      contents: 'let loaded; module.exports = new Proxy({}, { get(_, key) { loaded ??= require("node:child_process"); return loaded[key]; } });',
      loader: "js",
    }));
  },
};

/**
 * undici's client requires its HTTP/2 half (client-h2.js) at load, which requires node:http2 and with it
 * node:http: about 15 ms of every run, for a protocol spoken only when an HTTPS server offers it. The
 * client gets a stand-in that loads it the first time a connection negotiates HTTP/2. Should a later
 * undici no longer read as expected, the build fails rather than quietly loading it again.
 */
const lazyHttp2 = {
  name: "lazy-http2",
  setup(build) {
    build.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      const eager = "const connectH2 = require('./client-h2.js')";
      if (!text.includes(eager)) throw new Error(`${args.path} no longer loads client-h2.js as scripts/bundle.mjs expects: update the lazy-http2 plugin`);
      return { contents: text.replace(eager, "let loadedH2\nconst connectH2 = (...args) => (loadedH2 ??= require('./client-h2.js'))(...args)"), loader: "js" };
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

await build({
  ...common,
  entryPoints: { mpip: "src/cli.ts" },
  format: "cjs",
  charset: "ascii",
  outExtension: { ".js": ".cjs" },
  // `import()` of Node's own modules becomes require(): a script compiled by node:vm has no loader for
  // import() (bin/mpip.js runs the bundle that way, for its code cache).
  supported: { "dynamic-import": false },
  // The modules find files beside their own (package.json, the compile worker) by import.meta.url, which
  // CommonJS has not: the bundle's own URL stands in. import.meta.resolve is used only when running the
  // TypeScript sources (tsx), never in the bundle.
  define: { "import.meta.url": "__mpipBundleUrl", "import.meta.resolve": "undefined" },
  banner: { js: 'const __mpipBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [lazyChildProcess, lazyHttp2, noUndiciIndex],
});

// The bundle is read at every run (src/code-cache.ts): as ASCII, Node reads it into a one-byte string
// without decoding UTF-8 (~10 ms less for 2 MB), and V8 keeps it in half the memory. esbuild escapes
// every other character in code (charset "ascii"); any left is in a comment copied from a dependency,
// which loses nothing by spelling it `?`.
const bundleFile = "dist/mpip.cjs";
const bundled = await readFile(bundleFile, "utf8");
const ascii = bundled.replace(/[^\x00-\x7f]/g, "?");
if (ascii !== bundled) await writeFile(bundleFile, ascii);

await build({
  ...common,
  // Where wasm-pool looks for it: beside the module that starts it, which in the bundle is dist/mpip.cjs.
  entryPoints: { "compile-worker": "src/mpy/compile-worker.ts" },
  format: "esm",
  // CommonJS dependencies call require() for Node's own modules.
  banner: { js: 'import { createRequire as __mpipCreateRequire } from "node:module"; const require = __mpipCreateRequire(import.meta.url);' },
});
