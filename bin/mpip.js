#!/usr/bin/env node
// The `mpip` command: runs the compiled CLI and exits with its code.
//
// Signals first: SIGINT, SIGTERM and SIGHUP are caught before the CLI's modules load (which takes a good
// part of a second on a slow machine), so a signal during start-up exits 130/143/129 with a message
// instead of killing mpip with the default action; an install then takes them over without a gap (see
// src/signals.ts). Only this small module is imported statically; the CLI is loaded after it.
import { setFlagsFromString } from "node:v8";
import { catchSignalsFromStart } from "../dist/signals.js";

// undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it first with its baseline
// compiler (Liftoff), then recompiles its hot parser function with the optimizing one (TurboFan) on a
// background thread: about 150-200 ms of CPU in every run that makes a request, which is a third of a
// small install's CPU and competes with it on a 2-core machine, for a parser that reads a few headers.
// Liftoff alone parses them fast enough; the WebAssembly mpy-cross (--compile) was measured to be no
// slower with it (bench/compile.ts). Set before anything compiles WebAssembly.
setFlagsFromString("--liftoff-only");

const startup = catchSignalsFromStart(process.argv);

// `mpip --help | head` closes the pipe early: that is the reader's choice, not an error. mpip carries on
// (an install still finishes or rolls back, and releases its lock) and exits with the code it decided.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code !== "EPIPE" && error.code !== "EIO") throw error; // EIO: the terminal was closed (SIGHUP)
  });
}

// For tests only: MPIP_TEST_STARTUP_DELAY_MS holds start-up (after the signal handlers, before the CLI
// loads) that long, so that a test can signal mpip surely while it starts. Unset, it costs nothing.
const startupDelayMs = Number(process.env.MPIP_TEST_STARTUP_DELAY_MS ?? "0");
if (Number.isFinite(startupDelayMs) && startupDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, startupDelayMs));

// The commands that do the work a code cache is kept for (see below).
const WORKING_COMMANDS = new Set(["install", "sync", "download", "lock"]);

// `mpip --version` alone: the version, as the CLI would print it, without loading the CLI.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  const { readFileSync } = await import("node:fs");
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`);
} else {
  // The bundled CLI is one CommonJS file, compiled with a code cache (src/code-cache.ts). Only the commands
  // that resolve and fetch run most of it; any other run (help, `list`, `cache dir`, a misspelt command)
  // compiles little, and so does one of those commands stopped by a usage error (exit 2): their cache is
  // marked partial, for the next run that does the work to replace. Taken as whole, it would leave every
  // later install compiling most of its code itself (~100 ms a run), for good.
  const [{ loadBundle }, { fileURLToPath }] = await Promise.all([import("../dist/code-cache.js"), import("node:url")]);
  const working = WORKING_COMMANDS.has(args[0]) && !args.some((arg) => arg === "--help" || arg === "-h");
  const { main } = loadBundle(fileURLToPath(new URL("../dist/mpip.cjs", import.meta.url)), { partial: !working, endedEarly: () => process.exitCode === 2 }).exports;
  startup.started();
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`error: unexpected failure: ${error?.stack ?? error}\nThis is a bug in mpip; please report it.\n`);
      process.exitCode = 1;
    },
  );
}
