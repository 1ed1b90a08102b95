// Empties dist/ before a build. tsc and esbuild only ever add files: without this, the output of a
// source since removed, and the bundle's chunks of every earlier build (their names carry a hash of
// their content), would stay in dist/ and ship in the npm package beside what runs.
import { rmSync } from "node:fs";

rmSync(new URL("../dist/", import.meta.url), { recursive: true, force: true });
