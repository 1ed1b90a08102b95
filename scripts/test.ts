// Runs the test suite: `npm test` (after the build and type-check) calls this.
//
//   node --import tsx scripts/test.ts [file-or-folder...]
//
// - It finds the test files itself (every `*.test.ts` below test/, or below the folders given) and fails
//   when it finds none: a run of no tests would pass silently.
// - The TypeScript is compiled first, to a folder of the run's own laid out as the checkout
//   (scripts/compile-tests.ts: a tenth of the suite's CPU went to tsx's loader), removed at the end.
// - Each file runs in a process of its own (node:test, with the reporter in scripts/test-reporter.mjs,
//   from its compiled JavaScript, with source maps: reports name the .ts files and lines),
//   a few at a time (MPIP_TEST_CONCURRENCY, default: the cores plus two, as most tests wait on child
//   processes: on 2 cores beside a CPU-bound process, 4 at a time took 473 s against 506 s for 3),
//   and its output is printed whole when it ends, so files never interleave. The files that
//   look longest start first (by how many processes they start and their size: see `expectedWork`), so
//   that no long file is left running alone at the end while the other cores idle.
// - The files run in the runner's environment less what would tie them to the shell (NODE_EXTRA_CA_CERTS,
//   proxies, mpip's MPIP_* settings: scripts/machine-env.ts).
// - Time budgets scale with the machine: how long Node takes to start, against a quiet 2-core machine,
//   gives a factor from 1 to 4 (or MPIP_TEST_SCALE) that multiplies each file's budget and is passed to
//   the tests, which scale their own waits by it (test/helpers/budget.ts); a file that starts while the
//   load average per core is higher than that factor gets the higher one. A file over its budget is
//   stopped, with every process it started, and the report names the test that was running and for how
//   long, with the file's last output.
// - The summary counts a file that timed out or crashed as failed, lists the slowest files, and the exit
//   code is 1 when anything failed.
// - The test files' temporary folders (TMPDIR) go in a folder of the run's own on a tmpfs (/dev/shm),
//   where it has room (4 GiB free), removed at the end: see `suiteTmpdir`.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { BUILD_FOLDER, compileTests, type CompiledTests } from "./compile-tests.js";
import { withoutMachineSettings } from "./machine-env.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REPORTER = path.join(ROOT, "scripts", "test-reporter.mjs");
const MARK = "\u001eMPIP-TEST ";
/** Node's start-up on a quiet 2-core machine, in ms: the yardstick for the scale factor. */
const QUIET_STARTUP_MS = 60;
/** The longest one test file may take on such a machine. */
const FILE_BUDGET_MS = 150_000;

function findTests(entries: string[]): string[] {
  const found: string[] = [];
  const walk = (entry: string) => {
    const info = statSync(entry, { throwIfNoEntry: false });
    if (info === undefined) {
      process.stderr.write(`error: \`${path.relative(ROOT, entry) || entry}\`: there is no such test file or folder\n`);
      process.exit(2);
    }
    if (info.isFile()) {
      if (entry.endsWith(".test.ts")) found.push(entry);
      return;
    }
    for (const name of readdirSync(entry).sort()) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      walk(path.join(entry, name));
    }
  };
  for (const entry of entries) walk(path.resolve(ROOT, entry));
  return found;
}

/**
 * A guess at how long a test file runs, to start the longest first: most of the suite's time is spent in
 * the processes tests start (the CLI, MicroPython), so each call that starts one weighs as much as 2 KB of
 * test code. Only the order depends on it.
 */
function expectedWork(file: string): number {
  const text = readFileSync(file, "utf8");
  const starts = text.match(/\b(runMpip|runCommand|startMpip|runMicroPython|spawn|execFile)\(/g)?.length ?? 0;
  return text.length + 2000 * starts;
}

/**
 * The environment every test file runs in, before what is the file's own: the runner's, without what
 * would make the tests depend on the shell (scripts/machine-env.ts: NODE_EXTRA_CA_CERTS, which Node
 * parses at every start-up of the suite's thousands of processes, proxies, mpip's own MPIP_* settings...).
 */
function testEnvironment(): NodeJS.ProcessEnv {
  return withoutMachineSettings(process.env);
}

function startupScale(): number {
  const fromEnv = Number(process.env.MPIP_TEST_SCALE);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    spawnSync(process.execPath, ["-e", "0"], { stdio: "ignore", env: testEnvironment() });
    times.push(performance.now() - start);
  }
  const median = times.sort((a, b) => a - b)[1]!;
  return Math.min(4, Math.max(1, Number((median / QUIET_STARTUP_MS).toFixed(2))));
}

interface Outcome {
  file: string;
  seconds: number;
  passed: number;
  skipped: number;
  /** CPU seconds of the file's process and the processes it started (Linux only). */
  cpu?: number;
  failures: string[];
  ok: boolean;
}

interface ReporterLine {
  event: "start" | "end" | "note" | "cpu";
  seconds?: number;
  nesting?: number;
  name?: string;
  passed?: boolean;
  suite?: boolean;
  skipped?: boolean;
  todo?: boolean;
  failureType?: string;
  error?: string;
  location?: string;
  message?: string;
}

const indent = (text: string, by: string) => text.split("\n").map((line) => `${by}${line}`).join("\n");

/** Room a tmpfs must have free to take the test files' temporary folders. */
const TMPFS_ROOM_BYTES = 4 * 1024 ** 3;

/**
 * Where the test files' temporary folders go: `MPIP_TEST_TMPDIR` if set (empty: the system's, TMPDIR or
 * /tmp), else a folder of this run's own in /dev/shm where that tmpfs has room, else the system's. The
 * suite makes and removes hundreds of thousands of files; on ext4, a file or folder made soon after many
 * were removed costs several times more (the allocator passes over inodes freed in the last minutes:
 * `recently_deleted` in a perf profile), and the suite slowed itself down: beside a CPU hog, 528 s in the
 * runner on /tmp (ext4) against 468 s on /dev/shm, with every test passing on both. Tests that need a
 * filesystem of another kind make their own (README, Developing). Returns the folder and whether this
 * run made it (and removes it at the end).
 */
function suiteTmpdir(): { dir: string | undefined; made: boolean } {
  const chosen = process.env.MPIP_TEST_TMPDIR;
  if (chosen !== undefined) return { dir: chosen === "" ? undefined : path.resolve(chosen), made: false };
  try {
    const room = statfsSync("/dev/shm");
    if (room.bavail * room.bsize >= TMPFS_ROOM_BYTES) return { dir: mkdtempSync("/dev/shm/mpip-suite-"), made: true };
  } catch {
    // No /dev/shm (not Linux), or not writable: the system's.
  }
  return { dir: undefined, made: false };
}

let tmpdir: string | undefined;
/** Whether this run made `tmpdir` (and removes it). */
let tmpdirMade = false;
let compiled: CompiledTests;
/** The process groups of the test files running now. */
const runningGroups = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // none left
  }
}

function runFile(file: string, budgetMs: number, scale: number): Promise<{ outcome: Outcome; report: string }> {
  const relative = path.relative(ROOT, file);
  const started = performance.now();
  // The user's cache folder, as the file's processes see it: a folder of its own, which must stay empty.
  // A test that runs mpip without a cache of its own (test/helpers/cli.ts childEnv) would otherwise write
  // into the user's real ~/.cache/mpip (or an MPIP_CACHE_DIR set outside the suite), and share it.
  const userCache = mkdtempSync(path.join(tmpdir ?? os.tmpdir(), "mpip-suite-user-cache-"));
  const env: NodeJS.ProcessEnv = { ...testEnvironment(), XDG_CACHE_HOME: userCache, MPIP_TEST_SCALE: String(scale), MPIP_TEST_FILE: relative, ...(tmpdir === undefined ? {} : { TMPDIR: tmpdir }) };
  const child = spawn(process.execPath, ["--enable-source-maps", `--test-reporter=${REPORTER}`, "--test-reporter-destination=stdout", compiled.compiled(file)], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a file out of time is stopped with every process its tests started.
    detached: true,
  });
  if (child.pid !== undefined) runningGroups.add(child.pid);
  const stack: Array<{ name: string; since: number }> = [];
  const output: string[] = [];
  const notes: string[] = [];
  const failures: string[] = [];
  let passed = 0;
  let skipped = 0;
  let lastEnd = started;
  let cpu: number | undefined;
  const onLine = (line: string) => {
    if (!line.startsWith(MARK)) {
      output.push(line);
      return;
    }
    const item = JSON.parse(line.slice(MARK.length)) as ReporterLine;
    const nesting = item.nesting ?? 0;
    if (item.event === "note") notes.push(item.message ?? "");
    else if (item.event === "cpu") cpu = item.seconds;
    else if (item.event === "start") {
      stack.length = nesting;
      stack[nesting] = { name: item.name ?? "?", since: performance.now() };
    } else {
      lastEnd = performance.now();
      const name = [...stack.slice(0, nesting).map((entry) => entry.name), item.name].join(" > ");
      stack.length = nesting;
      if (!item.passed && item.failureType !== "subtestsFailed") {
        failures.push(`  FAIL ${name}${item.location === undefined ? "" : `  (${path.relative(ROOT, item.location)})`}\n${indent(item.error ?? "failed", "      ")}`);
      } else if (item.passed && (item.skipped || item.todo)) skipped++;
      else if (item.passed && !item.suite) passed++;
    }
  };
  createInterface({ input: child.stdout! }).on("line", onLine);
  createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
  let timedOut: string | undefined;
  const timer = setTimeout(() => {
    const running = stack.map((entry) => entry.name).join(" > ");
    const since = stack.at(-1);
    timedOut = running === ""
      ? `  TIMEOUT after ${Math.round(budgetMs / 1000)} s, before any test started (loading the file took the time)`
      : `  TIMEOUT after ${Math.round(budgetMs / 1000)} s (the budget at time scale ${scale}); still running: ${running}, for ${((performance.now() - since!.since) / 1000).toFixed(1)} s`;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }, budgetMs);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // Whatever the tests left running in the file's process group goes too.
      killGroup(child.pid!);
      runningGroups.delete(child.pid!);
      const seconds = (performance.now() - started) / 1000;
      const written = readdirSync(userCache);
      rmSync(userCache, { recursive: true, force: true });
      if (written.length > 0) failures.push(`  FAIL the file wrote into the user's cache folder (${written.map((name) => `\`${name}/\``).join(", ")} in XDG_CACHE_HOME): a run of mpip without a cache of its own; give it one (test/helpers/cli.ts childEnv)`);
      if (timedOut !== undefined) failures.push(timedOut);
      else if (code !== 0 && failures.length === 0) failures.push(`  FAIL the file itself: it exited with ${signal ?? `code ${code}`}`);
      const ok = failures.length === 0;
      const counts = `${passed} passed${failures.length > 0 ? `, ${failures.length} failed` : ""}${skipped > 0 ? `, ${skipped} skipped` : ""}`;
      const lines = [`${ok ? "PASS" : "FAIL"} ${relative}  ${counts}  (${seconds.toFixed(1)} s${cpu === undefined ? "" : `, ${cpu.toFixed(1)} s CPU`})`];
      // Time between the last test's end and the process's: a timer or a connection left open by the file.
      const lingered = (performance.now() - lastEnd) / 1000;
      if (timedOut === undefined && lingered > 5) lines.push(`  note: the file took ${lingered.toFixed(1)} s to exit after its last test (a timer, a server or a connection left open?)`);
      for (const note of notes) lines.push(`  # ${note}`);
      if (!ok) {
        lines.push(...failures);
        const tail = output.filter((line) => line.trim() !== "").slice(-60);
        if (tail.length > 0) lines.push(`  output of ${relative} (last ${tail.length} lines):`, ...tail.map((line) => `    | ${line}`));
      }
      resolve({ outcome: { file: relative, seconds, passed, skipped, cpu, failures, ok }, report: `${lines.join("\n")}\n` });
    });
  });
}

async function main(): Promise<number> {
  const files = findTests(process.argv.length > 2 ? process.argv.slice(2) : ["test"]);
  if (files.length === 0) {
    process.stderr.write("error: no test files found (looked for *.test.ts below the folders given)\n");
    return 1;
  }
  const scale = startupScale();
  const concurrency = Number(process.env.MPIP_TEST_CONCURRENCY) || os.availableParallelism() + 2;
  const budgetMs = Math.round(FILE_BUDGET_MS * scale);
  const outside = files.filter((file) => path.relative(ROOT, file).startsWith(".."));
  if (outside.length > 0) {
    process.stderr.write(`error: ${outside.map((file) => `\`${file}\``).join(", ")} is outside the checkout: the suite runs test files of the checkout only\n`);
    return 2;
  }
  try {
    compiled = await compileTests(ROOT, files);
  } catch (error) {
    const built = Array.isArray((error as { errors?: unknown }).errors);
    process.stderr.write(`error: ${built ? "the TypeScript does not compile: " : `cannot compile the tests into \`${path.join(ROOT, BUILD_FOLDER)}\`: `}${(error as Error).message.trimEnd()}\n`);
    return 1;
  }
  // Interrupted (Ctrl-C, a kill): the test files' processes, each in a process group of its own, stop
  // too, and the run's folders go; the exit code is the shell's for the signal.
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.once(signal, () => {
      for (const pid of runningGroups) killGroup(pid);
      compiled.remove();
      if (tmpdirMade && tmpdir !== undefined) rmSync(tmpdir, { recursive: true, force: true });
      process.exit(code);
    });
  }
  const temporary = suiteTmpdir();
  tmpdir = temporary.dir;
  tmpdirMade = temporary.made;
  process.stdout.write(`${files.length} test ${files.length === 1 ? "file" : "files"}, ${concurrency} at a time; time scale ${scale} (each file may take ${Math.round(budgetMs / 1000)} s); temporary folders in ${tmpdir ?? os.tmpdir()}${temporary.made ? " (a tmpfs; MPIP_TEST_TMPDIR= for the system's)" : ""}\n`);
  try {
    return await runAll(files, scale, concurrency);
  } finally {
    if (temporary.made) rmSync(temporary.dir!, { recursive: true, force: true });
    compiled.remove();
  }
}

async function runAll(files: string[], scale: number, concurrency: number): Promise<number> {
  const started = performance.now();
  const outcomes: Outcome[] = [];
  const work = new Map(files.map((file) => [file, expectedWork(file)]));
  const queue = [...files].sort((a, b) => work.get(b)! - work.get(a)!);
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      // Load that came after the start-up measurement raises the budget of the files that start under it.
      const now = Math.max(scale, Math.min(4, os.loadavg()[0]! / os.availableParallelism()));
      const { outcome, report } = await runFile(file, Math.round(FILE_BUDGET_MS * now), scale);
      outcomes.push(outcome);
      process.stdout.write(report);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  const failed = outcomes.filter((outcome) => !outcome.ok);
  const sum = (key: "passed" | "skipped") => outcomes.reduce((total, outcome) => total + outcome[key], 0);
  const slowest = [...outcomes].sort((a, b) => b.seconds - a.seconds).slice(0, 8);
  process.stdout.write(`\n${outcomes.length} test ${outcomes.length === 1 ? "file" : "files"} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${sum("passed")} tests passed, ${failed.reduce((total, outcome) => total + outcome.failures.length, 0)} failed, ${sum("skipped")} skipped\n`);
  const cpu = outcomes.reduce((total, outcome) => total + (outcome.cpu ?? 0), 0);
  if (cpu > 0) process.stdout.write(`CPU: ${(cpu / 60).toFixed(1)} min in the test files and the processes they started\n`);
  process.stdout.write(`slowest: ${slowest.map((outcome) => `${outcome.file} ${outcome.seconds.toFixed(1)} s`).join(", ")}\n`);
  if (failed.length > 0) process.stdout.write(`FAILED: ${failed.map((outcome) => outcome.file).join(", ")}\n`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
