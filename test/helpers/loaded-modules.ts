// Which source modules a run of the built CLI loaded: the child is started with the preload
// loaded-modules.mjs, which writes the URL of every file it loads; each of mpip's bundled files
// (dist/mpip*.js, built by esbuild without minifying) names the modules it holds in `// path` comments,
// e.g. `// src/pack/writer.ts` or `// ../main/node_modules/pako/dist/pako.mjs`.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), "loaded-modules.mjs");

/** The environment for a child that records the files it loads into `file`. */
export function recordLoads(file: string): NodeJS.ProcessEnv {
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${pathToFileURL(PRELOAD).href}`.trim(), MPIP_TEST_LOADED_MODULES_FILE: file };
}

/**
 * The source modules held by the files a recorded run loaded (`recordLoads`): the `// path` comments of
 * each bundled file, and each other file's own path. Paths as the bundle spells them (`src/...`,
 * `.../node_modules/NAME/...`).
 */
export async function sourcesIn(file: string): Promise<string[]> {
  const urls = [...new Set((await readFile(file, "utf8")).split("\n").filter((line) => line !== ""))];
  const sources = new Set<string>();
  for (const url of urls) {
    const loaded = fileURLToPath(url);
    if (!/^mpip.*\.js$/.test(path.basename(loaded))) {
      sources.add(loaded);
      continue;
    }
    for (const match of (await readFile(loaded, "utf8")).matchAll(/^\/\/ (\S+\.(?:ts|js|mjs|cjs|json))$/gm)) sources.add(match[1]!);
  }
  return [...sources].sort();
}
