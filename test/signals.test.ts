// Ctrl-C (SIGINT) and SIGTERM at several moments of a real install: while it waits for another mpip,
// while it fetches metadata, while it downloads, in the middle of its commit. Each time mpip removes its
// staging folder, puts the target back as it was, exits 130 / 143 and says so.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { holdRequests } from "./helpers/gate.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { beside, startMpip, until, type Running } from "./helpers/process.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let template: string;
let wideTemplate: string;
let counter = 0;

const modules = (folder: string, count: number, version: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${folder}/m${i}.py`, `VERSION = "${version}"\n`]));

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-signals-");
  await server.addSdist({ name: "sig-app", version: "1.0", requires: ["sig-lib"], files: { "sig_app/__init__.py": "V = 1\n", ...modules("sig_app", 4, "1.0") } });
  await server.addSdist({ name: "sig-app", version: "2.0", requires: ["sig-lib>=2"], files: { "sig_app/__init__.py": "V = 2\n", ...modules("sig_app", 10, "2.0"), ...modules("sig_app/new", 4, "2.0") } });
  await server.addSdist({ name: "sig-lib", version: "1.0", files: { "sig_lib.py": "L = 1\n" } });
  await server.addSdist({ name: "sig-lib", version: "2.0", files: { "sig_lib.py": "L = 2\n", ...modules("sig_lib_data", 4, "2.0") } });
  template = path.join(work.dir, "template", "image");
  // sig-lib 1.0, so that the upgrade to sig-app 2.0 (sig-lib>=2) has an archive to download: a
  // requirement the image already satisfies is not fetched again.
  const installed = await runMpip(["install", "-i", server.url, "-p", template, "sig-app==1.0", "sig-lib==1.0"]);
  assert.equal(installed.code, 0, installed.stderr);
  await writeFile(path.join(template, "mine.txt"), "not mpip's\n");
  await server.addSdist({ name: "sig-wide", version: "1.0", files: modules("sig_wide", 1500, "1.0") });
  await server.addSdist({ name: "sig-wide", version: "2.0", files: { ...modules("sig_wide", 1500, "2.0"), ...modules("sig_wide/more", 1500, "2.0") } });
  wideTemplate = path.join(work.dir, "wide-template", "image");
  const wide = await runMpip(["install", "-i", server.url, "-p", wideTemplate, "sig-wide==1.0"]);
  assert.equal(wide.code, 0, wide.stderr);
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** A target holding version 1 and a file of the user's, in a parent folder of its own. */
async function freshTarget() {
  const parent = path.join(work.dir, `case-${++counter}`);
  const target = path.join(parent, "image");
  await mkdir(parent);
  await cp(template, target, { recursive: true });
  return { parent, target, journal: path.join(parent, ".image.mpip-journal"), lock: path.join(parent, ".image.mpip-lock"), before: await snapshot(target) };
}

/** A target holding sig-wide 1.0 (1500 files), whose upgrade to 2.0 replaces every one and adds 1500. */
async function wideTarget() {
  const scene = await freshTarget();
  await cp(wideTemplate, scene.target, { recursive: true, force: true });
  return { ...scene, before: await snapshot(scene.target) };
}

const upgrade = (target: string, ...extra: string[]) => startMpip(["install", "-i", server.url, "-p", target, ...extra, "sig-app==2.0"], { env: { MPIP_TEST_COMMIT_DELAY_MS: "40" } });

async function stopAndCheck(run: Running, signal: "SIGINT" | "SIGTERM" | "SIGHUP", scene: Awaited<ReturnType<typeof freshTarget>>, when: RegExp) {
  run.child.kill(signal);
  const exit = await run.exited;
  assert.equal(exit.code, { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }[signal], exit.stderr);
  assert.match(exit.stderr, when);
  assert.doesNotMatch(exit.stderr, /bug in mpip|at .*\.js:\d+/);
  assert.deepEqual(await snapshot(scene.target), scene.before, "the target is as it was");
  assert.deepEqual(await beside(scene.parent, "image"), [], "nothing is left beside the target");
  return exit;
}

describe("interrupting an install", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`${signal} while it looks up metadata`, async () => {
      const scene = await freshTarget();
      const gate = holdRequests(server, "project", (p) => p.includes("/sig-app/"));
      try {
        const run = upgrade(scene.target);
        await gate.arrived;
        await stopAndCheck(run, signal, scene, new RegExp(`^error: interrupted by ${signal}; nothing was changed in \`.*image\`$`, "m"));
      } finally {
        gate.restore();
      }
    });

    test(`${signal} while it downloads an archive`, async () => {
      const scene = await freshTarget();
      const gate = holdRequests(server, "file", (p) => p.includes("sig-lib-2.0"));
      try {
        const run = upgrade(scene.target);
        await gate.arrived;
        await stopAndCheck(run, signal, scene, new RegExp(`^error: interrupted by ${signal}; nothing was changed in \`.*image\`$`, "m"));
      } finally {
        gate.restore();
      }
    });

    test(`${signal} in the middle of the commit rolls it back`, async () => {
      const scene = await freshTarget();
      const run = upgrade(scene.target);
      assert.ok(await until(() => existsSync(scene.journal), run), "the commit began");
      await stopAndCheck(run, signal, scene, new RegExp(`^error: interrupted by ${signal} during the commit \\(it was rolled back\\); nothing was changed in \`.*image\`$`, "m"));
    });
  }

  test("SIGHUP (the terminal closed) in the middle of the commit rolls it back too", async () => {
    const scene = await freshTarget();
    const run = upgrade(scene.target);
    assert.ok(await until(() => existsSync(scene.journal), run), "the commit began");
    await stopAndCheck(run, "SIGHUP", scene, /^error: interrupted by SIGHUP during the commit \(it was rolled back\); nothing was changed in `.*image`$/m);
  });

  for (const signal of ["SIGINT"] as const) {
    test(`${signal} during a commit of thousands of files, with no step held for the test, rolls it back`, async () => {
      // The commit's calls block (image/fs-ops.ts): a signal is seen only where the commit lets the event
      // loop run (SIGTERM and SIGHUP alike). Without a test delay, a commit of 3000 files takes hundreds of
      // milliseconds here.
      const scene = await wideTarget();
      const run = startMpip(["install", "-i", server.url, "-p", scene.target, "sig-wide==2.0"]);
      // Signalled once the commit has made the new folder, its first step before it places 3000 files (the
      // journal appears before the last wait of the commit's preparation, where any signal would be seen).
      assert.ok(await until(() => existsSync(path.join(scene.target, "sig_wide", "more")), run), "the commit began");
      await stopAndCheck(run, signal, scene, new RegExp(`^error: interrupted by ${signal} during the commit \\(it was rolled back\\); nothing was changed in \`.*image\`$`, "m"));
    });
  }

  test("SIGINT while it waits for another mpip", async () => {
    const scene = await freshTarget();
    // A lock held by a live process: this test's own.
    await writeFile(scene.lock, JSON.stringify({ pid: process.pid, hostname: os.hostname(), since: new Date().toISOString() }));
    try {
      const run = upgrade(scene.target);
      assert.ok(await until(() => /Waiting for another mpip/.test(run.stderr()), run));
      run.child.kill("SIGINT");
      const exit = await run.exited;
      assert.equal(exit.code, 130, exit.stderr);
      assert.match(exit.stderr, new RegExp(`^Waiting for another mpip \\(pid ${process.pid}\\) installing into \`.*image\`\\.\\.\\. \\(if none is running, remove \`.*\\.image\\.mpip-lock\`\\)$`, "m"));
      assert.match(exit.stderr, /^error: interrupted by SIGINT while waiting for another mpip; nothing was changed in `.*image`$/m);
      assert.deepEqual(await snapshot(scene.target), scene.before);
      assert.deepEqual(await beside(scene.parent, "image"), [".image.mpip-lock"], "the other process's lock is left alone");
    } finally {
      await unlink(scene.lock);
    }
  });

  test("--json reports the interrupt, and a second Ctrl-C does not cut the roll-back short", async () => {
    const scene = await freshTarget();
    const run = upgrade(scene.target, "--json");
    // Names only (no contents): files move while this looks, and a folder may vanish under readdir.
    const installedSoFar = async () => {
      const entries = await readdir(scene.target, { recursive: true }).catch(() => undefined);
      return entries === undefined ? undefined : entries.filter((name) => name.endsWith(".py") && !(name.split(path.sep).join("/") in scene.before)).length;
    };
    assert.ok(await until(async () => ((await installedSoFar()) ?? 0) >= 3, run), "the commit is under way");
    run.child.kill("SIGINT");
    // Signals of one kind do not queue: send the second once the first has started the roll-back.
    let most = 0;
    assert.ok(await until(async () => {
      const count = await installedSoFar();
      if (count === undefined) return false;
      most = Math.max(most, count);
      return count < most;
    }, run), "the roll-back is under way");
    run.child.kill("SIGINT");
    const exit = await run.exited;
    assert.equal(exit.code, 130, exit.stderr);
    assert.match(exit.stderr, /SIGINT: mpip is putting things back as they were and stops in a moment/);
    const report = JSON.parse(exit.stdout) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(report.ok, false);
    assert.equal(report.error.code, "interrupted");
    assert.deepEqual(await snapshot(scene.target), scene.before);
    assert.deepEqual(await beside(scene.parent, "image"), []);
  });

  test("after an interrupt, the same install runs to the end", async () => {
    const scene = await freshTarget();
    const run = upgrade(scene.target);
    assert.ok(await until(() => existsSync(scene.journal), run));
    await stopAndCheck(run, "SIGTERM", scene, /during the commit/);
    const again = await runMpip(["install", "-i", server.url, "-p", scene.target, "sig-app==2.0"]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(existsSync(path.join(scene.target, "sig_app", "new", "m3.py")));
    assert.ok(existsSync(path.join(scene.target, "mine.txt")));
    assert.deepEqual(await beside(scene.parent, "image"), []);
  });
});
