// Names beside the target: mpip's lock, journal and staging folders share a folder with the user's own
// things and with other targets. A folder that is only named like one of mpip's (`a.mpip-staging-x`
// beside a target `a`, or even exactly like a staging folder, without mpip's marker) is never removed,
// and a live run on a target named like that is never disturbed by a run on `a`. A package cannot ship
// one of mpip's names either.

import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startMpip, until } from "../helpers/process.js";
import { buildSdist, sdistFilename, type SdistSpec } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let sdists: string;
let counter = 0;

before(async () => {
  work = await tempDir("mpip-beside-");
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  const specs: SdistSpec[] = [
    { name: "beside-pkg", version: "1.0", files: { "beside_pkg.py": "B = 1\n", "beside_two.py": "T = 1\n" } },
    { name: "evil-journal", version: "1.0", files: { ".mpip-journal": "{}", "ok.py": "" } },
    { name: "evil-lock", version: "1.0", files: { "lib/.x.mpip-lock": "{}", "ok.py": "" } },
    { name: "evil-staging", version: "1.0", files: { ".lib.mpip-staging-1-deadbeef/mpip-staging.json": "{}" } },
    // The same names in the spellings a folding filesystem (FAT, macOS) takes for them.
    { name: "evil-upper-journal", version: "1.0", files: { ".MPIP-JOURNAL": "{}", "ok.py": "" } },
    { name: "evil-mixed-lock", version: "1.0", files: { ".Mpip-Lock": "{}", "ok.py": "" } },
    { name: "evil-sibling-lock", version: "1.0", files: { ".IMG.MPIP-LOCK": "junk", ".IMG.MPIP-JOURNAL": "junk" } },
  ];
  for (const spec of specs) await writeFile(path.join(sdists, sdistFilename(spec)), await buildSdist(spec));
});
after(async () => {
  await work.cleanup();
});

const install = (target: string, spec = "beside-pkg") => ["install", "--no-record", "--no-index", "-f", sdists, "-p", target, spec];

describe("names beside the target", () => {
  test("folders named like mpip's are never taken for them", async () => {
    const parent = path.join(work.dir, `case-${++counter}`);
    const lookalikes = [
      "a.mpip-staging-x",
      ".a.mpip-staging-1-deadbeef",
      ".a.mpip-staging-2-0000cafe",
      ".a.mpip-staging-",
      ".a.mpip-staging-3-0000cafe-more",
      ".mpip-staging-4-0000cafe",
    ];
    for (const name of lookalikes) {
      await mkdir(path.join(parent, name), { recursive: true });
      await writeFile(path.join(parent, name, "precious.txt"), `the user's ${name}\n`);
    }
    // Named exactly like a staging folder of `a`, holding a file named like mpip's marker that is not one.
    await mkdir(path.join(parent, ".a.mpip-staging-99999-abcdef12"));
    await writeFile(path.join(parent, ".a.mpip-staging-99999-abcdef12", "mpip-staging.json"), '{"my":"notes"}');
    // Named exactly like a staging folder of `a`, with mpip's marker, but for another target.
    await writeFile(path.join(parent, ".a.mpip-staging-2-0000cafe", "mpip-staging.json"), JSON.stringify({ mpip: 1, mode: "beside", target: "b", pid: 999999 }));
    await mkdir(path.join(parent, "a"));
    const before = await snapshot(parent);
    const result = await runMpip(install(path.join(parent, "a")));
    assert.equal(result.code, 0, result.stderr);
    const after = await snapshot(parent);
    for (const [name, digest] of Object.entries(before)) assert.equal(after[name], digest, `${name} was changed`);
    assert.doesNotMatch(result.stderr, /Removed/);
  });

  test("a live run on a target named like a's staging folder is not disturbed by a run on a", async () => {
    const parent = path.join(work.dir, `case-${++counter}`);
    const odd = path.join(parent, "a.mpip-staging-x");
    const plain = path.join(parent, "a");
    const gate = path.join(work.dir, `gate-${counter}`);
    const oddRun = startMpip(install(odd), { env: { MPIP_TEST_COMMIT_GATE: gate } });
    assert.ok(await until(async () => (await readdir(parent).catch(() => [] as string[])).includes(".a.mpip-staging-x.mpip-journal"), oddRun), oddRun.stderr());
    const plainRun = await runMpip(install(plain));
    assert.equal(plainRun.code, 0, plainRun.stderr);
    assert.doesNotMatch(plainRun.stderr, /Removed|Took over|rolled/);
    await writeFile(gate, "");
    const oddExit = await oddRun.exited;
    assert.equal(oddExit.code, 0, oddExit.stderr);
    assert.deepEqual((await readdir(parent)).sort(), ["a", "a.mpip-staging-x"]);
    assert.deepEqual((await readdir(odd)).sort(), ["beside_pkg.py", "beside_two.py"]);
  });

  test("a package cannot ship one of mpip's own names", async () => {
    for (const spec of ["evil-journal", "evil-lock", "evil-staging", "evil-upper-journal", "evil-mixed-lock", "evil-sibling-lock"]) {
      const parent = path.join(work.dir, `case-${++counter}`);
      const target = path.join(parent, "image");
      await mkdir(target, { recursive: true });
      await writeFile(path.join(target, "mine.py"), "MINE = 1\n");
      const before = await snapshot(parent);
      const result = await runMpip(install(target, spec));
      assert.equal(result.code, 1, `${spec}: ${result.stderr}`);
      assert.match(result.stderr, /is a name mpip keeps for its own lock, journal and staging folders; nothing was changed/, spec);
      assert.deepEqual(await snapshot(parent), before, spec);
      assert.equal(await readFile(path.join(target, "mine.py"), "utf8"), "MINE = 1\n");
    }
  });
});
