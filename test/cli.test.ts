// The command line as a user meets it: help, version, usage errors and their exit codes.

import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, readdir, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { BIN, ROOT, runCommand, runMpip } from "./helpers/cli.js";

describe("mpip command line", () => {
  test("--version prints the package version", async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const result = await runMpip([flag]);
      assert.equal(result.code, 0);
      assert.equal(result.stdout.trim(), version);
    }
  });

  test("runs from a folder whose path has a space and non-ASCII letters", async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const home = await mkdtemp(path.join(os.tmpdir(), "mpip home é-"));
    try {
      await cp(path.join(ROOT, "bin"), path.join(home, "bin"), { recursive: true });
      await cp(path.join(ROOT, "dist"), path.join(home, "dist"), { recursive: true });
      await cp(path.join(ROOT, "package.json"), path.join(home, "package.json"));
      await symlink(path.join(ROOT, "node_modules"), path.join(home, "node_modules"));
      const result = await runCommand(process.execPath, [path.join(home, "bin", "mpip.js"), "--version"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), version);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test("--help explains the commands with examples", async () => {
    const result = await runMpip(["--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: mpip/);
    assert.match(result.stdout, /install \[options\] \[spec\.\.\.\]/);
    assert.match(result.stdout, /Examples:/);
  });

  test("install --help lists every option", async () => {
    const result = await runMpip(["install", "--help"]);
    assert.equal(result.code, 0);
    for (const option of ["--target", "--requirement", "--index-url", "--extra-index-url", "--find-links", "--no-index", "--no-deps", "--pre", "--strict-window", "--jobs", "--timeout", "--quiet", "--verbose", "--debug", "--json"]) {
      assert.match(result.stdout, new RegExp(`${option}\\b`), option);
    }
    assert.match(result.stdout, /~\/\.micropython\/lib/);
  });

  test("a reader that closes the pipe early (`mpip --help | head -1`) is not an error", async () => {
    for (let run = 0; run < 3; run++) {
      const result = await runCommand("sh", ["-c", `"${process.execPath}" "${BIN}" --help | head -1`]);
      assert.equal(result.stdout, "Usage: mpip [options] [command]\n");
      assert.doesNotMatch(result.stderr, /EPIPE|Unhandled|at /);
    }
  });

  test("an install whose --json reader has gone away still finishes, with exit 0 and no stack", async () => {
    const target = path.join(os.tmpdir(), `mpip-epipe-${process.pid}`);
    const command = `(sleep 0.3; "${process.execPath}" "${BIN}" install --no-record --no-index -f fixtures -p "${target}" --json mpip-demo-app) | true; echo "exit=\${PIPESTATUS[0]}" >&2`;
    try {
      const result = await runCommand("bash", ["-c", command]);
      assert.match(result.stderr, /exit=0/);
      assert.doesNotMatch(result.stderr, /EPIPE|Unhandled|\n\s+at /);
      assert.deepEqual((await readdir(target)).sort(), ["ansi.py", "demo_app", "fmt.py"]);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  test("no arguments shows help on stderr and exits 2", async () => {
    const result = await runMpip([]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Usage: mpip/);
  });

  test("bad usage exits 2 with a message", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["install", "--bogus"], /unknown option '--bogus'/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["install", "--jobs", "0", "x"], /--jobs must be a whole number from 1 to 256/],
      [["install"], /error: no packages to install/],
      [["install", "--no-index", "x"], /error: --no-index leaves no place to find packages/],
      [["install", "-r", "/nonexistent/reqs.txt"], /error: cannot read the requirements file `\/nonexistent\/reqs\.txt` \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      const result = await runMpip(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test("an invalid requirement on the command line is a usage error naming it, exit 2", async () => {
    const result = await runMpip(["install", "-p", "/nonexistent-mpip-target", "foo>=", "--no-index", "-f", "."]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: .*`foo>=`/m);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
