// How the install benchmark (bench/install.ts) prints its figures, so that its output explains itself to
// someone who has never read the issue behind it: what each figure measures, its goal, whether the goal
// is met, and when a figure cannot be trusted (one run, a loaded machine, a time below Node's own start-up).
// Also how it reads its command line, so that a slip (`--only grpah`, `--runs 0`) is an error saying what
// is accepted rather than a run that measures nothing. Pure functions: no I/O, so they are tested without
// running the benchmark.

/** The parts of the install benchmark, as `--only` names them. */
export const BENCH_PARTS = ["start", "graph", "nodelay", "locked", "memory", "compile"] as const;

export interface BenchArgs {
  delayMs: number;
  runs: number;
  /** The parts to run; all of them when `--only` is not given. */
  only: Array<(typeof BENCH_PARTS)[number]>;
  bin: string | undefined;
}

/**
 * `[--delay MS] [--runs N] [--only NAME,...] [--bin PATH]` (argv after the script).
 * @throws Error naming the option and what it takes, for an unknown option, a missing value, a delay that
 *   is not a number of milliseconds, a count of runs that is not a whole number from 1, or a part not in
 *   BENCH_PARTS.
 */
/** What the install benchmark takes, as its `--help` prints it. */
export const BENCH_USAGE = `node --import tsx bench/install.ts [--delay MS] [--runs N] [--only NAME,...] [--bin PATH]

  --delay MS      each answer of the test index server is delayed MS milliseconds, standing for a network
                  round trip (default 40; the no-delay part always uses 0)
  --runs N        each figure is the median of N runs (default 5; start-up figures take at least 9)
  --only NAME,... the parts to run, from ${BENCH_PARTS.join(", ")} (default: all)
  --bin PATH      the mpip to measure (default this checkout's bin/mpip.js), e.g. another built checkout's,
                  for a before-and-after on one machine

Targets and caches are made in the system's temporary folder: TMPDIR=/dev/shm measures on a tmpfs (ext4
makes files slower after mass removals; see the README).`;

/** Whether the arguments ask for the usage (`--help`, `-h`). */
export const asksForHelp = (argv: readonly string[]): boolean => argv.includes("--help") || argv.includes("-h");

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { delayMs: 40, runs: 5, only: [...BENCH_PARTS], bin: undefined };
  for (let at = 0; at < argv.length; at += 2) {
    const name = argv[at]!;
    const value = argv[at + 1];
    if (!["--delay", "--runs", "--only", "--bin"].includes(name)) throw new Error(`unknown option \`${name}\`: the benchmark takes --delay MS, --runs N, --only NAME,... and --bin PATH (see --help)`);
    if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value`);
    if (name === "--delay") {
      args.delayMs = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`--delay takes milliseconds (0 or more), not \`${value}\``);
    } else if (name === "--runs") {
      args.runs = Number(value);
      if (!/^\d+$/.test(value) || args.runs < 1) throw new Error(`--runs takes a whole number of runs from 1, not \`${value}\``);
    } else if (name === "--only") {
      const parts = value.split(",").filter((part) => part !== "");
      const unknown = parts.filter((part) => !(BENCH_PARTS as readonly string[]).includes(part));
      if (parts.length === 0 || unknown.length > 0) throw new Error(`--only takes parts of the benchmark, comma-separated, from ${BENCH_PARTS.join(", ")}; not \`${unknown.join(",") || value}\``);
      args.only = parts as BenchArgs["only"];
    } else {
      args.bin = value;
    }
  }
  return args;
}

/** `0.181 s`, right-aligned. */
export const seconds = (value: number): string => `${value.toFixed(3).padStart(6)} s`;

/** `  45 ms`, right-aligned; negative values keep their sign. */
export const ms = (value: number): string => `${Math.round(value * 1000).toString().padStart(4)} ms`;

export const verdict = (ok: boolean): string => (ok ? "goal met" : "GOAL MISSED");

/** The first lines: what the figures are, how many runs each is the median of, and what the goals assume. */
export function preamble(options: { nodeStart: number; runs: number; startRuns: number; delayMs: number; bin: string }): string[] {
  const { nodeStart, runs, startRuns, delayMs, bin } = options;
  const lines = [
    `Benchmark of ${bin}: each figure is a median of ${runs} ${runs === 1 ? "run" : "runs"} (start-up figures: of ${startRuns}), with its goal and whether it is met.`,
    `Packages are served on 127.0.0.1 by the test index server; where said, each answer is delayed ${delayMs} ms, standing for a network round trip.`,
    `Goals are for a quiet machine: other processes on it make every figure slower, and the load is shown at the end.`,
    `Node's start-up (node -e 0): ${seconds(nodeStart)}; a figure beyond it, and an ideal, take the start-up timed just before each of its runs.`,
  ];
  if (runs === 1) lines.push("With --runs 1 a figure is one sample, not a median: run with the default --runs 5 before trusting a missed goal.");
  return lines;
}

/**
 * One start-up line: mpip's time (`total`, s), and its time beyond Node's start-up (`beyond`, s: the
 * median of each run's time less the start-up timed beside it) against the goal. A time below Node's
 * own start-up cannot be mpip's doing: the machine's load changed between the samples, so the line says
 * the figure is noise instead of calling the goal met.
 */
export function startLine(label: string, total: number, beyond: number, goalSeconds: number): string {
  const head = `  ${label.padEnd(22)} ${seconds(total)}  ${ms(beyond)} beyond Node's start-up`;
  if (beyond < 0) return `${head}  (below Node's own start-up: noise from the machine's load; measure again with more --runs)`;
  return `${head}  ${verdict(beyond <= goalSeconds)}`;
}

/** The header of the graph section: what the graph is, the ideal, the columns and the goals. */
export function graphHeader(options: { packages: number; levels: number; delayMs: number; ideal: number }): string[] {
  const { packages, levels, delayMs, ideal } = options;
  return [
    `${packages} packages in ${levels} levels, each answer delayed ${delayMs} ms: a whole install, for each kind of server and index.`,
    `  ideal: Node's start-up + ${levels} levels x 2 round trips (a package's metadata, then its archive, which names the next level) = ${seconds(ideal)}, each row's with the start-up timed beside its runs`,
    "  server: keep-alive (keeps connections open, as real indexes and CDNs do) or closing (closes each after one answer, backlog 5, as `python -m http.server`)",
    "  index: the face asked (pypi: PyPI's JSON API, simple: the simple API, mip: a micropython-lib v2 index)",
    "  default: mpip as run (--jobs 16); --jobs 1: one request at a time, as upip and mip fetch; requests: what the default run sent",
    "  goals: the default at least 3x faster than --jobs 1, and at most 1.5x the ideal",
    `  ${"server".padEnd(10)} ${"index".padEnd(6)} ${"default".padStart(8)} ${"--jobs 1".padStart(8)}  ${"speed-up".padEnd(22)}  ${"of the ideal".padEnd(22)}  requests`,
  ];
}

/** One row of the graph section, under graphHeader's columns. */
export function graphRow(row: { server: string; index: string; parallel: number; serial: number; ideal: number; requests: number }): string {
  const speedUp = row.serial / row.parallel;
  const ofIdeal = row.parallel / row.ideal;
  const cell = (ratio: number, ok: boolean) => `${ratio.toFixed(2)}x (${verdict(ok)})`.padEnd(22);
  return `  ${row.server.padEnd(10)} ${row.index.padEnd(6)} ${seconds(row.parallel)} ${seconds(row.serial)}  ${cell(speedUp, speedUp >= 3)}  ${cell(ofIdeal, ofIdeal <= 1.5)}  ${row.requests}`;
}

/**
 * The closing line: the load per core (the 1-minute load average over the number of cores) before the
 * run, which is other processes' work, and at its end, which includes the benchmark's own (about one
 * process at a time); and what a high load before the run means for the figures above.
 */
export function loadNote(before: number, atEnd: number): string {
  const shared = before > 0.5
    ? ": other processes were using the CPU, so these figures are slower than a quiet machine's, and a missed goal may be theirs rather than mpip's"
    : ": a quiet machine";
  return `\nLoad per core (1-minute average): ${before.toFixed(2)} before the run${shared}; ${atEnd.toFixed(2)} at its end, the benchmark's own included.`;
}
