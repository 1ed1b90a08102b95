// The packaging commands of the CLI that work on files, not projects: `bin2res`, `repack`, `check`.
// Like cli.ts: parse, print, pick the exit code; the work is in the modules beside this one.

import type { Command } from "commander";
import { MpipError } from "../errors.js";
import { Reporter, colorWanted, styled, type Text } from "../log.js";
import { quantity } from "../text.js";
import { jsonDocument } from "../render.js";
import { checkTypedPaths, collectNonEmpty, EXIT_OK, nonEmpty, refuseUrls, reportFailure } from "../usage.js";
import type { ArchiveReport } from "./check.js";
import type { RepackResult } from "./repack.js";
import { mayBeTerminal, writeStandard } from "../standard-streams.js";

type Run = (action: () => Promise<number>) => void;

interface CommonFlags {
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
  json?: boolean;
}

const BIN2RES_EXAMPLES = `
Examples:
  $ mpip bin2res logo.png page.html > mypkg/R.py       keys 'logo.png' and 'page.html'
  $ cd mypkg && mpip bin2res data/*.bin > R.py         keys relative to the package, for pkg_resources`;

const REPACK_EXAMPLES = `
Examples:
  $ mpip repack dist/foo-1.0.tar.gz -o upip-dist        the MicroPython package in upip-dist/foo-1.0.tar.gz
  $ python -m build --sdist && mpip repack dist/*.tar.gz -o mp
  $ mpip repack foo-1.0.tar.gz && mpip check dist/foo-1.0.tar.gz`;

const CHECK_EXAMPLES = `
Examples:
  $ mpip check dist/foo-1.0.tar.gz                     one line per check, reasons below
  $ mpip check --json dist/*.tar.gz > check.json       for CI; exits 1 if any archive fails
  $ mpip check -q dist/*.tar.gz                        silent when every archive passes`;

export function registerFileCommands(program: Command, run: Run): void {
  program
    .command("bin2res")
    .summary("print an R.py resource module for some files")
    .description(
      "Print the R.py resource module for FILEs to stdout, as micropython-lib's mpy_bin2res.py does: `R = {`, one line " +
        "`'<path>': b'<bytes>',` per file (Python's repr, byte for byte), `}`. Keys are the paths exactly as given. " +
        "pkg_resources.resource_stream(pkg, name) reads `pkg/R.py` first, so resources work in frozen firmware.",
    )
    .argument("<file...>", "files to embed, in this order", collectNonEmpty())
    .option("--debug", "print stack traces with errors", false)
    .addHelpText("after", BIN2RES_EXAMPLES)
    .action((files: string[], flags: CommonFlags) =>
      run(() => guarded(flags, async () => {
        // R.py is Python source for a file, not a message: Python's repr has already escaped every
        // character that is not printable, so it is written as it is.
        await checkTypedPaths(files, "file", "given to bin2res");
        const { bin2res } = await import("./bin2res.js");
        writeStandard("stdout", await bin2res(files));
        return EXIT_OK;
      })),
    );

  program
    .command("repack")
    .summary("turn an sdist into a MicroPython distribution package")
    .description(
      "Turn sdists (setuptools or `python -m build`; any gzip window; ustar, pax or GNU tar) into MicroPython " +
        "distribution packages by sdist_upip's rules: keep the packages (each whole folder) and modules the distribution installs, " +
        "as its *.egg-info/top_level.txt lists them, else as found in the files (not docs, tests, examples, setup.py); " +
        "keep *.egg-info/{PKG-INFO,requires.txt}; drop everything else (README, LICENSE, setup.cfg, PKG-INFO, other egg-info files, ...). " +
        "Each package with data files gets a generated `pkg/R.py`. When the sdist has no egg-info, its PKG-INFO and a " +
        "requires.txt (Requires-Dist whose markers hold on MicroPython) are made from the top-level PKG-INFO. " +
        "The result is plain ustar, gzip level 9 with a 4 KiB window, reproducible (SOURCE_DATE_EPOCH sets the mtimes). " +
        "It is written to OUTDIR/<top folder>.tar.gz, normally OUTDIR/<name>-<version>.tar.gz.",
    )
    .argument("<sdist...>", "sdists (.tar.gz) to repack", collectNonEmpty())
    .option("-o, --out-dir <dir>", "the folder to write the packages to, relative to the current folder", nonEmpty("--out-dir"), "dist")
    .option("-q, --quiet", "print only warnings and errors", false)
    .option("-v, --verbose", "list every file kept and dropped, and why", false)
    .option("--debug", "print stack traces with errors", false)
    .option("--json", "print a machine-readable report on stdout", false)
    .addHelpText("after", REPACK_EXAMPLES)
    .action((sdists: string[], flags: CommonFlags & { outDir: string }) =>
      run(() => guarded(flags, async (reporter) => {
        const results: RepackResult[] = [];
        await checkTypedPaths(sdists, "file", "given to repack");
        await refuseUrls([flags.outDir], "folder", "given with --out-dir");
        for (const sdist of sdists) {
          const { repack } = await import("./repack.js");
          const result = await repack(sdist, flags.outDir);
          results.push(result);
          for (const warning of result.warnings) reporter.warn(`${sdist}: ${warning}`);
          reporter.info(...repackSummary(sdist, result, flags.verbose === true));
        }
        if (flags.json) writeStandard("stdout", `${jsonDocument({ ok: true, packages: results.map(repackJson) })}\n`);
        return EXIT_OK;
      })),
    );

  program
    .command("check")
    .summary("check that archives install on a small device")
    .description(
      "Check that each archive is a MicroPython distribution package a device can install: it inflates with a " +
        "4 KiB window (measured exactly), it is plain ustar a device tar reader reads as intended (no pax or GNU " +
        "records, names of at most 100 bytes, no ustar prefix, only regular files and folders), it has one top " +
        "folder and no setup.py, and it declares its dependencies where upip reads them (*.egg-info/requires.txt; " +
        "an egg-info PKG-INFO alone means none). Exits 1, naming the failed checks, if any archive fails.",
    )
    .argument("<archive...>", ".tar.gz archives to check", collectNonEmpty())
    .option("-q, --quiet", "print the results of failing archives only (and errors)", false)
    .option("--json", "print the results as JSON on stdout (for CI)", false)
    .option("--debug", "print stack traces with errors", false)
    .addHelpText("after", CHECK_EXAMPLES)
    .action((archives: string[], flags: CommonFlags) =>
      run(() => guarded(flags, async (reporter) => {
        const reports: ArchiveReport[] = [];
        // The results are the command's output, on stdout: escaped and coloured as stdout allows.
        const out = new Reporter({ stream: "stdout", progress: false });
        const glyphs = mayBeTerminal("stdout") && process.stdout.isTTY === true && colorWanted(process.stdout);
        await checkTypedPaths(archives, "file", "given to check");
        const { checkArchiveFile } = await import("./check.js");
        const { checkJson, failureSummary, renderCheckReport } = await import("./check-render.js");
        for (const archive of archives) {
          const report = await checkArchiveFile(archive);
          reports.push(report);
          if (!flags.json && !(flags.quiet === true && report.ok)) out.write(...renderCheckReport(report, glyphs));
        }
        if (flags.json) writeStandard("stdout", `${checkJson(reports)}\n`);
        if (reports.every((report) => report.ok)) return EXIT_OK;
        const failed = reports.filter((report) => !report.ok).length;
        throw new MpipError("check-failed", `${failed} of ${quantity(reports.length, "archive")} failed: ${failureSummary(reports)}`, {
          hint: "`mpip repack SDIST` rewrites an sdist as a package that passes; `mpip pack` builds one from a project",
        });
      })),
    );
}

/** Runs a command body with a Reporter; errors print uv-style (and as JSON with --json). */
async function guarded(flags: CommonFlags, body: (reporter: Reporter) => Promise<number>): Promise<number> {
  const reporter = new Reporter({ verbosity: flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal" });
  try {
    return await body(reporter);
  } catch (error) {
    // A failed check has already printed its JSON document: it is the report, not a usage failure.
    const json = flags.json === true && !(error instanceof MpipError && error.code === "check-failed");
    return reportFailure(error, reporter, { json, debug: flags.debug === true });
  }
}

function repackSummary(input: string, result: RepackResult, verbose: boolean): Text[] {
  const window = result.inputMaxDistance > 4096 ? "; the input needed a 32 KiB window, the output 4 KiB" : "";
  const lines: Text[] = [`Repacked \`${input}\` into \`${result.output}\` (${result.name} ${result.version}: ${quantity(result.files.length, "file")}, ${quantity(result.bytes, "byte")}${window})`];
  lines.push(`  ${layoutSummary(result)}`);
  for (const path of result.generated) lines.push([" ", styled("green", "+"), ` ${path} `, styled("dim", "(generated)")]);
  for (const { path, rule } of result.dropped) lines.push([" ", styled("red", "-"), ` ${path} `, styled("dim", `(${rule})`)]);
  if (verbose) for (const { path, rule } of result.kept) lines.push([`   ${path} `, styled("dim", `(${rule})`)]);
  for (const line of result.omittedRequirements) lines.push(["   ", styled("dim", `Requires-Dist \`${line}\` left out: its marker does not hold on MicroPython`)]);
  return lines;
}

/** Which packages and modules were kept, and what decided it: `top_level.txt`, or the files. */
function layoutSummary(result: RepackResult): string {
  const list = (names: string[]) => names.map((name) => `\`${name}\``).join(", ");
  const { packages, modules, from } = result.layout;
  const parts = [packages.length > 0 ? `packages ${list(packages)}` : "", modules.length > 0 ? `modules ${list(modules)}` : ""].filter(Boolean);
  const source = from === undefined ? "found from the files; docs, tests and examples left out" : `as \`${from}\` lists them`;
  return parts.length === 0 ? "kept no package or module" : `kept ${parts.join(" and ")} (${source})`;
}

function repackJson(result: RepackResult) {
  const { files, ...rest } = result;
  return { ...rest, files: files.map((file) => file.path) };
}
