#!/usr/bin/env node
// The `mpip` command: runs the compiled CLI and exits with its code.
import { main } from "../dist/cli.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`error: unexpected failure: ${error?.stack ?? error}\nThis is a bug in mpip; please report it.\n`);
    process.exitCode = 1;
  },
);
