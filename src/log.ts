// Everything mpip tells a person goes through one Reporter, so that -q, -v, --json, NO_COLOR and
// "is this a terminal?" are decided in one place. Messages go to stderr; stdout is kept for --json.

export type Verbosity = "quiet" | "normal" | "verbose";

export interface ReporterOptions {
  verbosity?: Verbosity;
  stream?: NodeJS.WriteStream;
  color?: boolean;
  /** Show a live progress line (only ever on a terminal). */
  progress?: boolean;
}

const codes = { bold: [1, 22], red: [31, 39], yellow: [33, 39], green: [32, 39], cyan: [36, 39], dim: [2, 22] } as const;
export type Style = keyof typeof codes;

export function colorWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export class Reporter {
  readonly verbosity: Verbosity;
  private readonly stream: NodeJS.WriteStream;
  private readonly color: boolean;
  private readonly progressEnabled: boolean;
  private progressShown = false;
  readonly warnings: string[] = [];

  constructor(options: ReporterOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.verbosity = options.verbosity ?? "normal";
    this.color = options.color ?? colorWanted(this.stream);
    this.progressEnabled = (options.progress ?? true) && this.stream.isTTY === true && this.verbosity !== "quiet";
  }

  style(style: Style, text: string): string {
    if (!this.color) return text;
    const [open, close] = codes[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  /** Normal output: what was resolved and installed. Silent with -q. */
  info(message: string): void {
    if (this.verbosity !== "quiet") this.write(message);
  }

  /** Detail for -v: each request, each decision. */
  detail(message: string): void {
    if (this.verbosity === "verbose") this.write(this.style("dim", message));
  }

  /** Warnings are shown even with -q: they are about the result, not the progress. */
  warn(message: string): void {
    this.warnings.push(message);
    this.write(`${this.style("yellow", this.style("bold", "warning"))}: ${message}`);
  }

  /** A transient status line, redrawn in place on a terminal and never printed elsewhere. */
  progress(message: string): void {
    if (!this.progressEnabled) return;
    const width = (this.stream.columns ?? 80) - 1;
    this.stream.write(`\r\u001b[2K${this.style("cyan", message.slice(0, width))}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write("\r\u001b[2K");
    this.progressShown = false;
  }

  /** Raw text (already styled), e.g. a rendered error. */
  write(text: string): void {
    this.clearProgress();
    this.stream.write(text.endsWith("\n") ? text : `${text}\n`);
  }
}
