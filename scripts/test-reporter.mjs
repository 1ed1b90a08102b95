// The test-file side of the suite's runner (scripts/test.ts): a node:test reporter that writes one
// marked JSON line per test as it starts and as it ends, in real time, for the runner to read from the
// file's stdout among whatever the tests themselves print. The runner formats them, and when a file
// runs out of time it knows which test was running and since when.
//
// Plain JavaScript: node loads reporters before any --import hook, so it cannot be TypeScript.

export const MARK = "\u001eMPIP-TEST ";

import { readFileSync } from "node:fs";

/**
 * CPU seconds used by this process and the child processes it has waited for (the CLI runs, MicroPython),
 * from /proc/self/stat (utime, stime, cutime, cstime, in clock ticks of 1/100 s), and by the run servers
 * still running, which say theirs (test/helpers/cli.ts); undefined off Linux.
 */
function cpuSeconds() {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = [11, 12, 13, 14].reduce((total, index) => total + Number(fields[index]), 0);
    // The run servers still running (test/helpers/cli.ts), which no wait has counted.
    const servers = globalThis[Symbol.for("mpip.test.runServerCpu")];
    const running = servers === undefined ? 0 : [...servers.values()].reduce((total, seconds) => total + seconds, 0);
    return Number.isFinite(ticks) ? ticks / 100 + running : undefined;
  } catch {
    return undefined;
  }
}

function errorText(error) {
  if (error === undefined || error === null) return undefined;
  const cause = error.cause;
  const text = typeof cause === "string" ? cause : cause?.stack ?? cause?.message ?? error.message;
  return String(text ?? "failed").split("\n").slice(0, 40).join("\n");
}

export default async function* reporter(source) {
  for await (const event of source) {
    const data = event.data ?? {};
    if (event.type === "test:dequeue") {
      yield `${MARK}${JSON.stringify({ event: "start", nesting: data.nesting ?? 0, name: data.name })}\n`;
    } else if (event.type === "test:complete") {
      const details = data.details ?? {};
      yield `${MARK}${JSON.stringify({
        event: "end",
        nesting: data.nesting ?? 0,
        name: data.name,
        passed: details.passed !== false,
        suite: details.type === "suite",
        skipped: data.skip !== undefined && data.skip !== false,
        todo: data.todo !== undefined && data.todo !== false,
        failureType: details.error?.failureType,
        error: errorText(details.error),
        // Node 20 gives the test's place as file, line and column (mapped to the .ts source by the source maps).
        location: data.file === undefined ? undefined : `${data.file}:${data.line}:${data.column}`,
        ms: details.duration_ms,
      })}\n`;
    } else if (event.type === "test:diagnostic" && (data.nesting ?? 0) > 0) {
      yield `${MARK}${JSON.stringify({ event: "note", message: data.message })}\n`;
    }
  }
  yield `${MARK}${JSON.stringify({ event: "cpu", seconds: cpuSeconds() })}\n`;
}
