// For tests only: MPIP_TEST_COMMIT_DELAY_MS makes each step of a commit and of a roll-back sleep that
// long, so that a test can stop mpip (SIGINT, SIGTERM, SIGKILL) in the middle of one. Unset, it costs
// nothing. Not an option: no one but the test suite has a reason to make installs slower.

import { setTimeout as sleep } from "node:timers/promises";

const delayMs = Number(process.env.MPIP_TEST_COMMIT_DELAY_MS ?? "0");

export async function testDelay(): Promise<void> {
  if (Number.isFinite(delayMs) && delayMs > 0) await sleep(delayMs);
}
