// The command line: parse argv with commander, print, set the exit code. No install logic lives here.
// Each command's work is imported only when that command runs (commands/install.ts, pack/*-command.ts),
// so `--version`, `--help` and a usage error load commander and a few small modules, nothing more.
// Exit codes (src/usage.ts): 0 success, 1 failure, 2 bad usage, 130/143/129 stopped by a signal (target unchanged).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Help, type Option, type OutputConfiguration } from "commander";
import type { DownloadFlags } from "./commands/download.js";
import type { InstallFlags } from "./commands/install.js";
import type { ReadFlags } from "./commands/image-output.js";
import type { ListFlags } from "./commands/list.js";
import type { LockFlags } from "./commands/lock.js";
import type { SyncFlags } from "./commands/sync.js";
import type { ManifestFlags } from "./commands/manifest.js";
import type { ShowFlags } from "./commands/show.js";
import type { UninstallFlags } from "./commands/uninstall.js";
import { DEFAULT_INDEXES, DEFAULT_LOCK_FILE } from "./defaults.js";
import { DEFAULT_LIMITS, formatBytes } from "./limits.js";
import { Reporter } from "./log.js";
import { jsonFailure } from "./render.js";
import { collectNonEmpty, EXIT_OK, EXIT_USAGE, nonEmpty, reportFailure, usageError } from "./usage.js";
import { addInstallOptions, parseBooleanWord, variableOf } from "./cli-options.js";
import { MpipError } from "./errors.js";
import { rememberCredentials } from "./secrets.js";
import { rememberTypedCommand } from "./typed-command.js";
import { mayBeTerminal, writeStandard } from "./standard-streams.js";
import { addPackCommand } from "./pack/pack-command.js";
import { registerFileCommands } from "./pack/file-commands.js";
import { addCacheCommand } from "./commands/cache-command.js";
import { addIndexCommand } from "./commands/index-command.js";
import { optionsGiven, splitOptionEquals } from "./option-equals.js";

const INSTALL_EXAMPLES = `
  $ mpip install micropython-pystone_lowmem               into ~/.micropython/lib, like upip
  $ mpip install -p build/image -r requirements.txt       cross-install an image to copy to a device
  $ mpip install -p ports/esp32/modules mylib             into a port's modules/ folder, to freeze it
  $ mpip install --no-index -f ./dist -p image app        offline, from a folder of sdists
  $ mpip install --json -p image 'lib>=1.2,<2' | jq       a machine-readable report for CI
  $ mpip install -p image aioble@0.4 --mpy 6              micropython-lib's .mpy build, for MicroPython 1.19+
  $ mpip install -p image github:org/repo@v1.0            a repo's package.json, as mip installs it
  $ mpip install -p image --compile ./myproject           a project folder, packed, compiled to .mpy
  $ mpip install -i simple+https://host/simple/ lib       a private index speaking the simple API`;

const DOWNLOAD_EXAMPLES = `
  $ mpip download -d offline -r requirements.txt          everything the install needs, as a folder index
  $ mpip install -i offline -p image -r requirements.txt  the same install later, with no network
  $ mpip download -d offline --mpy 6 aioble               micropython-lib's .mpy build, for MicroPython 1.19+
  $ mpip download -d offline --lock pylock.toml           exactly what the lock pins, for its firmware`;
const LOCK_EXAMPLES = `
  $ mpip lock -r requirements.txt --mpy 6                 pin the resolution for .mpy 6 firmware in pylock.toml
  $ mpip sync -p build/image --mpy 6                      make build/image hold exactly what pylock.toml lists
  $ mpip lock --check -r requirements.txt --mpy 6         in CI: exit 1 when pylock.toml is out of date`;

const PACKAGING_EXAMPLES = `
  $ mpip pack -o dist                                     build dist/NAME-VERSION.tar.gz from pyproject.toml
  $ mpip repack dist/foo-1.0.tar.gz -o upip-dist          turn a setuptools sdist into a MicroPython package
  $ mpip check dist/*.tar.gz                              will these archives install on a small device?`;

const INDEXES = `
Indexes: by default micropython-lib's v2 index (${DEFAULT_INDEXES[0]}) is asked first, then PyPI's
JSON API (${DEFAULT_INDEXES[1]}); the first that knows a package serves it, and the summary says which.`;

/**
 * commander shows an option's default after its description; `(default: false)` for a flag and
 * `(default: [])` for a repeatable option say nothing a user needs, so they are left out. Informative
 * defaults stay (`--jobs` 16, `-o` "dist"); most options state theirs in their own words. An option that
 * can come from the environment names its variable there too (`env: MPIP_JOBS`; see cli-options.ts).
 */
function optionDescription(this: Help, option: Option): string {
  const value: unknown = option.defaultValue;
  const noise = typeof value === "boolean" || (Array.isArray(value) && value.length === 0);
  const variable = variableOf(option);
  const quiet = noise ? Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { defaultValue: undefined }) : option;
  const described = Help.prototype.optionDescription.call(this, quiet);
  // Said here, not through commander's `envVar`: commander would read the variable itself, by other rules.
  return variable === undefined ? described : `${described} (env: ${variable})`;
}

/** commander's own output settings, which ask Node's stream objects (see `standardOutput`). */
const commanderDefaults = new Command().configureOutput();

/**
 * commander's output, written through standard-streams.ts: help and the version printed into a pipe or a
 * file make no stream object (3-8 ms of `mpip --help | less`). On what may be a terminal, the width and
 * colours are asked of Node's streams, as commander does (`defaults`); elsewhere the width is commander's
 * 80 columns, and there is no colour (mpip's help has no styles of its own; commander would strip any
 * where it finds no terminal).
 */
function standardOutput(defaults: OutputConfiguration): OutputConfiguration {
  return {
    writeOut: (text) => writeStandard("stdout", text),
    writeErr: (text) => writeStandard("stderr", text),
    // 80 columns is commander's own width where it knows none.
    getOutHelpWidth: () => (mayBeTerminal("stdout") ? defaults.getOutHelpWidth?.() : undefined) ?? 80,
    getErrHelpWidth: () => (mayBeTerminal("stderr") ? defaults.getErrHelpWidth?.() : undefined) ?? 80,
    getOutHasColors: () => mayBeTerminal("stdout") && defaults.getOutHasColors?.() === true,
    getErrHasColors: () => mayBeTerminal("stderr") && defaults.getErrHasColors?.() === true,
  };
}

export function packageVersion(): string {
  const file = fileURLToPath(new URL("../package.json", import.meta.url));
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/**
 * The command line. Every command is named, summarized and described (what `mpip --help` lists); only
 * those `argv` names (the one run, or `mpip help NAME`'s) also get their options, examples and action,
 * which is most of the work of building it (about 50 options for each of install, download, lock and
 * sync). With no `argv`, every command is built whole.
 */
export function buildProgram(run: (action: () => Promise<number>) => void, argv?: readonly string[]): Command {
  const named = argv === undefined ? undefined : new Set(argv.slice(2).filter((arg) => !arg.startsWith("-")));
  /** The commands built without their options. */
  const deferred = new Set<string>();
  /** Whether a command is to be built whole (else it is remembered as deferred). */
  const whole = (name: string) => {
    const built = named === undefined || named.has(name);
    if (!built) deferred.add(name);
    return built;
  };
  /** commander lists a command as `name [options] args` only if it has options: a deferred one takes them all the same. */
  function subcommandTerm(this: Help, command: Command): string {
    const term = Help.prototype.subcommandTerm.call(this, command);
    return deferred.has(command.name()) ? term.replace(/^\S+/, (name) => `${name} [options]`) : term;
  }
  const program = new Command("mpip")
    .description("A package manager for MicroPython: installs packages from micropython-lib, PyPI, private indexes, GitHub/GitLab/Codeberg repos, URLs and local files into a folder on the host.")
    .version(packageVersion(), "-V, --version", "print mpip's version")
    .helpOption("-h, --help", "show help")
    // `mpip help` follows its words through commands of commands (helpArguments): `help cache clean`.
    .helpCommand("help [command...]", "show a command's help")
    // Parse errors are rendered by main (escaped, with a hint, and as JSON with --json), not by commander.
    .configureOutput({ outputError: () => {}, ...standardOutput(commanderDefaults) })
    // Set before the commands are added: each command takes a copy of it.
    .configureHelp({ optionDescription, subcommandTerm })
    .exitOverride();

  const install = program
    .command("install")
    .summary("install packages and their dependencies into a folder")
    .description(
      "Install MicroPython packages and their dependencies into a folder on the host, as `upip` and `mip` do on a device: from micropython-lib's index, PyPI and private indexes, package.json repos, URLs and local files.\n" +
        "Everything is downloaded, verified and unpacked beside the target first; the target changes only if the whole install succeeds.",
    )
    .argument("[spec...]", "what to install: `name`, `name==1.2`, `'name>=1.0,<2'` (PEP 440), `name@1.2` (mip style); or directly, with no index: `github:org/repo[/path][@ref]`, `gitlab:…`, `codeberg:…`, an https:// URL or a local path to a .tar.gz sdist, a .py/.mpy module or a package.json, or a project folder");
  if (whole("install")) addInstallOptions(install, ["target", "resolution", "firmware", "image", "network", "cache", "limits", "output", "lock"], ["--no-remove"])
    .addHelpText("after", `\nExamples:${INSTALL_EXAMPLES}\n${INDEXES}`)
    .action((specs: string[], flags: InstallFlags) => run(async () => (await import("./commands/install.js")).installCommand(specs, flags)));

  // `mpip download`: see download.ts and commands/download.ts.
  const download = program
    .command("download")
    .summary("download packages and their dependencies into a folder that is itself an index")
    .description(
      "Resolve and fetch packages exactly as `install` does, and write everything the install needs into a folder that is itself an index: sdists as the index served them (usable with `-f DIR`), " +
        "and micropython-lib and package.json packages as a micropython-lib v2 index (index.json, package/, file/). `mpip install -i DIR ...` then reproduces the install on a machine with no network. " +
        "With --lock, exactly what a pylock.toml lists is downloaded, with no resolution. Downloading into a folder that already holds a download adds to it.",
    )
    .usage("[options] -d <dir> [spec...]")
    .argument("[spec...]", "what to download, as for `install`: names with specifiers, `github:` shorthands, URLs and local paths");
  if (whole("download")) addInstallOptions(download.requiredOption("-d, --dest <dir>", "the folder to write into (created if missing)", nonEmpty("--dest")), ["resolution", "firmware", "network", "cache", "limits", "output", "lock"], ["--compile", "--keep-sources", "--mpy-cross", "--no-remove"], {
    "--lock": "download exactly what a pylock.toml lists, with no resolution: every file checked against the lock's full sha256, for the firmware the lock was made for",
  })
    .addHelpText("after", `\nExamples:${DOWNLOAD_EXAMPLES}`)
    .action((specs: string[], flags: DownloadFlags) => run(async () => (await import("./commands/download.js")).downloadCommand(specs, flags)));
  // `mpip lock`, `mpip sync`: see commands/lock.ts and commands/sync.ts.
  const lock = program
    .command("lock")
    .summary("resolve packages as install would and pin them in a pylock.toml")
    .description(
      "Resolve packages exactly as `mpip install` would for the firmware given (--mpy, --target-version, --compile), fetch every file to hash it, and write a PEP 751 pylock.toml that `mpip install --lock` and `mpip sync` install again, byte for byte, with no resolution.\n" +
        "With no packages and no -r, the dependencies of the project in the current folder (pyproject.toml, or setup.cfg) are locked.",
    )
    .argument("[spec...]", "what to lock, as for `mpip install`");
  if (whole("lock")) addInstallOptions(lock, ["resolution", "firmware", "network", "cache", "limits", "output"], ["--mpy-cross"])
    .option("-o, --output <file>", "the lock file to write: pylock.toml or pylock.NAME.toml", nonEmpty("--output"), DEFAULT_LOCK_FILE)
    .option("--check", "write nothing: exit 1, showing what changed, when the lock is out of date with its inputs (for CI)", false)
    .addHelpText("after", `\nExamples:${LOCK_EXAMPLES}`)
    .action((specs: string[], flags: LockFlags) => run(async () => (await import("./commands/lock.js")).lockCommand(specs, flags)));

  // sync resolves nothing and asks no index: what the options that speak of those do here instead.
  const SYNC_DESCRIPTIONS = {
    "--index-url": "asks nothing (the lock says where each file is): an index URL's credentials (https://user:token@host/...) are sent with the lock's URLs of the same scheme, host and port, and a local folder is one the lock's files may be read from (repeatable)",
    "--extra-index-url": "as -i: credentials for the lock's URLs of its origin, or a folder its files may be read from (repeatable)",
    "--force-reinstall": "reinstall every package the lock lists, even those the folder already holds from the same file",
    "--dry-run": "download and verify every file the lock lists, print what would be added, replaced and removed, and change nothing",
    "--target-version": "the MicroPython release the lock was made for (`mpip lock --target-version`), e.g. 1.22: a lock made for another firmware is refused, and every .mpy installed must load on it (default: sources, as a lock made with neither)",
    "--mpy": "like --target-version, by .mpy version: 6 (MicroPython 1.19 and later), 6.2 (1.22), 5 (1.12-1.18); the lock's own",
    "--arch": "the target's native architecture (xtensawin, armv7emsp, ...), as the lock was made with: needed only to accept .mpy files with native code",
    "--compile": "compile every installed .py to .mpy with mpy-cross (built in as WebAssembly, .mpy 6), as the lock was made with (`mpip lock --compile`): a lock mpip made is installed only as it was made; boot.py and main.py stay source",
    "--keep-sources": "with --compile, keep the .py files beside the .mpy, as the lock was made with (`mpip lock --compile --keep-sources`)",
    "--jobs": "how many of the lock's files are downloaded at once",
    "--no-cache": "neither read nor write the download cache: fetch every file the lock lists",
    "--offline": "never use the network: every file the lock lists comes from the cache by its sha256 (or from a local folder); one the cache lacks is an error naming it",
    "--max-metadata-bytes": `the largest package document (a micropython-lib package's .json) a locked package may have (default: ${formatBytes(DEFAULT_LIMITS.maxMetadataBytes)})`,
  };
  const sync = program
    .command("sync")
    .summary("make a folder hold exactly what a pylock.toml lists")
    .description(
      "Install exactly what a pylock.toml lists, with no resolution and no index asked: every file is fetched in one round and checked against the lock's full sha256, " +
        "and the recorded packages the lock does not list are removed, all in one commit (`mpip install --lock` keeps them). Any mismatch changes nothing.",
    )
    .argument("[lock]", "the lock file (default: pylock.toml in the current folder)");
  if (whole("sync")) addInstallOptions(sync, ["target", "resolution", "firmware", "image", "network", "cache", "limits", "output", "lock"], ["--requirement", "--constraint", "--find-links", "--no-index", "--no-deps", "--pre", "--require-hashes", "--upgrade", "--lock"], SYNC_DESCRIPTIONS)
    .action((lockFile: string | undefined, flags: SyncFlags) => run(async () => (await import("./commands/sync.js")).syncCommand(lockFile, flags)));

  const listCommand = program
    .command("list")
    .summary("list the packages installed in a folder")
    .description(
      "List the packages a folder's install records name (`NAME-VERSION.dist-info`, as pip and pipkin write them too), with version and source, " +
        "then the files no record lists (copied by hand, installed by upip or mip).",
    );
  if (whole("list")) {
    listCommand
      .option("-p, --target <dir>", "the folder to look at (default: where `mpip install` installs)", nonEmpty("--target"))
      .option("--unrecorded", "list each file in no record, not only each top-level name", false)
      .option("--size", "add each package's bytes and the bytecode freezing it would add (its .py compiled with the built-in mpy-cross), and a total", false)
      .option("--json", "print the list as JSON on stdout", false)
      .option("--debug", "print stack traces with errors", false)
      .action((flags: ListFlags) => run(async () => (await import("./commands/list.js")).listCommand(flags)));
  }

  const showCommand = program
    .command("show")
    .summary("show installed packages in detail")
    .description("Show recorded packages in detail, as `pip show` does: version, summary, source, requires, required-by, location, files and sizes.")
    .argument("<name...>", "package names (compared after PEP 503 normalization)");
  if (whole("show")) {
    showCommand
      .option("-p, --target <dir>", "the folder to look at (default: where `mpip install` installs)", nonEmpty("--target"))
      .option("-f, --files", "list the package's files, each checked against the hash its record gives", false)
      .option("--size", "add the bytecode freezing the package would add", false)
      .option("--json", "print the details as JSON on stdout", false)
      .option("--debug", "print stack traces with errors", false)
      .action((names: string[], flags: ShowFlags) => run(async () => (await import("./commands/show.js")).showCommand(names, flags)));
  }

  const freezeCommand = program
    .command("freeze")
    .summary("print the installed packages as a requirements file")
    .description("Print one requirement per recorded package (`name==version`, or the direct source it came from) that `mpip install -r` installs again.");
  if (whole("freeze")) {
    freezeCommand
      .option("-p, --target <dir>", "the folder to look at (default: where `mpip install` installs)", nonEmpty("--target"))
      .option("--debug", "print stack traces with errors", false)
      .action((flags: ReadFlags) => run(async () => (await import("./commands/freeze.js")).freezeCommand(flags)));
  }

  const manifestCommand = program
    .command("manifest")
    .summary("write a manifest.py that freezes a folder into firmware")
    .description(
      "Write a MicroPython manifest.py that freezes the folder as installed: `package()` for each top-level folder (its .py and .mpy files), " +
        "`module()` for each top-level .py, `freeze()` for each top-level .mpy, all with the folder as `base_path`. " +
        "Build firmware with it: `make BOARD=... FROZEN_MANIFEST=/path/to/manifest.py`.",
    );
  if (whole("manifest")) {
    manifestCommand
      .option("-p, --target <dir>", "the folder to freeze (default: where `mpip install` installs)", nonEmpty("--target"))
      .option("-o, --output <file>", "write the manifest to this file (default: stdout)", nonEmpty("--output"))
      .option("--include <manifest>", "a manifest to include() first, e.g. '$(PORT_DIR)/boards/manifest.py' to keep the board's own frozen modules (repeatable)", collectNonEmpty("--include"), [])
      .option("--debug", "print stack traces with errors", false)
      .action((flags: ManifestFlags) => run(async () => (await import("./commands/manifest.js")).manifestCommand(flags)));
  }
  // `mpip uninstall`: see commands/uninstall.ts.
  const uninstallCommand = program
    .command("uninstall")
    .summary("remove installed packages by their install records")
    .description(
      "Remove packages mpip installed into a folder: the files each one's record (NAME-VERSION.dist-info/RECORD) lists and the record itself, all or none. " +
        "A file changed since it was installed is kept and reported (removed with --force); a file another package's record lists, and files no record lists, are never removed.",
    )
    .argument("<name...>", "the packages to remove, by name");
  if (whole("uninstall")) {
    uninstallCommand
      .option("-p, --target <dir>", "the folder to remove them from (default: as for install)", nonEmpty("--target"))
      .option("-y, --yes", "do not ask for confirmation (mpip asks only on a terminal)", false)
      .option("--dry-run", "say what would be removed, and change nothing", false)
      .option("--force", "remove files changed since they were installed too", false)
      .option("--with-orphans", "also remove the dependencies no remaining package needs and that were not asked for by name", false)
      .option("--no-wait", "if another mpip is working on the same folder, fail at once instead of waiting for it")
      .option("-q, --quiet", "print only warnings and errors", false)
      .option("--debug", "print stack traces with errors", false)
      .option("--json", "print a machine-readable report on stdout", false)
      .action((names: string[], flags: UninstallFlags) => run(async () => (await import("./commands/uninstall.js")).uninstallCommand(names, flags)));
  }

  addPackCommand(program, run);
  registerFileCommands(program, run);
  addCacheCommand(program, run);
  addIndexCommand(program, run);

  // Every example first, then the paragraph about indexes, which is about installing only.
  program.addHelpText("after", `\nExamples:${INSTALL_EXAMPLES}${LOCK_EXAMPLES}${DOWNLOAD_EXAMPLES}${PACKAGING_EXAMPLES}\n${INDEXES}`);
  return program;
}

/** Whether a command's action has run in this process: its arguments parsed, and no help or version asked. */
let actionRan = false;

/**
 * Whether `main` handed a command its work (its action ran), rather than stopping at help, the version
 * or a parse error: bin/mpip.js asks at exit, to keep a code cache only from a run that did its work.
 */
export function ranAction(): boolean {
  return actionRan;
}

/** Whether the run began an install from a lock: bin/mpip.js asks at exit, for the same reason (run-kind.ts). */
export { ranLockedInstall } from "./run-kind.js";

/**
 * bin/mpip.js has the command's WebAssembly compiled by Liftoff only, and sets V8's flags back before it
 * makes a code cache (wasm-tiering.ts).
 */
export { restoreWasmTiering, useBaselineWasm } from "./wasm-tiering.js";

export async function main(argv: string[]): Promise<number> {
  return (await parseCommandLine(argv, true)) ?? EXIT_OK;
}

/**
 * For a run that asks for help (bin/mpip.js runs it from dist/mpip-help.cjs, a bundle of this module
 * without any command's work): parses `argv` exactly as `main` does and prints the help, the version or
 * the usage error it comes to, returning the exit code; or, when the command line asks for a command's
 * work after all (`mpip install -p -h pkg`: `-h` is the target), prints nothing and returns undefined,
 * for the caller to hand `argv` to `main`.
 */
export async function helpOnly(argv: string[]): Promise<number | undefined> {
  return await parseCommandLine(argv, false);
}

/**
 * Parses `argv` and prints what the parse itself ends in (help, the version, a usage error), returning
 * its exit code. Where a command's action is reached, runs it and returns its exit code if `work`, else
 * returns undefined at once, having printed nothing.
 */
async function parseCommandLine(argv: string[], work: boolean): Promise<number | undefined> {
  // Credentials typed or set anywhere this run can see are never printed, whatever quotes them (secrets.ts).
  for (const text of [...argv, ...Object.values(process.env)]) if (text !== undefined) rememberCredentials(text);
  // Hints that offer the command back corrected keep the rest of it (typed-command.ts).
  rememberTypedCommand(argv.slice(2));
  let pending: Promise<number> | undefined;
  let reached = false;
  const program = buildProgram((action) => {
    reached = true;
    if (!work) return;
    actionRan = true;
    const gone = currentFolderGone(program, argv);
    pending = gone ?? action();
  }, argv);
  if (argv.length <= 2) {
    writeStandard("stderr", program.helpInformation());
    return EXIT_USAGE;
  }
  const helpFor = argv[2] === "help" ? helpArguments(program, argv.slice(3)) : undefined;
  try {
    // `-p=DIR` as argparse reads it; `-U=1` refused (option-equals.ts).
    const args = splitOptionEquals(program, helpFor ?? argv.slice(2));
    await program.parseAsync([...argv.slice(0, 2), ...args]);
  } catch (error) {
    // A bad value in an MPIP_* variable (cli-options.ts applyEnvironment), a value given to an option that
    // takes none (option-equals.ts): a usage error of its own words.
    if (error instanceof MpipError) return reportFailure(error, new Reporter({ verbosity: "quiet" }), { json: wantsJsonFor(program, argv.slice(2)), debug: false });
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === 0 ? EXIT_OK : parseFailure(error, program, argv.slice(2)); // 0: --help, --version
  }
  if (!work && reached) return undefined;
  return pending === undefined ? EXIT_OK : await pending;
}

/**
 * A command's run in a current folder that was removed after the shell entered it, where Node cannot
 * say which folder it is (`process.cwd()` fails with ENOENT): every command resolves some path against it
 * (a spec, `-p`, the cache), so it fails at once, saying so, instead of as an unexpected failure deep in
 * its work. Undefined (the command runs) where the folder exists. As git does ("Unable to read current
 * working directory").
 */
function currentFolderGone(program: Command, argv: string[]): Promise<number> | undefined {
  try {
    process.cwd();
    return undefined;
  } catch (error) {
    const failure = new MpipError("io", "the current folder no longer exists (it was removed after the shell entered it)", {
      hint: "change to a folder that exists (`cd ~`, or `cd` to the project again) and run the command there",
      cause: error,
    });
    return Promise.resolve(reportFailure(failure, new Reporter({ verbosity: "quiet" }), { json: wantsJsonFor(program, argv.slice(2)), debug: optionsGiven(program, argv.slice(2)).flags.has("--debug") }));
  }
}

/**
 * What `mpip help WORDS...` runs instead, or undefined for commander's own `help` (no command named):
 * - the help of the command the words name, however deep (`help cache clean` is `cache clean --help`,
 *   where commander's `help` reads only the first name and showed `cache`'s help);
 * - for a word that names no command where one is expected, what running the words says: `help instal`
 *   as `mpip instal` (unknown, with the close name), `help cache bogus` as `mpip cache bogus`, where
 *   commander printed a whole help with no word of what was wrong.
 * Words after a command that takes no commands (`help install extra`) are not read, as pip's `help`.
 */
function helpArguments(program: Command, words: string[]): string[] | undefined {
  const named: string[] = [];
  let command = program;
  for (const word of words) {
    if (word.startsWith("-")) break;
    const sub = command.commands.find((candidate) => candidate.name() === word && candidate.name() !== "help");
    if (sub === undefined) {
      if (command.commands.length === 0) break;
      return [...named, word];
    }
    named.push(word);
    command = sub;
  }
  return named.length === 0 ? undefined : [...named, "--help"];
}

/** commander's parse error, said as mpip says a usage error: escaped, with a hint, and as JSON with --json. */
function parseFailure(error: CommanderError, program: Command, args: string[]): number {
  const names = program.commands.map((candidate) => candidate.name());
  const top = program.commands.find((candidate) => candidate.name() === args.find((arg) => names.includes(arg)));
  // A command with commands of its own (`cache`): the error is about the one named next (`cache clean`), if any.
  const subcommands = top?.commands.map((candidate) => candidate.name()).filter((name) => name !== "help") ?? [];
  const sub = top?.commands.find((candidate) => candidate.name() === args[args.indexOf(top.name()) + 1] && candidate.name() !== "help");
  const named = sub === undefined ? top && { name: top.name(), usage: top.usage(), ...(subcommands.length > 0 ? { subcommands } : {}) } : { name: `${top!.name()} ${sub.name()}`, usage: sub.usage() };
  const flagsOf = (command: Command) => command.options.flatMap((option) => [option.short, option.long].filter((flag): flag is string => flag !== undefined));
  const commandFlags = sub !== undefined ? flagsOf(sub) : top !== undefined ? flagsOf(top) : [];
  const usage = usageError(error, { commands: names, args, commandFlags, ...(named === undefined || top === undefined ? {} : { command: named, commandAt: args.indexOf(top.name()) }) });
  const json = wantsJsonFor(program, args);
  // Given options but no command, commander has printed the help itself.
  if (error.code === "commander.help") {
    if (json) writeStandard("stdout", `${jsonFailure(usage)}\n`);
    return EXIT_USAGE;
  }
  return reportFailure(usage, new Reporter({ verbosity: "quiet" }), { json, debug: false });
}

/**
 * `--json` given as an option (never as an option's value: `-p --json`), or `MPIP_JSON` set true for a
 * command whose `--json` reads it (option-equals.ts optionsGiven).
 */
function wantsJsonFor(program: Command, args: string[]): boolean {
  const { flags, command } = optionsGiven(program, args);
  if (flags.has("--json")) return true;
  const json = command.options.find((option) => option.long === "--json");
  const variable = json === undefined ? undefined : variableOf(json);
  return variable !== undefined && parseBooleanWord(process.env[variable] ?? "") === true;
}
