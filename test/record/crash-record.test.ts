// kill -9 in the middle of an upgrade (files removed and replaced, records swapped) and of an uninstall:
// the next run finds the journal and rolls back, so the target is byte-identical to its state before
// the run or after it, records and files alike. Held at an exact step with MPIP_TEST_COMMIT_GATE, and
// at random points with MPIP_TEST_COMMIT_DELAY_MS (seeded).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { beside, prng, sleep, startMpip, until } from "../helpers/process.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let template: string;
let counter = 0;

const modules = (folder: string, count: number, version: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${folder}/m${i}.py`, `V = "${version}"\n`]));

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-crash-record-");
  await server.addSdist({ name: "kapp", version: "1.0", files: { "kapp/__init__.py": "V = 1\n", ...modules("kapp/old", 6, "1.0"), ...modules("kapp", 4, "1.0") } });
  await server.addSdist({ name: "kapp", version: "2.0", files: { "kapp/__init__.py": "V = 2\n", ...modules("kapp/new", 5, "2.0"), ...modules("kapp", 2, "2.0") } });
  template = path.join(work.dir, "template", "image");
  const first = await runMpip(["install", "-i", server.url, "-p", template, "kapp==1.0"]);
  assert.equal(first.code, 0, first.stderr);
  await writeFile(path.join(template, "kapp", "local.py"), "# the user's\n");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const upgrade = (target: string) => ["install", "-i", server.url, "-p", target, "kapp==2.0"];
const remove = (target: string) => ["uninstall", "-y", "-p", target, "kapp"];
/** A run that only opens the target (so rolls back what it finds), then fails: nothing to remove. */
const recover = (target: string) => ["uninstall", "-y", "-p", target, "no-such-package"];

async function copyOfTemplate(): Promise<{ parent: string; target: string; journal: string }> {
  const parent = path.join(work.dir, `run-${++counter}`);
  const target = path.join(parent, "image");
  await mkdir(parent);
  await cp(template, target, { recursive: true });
  return { parent, target, journal: path.join(parent, ".image.mpip-journal") };
}

async function reference(args: (target: string) => string[]): Promise<Record<string, string>> {
  const { target } = await copyOfTemplate();
  const result = await runMpip(args(target));
  assert.equal(result.code, 0, result.stderr);
  return snapshot(target);
}

for (const [label, args] of [["an upgrade", upgrade], ["an uninstall", remove]] as const) {
  describe(`kill -9 in the middle of ${label}`, () => {
    test("held after its first step: the next run rolls it back to the state before", async () => {
      const beforeState = await snapshot(template);
      const { parent, target, journal } = await copyOfTemplate();
      const run = startMpip(args(target), { env: { MPIP_TEST_COMMIT_GATE: path.join(work.dir, "never-opened") } });
      try {
        assert.ok(await until(() => existsSync(journal), run), run.stderr());
        // The first step (a removal: they come first) is done once a file of the target is gone.
        const files = Object.keys(beforeState).filter((name) => !name.endsWith("/"));
        assert.ok(await until(() => files.some((file) => !existsSync(path.join(target, file))), run), run.stderr());
      } finally {
        run.child.kill("SIGKILL");
        await run.exited;
      }
      assert.notDeepEqual(await snapshot(target), beforeState, "killed half-way");
      const next = await runMpip(recover(target));
      assert.equal(next.code, 1);
      // The roll-back names what the killed run was doing.
      assert.match(next.stderr, label === "an uninstall" ? /rolled that uninstall back/ : /rolled that install back/);
      assert.deepEqual(await snapshot(target), beforeState);
      assert.deepEqual(await beside(parent, "image"), []);
    });

    test("killed at random points: always the state before or after, once the next run is done", async () => {
      const beforeState = await snapshot(template);
      const afterState = await reference(args);
      assert.notDeepEqual(afterState, beforeState);
      const random = prng(20261130 + label.length);
      const env = { MPIP_TEST_COMMIT_DELAY_MS: "3" };
      // Which of the two outcomes a kill gives depends on when it lands, so no run is sure to see both: each
      // kill is checked to give one of them, and the one that fits what the next run said: a kill while the
      // journal is there leaves it, and the next run must roll back and say so; a kill after the commit removed
      // it (or after the run ended) leaves none, and the next run must find nothing to roll back.
      const rolledBack = label === "an uninstall" ? /rolled that uninstall back/ : /rolled that install back/;
      for (let i = 0; i < 6; i++) {
        const { parent, target, journal } = await copyOfTemplate();
        const run = startMpip(args(target), { env });
        await until(() => existsSync(journal), run);
        await sleep(random() * 60);
        run.child.kill("SIGKILL");
        await run.exited;
        const next = await runMpip(recover(target));
        assert.equal(next.code, 1, `kill ${i}: ${next.stderr}`);
        assert.match(next.stderr, /`no-such-package` is not installed/, `kill ${i}`);
        const state = await snapshot(target);
        const which = JSON.stringify(state) === JSON.stringify(beforeState) ? "before" : JSON.stringify(state) === JSON.stringify(afterState) ? "after" : "neither";
        assert.notEqual(which, "neither", `kill ${i}: the target is half-changed`);
        if (which === "before") assert.match(next.stderr, rolledBack, `kill ${i}: the state before, so the next run rolled back`);
        else assert.doesNotMatch(next.stderr, /rolled that/, `kill ${i}: the state after, so there was nothing to roll back`);
        assert.deepEqual(await beside(parent, "image"), [], `kill ${i}: nothing left beside the target`);
      }
    });
  });
}
