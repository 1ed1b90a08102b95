// What every command does with a usage error, so that install, pack, repack and check agree: which errors
// are usage errors (exit 2) and which are failures (exit 1), how a failure is reported (on stderr, and as
// the `{"ok": false, ...}` document on stdout with --json, commander's own parse errors included), and the
// check that a path option was not given an empty value (an unset variable in a script).

import { CommanderError, InvalidArgumentError } from "commander";
import { MpipError } from "./errors.js";
import type { Reporter } from "./log.js";
import { jsonFailure, renderError } from "./render.js";
import { editDistance, printable } from "./text.js";
import { writeStandard } from "./standard-streams.js";

/** Exit codes: README "Exit codes". Signals exit 128 + their number (src/signals.ts). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * The one rule: exit 2 when the command cannot be run as given (error code `usage`: an option, a value,
 * a file or program an option names, nothing to do; `bad-lock`: the lock file it names), or when a spec typed on the command line or in a
 * `-r` file is malformed (`bad-spec`, `bad-requirement`: `typed` says the error came from reading them).
 * Anything else (a package, an index, the network, the disk) is a failure: exit 1.
 */
export function exitCodeFor(error: unknown, typed = false): number {
  if (!(error instanceof MpipError)) return EXIT_FAILED;
  // A lock file is named on the command line, as a -r file is: one mpip cannot read is the command's.
  if (error.code === "usage" || error.code === "bad-lock") return EXIT_USAGE;
  return typed && (error.code === "bad-spec" || error.code === "bad-requirement") ? EXIT_USAGE : EXIT_FAILED;
}

/** Prints a failure (stderr; stdout too with `json`) and returns its exit code. */
export function reportFailure(error: unknown, reporter: Reporter, options: { json: boolean; debug: boolean; typed?: boolean }): number {
  if (options.json) writeStandard("stdout", `${jsonFailure(error)}\n`);
  reporter.write(...renderError(error, options.debug));
  return exitCodeFor(error, options.typed);
}

/** What the parse error happened in: the command named (if any), its usage line, and every command mpip has. */
export interface ParseContext {
  /** `subcommands`: the words a command such as `cache` takes next (`dir`, `info`, `clean`). */
  command?: { name: string; usage: string; subcommands?: readonly string[] };
  commands: readonly string[];
  /** The position of the command's name among the arguments, where one was named. */
  commandAt?: number;
  /** The arguments parsed (after `node mpip`). */
  args?: readonly string[];
  /** The flags the named command takes (`-p`, `--target`, ...). */
  commandFlags?: readonly string[];
}

/**
 * commander's parse error (an unknown option or command, a bad or missing value) as mpip's usage error.
 * The hint points to the help of the command the error is about; a missing or extra argument also shows
 * that command's usage line. An unknown command is said to be one (see unknownCommand).
 */
export function usageError(error: CommanderError, context: ParseContext): MpipError {
  // commander words it "error: ...", sometimes with "(Did you mean --x?)" on a line of its own.
  const text = error.message.replace(/^error:\s*/, "");
  if (error.code === "commander.unknownCommand") {
    const typed = /^unknown command '(.*)'/.exec(text)?.[1];
    const { command } = context;
    if (typed !== undefined && command?.subcommands !== undefined && command.subcommands.length > 0) {
      const list = command.subcommands.map((name) => `\`${name}\``);
      const takes = list.length === 1 ? list[0]! : `${list.slice(0, -1).join(", ")} or ${list.at(-1)!}`;
      // A slip of the keyboard (`biuld`, `clen`) gets the look-alike, as a command's name does (unknownCommand).
      const near = command.subcommands.map((name) => ({ name, distance: editDistance(typed, name) })).filter(({ name, distance }) => distance <= (name.length <= 4 ? 1 : 2)).sort((a, b) => a.distance - b.distance)[0]?.name;
      return new MpipError("usage", `unknown command '${printable(typed, 40)}' for \`mpip ${command.name}\`${near === undefined ? "" : ` (did you mean ${near}?)`}`, {
        hint: `\`mpip ${command.name}\` takes ${takes}; \`mpip ${command.name} --help\` describes ${list.length === 1 ? "it" : "them"}`,
      });
    }
    if (typed !== undefined) return unknownCommand(typed, context.commands);
  }
  const { command } = context;
  const unknown = error.code === "commander.unknownOption" ? /^unknown option '(.*)'/.exec(text)?.[1] : undefined;
  // `mpip --json`, `mpip -p img`, `mpip -p img list`: an option before any command, which mpip itself does
  // not take.
  const before = unknown !== undefined && command !== undefined && context.commandAt !== undefined && (context.args ?? []).slice(0, context.commandAt).some((arg) => arg === unknown || arg.startsWith(`${unknown}=`));
  // An option after the command that means something to pip (`-t`, `--user`) or to another command (`sync -f`): said what mpip does instead.
  const advice = unknown === undefined || command === undefined || before ? undefined : unknownOptionAdvice(unknown.replace(/=.*$/s, ""), command.name, context.commandFlags ?? []);
  const suggestion = /\n\(Did you mean (.+)\?\)$/.exec(text);
  // commander's look-alike (`--index`: `--no-index`) gives way to what the option means.
  const said = suggestion === null ? text : text.slice(0, suggestion.index);
  // `-x=1`, `--bogus=1`: the option is `-x`, not the word (pip says "no such option: -x").
  const named = unknown !== undefined && /^-[^=]+=/s.test(unknown) ? said.replace(`'${unknown}'`, `'${unknown.replace(/=.*$/s, "")}' (given as '${unknown}')`) : said;
  const message = suggestion === null || advice !== undefined ? named : `${named} (did you mean ${suggestion[1]}?)`;
  const help = command === undefined ? "mpip --help" : `mpip ${command.name} --help`;
  const hint = [`\`${help}\` shows ${command === undefined ? "the commands" : "its usage and options"}`];
  if (advice !== undefined) hint.unshift(advice);
  if (unknown !== undefined && command === undefined) hint.unshift(`no command was given: mpip itself takes only --help and --version, and a command's options go after it, as in \`mpip install ${printable(unknown, 40)} ...\``);
  else if (before) {
    const flag = unknown.replace(/=.*$/s, "");
    hint.unshift(
      context.commandFlags?.includes(flag) === true
        ? `\`${printable(unknown, 40)}\` came before the command: mpip itself takes only --help and --version, and a command's options go after it, as in \`mpip ${command.name} ${printable(unknown, 40)} ...\``
        : `\`${printable(unknown, 40)}\` came before the command: mpip itself takes only --help and --version, and \`mpip ${command.name}\` does not take it either`,
    );
  }
  // Arguments missing or extra, or a required option (`download -d`, `index build -o`) missing: the usage line shows what to give.
  const incomplete = ["commander.missingArgument", "commander.excessArguments", "commander.missingMandatoryOptionValue"];
  if (command !== undefined && incomplete.includes(error.code)) hint.push(`usage: mpip ${command.name} ${command.usage}`);
  return new MpipError("usage", error.code === "commander.help" ? "no command given" : message, { hint });
}

/**
 * pip's options that mpip spells differently or does not have, by each of their flags: what pip does with
 * it (`pip`, a verb phrase), mpip's own flag for it (`mpip`: offered only to a command that takes it), and what to do in
 * mpip (`advice`). Every command's unknown-option error reads it (`unknownOptionAdvice`).
 */
const PIP_OPTIONS: ReadonlyArray<{ flags: readonly string[]; pip: string; mpip?: string; advice: string }> = [
  { flags: ["-t", "--target"], pip: "installs into a folder", mpip: "-p", advice: "mpip's is `-p DIR` (`--target DIR`)" },
  { flags: ["--index", "--index-url"], pip: "is short for --index-url", mpip: "-i", advice: "mpip's is `-i URL` (`--index-url URL`); `--no-index` asks no index at all" },
  { flags: ["--extra-index-url"], pip: "adds an index", mpip: "--extra-index-url", advice: "mpip's is `--extra-index-url URL`" },
  { flags: ["--user"], pip: "installs into the user's site-packages", advice: "mpip has no user scheme: with no `-p DIR` it installs into the first MICROPYPATH entry, else ~/.micropython/lib, as upip does on the Unix port" },
  { flags: ["--prefix", "--root"], pip: "lays out a Python installation's folders under it", advice: "mpip has neither: it writes every package's files straight into one folder, the one `-p DIR` names" },
  { flags: ["--upgrade-strategy"], pip: "says which dependencies -U upgrades", advice: "mpip has one strategy: `-U` (`--upgrade`) upgrades the packages named to the newest version allowed, and `--force-reinstall` reinstalls everything resolved" },
  { flags: ["-e", "--editable"], pip: "installs a project in place (editable)", advice: "mpip has no editable installs (a device holds copies, not links): install the project folder by its path (`mpip install -p DIR ./project`), again after changing it" },
  { flags: ["-I", "--ignore-installed"], pip: "installs over what is there", mpip: "--force-reinstall", advice: "mpip's is `--force-reinstall`" },
  { flags: ["--no-cache-dir"], pip: "turns its cache off", mpip: "--no-cache", advice: "mpip's is `--no-cache`" },
  { flags: ["--platform", "--python-version", "--implementation", "--abi"], pip: "chooses wheels for another Python", mpip: "--target-version", advice: "mpip installs for MicroPython firmware: name it with `--target-version 1.22` or `--mpy 6` (and `--arch NAME` for native code)" },
  { flags: ["--only-binary", "--no-binary", "--prefer-binary", "--no-build-isolation", "--use-pep517"], pip: "chooses or builds wheels", advice: "mpip builds no wheels: MicroPython packages are sdists and .py/.mpy files, unpacked as they are" },
  { flags: ["--trusted-host"], pip: "skips certificate checks for a host", mpip: "--cert", advice: "mpip always checks certificates: give the host's certificate authority with `--cert FILE`" },
  { flags: ["--break-system-packages"], pip: "lets pip change a system's Python", advice: "mpip never installs into a Python installation, so there is nothing to allow" },
];

/**
 * What commands other than `install` say of an option `install` takes and they do not (`sync -f`,
 * `check -p`), by command and flag.
 */
const COMMAND_OPTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = (() => {
  const lockFolder = "`mpip sync` installs exactly what the lock lists, from where the lock says each file is, and resolves nothing: a folder holding the lock's files is given with `-i DIR`";
  const lockResolves = "`mpip sync` installs exactly what the lock lists and resolves nothing: to change what is installed, change the lock with `mpip lock` (which takes it), then sync";
  const sync = {
    "-f": lockFolder,
    "--find-links": lockFolder,
    "--no-index": "`mpip sync` asks no index: it installs exactly what the lock lists, from where the lock says each file is; a folder holding the lock's files is given with `-i DIR`",
    "--lock": "`mpip sync` takes the lock as its argument: `mpip sync pylock.toml`",
    ...Object.fromEntries(["-r", "--requirement", "-c", "--constraint", "--no-deps", "--pre", "-U", "--upgrade", "--require-hashes"].map((flag) => [flag, lockResolves])),
  };
  const checkTarget = "`mpip check` checks archives (.tar.gz sdists) before they are installed, and takes no folder; the files of a folder's packages are checked against their install records by `mpip show -f -p DIR NAME`";
  return {
    sync,
    check: { "-p": checkTarget, "--target": checkTarget, "-t": checkTarget },
    download: Object.fromEntries(["-p", "--target", "-t"].map((flag) => [flag, "`mpip download` writes a folder that is itself an index, named with `-d DIR`; `mpip install -i DIR -p TARGET` then installs from it"])),
    lock: Object.fromEntries(["-p", "--target", "-t"].map((flag) => [flag, "`mpip lock` writes a lock file (`-o FILE`), into no folder: `mpip sync -p DIR` then installs what it lists"])),
  };
})();

/**
 * What an option `flag` that `command` (`install`, `cache clean`) does not take means, when mpip knows:
 * the command's own word for an option another command takes (COMMAND_OPTIONS), else pip's meaning and
 * mpip's way (PIP_OPTIONS), offering mpip's flag only where `commandFlags` holds it. Undefined otherwise.
 */
export function unknownOptionAdvice(flag: string, command: string, commandFlags: readonly string[]): string | undefined {
  const own = COMMAND_OPTIONS[command]?.[flag];
  if (own !== undefined) return own;
  const pip = PIP_OPTIONS.find((entry) => entry.flags.includes(flag));
  if (pip === undefined) return undefined;
  if (pip.mpip !== undefined && !commandFlags.includes(pip.mpip)) return `pip's \`${flag}\` ${pip.pip}; \`mpip ${command}\` has no such option`;
  return `pip's \`${flag}\` ${pip.pip}; ${pip.advice}`;
}

/** Commands mpip is growing (CONVENTIONS.md) but does not have yet: never answered with a look-alike. None now. */
const PLANNED_COMMANDS = new Set<string>([]);

/**
 * `mpip uninstall`, `mpip frobnicate`: the command does not exist (for a planned one: not yet), and the
 * hint lists the commands there are. A look-alike is suggested only for a slip of the keyboard (a letter
 * or two off: `instal`, `chekc`), never for a word that holds a command's name and means something else
 * (`uninstall`, `reinstall`, `unpack`) nor for a planned command.
 */
export function unknownCommand(typed: string, commands: readonly string[]): MpipError {
  const real = commands.filter((name) => name !== "help");
  const holdsOne = real.some((name) => typed.includes(name));
  // The nearest one within reach (`unistall` is one letter from `uninstall`, two from `install`).
  const reachable = PLANNED_COMMANDS.has(typed) || holdsOne ? [] : real.map((name) => ({ name, distance: editDistance(typed, name) })).filter(({ name, distance }) => distance <= (name.length <= 4 ? 1 : 2));
  const near = reachable.sort((a, b) => a.distance - b.distance)[0]?.name;
  const shown = printable(typed, 40);
  const message = PLANNED_COMMANDS.has(typed)
    ? `unknown command '${shown}': mpip has no \`${shown}\` command yet`
    : `unknown command '${shown}'${near === undefined ? "" : ` (did you mean ${near}?)`}`;
  const list = real.map((name) => `\`${name}\``);
  return new MpipError("usage", message, { hint: `mpip's commands are ${list.slice(0, -1).join(", ")} and ${list.at(-1)!}; \`mpip --help\` describes them` });
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
 * With `streams`, a file may also be a named pipe or a character device (`--cert <(cat ca.pem)` gives
 * `/dev/fd/63`), which the command reads once, with a size cap.
 * @throws MpipError `usage`.
 */
export async function checkTypedPaths(paths: readonly string[], kind: "file" | "folder", given: string, options: { streams?: boolean } = {}): Promise<void> {
  const { stat } = await import("node:fs/promises");
  for (const file of paths) {
    await refuseUrls([file], kind, given);
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error) {
      const why = info.code === "ENOENT" ? "there is nothing at that path" : `it cannot be read (${info.code ?? info.message})`;
      throw new MpipError("usage", `\`${printable(file)}\` (${given}): ${why}`, { hint: `check the path; it is relative to the current folder \`${printable(process.cwd())}\`` });
    }
    const stream = options.streams === true && (info.isFIFO() || info.isCharacterDevice());
    if (kind === "file" ? !info.isFile() && !stream : !info.isDirectory()) {
      const is = info.isDirectory() ? "a folder" : info.isFile() ? "a file" : options.streams === true ? "not a regular file, a pipe or a device" : "not a regular file";
      const hint = kind === "file" ? "name the file itself" : info.isFile() ? `name the folder that holds it${FILE_ADVICE[given] === undefined ? "" : `; ${FILE_ADVICE[given]}`}` : "name a folder";
      throw new MpipError("usage", `\`${printable(file)}\` (${given}) is ${is}, where a ${kind} is needed`, { hint });
    }
  }
}

/** `http://host/x`, `file:///tmp/x`, `git+https://...`: a URL, which names nothing on this machine as a path. */
export function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]+:\/\//i.test(text);
}

/** What to do instead, for each place a folder is typed, where a file was given: the way to use that file, if there is one. */
const FILE_ADVICE: Record<string, string> = {
  "given with --find-links": "one sdist is installed by giving its path as a spec",
};

/** What to do instead, for each place a path is typed: the option's own way to use a URL, if it has one. */
const URL_ADVICE: Record<string, string> = {
  "given with --find-links": "for an index at a URL use `-i URL` or `--extra-index-url URL`; one sdist's URL can be installed by giving it as a spec",
  "given with --requirement": "download the file first (`curl -fsSLO URL`) and give its path",
  "given with --constraint": "download the file first (`curl -fsSLO URL`) and give its path",
  "given with --target": "to install onto a board, mount it (or its SD card) and give the mount point's folder",
  "given with --dest": "give a folder on this machine; `mpip install -i DIR` then reads it as an index",
  "given with --cert": "download the PEM bundle first and give its path",
  "given with --mpy-cross": "download or build mpy-cross first and give its path",
};

/**
 * Paths typed for `given` that are URLs and name nothing on this machine (a folder called `http:` is
 * taken as it is): a usage error for the first, see urlForPath.
 * @throws MpipError `usage`.
 */
export async function refuseUrls(paths: readonly string[], kind: "file" | "folder", given: string): Promise<void> {
  const { lstat } = await import("node:fs/promises");
  for (const file of paths) {
    if (looksLikeUrl(file) && (await lstat(file).then(() => false, () => true))) throw urlForPath(file, kind, given);
  }
}

/**
 * A URL typed where a local path is taken (`-f http://...`, `-r https://...`, `check https://...`): a
 * usage error saying that the option takes a path, not "nothing at that path". A `file:` URL's path is
 * shown as the path to give.
 */
export function urlForPath(url: string, kind: "file" | "folder", given: string): MpipError {
  let local: string | undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "file:") local = decodeURIComponent(parsed.pathname);
  } catch {
    local = undefined;
  }
  const advice = local !== undefined ? `give the path itself: \`${printable(local)}\`` : URL_ADVICE[given] ?? `download it first and give its local path`;
  return new MpipError("usage", `\`${printable(url)}\` (${given}) is a URL, but this takes a ${kind} on this machine`, { hint: advice });
}
