// Usage errors: one rule for every command. What cannot be run as given (commander's own parse errors, a
// bad or empty value, a malformed spec on the command line or in a -r file, an unreadable -r file) exits 2;
// with --json anywhere on the command line, stdout carries the `{"ok": false, "error": {...}}` document
// whatever failed. A failure of the work itself (a package's own broken metadata) exits 1.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT, runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";

const FIXTURES = path.join(ROOT, "fixtures");

let work: { dir: string; cleanup: () => Promise<void> };
let server: IndexServer;

before(async () => {
  work = await tempDir("mpip-usage-");
  server = await startIndexServer();
  await server.addSdist({ name: "brokenreq", version: "1.0", files: { "brokenreq.py": "" }, requires: ["dep >= >="] });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

interface Failure {
  code: string;
  message: string;
  hint?: string;
}

/** Exit 2, an `error:` and a `hint:` on stderr, and (with --json) the failure document on stdout. */
function assertUsage(result: RunResult, json: boolean, code = "usage"): Failure | undefined {
  assert.equal(result.code, 2, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, /^error: /m);
  assert.doesNotMatch(result.stderr, /This is a bug in mpip|\n\s+at /);
  if (!json) {
    assert.equal(result.stdout, "");
    return undefined;
  }
  const document = JSON.parse(result.stdout) as { ok: boolean; error: Failure };
  assert.equal(document.ok, false);
  assert.equal(document.error.code, code, result.stdout);
  assert.ok(document.error.message.length > 0);
  assert.ok(!document.error.message.startsWith("error:"), "the message is the error's, without the terminal's prefix");
  return document.error;
}

describe("commander's parse errors", () => {
  const commands: Array<{ command: string; ok: string[] }> = [
    { command: "install", ok: ["-p", "image", "x"] },
    { command: "pack", ok: ["."] },
    { command: "repack", ok: ["x.tar.gz"] },
    { command: "check", ok: ["x.tar.gz"] },
  ];
  // `jsonLast: false`: the mistake is an option missing its value at the end, which would take a
  // following `--json` as that value (commander's rule), so --json goes before it.
  const mistakes: Array<{ name: string; args: (ok: string[]) => string[]; message: RegExp; only?: string[]; jsonLast?: false }> = [
    { name: "an unknown option", args: (ok) => ["--bogus", ...ok], message: /unknown option '--bogus'/ },
    { name: "a misspelt option", args: (ok) => ["--verbos", ...ok], message: /unknown option '--verbos' \(did you mean --verbose\?\)/, only: ["install", "pack", "repack"] },
    { name: "a bad number", args: (ok) => ["--jobs", "0", ...ok], message: /--jobs must be a whole number from 1 to 256/, only: ["install"] },
    { name: "a bad timeout", args: (ok) => ["--timeout", "x", ...ok], message: /--timeout must be a number of seconds/, only: ["install"] },
    { name: "a missing option value", args: (ok) => [...ok, "--timeout"], message: /option '--timeout <seconds>' argument missing/, only: ["install"], jsonLast: false },
    { name: "a missing -o value", args: (ok) => [...ok, "-o"], message: /option '-o, --out-dir <dir>' argument missing/, only: ["pack", "repack"], jsonLast: false },
    { name: "too many arguments", args: () => [".", "extra"], message: /too many arguments for 'pack'/, only: ["pack"] },
    { name: "a missing argument", args: () => [], message: /missing required argument/, only: ["repack", "check"] },
  ];
  for (const { command, ok } of commands) {
    for (const mistake of mistakes) {
      if (mistake.only !== undefined && !mistake.only.includes(command)) continue;
      test(`${command}: ${mistake.name} exits 2, with the JSON document when --json is anywhere`, async () => {
        const args = mistake.args(ok);
        // Without --json, and with it before and (where it can go there) after the mistake. Without it
        // there is one command line only: "before" and "after" would be the same run.
        const lines = [[command, ...args], [command, "--json", ...args]];
        if (mistake.jsonLast !== false) lines.push([command, ...args, "--json"]);
        for (const line of lines) {
          const result = await runMpip(line, { cwd: work.dir });
          const failure = assertUsage(result, line.includes("--json"));
          assert.match(result.stderr, mistake.message, line.join(" "));
          assert.match(result.stderr, new RegExp(`^hint: \`mpip ${command} --help\``, "m"));
          if (failure !== undefined) {
            assert.match(failure.message, mistake.message);
            assert.match(failure.hint ?? "", new RegExp(`mpip ${command} --help`));
          }
        }
      });
    }
  }

  test("an unknown command, and options with no command, exit 2 with the JSON document", async () => {
    for (const args of [["frobnicate", "--json"], ["--json", "install", "x"], ["--json"], ["--json", "--quiet"]]) {
      const result = await runMpip(args, { cwd: work.dir });
      const failure = assertUsage(result, true)!;
      assert.match(failure.message, /unknown (command 'frobnicate'|option '--json')/, args.join(" "));
      assert.match(failure.hint ?? "", /`mpip (install )?--help`/);
    }
  });

  test("--json after `--` is a spec, not the option", async () => {
    const result = await runMpip(["install", "--no-index", "-p", path.join(work.dir, "dashdash"), "--", "--json"], { cwd: work.dir });
    // Taken as the option, it would print a failure document on stdout; taken as a spec, it is refused
    // as a requirement, a usage error that names it.
    assert.equal(result.stdout, "");
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^error: invalid requirement `--json`: expected a package name, found `--json`$/m);
  });
});

describe("--json given as an option's value", () => {
  test("is the value, not the option: a usage error is said on stderr only", async () => {
    // Before: any word `--json` switched the failure to JSON, here the folder `-p` names or the index `-i`.
    for (const args of [["install", "-p", "--json", "-U=1", "x"], ["install", "-i", "--json", "--bogus", "x"], ["install", "-qp", "--json", "--bogus"], ["download", "-d", "--json", "--bogus", "x"]]) {
      const result = await runMpip(args, { cwd: work.dir });
      assertUsage(result, false);
    }
  });

  test("and the option after a value still asks for JSON, at any depth of command", async () => {
    for (const args of [["install", "-p", "img", "--json", "-U=1", "x"], ["cache", "info", "--json", "--bogus"], ["install", "-p", "-p", "--json", "--bogus"]]) {
      const result = await runMpip(args, { cwd: work.dir });
      assertUsage(result, true);
    }
  });
});

describe("options written with `=`, as pip reads them", () => {
  test("a value for an option that takes none, short or long, alone or in a group: exit 2, naming the option", async () => {
    // Before: `-U=1` was an unknown option `-=1` (not what was typed), `--upgrade=1` an unknown option.
    for (const [args, flag, names] of [
      [["install", "-U=1", "x"], "-U", "`-U`, `--upgrade`"],
      [["install", "--upgrade=yes", "x"], "--upgrade", "`-U`, `--upgrade`"],
      [["install", "--no-deps=1", "x"], "--no-deps", "`--no-deps`"],
      [["install", "-qU=1", "x"], "-U", "`-U`, `--upgrade`"],
      [["cache", "clean", "--debug=no"], "--debug", "`--debug`"],
    ] as const) {
      for (const line of [[...args], [...args, "--json"]]) {
        const result = await runMpip(line, { cwd: work.dir });
        const failure = assertUsage(result, line.includes("--json"));
        const typed = args.find((arg) => arg.includes("="))!;
        const message = new RegExp(`option ${names} takes no value, but \`${typed}\` gives it one`);
        assert.match(result.stderr, message, line.join(" "));
        assert.match(result.stderr, new RegExp(`^hint: give \`${flag}\` alone; \`mpip ${args[0] === "cache" ? "cache clean" : "install"} --help\``, "m"));
        if (failure !== undefined) assert.match(failure.message, message);
      }
    }
  });

  test("a short option's value after `=` is the value (`-p=DIR` is `-p DIR`), alone or last in a group; after `--` a word is left as it is", async () => {
    // Before: `-p=image` installed into a folder named `=image`.
    const fixture = path.join(FIXTURES, "mpip-demo-ansi-1.2.0.tar.gz");
    for (const [name, args] of [
      ["alone", (target: string) => [`-p=${target}`]],
      ["in a group", (target: string) => ["-q", `-Up=${target}`]],
      ["relative", () => ["-p=relative-image"]],
    ] as const) {
      const target = path.join(work.dir, `equals-${name.replace(/ /g, "-")}`);
      const result = await runMpip(["install", "--no-deps", "-j=2", ...args(target), fixture], { cwd: work.dir });
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      const made = name === "relative" ? path.join(work.dir, "relative-image") : target;
      assert.ok((await readdir(made)).includes("ansi.py"), name);
    }
    assert.ok(!(await readdir(work.dir)).some((entry) => entry.startsWith("=")), "no folder named `=...`");
    const listed = await runMpip(["list", "--json", `-p=${path.join(work.dir, "relative-image")}`]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { packages: Array<{ name: string }> }).packages.map((entry) => entry.name), ["mpip-demo-ansi"]);
    const spec = await runMpip(["install", "--no-index", "-p", path.join(work.dir, "dashdash-equals"), "--", "-U=1"], { cwd: work.dir });
    assert.equal(spec.code, 2);
    assert.match(spec.stderr, /^error: invalid requirement `-U=1`/m);
  });
});

describe("options written with `=`: what commander reads them as", () => {
  test("a value that is `--` is an option's value, not the end of the options: `-p=DIR` after it is still `-p DIR`", async () => {
    // Before: the word after `-p` was taken for the end of the options, and `-p=x` installed into `=x`.
    const fixture = path.join(FIXTURES, "mpip-demo-fmt-1.0.tar.gz");
    const cwd = path.join(work.dir, "value-dashdash");
    await mkdir(cwd);
    const result = await runMpip(["install", "--no-deps", "-p", "--", "-p=image", fixture], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(cwd)).sort(), ["image"]);
    assert.ok((await readdir(path.join(cwd, "image"))).includes("fmt.py"));
    const flag = await runMpip(["install", "-p", "--", "-U=1", fixture], { cwd });
    assertUsage(flag, false);
    assert.match(flag.stderr, /^error: option `-U`, `--upgrade` takes no value, but `-U=1` gives it one$/m);
  });

  test("the help option given a value is one that takes none (`-h=1`, `--help=1`, `-qh=1`), for mpip and for a command", async () => {
    // Before: an unknown option `-h=1`, offered back as `mpip install -h=1 ...`.
    for (const [args, typed, usage] of [
      [["install", "-h=1"], "-h=1", "mpip install --help"],
      [["install", "-qh=1", "x"], "-qh=1", "mpip install --help"],
      [["cache", "clean", "--help=yes"], "--help=yes", "mpip cache clean --help"],
      [["--help=1"], "--help=1", "mpip --help"],
    ] as const) {
      for (const line of [[...args], [...args, "--json"]]) {
        const result = await runMpip(line, { cwd: work.dir });
        const failure = assertUsage(result, line.includes("--json"));
        const message = `option \`-h\`, \`--help\` takes no value, but \`${typed}\` gives it one`;
        assert.ok(result.stderr.includes(`error: ${message}\n`), `${line.join(" ")}: ${result.stderr}`);
        assert.ok(result.stderr.includes(`; \`${usage}\` shows its usage and options`), result.stderr);
        if (failure !== undefined) assert.equal(failure.message, message);
      }
    }
  });

  test("a word that names no command where one is expected is the error, not the options of a command named after it", async () => {
    // Before: `mpip instal install -U=1` said `-U=1` was given to install's `-U`, which nothing was running.
    for (const [args, message] of [
      [["instal", "install", "-U=1"], "unknown command 'instal' (did you mean install?)"],
      [["cache", "bogus", "clean", "-q=1"], "unknown command 'bogus' for `mpip cache`"],
    ] as const) {
      const result = await runMpip([...args], { cwd: work.dir });
      assertUsage(result, false);
      assert.ok(result.stderr.startsWith(`error: ${message}\n`), result.stderr);
    }
  });
});

describe("empty values for path options", () => {
  const cases: Array<{ args: string[]; option: RegExp }> = [
    { args: ["install", "-p", "", "--no-index", "-f", FIXTURES, "mpip-demo-app"], option: /'-p, --target <dir>' argument '' is invalid\. --target needs a path/ },
    { args: ["install", "--target=", "--no-index", "-f", FIXTURES, "mpip-demo-app"], option: /--target needs a path/ },
    { args: ["install", "-p", "image", "-r", "", "--no-index", "-f", FIXTURES], option: /--requirement needs a path/ },
    { args: ["install", "-p", "image", "--no-index", "-f", "", "mpip-demo-app"], option: /--find-links needs a path/ },
    { args: ["install", "-p", "image", "--cert", "", "--no-index", "-f", FIXTURES, "mpip-demo-app"], option: /--cert needs a path/ },
    { args: ["install", "-p", "image", "--compile", "--mpy-cross", "", "--no-index", "-f", FIXTURES, "mpip-demo-app"], option: /--mpy-cross needs a path/ },
    { args: ["pack", "-o", "", "."], option: /--out-dir needs a path/ },
    { args: ["pack", ""], option: /argument 'dir'\. It needs a path/ },
    { args: ["repack", "-o", "", "x.tar.gz"], option: /--out-dir needs a path/ },
    { args: ["repack", ""], option: /argument 'sdist'\. It needs a path/ },
    { args: ["check", ""], option: /argument 'archive'\. It needs a path/ },
    { args: ["bin2res", ""], option: /argument 'file'\. It needs a path/ },
  ];
  for (const { args, option } of cases) {
    test(`${args.slice(0, 4).map((arg) => (arg === "" ? '""' : arg)).join(" ")}: a usage error naming it, nothing written`, async () => {
      const { dir, cleanup } = await tempDir("mpip-empty-");
      try {
        // bin2res takes no --json: one run, without it.
        for (const json of args[0] === "bin2res" ? [false] : [false, true]) {
          const result = await runMpip(json ? [...args, "--json"] : args, { cwd: dir });
          assertUsage(result, json);
          assert.match(result.stderr, option);
          assert.match(result.stderr, /is a variable in the command unset\?/);
          assert.deepEqual(await readdir(dir), [], "the current folder is untouched");
        }
      } finally {
        await cleanup();
      }
    });
  }
});

describe("an .mpy version mpip does not support", () => {
  // A major version other than 5 and 6 (a number, a word, nothing: `4` took the same branch as `7`, with
  // the same message), and a sub-version .mpy 5 lacks and one above .mpy 6's (each its own message).
  for (const value of ["7", "5.1", "6.4", "banana", ""]) {
    test(`--mpy ${JSON.stringify(value)}: a usage error with a hint saying where the firmware's version is found`, async () => {
      const { dir, cleanup } = await tempDir("mpip-mpy-");
      try {
        const result = await runMpip(["install", "-p", "image", "--mpy", value, "--no-index", "-f", FIXTURES, "mpip-demo-app"], { cwd: dir });
        assertUsage(result, false);
        assert.match(result.stderr, /^error: .*\.mpy/m);
        assert.match(result.stderr, /^hint: .*sys\.implementation\._mpy/m);
        assert.deepEqual(await readdir(dir), [], "nothing written");
      } finally {
        await cleanup();
      }
    });
  }
});

describe("one exit code rule for what the user typed", () => {
  test("a malformed spec on the command line exits 2, as an unreadable -r file does", async () => {
    for (const [spec, code] of [["foo>=", "bad-requirement"], ["foo @ https://host/foo.py", "bad-spec"], ["./nowhere-1.0.tar.gz", "bad-spec"], ["https://host/x.tar.gz#md5=1", "bad-spec"]] as const) {
      const result = await runMpip(["install", "-p", "image", "--json", "--no-index", "-f", FIXTURES, spec], { cwd: work.dir });
      const failure = assertUsage(result, true, code)!;
      assert.ok(failure.hint !== undefined || code === "bad-requirement", spec);
    }
    const missing = await runMpip(["install", "-p", "image", "--json", "-r", path.join(work.dir, "absent.txt")], { cwd: work.dir });
    assert.match(assertUsage(missing, true)!.message, /there is no requirements file/);
  });

  test("a malformed line of a -r file exits 2, naming the file and the line", async () => {
    const file = path.join(work.dir, "reqs.txt");
    for (const [line, code] of [["foo>=", "bad-requirement"], ["ftp://host/x.tar.gz", "bad-spec"], ["foo; os_name ==", "bad-requirement"]] as const) {
      await writeFile(file, `# comment\nmpip-demo-app\n${line}\n`);
      const result = await runMpip(["install", "-p", "image", "--json", "--no-index", "-f", FIXTURES, "-r", file], { cwd: work.dir });
      const failure = assertUsage(result, true, code)!;
      assert.ok(failure.message.startsWith(`\`${file}\` line 3: `), failure.message);
    }
  });

  test("a package's own malformed requires.txt is a failure of the install, exit 1", async () => {
    const result = await runMpip(["install", "-p", path.join(work.dir, "image-broken"), "--json", "-i", server.url, "brokenreq"]);
    assert.equal(result.code, 1, result.stderr);
    const failure = (JSON.parse(result.stdout) as { error: Failure }).error;
    assert.match(failure.message, /in the dependencies of `brokenreq 1\.0`/);
  });

  test("nothing to install, and options that need another, exit 2 with the JSON document", async () => {
    for (const args of [[], ["--keep-sources", "x"], ["--arch", "xtensawin", "x"], ["--mpy", "6", "--target-version", "1.22", "x"], ["--target-version", "banana", "x"]]) {
      const result = await runMpip(["install", "-p", "image", "--json", ...args], { cwd: work.dir });
      assertUsage(result, true);
    }
  });

  test("nothing to install where the current folder holds a lock, a requirements.txt or a project: the hint offers the typed command with each", async () => {
    const folders: Array<{ files: string[]; lines: string[]; args?: string[] }> = [
      { files: [], lines: [] },
      { files: ["pylock.toml", "requirements.txt", "pyproject.toml"], lines: ["`pylock.toml` is here: `mpip install -p 'my image' --lock pylock.toml` installs what it locks", "`requirements.txt` is here: `mpip install -p 'my image' -r requirements.txt` installs what it lists", "this folder is a project (`pyproject.toml`): `mpip install -p 'my image' .` installs it with its dependencies"] },
      { files: ["pylock.dev.toml", "pylock.toml.bak"], lines: ["`pylock.dev.toml` is here: `mpip install -p 'my image' --lock pylock.dev.toml` installs what it locks"] },
      { files: ["pyproject.toml"], lines: ["this folder is a project (`pyproject.toml`): `mpip install -p 'my image' .` installs it with its dependencies"] },
      // Every lock, pylock.toml first; and, a `--` typed, the options offered go right after the command's
      // name, not after the `--` as specs.
      { files: ["pylock.prod.toml", "pylock.dev.toml", "pylock.toml"], args: ["--"], lines: ["`pylock.toml` is here: `mpip install --lock pylock.toml -p 'my image' --` installs what it locks", "`pylock.dev.toml` is here: `mpip install --lock pylock.dev.toml -p 'my image' --` installs what it locks", "`pylock.prod.toml` is here: `mpip install --lock pylock.prod.toml -p 'my image' --` installs what it locks"] },
    ];
    for (const [index, { files, lines, args = [] }] of folders.entries()) {
      const cwd = path.join(work.dir, `here-${index}`);
      await mkdir(cwd);
      for (const file of files) await writeFile(path.join(cwd, file), "");
      const result = await runMpip(["install", "-p", "my image", ...args], { cwd });
      assertUsage(result, false);
      const hint = result.stderr.slice(result.stderr.indexOf("hint: "));
      // The first line offers the command as typed too, with a name where the specs go.
      const named = args.includes("--") ? "mpip install NAME -p 'my image' --" : "mpip install -p 'my image' NAME";
      assert.equal(hint, `${[`hint: name packages (\`${named}\`) or a requirements file (\`-r FILE\`)`, ...lines].join("\n")}\n`, files.join(" "));
    }
  });

  test("nothing to install: each command offered runs as shown when pasted into a shell, with what the folder holds; a folder or dangling link of those names is not offered", async () => {
    // Before: a lock's name went into the command unquoted (`--lock pylock.a b$(id).toml`), the words went
    // after a typed `--` (where `--lock` is a package's name), and a folder named pylock.toml was offered.
    const cwd = path.join(work.dir, "offered");
    await mkdir(cwd);
    const lock = "pylock.my \u001b[31mlock$(touch pwned)'.toml";
    for (const file of [lock, "requirements.txt", "pyproject.toml"]) await writeFile(path.join(cwd, file), "");
    for (const [typed, deps] of [
      [["install", "--json", "-p", "my image", "--"], true],
      [["install", "--json", "--no-deps", "-p", "--"], false],
      [["install", "-p=a b", "--json"], true],
    ] as const) {
      const result = await runMpip([...typed], { cwd });
      const failure = assertUsage(result, true)!;
      assert.doesNotMatch(result.stderr, /\u001b/, "no escape printed raw");
      const offered = [...failure.hint!.matchAll(/: `(mpip install .*?)` installs/g)].map((match) => match[1]!);
      assert.equal(offered.length, 3, failure.hint);
      assert.match(failure.hint!, deps ? /`mpip install [^`]*\.[^`]*` installs it with its dependencies$/ : /`mpip install [^`]*\.[^`]*` installs it$/);
      for (const command of offered) {
        // The words bash reads from the command shown, as mpip would be given them.
        const words = execFileSync("bash", ["-c", `mpip() { printf '%s\\0' "$@"; }; ${command}`], { cwd, encoding: "utf8" }).split("\0").slice(0, -1);
        const added = command.includes("--lock") ? ["--lock", lock] : command.includes("-r requirements.txt") ? ["-r", "requirements.txt"] : ["."];
        const rest: readonly string[] = typed.slice(1);
        assert.deepEqual(words, rest.includes("--") ? ["install", ...added, ...rest] : ["install", ...rest, ...added], command);
      }
    }
    assert.ok(!(await readdir(cwd)).includes("pwned"), "nothing in the name was run");

    const links = path.join(work.dir, "offered-not-files");
    await mkdir(path.join(links, "pylock.toml"), { recursive: true });
    await mkdir(path.join(links, "pyproject.toml"));
    await symlink("missing.txt", path.join(links, "requirements.txt"));
    await writeFile(path.join(links, "real.toml"), "");
    await symlink("real.toml", path.join(links, "pylock.dev.toml"));
    const result = await runMpip(["install"], { cwd: links });
    assertUsage(result, false);
    assert.equal(result.stderr.slice(result.stderr.indexOf("hint: ")), "hint: name packages (`mpip install NAME`) or a requirements file (`-r FILE`)\n`pylock.dev.toml` is here: `mpip install --lock pylock.dev.toml` installs what it locks\n");
  });
});
