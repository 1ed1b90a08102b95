// The command line as a user meets it: help, version, usage errors and their exit codes.

import assert from "node:assert/strict";
import { isAscii } from "node:buffer";
import { cp, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { BIN, ROOT, runCommand, runMpip, tempDir, type RunResult } from "./helpers/cli.js";
import { buildSdist } from "./helpers/sdist.js";

/**
 * The runs of this file write nothing and depend only on their arguments (help, version, usage errors,
 * check of an archive), so a command line several tests check is run once and its result shared.
 */
const runs = new Map<string, Promise<RunResult>>();
function runShared(args: string[]): Promise<RunResult> {
  const key = JSON.stringify(args);
  let result = runs.get(key);
  if (result === undefined) {
    result = runMpip(args);
    runs.set(key, result);
  }
  return result;
}

describe("mpip command line", () => {
  test("--version prints the package version", async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const result = await runShared([flag]);
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
    const result = await runShared(["--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: mpip/);
    assert.match(result.stdout, /install \[options\] \[spec\.\.\.\]/);
    assert.match(result.stdout, /Examples:/);
  });

  test("install --help lists every option", async () => {
    const result = await runShared(["install", "--help"]);
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
    const work = await tempDir("mpip-epipe-");
    const target = path.join(work.dir, "image");
    const fifo = path.join(work.dir, "stdout");
    // A pipe whose reader is gone before mpip starts, whatever the timing: a FIFO opened for reading and
    // writing (fd 3, which Linux allows without waiting for a peer), a write end kept (fd 4), then fd 3
    // closed. mpip's stdout is fd 4, a pipe nobody reads, so every write it makes fails with EPIPE.
    const command = `mkfifo "${fifo}" && exec 3<>"${fifo}" 4>"${fifo}" 3<&- && { "${process.execPath}" "${BIN}" install --no-record --no-index -f fixtures -p "${target}" --json mpip-demo-app >&4 4>&-; echo "exit=$?" >&2; }`;
    try {
      const result = await runCommand("bash", ["-c", command]);
      assert.match(result.stderr, /exit=0/);
      assert.doesNotMatch(result.stderr, /EPIPE|Unhandled|\n\s+at /);
      assert.deepEqual((await readdir(target)).sort(), ["ansi.py", "demo_app", "fmt.py"]);
    } finally {
      await work.cleanup();
    }
  });

  test("a checkout that was never built says so and how to build it, exit 1, with no stack trace", async () => {
    const work = await tempDir("mpip-unbuilt-");
    try {
      await cp(path.join(ROOT, "bin"), path.join(work.dir, "bin"), { recursive: true });
      await cp(path.join(ROOT, "package.json"), path.join(work.dir, "package.json"));
      for (const args of [["install", "-p", "x", "foo"], ["--help"], ["--version"]]) {
        const result = await runCommand(process.execPath, [path.join(work.dir, "bin", "mpip.js"), ...args], { cwd: work.dir });
        assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /^error: mpip is not built: `.*dist[/\\]start\.cjs` is missing\n\nhint: in a checkout, run `npm ci && npm run build` in `.*` first\n$/);
        assert.doesNotMatch(result.stderr, /^\s+at /m);
      }
    } finally {
      await work.cleanup();
    }
  });

  test("no arguments shows help on stderr and exits 2", async () => {
    const result = await runShared([]);
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
      [["install", "-r", "/nonexistent/reqs.txt"], /error: there is no requirements file `\/nonexistent\/reqs\.txt`$/m],
    ];
    for (const [args, message] of cases) {
      const result = await runShared(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test("an invalid requirement on the command line is a usage error naming it, exit 2", async () => {
    const result = await runShared(["install", "-p", "/nonexistent-mpip-target", "foo>=", "--no-index", "-f", "."]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: .*`foo>=`/m);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});

describe("help", () => {
  const commands = ["install", "download", "lock", "sync", "pack", "repack", "check", "bin2res"];

  test("option help shows no `(default: false)`, `(default: [])` or `(default: true)`, and keeps defaults that say something", async () => {
    for (const command of [[], ...commands.map((name) => [name])]) {
      const result = await runShared([...command, "--help"]);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout, /\(default:\s+(false|true|\[\])\)/, `mpip ${command.join(" ")} --help`);
    }
    assert.match((await runShared(["install", "--help"])).stdout, /\(default: 16\)/);
    assert.match((await runShared(["repack", "--help"])).stdout, /\(default: "dist"\)/);
  });

  test("the options lock and download share with install do not say they install", async () => {
    for (const command of ["lock", "download"]) {
      const help = (await runShared([command, "--help"])).stdout.replace(/\s+/g, " ");
      assert.match(help, /-r, --requirement <file> the packages listed in a file/, command);
      assert.match(help, /--no-deps only the named packages, not their dependencies/, command);
    }
  });

  test("top-level help: every example under Examples, the Indexes paragraph after them all", async () => {
    const { stdout } = await runShared(["--help"]);
    const examples = stdout.indexOf("\nExamples:\n");
    const indexes = stdout.indexOf("\nIndexes:");
    assert.ok(examples > 0 && indexes > examples, stdout);
    const tail = stdout.slice(indexes);
    assert.doesNotMatch(tail, /\$ mpip/, "no example below the Indexes paragraph");
    for (const command of ["install", "download", "pack", "repack", "check"]) assert.match(stdout.slice(examples, indexes), new RegExp(`\\$ mpip ${command} `), command);
    const install = (await runShared(["install", "--help"])).stdout;
    assert.ok(install.indexOf("\nIndexes:") > install.lastIndexOf("$ mpip install"), install);
    // Each example's description stands apart from its command, in one column with the others (no
    // command running into its description: `-r requirements.txt the same install later`).
    for (const help of [stdout, install]) {
      const lines = help.slice(help.indexOf("\nExamples:\n"), help.indexOf("\nIndexes:")).split("\n").filter((line) => line.startsWith("  $ "));
      assert.ok(lines.length > 3, help);
      const columns = lines.map((line) => /^ {2}\$ .*?\S {2,}(?=\S)/.exec(line)?.[0].length ?? -1);
      assert.equal(new Set(columns).size, 1, lines.map((line, i) => `${columns[i]}: ${line}`).join("\n"));
      assert.notEqual(columns[0], -1, lines.join("\n"));
    }
  });

  test("a command run without its arguments shows that command's usage and points to its own help", async () => {
    for (const [command, usage] of [["bin2res", "mpip bin2res [options] <file...>"], ["repack", "mpip repack [options] <sdist...>"], ["check", "mpip check [options] <archive...>"]] as const) {
      const result = await runShared([command]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`^hint: \`mpip ${command} --help\` shows its usage and options\nusage: ${usage.replace(/[.[\]]/g, "\\$&")}$`, "m"), result.stderr);
      assert.doesNotMatch(result.stderr, /`mpip --help`/);
    }
  });

  test("check -q prints only the archives that fail", async () => {
    const { dir, cleanup } = await tempDir("mpip-check-q-");
    try {
      const passing = path.join(dir, "meadow-1.0.tar.gz");
      await writeFile(passing, await buildSdist({ name: "meadow", version: "1.0", files: { "meadow.py": "M = 1\n" } }));
      const failing = path.join(dir, "swamp-1.0.tar.gz");
      await writeFile(failing, gzipSync(Buffer.from("not a tar at all".repeat(10))));
      const loud = await runShared(["check", passing]);
      assert.equal(loud.code, 0, loud.stdout + loud.stderr);
      assert.notEqual(loud.stdout, "");
      const quiet = await runShared(["check", "-q", passing]);
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.equal(quiet.stdout, "");
      assert.equal(quiet.stderr, "");
      const mixed = await runShared(["check", "--quiet", passing, failing]);
      assert.equal(mixed.code, 1);
      assert.doesNotMatch(mixed.stdout, /meadow/);
      assert.match(mixed.stdout, /swamp-1\.0\.tar\.gz/);
      assert.match(mixed.stderr, /^error: 1 of 2 archives failed/m);
    } finally {
      await cleanup();
    }
  });
});

describe("unknown commands", () => {
  test("`index` is a command of its own: a word after it that is not one of its commands is said so, never answered with `install`", async () => {
    const result = await runShared(["index", "micro-thing"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: unknown command 'micro-thing' for `mpip index`$/m);
    assert.doesNotMatch(result.stderr, /did you mean/i);
    assert.match(result.stderr, /^hint: `mpip index` takes `build`; `mpip index --help` describes it$/m);
    const typo = await runShared(["indx"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^error: unknown command 'indx' \(did you mean index\?\)$/m);
    assert.match(typo.stderr, /^hint: mpip's commands are `install`, `download`, `lock`, `sync`, `list`, `show`, `freeze`, `manifest`, `uninstall`, `pack`, `bin2res`, `repack`, `check`, `cache` and `index`; `mpip --help` describes them$/m);
  });

  test("an option before any command (`mpip --json`, `mpip -p img`) says that no command was given, and where options go", async () => {
    for (const option of ["--json", "-p"]) {
      const result = await runShared(option === "-p" ? [option, "img"] : [option]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`^error: unknown option '${option}'$`, "m"));
      assert.match(result.stderr, new RegExp(`^hint: no command was given: mpip itself takes only --help and --version, and a command's options go after it, as in \`mpip install ${option} \\.\\.\\.\`$`, "m"), result.stderr);
    }
    // After a command, the plain hint.
    const after = await runShared(["install", "--bogus"]);
    assert.doesNotMatch(after.stderr, /no command was given|came before the command/);
  });

  test("an option before the command (`mpip -p img list`) says where it goes, with that command", async () => {
    for (const [args, option, command] of [[["-p", "img", "list"], "-p", "list"], [["--target=img", "show", "x"], "--target=img", "show"], [["--cache-dir=/tmp/c", "cache", "dir"], "--cache-dir=/tmp/c", "cache dir"]] as const) {
      const result = await runShared([...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`^hint: \`${option}\` came before the command: mpip itself takes only --help and --version, and a command's options go after it, as in \`mpip ${command} ${option} \\.\\.\\.\`$`, "m"), result.stderr);
    }
    // One the command does not take either is not offered after it.
    const neither = await runShared(["--no-deps", "list"]);
    assert.match(neither.stderr, /^hint: `--no-deps` came before the command: mpip itself takes only --help and --version, and `mpip list` does not take it either$/m);
    // An option after the command that it does not take: the plain hint.
    const after = await runShared(["list", "--bogus"]);
    assert.match(after.stderr, /^hint: `mpip list --help` shows its usage and options$/m);
  });

  test("`mpip help NAME...` for no such command says so, as `mpip NAME...` does, with the close name; for a command, however deep, it shows its help", async () => {
    // Before: the whole top-level help, exit 2, and no word of what was wrong.
    const typo = await runShared(["help", "instal"]);
    assert.equal(typo.code, 2);
    assert.equal(typo.stdout, "");
    assert.match(typo.stderr, /^error: unknown command 'instal' \(did you mean install\?\)$/m);
    assert.doesNotMatch(typo.stderr, /^Usage:/m);
    // The nearest command, not the first within reach: `unistall` is one letter from uninstall, two from install.
    for (const [typed, meant] of [["unistall", "uninstall"], ["unnstall", "uninstall"], ["instll", "install"], ["lok", "lock"]] as const) {
      assert.match((await runShared([typed])).stderr, new RegExp(`^error: unknown command '${typed}' \\(did you mean ${meant}\\?\\)$`, "m"), typed);
    }
    const none = await runShared(["help", "frobnicate", "--json"]);
    assert.equal(none.code, 2);
    assert.equal((JSON.parse(none.stdout) as { error: { message: string } }).error.message, "unknown command 'frobnicate'");
    const known = await runShared(["help", "cache"]);
    assert.equal(known.code, 0, known.stderr);
    assert.match(known.stdout, /^Usage: mpip cache \[options\] \[command\]$/m);
    // The help lists `help` as taking the words it follows (before: `help [command]`, one name).
    assert.match(known.stdout, /^  help \[command\.\.\.\] +show a command's help$/m);
    assert.match((await runShared(["help"])).stdout, /^  help \[command\.\.\.\] +show a command's help$/m);
    // A command's command, named after it: its own help (before: the help of the first name), or, for
    // no such command, what running the words says.
    for (const [words, usage] of [
      [["cache", "clean"], /^Usage: mpip cache clean \[options\]$/m],
      [["index", "build"], /^Usage: mpip index build \[options\] /m],
      [["cache", "dir"], /^Usage: mpip cache dir \[options\]$/m],
    ] as const) {
      const nested = await runShared(["help", ...words]);
      assert.equal(nested.code, 0, nested.stderr);
      assert.match(nested.stdout, usage, words.join(" "));
      assert.equal(nested.stdout, (await runShared([...words, "--help"])).stdout, words.join(" "));
    }
    const unknownNested = await runShared(["help", "cache", "clear"]);
    assert.equal(unknownNested.code, 2);
    assert.equal(unknownNested.stdout, "");
    assert.match(unknownNested.stderr, /^error: unknown command 'clear' for `mpip cache`/m);
  });

  test("a word holding a command's name is not taken for a slip of the keyboard; a slip is", async () => {
    for (const command of ["reinstall", "unpack", "uncheck", "frobnicate"]) {
      const result = await runShared([command]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`^error: unknown command '${command}'$`, "m"));
      assert.match(result.stderr, /^hint: mpip's commands are /m);
    }
    for (const [typed, meant] of [["instal", "install"], ["isntall", "install"], ["chekc", "check"], ["repak", "repack"]]) {
      const result = await runShared([typed!]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`^error: unknown command '${typed}' \\(did you mean ${meant}\\?\\)$`, "m"));
    }
  });
});

describe("the npm package", () => {
  interface Packed { files: Array<{ path: string; size: number }>; unpackedSize: number }

  test("ships only what runs: no source maps, no code cache, no stale bundle chunks, no output of sources that are gone", async () => {
    const result = await runCommand("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { env: { npm_config_update_notifier: "false" } });
    assert.equal(result.code, 0, result.stderr);
    const [packed] = JSON.parse(result.stdout) as Packed[];
    const shipped = packed!.files.map((file) => file.path);
    assert.deepEqual(shipped.filter((file) => file.endsWith(".map")), [], "no source maps");
    for (const file of shipped.filter((name) => name.endsWith(".js"))) {
      assert.doesNotMatch(await readFile(path.join(ROOT, file), "utf8"), /\/\/# sourceMappingURL=/, `${file} points to no map`);
    }
    assert.deepEqual(shipped.filter((file) => !/^(bin\/mpip\.js|bin\/package\.json|dist\/(mpip|mpip-help|start)\.cjs|dist\/.+\.(js|d\.ts)|package\.json|README\.md)$/.test(file)), [], "nothing but the program, its types, package.json and the README (no code cache: it is made by the Node that runs mpip)");
    // The bundles: the CLI in one file, its help alone, what the command loads before them, and the
    // compile worker beside them, no chunks of an earlier build; bin/package.json, which makes the command
    // a CommonJS script.
    for (const entry of ["dist/mpip.cjs", "dist/mpip-help.cjs", "dist/start.cjs", "dist/compile-worker.js", "bin/package.json"]) assert.ok(shipped.includes(entry), `${entry} is shipped`);
    assert.deepEqual(shipped.filter((file) => /^dist\/mpip-[\w-]+\.js$/.test(file)), [], "no bundle chunks");
    // ASCII, which the loader reads without decoding UTF-8 (src/code-cache.ts).
    for (const bundle of ["mpip.cjs", "mpip-help.cjs"]) assert.ok(isAscii(await readFile(path.join(ROOT, "dist", bundle))), `${bundle} is ASCII`);
    // tsc's output: one module per source file.
    const compiled = shipped.filter((file) => /^dist\/.+\.js$/.test(file) && !/^dist\/(mpip-[\w-]+|compile-worker)\.js$/.test(file));
    const orphans = [];
    for (const file of compiled) {
      const source = path.join(ROOT, "src", file.slice("dist/".length).replace(/\.js$/, ".ts"));
      if (!(await readFile(source).then(() => true, () => false))) orphans.push(file);
    }
    assert.deepEqual(orphans, [], "compiled modules whose source is gone");
  });
});

describe("a current folder removed after the shell entered it", () => {
  test("every command that does work fails at once saying so (exit 1, JSON with --json), not as a bug; help and --version still answer", async () => {
    // Before: `install` failed deep in its work with "unexpected failure: ENOENT ... uv_cwd ... This is a
    // bug in mpip", and other commands as each happened to.
    const { dir, cleanup } = await tempDir("mpip-gone-");
    try {
      const fixture = path.join(ROOT, "fixtures", "mpip-demo-ansi-1.2.0.tar.gz");
      const target = path.join(dir, "image");
      const inRemovedFolder = (args: string[]) => {
        const words = [process.execPath, BIN, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
        return runCommand("bash", ["-c", `mkdir gone && cd gone && rmdir ../gone && exec ${words}`], { cwd: dir });
      };
      for (const args of [["install", "-p", target, "--no-deps", fixture], ["list", "-p", target], ["lock", "fmt"], ["cache", "info"]]) {
        const result = await inRemovedFolder(args);
        assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /^error: the current folder no longer exists \(it was removed after the shell entered it\)$/m, args.join(" "));
        assert.match(result.stderr, /^hint: change to a folder that exists/m);
        assert.doesNotMatch(result.stderr, /This is a bug|\n\s+at /, args.join(" "));
      }
      const json = await inRemovedFolder(["install", "--json", "-p", target, fixture]);
      assert.equal(json.code, 1);
      assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, "io");
      assert.deepEqual(await readdir(dir), [], "nothing was made");
      const help = await inRemovedFolder(["install", "--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: mpip install /);
      assert.equal((await inRemovedFolder(["--version"])).code, 0);
    } finally {
      await cleanup();
    }
  });
});
