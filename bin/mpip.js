#!/usr/bin/env node
// The `mpip` command: runs the compiled CLI and exits with its code.
//
// A CommonJS script (bin/package.json says so), which loads what it needs with `require`: as an ES module
// it would start Node's ES module loader, ~10 ms of every run before any work.
//
// Signals first: SIGINT, SIGTERM and SIGHUP are caught before the CLI's modules load (which takes a good
// part of a second on a slow machine), so a signal during start-up exits 130/143/129 with a message
// instead of killing mpip with the default action; an install then takes them over without a gap (see
// src/signals.ts). Only this small bundle (dist/start.cjs: src/start.ts) is loaded first; the CLI after it.
"use strict";
const { catchSignalsFromStart, loadBundle } = requireBuilt("../dist/start.cjs");

/** A module the build makes; in a checkout that was never built, an error that says so, not a stack trace. */
function requireBuilt(file) {
  try {
    return require(file);
  } catch (error) {
    if (error?.code !== "MODULE_NOT_FOUND" || !String(error.message).includes(file.slice(2))) throw error;
    const path = require("node:path");
    const checkout = path.resolve(__dirname, "..");
    process.stderr.write(`error: mpip is not built: \`${path.join(checkout, file.slice(3))}\` is missing\n\nhint: in a checkout, run \`npm ci && npm run build\` in \`${checkout}\` first\n`);
    process.exit(1);
  }
}

const startup = catchSignalsFromStart(process.argv);
const args = process.argv.slice(2);
const end = args.indexOf("--");
const options = end < 0 ? args : args.slice(0, end);
// A run for help: no command, `mpip help ...`, or --help / -h.
const forHelp = args.length === 0 || args[0] === "help" || options.includes("--help") || options.includes("-h");

// `mpip --version` alone: the version, as the CLI would print it, without loading the CLI.
const versionOnly = args.length === 1 && (args[0] === "--version" || args[0] === "-V");

// `mpip --help | head` closes the pipe early: that is the reader's choice, not an error. mpip carries on
// (an install still finishes or rolls back, and releases its lock) and exits with the code it decided.
// Node makes process.stdout and process.stderr when first asked for them, which takes 3-8 ms (a pipe's
// stream loads node:net): a run that prints nothing on one (`install -q`) never makes it. So the handler
// is added as each is made.
for (const name of ["stdout", "stderr"]) {
  const made = Object.getOwnPropertyDescriptor(process, name);
  if (made?.get === undefined || made.configurable !== true) {
    process[name].on("error", ignoreClosedReader);
    continue;
  }
  let handled;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: made.enumerable,
    get() {
      const stream = made.get.call(process);
      if (stream !== handled) {
        stream.on("error", ignoreClosedReader);
        handled = stream;
      }
      return stream;
    },
  });
}

/** A standard stream's error: a reader gone (EPIPE) or a terminal closed (EIO, after SIGHUP) is not mpip's. */
function ignoreClosedReader(error) {
  if (error.code !== "EPIPE" && error.code !== "EIO") throw error;
}

// Node warns (DEP0123) when a TLS connection's server name is an IP address, which undici sets for a proxy
// reached over https by its IP (HTTPS_PROXY=https://10.0.0.1:3128): neither the user's doing nor mpip's to
// change, and stderr is the user's (with --json too). Every other warning is still printed.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const code = typeof rest[0] === "object" && rest[0] !== null ? rest[0].code : rest[1];
  if (code === "DEP0123") return;
  return emitWarning.call(process, warning, ...rest);
};

// The commands that do the work a code cache is kept for (see below).
const WORKING_COMMANDS = new Set(["install", "sync", "download", "lock"]);
// Those that install from a lock (`sync`, `install --lock`), which keep a full cache of their own: they
// run little of what resolving runs. Read from the words as typed, before they are parsed; a run that
// turns out to be of the other kind (`install -p --lock pkg`: a folder named `--lock`; MPIP_LOCK, which
// makes `install` a locked one) writes no cache, which would be the other kind's for good, and reads the
// full one, which holds the locked path too.
const lockedRun = args[0] === "sync" || (args[0] === "install" && options.some((word) => word === "--lock" || word.startsWith("--lock=")));

function run() {
  if (versionOnly) {
    process.stdout.write(`${require("../package.json").version}\n`);
    return;
  }
  const dist = require("node:path").join(__dirname, "..", "dist");
  if (!forHelp) {
    runCli(dist, WORKING_COMMANDS.has(args[0]), lockedRun);
    return;
  }
  // A run for help loads the command line without any command's work (dist/mpip-help.cjs, src/cli-help.ts:
  // an eighth of the whole), which prints the help or the usage error. Should the arguments ask for a
  // command's work after all (`install -p -h pkg`: `-h` is the target), it prints nothing and the whole
  // CLI runs them, parsing them again from the start.
  const { helpOnly } = loadBundle(require("node:path").join(dist, "mpip-help.cjs"), { partial: true }).exports;
  startup.started();
  helpOnly(process.argv).then((code) => {
    if (code === undefined) runCli(dist, WORKING_COMMANDS.has(args[0]), lockedRun);
    else process.exitCode = code;
  }, failed);
}

/** Runs the whole command line (dist/mpip.cjs) on the process's arguments; `working`, `locked`: see WORKING_COMMANDS. */
function runCli(dist, working, locked) {
  // The bundled CLI is one CommonJS file, compiled with a code cache (src/code-cache.ts). Only the commands
  // that resolve and fetch run most of it; any other run (`list`, `cache dir`, a misspelt command)
  // compiles little, and so does one of those commands that does not complete its work (help asked in a
  // way the arguments above do not show, as `install -qh`: no action ran; a usage error, a failure, an
  // interrupt: an exit code other than 0): their cache is a partial one, kept apart from the full one the
  // next run that does the work reads. Taken as whole, it would leave every later install compiling the
  // rest of its code itself (~40-100 ms a run), for good.
  let cli;
  const endedEarly = () => (process.exitCode ?? 0) !== 0 || cli?.ranAction?.() !== true;
  // The CLI sets a V8 flag once it compiles WebAssembly (src/wasm-tiering.ts), and sets it back for the cache.
  const beforeCaching = () => cli?.restoreWasmTiering?.();
  const misread = () => cli?.ranAction?.() === true && typeof cli.ranLockedInstall === "function" && cli.ranLockedInstall() !== locked;
  cli = loadBundle(require("node:path").join(dist, "mpip.cjs"), { partial: !working, locked, endedEarly, misread, beforeCaching }).exports;
  const { main } = cli;
  // The command's WebAssembly (undici's HTTP parser, the mpy-cross) compiled by Liftoff only (src/wasm-tiering.ts).
  cli.useBaselineWasm?.();
  startup.started();
  main(process.argv).then((code) => {
    process.exitCode = code;
  }, failed);
}

/** What the CLI threw instead of returning an exit code: a bug, said as one. */
function failed(error) {
  process.stderr.write(`error: unexpected failure: ${error?.stack ?? error}\nThis is a bug in mpip; please report it.\n`);
  process.exitCode = 1;
}

// For tests only: MPIP_TEST_STARTUP_DELAY_MS holds start-up (after the signal handlers, before the CLI
// loads) that long, so that a test can signal mpip surely while it starts. Unset, it costs nothing.
const startupDelayMs = Number(process.env.MPIP_TEST_STARTUP_DELAY_MS ?? "0");
if (Number.isFinite(startupDelayMs) && startupDelayMs > 0) setTimeout(run, startupDelayMs);
else run();
