// Preloaded into a child mpip (`NODE_OPTIONS=--import=<this file>`, see test/lock/locked-modules.test.ts):
// registers module hooks (loaded-modules-hooks.mjs) that append the URL of every module the child loads
// to the file named by MPIP_TEST_LOADED_MODULES_FILE, one a line. `sourcesIn` (in loaded-modules.ts)
// turns those files into the source modules they bundle. Plain JavaScript, so that the child needs no
// TypeScript loader.
import { register } from "node:module";

const file = process.env.MPIP_TEST_LOADED_MODULES_FILE;
if (file !== undefined && file !== "") register("./loaded-modules-hooks.mjs", import.meta.url);
