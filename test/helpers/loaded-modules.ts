// Which source modules a run of the built CLI ran, observed through V8's coverage, which Node writes
// for a child started with NODE_V8_COVERAGE (one JSON file per process or worker thread, listing every
// script with the functions it ran and how often).
// - The CLI's bundles (dist/mpip.cjs, and dist/mpip-help.cjs for help; built by esbuild) hold each module that is loaded lazily in a
//   function named by the module's path (`"src/pack/writer.ts"() {...}`, or
//   `"node_modules/undici/lib/core/util.js"(exports, module) {...}` for a CommonJS one), called once
//   when the module is first imported: the module ran if that function did.
// - The compile worker's bundle (dist/compile-worker.js) names its modules in `// path` comments.
// - Any other file is itself a module.
// - Node's own modules appear by their `node:` names, once loaded (those in Node's start-up snapshot,
//   such as node:fs, do not: they are never compiled in the process).

import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
}

/** The environment for a child whose coverage goes to the folder `dir` (made by Node if missing). */
export function recordLoads(dir: string): NodeJS.ProcessEnv {
  return { NODE_V8_COVERAGE: dir };
}

/** The bundles of the command line, whose modules are functions named by their paths. */
const CLI_BUNDLES = new Set(["mpip.cjs", "mpip-help.cjs"]);

const MODULE_PATH = /\.(?:ts|js|mjs|cjs|json)$/;

/**
 * The source modules a recorded run (`recordLoads`) ran, in every process and worker thread it had:
 * paths as the bundles spell them (`src/...`, `.../node_modules/NAME/...`), or the file's own path.
 */
export async function sourcesIn(dir: string): Promise<string[]> {
  const sources = new Set<string>();
  for (const name of await readdir(dir)) {
    const coverage = JSON.parse(await readFile(path.join(dir, name), "utf8")) as Coverage;
    for (const script of coverage.result) {
      if (!script.url.startsWith("file:")) continue;
      const file = fileURLToPath(script.url);
      if (CLI_BUNDLES.has(path.basename(file))) {
        for (const fn of script.functions) if (MODULE_PATH.test(fn.functionName) && (fn.ranges[0]?.count ?? 0) > 0) sources.add(fn.functionName);
      } else if (path.basename(file) === "compile-worker.js" && path.basename(path.dirname(file)) === "dist") {
        for (const match of (await readFile(file, "utf8")).matchAll(/^\/\/ (\S+\.(?:ts|js|mjs|cjs|json))$/gm)) sources.add(match[1]!);
      } else {
        sources.add(file);
      }
    }
  }
  return [...sources].sort();
}

/** Node's public modules a recorded run (`recordLoads`) loaded beyond its start-up snapshot: `node:http`, ... */
export async function builtinsIn(dir: string): Promise<string[]> {
  const builtins = new Set<string>();
  for (const name of await readdir(dir)) {
    const coverage = JSON.parse(await readFile(path.join(dir, name), "utf8")) as Coverage;
    for (const script of coverage.result) if (/^node:(?!internal\/)/.test(script.url)) builtins.add(script.url);
  }
  return [...builtins].sort();
}

/** The files of the checkout's dist/ folder that a recorded run (`recordLoads`) ran, by name: `start.cjs`, `mpip.cjs`, ... */
export async function distFilesIn(dir: string, root: string): Promise<string[]> {
  const files = new Set<string>();
  const dist = path.join(root, "dist");
  for (const name of await readdir(dir)) {
    const coverage = JSON.parse(await readFile(path.join(dir, name), "utf8")) as Coverage;
    for (const script of coverage.result) {
      if (!script.url.startsWith("file:")) continue;
      const file = fileURLToPath(script.url);
      if (path.dirname(file) === dist) files.add(path.basename(file));
    }
  }
  return [...files].sort();
}
