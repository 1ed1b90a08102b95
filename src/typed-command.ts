// The command line as the user typed it, for hints that offer it back corrected (a spec quoted whole, a
// file given with `-r` or `--lock`): the corrected command keeps every other word typed (`-p image`,
// `-i URL`), each written so that a POSIX shell reads it back, instead of a bare `mpip install ...`
// that would drop them.

import { shellWord } from "./shell-words.js";

/** The arguments after `mpip` (the command's name first), once the command line is known. */
let typed: readonly string[] | undefined;

/** Remembers `args`, the words after `mpip` (`["install", "-p", "image", "fmt", ">=1.0"]`), for retypedCommand. */
export function rememberTypedCommand(args: readonly string[]): void {
  typed = [...args];
}

/**
 * The typed command with the run of arguments `words` (consecutive, in order; the last such run) replaced
 * by `by`, words written as the hint wants them read (`'fmt>=1.0'`, `-r requirements.txt`): every other
 * word is shell-quoted (shellWord). Without a remembered command, or when `words` is no run of it (they
 * came from a file, or from a test calling the check directly): `mpip ${fallback}` followed by `by`.
 * The result is plain text: callers pass it through `printable` as any text shown.
 */
export function retypedCommand(words: readonly string[], by: readonly string[], fallback = "install"): string {
  const args = typed;
  const at = args === undefined || words.length === 0 ? -1 : lastRun(args, words);
  if (args === undefined || at < 0) return ["mpip", fallback, ...by].join(" ");
  return ["mpip", ...args.slice(0, at).map(shellWord), ...by, ...args.slice(at + words.length).map(shellWord)].join(" ");
}

function lastRun(args: readonly string[], words: readonly string[]): number {
  for (let at = args.length - words.length; at >= 0; at--) {
    if (words.every((word, offset) => args[at + offset] === word)) return at;
  }
  return -1;
}

/**
 * The typed command with `by` added at its end, or before a `--` typed (after it, `--lock FILE` would be
 * read as a spec), words written as the hint wants them read, every typed word shell-quoted; without a
 * remembered command, `mpip ${fallback}` followed by `by`. Plain text, as retypedCommand's.
 */
export function typedCommandWith(by: readonly string[], fallback = "install"): string {
  if (typed === undefined) return ["mpip", fallback, ...by].join(" ");
  const end = typed.indexOf("--");
  const at = end < 0 ? typed.length : end;
  return ["mpip", ...typed.slice(0, at).map(shellWord), ...by, ...typed.slice(at).map(shellWord)].join(" ");
}
