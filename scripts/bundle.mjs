// Bundles the command line into dist/mpip.js (with shared chunks beside it) after tsc has built dist/:
// loading one file, with undici, commander and the other dependencies inside, takes a fraction of the
// time Node takes to load the hundred-odd modules one by one, and every mpip run pays that cost first.
// The library API (dist/index.js) stays tsc's output. Left outside the bundle: the WebAssembly mpy-cross,
// which loads its .wasm by a path of its own. The compile worker, which wasm-pool starts by a URL next to
// its own module, is bundled as dist/compile-worker.js, beside the chunk that holds wasm-pool.
import { build } from "esbuild";

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
  logLevel: "warning",
});
