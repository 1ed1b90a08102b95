// A commit journal and its staging folder come with the folder they lie in: an image copied, unpacked or
// cloned from elsewhere can carry them, with links beside them. The next run rolls the "interrupted"
// commit back before anything else (recover.ts); that roll-back must move nothing through a link, out of
// the target or into it, and must not take a file for the commit's own without the journal's digest.
// Each case plants such a journal, with the installing user's files outside the image, and runs an
// ordinary install into the image.

import assert from "node:assert/strict";
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { buildSdist, sdistFilename } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let sdists: string;
let counter = 0;

before(async () => {
  work = await tempDir("mpip-planted-");
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  const spec = { name: "plain-pkg", version: "1.0", files: { "plain_pkg.py": "P = 1\n" } };
  await writeFile(path.join(sdists, sdistFilename(spec)), await buildSdist(spec));
});
after(async () => {
  await work.cleanup();
});

const STAGING = ".img.mpip-staging-999999-deadbeef";

interface Scene {
  /** The image: `<case>/img`, its journal and staging folder beside it (mpip's layout for a target with a writable parent). */
  target: string;
  staging: string;
  /** The user's files, outside the image. */
  outside: string;
}

async function scene(journal: { steps: unknown[]; dirs?: string[]; emptied?: string[] }): Promise<Scene> {
  const parent = path.join(work.dir, `case-${++counter}`);
  const target = path.join(parent, "img");
  const staging = path.join(parent, STAGING);
  const outside = path.join(work.dir, `outside-${counter}`);
  await mkdir(path.join(outside, "deep"), { recursive: true });
  await writeFile(path.join(outside, "deep", "victim.txt"), "precious user data\n");
  await mkdir(target, { recursive: true });
  await mkdir(path.join(staging, "backup"), { recursive: true });
  await writeFile(path.join(staging, "backup", "0"), "ATTACKER CONTENT\n");
  const planted = { mpip: 4, operation: "install", pid: 999999, since: "2020-01-01T00:00:00.000Z", staging: STAGING, dirs: [], ...journal };
  await writeFile(path.join(parent, ".img.mpip-journal"), JSON.stringify(planted));
  return { target, staging, outside };
}

/** Every path below `dir` with what it is: a file's content, a link's target (never followed), `/` for a folder. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(path.join(dir, relative)).catch(() => [])).sort()) {
      const child = relative === "" ? name : `${relative}/${name}`;
      const full = path.join(dir, child);
      const info = await lstat(full);
      if (info.isSymbolicLink()) result[child] = `-> ${await readlink(full)}`;
      else if (info.isDirectory()) {
        result[`${child}/`] = "";
        await walk(child);
      } else result[child] = await readFile(full, "utf8");
    }
  };
  await walk("");
  return result;
}

async function installInto(target: string) {
  return runMpip(["install", "--no-index", "-f", sdists, "-p", target, "plain-pkg"]);
}

describe("a planted journal moves nothing through a link", () => {
  // Each member of the class: a link on the way to a step's destination, to its staged copy, to its
  // backup, the staging folder itself a link, and a link on the way to a folder the commit made.
  const cases: Array<{ name: string; steps: unknown[]; dirs?: string[]; plant: (s: Scene) => Promise<void> }> = [
    {
      name: "a destination through a link in the target (the backup would land outside)",
      steps: [{ from: "x", to: "lnk/deep/victim.txt", backup: true }],
      plant: (s) => symlink(s.outside, path.join(s.target, "lnk")),
    },
    {
      name: "a removal step through a link in the target",
      steps: [{ to: "lnk/deep/new.txt", remove: true }],
      plant: (s) => symlink(s.outside, path.join(s.target, "lnk")),
    },
    {
      name: "a staged copy through a link in the staging folder (the target's file would be moved outside)",
      steps: [{ from: "out/deep/taken.txt", to: "main.py", backup: false, size: 7, sha256: "0".repeat(64) }],
      plant: async (s) => {
        await writeFile(path.join(s.target, "main.py"), "my app\n");
        await symlink(s.outside, path.join(s.staging, "out"));
      },
    },
    {
      name: "a backup folder that is a link (the outside file would be moved into the target)",
      steps: [{ from: "x", to: "stolen.txt", backup: true }],
      plant: async (s) => {
        await writeFile(path.join(s.outside, "deep", "0"), "outside file\n");
        const { rm } = await import("node:fs/promises");
        await rm(path.join(s.staging, "backup"), { recursive: true });
        await symlink(path.join(s.outside, "deep"), path.join(s.staging, "backup"));
      },
    },
    {
      name: "a folder the commit made, through a link (the user's empty folder outside would be removed)",
      steps: [],
      dirs: ["lnk/empty"],
      plant: async (s) => {
        await mkdir(path.join(s.outside, "empty"));
        await symlink(s.outside, path.join(s.target, "lnk"));
      },
    },
  ];
  for (const { name, steps, dirs, plant } of cases) {
    test(name, async () => {
      const s = await scene({ steps, ...(dirs === undefined ? {} : { dirs }) });
      await plant(s);
      const outsideBefore = await snapshot(s.outside);
      const targetBefore = await snapshot(s.target);
      const result = await installInto(s.target);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /error: the journal `.*\.img\.mpip-journal` of an interrupted install into `.*img` names `.*`, which lies through the link `.*`; mpip moves nothing through links/);
      assert.match(result.stderr, /hint: this journal may not be mpip's/);
      assert.doesNotMatch(result.stderr, /\n\s+at .*:\d+:\d+/, "no stack trace");
      assert.deepEqual(await snapshot(s.outside), outsideBefore);
      assert.deepEqual(await snapshot(s.target), targetBefore);
    });
  }

  test("the staging folder itself a link: refused, nothing moved", async () => {
    const s = await scene({ steps: [{ from: "x", to: "stolen.txt", backup: true }] });
    const { rename } = await import("node:fs/promises");
    await rename(s.staging, `${s.staging}.real`);
    await symlink(`${s.staging}.real`, s.staging);
    const result = await installInto(s.target);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /lies through the link `.*mpip-staging-999999-deadbeef`/);
    assert.deepEqual(await snapshot(s.target), {});
  });
});

describe("a planted journal moves nothing through a link its own moves put in place", () => {
  test("a backup that is a link, put back first, then a step through it: refused at that move, nothing outside touched", async () => {
    const s = await scene({ steps: [{ from: "f0", to: "a/evil.py", backup: true }, { from: "f1", to: "a", backup: true }] });
    await symlink(s.outside, path.join(s.staging, "backup", "1"));
    const outsideBefore = await snapshot(s.outside);
    const result = await installInto(s.target);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /which lies through the link `.*img\/a`; mpip moves nothing through links/);
    assert.deepEqual(await snapshot(s.outside), outsideBefore);
  });

  test("a staging folder that holds a link, put back as a folder of the target, then a step through it", async () => {
    const s = await scene({ steps: [{ from: "f0", to: "a/sub/evil.py", backup: true }, { from: "f1", to: "a", backup: true }] });
    await mkdir(path.join(s.staging, "backup", "1"));
    await symlink(s.outside, path.join(s.staging, "backup", "1", "sub"));
    const outsideBefore = await snapshot(s.outside);
    const result = await installInto(s.target);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /lies through the link `.*img\/a\/sub`/);
    assert.deepEqual(await snapshot(s.outside), outsideBefore);
  });

  test("a journal whose staging folder is not one of mpip's (`.ssh` beside the target): refused, nothing moved into it", async () => {
    const parent = path.join(work.dir, `case-${++counter}`);
    const target = path.join(parent, "img");
    await mkdir(path.join(parent, ".ssh"), { recursive: true });
    await mkdir(target);
    await writeFile(path.join(target, "payload.txt"), "ssh-ed25519 AAAA attacker\n");
    const { createHash } = await import("node:crypto");
    const sha256 = createHash("sha256").update("ssh-ed25519 AAAA attacker\n").digest("hex");
    await writeFile(path.join(parent, ".img.mpip-journal"), JSON.stringify({ mpip: 4, operation: "install", pid: 999999, since: "2020-01-01T00:00:00.000Z", staging: ".ssh", dirs: [], steps: [{ from: "authorized_keys", to: "payload.txt", backup: false, size: 26, sha256 }] }));
    const result = await installInto(target);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /names `\.ssh` as its staging folder, which is no name mpip gives one/);
    assert.deepEqual(await readdir(path.join(parent, ".ssh")), []);
    assert.equal(await readFile(path.join(target, "payload.txt"), "utf8"), "ssh-ed25519 AAAA attacker\n");
  });
});

test("a step with no digest is not taken for the commit's own: the user's file stays where it is", async () => {
  const s = await scene({ steps: [{ from: "x", to: "main.py", backup: false }] });
  await writeFile(path.join(s.target, "main.py"), "my app\n");
  const result = await installInto(s.target);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await readFile(path.join(s.target, "main.py"), "utf8"), "my app\n");
  assert.match(result.stderr, /kept `main\.py` in `.*img`/);
  assert.ok((await snapshot(s.target))["plain_pkg.py"] !== undefined);
});
