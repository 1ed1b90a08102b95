// Everything mpip tells a person goes through one Reporter, so that -q, -v, --json, NO_COLOR and
// "is this a terminal?" are decided in one place. Messages go to stderr; stdout is kept for --json.
// What it is given is Text (src/text.ts), never raw terminal output: every string is escaped as it is
// written, each line is a separate value, and the only escape sequences are mpip's own (its styles, and
// the progress line's carriage return and erase). A caller cannot forget to escape a name from an index.

import { redactSecrets } from "./secrets.js";
import { mayBeTerminal, writeStandard, type StandardStream } from "./standard-streams.js";
import { escapeControls, plainText, renderText, styled, type Text } from "./text.js";

export type { Style, Text } from "./text.js";
export { styled } from "./text.js";

export type Verbosity = "quiet" | "normal" | "verbose";

export interface ReporterOptions {
  verbosity?: Verbosity;
  /** Where to write: a stream, or stdout or stderr by name (written through standard-streams.ts). Default: "stderr". */
  stream?: NodeJS.WriteStream | StandardStream;
  color?: boolean;
  /** Show a live progress line (only ever on a terminal). */
  progress?: boolean;
}

/**
 * Whether to style text written to `stream` (a stream, or what is known of it), by NO_COLOR, FORCE_COLOR
 * and TERM. FORCE_COLOR is read as Node reads it (tty.getColorDepth): empty, `1`, `true`, `2` or `3`
 * turn colour on wherever the text goes; any other value (`0`, `false`) turns it off, on a terminal too.
 */
export function colorWanted(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined) return ["", "1", "true", "2", "3"].includes(env.FORCE_COLOR);
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** Erases the terminal's current line and returns to its start: the progress line's own control. */
const ERASE_LINE = "\r\u001b[2K";

export class Reporter {
  readonly verbosity: Verbosity;
  private readonly options: ReporterOptions;
  private progressShown = false;
  /** The last status given to `progress`, and the notes that stand in front of it (newest last). */
  private status: Text | undefined;
  private readonly notes = new Map<string, Text>();
  /** Every warning given, as plain unescaped text (the --json report escapes it as JSON). */
  readonly warnings: string[] = [];

  constructor(options: ReporterOptions = {}) {
    this.options = options;
    this.verbosity = options.verbosity ?? "normal";
  }

  /** The stream given, or the name of the standard one. */
  private get target(): NodeJS.WriteStream | StandardStream {
    return this.options.stream ?? "stderr";
  }

  /** Whether it writes to a terminal: asked only when something is written or drawn (see `output`). */
  private terminalDecided: boolean | undefined;
  private get terminal(): boolean {
    const target = this.target;
    return (this.terminalDecided ??= typeof target === "string" ? mayBeTerminal(target) && process[target].isTTY === true : target.isTTY === true);
  }

  private colorDecided: boolean | undefined;
  private get color(): boolean {
    return (this.colorDecided ??= this.options.color ?? colorWanted({ isTTY: this.terminal }));
  }

  private progressDecided: boolean | undefined;
  private get progressEnabled(): boolean {
    return (this.progressDecided ??= (this.options.progress ?? true) && this.verbosity !== "quiet" && this.terminal);
  }

  /**
   * Writes to the stream given, or to stdout or stderr through standard-streams.ts, which makes no stream
   * object for a pipe or a file: a run that prints nothing (`install -q`) never makes one, and one that
   * prints to a CI log does not pay for it (3-8 ms).
   */
  private output(text: string): void {
    const target = this.target;
    if (typeof target === "string") writeStandard(target, text);
    else target.write(text);
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
    const target = this.target;
    const width = ((typeof target === "string" ? process[target] : target).columns || 80) - 1;
    // Cut after escaping (escaping again changes nothing), so that no cut splits an escape or a style.
    const line = escapeControls(redactSecrets(plainText(message))).slice(0, width);
    this.output(`${ERASE_LINE}${renderText(styled("cyan", line), this.color)}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.output(ERASE_LINE);
    this.progressShown = false;
  }

  /** Lines shown whatever the verbosity (errors, a signal's notice): one argument per line. */
  write(...lines: Text[]): void {
    this.clearProgress();
    this.output(lines.map((line) => `${renderText(line, this.color)}\n`).join(""));
  }
}
