// How mpip shows its results and failures: errors uv-style (`error:`, `caused by:`, `hint:`),
// readable without color; the install summary; and the JSON documents CI consumes. Renderers return
// lines of Text (src/text.ts), which the Reporter escapes and styles: text from an index, an archive or a
// library error is shown as it is, with its control characters escaped, and cannot start a line of its own.

import { MpipError } from "./errors.js";
import type { InstallReport } from "./install.js";
import { seconds, type RetryNotice } from "./http/retry.js";
import { redactSecrets } from "./secrets.js";
import { quantity, styled, type Text } from "./text.js";

const ERROR = styled("red", styled("bold", "error"));
/**
 * The most of a cause's message shown: a library's message may quote its input whole (a TOML parser
 * quotes the lines around the fault, which may be megabytes of one line in a hostile lock file).
 */
const MAX_CAUSE_CHARS = 1000;

export function renderError(error: unknown, debug: boolean): Text[] {
  const lines: Text[] = [];
  if (error instanceof MpipError) {
    lines.push([ERROR, ": ", error.message]);
    for (let cause = error.cause; cause !== undefined && cause !== null; cause = (cause as Error).cause) {
      const text = shortened(cause instanceof Error ? cause.message : String(cause));
      if (text !== "" && !error.message.includes(text)) lines.push(["  ", styled("bold", "caused by"), ": ", text]);
      if (!(cause instanceof Error)) break;
    }
    const [first, ...rest] = error.hintLines;
    if (first !== undefined) lines.push("", [styled("cyan", styled("bold", "hint")), ": ", first], ...rest);
    if (debug) lines.push("", ...stackLines(error));
    return lines;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  lines.push([ERROR, ": unexpected failure: ", err.message]);
  lines.push("", "This is a bug in mpip. Please report it with the command you ran and this trace:", ...stackLines(err));
  return lines;
}

/** `text`, or its start and how long it was when it is longer than MAX_CAUSE_CHARS. */
function shortened(text: string): string {
  if (text.length <= MAX_CAUSE_CHARS) return text;
  return `${text.slice(0, MAX_CAUSE_CHARS - 100)}… (cut: ${text.length} characters in all)`;
}

/**
 * A stack trace, one Text per line. Its first line repeats the message, which may hold newlines of
 * its own: that part stays one line, and only the frames below it are split.
 */
function stackLines(error: Error): Text[] {
  const stack = error.stack ?? `${error.name}: ${error.message}`;
  const header = `${error.name}: ${error.message}`;
  if (!stack.startsWith(header)) return [stack];
  const frames = stack.slice(header.length).split("\n").filter((line) => line !== "");
  return [header, ...frames];
}

/** The progress line while a request waits to be tried again: which attempt comes, and why (its URL included). */
export function retryNote(notice: RetryNotice): Text {
  return `Retrying (attempt ${notice.attempt} of ${notice.attempts}, after a ${seconds(notice.waitMs)} wait): ${notice.error.message}`;
}

/**
 * A stopwatch started now: each call of the function returned gives the seconds since. Read from
 * process.hrtime, as `performance.now()` would be: the global `performance` loads node:perf_hooks and
 * eight modules behind it (~3 ms) at its first use, for a run that wants one duration.
 */
export function stopwatch(): () => number {
  const started = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - started) / 1e9;
}

export function renderSummary(report: InstallReport, seconds: number): Text[] {
  // The headline counts what the run adds or replaces; packages the target already satisfies are counted apart.
  const already = report.packages.filter((pkg) => pkg.alreadyInstalled === true).length;
  const count = report.packages.length - already;
  const what = quantity(count, "package");
  const dry = report.dryRun === true ? " (dry run: nothing was changed)" : "";
  // `mpip sync`'s removals are counted too.
  const dropped = (report.uninstalled ?? []).length;
  const removing = dropped === 0 ? "" : `; ${report.dryRun === true ? "would remove" : "removed"} ${quantity(dropped, "package")} not in the lock`;
  const lines: Text[] = [(count === 0
    ? `Nothing to install: ${already === 0 ? "no packages" : `${quantity(already, "package")} already installed`} in \`${report.target}\``
    : (report.dryRun === true
      ? `Would install ${what} into \`${report.target}\``
      : `Installed ${what} into \`${report.target}\` in ${seconds.toFixed(2)}s`) + (already === 0 ? "" : ` (${already} already installed)`)) + removing + dry];
  for (const pkg of report.packages) {
    const replaced = pkg.alreadyInstalled === true ? " (already installed)" : pkg.replaced === undefined ? "" : ` (replacing ${pkg.replaced})`;
    // A package the target already holds came from nowhere this run: its source would be the target itself.
    const from = pkg.alreadyInstalled === true && pkg.source === report.target ? [] : [" ", styled("dim", `(from ${pkg.source})`)];
    lines.push([" ", styled("green", pkg.alreadyInstalled === true ? "=" : pkg.replaced === undefined ? "+" : "~"), " ", styled("bold", pkg.name), pkg.version === "" ? "" : `==${pkg.version}`, replaced, ...from]);
    if (report.dryRun === true) for (const file of pkg.files) lines.push(styled("dim", `     ${file}`));
  }
  for (const pkg of report.uninstalled ?? []) lines.push([" ", styled("red", "-"), " ", styled("bold", pkg.name), `==${pkg.version}`, " ", styled("dim", report.dryRun === true ? "(would be removed: not in the lock)" : "(removed: not in the lock)")]);
  const removed = report.removed ?? [];
  const whose = (report.uninstalled ?? []).length > 0 ? "of replaced versions and removed packages" : "of replaced versions";
  if (removed.length > 0) lines.push(`${report.dryRun === true ? "Would remove" : "Removed"} ${quantity(removed.length, "file")} ${whose}${report.dryRun === true ? ":" : ""}`);
  if (report.dryRun === true) for (const file of removed) lines.push([" ", styled("red", "-"), " ", file]);
  return lines;
}

/**
 * A JSON document for stdout. JSON.stringify escapes C0 characters and lone surrogates; this also
 * escapes DEL, C1 and the invisible and direction-changing characters printable() escapes, so that the
 * document shown on a terminal (or by a tool that prints it) cannot control it. The value is unchanged,
 * but for credentials, which are written `***` as everywhere else (secrets.ts).
 */
export function jsonDocument(value: unknown): string {
  return redactSecrets(JSON.stringify(value, null, 2)).replace(/[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function jsonReport(report: InstallReport): string {
  return jsonDocument({ ok: true, ...report });
}

export function jsonFailure(error: unknown): string {
  const failure = error instanceof MpipError
    ? { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }
    : { code: "bug", message: error instanceof Error ? error.message : String(error) };
  return jsonDocument({ ok: false, error: failure });
}
