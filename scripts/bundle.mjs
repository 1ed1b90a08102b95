// Bundles the command line into dist/mpip.js (with shared chunks beside it) after tsc has built dist/:
// loading one file, with undici, commander and the other dependencies inside, takes a fraction of the
// time Node takes to load the hundred-odd modules one by one, and every mpip run pays that cost first.
// The library API (dist/index.js) stays tsc's output. Left outside the bundle: the WebAssembly mpy-cross,
// which loads its .wasm by a path of its own. The compile worker, which wasm-pool starts by a URL next to
// its own module, is bundled as dist/compile-worker.js, beside the chunk that holds wasm-pool.
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

await build({
  // The compile worker is an entry of its own, beside the chunks, where wasm-pool looks for it.
  entryPoints: { mpip: "src/cli.ts", "compile-worker": "src/mpy/compile-worker.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Chunks sit beside tsc's output, so relative URLs (the compile worker, package.json) mean the same from both.
  chunkNames: "mpip-[name]-[hash]",
  external: ["@pybricks/mpy-cross-v6"],
  // CommonJS dependencies (undici, commander) call require() for Node's own modules.
  banner: { js: 'import { createRequire as __mpipCreateRequire } from "node:module"; const require = __mpipCreateRequire(import.meta.url);' },
  plugins: [lazyChildProcess],
  logLevel: "warning",
});
