// The command line: parse argv with commander, print, set the exit code. No install logic lives here.
// Exit codes: 0 success, 1 failure, 2 bad usage, 130/143 stopped by SIGINT/SIGTERM (target unchanged).

import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { MpipError } from "./errors.js";
import { DEFAULT_INDEXES, DEFAULT_JOBS, install } from "./install.js";
import { Reporter, type Verbosity } from "./log.js";
import { jsonFailure, jsonReport, renderError, renderSummary } from "./render.js";
import { requestFor, type Request } from "./resolve/resolve.js";
import { parsePackageSpec } from "./spec/package-spec.js";
import { gitHostsFromEnv } from "./sources/git-hosts.js";
import { parseIndexLocation } from "./sources/index-kind.js";
import { targetFromMpy, targetFromVersion, type MpyTarget } from "./mpy/target.js";
import { evaluateMarker } from "./spec/markers.js";
import { readRequirementsFile } from "./spec/requirements-file.js";
import { catchSignals } from "./signals.js";
import { DEFAULT_LIMITS, formatBytes, parseByteSize, type Limits } from "./limits.js";
import { addPackCommand } from "./pack/pack-command.js";
import { registerFileCommands } from "./pack/file-commands.js";

interface InstallFlags {
  target?: string;
  requirement: string[];
  indexUrl?: string[];
  extraIndexUrl: string[];
  findLinks: string[];
  index: boolean;
  deps: boolean;
  pre: boolean;
  strictWindow: boolean;
  jobs: number;
  timeout?: number;
  retries?: number;
  cert?: string;
  quiet: boolean;
  verbose: boolean;
  debug: boolean;
  json: boolean;
  wait: boolean;
  maxUnpackedBytes?: number;
  maxEntries?: number;
  maxRatio?: number;
  maxMetadataBytes?: number;
  maxPathLength?: number;
  targetVersion?: string;
  mpy?: string;
  arch?: string;
  compile: boolean;
  keepSources: boolean;
  mpyCross?: string;
}

const EXAMPLES = `
Examples:
  $ mpip install micropython-pystone_lowmem            into ~/.micropython/lib, like upip
  $ mpip install -p build/image -r requirements.txt    cross-install an image to copy to a device
  $ mpip install -p ports/esp32/modules mylib          into a port's modules/ folder, to freeze it
  $ mpip install --no-index -f ./dist -p image app     offline, from a folder of sdists
  $ mpip install --json -p image 'lib>=1.2,<2' | jq    a machine-readable report for CI
  $ mpip install -p image aioble@0.4 --mpy 6           micropython-lib's .mpy build, for MicroPython 1.19+
  $ mpip install -p image github:org/repo@v1.0         a repo's package.json, as mip installs it
  $ mpip install -p image --compile ./myproject        a project folder, packed, compiled to .mpy
  $ mpip install -i simple+https://host/simple/ lib    a private index speaking the simple API

Indexes: by default micropython-lib's v2 index (${DEFAULT_INDEXES[0]}) is asked first, then PyPI's
JSON API (${DEFAULT_INDEXES[1]}); the first that knows a package serves it, and the summary says which.`;

export function packageVersion(): string {
  const file = fileURLToPath(new URL("../package.json", import.meta.url));
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function positiveInteger(name: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < 1 || number > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return number;
  };
}

function wholeNumber(name: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number > max) throw new InvalidArgumentError(`${name} must be a whole number from 0 to ${max}.`);
    return number;
  };
}

function byteSize(name: string) {
  return (value: string): number => {
    const bytes = parseByteSize(value);
    if (bytes === undefined || bytes < 1) throw new InvalidArgumentError(`${name} must be a size in bytes, optionally with a binary unit: 4096, 512KiB, 64MiB, 1GiB.`);
    return bytes;
  };
}

const LIMIT_FLAGS = ["maxUnpackedBytes", "maxEntries", "maxRatio", "maxMetadataBytes", "maxPathLength"] as const;

function limitsFrom(flags: InstallFlags): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const key of LIMIT_FLAGS) if (flags[key] !== undefined) limits[key] = flags[key];
  return limits;
}

function positiveSeconds(name: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || number <= 0 || number > max) throw new InvalidArgumentError(`${name} must be a number of seconds above 0 and at most ${max}.`);
    return number;
  };
}

export function buildProgram(run: (action: () => Promise<number>) => void): Command {
  const program = new Command("mpip")
    .description("A package manager for MicroPython: installs packages from micropython-lib, PyPI, private indexes, GitHub/GitLab/Codeberg repos, URLs and local files into a folder on the host.")
    .version(packageVersion(), "-V, --version", "print mpip's version")
    .helpOption("-h, --help", "show help")
    .showHelpAfterError("(run `mpip --help` for usage)")
    .exitOverride();

  program
    .command("install")
    .summary("install packages and their dependencies into a folder")
    .description(
      "Install MicroPython packages and their dependencies into a folder on the host, as `upip` and `mip` do on a device: from micropython-lib's index, PyPI and private indexes, package.json repos, URLs and local files.\n" +
        "Everything is downloaded, verified and unpacked beside the target first; the target changes only if the whole install succeeds.",
    )
    .argument("[spec...]", "what to install: `name`, `name==1.2`, `'name>=1.0,<2'` (PEP 440), `name@1.2` (mip style); or directly, with no index: `github:org/repo[/path][@ref]`, `gitlab:…`, `codeberg:…`, an https:// URL or a local path to a .tar.gz sdist, a .py/.mpy module or a package.json, or a project folder")
    .option("-p, --target <dir>", "the folder to install into (default: the first MICROPYPATH entry, else ~/.micropython/lib, as upip on the Unix port)")
    .option("-r, --requirement <file>", "install the packages listed in a file, one per line (repeatable)", collect, [])
    .option("-i, --index-url <url>", `an index; repeatable, replaces the default list (${DEFAULT_INDEXES.join(" then ")}). Its kind (micropython-lib v2 index, PyPI JSON API, or simple API) is taken from a \`mip+\`, \`pypi+\` or \`simple+\` prefix, else from a URL ending in /v2, /pypi or /simple, else detected by asking the index once`, collect)
    .option("--extra-index-url <url>", "an index tried after the others (repeatable)", collect, [])
    .option("-f, --find-links <dir>", "a local folder of .tar.gz sdists, looked at before any index (repeatable)", collect, [])
    .option("--no-index", "use no index: only --find-links folders")
    .option("--no-deps", "install only the named packages, not their dependencies")
    .option("--pre", "allow pre-release versions (by default only when nothing else matches)", false)
    .option("--strict-window", "refuse archives that need more than a 4 KiB inflate window (a small device cannot unpack them)", false)
    .option("--target-version <version>", "the MicroPython release the image is for, e.g. 1.22: packages from a micropython-lib index come as .mpy for it, and every .mpy installed must load on it (default: sources, which work on any firmware and can be frozen)")
    .option("--mpy <version>", "like --target-version, by .mpy version: 6 (MicroPython 1.19 and later), 6.2 (1.22), 5 (1.12-1.18)")
    .option("--arch <name>", "the target's native architecture (xtensawin, armv7emsp, ...): needed only to accept .mpy files with native code")
    .option("--compile", "compile every installed .py to .mpy with mpy-cross (built in as WebAssembly, .mpy 6), removing the sources; boot.py and main.py stay source", false)
    .option("--keep-sources", "with --compile, keep the .py files beside the .mpy (MicroPython then imports the .py)", false)
    .option("--mpy-cross <path>", "with --compile, use this native mpy-cross instead of the built-in one (its .mpy version must match the target)")
    .option("--no-wait", "if another mpip is installing into the same folder, fail at once instead of waiting for it")
    .option("-j, --jobs <n>", "how many downloads run at once", positiveInteger("--jobs", 256), DEFAULT_JOBS)
    .option("--timeout <seconds>", "network timeout for connecting and for a stalled response (default 30)", positiveSeconds("--timeout", 3600))
    .option("--retries <n>", "how many times to retry a request after a temporary failure: 429, 5xx, a reset or cut-short download, a timeout (default 3)", wholeNumber("--retries", 100))
    .option("--cert <file>", "a PEM bundle of certificate authorities to trust besides the default ones")
    .option("--max-unpacked-bytes <size>", `the most one archive may unpack to (default ${formatBytes(DEFAULT_LIMITS.maxUnpackedBytes)}; units KiB, MiB, GiB)`, byteSize("--max-unpacked-bytes"))
    .option("--max-entries <n>", `the most entries one archive may hold (default ${DEFAULT_LIMITS.maxEntries})`, positiveInteger("--max-entries", 100_000_000))
    .option("--max-ratio <n>", `the highest compression ratio accepted for an archive unpacking to more than 1 MiB (default ${DEFAULT_LIMITS.maxRatio})`, positiveInteger("--max-ratio", 1_000_000))
    .option("--max-metadata-bytes <size>", `the largest index metadata document accepted (default ${formatBytes(DEFAULT_LIMITS.maxMetadataBytes)})`, byteSize("--max-metadata-bytes"))
    .option("--max-path-length <bytes>", `the longest path of an installed file, in UTF-8 bytes (default ${DEFAULT_LIMITS.maxPathLength}, as FAT and littlefs names)`, positiveInteger("--max-path-length", 65_535))
    .option("-q, --quiet", "print only warnings and errors", false)
    .option("-v, --verbose", "print where each package came from and its sha256", false)
    .option("--debug", "print stack traces with errors", false)
    .option("--json", "print a machine-readable report on stdout (packages, versions, sources, sha256, files)", false)
    .addHelpText("after", EXAMPLES)
    .action((specs: string[], flags: InstallFlags) => run(() => installCommand(specs, flags)));

  addPackCommand(program, run);
  registerFileCommands(program, run);

  program.addHelpText("after", `${EXAMPLES}
  $ mpip pack -o dist                                  build dist/NAME-VERSION.tar.gz from pyproject.toml
  $ mpip check dist/*.tar.gz                           will these archives install on a small device?`);
  return program;
}

async function installCommand(specs: string[], flags: InstallFlags): Promise<number> {
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  const started = performance.now();
  const signals = catchSignals((message) => reporter.write(message));
  try {
    const requests = await gatherRequests(specs, flags.requirement, reporter);
    if (requests.length === 0) {
      throw new MpipError("usage", "no packages to install", { hint: "name packages (`mpip install NAME`) or a requirements file (`-r FILE`)" });
    }
    const indexUrls = flags.index ? [...(flags.indexUrl ?? DEFAULT_INDEXES), ...flags.extraIndexUrl].map(checkIndexUrl) : [];
    if (indexUrls.length === 0 && flags.findLinks.length === 0 && requests.some((request) => request.direct === undefined)) {
      throw new MpipError("usage", "--no-index leaves no place to find packages", { hint: "add a folder of sdists with `-f DIR`" });
    }
    const firmware = firmwareTarget(flags);
    if ((flags.keepSources || flags.mpyCross !== undefined) && !flags.compile) {
      throw new MpipError("usage", `${flags.keepSources ? "--keep-sources" : "--mpy-cross"} has an effect only with --compile`, { hint: "add --compile" });
    }
    const report = await install({
      ...(firmware === undefined ? {} : { firmware }),
      ...(flags.compile ? { compile: { keepSources: flags.keepSources, ...(flags.mpyCross === undefined ? {} : { mpyCross: flags.mpyCross }) } } : {}),
      target: flags.target ?? defaultTarget(process.env),
      requests,
      indexUrls,
      findLinks: flags.findLinks,
      noDeps: !flags.deps,
      pre: flags.pre,
      strictWindow: flags.strictWindow,
      jobs: flags.jobs,
      ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout * 1000 }),
      ...(flags.retries === undefined ? {} : { retries: flags.retries }),
      ...(flags.cert === undefined ? {} : { certFile: flags.cert }),
      wait: flags.wait,
      signal: signals.signal,
      limits: limitsFrom(flags),
      reporter,
    });
    if (flags.json) process.stdout.write(`${jsonReport(report)}\n`);
    reporter.info(renderSummary(report, (performance.now() - started) / 1000, reporter));
    return 0;
  } catch (error) {
    if (flags.json) process.stdout.write(`${jsonFailure(error)}\n`);
    reporter.write(renderError(error, reporter, flags.debug));
    return signals.exitCode ?? (error instanceof MpipError && error.code === "usage" ? 2 : 1);
  } finally {
    signals.dispose();
  }
}

/**
 * upip installs into `sys.path[1]`: on the Unix port the first `MICROPYPATH` entry when it is set, else
 * `~/.micropython/lib`. `.frozen` and empty entries name no folder and are passed over.
 */
export function defaultTarget(env: NodeJS.ProcessEnv): string {
  const entry = (env.MICROPYPATH ?? "").split(path.delimiter).find((item) => item !== "" && item !== ".frozen");
  if (entry === undefined) return path.join(os.homedir(), ".micropython", "lib");
  return entry === "~" || entry.startsWith("~/") ? path.join(os.homedir(), entry.slice(1)) : entry;
}

function firmwareTarget(flags: InstallFlags): MpyTarget | undefined {
  if (flags.targetVersion !== undefined && flags.mpy !== undefined) {
    throw new MpipError("usage", "give --target-version or --mpy, not both", { hint: "--target-version 1.22 means --mpy 6.2" });
  }
  if (flags.targetVersion !== undefined) return targetFromVersion(flags.targetVersion, flags.arch);
  if (flags.mpy !== undefined) return targetFromMpy(flags.mpy, flags.arch);
  if (flags.arch !== undefined) throw new MpipError("usage", "--arch needs --target-version or --mpy", { hint: "e.g. `--target-version 1.22 --arch xtensawin`" });
  return undefined;
}

/** Index URLs must be http(s), optionally with a kind prefix; anything else is refused unprinted. */
function checkIndexUrl(url: string): string {
  parseIndexLocation(url);
  return url;
}

async function gatherRequests(specs: string[], files: string[], reporter: Reporter): Promise<Request[]> {
  const lines = specs.map((text) => ({ text, origin: "the command line" }));
  for (const file of files) {
    for (const line of await readRequirementsFile(file)) lines.push({ text: line.text, origin: `\`${file}\` line ${line.line}` });
  }
  const requests: Request[] = [];
  const context = { hosts: gitHostsFromEnv(), cwd: process.cwd() };
  for (const { text, origin } of lines) {
    const spec = parsePackageSpec(text, context, origin === "the command line" ? undefined : origin);
    if (spec.type === "direct") {
      requests.push(requestFor(spec, origin));
      continue;
    }
    const { requirement } = spec;
    if (requirement.marker !== undefined && !evaluateMarker(requirement.marker)) {
      reporter.info(`Skipping \`${text}\` (${origin}): its marker does not apply to MicroPython`);
      continue;
    }
    if (requirement.extras.length > 0) reporter.warn(`${origin}: extras of \`${text}\` are ignored; MicroPython packages have none`);
    requests.push({ requirement, requestedBy: origin });
  }
  return requests;
}

export async function main(argv: string[]): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram((action) => {
    pending = action();
  });
  if (argv.length <= 2) {
    process.stderr.write(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  return pending === undefined ? 0 : await pending;
}

