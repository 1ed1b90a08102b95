// A device's drive as the target: the root of a mounted board or SD card, whose parent is another
// filesystem (and usually belongs to root), is where circup users install. mpip then keeps its lock,
// journal and staging folder inside the target, with the same guarantees: all or none, Ctrl-C and
// kill -9 rolled back, nothing left. A mount point *inside* the target is refused before anything
// changes, with a message that names it.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { tmpfsUnavailable, withTmpfs } from "../helpers/mounts.js";
import { startMpip, until } from "../helpers/process.js";
import { buildSdist, sdistFilename, type SdistSpec } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let sdists: string;
let counter = 0;
let unavailable: string | undefined;

before(async () => {
  work = await tempDir("mpip-mount-");
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  const specs: SdistSpec[] = [
    { name: "card-pkg", version: "1.0", files: { "card_pkg/__init__.py": "C = 1\n", "card_pkg/a.py": "A = 1\n", "boot_helper.py": "H = 1\n" } },
    { name: "sub-pkg", version: "1.0", files: { "sub/x.py": "X = 'new'\n", "top.py": "T = 1\n" } },
  ];
  for (const spec of specs) await writeFile(path.join(sdists, sdistFilename(spec)), await buildSdist(spec));
  unavailable = await tmpfsUnavailable(work.dir);
});
after(async () => {
  await work.cleanup();
});

const install = (target: string, spec = "card-pkg") => ["install", "--no-record", "--no-index", "-f", sdists, "-p", target, spec];

/** A mounted "card" holding the user's files, at a mount point in a folder of its own. */
async function withCard(body: (card: string, media: string) => Promise<void>): Promise<void> {
  const media = path.join(work.dir, `media-${++counter}`);
  await withTmpfs(path.join(media, "CARD"), "size=4m", async (card) => {
    await writeFile(path.join(card, "boot_helper.py"), "H = 'old'\n");
    await writeFile(path.join(card, "main.py"), "print('the user''s app')\n");
    await body(card, media);
  });
}

describe("a device's drive as the target", () => {
  test("installs into a mount point, staging inside it, and leaves nothing inside or beside", async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    await withCard(async (card, media) => {
      const result = await runMpip(install(card));
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual((await readdir(card)).sort(), ["boot_helper.py", "card_pkg", "main.py"]);
      assert.equal(await readFile(path.join(card, "boot_helper.py"), "utf8"), "H = 1\n");
      assert.deepEqual(await readdir(media), ["CARD"]);
    });
  });

  test("Ctrl-C mid-commit rolls back inside the card; nothing is left", async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    await withCard(async (card, media) => {
      const before = await snapshot(card);
      const running = startMpip(install(card), { env: { MPIP_TEST_COMMIT_GATE: path.join(work.dir, "never") } });
      assert.ok(await until(async () => (await readdir(card)).includes(".mpip-journal"), running), running.stderr());
      running.child.kill("SIGINT");
      const exit = await running.exited;
      assert.equal(exit.code, 130, exit.stderr);
      assert.deepEqual(await snapshot(card), before);
      assert.deepEqual(await readdir(media), ["CARD"]);
    });
  });

  test("kill -9 mid-commit: the next run rolls back from the journal inside the card", async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    await withCard(async (card, media) => {
      const before = await snapshot(card);
      const running = startMpip(install(card), { env: { MPIP_TEST_COMMIT_GATE: path.join(work.dir, "never") } });
      assert.ok(await until(async () => (await readdir(card)).includes("card_pkg") || (await readFile(path.join(card, "boot_helper.py"), "utf8").catch(() => "")) === "H = 1\n", running), running.stderr());
      running.child.kill("SIGKILL");
      await running.exited;
      assert.ok((await readdir(card)).includes(".mpip-journal"), "the journal is inside the card");
      const next = await runMpip(install(card, "no-such-package"));
      assert.equal(next.code, 1);
      assert.match(next.stderr, /rolled that install back/);
      assert.deepEqual(await snapshot(card), before);
      assert.deepEqual(await readdir(media), ["CARD"]);
      // And the install then goes through.
      assert.equal((await runMpip(install(card))).code, 0);
      assert.deepEqual((await readdir(card)).sort(), ["boot_helper.py", "card_pkg", "main.py"]);
    });
  });

  test("a mount point inside the target is named, and nothing changes", async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    const target = path.join(work.dir, `image-${++counter}`);
    await mkdir(target);
    await withTmpfs(path.join(target, "sub"), "size=1m", async (sub) => {
      await writeFile(path.join(sub, "x.py"), "X = 'old'\n");
      const before = await snapshot(target);
      const result = await runMpip(install(target, "sub-pkg"));
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: cannot install `sub\/x\.py`: `sub` in `.*image-\d+` is on another filesystem \(a mount point\) than mpip's staging folder in `.*`, so files cannot be moved into it all or none; nothing was changed$/m);
      assert.match(result.stderr, /^hint: install into `.*image-\d+\/sub` with its own `-p`, or unmount what is mounted there$/m);
      assert.doesNotMatch(result.stderr, /than its parent folder/);
      assert.deepEqual(await snapshot(target), before);
    });
  });

  test("a bind mount of a folder on the same filesystem, as the target and inside it, is a mount point too", async (t) => {
    if (unavailable !== undefined) return t.skip(unavailable);
    const place = path.join(work.dir, `bind-${++counter}`);
    await mkdir(path.join(place, "src"), { recursive: true });
    await mkdir(path.join(place, "image"));
    execFileSync("mount", ["--bind", path.join(place, "src"), path.join(place, "image")]);
    try {
      const result = await runMpip(install(path.join(place, "image")));
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual((await readdir(path.join(place, "src"))).sort(), ["boot_helper.py", "card_pkg"]);
      assert.deepEqual((await readdir(place)).sort(), ["image", "src"]);
    } finally {
      execFileSync("umount", [path.join(place, "image")]);
    }
    const target = path.join(place, "outer");
    await mkdir(path.join(target, "sub"), { recursive: true });
    await mkdir(path.join(place, "elsewhere"));
    execFileSync("mount", ["--bind", path.join(place, "elsewhere"), path.join(target, "sub")]);
    try {
      const before = await snapshot(target);
      const result = await runMpip(install(target, "sub-pkg"));
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: cannot install `sub\/x\.py`: `sub` in `.*outer` is on another filesystem \(a mount point\)/m);
      assert.deepEqual(await snapshot(target), before);
    } finally {
      execFileSync("umount", [path.join(target, "sub")]);
    }
  });
});
