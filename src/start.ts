// What bin/mpip.js needs before the command line loads: signal handling from the first moment
// (signals.ts) and the loader of the bundled CLI with its code cache (code-cache.ts). scripts/bundle.mjs
// bundles this module as dist/start.cjs, a CommonJS file, so that bin/mpip.js (CommonJS, as
// bin/package.json says) loads it with `require`: Node's ES module loader, which an ES module bin would
// start for its imports, costs every run ~10 ms before any work.

export { catchSignalsFromStart } from "./signals.js";
export { loadBundle } from "./code-cache.js";
