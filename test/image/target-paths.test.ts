// Targets a user can type that are not folders mpip can use: a link to nothing (an SD card not mounted
// behind ~/.micropython/lib), a path below one, a file on the path, a link loop, a virtual filesystem
// (/proc), an empty string (an unset variable in a CI script). Each is a clear error at once: no loop,
// no lock, no staging folder, no journal, nothing created anywhere; and a second run says the same.

import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { resolveTarget } from "../../src/image/target-path.js";
import { MpipError } from "../../src/errors.js";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { buildSdist, sdistFilename } from "../helpers/sdist.js";
import { prng } from "../helpers/prng.js";

let work: { dir: string; cleanup: () => Promise<void> };
let sdists: string;
let counter = 0;

before(async () => {
  work = await tempDir("mpip-paths-");
  sdists = path.join(work.dir, "sdists");
  await mkdir(sdists);
  const spec = { name: "path-pkg", version: "1.0", files: { "path_pkg.py": "P = 1\n" } };
  await writeFile(path.join(sdists, sdistFilename(spec)), await buildSdist(spec));
});
after(async () => {
  await work.cleanup();
});

/** Every entry below `dir`, links as where they lead (snapshot() would follow them). */
async function tree(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
      const child = path.join(relative, entry.name);
      if (entry.isSymbolicLink()) result[child] = `-> ${await readlink(path.join(dir, child))}`;
      else if (entry.isDirectory()) {
        result[`${child}/`] = "dir";
        await walk(child);
      } else result[child] = "file";
    }
  };
  await walk("");
  return result;
}

async function place(): Promise<string> {
  const dir = path.join(work.dir, `case-${++counter}`);
  await mkdir(dir);
  return dir;
}

const install = (target: string) => ["install", "--no-record", "--no-index", "-f", sdists, "-p", target, "path-pkg"];

interface Case {
  name: string;
  /** Builds the scene in `dir`; returns the target to give to -p. */
  make(dir: string): Promise<string>;
  message: RegExp;
  hint: RegExp;
  /** For a link to nothing: makes what it leads to (the card mounted); the same command then installs. */
  mount?(dir: string): Promise<void>;
}

const CASES: Case[] = [
  {
    name: "a target that is a link to nothing",
    make: async (dir) => {
      await symlink(path.join(dir, "card", "lib"), path.join(dir, "lib"));
      return path.join(dir, "lib");
    },
    message: /^error: cannot install into `.*\/lib`: `.*\/lib` is a symbolic link to `.*card\/lib`, which does not exist; nothing was changed$/m,
    hint: /^hint: if it leads to a card, a board or a network drive, connect and mount it first/m,
    mount: async (dir) => {
      await mkdir(path.join(dir, "card", "lib"), { recursive: true });
    },
  },
  {
    name: "a target below a link to nothing",
    make: async (dir) => {
      await symlink(path.join(dir, "media", "card"), path.join(dir, "card"));
      return path.join(dir, "card", "img", "lib");
    },
    message: /^error: cannot install into `.*card\/img\/lib`: `.*\/card` is a symbolic link to `.*media\/card`, which does not exist; nothing was changed$/m,
    hint: /mount it first/,
  },
  {
    name: "a link loop on the path",
    make: async (dir) => {
      await symlink(path.join(dir, "b"), path.join(dir, "a"));
      await symlink(path.join(dir, "a"), path.join(dir, "b"));
      return path.join(dir, "a", "img");
    },
    message: /is a symbolic link that leads back to itself; nothing was changed$/m,
    hint: /fix the link/,
  },
  {
    name: "a file on the path",
    make: async (dir) => {
      await writeFile(path.join(dir, "notes.txt"), "a file\n");
      return path.join(dir, "notes.txt", "img");
    },
    message: /^error: cannot install into `.*notes\.txt\/img`: `.*notes\.txt` on its path is a file, not a folder; nothing was changed$/m,
    hint: /a folder on it is a file/,
  },
  {
    name: "a target that is a file",
    make: async (dir) => {
      await writeFile(path.join(dir, "img"), "a file\n");
      return path.join(dir, "img");
    },
    message: /^error: cannot install into `.*img`: it is a file, not a folder; nothing was changed$/m,
    hint: /choose a folder with -p/,
  },
  {
    name: "a link to a file on the path",
    make: async (dir) => {
      await writeFile(path.join(dir, "file"), "a file\n");
      await symlink(path.join(dir, "file"), path.join(dir, "link"));
      return path.join(dir, "link", "img");
    },
    message: /`.*\/link` on its path is a symbolic link to the file `.*\/file`, not a folder/,
    hint: /a folder on it is a file/,
  },
];

describe("targets that are not usable folders", () => {
  for (const item of CASES) {
    test(`${item.name}: a clear error, nothing created, the same on the next run${item.mount === undefined ? "" : "; installs once it leads somewhere"}`, async () => {
      const dir = await place();
      const target = await item.make(dir);
      const before = await tree(dir);
      for (const run of [1, 2]) {
        const result = await runMpip(install(target));
        assert.equal(result.code, 1, `run ${run}: ${result.stderr}`);
        assert.match(result.stderr, item.message, `run ${run}`);
        assert.match(result.stderr, item.hint, `run ${run}`);
        assert.doesNotMatch(result.stderr, /another mpip|half-way|This is a bug/);
        assert.deepEqual(await tree(dir), before, `run ${run} left something`);
      }
      assert.equal((await resolveTarget(target).catch((error: unknown) => error) as MpipError).code, "bad-target");
      if (item.mount !== undefined) {
        // Once the card is mounted (the link leads somewhere), the same command installs, and leaves nothing beside.
        await item.mount(dir);
        const result = await runMpip(install(target));
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual((await readdir(dir)).sort(), ["card", "lib"]);
        assert.deepEqual(await readdir(path.join(dir, "card")), ["lib"]);
        assert.deepEqual(await readdir(path.join(dir, "card", "lib")), ["path_pkg.py"]);
      }
    });
  }

  test("a virtual filesystem that takes no new folders (/proc): an error, not a loop", { skip: existsSync("/proc/self") ? undefined : "no /proc here" }, async () => {
    const result = await runMpip(install(`/proc/mpip-test-${process.pid}/img`));
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: cannot create `\/proc\/mpip-test-\d+`/m);
    assert.match(result.stderr, /^hint: `\/proc` does not take new folders/m);
    assert.doesNotMatch(result.stderr, /another mpip/);
    // One level up, the lock itself is what /proc refuses: said as such, not as a folder that keeps vanishing.
    for (const target of [`/proc/mpip-test-${process.pid}`, "/proc/self/fdinfo/x", "/sys/mpip-test"]) {
      if (!existsSync(path.dirname(target))) continue;
      const top = await runMpip(install(target));
      assert.equal(top.code, 1, top.stderr);
      assert.match(top.stderr, /^error: cannot (lock the target folder `.*`: cannot create `.*\.mpip-lock` \((ENOENT|EACCES[^)]*)\)|create `.*`)/m, top.stderr);
      assert.match(top.stderr, /takes no new files|does not take new folders|writable/, top.stderr);
      assert.doesNotMatch(top.stderr, /keeps disappearing|another mpip/);
    }
  });

  test("an empty target is a usage error (exit 2), not the current folder", async () => {
    const dir = await place();
    const before = await snapshot(dir);
    const result = await runMpip(install(""), { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /empty/);
    assert.deepEqual(await snapshot(dir), before);
    assert.deepEqual(await readdir(dir), []);
  });
});

describe("fuzz: any path made of folders, files, links to nothing, link loops and links to files", () => {
  test("opening it for an install either works and leaves nothing, or is an MpipError that created nothing", async (t) => {
    const random = prng(0x7061746873);
    const { TargetSession } = await import("../../src/image/session.js");
    const { Reporter } = await import("../../src/log.js");
    const { PassThrough } = await import("node:stream");
    const quiet = new Reporter({ stream: new PassThrough() as unknown as NodeJS.WriteStream, color: false });
    const kinds = ["dir", "file", "dangling", "loop", "file-link", "dir-link", "missing"] as const;
    let opened = 0;
    let refused = 0;
    for (let round = 0; round < 150; round++) {
      const dir = await place();
      const parts: string[] = [];
      for (let depth = 0; depth < 1 + Math.floor(random() * 4); depth++) {
        const kind = kinds[Math.floor(random() * kinds.length)]!;
        const here = path.join(dir, ...parts);
        const name = `p${depth}`;
        const full = path.join(here, name);
        // Only a folder can hold more; past a file, a missing part or a broken link the rest is missing too.
        const isFolder = (() => {
          try {
            return statSync(here).isDirectory();
          } catch {
            return false; // missing, or a link loop
          }
        })();
        if (isFolder) {
          if (kind === "dir") await mkdir(full);
          else if (kind === "file") await writeFile(full, "x");
          else if (kind === "dangling") await symlink(path.join(dir, "nowhere", name), full);
          else if (kind === "loop") await symlink(full, full);
          else if (kind === "file-link") {
            await writeFile(path.join(dir, `f${depth}`), "x");
            await symlink(path.join(dir, `f${depth}`), full);
          } else if (kind === "dir-link") {
            await mkdir(path.join(dir, `d${depth}`));
            await symlink(path.join(dir, `d${depth}`), full);
          }
        }
        parts.push(name);
      }
      const target = path.join(dir, ...parts);
      const before = await tree(dir);
      const outcome = await TargetSession.open(target, { wait: false, reporter: quiet }).then(
        async (session) => {
          await session.close();
          return "opened";
        },
        (error: unknown) => error,
      );
      if (outcome === "opened") {
        opened++;
        assert.deepEqual(await tree(dir), before, `round ${round}: ${parts.join("/")} left something`);
      } else {
        refused++;
        assert.ok(outcome instanceof MpipError, `round ${round}: ${String(outcome)}`);
        assert.deepEqual(await tree(dir), before, `round ${round}: ${parts.join("/")} created something`);
      }
    }
    t.diagnostic(`${opened} targets opened, ${refused} refused with an MpipError`);
    assert.ok(opened > 10 && refused > 10, `${opened} opened, ${refused} refused`);
  });
});
