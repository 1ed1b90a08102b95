// What a lock records it was made from, through the built CLI: the constraints its resolution applied
// (from `-c` on the command line or named by a `-r` file) and the files they came from, beside the
// requirements, indexes, `-f` folders and firmware it recorded already; `lock --check` compares all of it
// (a lock made with constraints is out of date without them, or with others), the command a bare
// `--check` offers gives all of it again (and checks the lock), and a check against other indexes or
// folders than the lock's says so without asking them anything. A lock written before constraints were
// recorded still reads, installs and checks.

import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, runCommand, runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { buildSdist } from "../helpers/sdist.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-lock-inputs-");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** `project/`: `wheelhouse/` (app 1.0, which requires ticker; ticker 1.0 and 2.0), `pins/constraints.txt` (`ticker<2`), `reqs.txt` naming it with -c. */
async function project(): Promise<string> {
  const dir = path.join(work.dir, `project-${++counter}`);
  await writeTree(dir, {
    "wheelhouse/app-1.0.tar.gz": await buildSdist({ name: "app", version: "1.0", files: { "app.py": "import ticker\n" }, requires: ["ticker"] }),
    "wheelhouse/ticker-1.0.tar.gz": await buildSdist({ name: "ticker", version: "1.0", files: { "ticker.py": "V = 1\n" } }),
    "wheelhouse/ticker-2.0.tar.gz": await buildSdist({ name: "ticker", version: "2.0", files: { "ticker.py": "V = 2\n" } }),
    "pins/constraints.txt": "ticker<2\n# a comment\nnothing-else ; sys_platform == 'win32'\n",
    "reqs.txt": "app\n-c pins/constraints.txt\n",
  });
  return dir;
}

/** The command a bare `lock --check` offers in `stderr`, run through a POSIX shell in `cwd`. */
async function runOffered(stderr: string, cwd: string) {
  const offered = /as in `(mpip lock --check [^`]+)`$/m.exec(stderr)?.[1];
  assert.ok(offered !== undefined, stderr);
  return { offered, result: await runCommand("sh", ["-c", offered.replace(/^mpip /, `"${process.execPath}" "${BIN}" `)], { cwd }) };
}

describe("a lock records its constraints", () => {
  test("-c on the command line: recorded with its file; --check compares them; the command a bare --check offers carries -c and checks the lock", async () => {
    const dir = await project();
    const args = ["--no-index", "-f", "wheelhouse", "-c", "pins/constraints.txt", "app"];
    const locked = await runMpip(["lock", ...args], { cwd: dir });
    assert.equal(locked.code, 0, locked.stderr);
    const text = await readFile(path.join(dir, "pylock.toml"), "utf8");
    assert.match(text, /name = "ticker"\nversion = "1\.0"/);
    // Only the constraints that apply on MicroPython, as written; the file relative to the lock.
    assert.match(text, /^constraint-files = \["pins\/constraints\.txt"\]\nconstraints = \["ticker<2"\]$/m);

    assert.equal((await runMpip(["lock", "--check", ...args], { cwd: dir })).code, 0);
    // Without the constraint the resolution differs, and so do the recorded inputs: both are said.
    const without = await runMpip(["lock", "--check", "--no-index", "-f", "wheelhouse", "app"], { cwd: dir });
    assert.equal(without.code, 1, without.stderr);
    assert.match(without.stderr, /^~ ticker: version 1\.0 → 2\.0/m);
    assert.match(without.stderr, /^~ \[tool\.mpip\] constraints: \["ticker<2"\] → \[\]$/m);
    // Another constraint that picks the same version is another input all the same (as uv's lock records them).
    await writeFile(path.join(dir, "looser.txt"), "ticker<3,!=2.0\n");
    const looser = await runMpip(["lock", "--check", "--no-index", "-f", "wheelhouse", "-c", "looser.txt", "app", "--json"], { cwd: dir });
    assert.equal(looser.code, 1, looser.stderr);
    const document = JSON.parse(looser.stdout) as { error: { code: string }; changes: Array<{ type: string; name: string; text: string }> };
    assert.equal(document.error.code, "lock-outdated");
    assert.deepEqual(document.changes.map((change) => [change.type, change.name]), [["settings", "constraints"], ["settings", "constraint-files"]]);
    assert.equal(document.changes[0]!.text, '~ [tool.mpip] constraints: ["ticker<2"] → ["ticker<3,!=2.0"]');

    // A bare --check names the constraints and offers a command that gives them again with -c, from
    // wherever it is run; that command finds the lock up to date.
    const sub = path.join(dir, "sub");
    await mkdir(sub);
    const bare = await runMpip(["lock", "--check", "-o", "../pylock.toml"], { cwd: sub });
    assert.equal(bare.code, 2, bare.stderr);
    assert.match(bare.stderr, /^hint: `\.\.\/pylock\.toml` was made from `app` \(with the constraint `ticker<2`\): give it again, as in `mpip lock --check -o \.\.\/pylock\.toml --no-index -f \.\.\/wheelhouse -c \.\.\/pins\/constraints\.txt -- app`$/m);
    const { result } = await runOffered(bare.stderr, sub);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /is up to date \(2 packages\)/);
    assert.equal(await readFile(path.join(dir, "pylock.toml"), "utf8"), text, "--check never writes");
  });

  test("-c from a pipe (bash's `<(...)`): its constraints are recorded, the pipe's path is not, and --check with the same pipe is up to date", async () => {
    const dir = await project();
    const lockWith = (extra: string) => runCommand("bash", ["-c", `exec "$0" "$1" lock --no-index -f wheelhouse -c <(printf 'ticker<2\\n') app ${extra}`, process.execPath, BIN], { cwd: dir });
    const locked = await lockWith("");
    assert.equal(locked.code, 0, locked.stderr);
    const text = await readFile(path.join(dir, "pylock.toml"), "utf8");
    assert.match(text, /^constraints = \["ticker<2"\]$/m);
    assert.doesNotMatch(text, /constraint-files|\/fd\//);
    assert.match(text, /name = "ticker"\nversion = "1\.0"/);
    const checked = await lockWith("--check");
    assert.equal(checked.code, 0, checked.stderr);
  });

  test("-c named by a -r file, and constraints from pyproject.toml's lock: recorded with the file that holds them, and the offered command checks the lock", async () => {
    const dir = await project();
    const locked = await runMpip(["lock", "--no-index", "-f", "wheelhouse", "-r", "reqs.txt"], { cwd: dir });
    assert.equal(locked.code, 0, locked.stderr);
    const text = await readFile(path.join(dir, "pylock.toml"), "utf8");
    assert.match(text, /^constraint-files = \["pins\/constraints\.txt"\]\nconstraints = \["ticker<2"\]\n/m);
    assert.match(text, /^requirements = \["app"\]$/m);
    assert.match(text, /name = "ticker"\nversion = "1\.0"/);
    const bare = await runMpip(["lock", "--check"], { cwd: dir });
    assert.equal(bare.code, 2, bare.stderr);
    const { offered, result } = await runOffered(bare.stderr, dir);
    assert.match(offered, / -c pins\/constraints\.txt -- app$/);
    assert.equal(result.code, 0, result.stderr);

    // A project's dependencies locked with -c: the same record.
    const app = path.join(dir, "app");
    await writeTree(app, { "pyproject.toml": '[project]\nname = "shell"\nversion = "0.1"\ndependencies = ["app"]\n' });
    const fromProject = await runMpip(["lock", "--no-index", "-f", "../wheelhouse", "-c", "../pins/constraints.txt"], { cwd: app });
    assert.equal(fromProject.code, 0, fromProject.stderr);
    assert.match(await readFile(path.join(app, "pylock.toml"), "utf8"), /^constraint-files = \["\.\.\/pins\/constraints\.txt"\]\nconstraints = \["ticker<2"\]\n/m);
  });

  test("a lock written before constraints were recorded still reads, installs and checks: up to date without constraints, out of date with them", async () => {
    const dir = await project();
    const args = ["--no-index", "-f", "wheelhouse", "app"];
    assert.equal((await runMpip(["lock", ...args], { cwd: dir })).code, 0);
    const plain = await readFile(path.join(dir, "pylock.toml"), "utf8");
    assert.doesNotMatch(plain, /^constraint/m, "no constraint keys in a lock made without constraints");
    assert.equal((await runMpip(["lock", "--check", ...args], { cwd: dir })).code, 0);
    // A lock made with -c by an mpip that did not record it: no constraint keys.
    assert.equal((await runMpip(["lock", "-c", "pins/constraints.txt", ...args], { cwd: dir })).code, 0);
    const old = (await readFile(path.join(dir, "pylock.toml"), "utf8")).replace(/^constraint.*\n/gm, "");
    await writeFile(path.join(dir, "pylock.toml"), old);
    const target = path.join(dir, "image");
    const installed = await runMpip(["install", "--lock", "pylock.toml", "-p", target], { cwd: dir });
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(await readFile(path.join(target, "ticker.py"), "utf8"), "V = 1\n");
    const checked = await runMpip(["lock", "--check", "-c", "pins/constraints.txt", ...args], { cwd: dir });
    assert.equal(checked.code, 1, checked.stderr);
    assert.match(checked.stderr, /^~ \[tool\.mpip\] constraints: \[\] → \["ticker<2"\]$/m);
    assert.doesNotMatch(checked.stderr, /^~ ticker/m);
  });
});

describe("lock --check against other indexes or folders than the lock's", () => {
  test("is out of date at once, asking them nothing; the hint gives the lock's own sources", async () => {
    const dir = await project();
    assert.equal((await runMpip(["lock", "--no-index", "-f", "wheelhouse", "app"], { cwd: dir })).code, 0);
    const before = await readFile(path.join(dir, "pylock.toml"));
    server.requests.length = 0;
    // Another index (which would answer), and no index option at all (the default indexes, which this
    // machine cannot reach: before, that was a network error rather than the difference).
    for (const [label, sources] of [["another index", ["-i", server.url]], ["the default indexes", []]] as const) {
      const checked = await runMpip(["lock", "--check", ...sources, "app"], { cwd: dir });
      assert.equal(checked.code, 1, `${label}: ${checked.stderr}`);
      assert.match(checked.stderr, /^~ \[tool\.mpip\] index-urls: \[\] → \[.+\]$/m, label);
      assert.match(checked.stderr, /^~ \[tool\.mpip\] find-links: \[".*wheelhouse"\] → \[\]$/m, label);
      assert.match(checked.stderr, /^error: `pylock\.toml` is out of date with its inputs: 2 changes$/m, label);
      assert.match(checked.stderr, /^hint: `pylock\.toml` was locked against other indexes or folders \(`--no-index -f wheelhouse`\): give those to check it, or run this command without --check to lock against these, and commit the new lock$/m, label);
      assert.doesNotMatch(checked.stderr, /could not fetch|host not found/, label);
    }
    assert.deepEqual(server.requests, []);
    // Another -f folder holding the same files is another input too.
    await writeTree(path.join(dir, "mirror"), { "app-1.0.tar.gz": await readFile(path.join(dir, "wheelhouse", "app-1.0.tar.gz")), "ticker-2.0.tar.gz": await readFile(path.join(dir, "wheelhouse", "ticker-2.0.tar.gz")) });
    const mirrored = await runMpip(["lock", "--check", "--no-index", "-f", "mirror", "app"], { cwd: dir });
    assert.equal(mirrored.code, 1, mirrored.stderr);
    assert.match(mirrored.stderr, /^~ \[tool\.mpip\] find-links: \[".*wheelhouse"\] → \[".*mirror"\]$/m);
    assert.deepEqual(await readFile(path.join(dir, "pylock.toml")), before);
    // With the lock's own sources: up to date.
    assert.equal((await runMpip(["lock", "--check", "--no-index", "-f", "wheelhouse", "app"], { cwd: dir })).code, 0);
  });
});
