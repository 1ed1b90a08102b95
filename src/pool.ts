// A bounded pool for network and file work: at most `limit` tasks run at once. Results come back in input
// order whatever the completion order, which keeps mpip's output deterministic. Once `signal` aborts
// (the install failed, or a signal came), no queued task starts: each waiting one rejects at once with
// the signal's reason.

export class Pool {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number, private readonly signal?: AbortSignal) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`pool limit must be a positive integer, got ${limit}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    this.signal?.throwIfAborted();
    if (this.active < this.limit) this.active++;
    else await this.turn();
    try {
      this.signal?.throwIfAborted();
      return await task();
    } finally {
      // The slot passes straight to the next in line, so no newcomer can slip in between.
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }

  /** Resolves when a finishing task hands over its slot; rejects at once if the signal aborts first. */
  private turn(): Promise<void> {
    const { signal } = this;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(start);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal!.reason);
      };
      const start = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(start);
    });
  }
}

/**
 * How many file operations a step of the install keeps in flight at once: libuv runs them on 4 threads,
 * and a few more queued keep those busy while the main thread works on the answers.
 */
export const FILE_JOBS = 16;

/**
 * Runs `task` on every item, at most `limit` at once, and returns the results in input order. Waits for
 * every task to settle before it returns or throws, so that nothing is still writing when a caller
 * cleans up after a failure; then throws the first failure in input order (what a loop over the items
 * would have thrown). `limit` workers take the items in turn: however many items there are, no more
 * than `limit` promises and closures are alive at once (a commit of a thousand files made a thousand,
 * all kept across garbage collections until their turn came).
 */
export async function mapInOrder<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`pool limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let failure: { at: number; reason: unknown } | undefined;
  let next = 0;
  const work = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      try {
        results[at] = await task(items[at]!, at);
      } catch (reason) {
        if (failure === undefined || at < failure.at) failure = { at, reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, work));
  if (failure !== undefined) throw failure.reason;
  return results;
}
