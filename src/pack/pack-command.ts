// The `mpip pack` command: its options and help, and what it prints. cli.ts registers it with one call,
// so this command's wiring stays out of the shared CLI file. The work is packProject's.

import path from "node:path";
import type { Command } from "commander";
import { formatBytes } from "../limits.js";
import { Reporter, styled, type Text, type Verbosity } from "../log.js";
import { quantity } from "../text.js";
import { jsonDocument } from "../render.js";
import { EXIT_OK, nonEmpty, refuseUrls, reportFailure } from "../usage.js";
import type { PackResult } from "./pack.js";
import { writeStandard } from "../standard-streams.js";

interface PackFlags {
  outDir?: string;
  quiet: boolean;
  verbose: boolean;
  debug: boolean;
  json: boolean;
}

const PACK_EXAMPLES = `
Examples:
  $ mpip pack                          the project in this folder → dist/<name>-<version>.tar.gz
  $ mpip pack path/to/project -o out   write the archive into out/
  $ SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) mpip pack    entry times from the last commit
  $ mpip pack --json | jq -r .sha256   the archive's sha256, for CI

Metadata comes from pyproject.toml ([project]; mpip's settings in [tool.mpip]: packages, modules,
include, exclude, resources) or from a declarative setup.cfg. setup.py is never run.`;

export function addPackCommand(program: Command, run: (action: () => Promise<number>) => void): void {
  program
    .command("pack")
    .summary("build a MicroPython package (.tar.gz) from a project folder")
    .description(
      "Build `dist/<name>-<version>.tar.gz` from a project, as sdist_upip does: the modules and packages with their data files, " +
        "`<name>.egg-info/PKG-INFO` and `requires.txt`, and `pkg/R.py` with each package's data files for `pkg_resources`. " +
        "Plain ustar, gzip with a 4 KiB window; the same project gives the same bytes on any machine.",
    )
    .argument("[dir]", "the project folder, with pyproject.toml or setup.cfg", nonEmpty(), ".")
    .option("-o, --out-dir <dir>", "the folder to write the archive into (default: <dir>/dist)", nonEmpty("--out-dir"))
    .option("-q, --quiet", "print only warnings and errors", false)
    .option("-v, --verbose", "list the files in the archive", false)
    .option("--debug", "print stack traces with errors", false)
    .option("--json", "print a machine-readable report on stdout (path, sha256, files)", false)
    .addHelpText("after", PACK_EXAMPLES)
    .action((dir: string, flags: PackFlags) => run(() => packCommand(dir, flags)));
}

async function packCommand(dir: string, flags: PackFlags): Promise<number> {
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  try {
    await refuseUrls([dir], "folder", "given to pack");
    if (flags.outDir !== undefined) await refuseUrls([flags.outDir], "folder", "given with --out-dir");
    const { packProject } = await import("./pack.js");
    const result = await packProject(dir, flags.outDir === undefined ? {} : { outDir: flags.outDir });
    for (const warning of result.warnings) reporter.warn(warning);
    if (flags.json) writeStandard("stdout", `${jsonDocument({ ok: true, ...result })}\n`);
    reporter.info(...summary(result));
    reporter.detail(...result.files.map((file) => `  ${file}`));
    return EXIT_OK;
  } catch (error) {
    return reportFailure(error, reporter, { json: flags.json, debug: flags.debug });
  }
}

function summary(result: PackResult): Text[] {
  const shown = path.relative(process.cwd(), result.path) || result.path;
  const lines: Text[] = [
    ["Packed ", styled("bold", result.name), `==${result.version} (from ${result.metadataFile}) into \`${shown.startsWith("..") ? result.path : shown}\``],
    `  ${quantity(result.files.length, "file")}, ${formatBytes(result.size)}, sha256 ${result.sha256}`,
  ];
  if (result.resourceModules.length > 0) lines.push(`  resources: ${result.resourceModules.map((file) => `\`${file}\``).join(", ")}`);
  return lines;
}
