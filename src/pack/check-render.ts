// How `mpip check` shows its results: one line per check with its status, the reasons indented below,
// and the JSON document CI reads. Glyphs (✓ ✗ !) on a terminal, words (PASS FAIL WARN SKIP) elsewhere.
// Names and reasons come from the archive: they are Text, escaped by the Reporter that writes them.

import { styled, type Style, type Text } from "../log.js";
import { jsonDocument } from "../render.js";
import type { ArchiveReport, CheckStatus } from "./check.js";

const MARKS: Record<CheckStatus, { glyph: string; word: string; style: Style }> = {
  pass: { glyph: "✓", word: "PASS", style: "green" },
  warn: { glyph: "!", word: "WARN", style: "yellow" },
  fail: { glyph: "✗", word: "FAIL", style: "red" },
  skip: { glyph: "-", word: "SKIP", style: "dim" },
};

/** One archive's results, one Text per line. */
export function renderCheckReport(report: ArchiveReport, glyphs: boolean): Text[] {
  const lines: Text[] = [[styled("bold", report.archive), ": ", report.ok ? styled("green", "ok") : styled("red", "fails")]];
  for (const check of report.checks) {
    const mark = MARKS[check.status];
    lines.push(["  ", styled(mark.style, glyphs ? mark.glyph : mark.word), ` ${check.id}: ${check.message}`]);
    for (const detail of check.details) lines.push(`      ${detail}`);
  }
  return lines;
}

/** One line naming the failed checks of each failing archive, for the closing error. */
export function failureSummary(reports: ArchiveReport[]): string {
  return reports
    .filter((report) => !report.ok)
    .map((report) => `\`${report.archive}\`: ${report.checks.filter((check) => check.status === "fail").map((check) => check.id).join(", ")}`)
    .join("; ");
}

export function checkJson(reports: ArchiveReport[]): string {
  return jsonDocument({ ok: reports.every((report) => report.ok), archives: reports });
}
