// Compiles the TypeScript the tests run (src/, test/, bench/, scripts/) to JavaScript for one run of the
// suite (scripts/test.ts), so that each test file's process loads plain ES modules, with no loader.
//
// Through tsx's loader, a test file's process spent ~0.4-0.7 s of CPU more than on the same code compiled
// beforehand (the loader's thread, and every module's resolve and load handed to it): measured on
// test/resolve/select.test.ts, 0.72 s against 0.25 s. Over the suite's ~140 files, a tenth of its CPU.
//
// The JavaScript goes to a folder of the run's own below the checkout (`.test-build/run-PID-*`), laid out
// as the checkout is (`src/`, `test/`, ...), so that every relative import, `import.meta.url` and
// package look-up (`node_modules`, `"type": "module"`) resolves as it does from the TypeScript; files
// other than TypeScript are copied, and package.json too (src/cli.ts reads the version beside src/).
// Paths to the checkout itself come from test/helpers/checkout.ts `checkoutRoot`, which skips this
// folder. Each file carries an inline source map to its TypeScript: stack traces and the test locations
// the report prints name the .ts file and line (Node runs with --enable-source-maps). esbuild compiles
// each file on its own, as tsx does: the same semantics, type-checked by `npm run typecheck` instead.

import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { isRunning } from "../src/image/processes.js";

/** The folders of the checkout whose modules the tests load (and those of the test files given: see `compileTests`). */
const COMPILED_FOLDERS = ["src", "test", "bench", "scripts"];
/** Where each run's compiled folder goes, below the checkout. */
export const BUILD_FOLDER = ".test-build";

export interface CompiledTests {
  /** The run's folder, laid out as the checkout. */
  dir: string;
  /** The compiled file for a file of the checkout (`test/x.test.ts` -> `<dir>/test/x.test.js`). */
  compiled(file: string): string;
  /** Removes the folder. */
  remove(): void;
}

/**
 * Compiles the checkout at `root` into a new folder of this run's own (see the file's comment): the
 * COMPILED_FOLDERS, and the top folder of each of `testFiles` (paths in the checkout) that lies elsewhere
 * (or the file itself, at the top); removes the folders earlier runs left behind when killed (their
 * process has ended). Throws esbuild's error (an `errors` list, with every file and line it could not
 * compile) when the TypeScript does not parse, and the file system's when the folder cannot be made.
 */
export async function compileTests(root: string, testFiles: readonly string[] = []): Promise<CompiledTests> {
  const parent = path.join(root, BUILD_FOLDER);
  mkdirSync(parent, { recursive: true });
  removeLeftovers(parent);
  const dir = mkdtempSync(path.join(parent, `run-${process.pid}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const sources: string[] = [];
    const folders = new Set(COMPILED_FOLDERS);
    for (const file of testFiles) {
      const [top, ...below] = path.relative(root, file).split(path.sep);
      if (below.length === 0) sources.push(file);
      else folders.add(top!);
    }
    for (const folder of folders) collect(root, folder, dir, sources);
    await build({
      entryPoints: sources,
      outbase: root,
      outdir: dir,
      bundle: false,
      format: "esm",
      platform: "node",
      // This Node, as tsx compiles for: with "node20", esbuild drops the `with { type: "json" }` of an
      // import (Node 20.0 had none), and the import then fails.
      target: `node${process.versions.node}`,
      sourcemap: "inline",
      logLevel: "silent",
    });
    cpSync(path.join(root, "package.json"), path.join(dir, "package.json"));
  } catch (error) {
    remove();
    throw error;
  }
  return {
    dir,
    compiled: (file) => path.join(dir, path.relative(root, file)).replace(/\.ts$/, ".js"),
    remove,
  };
}

/** Adds the TypeScript below `root/folder` to `sources` and copies every other file to the same place below `dir`. */
function collect(root: string, folder: string, dir: string, sources: string[]): void {
  for (const entry of readdirSync(path.join(root, folder), { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const relative = path.join(folder, entry.name);
    if (entry.isDirectory()) collect(root, relative, dir, sources);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) sources.push(path.join(root, relative));
    else if (entry.isFile()) {
      mkdirSync(path.join(dir, folder), { recursive: true });
      cpSync(path.join(root, relative), path.join(dir, relative));
    }
  }
}

/** Removes `run-PID-*` folders below `parent` whose process no longer runs (a run that was killed). */
function removeLeftovers(parent: string): void {
  for (const name of readdirSync(parent)) {
    const pid = Number(/^run-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isRunning(pid)) continue;
    rmSync(path.join(parent, name), { recursive: true, force: true });
  }
}
