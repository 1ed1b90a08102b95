// Ctrl-C (SIGINT), SIGTERM and SIGHUP, for the CLI: instead of dying where it stands, mpip aborts the install's
// AbortSignal (with the signal's name as the reason), lets it remove its staging folder and roll back a
// commit in progress, and exits 128 + the signal's number (130, 143, 129), as a shell expects. A second
// signal while it cleans up does not cut the clean-up short; kill -9 still works, and the next run
// finishes the job from the journal.

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
  /** Restores the default handlers. */
  dispose(): void;
}

export function catchSignals(say: (message: string) => void): SignalCatcher {
  const controller = new AbortController();
  let received: Handled | undefined;
  const handlers = HANDLED.map((name) => {
    const handler = () => {
      if (received === undefined) {
        received = name;
        controller.abort(name);
      } else {
        say(`${name}: mpip is putting things back as they were and stops in a moment`);
      }
    };
    process.on(name, handler);
    return { name, handler };
  });
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return received === undefined ? undefined : 128 + os.constants.signals[received];
    },
    dispose() {
      for (const { name, handler } of handlers) process.off(name, handler);
    },
  };
}
