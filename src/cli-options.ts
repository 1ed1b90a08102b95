// The options `install` takes, in groups that other commands resolving or fetching the same way share
// (lock, sync, download): one declaration each, so a flag means the same thing, with the same parser,
// default and help text, wherever it appears. Fresh Option objects are made for every command.
// Each of these options can also come from the environment, `MPIP_<LONG_NAME>` (see `applyEnvironment`).

import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_INDEXES, DEFAULT_JOBS } from "./defaults.js";
import { MpipError } from "./errors.js";
import { DEFAULT_LIMITS, formatBytes, parseByteSize } from "./limits.js";
import { splitWords } from "./shell-words.js";
import { printable } from "./text.js";
import { collectNonEmpty, nonEmpty } from "./usage.js";

/**
 * - `target`: `-p`, the folder an image is written to;
 * - `resolution`: what to install and where to look (`-r`, `-i`, `-f`, `--no-deps`, `--pre`, hashes);
 * - `firmware`: what the image is for and how it is built (`--target-version`, `--mpy`, `--compile`);
 * - `image`: how an install changes a folder that already holds packages (`-U`, `--dry-run`, `--no-record`);
 * - `network`: `--jobs`, `--timeout`, `--retries`, `--cert`;
 * - `cache`: the download cache, `--cache-dir`, `--no-cache`, `--offline`;
 * - `limits`: the `--max-*` bounds against bombs and oversized input;
 * - `output`: `-q`, `-v`, `--debug`, `--json`;
 * - `lock`: installing from a lock file (`--lock`, and `sync`'s `--no-remove`).
 */
export type OptionGroup = "target" | "resolution" | "firmware" | "image" | "network" | "cache" | "limits" | "output" | "lock";

/** Commander's `.option(flags, description, parser?, default?)`, as an Option object. */
function option(flags: string, description: string, parseOrDefault?: unknown, defaultValue?: unknown): Option {
  const made = new Option(flags, description);
  if (typeof parseOrDefault === "function") {
    made.argParser(parseOrDefault as (value: string, previous: unknown) => unknown);
    if (defaultValue !== undefined) made.default(defaultValue);
  } else if (parseOrDefault !== undefined) {
    made.default(parseOrDefault);
  }
  return made;
}

/** Every option of `install`, in the order its help lists them, each with its group. */
export function installOptions(): Array<[OptionGroup, Option]> {
  return [
    ["target", option("-p, --target <dir>", "the folder to install into (default: the first MICROPYPATH entry, else ~/.micropython/lib, as upip on the Unix port)", nonEmpty("--target"))],
    ["resolution", repeatable(option("-r, --requirement <file>", "the packages listed in a file, one per line, as pip reads it: `-r`/`-c` of other files, `--hash`, index options, `${VAR}` (repeatable)", collectNonEmpty("--requirement"), []))],
    ["resolution", repeatable(option("-c, --constraint <file>", "constrain versions with a file of requirements (as pip's constraints): a package it names is installed only at a version it allows, and only if something asks for it (repeatable)", collectNonEmpty("--constraint"), []))],
    ["resolution", repeatable(option("-i, --index-url <url>", `an index: a URL, or a local folder (a path or file:// URL); repeatable, replaces the default list (${DEFAULT_INDEXES.join(" then ")}). Its kind (micropython-lib v2 index, PyPI JSON API, or simple API) is taken from a \`mip+\`, \`pypi+\` or \`simple+\` prefix, else from a URL ending in /v2, /pypi or /simple, else detected by asking the index once (a folder: by what it holds, its sdists included)`, collect))],
    ["resolution", repeatable(option("--extra-index-url <url>", "an index tried after the others (repeatable)", collect, []))],
    ["resolution", repeatable(option("-f, --find-links <dir>", "a local folder of .tar.gz sdists, looked at before any index (repeatable)", collectNonEmpty("--find-links"), []))],
    ["resolution", option("--no-index", "use no index: only --find-links folders")],
    ["resolution", option("--no-deps", "only the named packages, not their dependencies")],
    ["resolution", option("--pre", "allow pre-release versions (by default only when nothing else matches)", false)],
    ["resolution", option("--strict-window", "refuse archives that need more than a 4 KiB inflate window (a small device cannot unpack them)", false)],
    ["resolution", option("--require-hashes", "refuse any file downloaded with no hash to check it against (from the index, the package document, the URL's #sha256= or a requirement's --hash); without it, each such file draws a warning. Local files need none", false)],
    ["firmware", option("--target-version <version>", "the MicroPython release the image is for, e.g. 1.22: packages from a micropython-lib index come as .mpy for it, and every .mpy installed must load on it (default: sources, which work on any firmware and can be frozen)")],
    ["firmware", option("--mpy <version>", "like --target-version, by .mpy version: 6 (MicroPython 1.19 and later), 6.2 (1.22), 5 (1.12-1.18)")],
    ["firmware", option("--arch <name>", "the target's native architecture (xtensawin, armv7emsp, ...): needed only to accept .mpy files with native code")],
    ["firmware", option("--compile", "compile every installed .py to .mpy with mpy-cross (built in as WebAssembly, .mpy 6), removing the sources; boot.py and main.py stay source", false)],
    ["firmware", option("--keep-sources", "with --compile, keep the .py files beside the .mpy (MicroPython then imports the .py)", false)],
    ["firmware", option("--mpy-cross <path>", "with --compile, use this native mpy-cross instead of the built-in one (its .mpy version must match the target)", nonEmpty("--mpy-cross"))],
    ["image", option("-U, --upgrade", "upgrade the named packages to the newest version allowed; without it, a package the folder already holds at an accepted version is kept, not downloaded again", false)],
    ["image", option("--force-reinstall", "reinstall every package of the resolution, even those the folder already holds", false)],
    ["image", option("--dry-run", "resolve, download and verify everything, print what would be added, replaced and removed, and change nothing", false)],
    ["image", option("--max-size <size>", "fail, changing nothing, when the image's files (records included) would take more than this (units KiB, MiB)", byteSize("--max-size"))],
    ["image", option("--no-record", "write no install record (NAME-VERSION.dist-info/) for the packages: the folder then holds exactly what upip would write, and mpip cannot later tell what it installed")],
    ["image", option("--no-wait", "if another mpip is installing into the same folder, fail at once instead of waiting for it")],
    ["network", option("-j, --jobs <n>", "how many metadata look-ups and downloads run at once", positiveInteger("--jobs", 256), DEFAULT_JOBS)],
    ["network", option("--timeout <seconds>", "network timeout for connecting and for a stalled response (default: 30)", positiveSeconds("--timeout", 3600))],
    ["network", option("--retries <n>", "how many times to retry a request after a temporary failure: 429, 5xx, a reset or cut-short download, a timeout (default: 3)", wholeNumber("--retries", 100))],
    ["network", option("--cert <file>", "a PEM bundle of certificate authorities to trust besides the default ones", nonEmpty("--cert"))],
    ["cache", option("--cache-dir <dir>", "the download cache's folder (default: MPIP_CACHE_DIR, else $XDG_CACHE_HOME/mpip (~/.cache/mpip) on Linux, ~/Library/Caches/mpip on macOS, %LOCALAPPDATA%\\mpip\\Cache on Windows)", nonEmpty("--cache-dir"))],
    ["cache", option("--no-cache", "neither read nor write the download cache: fetch every document and file")],
    ["cache", option("--offline", "never use the network: index documents come from the cache as they are, files by their sha256; anything the cache cannot answer is an error naming it", false)],
    ["limits", option("--max-unpacked-bytes <size>", `the most one archive may unpack to (default: ${formatBytes(DEFAULT_LIMITS.maxUnpackedBytes)}; units KiB, MiB, GiB)`, byteSize("--max-unpacked-bytes"))],
    ["limits", option("--max-entries <n>", `the most entries one archive may hold (default: ${DEFAULT_LIMITS.maxEntries})`, positiveInteger("--max-entries", 100_000_000))],
    ["limits", option("--max-ratio <n>", `the highest compression ratio accepted for an archive unpacking to more than 1 MiB (default: ${DEFAULT_LIMITS.maxRatio})`, positiveInteger("--max-ratio", 1_000_000))],
    ["limits", option("--max-metadata-bytes <size>", `the largest index metadata document accepted (default: ${formatBytes(DEFAULT_LIMITS.maxMetadataBytes)})`, byteSize("--max-metadata-bytes"))],
    ["limits", option("--max-path-length <bytes>", `the longest path of an installed file, in UTF-8 bytes (default: ${DEFAULT_LIMITS.maxPathLength}, as FAT and littlefs names)`, positiveInteger("--max-path-length", 65_535))],
    ["output", option("-q, --quiet", "print only warnings and errors", false)],
    ["output", option("-v, --verbose", "print where each package came from and its sha256", false)],
    ["output", option("--debug", "print stack traces with errors", false)],
    ["output", option("--json", "print a machine-readable report on stdout (packages, versions, sources, sha256, files)", false)],
    ["lock", option("--lock <file>", "install exactly what a pylock.toml lists (written by `mpip lock`, or sdists locked by another tool), with no resolution: every file checked against the lock's full sha256; packages the lock does not list stay (`mpip sync` removes them)", nonEmpty("--lock"))],
    ["lock", option("--no-remove", "keep the recorded packages the lock does not list (by default `sync` removes them)")],
  ];
}

/**
 * Adds the options of `groups` to `command`, in install's order; `except` leaves out single options by
 * their long flag (e.g. "--dry-run"), and `descriptions` gives an option the command's own help text by
 * its long flag (what `--lock` means to `download`). Each option added can also be set from the
 * environment (`applyEnvironment`, run before the command's action). Returns the command.
 */
export function addInstallOptions<T extends Command>(command: T, groups: readonly OptionGroup[], except: readonly string[] = [], descriptions: Readonly<Record<string, string>> = {}): T {
  for (const [group, made] of installOptions()) {
    if (!groups.includes(group) || except.includes(made.long ?? "")) continue;
    const description = descriptions[made.long ?? ""];
    if (description !== undefined) made.description = description;
    command.addOption(made);
    VARIABLES.set(made, environmentVariable(made.long!));
  }
  // Registered once per command, however many times options are added to it.
  if (!HOOKED.has(command)) {
    HOOKED.add(command);
    command.hook("preAction", (self) => applyEnvironment(self, process.env));
  }
  return command;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInteger(name: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < 1 || number > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return number;
  };
}

export function wholeNumber(name: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number > max) throw new InvalidArgumentError(`${name} must be a whole number from 0 to ${max}.`);
    return number;
  };
}

export function byteSize(name: string) {
  return (value: string): number => {
    const bytes = parseByteSize(value);
    if (bytes === undefined || bytes < 1) throw new InvalidArgumentError(`${name} must be a size in bytes, optionally with a binary unit: 4096, 512KiB, 64MiB, 1GiB.`);
    return bytes;
  };
}

export function positiveSeconds(name: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || number <= 0 || number > max) throw new InvalidArgumentError(`${name} must be a number of seconds above 0 and at most ${max}.`);
    return number;
  };
}

// --- Configuration from the environment ------------------------------------------------------------------

/** The variable that sets each option added by addInstallOptions. */
const VARIABLES = new WeakMap<Option, string>();
const HOOKED = new WeakSet<Command>();
/** Options that take a list (given several times on the command line; several words in a variable). */
const REPEATABLE = new WeakSet<Option>();

function repeatable(made: Option): Option {
  REPEATABLE.add(made);
  return made;
}

/** `--extra-index-url` → `MPIP_EXTRA_INDEX_URL`, `--no-deps` → `MPIP_NO_DEPS`: pip's `PIP_<LONG_NAME>` rule. */
export function environmentVariable(long: string): string {
  return `MPIP_${long.replace(/^--/, "").toUpperCase().replace(/-/g, "_")}`;
}

/** The variable that sets `option`, when it is one of install's options (for the help). */
export function variableOf(option: Option): string | undefined {
  return VARIABLES.get(option);
}

/** pip's words for a boolean (its `strtobool`), compared without case. */
const TRUE_WORDS = new Set(["1", "true", "yes", "on", "y", "t"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", "n", "f"]);

/** `1`, `true`, `yes`, `on` (and `y`, `t`) → true; `0`, `false`, `no`, `off` (and `n`, `f`) → false; else undefined. */
export function parseBooleanWord(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
}

/**
 * Options that contradict each other: when the command line gives one, the environment's value for the
 * other is not taken (the command line is over the environment), rather than becoming a clash.
 */
const RIVALS: ReadonlyArray<readonly [string, string]> = [["--quiet", "--verbose"], ["--target-version", "--mpy"]];

/**
 * Sets each of `command`'s options that has a variable (addInstallOptions) and was not given on the command
 * line from `env[MPIP_<LONG_NAME>]`, as pip reads `PIP_<LONG_NAME>`:
 * - an empty (or unset) variable is ignored;
 * - a flag takes a boolean word (`parseBooleanWord`); for a `--no-*` flag, true means the flag is given
 *   (`MPIP_NO_DEPS=1` is `--no-deps`);
 * - a repeatable option takes several values split as a shell splits words (pip's `shlex.split`:
 *   `MPIP_EXTRA_INDEX_URL="https://a/simple https://b/simple"`); given on the command line, the command
 *   line's values replace the variable's list, they are not added to it;
 * - any other option takes the value, checked by the option's own parser.
 * A value the option refuses is a usage error (exit 2) naming the variable; its text is shown with
 * credentials removed (secrets.ts).
 * @throws MpipError `usage`.
 */
export function applyEnvironment(command: Command, env: NodeJS.ProcessEnv): void {
  const fromCli = new Set(command.options.filter((made) => command.getOptionValueSource(made.attributeName()) === "cli").map((made) => made.long));
  const fromEnvironment = new Set<string>();
  for (const made of command.options) {
    const variable = VARIABLES.get(made);
    const raw = variable === undefined ? undefined : env[variable];
    if (variable === undefined || raw === undefined || raw.trim() === "") continue;
    const key = made.attributeName();
    if (fromCli.has(made.long)) continue;
    if (RIVALS.some((pair) => pair.includes(made.long!) && pair.some((other) => other !== made.long && fromCli.has(other)))) continue;
    command.setOptionValueWithSource(key, environmentValue(made, variable, raw), "env");
    fromEnvironment.add(key);
  }
  // The flags the action is given are this object (commander hands `opts()` itself).
  SET_FROM_ENVIRONMENT.set(command.opts(), fromEnvironment);
}

/** By a command's flags object: the options (by attribute name) applyEnvironment set from the environment. */
const SET_FROM_ENVIRONMENT = new WeakMap<object, ReadonlySet<string>>();

/**
 * Whether `flags[key]` (a command's flags, as its action is given them) holds the value of its MPIP_*
 * variable, not one the command line gave: a command may then pass over a setting it has no use for
 * (a locked install over MPIP_CONSTRAINT, which every step of a CI job reads), where the same option
 * typed is a usage error.
 */
export function setFromEnvironment(flags: object, key: string): boolean {
  return SET_FROM_ENVIRONMENT.get(flags)?.has(key) === true;
}

function environmentValue(made: Option, variable: string, raw: string): unknown {
  const shown = `\`${variable}\` is \`${printable(raw, 120)}\``;
  const flag = made.long!;
  // commander's isBoolean() is false for a `--no-*` flag, which takes no value either.
  if (made.negate || made.isBoolean()) {
    const on = parseBooleanWord(raw);
    if (on === undefined) {
      throw new MpipError("usage", `${shown}, which is not a boolean value for ${flag}`, {
        hint: `set \`${variable}\` to 1, true, yes or on (${flag} given) or to 0, false, no or off (not given), or unset it`,
      });
    }
    if (made.negate) return !on;
    return on ? true : (made.defaultValue ?? false);
  }
  const parse = (value: string, previous: unknown): unknown => {
    try {
      return made.parseArg === undefined ? value : made.parseArg(value, previous);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      throw new MpipError("usage", `${shown}: ${error.message.replace(/\.$/, "")}`, {
        hint: `fix or unset \`${variable}\`; a value given with ${flag} on the command line is taken over it`,
      });
    }
  };
  if (!REPEATABLE.has(made)) return parse(raw, undefined);
  const words = splitWords(raw);
  if (words === undefined) {
    throw new MpipError("usage", `${shown}, which has a quote that is not closed`, {
      hint: `\`${variable}\` lists values for ${flag} separated by spaces; quote a value that holds a space ('a b' or "a b")`,
    });
  }
  return words.reduce<unknown>((previous, word) => parse(word, previous), []);
}

// --- Commands offered back beside a lock -----------------------------------------------------------------

/** install's options that resolve, which `--lock` refuses beside it (commands/sync.ts `lockClash`). */
const RESOLVING_FLAGS = new Set(["--requirement", "--constraint", "--find-links", "--upgrade", "--no-deps", "--pre"]);

/**
 * `words` (an install command's arguments after `mpip install`) as `mpip install --lock` takes them: the
 * resolving options (`-r`, `-c`, `-f` with their values, `-U`, `--no-deps`, `--pre`) and every package
 * named are left out, as the lock says what to install, and the lock's own `--lock FILE` is kept. A hint
 * must never offer a command mpip refuses. Options are told apart by install's own declarations
 * (`installOptions`): `-fDIR`, `--find-links=DIR`, joined short flags (`-Uq`) and `--` are read as commander
 * reads them. `dropped` lists what was left out, each as typed (`-f fixtures`, `pkg`).
 */
export function lockableWords(words: readonly string[]): { words: string[]; dropped: string[] } {
  const options = installOptions().map(([, made]) => made);
  const byFlag = new Map<string, Option>();
  for (const made of options) for (const flag of [made.short, made.long]) if (flag !== undefined) byFlag.set(flag, made);
  const takesValue = (made: Option) => made.required || made.optional;
  const kept: string[] = [];
  const dropped: string[] = [];
  for (let at = 0; at < words.length; at++) {
    const word = words[at]!;
    if (word === "--") {
      // Everything after is a package named.
      dropped.push(...words.slice(at + 1));
      break;
    }
    if (word.startsWith("--")) {
      const flag = word.replace(/=.*$/s, "");
      const made = byFlag.get(flag);
      const withValue = made !== undefined && takesValue(made) && !word.includes("=") && at + 1 < words.length;
      const run = withValue ? [word, words[at + 1]!] : [word];
      if (withValue) at++;
      if (made !== undefined && RESOLVING_FLAGS.has(made.long!)) dropped.push(run.join(" "));
      else kept.push(...run);
      continue;
    }
    if (word.startsWith("-") && word.length > 1) {
      // Joined short flags: each boolean one is kept or dropped on its own; the first taking a value takes the rest of the word, or the next word.
      let keptFlags = "";
      let droppedFlags = "";
      let valueRun: { flag: string; value: string; resolving: boolean } | undefined;
      for (let index = 1; index < word.length; index++) {
        const made = byFlag.get(`-${word[index]!}`);
        if (made !== undefined && takesValue(made)) {
          const rest = word.slice(index + 1);
          const value = rest !== "" ? rest : at + 1 < words.length ? words[++at]! : "";
          valueRun = { flag: `-${word[index]!}`, value, resolving: RESOLVING_FLAGS.has(made.long!) };
          break;
        }
        if (made !== undefined && RESOLVING_FLAGS.has(made.long!)) droppedFlags += word[index]!;
        else keptFlags += word[index]!;
      }
      if (keptFlags !== "") kept.push(`-${keptFlags}`);
      if (droppedFlags !== "") dropped.push(`-${droppedFlags}`);
      if (valueRun?.resolving === true) dropped.push(`${valueRun.flag} ${valueRun.value}`);
      else if (valueRun !== undefined) kept.push(valueRun.flag, ...(valueRun.value === "" ? [] : [valueRun.value]));
      continue;
    }
    dropped.push(word);
  }
  return { words: kept, dropped };
}
