// Time budgets for tests that must wait for something (a child process, a server), scaled to the
// machine: scripts/test.ts measures how much slower than a quiet 2-core machine this one is (a factor
// from 1 up) and passes it as MPIP_TEST_SCALE. A budget is a ceiling against hangs, never a measurement:
// no test asserts that something was fast.

const scale = Number(process.env.MPIP_TEST_SCALE);

/** The time scale of this run (1 on a quiet machine, or when the runner did not set one). */
export const TIME_SCALE = Number.isFinite(scale) && scale > 0 ? Math.max(1, scale) : 1;

/** `ms` scaled to this machine. */
export function budget(ms: number): number {
  return Math.round(ms * TIME_SCALE);
}
