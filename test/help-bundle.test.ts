// A run that asks for help (no arguments, `mpip help ...`, `--help` or `-h` before any `--`) loads the
// command line without any command's work (dist/mpip-help.cjs, src/cli-help.ts) instead of the whole CLI
// (dist/mpip.cjs). What it prints and the exit code must be exactly the whole CLI's, for every command and
// for help asked together with usage errors; and where the arguments ask for a command's work after all
// (`-h` given as an option's value), the whole CLI runs them. Which bundle ran is observed through V8's
// coverage of the child (test/helpers/loaded-modules.ts).

import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT, runCommand, runMpip, tempDir, type RunResult } from "./helpers/cli.js";
import { distFilesIn, recordLoads } from "./helpers/loaded-modules.js";
import { buildSdist, sdistFilename } from "./helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let records = 0;

before(async () => {
  work = await tempDir("mpip-help-bundle-");
});
after(async () => {
  await work.cleanup();
});

/**
 * What the whole CLI's `main` (dist/mpip.cjs, as bin/mpip.js runs it for any other run) prints and returns
 * for each of `runs`, all in one child: its writes to stdout and stderr (through Node's streams, and to
 * their descriptors) are captured run by run, with the run's variables set in its environment meanwhile.
 */
async function runWholeCli(runs: ReadonlyArray<{ args: string[]; env?: NodeJS.ProcessEnv }>, options: { cwd?: string } = {}): Promise<RunResult[]> {
  const script = path.join(work.dir, `whole-cli-${records++}.cjs`);
  await writeFile(
    script,
    `const { main } = require(${JSON.stringify(path.join(ROOT, "dist", "mpip.cjs"))});
const runs = ${JSON.stringify(runs)};
(async () => {
  const results = [];
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const fs = require("node:fs");
  const writeSync = fs.writeSync;
  for (const { args, env = {} } of runs) {
    const result = { code: 0, stdout: "", stderr: "" };
    for (const stream of ["stdout", "stderr"]) process[stream].write = (chunk) => ((result[stream] += String(chunk)), true);
    // mpip writes to a pipe's descriptor directly (src/standard-streams.ts).
    fs.writeSync = (fd, data, offset = 0) => {
      if (fd !== 1 && fd !== 2) return writeSync(fd, data, offset);
      result[fd === 1 ? "stdout" : "stderr"] += Buffer.from(data).subarray(offset).toString("utf8");
      return Buffer.byteLength(data) - offset;
    };
    Object.assign(process.env, env);
    try {
      result.code = await main(["node", "mpip", ...args]);
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
      fs.writeSync = writeSync;
      Object.assign(process.stdout, { write: writes.stdout });
      Object.assign(process.stderr, { write: writes.stderr });
    }
    results.push(result);
  }
  process.stdout.write(JSON.stringify(results));
})();
`,
  );
  const result = await runCommand(process.execPath, [script], options);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as RunResult[];
}

/** `mpip ARGS` through bin/mpip.js, with the dist/ files it ran. */
async function runRecorded(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult & { ran: string[] }> {
  const record = path.join(work.dir, `coverage-${records++}`);
  const result = await runMpip(args, { ...options, env: { ...options.env, ...recordLoads(record) } });
  return { ...result, ran: await distFilesIn(record, ROOT) };
}

describe("the help bundle", () => {
  const helpRuns: Array<{ args: string[]; env?: NodeJS.ProcessEnv }> = [
    { args: [] },
    { args: ["--help"] },
    { args: ["-h"] },
    { args: ["help"] },
    { args: ["help", "lock"] },
    { args: ["help", "nosuch"] },
    { args: ["help", "cache", "clean"] },
    { args: ["help", "cache", "nosuch"] },
    ...["install", "download", "lock", "sync", "list", "show", "freeze", "manifest", "uninstall", "pack", "bin2res", "repack", "check", "cache"].map((command) => ({ args: [command, "--help"] })),
    { args: ["cache", "clean", "-h"] },
    { args: ["index", "build", "--help"] },
    // Help asked beside a usage error, a misspelt command, --json, a value of an option, a bad variable.
    { args: ["instal", "--help"] },
    { args: ["install", "--bogus", "--help"] },
    { args: ["install", "--jobs", "many", "-h"] },
    { args: ["--json", "install", "-h"] },
    { args: ["lock", "--check", "-o", "pylock.toml", "-h", "--", "-h"] },
    { args: ["install", "--help"], env: { MPIP_JOBS: "many" } },
    { args: ["sync", "-h"], env: { MPIP_JSON: "yes" } },
  ];

  test("prints what the whole CLI prints, with its exit code, and the whole CLI is not loaded", async () => {
    const wholeResults = await runWholeCli(helpRuns);
    for (const [index, { args, env }] of helpRuns.entries()) {
      const shown = `mpip ${args.join(" ")}${env === undefined ? "" : ` with ${JSON.stringify(env)}`}`;
      const viaBin = await runRecorded(args, { env });
      assert.deepEqual({ code: viaBin.code, stdout: viaBin.stdout, stderr: viaBin.stderr }, wholeResults[index], shown);
      assert.ok(viaBin.stdout.length + viaBin.stderr.length > 0, `${shown} printed something`);
      assert.deepEqual(viaBin.ran, ["mpip-help.cjs", "start.cjs"], `${shown} ran only the help bundle`);
    }
  });

  test("hands a run that asks for a command's work after all to the whole CLI, which does it", async () => {
    const cwd = path.join(work.dir, "project");
    const links = path.join(cwd, "dist");
    await mkdir(links, { recursive: true });
    const spec = { name: "mpip-helpless", version: "1.0", files: { "helpless.py": "ANSWER = 42\n" } };
    await writeFile(path.join(links, sdistFilename(spec)), await buildSdist(spec));

    // `-h` is the target folder's name here, not a request for help.
    const installed = await runRecorded(["install", "-q", "--no-index", "-f", links, "-p", "-h", "mpip-helpless"], { cwd });
    assert.equal(installed.code, 0, installed.stderr);
    assert.deepEqual(installed.ran, ["mpip-help.cjs", "mpip.cjs", "start.cjs"]);
    assert.ok((await readdir(path.join(cwd, "-h"))).includes("helpless.py"), "installed into the folder named -h");

    const listed = await runRecorded(["list", "--json", "-p", "-h"], { cwd });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.ran, ["mpip-help.cjs", "mpip.cjs", "start.cjs"]);
    assert.deepEqual((JSON.parse(listed.stdout) as { packages: Array<{ name: string }> }).packages.map((entry) => entry.name), ["mpip-helpless"]);

    // A run the help bundle hands off that then fails: the whole CLI's error and exit code.
    const missing = ["show", "-p", "-h", "mpip-nothing"];
    const failed = await runRecorded(missing, { cwd });
    assert.deepEqual([{ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }], await runWholeCli([{ args: missing }], { cwd }));
    assert.equal(failed.code, 1, failed.stderr);
  });
});
