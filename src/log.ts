// Everything mpip tells a person goes through one Reporter, so that -q, -v, --json, NO_COLOR and
// "is this a terminal?" are decided in one place. Messages go to stderr; stdout is kept for --json.
// What it is given is Text (src/text.ts), never raw terminal output: every string is escaped as it is
// written, each line is a separate value, and the only escape sequences are mpip's own (its styles, and
// the progress line's carriage return and erase). A caller cannot forget to escape a name from an index.

import { redactSecrets } from "./secrets.js";
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
  /** The last status given to `progress`, and the notes that stand in front of it (newest last). */
  private status: Text | undefined;
  private readonly notes = new Map<string, Text>();
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

  /**
   * A transient status line, redrawn in place on a terminal and never printed elsewhere. While a note is
   * up (`progressNote`: a request being retried), the note is shown and this status waits behind it.
   */
  progress(message: Text): void {
    this.status = message;
    this.drawProgress();
  }

  /**
   * A note that takes over the progress line while something out of the ordinary lasts (a request being
   * retried: which URL, which attempt), keyed so that concurrent ones come and go on their own: `text`
   * sets or replaces the note under `key`, `undefined` takes it down. The newest note shows; when the
   * last is down, the status line (`progress`) comes back.
   */
  progressNote(key: string, text: Text | undefined): void {
    const shown = this.notes.delete(key) && this.progressShown;
    if (text !== undefined) this.notes.set(key, text);
    // Taking a note down redraws only a line still on screen: once cleared (an error printed), it stays so.
    if (text !== undefined || shown) this.drawProgress();
  }

  private drawProgress(): void {
    if (!this.progressEnabled) return;
    const message = [...this.notes.values()].at(-1) ?? this.status;
    if (message === undefined) return this.clearProgress();
    // A terminal that reports no width (0) is taken as 80 columns wide.
    const width = (this.stream.columns || 80) - 1;
    // Cut after escaping (escaping again changes nothing), so that no cut splits an escape or a style.
    const line = escapeControls(redactSecrets(plainText(message))).slice(0, width);
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
