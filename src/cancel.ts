// An install stops as a whole: the first task that fails cancels every other one (downloads in flight
// are aborted, queued tasks never start, waits for memory end), exactly as a signal does, and that
// failure, not the aborts it caused, is what the install reports. Sibling tasks are run with `all`,
// which waits until each has stopped (promptly, once aborted), so nothing still writes into the staging
// folder when it is removed.

import { setMaxListeners } from "node:events";

/** The reason a cancelled run's signal carries: another task failed with `failure`. */
export class Cancelled extends Error {
  constructor(readonly failure: unknown) {
    super("cancelled: another part of the install failed", { cause: failure });
    this.name = "Cancelled";
  }
}

export class RunScope {
  private readonly controller = new AbortController();
  private first: { error: unknown } | undefined;
  private readonly detach: () => void;

  /** `outer` (SIGINT, SIGTERM) aborts the run too, with its own reason. */
  constructor(outer?: AbortSignal) {
    // Every request, pool and memory wait in flight listens to the signal: dozens at once are expected,
    // not a leak (Node would warn on stderr past 10).
    setMaxListeners(0, this.controller.signal);
    const forward = () => this.controller.abort(outer!.reason);
    if (outer?.aborted === true) forward();
    else outer?.addEventListener("abort", forward, { once: true });
    this.detach = () => outer?.removeEventListener("abort", forward);
  }

  /** Aborted when the run fails or `outer` aborts: give it to every request, wait and pool. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first failure, once a task has failed (and nothing aborted the run before it). */
  get failure(): { error: unknown } | undefined {
    return this.first;
  }

  /** Fails the run with `error`, unless it was already failed or aborted: everything else stops. */
  fail(error: unknown): void {
    if (this.controller.signal.aborted) return;
    this.first = { error };
    this.controller.abort(new Cancelled(error));
  }

  /**
   * Runs sibling tasks (all started at once; give them a Pool to bound them) and returns their results
   * in input order. When one fails, the whole run is failed, the others are aborted, and once all have
   * stopped the run's first failure is thrown (if the run was aborted from outside, the first error in
   * input order).
   */
  async all<T>(tasks: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
    const settled = await Promise.allSettled(tasks.map(async (task) => {
      try {
        return await task();
      } catch (error) {
        this.fail(error);
        throw error;
      }
    }));
    const results: T[] = [];
    for (const outcome of settled) {
      if (outcome.status === "rejected") throw this.first === undefined ? outcome.reason : this.first.error;
      results.push(outcome.value);
    }
    return results;
  }

  /** Stops following `outer`: call once the run is over. */
  dispose(): void {
    this.detach();
  }
}
