// How mpip shows its results and failures: errors uv-style (`error:`, `caused by:`, `hint:`),
// readable without color; the install summary; and the --json report CI consumes.

import { MpipError } from "./errors.js";
import type { InstallReport } from "./install.js";
import type { Reporter } from "./log.js";

export function renderError(error: unknown, reporter: Reporter, debug: boolean): string {
  const lines: string[] = [];
  if (error instanceof MpipError) {
    lines.push(`${reporter.style("red", reporter.style("bold", "error"))}: ${error.message}`);
    for (let cause = error.cause; cause !== undefined && cause !== null; cause = (cause as Error).cause) {
      const text = cause instanceof Error ? cause.message : String(cause);
      if (text !== "" && !error.message.includes(text)) lines.push(`  ${reporter.style("bold", "caused by")}: ${text}`);
      if (!(cause instanceof Error)) break;
    }
    if (error.hint !== undefined) lines.push("", `${reporter.style("cyan", reporter.style("bold", "hint"))}: ${error.hint}`);
    if (debug && error.stack !== undefined) lines.push("", error.stack);
    return lines.join("\n");
  }
  const err = error instanceof Error ? error : new Error(String(error));
  lines.push(`${reporter.style("red", reporter.style("bold", "error"))}: unexpected failure: ${err.message}`);
  lines.push("", "This is a bug in mpip. Please report it with the command you ran and this trace:", err.stack ?? String(err));
  return lines.join("\n");
}

export function renderSummary(report: InstallReport, seconds: number, reporter: Reporter): string {
  const count = report.packages.length;
  const lines = [`Installed ${count} package${count === 1 ? "" : "s"} into \`${report.target}\` in ${seconds.toFixed(2)}s`];
  for (const pkg of report.packages) {
    lines.push(` ${reporter.style("green", "+")} ${reporter.style("bold", pkg.name)}${pkg.version === "" ? "" : `==${pkg.version}`} ${reporter.style("dim", `(from ${pkg.source})`)}`);
  }
  return lines.join("\n");
}

export function jsonReport(report: InstallReport): string {
  return JSON.stringify({ ok: true, ...report }, null, 2);
}

export function jsonFailure(error: unknown): string {
  const failure = error instanceof MpipError
    ? { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }
    : { code: "bug", message: error instanceof Error ? error.message : String(error) };
  return JSON.stringify({ ok: false, error: failure }, null, 2);
}
