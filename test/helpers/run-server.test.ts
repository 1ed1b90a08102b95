// The run server (test/helpers/run-server.cjs), through which `runMpip` makes most of the suite's CLI runs:
// a run there must give what the same run gives in a process of its own, and leave nothing of itself
// for the next run.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, listFiles, ROOT, runCommand, runMpip, runServerFor, tempDir } from "./cli.js";

const FIXTURES = path.join(ROOT, "fixtures");
const inProcess = (args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) => runCommand(process.execPath, [BIN, ...args], options);

describe("the run server", () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  /** A checkout laid out as mpip's (bin/mpip.js, dist/start.cjs) whose bin/mpip.js is `source`; its path. */
  const standIn = async (name: string, source: string): Promise<string> => {
    const checkout = path.join(work.dir, name);
    await mkdir(path.join(checkout, "bin"), { recursive: true });
    await mkdir(path.join(checkout, "dist"));
    await writeFile(path.join(checkout, "dist", "start.cjs"), "module.exports = {};\n");
    await writeFile(path.join(checkout, "bin", "mpip.js"), source);
    return path.join(checkout, "bin", "mpip.js");
  };
  before(async () => {
    work = await tempDir("mpip-run-server-");
  });
  after(() => work.cleanup());

  test("a run gives the exit code, stdout and stderr that a process of its own gives", async () => {
    const cases: Array<(target: string) => string[]> = [
      () => ["--version"],
      () => ["--help"],
      () => ["install", "--help"],
      () => ["install", "--bogus"],
      () => ["list", "-p", path.join(work.dir, "missing")],
      (target) => ["install", "-p", target, path.join(FIXTURES, "mpip-demo-app-1.0.0.tar.gz"), "--no-deps"],
      (target) => ["install", "--json", "-p", target, path.join(FIXTURES, "mpip-demo-ansi-1.2.0.tar.gz"), "--no-deps"],
      (target) => ["list", "--json", "-p", target],
      // Compiled on worker threads, which the run leaves unref'd.
      (target) => ["install", "--compile", "-p", `${target}-compiled`, path.join(FIXTURES, "mpip-demo-app-1.0.0.tar.gz"), "--no-deps"],
      (target) => ["install", "-p", target, path.join(FIXTURES, "no-such-file.tar.gz")],
    ];
    const targets = { server: path.join(work.dir, "server"), process: path.join(work.dir, "process") };
    for (const make of cases) {
      const [server, own] = [await runMpip(make(targets.server)), await inProcess(make(targets.process))];
      // The same but for the folder and the time taken (`Installed 1 package into ... in 0.07s`).
      const same = (text: string) => text.replaceAll(targets.server, targets.process).replace(/ in \d+\.\d+s\n/g, " in TIME\n");
      const label = make(targets.process).join(" ");
      assert.equal(server.code, own.code, label);
      assert.equal(same(server.stdout), same(own.stdout), label);
      assert.equal(same(server.stderr), same(own.stderr), label);
    }
    assert.deepEqual(await listFiles(targets.server), await listFiles(targets.process));
  });

  test("a run in a current folder that does not exist fails as a process that cannot start there does, and the next run works", async () => {
    const missing = path.join(work.dir, "no-such-folder");
    const [server, own] = [await runMpip(["--version"], { cwd: missing }), await inProcess(["--version"], { cwd: missing })];
    assert.deepEqual(server, own);
    assert.notEqual(server.code, 0);
    assert.equal((await runMpip(["--version"])).code, 0);
  });

  test("a run's environment and current folder are its own: the next run does not see them", async () => {
    const cache = path.join(work.dir, "a-cache");
    const first = await runMpip(["cache", "dir"], { env: { MPIP_CACHE_DIR: cache } });
    assert.equal(first.stdout, `${cache}\n`);
    const home = path.join(work.dir, "xdg");
    const second = await runMpip(["cache", "dir"], { env: { MPIP_CACHE_DIR: undefined, XDG_CACHE_HOME: home } });
    assert.equal(second.stdout, `${path.join(home, "mpip")}\n`);
    for (const name of ["one", "two"]) {
      const cwd = path.join(work.dir, `cwd-${name}`);
      await mkdir(cwd);
      const run = await runMpip(["install", "-q", "-p", "image", path.join(FIXTURES, "mpip-demo-ansi-1.2.0.tar.gz"), "--no-deps"], { cwd });
      assert.equal(run.code, 0, run.stderr);
      assert.ok((await listFiles(path.join(cwd, "image"))).length > 0, name);
    }
  });

  test("a run waits for the worker threads it keeps referenced, and those it unref'd end with it, as in a process", async () => {
    // A script laid out as bin/mpip.js is, whose worker thread writes a line 300 ms after it starts: a
    // process waits for it while it is referenced, and its end stops it once unref'd (mpip's compile
    // workers are unref'd when idle). Each run's output must be its own.
    const thread = 'setTimeout(() => require("node:fs").writeSync(1, "worker done\\n"), 300);';
    const bin = await standIn("workers", `const { Worker } = require("node:worker_threads");\nconst worker = new Worker(${JSON.stringify(thread)}, { eval: true });\nif (process.argv[2] === "unref") worker.unref();\nprocess.stdout.write("started\\n");\n`);
    const inServer = runServerFor(bin);
    for (const mode of ["ref", "unref", "unref"]) {
      const [server, own] = [await inServer([mode]), await runCommand(process.execPath, [bin, mode])];
      assert.deepEqual(server, own, mode);
      assert.equal(own.stdout, mode === "ref" ? "started\nworker done\n" : "started\n");
    }
    // Nothing came from the last unref'd worker since.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(await inServer(["none"]), { code: 0, stdout: "started\nworker done\n", stderr: "" });
  });

  test("a run whose output fills the pipe while this process reads nothing ends as in a process", async () => {
    // A script laid out as bin/mpip.js is that, 100 ms in, writes 1 MiB to stdout straight to the
    // descriptor, as mpip does (src/standard-streams.ts), more than the pipe holds; meanwhile this
    // process's event loop is held, so the writes wait for it, as in a process (the server keeps its
    // descriptors blocking), and the marks come after them.
    const bin = await standIn(
      "fill",
      [
        'const { writeSync } = require("node:fs");',
        "setTimeout(() => {",
        "  for (let i = 0; i < 256; i++) writeSync(1, Buffer.alloc(4096, 120));",
        "}, 100);",
        "",
      ].join("\n"),
    );
    const inServer = runServerFor(bin);
    await inServer([]);
    const pending = inServer([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const until = Date.now() + 1000;
    while (Date.now() < until);
    const [server, own] = [await pending, await runCommand(process.execPath, [bin])];
    assert.deepEqual({ code: server.code, stderr: server.stderr }, { code: own.code, stderr: own.stderr });
    assert.deepEqual({ code: own.code, stderr: own.stderr }, { code: 0, stderr: "" });
    assert.equal(server.stdout, "x".repeat(1 << 20));
    assert.equal(own.stdout, server.stdout);
  });

  test("runs asked for at once each get their own output (one in the server, the rest in processes of their own)", async () => {
    const runs = await Promise.all([["--version"], ["install", "--bogus"], ["cache", "--help"], ["list", "--bogus"]].map((args) => runMpip(args)));
    assert.deepEqual(
      runs.map((run) => run.code),
      [0, 2, 0, 2],
    );
    assert.match(runs[0]!.stdout, /^\d+\.\d+\.\d+\n$/);
    assert.match(runs[1]!.stderr, /^error: unknown option '--bogus'\n/);
    assert.match(runs[2]!.stdout, /^Usage: mpip cache /);
    assert.match(runs[3]!.stderr, /^error: unknown option '--bogus'\n/);
    // No warning of listeners left behind by earlier runs (bin/mpip.js adds some at each run).
    for (const run of runs) assert.doesNotMatch(run.stderr, /MaxListeners|Warning/);
  });
});
