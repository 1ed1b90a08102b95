// An option a command does not take, when it means something elsewhere: pip's spelling (`-t`, `--index`,
// `--user`) is answered with mpip's way, and an option of another command (`sync -f`, `check -p`) with
// what this command does instead; a misspelt subcommand (`index biuld`) gets its look-alike.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runMpip } from "../helpers/cli.js";

const hintOf = (stderr: string) => /^hint: (.*)$/m.exec(stderr)?.[1] ?? "";

async function usage(args: string[]): Promise<{ error: string; hint: string }> {
  const result = await runMpip(args);
  assert.equal(result.code, 2, result.stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  return { error: /^error: (.*)$/m.exec(result.stderr)?.[1] ?? "", hint: hintOf(result.stderr) };
}

describe("pip's options", () => {
  test("-t/--target points to -p in every command that takes -p, and says so where the command has none", async () => {
    for (const args of [["install", "-t", "x", "pkg"], ["sync", "-t", "x"], ["list", "-t", "x"], ["show", "-t", "x", "pkg"], ["freeze", "-t", "x"], ["uninstall", "-t", "x", "pkg"], ["manifest", "-t", "x"]]) {
      const { error, hint } = await usage(args);
      assert.equal(error, "unknown option '-t'", args.join(" "));
      assert.equal(hint, "pip's `-t` installs into a folder; mpip's is `-p DIR` (`--target DIR`)", args.join(" "));
    }
    const pack = await usage(["pack", "-t", "x"]);
    assert.equal(pack.hint, "pip's `-t` installs into a folder; `mpip pack` has no such option");
  });

  test("--index means --index-url, not the --no-index commander would offer", async () => {
    for (const command of [["install"], ["download", "-d", "x"], ["lock"]]) {
      const { error, hint } = await usage([...command, "--index", "https://example.org/simple", "pkg"]);
      assert.equal(error, "unknown option '--index'");
      assert.equal(hint, "pip's `--index` is short for --index-url; mpip's is `-i URL` (`--index-url URL`); `--no-index` asks no index at all");
    }
  });

  test("options mpip has no use for say what mpip does instead, the = form too", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--user"], /^pip's `--user` installs into the user's site-packages; mpip has no user scheme: with no `-p DIR` it installs into the first MICROPYPATH entry, else ~\/\.micropython\/lib/],
      [["--prefix=/usr/local"], /^pip's `--prefix` .*one folder, the one `-p DIR` names$/],
      [["--root", "/x"], /^pip's `--root` .*`-p DIR`/],
      [["--upgrade-strategy", "eager"], /^pip's `--upgrade-strategy` says which dependencies -U upgrades; mpip has one strategy: `-U`/],
      [["-e", "."], /^pip's `-e` installs a project in place \(editable\); mpip has no editable installs .*`mpip install -p DIR \.\/project`/],
      [["--no-cache-dir"], /^pip's `--no-cache-dir` turns its cache off; mpip's is `--no-cache`$/],
      [["--platform", "linux_x86_64"], /^pip's `--platform` chooses wheels for another Python; .*`--target-version 1\.22` or `--mpy 6`/],
      [["--trusted-host", "h"], /`--cert FILE`$/],
    ];
    for (const [options, says] of cases) {
      const { error, hint } = await usage(["install", ...options, "pkg"]);
      assert.match(error, /^unknown option '/, options.join(" "));
      assert.match(hint, says, options.join(" "));
    }
    // An option pip does not have either keeps the plain hint and commander's look-alike.
    const typo = await usage(["install", "--verbos", "pkg"]);
    assert.equal(typo.error, "unknown option '--verbos' (did you mean --verbose?)");
    assert.equal(typo.hint, "`mpip install --help` shows its usage and options");
  });
});

describe("another command's options", () => {
  test("sync takes no -f, --no-index, -r, --lock: it installs what the lock lists, a folder of its files given with -i", async () => {
    for (const options of [["-f", "fixtures"], ["--find-links=fixtures"], ["--no-index"]]) {
      const { hint } = await usage(["sync", ...options]);
      assert.match(hint, /^`mpip sync` (installs exactly what the lock lists|asks no index).*a folder holding the lock's files is given with `-i DIR`$/, options.join(" "));
    }
    for (const options of [["-r", "requirements.txt"], ["--no-deps"], ["-U"]]) {
      const { hint } = await usage(["sync", ...options]);
      assert.match(hint, /^`mpip sync` installs exactly what the lock lists and resolves nothing: to change what is installed, change the lock with `mpip lock`/, options.join(" "));
    }
    assert.equal((await usage(["sync", "--lock", "pylock.toml"])).hint, "`mpip sync` takes the lock as its argument: `mpip sync pylock.toml`");
  });

  test("check -p: check checks archives, and show -f checks a folder's files", async () => {
    for (const options of [["-p", "img"], ["--target=img"]]) {
      const { error, hint } = await usage(["check", ...options, "x.tar.gz"]);
      assert.match(error, /^unknown option ('-p'|'--target' \(given as '--target=img'\))$/);
      assert.match(hint, /^`mpip check` checks archives \(\.tar\.gz sdists\) before they are installed, and takes no folder; .*`mpip show -f -p DIR NAME`$/);
    }
  });

  test("download -p and lock -p say where those commands write", async () => {
    assert.match((await usage(["download", "-d", "dl", "-p", "img", "pkg"])).hint, /^`mpip download` writes a folder that is itself an index, named with `-d DIR`/);
    assert.match((await usage(["lock", "-p", "img", "pkg"])).hint, /^`mpip lock` writes a lock file \(`-o FILE`\), into no folder: `mpip sync -p DIR`/);
  });
});

describe("an unknown option written with `=`", () => {
  test("is named by itself, with the word as given, short or long, alone or in a group", async () => {
    for (const [args, error] of [
      [["install", "-x=1", "pkg"], "unknown option '-x' (given as '-x=1')"],
      [["install", "--bogus=1", "pkg"], "unknown option '--bogus' (given as '--bogus=1')"],
      [["install", "-qx=a=b", "pkg"], "unknown option '-x' (given as '-x=a=b')"],
      [["cache", "info", "--wide=yes"], "unknown option '--wide' (given as '--wide=yes')"],
      [["install", "--bogus", "pkg"], "unknown option '--bogus'"],
    ] as const) {
      assert.equal((await usage([...args])).error, error, args.join(" "));
    }
  });
});

describe("subcommands", () => {
  test("a misspelt subcommand of index or cache gets its look-alike; another word does not", async () => {
    for (const [args, near] of [[["index", "biuld"], "build"], [["cache", "clen"], "clean"], [["cache", "inf"], "info"], [["cache", "dri"], "dir"]] as const) {
      const { error } = await usage([...args]);
      assert.equal(error, `unknown command '${args[1]}' for \`mpip ${args[0]}\` (did you mean ${near}?)`);
    }
    assert.equal((await usage(["cache", "purge-everything"])).error, "unknown command 'purge-everything' for `mpip cache`");
  });
});
