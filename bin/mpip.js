#!/usr/bin/env node
// The `mpip` command: runs the compiled CLI and exits with its code.
import { main } from "../dist/cli.js";

// `mpip --help | head` closes the pipe early: that is the reader's choice, not an error. mpip carries on
// (an install still finishes or rolls back, and releases its lock) and exits with the code it decided.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code !== "EPIPE" && error.code !== "EIO") throw error; // EIO: the terminal was closed (SIGHUP)
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`error: unexpected failure: ${error?.stack ?? error}\nThis is a bug in mpip; please report it.\n`);
    process.exitCode = 1;
  },
);
