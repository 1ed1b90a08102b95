// SIGINT, SIGTERM and SIGHUP in the first moments of a run, before the install has its own handler: mpip
// must exit 130, 143 or 129 with a one-line error (never die by the signal, never print a stack), and hand
// over to the install's handler without a gap. bin/mpip.js installs its handlers before it loads the CLI;
// the test waits until they are in place (Linux shows caught signals in /proc/<pid>/status) and signals
// then, at once or a little later. MPIP_TEST_STARTUP_DELAY_MS holds start-up right after the handlers,
// so that a signal surely lands while mpip is starting. (Before Node runs mpip's first line, no program
// of Node's can catch a signal: Node's own start-up takes the default action.)

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { tempDir } from "./helpers/cli.js";
import { holdRequests } from "./helpers/gate.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { beside, sleep, startMpip, until, type Running } from "./helpers/process.js";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type Signal = (typeof SIGNALS)[number];
const CODES: Record<Signal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-signals-startup-");
  await server.addSdist({ name: "early", version: "1.0", files: { "early.py": "E = 1\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** The signals a process catches, from /proc (Linux); undefined where there is no /proc. */
async function caughtSignals(pid: number): Promise<bigint | undefined> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const mask = status === undefined ? undefined : /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return mask === undefined ? undefined : BigInt(`0x${mask}`);
}

const hasProc = async () => (await caughtSignals(process.pid)) !== undefined;

/**
 * Waits until mpip's own handlers are in place. They are installed together, SIGHUP last; Node itself
 * catches SIGINT and SIGTERM from its start (to restore the terminal before dying), never SIGHUP.
 */
async function handlersInstalled(run: Running): Promise<boolean> {
  const bit = 1n << BigInt(os.constants.signals.SIGHUP - 1);
  return until(async () => (((await caughtSignals(run.pid)) ?? 0n) & bit) !== 0n, run);
}

function scene() {
  const parent = path.join(work.dir, `case-${++counter}`);
  return { parent, target: path.join(parent, "image") };
}

function assertStopped(exit: Awaited<Running["exited"]>, signal: Signal): void {
  assert.equal(exit.signal, null, `mpip died by ${exit.signal}: ${exit.stderr}`);
  assert.equal(exit.code, CODES[signal], exit.stderr);
  assert.match(exit.stderr, new RegExp(`^error: interrupted by ${signal}`, "m"));
  assert.doesNotMatch(exit.stderr, /bug in mpip|unexpected failure|\n\s+at .*:\d+:\d+/);
}

describe("a signal while mpip starts", () => {
  for (const signal of SIGNALS) {
    test(`${signal} while start-up is held exits ${CODES[signal]} with one line`, async (t) => {
      if (!(await hasProc())) return t.skip("needs /proc to see when the handlers are in place");
      const { target } = scene();
      const run = startMpip(["install", "-i", server.url, "-p", target, "early"], { env: { MPIP_TEST_STARTUP_DELAY_MS: "600000" } });
      assert.ok(await handlersInstalled(run), `mpip ended first: ${run.stderr()}`);
      run.child.kill(signal);
      const exit = await run.exited;
      assertStopped(exit, signal);
      assert.equal(exit.stderr, `error: interrupted by ${signal} while mpip was starting; nothing was changed\n`);
      assert.equal(exit.stdout, "");
      assert.ok(!server.requests.some((request) => request.includes("/early/")), "nothing was asked of the index");
    });
  }

  test("with --json, the interruption is reported on stdout too", async (t) => {
    if (!(await hasProc())) return t.skip("needs /proc to see when the handlers are in place");
    const run = startMpip(["install", "--json", "-i", server.url, "-p", scene().target, "early"], { env: { MPIP_TEST_STARTUP_DELAY_MS: "600000" } });
    assert.ok(await handlersInstalled(run), run.stderr());
    run.child.kill("SIGTERM");
    const exit = await run.exited;
    assertStopped(exit, "SIGTERM");
    assert.deepEqual(JSON.parse(exit.stdout), { ok: false, error: { code: "interrupted", message: "interrupted by SIGTERM while mpip was starting; nothing was changed" } });
  });

  test("at once and a little after the handlers are in place, while the CLI loads or the install begins: never a death by the signal", async (t) => {
    if (!(await hasProc())) return t.skip("needs /proc to see when the handlers are in place");
    // The index never answers: an install that got that far waits there, and the signal must stop it too.
    const gate = holdRequests(server, "project", (p) => p.includes("/early/"));
    try {
      const delays = [0, 0, 1, 2, 5, 10, 20, 40, 80, 160];
      for (const [index, delay] of delays.entries()) {
        const signal = SIGNALS[index % SIGNALS.length]!;
        const { parent, target } = scene();
        const run = startMpip(["install", "-i", server.url, "-p", target, "early"]);
        assert.ok(await handlersInstalled(run), run.stderr());
        if (delay > 0) await sleep(delay);
        run.child.kill(signal);
        const exit = await run.exited;
        assertStopped(exit, signal);
        assert.deepEqual(await beside(parent, "image").catch(() => []), [], "nothing is left beside the target");
      }
    } finally {
      gate.restore();
    }
  });
});
