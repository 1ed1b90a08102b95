// What every command does with a usage error, so that install, pack, repack and check agree: which errors
// are usage errors (exit 2) and which are failures (exit 1), how a failure is reported (on stderr, and as
// the `{"ok": false, ...}` document on stdout with --json, commander's own parse errors included), and the
// check that a path option was not given an empty value (an unset variable in a script).

import { CommanderError, InvalidArgumentError } from "commander";
import { MpipError } from "./errors.js";
import type { Reporter } from "./log.js";
import { jsonFailure, renderError } from "./render.js";

/** Exit codes: README "Exit codes". Signals exit 128 + their number (src/signals.ts). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * The one rule: exit 2 when the command cannot be run as given (error code `usage`: an option, a value,
 * a file or program an option names, nothing to do), or when a spec typed on the command line or in a
 * `-r` file is malformed (`bad-spec`, `bad-requirement`: `typed` says the error came from reading them).
 * Anything else (a package, an index, the network, the disk) is a failure: exit 1.
 */
export function exitCodeFor(error: unknown, typed = false): number {
  if (!(error instanceof MpipError)) return EXIT_FAILED;
  if (error.code === "usage") return EXIT_USAGE;
  return typed && (error.code === "bad-spec" || error.code === "bad-requirement") ? EXIT_USAGE : EXIT_FAILED;
}

/** Prints a failure (stderr; stdout too with `json`) and returns its exit code. */
export function reportFailure(error: unknown, reporter: Reporter, options: { json: boolean; debug: boolean; typed?: boolean }): number {
  if (options.json) process.stdout.write(`${jsonFailure(error)}\n`);
  reporter.write(...renderError(error, options.debug));
  return exitCodeFor(error, options.typed);
}

/** Whether `--json` is on the command line (before a `--`), whether or not the rest of it parses. */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).includes("--json");
}

/** commander's parse error (an unknown option or command, a bad or missing value) as mpip's usage error. */
export function usageError(error: CommanderError, command: string | undefined): MpipError {
  // commander words it "error: ...", sometimes with "(Did you mean --x?)" on a line of its own.
  const text = error.message.replace(/^error:\s*/, "");
  const suggestion = /\n\(Did you mean (.+)\?\)$/.exec(text);
  const message = suggestion === null ? text : `${text.slice(0, suggestion.index)} (did you mean ${suggestion[1]}?)`;
  const help = command === undefined ? "mpip --help" : `mpip ${command} --help`;
  return new MpipError("usage", error.code === "commander.help" ? "no command given" : message, { hint: `\`${help}\` shows ${command === undefined ? "the commands" : "its usage and options"}` });
}

/**
 * A path option's (or, without `option`, a path argument's) parser that refuses an empty value: `-p ""`
 * (an unset variable in a script) must not mean the current folder. commander names the option.
 */
export function nonEmpty(option?: string): (value: string) => string {
  return (value: string) => {
    if (value === "") throw new InvalidArgumentError(`${option ?? "It"} needs a path, not an empty value (is a variable in the command unset?)`);
    return value;
  };
}

/** A repeatable path option (`-r`, `-f`) or a variadic path argument: each value collected, none empty. */
export function collectNonEmpty(option?: string): (value: string, previous?: string[]) => string[] {
  const check = nonEmpty(option);
  return (value: string, previous: string[] = []) => [...previous, check(value)];
}

/**
 * Paths typed on the command line must name what the command needs before it starts: a missing file or
 * folder, or one of the wrong kind, is a usage error (exit 2) naming the path and where it was given.
 * @throws MpipError `usage`.
 */
export async function checkTypedPaths(paths: readonly string[], kind: "file" | "folder", given: string): Promise<void> {
  const { stat } = await import("node:fs/promises");
  const { printable } = await import("./text.js");
  for (const file of paths) {
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) {
      const why = info.code === "ENOENT" ? "there is nothing at that path" : `it cannot be read (${info.code ?? info.message})`;
      throw new MpipError("usage", `\`${printable(file)}\` (${given}): ${why}`, { hint: `check the path; it is relative to the current folder \`${printable(process.cwd())}\`` });
    }
    if (kind === "file" ? !info.isFile() : !info.isDirectory()) {
      throw new MpipError("usage", `\`${printable(file)}\` (${given}) is ${info.isDirectory() ? "a folder" : "not a regular file"}, where a ${kind} is needed`, { hint: kind === "file" ? "name the file itself" : "name a folder" });
    }
  }
}
