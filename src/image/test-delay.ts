// For tests only: MPIP_TEST_COMMIT_DELAY_MS makes each step of a commit and of a roll-back sleep that
// long, so that a test can stop mpip (SIGINT, SIGTERM, SIGKILL) in the middle of one; and
// MPIP_TEST_COMMIT_GATE names a file that each file step of a commit (not a folder step, not a step of
// a roll-back) waits for, so that a test can hold a commit half-done for exactly as long as it needs,
// whatever the machine's load.
// Unset, they cost nothing. Not options: no one but the test suite has a reason to make installs slower.

import { access } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

const delayMs = Number(process.env.MPIP_TEST_COMMIT_DELAY_MS ?? "0");
const gate = process.env.MPIP_TEST_COMMIT_GATE;

/** A signal ends the wait at the gate (not the delay), as it would end a slow disk's step. */
export async function testDelay(step: "commit" | "folder" | "roll-back" = "roll-back", signal?: AbortSignal): Promise<void> {
  if (Number.isFinite(delayMs) && delayMs > 0) await sleep(delayMs);
  if (step === "commit" && gate !== undefined && gate !== "") {
    while (signal?.aborted !== true && !(await access(gate).then(() => true, () => false))) await sleep(10);
  }
}
