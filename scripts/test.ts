// Runs the test suite: `npm test` (after the build and type-check) calls this.
//
//   node --import tsx scripts/test.ts [file-or-folder...]
//
// It finds the test files itself (every `*.test.ts` below test/, or below the folders given) and fails
// when it finds none, since a run of no tests passes silently. Time budgets scale with the machine: a
// quick measurement of how long Node takes to start, against a quiet 2-core machine, gives a factor
// (1 to 4, or MPIP_TEST_SCALE) that multiplies the per-file limit and is passed to the tests, which
// scale their own waits by it (test/helpers/budget.ts). Files run `--test-concurrency` at a time
// (MPIP_TEST_CONCURRENCY, default: the number of cores plus one, as most tests wait on child processes).
// The reporter (scripts/test-reporter.mjs) names the test that was running when a file ran out of time.

import { spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Node's start-up on a quiet 2-core machine, in ms: the yardstick for the scale factor. */
const QUIET_STARTUP_MS = 60;
/** The longest a test file may take on such a machine. */
const FILE_BUDGET_MS = 150_000;

function findTests(entries: string[]): string[] {
  const found: string[] = [];
  const walk = (entry: string) => {
    const info = statSync(entry);
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

function startupScale(): number {
  const fromEnv = Number(process.env.MPIP_TEST_SCALE);
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    spawnSync(process.execPath, ["-e", "0"], { stdio: "ignore" });
    times.push(performance.now() - start);
  }
  const median = times.sort((a, b) => a - b)[1]!;
  return Math.min(4, Math.max(1, Number((median / QUIET_STARTUP_MS).toFixed(2))));
}

const files = findTests(process.argv.length > 2 ? process.argv.slice(2) : ["test"]);
if (files.length === 0) {
  process.stderr.write("error: no test files found (looked for *.test.ts below the folders given)\n");
  process.exit(1);
}
const scale = startupScale();
const concurrency = Number(process.env.MPIP_TEST_CONCURRENCY) || os.availableParallelism() + 1;
const budget = Math.round(FILE_BUDGET_MS * scale);
process.stdout.write(`${files.length} test files, ${concurrency} at a time; time scale ${scale} (each file may take ${Math.round(budget / 1000)} s)\n`);

const child = spawn(
  process.execPath,
  [
    "--import", "tsx",
    "--test",
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${budget}`,
    `--test-reporter=${path.join(ROOT, "scripts", "test-reporter.mjs")}`,
    "--test-reporter-destination=stdout",
    ...files.map((file) => path.relative(ROOT, file)),
  ],
  { cwd: ROOT, stdio: "inherit", env: { ...process.env, MPIP_TEST_SCALE: String(scale) } },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128 + (os.constants.signals[signal] ?? 0));
});
