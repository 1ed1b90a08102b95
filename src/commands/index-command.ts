// The `mpip index` command and its subcommand `build`: options and help. cli.ts adds it with one call;
// the work (commands/index-build.ts, publish/*) is loaded only when it runs.

import type { Command } from "commander";
import { addInstallOptions } from "../cli-options.js";
import { nonEmpty } from "../usage.js";
import type { IndexBuildFlags } from "./index-build.js";

type Run = (action: () => Promise<number>) => void;

const INDEX_EXAMPLES = `
Examples:
  $ mpip index build dist/*.tar.gz ./mylib ./drivers/bme280 -o public      sdists, a project and a package.json package
  $ mpip install -i mip+https://host/index -p image --mpy 6 mylib          from its v2 face, as .mpy
  $ mpip install -i https://host/index/pypi -p image mylib                 from its PyPI JSON face (upip too, with --base-url)
  $ mpip index build ./mylib -o public --base-url https://host/index       absolute file URLs, for upip and hosts that need them`;

/** Adds `mpip index` with `build` to `program`; `run` runs a subcommand's action. */
export function addIndexCommand(program: Command, run: Run): void {
  const index = program
    .command("index")
    .summary("publish packages as a static index")
    .description("Publish packages as a static index that any web server, object store or CDN serves: see `mpip index build --help`.")
    .addHelpText("after", INDEX_EXAMPLES);

  const build = index
    .command("build")
    .summary("turn sdists, project folders and package.json packages into a static index")
    .description(
      "Write into one folder, as static files only, three faces of one index: a micropython-lib v2 index at its root (index.json, package/py and package/6 with the modules compiled to .mpy, file/), " +
        "the PyPI JSON API under pypi/ and the simple API under simple/ (PEP 503 HTML, and PEP 691 JSON as index.json files), with the sdists under sdist/. " +
        "Building again adds releases: published files are never rewritten (a changed package at a published version is an error), only the listings change.",
    )
    .usage("[options] <source...> -o <dir>")
    .argument("<source...>", "what to publish: .tar.gz sdists, project folders (packed as `mpip pack` does) and folders with a package.json")
    .requiredOption("-o, --output <dir>", "the folder to write the index into (required; created if missing; an earlier build there is added to)", nonEmpty("--output"))
    .option("--base-url <url>", "the URL the folder will be served at: the PyPI and simple faces then name files by absolute URL (upip needs it); relative URLs otherwise");
  addInstallOptions(build, ["network", "limits", "output"], ["--timeout", "--retries", "--cert"], {
    "--jobs": "how many inputs are read, and files compiled, at once",
    "--verbose": "also list every file written",
    "--json": "print a machine-readable report on stdout (releases, the files written and those already there)",
  })
    .addHelpText("after", INDEX_EXAMPLES)
    .action((sources: string[], flags: IndexBuildFlags) => run(async () => (await import("./index-build.js")).indexBuildCommand(sources, flags)));
}
