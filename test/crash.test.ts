// The crash test: real installs (the built CLI against the test index) killed with SIGKILL at random
// moments, many times, then mpip run again on the same target. After every kill, and again after the
// next run, the target must be byte-identical to its state before the install or after it, and nothing
// may be left beside it once the next run is done. Commits are slowed down (MPIP_TEST_COMMIT_DELAY_MS)
// so that a good share of the kills land in the middle of one; some of the next runs are killed too,
// in the middle of their roll-back. Seeded: MPIP_CRASH_SEED and MPIP_CRASH_KILLS replay or extend a run.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { beside, prng, sleep, startMpip, until } from "./helpers/process.js";

const SEED = Number(process.env.MPIP_CRASH_SEED ?? 20261124);
const KILLS = Number(process.env.MPIP_CRASH_KILLS ?? 24);
const COMMIT_DELAY_MS = 4;
const ENV = { MPIP_TEST_COMMIT_DELAY_MS: String(COMMIT_DELAY_MS) };

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };

const modules = (folder: string, count: number, version: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${folder}/m${String(i).padStart(2, "0")}.py`, `# ${folder} module ${i}\nVERSION = "${version}"\n`]));

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-crash-");
  await server.addSdist({ name: "crash-app", version: "1.0", requires: ["crash-lib"], files: { "crash_app/__init__.py": "V = 1\n", "crash_shared.py": "S = 1\n", ...modules("crash_app", 8, "1.0") } });
  await server.addSdist({ name: "crash-lib", version: "1.0", files: { "crash_lib/__init__.py": "L = 1\n", ...modules("crash_lib", 4, "1.0") } });
  await server.addSdist({
    name: "crash-app",
    version: "2.0",
    requires: ["crash-lib>=2"],
    files: { "crash_app/__init__.py": "V = 2\n", "crash_shared.py": "S = 2\n", ...modules("crash_app", 12, "2.0"), ...modules("crash_app/extra", 5, "2.0") },
  });
  await server.addSdist({ name: "crash-lib", version: "2.0", files: { "crash_lib/__init__.py": "L = 2\n", ...modules("crash_lib", 6, "2.0"), ...modules("crash_lib/sub/deeper", 3, "2.0") } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

type Phase = "finished before the kill" | "before staging" | "while downloading or unpacking" | "mid-commit" | "after the commit point";

test(`SIGKILL at ${KILLS} random points of real installs never loses anything (seed ${SEED})`, async (t) => {
  const random = prng(SEED);
  const upgrade = (target: string) => ["install", "-i", server.url, "-p", target, "crash-app==2.0"];
  // The next run asks for a package that is nowhere (from a local folder: no network, so it is quick).
  const nowhere = path.join(work.dir, "empty-folder");
  await mkdir(nowhere);
  const failing = (target: string) => ["install", "--no-index", "-f", nowhere, "-p", target, "crash-no-such-package"];
  // A retried install takes the same sdists from a local folder: the network part was proven by the killed run.
  const sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  for (const project of server.projects.values()) {
    for (const files of project.releases.values()) for (const file of files) await writeFile(path.join(sdists, file.filename), file.body);
  }
  const retryOffline = (target: string) => ["install", "--no-index", "-f", sdists, "-p", target, "crash-app==2.0"];

  // Before: version 1 installed, plus files of the user's own. After: version 2 over it.
  const template = path.join(work.dir, "template", "image");
  const first = await runMpip(["install", "-i", server.url, "-p", template, "crash-app==1.0"]);
  assert.equal(first.code, 0, first.stderr);
  await writeFile(path.join(template, "notes.txt"), "the user's notes\n");
  await writeFile(path.join(template, "crash_app", "local_settings.py"), "DEBUG = True\n");
  const beforeState = await snapshot(template);

  const reference = path.join(work.dir, "reference", "image");
  await cp(template, reference, { recursive: true });
  // Durations only scale the random kill times; nothing is asserted on them. The commit's is its journal's
  // life, seen by polling as the kills below see it: the commit applies its steps side by side, so its
  // length cannot be told from the number of files.
  let started = performance.now();
  const referenceRun = startMpip(upgrade(reference), { env: ENV });
  const referenceJournal = path.join(work.dir, "reference", ".image.mpip-journal");
  let journalMs: number | undefined;
  if (await until(() => existsSync(referenceJournal), referenceRun)) {
    const seen = performance.now();
    await until(() => !existsSync(referenceJournal), referenceRun);
    journalMs = performance.now() - seen;
  }
  const upgraded = await referenceRun.exited;
  const fullRunMs = performance.now() - started;
  assert.equal(upgraded.code, 0, upgraded.stderr);
  const commitMs = Math.max(journalMs ?? 0, COMMIT_DELAY_MS * 2);
  const afterState = await snapshot(reference);
  assert.notDeepEqual(afterState, beforeState);
  // The same upgrade from the local folder: the same files, and records that name that folder as the source.
  const offlineReference = path.join(work.dir, "offline-reference", "image");
  await cp(template, offlineReference, { recursive: true });
  assert.equal((await runMpip(retryOffline(offlineReference))).code, 0);
  const afterOfflineState = await snapshot(offlineReference);
  started = performance.now();
  assert.equal((await runMpip(failing(reference), { env: ENV })).code, 1);
  const failingRunMs = performance.now() - started;

  const which = (state: Record<string, string>) => (isDeepEqual(state, beforeState) ? "before" : isDeepEqual(state, afterState) ? "after" : "neither");
  const phases = new Map<Phase, number>();
  let recoveriesKilled = 0;
  let rolledBack = 0;
  let retried = 0;

  for (let i = 0; i < KILLS; i++) {
    const parent = path.join(work.dir, `kill-${i}`);
    const target = path.join(parent, "image");
    await mkdir(parent);
    await cp(template, target, { recursive: true });
    const journal = path.join(parent, ".image.mpip-journal");
    const label = `kill ${i} (seed ${SEED})`;

    const run = startMpip(upgrade(target), { env: ENV });
    if (random() < 0.5) await sleep(random() * fullRunMs * 1.1);
    else if (await until(() => existsSync(journal), run)) await sleep(random() * commitMs);
    run.child.kill("SIGKILL");
    const exit = await run.exited;

    const journalLeft = existsSync(journal);
    const state = which(await snapshot(target));
    let phase: Phase;
    if (exit.signal !== "SIGKILL") {
      assert.equal(exit.code, 0, `${label}: ${exit.stderr}`);
      phase = "finished before the kill";
    } else if (journalLeft) {
      phase = "mid-commit";
    } else {
      // No journal: no commit under way, so the target is whole, one side or the other of the commit point.
      assert.notEqual(state, "neither", `${label}: killed outside a commit, yet the target is half-changed`);
      const leftovers = await beside(parent, "image");
      phase = state === "after" ? "after the commit point" : leftovers.some((name) => name.includes("staging")) ? "while downloading or unpacking" : "before staging";
    }
    phases.set(phase, (phases.get(phase) ?? 0) + 1);

    // Sometimes the next run is killed too, perhaps in the middle of its roll-back.
    if (journalLeft && random() < 0.35) {
      const recovery = startMpip(failing(target), { env: ENV });
      await sleep(random() * failingRunMs);
      recovery.child.kill("SIGKILL");
      await recovery.exited;
      recoveriesKilled++;
    }

    const journalBeforeLastRun = existsSync(journal);
    const retry = random() < 0.3;
    const last = await runMpip(retry ? retryOffline(target) : failing(target), { env: ENV });
    const finalTree = await snapshot(target);
    const finalState = which(finalTree);
    if (retry) {
      retried++;
      assert.equal(last.code, 0, `${label}: the retried install fails: ${last.stderr}`);
      // Upgraded by the killed run (kept: already satisfied), or by the retry from the local folder.
      assert.ok(finalState === "after" || isDeepEqual(finalTree, afterOfflineState), `${label}: the retried install left ${finalState}`);
    } else {
      assert.equal(last.code, 1, `${label}: ${last.stderr}`);
      assert.match(last.stderr, /package `crash-no-such-package` was not found/);
      assert.equal(finalState, journalLeft ? "before" : state, `${label}: the next run changed the target`);
    }
    if (journalBeforeLastRun) {
      assert.match(last.stderr, /warning: an earlier mpip \(pid \d+, started .*\) was stopped while it was changing `.*image`; rolled that install back/, label);
      rolledBack++;
    }
    const left = await beside(parent, "image");
    if (left.length > 0) {
      const detail = await Promise.all(left.map(async (name) => `${name}: ${JSON.stringify(await snapshot(path.join(parent, name)))} marker ${await readFile(path.join(parent, name, "mpip-staging.json"), "utf8").catch((error: Error) => error.message)}`));
      assert.fail(`${label}: left beside the target (last run: ${last.stderr.trim()}):\n${detail.join("\n")}`);
    }
  }

  const figures = [...phases].map(([phase, count]) => `${phase}: ${count}`).join(", ");
  t.diagnostic(`${KILLS} kills (seed ${SEED}): ${figures}; ${recoveriesKilled} next runs killed as well; ${rolledBack} interrupted commits rolled back by a later run; ${retried} retried installs`);
  assert.ok((phases.get("mid-commit") ?? 0) >= KILLS / 8, `too few kills landed mid-commit to prove much: ${figures}`);
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
