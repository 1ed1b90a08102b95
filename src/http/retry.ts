// When and how long to wait before trying a request again: exponential backoff with jitter, or what
// the server asked for in `Retry-After` (capped, so a server cannot park mpip for an hour). Pure
// functions, plus the loop that runs attempts; each attempt says whether its failure is worth a retry.

import { MpipError } from "../errors.js";

export const DEFAULT_RETRIES = 3;
/** The first backoff; each retry doubles it. */
export const DEFAULT_RETRY_BASE_MS = 500;
export const MAX_BACKOFF_MS = 10_000;
/** The longest mpip waits when a server sends `Retry-After`. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface RetryPolicy {
  /** Retries after the first attempt (0: try once). */
  retries: number;
  baseDelayMs: number;
}

/** One attempt's result: a value, or a failure that says whether trying again may help. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: MpipError; retryable: boolean; retryAfterMs?: number };

/** Overload and temporary server trouble, not a definite answer: 408, 429 and 5xx (but 501 and 505). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT` → milliseconds from `now` (never negative). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - now);
}

/** Retry `n` (1-based) waits base·2^(n-1), jittered to between half and all of that, at most MAX_BACKOFF_MS. */
export function backoffMs(retry: number, baseDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(baseDelayMs * 2 ** (retry - 1), MAX_BACKOFF_MS);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface Wait {
  ms: number;
  /** Why this long, for the log. */
  reason: string;
}

export function retryWait(retry: number, policy: RetryPolicy, retryAfterMs: number | undefined, random: () => number = Math.random): Wait {
  if (retryAfterMs === undefined) return { ms: backoffMs(retry, policy.baseDelayMs, random), reason: "backoff" };
  if (retryAfterMs <= MAX_RETRY_AFTER_MS) return { ms: retryAfterMs, reason: "as the server asked (Retry-After)" };
  return {
    ms: MAX_RETRY_AFTER_MS,
    reason: `the server asked for ${seconds(retryAfterMs)} (Retry-After), but mpip waits at most ${seconds(MAX_RETRY_AFTER_MS)}`,
  };
}

export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 0))} s`;
}

/** A retry about to happen, for the log and the progress line. */
export interface RetryNotice {
  /** The attempt that comes next, counting the first (2 for the first retry). */
  attempt: number;
  /** How many attempts there are in all: the first and every retry. */
  attempts: number;
  waitMs: number;
  /** Why the last attempt failed. */
  error: MpipError;
}

export interface RetryHooks {
  /** Called before each wait: `message` for the -v log, `notice` as data. */
  onRetry?: (message: string, notice: RetryNotice) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, fails for good, or the retries are spent; the last error says how many tries it took. */
export async function withRetries<T>(attempt: () => Promise<Attempt<T>>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  for (let retry = 1; ; retry++) {
    const result = await attempt();
    if (result.ok) return result.value;
    if (!result.retryable) throw result.error;
    if (retry > policy.retries) throw gaveUp(result.error, retry);
    const wait = retryWait(retry, policy, result.retryAfterMs, hooks.random);
    hooks.onRetry?.(`${result.error.message}; retry ${retry} of ${policy.retries} in ${seconds(wait.ms)} (${wait.reason})`, {
      attempt: retry + 1,
      attempts: policy.retries + 1,
      waitMs: wait.ms,
      error: result.error,
    });
    await sleep(wait.ms);
  }
}

function gaveUp(error: MpipError, attempts: number): MpipError {
  if (attempts === 1) return error;
  return new MpipError(error.code, `${error.message} (gave up after ${attempts} attempts)`, {
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  });
}
