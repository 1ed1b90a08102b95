// What the commands that read a target (`list`, `show`, `freeze`, `manifest`) share: the target they
// default to (install's), running a body with its failure reported as every command reports one, the
// record's warnings on stderr, and aligned columns on stdout (every cell escaped: names, versions and
// paths come from files anyone may have written).

import { defaultTarget } from "../defaults.js";
import { Reporter, type Text } from "../log.js";
import { printable } from "../text.js";
import { reportFailure } from "../usage.js";

export interface ReadFlags {
  target?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
}

/** The target a command reads: `-p`, else where `mpip install` puts packages by default. */
export function targetOf(flags: ReadFlags): string {
  return flags.target ?? defaultTarget(process.env);
}

/** Runs `body` with a Reporter for stderr; a failure is printed uv-style (and as JSON with --json). */
export async function guardedRead(flags: ReadFlags, body: (reporter: Reporter) => Promise<number>): Promise<number> {
  const reporter = new Reporter({ verbosity: flags.quiet === true ? "quiet" : flags.verbose === true ? "verbose" : "normal" });
  try {
    return await body(reporter);
  } catch (error) {
    return reportFailure(error, reporter, { json: flags.json === true, debug: flags.debug === true });
  }
}

/** The command's result, on stdout: escaped and coloured as stdout allows. */
export function stdoutReporter(): Reporter {
  return new Reporter({ stream: "stdout", progress: false });
}

/**
 * Columns padded to their widest cell, the first row a header underlined with dashes; `right` says which
 * columns are numbers (aligned right).
 */
export function table(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): Text[] {
  const cells = rows.map((row) => row.map((cell) => printable(cell, 120)));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, [...cell].length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => {
        const pad = " ".repeat(widths[index]! - [...cell].length);
        return right.has(index) ? pad + cell : index === row.length - 1 ? cell : cell + pad;
      })
      .join("  ");
  const [header, ...body] = cells;
  if (header === undefined) return [];
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...body.map(line)];
}
