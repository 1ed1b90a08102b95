// Everything mpip tells a person goes through one Reporter, so that -q, -v, --json, NO_COLOR and
// "is this a terminal?" are decided in one place. Messages go to stderr; stdout is kept for --json.
// What it is given is Text (src/text.ts), never raw terminal output: every string is escaped as it is
// written, each line is a separate value, and the only escape sequences are mpip's own (its styles, and
// the progress line's carriage return and erase). A caller cannot forget to escape a name from an index.

import { escapeControls, plainText, renderText, styled, type Text } from "./text.js";

export type { Style, Text } from "./text.js";
export { styled } from "./text.js";

export type Verbosity = "quiet" | "normal" | "verbose";

export interface ReporterOptions {
  verbosity?: Verbosity;
  stream?: NodeJS.WriteStream;
  color?: boolean;
  /** Show a live progress line (only ever on a terminal). */
  progress?: boolean;
}

export function colorWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** Erases the terminal's current line and returns to its start: the progress line's own control. */
const ERASE_LINE = "\r\u001b[2K";

export class Reporter {
  readonly verbosity: Verbosity;
  private readonly stream: NodeJS.WriteStream;
  private readonly color: boolean;
  private readonly progressEnabled: boolean;
  private progressShown = false;
  /** Every warning given, as plain unescaped text (the --json report escapes it as JSON). */
  readonly warnings: string[] = [];

  constructor(options: ReporterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.verbosity = options.verbosity ?? "normal";
    this.color = options.color ?? colorWanted(this.stream);
    this.progressEnabled = (options.progress ?? true) && this.stream.isTTY === true && this.verbosity !== "quiet";
  }

  /** Normal output, one argument per line: what was resolved and installed. Silent with -q. */
  info(...lines: Text[]): void {
    if (this.verbosity !== "quiet") this.write(...lines);
  }

  /** Detail for -v, one argument per line: each request, each decision. */
  detail(...lines: Text[]): void {
    if (this.verbosity === "verbose") this.write(...lines.map((line) => styled("dim", line)));
  }

  /** One warning (a single line). Shown even with -q: it is about the result, not the progress. */
  warn(message: Text): void {
    this.warnings.push(plainText(message));
    this.write([styled("yellow", styled("bold", "warning")), ": ", message]);
  }

  /** A transient status line, redrawn in place on a terminal and never printed elsewhere. */
  progress(message: Text): void {
    if (!this.progressEnabled) return;
    const width = (this.stream.columns ?? 80) - 1;
    // Cut after escaping (escaping again changes nothing), so that no cut splits an escape or a style.
    const line = escapeControls(plainText(message)).slice(0, width);
    this.stream.write(`${ERASE_LINE}${renderText(styled("cyan", line), this.color)}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write(ERASE_LINE);
    this.progressShown = false;
  }

  /** Lines shown whatever the verbosity (errors, a signal's notice): one argument per line. */
  write(...lines: Text[]): void {
    this.clearProgress();
    this.stream.write(lines.map((line) => `${renderText(line, this.color)}\n`).join(""));
  }
}
