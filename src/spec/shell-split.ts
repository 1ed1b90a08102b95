// A spec the shell has split into several arguments: `mpip install fmt '>=1.0'`, `fmt >= 1.0` (spaces
// around the operator), `fmt '<2'` after `fmt>=1.0,`, `fmt 1.0`. Each piece after the name is an argument
// of its own, and the first of them is no spec at all. Found before anything is parsed, so the error says
// what happened (and shows the spec quoted whole) instead of "expected a package name".

import { readlinkSync, fstatSync } from "node:fs";
import { basename, dirname } from "node:path";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { isPep440Version } from "../versions.js";
import { retypedCommand } from "../typed-command.js";

/** How the tail of a PEP 508 requirement or a mip spec begins: a version operator, `@`, `,`, extras, a marker, `(`. */
const SPEC_TAIL = /^\s*(===|==|!=|~=|<=|>=|<|>|@|,|;|\[|\()/;
/**
 * A PEP 440 version and nothing else, in any of its spellings (`1`, `v1`, `1.0`, `2.0.post1`, `1!2`,
 * `1.0rc1`, `1.0-1`, `1.0.DEV`, `1.0+local`): after a name, the version part of a spec the shell split.
 */
export function isBareVersion(text: string): boolean {
  return /^[vV]?\d\S*$/.test(text) && isPep440Version(text);
}

/**
 * A bare version that cannot be taken for a project's name after another name: one with a dot between
 * release numbers (`1.0`, `v1.2.3`, `1.0.post1`), an epoch or a local label (`1!2`, `1+x`, which no name
 * holds). One number with or without a label (`1`, `v2`, `3rc1`) is a valid name that an index may have
 * (PEP 508 names start with a letter or digit): it is asked for, and named in a hint only if no index has
 * it (versionNotFoundHint).
 */
function isSurelyVersion(text: string): boolean {
  return isBareVersion(text) && (/^[vV]?(\d+!)?\d+\.\d/.test(text) || /[!+]/.test(text));
}
/** A bare project name (PEP 508), which a split-off piece would have belonged to. */
const BARE_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** Ends in an operator, a comma or a marker's `;`: the piece after it belongs to the same spec. */
const OPEN_END = /(===|==|!=|~=|<=|>=|<|>|@|,|;)\s*$/;

/** Whether `text` opens more `[` or `(` than it closes (`fmt[`, `fmt; (python_version`): the spec goes on. */
function unclosed(text: string): boolean {
  const count = (char: string) => text.split(char).length - 1;
  return count("[") > count("]") || count("(") > count(")");
}

/**
 * Looks through the specs typed on the command line, in order, for one the shell split: an argument that
 * is the tail of a spec (`>=1.0`, `@1.2`, `,<2`, `[extra]`, `; marker`), or a bare version right after a
 * bare name (`fmt 1.0`; when stdout goes to a file named `=` (`stdoutPath`), that was `fmt >= 1.0`, said
 * so). Specs read from a `-r` file are not split by a shell and are not looked at.
 * @throws MpipError `bad-spec` (a usage error, exit 2): what the argument is, and the spec quoted whole
 *   as the hint's example (PEP 508 for `name op version`, the form the user was writing).
 */
export function checkShellSplit(args: readonly string[], stdoutPath?: string): void {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const previous = index > 0 ? args[index - 1] : undefined;
    const named = previous !== undefined && BARE_NAME.test(previous) ? previous : undefined;
    // `'fmt>=1.0,' '<2'`: the piece before is a spec left open, which this one continues.
    const begun = named ?? (previous !== undefined && OPEN_END.test(previous) && !SPEC_TAIL.test(previous) ? previous : undefined);
    if (SPEC_TAIL.test(arg)) {
      const { text: whole, pieces } = joined(args, index, begun);
      const from = begun === undefined ? pieces : [begun, ...pieces];
      throw new MpipError("bad-spec", `\`${printable(arg, 80)}\` is not a package spec: it is the version or marker part of one, without the package's name`, {
        hint: begun === undefined
          ? `a spec starts with the package's name, all in one argument: \`${retyped(from, `NAME${arg.trim()}`)}\``
          : `the shell passed \`${printable(begun, 80)}\` and \`${printable(arg, 80)}\` as separate arguments: quote the whole spec as one, \`${retyped(from, whole)}\``,
      });
    }
    if (named !== undefined && isBareVersion(arg) && !isBareVersion(named)) {
      // `fmt >= 1.0` unquoted: the shell redirected stdout to a file named `=` and passed `fmt` and `1.0`.
      // That file settles it, even for `fmt >= 1`; without it, `1` may be a project.
      const redirect = stdoutPath === undefined ? undefined : REDIRECT_OPERATOR_FILE.exec(basename(stdoutPath))?.[0];
      if (redirect === undefined && !isSurelyVersion(arg)) continue;
      if (redirect !== undefined) {
        throw new MpipError("bad-spec", `the output goes to a file named \`${redirect}\` (in \`${printable(dirname(stdoutPath!), 200)}\`) and \`${printable(arg, 80)}\` came as a package of its own: the shell took \`>${redirect}\` for a redirect, splitting the spec`, {
          hint: `quote the whole spec as one argument, \`${retyped([named, arg], `${named}>${redirect}${arg}`)}\`, and remove the empty file the shell made`,
        });
      }
      throw new MpipError("bad-spec", `\`${printable(arg, 80)}\` looks like a version, not a package name`, { hint: quoteHint(named, arg) });
    }
  }
}

function quoteHint(named: string, version: string): string {
  return `to ask for \`${printable(named, 80)}\` at that version, write name and version as one argument: \`${retyped([named, version], `${named}==${version.replace(/^v/i, "")}`)}\` (or mip's \`${printable(named, 80)}@${printable(version, 80)}\`)`;
}

/**
 * `mpip install fmt 1` where no index has a project `1`: checkShellSplit let `1` through as a name (one
 * number is a valid one), and `error` (a `not-found`) names it. The same error, with a hint that `1`
 * looks like a version split from `fmt`'s spec and how to quote it; any other error as it is.
 */
export function versionNotFoundHint(error: unknown, args: readonly string[]): unknown {
  if (!(error instanceof MpipError) || error.code !== "not-found") return error;
  for (let index = 1; index < args.length; index++) {
    const arg = args[index]!;
    const named = args[index - 1]!;
    if (!isBareVersion(arg) || !BARE_NAME.test(named) || isBareVersion(named)) continue;
    if (!error.message.includes(`package \`${printable(arg)}\``)) continue;
    return new MpipError(error.code, error.message, { cause: error.cause, hint: [...error.hintLines, `\`${printable(arg, 80)}\` looks like a version: ${quoteHint(named, arg)}`] });
  }
  return error;
}

/** A file the shell created for `>=` typed unquoted with spaces around it (`fmt >= 1.0`): `=`, or `==` for `>==`. */
const REDIRECT_OPERATOR_FILE = /^==?$/;

/** A file the shell created for `>=1.0` (or `>=1.0,<2`) typed unquoted: `=` and a version. */
const REDIRECTED_VERSION = /^==?\s*v?\d/i;

/**
 * `mpip install fmt>=1.0` or `fmt>1.0`, unquoted: the shell takes `>=1.0` (`>1.0`) for a redirect of stdout
 * to a file named `=1.0` (`1.0`), and mpip is given only `fmt`, so it would install whatever version is
 * newest, even the one the spec left out. Where the system says which file stdout goes to (Linux's
 * /proc/self/fd/1), a regular file named `=` and a version, or named as a bare version (`1.0`, `2`,
 * `1.0rc1`) while a spec was typed, gives it away. `stdoutPath` is that file's path, or undefined when it
 * cannot be known.
 * @throws MpipError `bad-spec` (a usage error, exit 2), with the typed command and the spec quoted whole as
 *   the hint's example: after the one name typed, or the last of several (the hint says to move it).
 */
export function checkRedirectedVersion(specs: readonly string[], stdoutPath: string | undefined): void {
  if (stdoutPath === undefined) return;
  const file = basename(stdoutPath);
  if (!REDIRECTED_VERSION.test(file) && !(specs.length > 0 && isBareVersion(file))) return;
  const names = specs.filter((spec) => BARE_NAME.test(spec));
  const name = names.at(-1);
  const example = name === undefined ? `\`${retyped([], `NAME>${file}`)}\`` : `\`${retyped([name], `${name}>${file}`)}\``;
  const which = names.length > 1 ? ` (shown after \`${printable(name!, 80)}\`, the last name typed: put it after the name it belongs to)` : "";
  throw new MpipError("bad-spec", `the output goes to a file named \`${printable(file, 80)}\` (in \`${printable(dirname(stdoutPath), 200)}\`): the shell took \`>${printable(file, 80)}\` for a redirect, so the version part of a spec never reached mpip`, {
    hint: `quote the whole spec as one argument, ${example}${which}, and remove the empty file the shell made`,
  });
}

/** Where stdout goes, when it is a regular file and the system can say which (Linux); else undefined. */
export function stdoutFilePath(): string | undefined {
  try {
    if (!fstatSync(1).isFile()) return undefined;
    return readlinkSync("/proc/self/fd/1");
  } catch {
    return undefined;
  }
}

/**
 * The spec as the user meant it: the name, this piece, and the pieces after it that continue it; and the
 * arguments it was typed as, from this piece on.
 */
function joined(args: readonly string[], index: number, name: string | undefined): { text: string; pieces: string[] } {
  let text = `${name ?? ""}${args[index]!.trim()}`;
  const pieces = [args[index]!];
  for (let next = index + 1; next < args.length && (OPEN_END.test(text) || unclosed(text) || SPEC_TAIL.test(args[next]!)); next++) {
    text += args[next]!.trim();
    pieces.push(args[next]!);
  }
  return { text, pieces };
}

/**
 * The command typed, with the arguments `from` replaced by `spec` in single quotes, as one argument
 * (typed-command.ts), escaped for the terminal; `mpip install 'SPEC'` when the command line is not known.
 */
function retyped(from: readonly string[], spec: string): string {
  return printable(retypedCommand(from, [`'${spec.replace(/'/g, "'\\''")}'`]), 400);
}
