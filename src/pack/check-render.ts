// How `mpip check` shows its results: one line per check with its status, the reasons indented below,
// and the JSON document CI reads. Glyphs (✓ ✗ !) on a terminal, words (PASS FAIL WARN SKIP) elsewhere.

import type { Reporter, Style } from "../log.js";
import type { ArchiveReport, CheckStatus } from "./check.js";

const MARKS: Record<CheckStatus, { glyph: string; word: string; style: Style }> = {
  pass: { glyph: "✓", word: "PASS", style: "green" },
  warn: { glyph: "!", word: "WARN", style: "yellow" },
  fail: { glyph: "✗", word: "FAIL", style: "red" },
  skip: { glyph: "-", word: "SKIP", style: "dim" },
};

export function renderCheckReport(report: ArchiveReport, reporter: Pick<Reporter, "style">, glyphs: boolean): string {
  const lines = [`${reporter.style("bold", report.archive)}: ${report.ok ? reporter.style("green", "ok") : reporter.style("red", "fails")}`];
  for (const check of report.checks) {
    const mark = MARKS[check.status];
    lines.push(`  ${reporter.style(mark.style, glyphs ? mark.glyph : mark.word)} ${check.id}: ${check.message}`);
    for (const detail of check.details) lines.push(`      ${detail}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One line naming the failed checks of each failing archive, for the closing error. */
export function failureSummary(reports: ArchiveReport[]): string {
  return reports
    .filter((report) => !report.ok)
    .map((report) => `\`${report.archive}\`: ${report.checks.filter((check) => check.status === "fail").map((check) => check.id).join(", ")}`)
    .join("; ");
}

export function checkJson(reports: ArchiveReport[]): string {
  return JSON.stringify({ ok: reports.every((report) => report.ok), archives: reports }, null, 2);
}
