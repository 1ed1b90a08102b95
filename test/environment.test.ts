// Configuration from the environment, through the built CLI against a real index server: every option of
// install can come from `MPIP_<LONG_NAME>` (pip's `PIP_<LONG_NAME>` rule), the command line over the
// environment, repeatable options as space-separated lists, flags as pip's boolean words, bad values
// as usage errors naming the variable.

import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { applyEnvironment, installOptions, parseBooleanWord } from "../src/cli-options.js";
import { splitWords } from "../src/shell-words.js";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { buildSdist } from "./helpers/sdist.js";

let server: IndexServer;
let other: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const freshTarget = () => path.join(work.dir, `image-${++counter}`);
/** A port nothing listens on: an index there answers nothing. */
const NOWHERE = "http://127.0.0.1:9/pypi";

before(async () => {
  server = await startIndexServer();
  other = await startIndexServer();
  work = await tempDir("mpip-env-");
  await server.addSdist({ name: "gauge", version: "1.0", files: { "gauge.py": "G = 1\n" }, requires: ["dial"] });
  await server.addSdist({ name: "dial", version: "1.0", files: { "dial.py": "D = 1\n" } });
  await server.addSdist({ name: "dial", version: "2.0rc1", files: { "dial.py": "D = 2\n" } });
  await other.addSdist({ name: "knob", version: "1.0", files: { "knob.py": "K = 1\n" } });
  await mkdir(path.join(work.dir, "dists-a"));
  await mkdir(path.join(work.dir, "dists b"));
  await writeFile(path.join(work.dir, "dists-a", "switch-1.0.tar.gz"), await buildSdist({ name: "switch", version: "1.0", files: { "switch.py": "" } }));
  await writeFile(path.join(work.dir, "dists b", "lever-1.0.tar.gz"), await buildSdist({ name: "lever", version: "1.0", files: { "lever.py": "" } }));
});
after(async () => {
  await server.close();
  await other.close();
  await work.cleanup();
});

const mpip = (args: string[], env: NodeJS.ProcessEnv) => runMpip(["install", ...args], { env: { MICROPYPATH: "", ...env } });

describe("MPIP_<LONG_NAME> sets each option", () => {
  test("index URLs, target and find-links from variables; MPIP_TARGET is over MICROPYPATH", async () => {
    const target = freshTarget();
    const result = await mpip(["gauge", "knob", "switch", "lever"], {
      MPIP_INDEX_URL: `${server.url} ${other.url}`,
      MPIP_TARGET: target,
      MICROPYPATH: path.join(work.dir, "from-micropypath"),
      MPIP_FIND_LINKS: `${path.join(work.dir, "dists-a")} '${path.join(work.dir, "dists b")}'`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await listFiles(target)).filter((file) => file.endsWith(".py")), ["dial.py", "gauge.py", "knob.py", "lever.py", "switch.py"]);
    assert.deepEqual(await snapshot(path.join(work.dir, "from-micropypath")), {});
  });

  test("MPIP_EXTRA_INDEX_URL, space-separated as pip's", async () => {
    const target = freshTarget();
    const listed = await mpip(["-p", target, "knob", "gauge"], { MPIP_INDEX_URL: server.url, MPIP_EXTRA_INDEX_URL: `  "${server.url}"\t${other.url} ` });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, new RegExp(`knob==1\\.0 \\(from ${other.url.replace(/[.]/g, "\\.")}\\)`));
  });

  test("flags take pip's boolean words, `--no-*` ones included; an empty variable is ignored", async () => {
    const only = freshTarget();
    assert.equal((await mpip(["-p", only, "gauge"], { MPIP_INDEX_URL: server.url, MPIP_NO_DEPS: "1" })).code, 0);
    assert.deepEqual((await listFiles(only)).filter((file) => file.endsWith(".py")), ["gauge.py"]);
    // Three words of each meaning, one of each form: a digit, a word, a word not in lower case (the test
    // of parseBooleanWord below takes the rest of pip's words).
    for (const word of ["0", "off", "False"]) {
      const target = freshTarget();
      const result = await mpip(["-p", target, "gauge"], { MPIP_INDEX_URL: server.url, MPIP_NO_DEPS: word, MPIP_PRE: word });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, "dial.py"), "utf8"), "D = 1\n", word);
    }
    for (const word of ["1", "on", "TRUE"]) {
      const target = freshTarget();
      assert.equal((await mpip(["-p", target, "dial"], { MPIP_INDEX_URL: server.url, MPIP_PRE: word })).code, 0);
      assert.equal(await readFile(path.join(target, "dial.py"), "utf8"), "D = 2\n", word);
    }
    const dry = freshTarget();
    const json = await mpip(["-p", dry, "switch"], { MPIP_NO_INDEX: "true", MPIP_FIND_LINKS: path.join(work.dir, "dists-a"), MPIP_DRY_RUN: "on", MPIP_JSON: "1", MPIP_TARGET: "" });
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { dryRun: boolean }).dryRun, true);
    assert.deepEqual(await snapshot(dry), {});
  });

  test("the command line is over the environment; a repeatable option's values replace the variable's list", async () => {
    const target = freshTarget();
    const result = await mpip(["-i", server.url, "-p", target, "gauge"], { MPIP_INDEX_URL: NOWHERE, MPIP_TARGET: path.join(work.dir, "not-here"), MPIP_JOBS: "1", MPIP_RETRIES: "0" });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await snapshot(path.join(work.dir, "not-here")), {});
    // dists-a has `switch`; the command line's -f names only `dists b`.
    const replaced = await mpip(["--no-index", "-f", path.join(work.dir, "dists b"), "-p", freshTarget(), "switch"], { MPIP_FIND_LINKS: path.join(work.dir, "dists-a") });
    assert.equal(replaced.code, 1, replaced.stderr);
    assert.match(replaced.stderr, /package `switch` was not found/);
    // -v on the command line and MPIP_QUIET: the command line's choice, not a clash of the two.
    const verbose = await mpip(["-v", "-i", server.url, "-p", freshTarget(), "gauge"], { MPIP_QUIET: "1" });
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stderr, /sha256 [0-9a-f]{64}/);
  });

  test("a value the option refuses is a usage error naming the variable, as text and as JSON", async () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ MPIP_JOBS: "many" }, /^`MPIP_JOBS` is `many`: --jobs must be a whole number from 1 to 256$/],
      [{ MPIP_TIMEOUT: "-3" }, /^`MPIP_TIMEOUT` is `-3`: --timeout must be a number of seconds/],
      [{ MPIP_MAX_SIZE: "lots" }, /^`MPIP_MAX_SIZE` is `lots`: --max-size must be a size in bytes/],
      [{ MPIP_NO_DEPS: "maybe" }, /^`MPIP_NO_DEPS` is `maybe`, which is not a boolean value for --no-deps$/],
      [{ MPIP_COMPILE: "2" }, /^`MPIP_COMPILE` is `2`, which is not a boolean value for --compile$/],
      [{ MPIP_FIND_LINKS: "'open quote" }, /^`MPIP_FIND_LINKS` is `'open quote`, which has a quote that is not closed$/],
      [{ MPIP_REQUIREMENT: "''" }, /^`MPIP_REQUIREMENT` is `''`: --requirement needs a path, not an empty value/],
    ];
    for (const [env, message] of cases) {
      const target = freshTarget();
      const text = await mpip(["-p", target, "gauge"], { MPIP_INDEX_URL: server.url, ...env });
      assert.equal(text.code, 2, text.stderr);
      assert.match(text.stderr.split("\n")[0]!, new RegExp(`^error: ${message.source.slice(1)}`));
      assert.match(text.stderr, /hint: /);
      const json = await mpip(["-p", target, "gauge"], { MPIP_INDEX_URL: server.url, MPIP_JSON: "yes", ...env });
      assert.equal(json.code, 2);
      const error = (JSON.parse(json.stdout) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, "usage");
      assert.match(error.message, message);
      assert.deepEqual(await snapshot(target), {});
    }
  });

  test("MPIP_JSON also makes a parse error a JSON document", async () => {
    const result = await mpip(["--no-such-option"], { MPIP_JSON: "true" });
    assert.equal(result.code, 2);
    assert.match((JSON.parse(result.stdout) as { error: { message: string } }).error.message, /unknown option '--no-such-option'/);
  });

  test("--help names each option's variable", async () => {
    // Every option of the groups appears on install or, for sync's own (`--no-remove`), on sync.
    const flat = (await Promise.all(["install", "sync"].map(async (command) => (await runMpip([command, "--help"])).stdout))).join(" ").replace(/\s+/g, " ");
    for (const [, option] of installOptions()) {
      const variable = `MPIP_${option.long!.slice(2).toUpperCase().replace(/-/g, "_")}`;
      assert.ok(flat.includes(`(env: ${variable})`), variable);
    }
    assert.ok(flat.includes("(default: 16) (env: MPIP_JOBS)"));
  });
});

describe("pieces", () => {
  test("boolean words are pip's, without case", () => {
    for (const word of ["1", "true", "YES", "On", "y", "t"]) assert.equal(parseBooleanWord(word), true, word);
    for (const word of ["0", "false", "No", "OFF", "n", "f"]) assert.equal(parseBooleanWord(word), false, word);
    for (const word of ["", "2", "enabled", "nope"]) assert.equal(parseBooleanWord(word), undefined, word);
  });

  test("lists split as a shell splits words (pip's shlex.split)", () => {
    assert.deepEqual(splitWords("  a\tb  c "), ["a", "b", "c"]);
    assert.deepEqual(splitWords(`'/my dists' "x \\"y\\" \\$z" w\\ v`), ["/my dists", 'x "y" $z', "w v"]);
    assert.deepEqual(splitWords(""), []);
    assert.equal(splitWords("'open"), undefined);
    assert.equal(splitWords('"open'), undefined);
  });

  test("applyEnvironment leaves options with no variable, and those given on the command line, alone", async () => {
    const { Command } = await import("commander");
    const { addInstallOptions } = await import("../src/cli-options.js");
    const command = addInstallOptions(new Command("x").exitOverride(), ["network", "output"]);
    command.option("--own <value>", "an option of the command's own");
    command.parse(["--retries", "5"], { from: "user" });
    applyEnvironment(command, { MPIP_RETRIES: "1", MPIP_JOBS: "4", MPIP_OWN: "x", MPIP_VERBOSE: "yes" });
    assert.deepEqual({ retries: command.opts().retries, jobs: command.opts().jobs, own: command.opts().own, verbose: command.opts().verbose }, { retries: 5, jobs: 4, own: undefined, verbose: true });
  });
});
