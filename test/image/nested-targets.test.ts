// Targets that contain one another: `-p image/lib` installs `x.py` where `-p image` installs `lib/x.py`.
// Runs on them must not interleave, and an inner run killed mid-commit must be undone before an outer
// run changes the same file, so that no later roll-back puts an old file back over one a run installed
// and reported.

import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startMpip, until, type Running } from "../helpers/process.js";
import { buildSdist, sdistFilename, type SdistSpec } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let sdists: string;
let counter = 0;

before(async () => {
  work = await tempDir("mpip-nested-");
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  const specs: SdistSpec[] = [
    { name: "outer-pkg", version: "1.0", files: { "lib/x.py": "X = 'outer'\n", "app.py": "APP = 1\n" } },
    { name: "inner-pkg", version: "1.0", files: { "x.py": "X = 'inner'\n", "y.py": "Y = 'inner'\n", "z.py": "Z = 'inner'\n" } },
  ];
  for (const spec of specs) await writeFile(path.join(sdists, sdistFilename(spec)), await buildSdist(spec));
});
after(async () => {
  await work.cleanup();
});

async function image(): Promise<{ parent: string; outer: string; inner: string }> {
  const parent = path.join(work.dir, `case-${++counter}`);
  const outer = path.join(parent, "image");
  const inner = path.join(outer, "lib");
  await mkdir(inner, { recursive: true });
  await writeFile(path.join(inner, "x.py"), "X = 'old'\n");
  return { parent, outer, inner };
}

const install = (target: string, spec: string, ...more: string[]) => ["install", "--no-record", "--no-index", "-f", sdists, "-p", target, spec, ...more];
/** Environment that holds a run's commit after its first step until `open()` is called. */
async function gate(): Promise<{ env: NodeJS.ProcessEnv; open: () => Promise<void> }> {
  const file = path.join(work.dir, `gate-${++counter}`);
  return { env: { MPIP_TEST_COMMIT_GATE: file }, open: () => writeFile(file, "") };
}

async function inCommit(running: Running, journal: string): Promise<void> {
  assert.ok(await until(async () => (await readdir(path.dirname(journal))).includes(path.basename(journal)), running), `the run reached its commit: ${running.stderr()}`);
}

/** mpip's names anywhere in the tree below `dir` (and in it). */
async function leftovers(dir: string): Promise<string[]> {
  return Object.keys(await snapshot(dir)).filter((name) => name.includes("mpip"));
}

describe("nested targets", () => {
  test("an outer run waits while an inner run commits; the inner one stopped by Ctrl-C does not undo the outer one's file", async () => {
    const { parent, outer, inner } = await image();
    const held = await gate();
    const innerRun = startMpip(install(inner, "inner-pkg"), { env: held.env });
    await inCommit(innerRun, path.join(outer, ".lib.mpip-journal"));
    const outerRun = startMpip(install(outer, "outer-pkg"));
    assert.ok(await until(() => /Waiting for another mpip \(pid \d+\) installing into `.*image\/lib`, inside `.*image`/.test(outerRun.stderr()), outerRun), outerRun.stderr());
    innerRun.child.kill("SIGINT");
    const innerExit = await innerRun.exited;
    assert.equal(innerExit.code, 130, innerExit.stderr);
    const outerExit = await outerRun.exited;
    assert.equal(outerExit.code, 0, outerExit.stderr);
    assert.equal(await readFile(path.join(inner, "x.py"), "utf8"), "X = 'outer'\n");
    assert.deepEqual((await readdir(inner)).sort(), ["x.py"]);
    assert.deepEqual(await leftovers(parent), []);
  });

  test("an inner run waits while an outer run commits, then goes on", async () => {
    const { parent, outer, inner } = await image();
    const held = await gate();
    const outerRun = startMpip(install(outer, "outer-pkg"), { env: held.env });
    await inCommit(outerRun, path.join(parent, ".image.mpip-journal"));
    const innerRun = startMpip(install(inner, "inner-pkg"));
    assert.ok(await until(() => /Waiting for another mpip \(pid \d+\) installing into `.*image`, which holds `.*image\/lib`/.test(innerRun.stderr()), innerRun), innerRun.stderr());
    await held.open();
    assert.equal((await outerRun.exited).code, 0);
    const innerExit = await innerRun.exited;
    assert.equal(innerExit.code, 0, innerExit.stderr);
    assert.equal(await readFile(path.join(inner, "x.py"), "utf8"), "X = 'inner'\n");
    assert.equal(await readFile(path.join(outer, "app.py"), "utf8"), "APP = 1\n");
    assert.deepEqual(await leftovers(parent), []);
  });

  test("an inner run killed mid-commit is rolled back by the next outer run, and never puts its old file back later", async () => {
    const { parent, outer, inner } = await image();
    const held = await gate();
    const innerRun = startMpip(install(inner, "inner-pkg"), { env: held.env });
    await inCommit(innerRun, path.join(outer, ".lib.mpip-journal"));
    assert.ok(await until(async () => (await readdir(inner)).length > 1 || (await readFile(path.join(inner, "x.py"), "utf8").catch(() => "")) !== "X = 'old'\n", innerRun), "a first file is in");
    innerRun.child.kill("SIGKILL");
    await innerRun.exited;
    const outerExit = await runMpip(install(outer, "outer-pkg"));
    assert.equal(outerExit.code, 0, outerExit.stderr);
    assert.match(outerExit.stderr, /was stopped while it was changing `.*image\/lib`; rolled that install back/);
    assert.equal(await readFile(path.join(inner, "x.py"), "utf8"), "X = 'outer'\n");
    assert.deepEqual(await leftovers(parent), [], "the inner run's journal, lock and staging folder are gone");
    // The next run on the inner target finds nothing to undo.
    const innerAgain = await runMpip(install(inner, "no-such-package"));
    assert.equal(innerAgain.code, 1);
    assert.doesNotMatch(innerAgain.stderr, /rolled that install back/);
    assert.equal(await readFile(path.join(inner, "x.py"), "utf8"), "X = 'outer'\n");
  });

  test("an outer run killed mid-commit is rolled back by the next inner run before it installs", async () => {
    const { parent, outer, inner } = await image();
    const before = await snapshot(outer);
    const held = await gate();
    const outerRun = startMpip(install(outer, "outer-pkg"), { env: held.env });
    await inCommit(outerRun, path.join(parent, ".image.mpip-journal"));
    assert.ok(await until(async () => (await readdir(outer)).includes("app.py") || (await readFile(path.join(inner, "x.py"), "utf8").catch(() => "")) !== "X = 'old'\n", outerRun), "a first file is in");
    outerRun.child.kill("SIGKILL");
    await outerRun.exited;
    const innerExit = await runMpip(install(inner, "no-such-package"));
    assert.equal(innerExit.code, 1);
    assert.match(innerExit.stderr, /was stopped while it was changing `.*image`; rolled that install back/);
    assert.deepEqual(await snapshot(outer), before);
    assert.equal(await readFile(path.join(inner, "x.py"), "utf8"), "X = 'old'\n");
    assert.deepEqual(await leftovers(parent), [], "the outer run's journal, lock and staging folder are gone");
  });

  test("--no-wait fails at once on an overlapping run, naming its target", async () => {
    const { outer, inner } = await image();
    const held = await gate();
    const innerRun = startMpip(install(inner, "inner-pkg"), { env: held.env });
    await inCommit(innerRun, path.join(outer, ".lib.mpip-journal"));
    const outerExit = await runMpip([...install(outer, "outer-pkg"), "--no-wait"]);
    assert.equal(outerExit.code, 1);
    assert.match(outerExit.stderr, /^error: another mpip \(pid \d+, since .*\) is installing into `.*image\/lib`, inside this target$/m);
    await held.open();
    assert.equal((await innerRun.exited).code, 0);
  });
});
