// Empties dist/ before a build. tsc and esbuild only ever add files: without this, the output of a
// source since removed, and the code cache of the previous bundle, would stay in dist/ (and the former
// ship in the npm package beside what runs).
import { rmSync } from "node:fs";

rmSync(new URL("../dist/", import.meta.url), { recursive: true, force: true });
