// Ctrl-C (SIGINT), SIGTERM and SIGHUP, for the CLI: instead of dying where it stands, mpip aborts the install's
// AbortSignal (with the signal's name as the reason), lets it remove its staging folder and roll back a
// commit in progress, and exits 128 + the signal's number (130, 143, 129), as a shell expects. A second
// signal while it cleans up does not cut the clean-up short; kill -9 still works, and the next run
// finishes the job from the journal.
//
// The process handlers are installed once, as the first thing bin/mpip.js does (catchSignalsFromStart),
// before the CLI's modules load, and stay for the whole run: while an install runs they hand each signal
// to its catcher (catchSignals); at any other moment (start-up, a command without clean-up of its own)
// they exit at once with 128 + the signal's number and a one-line error, as nothing then needs putting
// back. Handing over is only adding a catcher to a set, so no signal finds the default action in place.
// This module must stay light (Node's own modules only): bin/mpip.js loads it (in dist/start.cjs) before
// anything else, and every millisecond it takes is a moment with Node's default action.

import { setMaxListeners } from "node:events";
import os from "node:os";

// SIGHUP: the terminal was closed under a running install; it is put back as for Ctrl-C (exit 129).
const HANDLED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type Handled = (typeof HANDLED)[number];

export interface SignalCatcher {
  signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: Handled | undefined;
  /** 128 + the received signal's number, if one was received. */
  readonly exitCode: number | undefined;
  /** Stops catching: signals go back to the start-up handling, or to Node's default action without it. */
  dispose(): void;
}

/** What to do with a signal that no catcher takes. */
interface Fallback {
  /** Whether the CLI has not started a command yet. */
  starting: boolean;
  /** Whether the command line asks for a JSON report on stdout (`--json`). */
  json: boolean;
}

interface SignalState {
  catchers: Set<(name: Handled) => void>;
  installed: Map<Handled, () => void> | undefined;
  fallback: Fallback | undefined;
}

// One state per process, whichever copy of this module asks: bin/mpip.js loads a copy in dist/start.cjs
// before anything else, and the bundled CLI (dist/mpip.cjs) carries a copy of its own; both must hand
// signals to the same catchers.
const state: SignalState = ((globalThis as { [key: symbol]: SignalState })[Symbol.for("mpip.signals")] ??= {
  catchers: new Set(),
  installed: undefined,
  fallback: undefined,
});
const { catchers } = state;

/** 128 + the signal's number: what a shell reports for a program the signal stopped. */
export function signalExitCode(name: Handled): number {
  return 128 + os.constants.signals[name];
}

/**
 * For bin/mpip.js, before it loads the CLI: from now on SIGINT, SIGTERM and SIGHUP never kill mpip with
 * the default action. Until `started()` is called, a signal is reported as stopping mpip while it was
 * starting (nothing was changed); afterwards, outside an install's catcher, just as interrupting it.
 * `argv` tells whether the error goes to stdout as JSON too (`--json`).
 */
export function catchSignalsFromStart(argv: readonly string[] = process.argv): { started(): void } {
  const end = argv.indexOf("--");
  state.fallback = { starting: true, json: (end < 0 ? argv : argv.slice(0, end)).includes("--json") };
  install();
  return {
    started() {
      if (state.fallback !== undefined) state.fallback.starting = false;
    },
  };
}

/** An install's catcher: the first signal aborts `signal`; a second one says the clean-up is under way. */
export function catchSignals(say: (message: string) => void): SignalCatcher {
  const controller = new AbortController();
  // Every request, retry wait and lock poll of the install listens on this one signal, as many at once as
  // --jobs allows; each listener goes when its operation ends. Node's leak warning (at 11) would fire on
  // any install with more than ten downloads in flight, so it is turned off for this signal.
  allowManyListeners(controller.signal);
  let received: Handled | undefined;
  const catcher = (name: Handled) => {
    if (received === undefined) {
      received = name;
      controller.abort(name);
    } else {
      say(`${name}: mpip is putting things back as they were and stops in a moment`);
    }
  };
  install();
  catchers.add(catcher);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received === undefined ? undefined : signalExitCode(received);
    },
    dispose() {
      catchers.delete(catcher);
      // Installed for this catcher alone (no start-up handling): Node's default action comes back.
      if (catchers.size === 0 && state.fallback === undefined) uninstall();
    },
  };
}

/**
 * Lets any number of listeners wait on `signal` without Node's MaxListenersExceededWarning: an install's
 * signal is shared by every concurrent operation, so their number follows the concurrency, not a leak.
 */
export function allowManyListeners(signal: AbortSignal): void {
  setMaxListeners(0, signal); // 0: no limit
}

function install(): void {
  if (state.installed !== undefined) return;
  state.installed = new Map(HANDLED.map((name) => [name, () => deliver(name)]));
  for (const [name, handler] of state.installed) process.on(name, handler);
}

function uninstall(): void {
  for (const [name, handler] of state.installed ?? []) process.off(name, handler);
  state.installed = undefined;
}

function deliver(name: Handled): void {
  if (catchers.size > 0) {
    for (const catcher of catchers) catcher(name);
    return;
  }
  const now = state.fallback ?? { starting: false, json: false };
  const message = now.starting ? `interrupted by ${name} while mpip was starting; nothing was changed` : `interrupted by ${name}`;
  if (now.json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: "interrupted", message } }, null, 2)}\n`);
  process.stderr.write(`error: ${message}\n`);
  process.exit(signalExitCode(name));
}
