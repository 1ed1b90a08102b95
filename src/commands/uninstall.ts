// `mpip uninstall`: from parsed flags to an uninstall and its report. cli.ts declares the options and
// loads this module only when the command runs.

import { createInterface } from "node:readline/promises";
import { defaultTarget } from "./install.js";
import { Reporter, styled, type Text, type Verbosity } from "../log.js";
import { jsonDocument } from "../render.js";
import { catchSignals } from "../signals.js";
import { printable } from "../text.js";
import { uninstall, type UninstallReport } from "../uninstall.js";
import { EXIT_OK, reportFailure } from "../usage.js";
import { writeStandard } from "../standard-streams.js";

export interface UninstallFlags {
  target?: string;
  yes: boolean;
  dryRun: boolean;
  force: boolean;
  withOrphans: boolean;
  wait: boolean;
  quiet: boolean;
  debug: boolean;
  json: boolean;
}

/**
 * The package a name given to uninstall stands for: as pip takes them, a requirement (`foo>=1.0`,
 * `foo[extra]`, `foo @ URL`, `foo ; marker`, mip's `foo@1.0`) names the package it is of, whatever version
 * is installed; anything else is taken as it is.
 */
export function projectOf(text: string): string {
  // A name as mip's rules have it (`_markupbase`, `__future__` too), then what a requirement puts after it.
  return /^\s*([A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)\s*(?:[<>=!~;@[(].*)?$/s.exec(text)?.[1] ?? text;
}

export async function uninstallCommand(names: string[], flags: UninstallFlags): Promise<number> {
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : "normal";
  const reporter = new Reporter({ verbosity });
  const signals = catchSignals((message) => reporter.write(message));
  // A question only when someone can answer it: with -y, --json, or no terminal, mpip goes ahead (as npm does).
  const ask = !flags.yes && !flags.json && !flags.dryRun && process.stdin.isTTY === true && process.stderr.isTTY === true;
  try {
    const report = await uninstall({
      target: flags.target ?? defaultTarget(process.env),
      names: names.map(projectOf),
      dryRun: flags.dryRun,
      force: flags.force,
      withOrphans: flags.withOrphans,
      wait: flags.wait,
      signal: signals.signal,
      reporter,
      ...(ask ? { confirm: (plan: UninstallReport) => confirm(plan, reporter) } : {}),
    });
    if (flags.json) writeStandard("stdout", `${jsonDocument({ ok: true, ...report })}\n`);
    reporter.info(...renderUninstall(report));
    return EXIT_OK;
  } catch (error) {
    const code = reportFailure(error, reporter, { json: flags.json, debug: flags.debug });
    return signals.exitCode ?? code;
  } finally {
    signals.dispose();
  }
}

async function confirm(plan: UninstallReport, reporter: Reporter): Promise<boolean> {
  reporter.write(...planLines(plan));
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question("Proceed (y/N)? ");
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

function planLines(report: UninstallReport): Text[] {
  const lines: Text[] = [];
  for (const pkg of report.packages) {
    lines.push([" ", styled("red", "-"), " ", styled("bold", printable(pkg.name)), `==${printable(pkg.version)}`, styled("dim", ` (${pkg.files.length} file${pkg.files.length === 1 ? "" : "s"}${pkg.orphan ? ", no longer needed" : ""})`)]);
    for (const file of pkg.files) lines.push(styled("dim", `     ${printable(file)}`));
  }
  return lines;
}

function renderUninstall(report: UninstallReport): Text[] {
  const count = report.packages.length;
  const what = `${count} package${count === 1 ? "" : "s"}`;
  // Declined at the question: the plan was shown just before it, and nothing it said would go is gone.
  if (!report.dryRun && !report.done) return [`Uninstalled nothing: \`${report.target}\` is unchanged`];
  const head = report.dryRun ? `Would uninstall ${what} from \`${report.target}\` (dry run: nothing was changed)` : `Uninstalled ${what} from \`${report.target}\``;
  const lines: Text[] = [head, ...planLines(report)];
  if (report.orphans.length > 0) {
    lines.push(`No longer needed by any installed package (remove them with --with-orphans): ${report.orphans.map((item) => `\`${printable(item.name)}==${printable(item.version)}\``).join(", ")}`);
  }
  return lines;
}
