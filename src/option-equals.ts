// Options written with `=` where commander reads them otherwise than the user meant.
//
// - A short option that takes a value, written `-p=DIR` (or in a group, `-qp=DIR`): Python's argparse
//   reads the value after the `=`. commander takes the `=` into the value, and `mpip install -p=image pkg`
//   installed into a folder named `=image`, beside the one meant. (pip parses with optparse, which does
//   the same as commander: `pip install -t=DIR` installs into `=DIR`.) Here the word is split as
//   `-p DIR` before commander reads it, as argparse reads it.
// - An option that takes no value, given one (`-U=1`, `--upgrade=1`, `--no-deps=yes`): commander reported
//   an unknown option (`-=1` for the short form, which is not what was typed; pip says the same, `no such
//   option: -=`). Here it is a usage error that names the option and says it takes no value, as pip says
//   of `--upgrade=1` ("--upgrade option does not take a value") and argparse of both.
//
// The command whose options apply is followed through the words as commander follows it: the first
// operand of a command that has commands (an option's value is no operand) names the next one. Words
// after `--`, words after an operand that names no command, and options the command does not have, are
// left to commander.

import type { Command, Option } from "commander";
import { MpipError } from "./errors.js";
import { printable } from "./text.js";

/** Whether `option` reads a value (`-p <dir>`, `--mpy [n]`). */
function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/**
 * `command`'s option written `flag` (`-p`, `--target`), its help option (`-h`, `--help`, which commander
 * keeps apart from `options`) included; undefined for any other (unknown).
 */
function findOption(command: Command, flag: string): Option | undefined {
  const named = (option: Option) => option.short === flag || option.long === flag;
  return command.options.find(named) ?? command.createHelp().visibleOptions(command).find(named);
}

/**
 * `args` (the words after `mpip`) with each short option that takes a value written `-X=VALUE` split
 * into `-X` and `VALUE` (see the top of this file). Throws MpipError("usage") for an option that takes
 * no value written with `=VALUE`, short or long.
 */
export function splitOptionEquals(program: Command, args: readonly string[]): string[] {
  const read = readOptions(program, args);
  if (read.problem !== undefined) throw read.problem;
  return read.words;
}

/**
 * The options given in `args` (the words after `mpip`), as commander will read them: each by its long
 * name where it has one (`-qv` gives `--quiet`, `--verbose`), never a word that is an option's value
 * (`-p --json`: `--json` is the folder) or that follows `--`. Where the words leave the commands mpip
 * knows (an unknown command), each later word that looks like a long option counts as one, since nothing
 * says otherwise. `command`: the command the words name, however deep (`cache info`), or the program.
 * For what a failure is reported as before the command runs (`--json`, `--debug`), whether or not the
 * rest of the words parse; never throws.
 */
export function optionsGiven(program: Command, args: readonly string[]): { flags: ReadonlySet<string>; command: Command } {
  const { flags, command } = readOptions(program, args);
  return { flags, command };
}

interface ReadOptions {
  words: string[];
  flags: Set<string>;
  command: Command;
  /** The first option given a value it does not take. */
  problem?: MpipError;
}

/** The walk both functions above make through the words, as commander makes it. */
function readOptions(program: Command, args: readonly string[]): ReadOptions {
  const read: ReadOptions = { words: [], flags: new Set(), command: program };
  const result = read.words;
  const given = (option: Option | undefined, flag: string) => read.flags.add(option?.long ?? option?.short ?? flag);
  let command = program;
  let skipValue = false;
  for (let index = 0; index < args.length; index++) {
    const word = args[index]!;
    // An option's value first, whatever it is: `-p -- -p=DIR` has commander read `--` as the folder and
    // `-p=DIR` as an option.
    if (skipValue) {
      skipValue = false;
      result.push(word);
      continue;
    }
    if (word === "--") {
      result.push(...args.slice(index));
      break;
    }
    if (word.startsWith("--")) {
      const equals = word.indexOf("=");
      const flag = equals < 0 ? word : word.slice(0, equals);
      const option = findOption(command, flag);
      given(option, flag);
      if (option !== undefined && !takesValue(option) && equals >= 0) read.problem ??= noValue(command, option, flag, word);
      skipValue = option !== undefined && option.required && equals < 0;
      result.push(word);
      continue;
    }
    if (word.startsWith("-") && word.length > 1) {
      const group = splitShortGroup(command, word);
      for (const option of group.options) given(option, "");
      if (group.problem !== undefined) read.problem ??= group.problem;
      result.push(...group.words);
      skipValue = group.valueNext;
      continue;
    }
    // A command with commands of its own is followed only into the one its first operand names, as
    // commander dispatches; any other operand there is an unknown command (`mpip instal install -U=1`),
    // which commander reports, and the words after it belong to no command read here.
    if (command.commands.length > 0) {
      const sub = command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
      if (sub === undefined) {
        const rest = args.slice(index);
        const end = rest.indexOf("--");
        for (const later of end < 0 ? rest : rest.slice(0, end)) if (later.startsWith("--") && later.length > 2) read.flags.add(later.split("=")[0]!);
        result.push(...rest);
        break;
      }
      command = sub;
    }
    result.push(word);
  }
  read.command = command;
  return read;
}

/**
 * One word of short options (`-qp=DIR`), split where a value-taking option is followed by `=`;
 * `valueNext`: the next word is the value of its last option (`-qp DIR`); `options`: those it gives, as
 * far as they are known; `problem`: an option that takes no value given one (`-U=1`).
 */
function splitShortGroup(command: Command, word: string): { words: string[]; valueNext: boolean; options: Option[]; problem?: MpipError } {
  const options: Option[] = [];
  for (let at = 1; at < word.length; at++) {
    const option = findOption(command, `-${word[at]}`);
    if (option === undefined) return { words: [word], valueNext: false, options }; // commander says what is unknown
    options.push(option);
    const next = word[at + 1];
    if (takesValue(option)) {
      if (next === "=") return { words: [word.slice(0, at + 1), word.slice(at + 2)], valueNext: false, options };
      return { words: [word], valueNext: next === undefined && option.required, options };
    }
    if (next === "=") return { words: [word], valueNext: false, options, problem: noValue(command, option, `-${word[at]}`, word) };
  }
  return { words: [word], valueNext: false, options };
}

function noValue(command: Command, option: Option, flag: string, word: string): MpipError {
  const names = [option.short, option.long].filter((name): name is string => name !== undefined).map((name) => `\`${name}\``).join(", ");
  const path: string[] = [];
  for (let at: Command | null = command; at !== null && at.parent !== null; at = at.parent) path.unshift(at.name());
  const usage = `mpip${path.map((name) => ` ${name}`).join("")} --help`;
  return new MpipError("usage", `option ${names} takes no value, but \`${printable(word)}\` gives it one`, {
    hint: `give \`${flag}\` alone; \`${usage}\` shows its usage and options`,
  });
}
