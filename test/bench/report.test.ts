// The install benchmark's output explains itself: each figure with what it measures, its goal and its
// verdict, and figures that cannot be trusted (one run, a loaded machine, below Node's start-up) said so.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import path from "node:path";
import { BENCH_PARTS, graphHeader, graphRow, loadNote, parseBenchArgs, preamble, startLine } from "../../bench/report.js";
import { ROOT, runCommand } from "../helpers/cli.js";

describe("the install benchmark's report", () => {
  test("the preamble says how many runs each figure is the median of, and warns when it is one", () => {
    const one = preamble({ nodeStart: 0.05, runs: 1, startRuns: 9, delayMs: 40, bin: "bin/mpip.js" }).join("\n");
    assert.match(one, /median of 1 run \(start-up figures: of 9\)/);
    assert.match(one, /each answer is delayed 40 ms, standing for a network round trip/);
    assert.match(one, /With --runs 1 a figure is one sample, not a median/);
    const five = preamble({ nodeStart: 0.05, runs: 5, startRuns: 9, delayMs: 25, bin: "old/bin/mpip.js" }).join("\n");
    assert.match(five, /^Benchmark of old\/bin\/mpip\.js: each figure is a median of 5 runs/);
    assert.doesNotMatch(five, /one sample/);
  });

  test("a start-up figure below Node's own start-up is called noise, never a goal met", () => {
    for (const [total, beyond] of [[0.181, -0.134], [0.049, -0.001]] as const) {
      const line = startLine("mpip --version", total, beyond, 0.03);
      assert.match(line, /below Node's own start-up: noise from the machine's load/, line);
      assert.doesNotMatch(line, /goal met|GOAL MISSED/, line);
    }
    assert.match(startLine("mpip --help", 0.07, 0.02, 0.03), /20 ms beyond Node's start-up {2}goal met$/);
    assert.match(startLine("index pypi", 0.3, 0.25, 0.15), /250 ms beyond Node's start-up {2}GOAL MISSED$/);
  });

  test("the graph section names its columns and goals, and each row its verdicts under them", () => {
    const header = graphHeader({ packages: 13, levels: 3, delayMs: 30, ideal: 0.23 });
    assert.match(header.join("\n"), /13 packages in 3 levels, each answer delayed 30 ms/);
    assert.match(header.join("\n"), /ideal: Node's start-up \+ 3 levels x 2 round trips .* = {2}0\.230 s/);
    assert.match(header.join("\n"), /goals: the default at least 3x faster than --jobs 1, and at most 1\.5x the ideal/);
    const columns = header.at(-1)!;
    for (const name of ["server", "index", "default", "--jobs 1", "speed-up", "of the ideal", "requests"]) assert.ok(columns.includes(name), name);
    const met = graphRow({ server: "keep-alive", index: "mip", parallel: 0.3, serial: 1.2, ideal: 0.23, requests: 27 });
    assert.match(met, /4\.00x \(goal met\) +1\.30x \(goal met\) +27$/);
    const missed = graphRow({ server: "closing", index: "simple", parallel: 1.0, serial: 1.5, ideal: 0.23, requests: 31 });
    assert.match(missed, /1\.50x \(GOAL MISSED\) +4\.35x \(GOAL MISSED\) +31$/);
    // Each value stands under its column's name.
    assert.equal(met.indexOf("4.00x"), columns.indexOf("speed-up"));
    assert.equal(met.indexOf("1.30x"), columns.indexOf("of the ideal"));
    assert.equal(met.indexOf("27"), columns.indexOf("requests"));
  });

  test("the load note says when other processes shared the CPU, and what that means for a missed goal", () => {
    assert.match(loadNote(2.4, 2.9), /2\.40 before the run: other processes were using the CPU, .* a missed goal may be theirs/);
    assert.match(loadNote(0.1, 0.6), /0\.10 before the run: a quiet machine; 0\.60 at its end, the benchmark's own included/);
  });
});

describe("the install benchmark's command line", () => {
  test("defaults, and every option as the header comment gives it", () => {
    assert.deepEqual(parseBenchArgs([]), { delayMs: 40, runs: 5, only: [...BENCH_PARTS], bin: undefined });
    assert.deepEqual(parseBenchArgs(["--runs", "1", "--only", "start,graph", "--delay", "12.5", "--bin", "../old/bin/mpip.js"]), { delayMs: 12.5, runs: 1, only: ["start", "graph"], bin: "../old/bin/mpip.js" });
  });

  test("a slip is an error saying what the option takes, never a run that measures nothing", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--only", "grpah"], /--only takes parts of the benchmark, comma-separated, from start, graph, nodelay, locked, memory, compile; not `grpah`/],
      [["--only", "start,memroy"], /not `memroy`/],
      [["--only", ","], /--only takes parts/],
      [["--runs", "0"], /--runs takes a whole number of runs from 1, not `0`/],
      [["--runs", "2.5"], /--runs takes a whole number/],
      [["--runs"], /--runs needs a value/],
      [["--runs", "--only", "start"], /--runs needs a value/],
      [["--delay", "fast"], /--delay takes milliseconds/],
      [["--jobs", "4"], /unknown option `--jobs`: the benchmark takes --delay MS, --runs N, --only NAME,\.\.\. and --bin PATH/],
    ];
    for (const [argv, message] of cases) assert.throws(() => parseBenchArgs(argv), message, argv.join(" "));
  });

  test("--help (or -h) of each benchmark entry prints what it takes and exits 0, measuring nothing; cpu-path's slips are errors too", async () => {
    const bench = (file: string, args: string[]) => runCommand(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", file), ...args]);
    for (const [file, args, says] of [
      ["install.ts", ["--help"], /^node --import tsx bench\/install\.ts \[--delay MS\][^]*--bin PATH +the mpip to measure/],
      ["install.ts", ["--runs", "3", "-h"], /--only NAME,\.\.\. the parts to run, from start, graph, nodelay, locked, memory, compile/],
      ["run.ts", ["--help"], /^npm run bench \[-- OPTIONS\]: the install benchmark with OPTIONS[^]*bench\/compile\.ts/],
      ["cpu-path.ts", ["--help"], /^node --import tsx bench\/cpu-path\.ts \[--runs N\][^]*--compare DIR/],
    ] as const) {
      const result = await bench(file, [...args]);
      assert.equal(result.code, 0, `${file} ${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stdout, says);
      assert.doesNotMatch(result.stdout, /Benchmark of|Node's start-up/, "nothing measured");
    }
    for (const [args, says] of [[["--compre", "/x"], /^error: unknown option `--compre`/], [["--runs", "0"], /^error: --runs takes a whole number from 1, not `0`/], [["--big"], /^error: --big needs a value/]] as const) {
      const result = await bench("cpu-path.ts", [...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, says);
    }
  });
});
