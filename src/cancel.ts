// An install stops as a whole: once a task fails, every other one is cancelled (downloads in flight
// are aborted, queued tasks never start, waits for memory end), exactly as a signal does, and that
// failure, not the aborts it caused, is what the install reports. Sibling tasks are run with `all`,
// which waits until each has stopped (promptly, once aborted), so nothing still writes into the staging
// folder when it is removed.
//
// Which failure is reported does not depend on timing: when several tasks would fail, it is the first in
// the order they were asked for (the order pip, which works through them one at a time, would meet them
// in), not the first to come back. A task that fails therefore lets the tasks before it run on; once they
// have settled, the first failure among them all fails the run. The parts of one task (the files of a
// package document) are run with `parts`, which answers with their first failure in the same order but
// leaves the deciding to the `all` the task belongs to: a part failing must not abort that `all`'s
// earlier tasks, one of which may fail too and come first.

import { setMaxListeners } from "node:events";

/** The reason a cancelled run's signal carries: another task failed with `failure`. */
export class Cancelled extends Error {
  constructor(readonly failure: unknown) {
    super("cancelled: another part of the install failed", { cause: failure });
    this.name = "Cancelled";
  }
}

/** How a group of tasks ended, once that is known: every result, or the first failure in input order. */
type Decided<T> = { failed: false; values: T[] } | { failed: true; error: unknown; settled: Promise<unknown> };

export class RunScope {
  private readonly controller = new AbortController();
  private first: { error: unknown } | undefined;
  private readonly detach: () => void;
  /** Parts still running after `parts` answered with a failure: the deciding `all` waits for them. */
  private readonly stragglers = new Set<Promise<unknown>>();
  /** How many `all` calls are under way: `parts` outside any decides for itself. */
  private deciding = 0;

  /** `outer` (SIGINT, SIGTERM) aborts the run too, with its own reason. */
  constructor(outer?: AbortSignal) {
    // Every request, pool and memory wait in flight listens to the signal: dozens at once are expected,
    // not a leak (Node would warn on stderr past 10).
    setMaxListeners(0, this.controller.signal);
    this.detach = outer === undefined ? () => {} : follow(outer, this.controller);
  }

  /** Aborted when the run fails or `outer` aborts: give it to every request, wait and pool. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The failure that failed the run, once one has (and nothing aborted the run before it). */
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
   * in input order. When tasks fail, the first failure in input order decides, whatever the timing: a
   * failing task lets those before it run on, and once they have settled, the first failure among them
   * fails the run (the tasks after it and everything else in flight are aborted). Once every task has
   * stopped, and every part `parts` left running, the run's failure is thrown: that one, or the one an
   * earlier group failed the run with; if the run was aborted from outside, the first error in input order.
   */
  async all<T>(tasks: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
    this.deciding++;
    let decided: Decided<T>;
    try {
      decided = await inInputOrder(tasks);
      if (!decided.failed) return decided.values;
      this.fail(decided.error);
      await decided.settled;
      while (this.stragglers.size > 0) await Promise.allSettled([...this.stragglers]);
    } finally {
      this.deciding--;
    }
    throw this.first === undefined ? decided.error : this.first.error;
  }

  /**
   * Runs the parts of one task of an `all` (the files of one package) and returns their results in input
   * order; once the first failure in input order is known (the parts before it have settled), throws it
   * at once and aborts the parts after it (none of them can be the task's failure any more) through the
   * signal each part is given, without aborting the run: the `all` decides whether the run fails with it
   * or with an earlier task's failure, and waits for those parts to stop before it throws. Each part's
   * signal follows `within` (the signal of the part this one belongs to), by default the run's.
   * Outside any `all`, it fails the run itself, as `all` does. A part must not itself run an `all`.
   */
  async parts<T>(tasks: ReadonlyArray<(signal: AbortSignal) => Promise<T>>, within: AbortSignal = this.signal): Promise<T[]> {
    if (this.deciding === 0) return this.all(tasks.map((task) => () => task(within)));
    const own = new AbortController();
    setMaxListeners(0, own.signal);
    const detach = follow(within, own);
    const decided = await inInputOrder(tasks.map((task) => () => task(own.signal)));
    if (!decided.failed) {
      detach();
      return decided.values;
    }
    own.abort(new Cancelled(decided.error));
    const settled = decided.settled.finally(() => {
      detach();
      this.stragglers.delete(settled);
    });
    this.stragglers.add(settled);
    throw decided.error;
  }

  /** Stops following `outer`: call once the run is over. */
  dispose(): void {
    this.detach();
  }
}

/** Aborts `controller` with `outer`'s reason when `outer` aborts (at once if it has); returns how to stop following it. */
function follow(outer: AbortSignal, controller: AbortController): () => void {
  const forward = () => controller.abort(outer.reason);
  if (outer.aborted) forward();
  else outer.addEventListener("abort", forward, { once: true });
  return () => outer.removeEventListener("abort", forward);
}

/**
 * Starts every task at once and answers as soon as the outcome is known: every result once all have
 * succeeded, or the failure of the first task in input order that failed, once every task before it has
 * settled (none of them can come first any more), with a promise of all of them settling.
 */
function inInputOrder<T>(tasks: ReadonlyArray<() => Promise<T>>): Promise<Decided<T>> {
  return new Promise((resolve) => {
    const values: T[] = new Array(tasks.length);
    const done: boolean[] = new Array(tasks.length).fill(false);
    let firstFailed = Infinity;
    let failure: unknown;
    /** Every task before this index has settled. */
    let settledBefore = 0;
    let remaining = tasks.length;
    let allSettled!: () => void;
    const settled = new Promise<void>((resolveSettled) => {
      allSettled = resolveSettled;
    });
    let answered = false;
    const finish = (at: number) => {
      done[at] = true;
      if (--remaining === 0) allSettled();
      while (settledBefore < tasks.length && done[settledBefore]) settledBefore++;
      if (answered) return;
      if (settledBefore >= firstFailed) {
        answered = true;
        resolve({ failed: true, error: failure, settled });
      } else if (remaining === 0) {
        answered = true;
        resolve({ failed: false, values });
      }
    };
    if (tasks.length === 0) resolve({ failed: false, values });
    tasks.forEach(async (task, at) => {
      try {
        values[at] = await task();
      } catch (error) {
        if (at < firstFailed) {
          firstFailed = at;
          failure = error;
        }
      }
      finish(at);
    });
  });
}
