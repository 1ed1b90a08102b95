// package.json packages and the forge shorthands as people write them, end to end through the built CLI
// against one test server playing GitHub, GitLab (with subgroups) and Codeberg raw hosts and a
// micropython-lib v2 index: which ref a shorthand is fetched at, what a missing package.json says, GitLab
// projects inside subgroups, `deps` written with no version, a local package.json inside a git clone, and
// a `[dest, url]` pair listed twice. Results are checked on disk, in stderr and by exit code.

import assert from "node:assert/strict";
import { readFile, symlink } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { serveRepos, type RepoServer } from "../helpers/repo-server.js";
import { writeTree } from "../helpers/expect.js";

let server: IndexServer;
let repos: RepoServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let counter = 0;

const json = (value: unknown) => `${JSON.stringify(value, null, 1)}\n`;

before(async () => {
  work = await tempDir("mpip-forge-");
  server = await startIndexServer();
  repos = serveRepos(server);
  mip = serveMipIndex(server);
  env = { MPIP_GITHUB_URL: repos.hosts.github, MPIP_GITLAB_URL: repos.hosts.gitlab, MPIP_CODEBERG_URL: repos.hosts.codeberg };
  await mip.publish({ name: "ledfont", version: "1.2", files: { "ledfont.py": "FONT = '1.2'\n" } });
  await mip.publish({ name: "blinker", version: "0.4", files: { "blinker.py": "BLINK = '0.4'\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

function newTarget(): string {
  return path.join(work.dir, `target-${++counter}`);
}

function install(target: string, args: string[], cwd = work.dir): Promise<RunResult> {
  return runMpip(["install", "--no-record", "-i", `mip+${mip.base}`, "-p", target, ...args], { env, cwd });
}

async function installOk(args: string[], cwd?: string): Promise<{ target: string; result: RunResult; seen: string[] }> {
  const target = newTarget();
  const start = server.requests.length;
  const result = await install(target, args, cwd);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return { target, result, seen: server.requests.slice(start) };
}

async function installFails(args: string[], cwd?: string): Promise<RunResult> {
  const target = newTarget();
  const result = await install(target, args, cwd);
  assert.equal(result.code, 1, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
  assert.doesNotMatch(result.stderr, /This is a bug in mpip/);
  assert.deepEqual(await listFiles(target).catch(() => []), [], "nothing is installed");
  return result;
}

const readText = (target: string, file: string) => readFile(path.join(target, file), "utf8");

/** stderr as one line per message, without colour, for matching across the renderer's wrapping. */
const flat = (text: string) => text.replace(/\s*\n\s*/g, " ");

describe("a spec's @ref applies to its own repo only", () => {
  before(() => {
    for (const forge of ["github", "gitlab", "codeberg"] as const) {
      for (const ref of ["main", "dev"]) {
        repos.addRepo(forge, "org", "app", ref, {
          "package.json": json({
            urls: [
              ["app/__init__.py", "app.py"],
              ["app/own.py", `${forge}:org/app/lib/own.py`],
              ["app/h.py", `${forge}:other/helpers/h.py`],
              ["app/pinned.py", `${forge}:other/helpers/h.py@v2`],
            ],
            deps: [[`${forge}:other/helpers`, ""], [`${forge}:org/app/sub`, ""]],
          }),
          "app.py": `APP = '${ref}'\n`,
          "lib/own.py": `OWN = '${ref}'\n`,
          "sub/package.json": json({ urls: [["appsub.py", "appsub.py"], ["appsub_own.py", `${forge}:org/app/lib/own.py`]] }),
          "sub/appsub.py": `SUB = '${ref}'\n`,
        });
      }
      for (const ref of ["main", "dev", "v2"]) {
        repos.addRepo(forge, "other", "helpers", ref, {
          "package.json": json({ urls: [["helpers.py", "helpers.py"], ["helpers_back.py", `${forge}:org/app/lib/own.py`]] }),
          "helpers.py": `HELPERS = '${ref}'\n`,
          "h.py": `H = '${ref}'\n`,
        });
      }
    }
    // A repo of the same org and name on another forge is another repo.
    repos.addRepo("github", "acme", "twin", "main", { "package.json": json({ urls: [["twin.py", "twin.py"], ["twin_gl.py", "gitlab:acme/twin/twin.py"]] }), "twin.py": "TWIN = 'gh-main'\n" });
    repos.addRepo("github", "acme", "twin", "dev", { "package.json": json({ urls: [["twin.py", "twin.py"], ["twin_gl.py", "gitlab:acme/twin/twin.py"]] }), "twin.py": "TWIN = 'gh-dev'\n" });
    repos.addRepo("gitlab", "acme", "twin", "main", { "twin.py": "TWIN = 'gl-main'\n" });
    repos.addRepo("gitlab", "acme", "twin", "dev", { "twin.py": "TWIN = 'gl-dev'\n" });
  });

  for (const forge of ["github", "gitlab", "codeberg"] as const) {
    test(`${forge}:org/app@dev: its own files and deps at dev; other repos' at their own ref or default branch`, async () => {
      const { target } = await installOk([`${forge}:org/app@dev`]);
      const expected: Record<string, string> = {
        "app/__init__.py": "APP = 'dev'\n",
        "app/own.py": "OWN = 'dev'\n",
        "app/h.py": "H = 'main'\n",
        "app/pinned.py": "H = 'v2'\n",
        "helpers.py": "HELPERS = 'main'\n",
        // other/helpers lists a file of org/app: not at dev, which was asked for org/app's files only.
        "helpers_back.py": "OWN = 'main'\n",
        // A dependency into the spec's own repo, with no ref of its own, stays on dev, and so do its files.
        "appsub.py": "SUB = 'dev'\n",
        "appsub_own.py": "OWN = 'dev'\n",
      };
      assert.deepEqual((await listFiles(target)).sort(), Object.keys(expected).sort());
      for (const [file, text] of Object.entries(expected)) assert.equal(await readText(target, file), text, `${forge}: ${file}`);
    });
  }

  test("without @ref, everything is at the default branch; a ref pinned on another repo's dep reaches only that repo", async () => {
    repos.addRepo("github", "org", "pins", "main", { "package.json": json({ urls: [["pins.py", "pins.py"]], deps: [["github:other/helpers", "v2"]] }), "pins.py": "PINS = 1\n" });
    const { target, seen } = await installOk(["github:org/pins"]);
    assert.equal(await readText(target, "helpers.py"), "HELPERS = 'v2'\n");
    assert.equal(await readText(target, "helpers_back.py"), "OWN = 'main'\n");
    assert.ok(seen.includes("GET /gh/org/app/HEAD/lib/own.py"), seen.join("\n"));
  });

  test("the same org and repo on another forge is another repo", async () => {
    const { target } = await installOk(["github:acme/twin@dev"]);
    assert.equal(await readText(target, "twin.py"), "TWIN = 'gh-dev'\n");
    assert.equal(await readText(target, "twin_gl.py"), "TWIN = 'gl-main'\n");
  });

  test("org and repo match without regard to case, as the forges match them", async () => {
    repos.addRepo("github", "Case", "Repo", "main", { "package.json": json({ urls: [["c.py", "github:case/repo/c.py"]] }), "c.py": "C = 'main'\n" });
    repos.addRepo("github", "case", "repo", "dev", { "c.py": "C = 'dev'\n" });
    repos.addRepo("github", "Case", "Repo", "dev", { "package.json": json({ urls: [["c.py", "github:case/repo/c.py"]] }) });
    const { seen } = await installOk(["github:Case/Repo@dev"]);
    assert.ok(seen.includes("GET /gh/case/repo/dev/c.py"), seen.join("\n"));
  });
});

describe("a shorthand whose package.json or module is not there", () => {
  before(() => {
    for (const forge of ["github", "gitlab", "codeberg"] as const) {
      repos.addRepo(forge, "org", "nopkg", "main", { "README.md": "# no package.json here\n", "lib/mod.py": "MOD = 1\n" });
      repos.addRepo(forge, "org", "nopkg", "v1", { "lib/mod.py": "MOD = 1\n" });
    }
    repos.addRepo("github", "org", "needsnopkg", "main", { "package.json": json({ urls: [["n.py", "n.py"]], deps: [["github:org/nopkg", ""]] }), "n.py": "N = 1\n" });
  });

  const forms = (repo: string) => [new RegExp(`\`${repo}/path/to/folder\``), new RegExp(`\`${repo}@v1\\.0\``), new RegExp(`\`${repo}/module\\.py\``)];

  for (const forge of ["github", "gitlab", "codeberg"] as const) {
    test(`${forge}:org/nopkg: no package.json at the top of the repo on its default branch, with the forms that name another place`, async () => {
      const result = await installFails([`${forge}:org/nopkg`]);
      const stderr = flat(result.stderr);
      assert.match(stderr, new RegExp(`error: \`${forge}:org/nopkg\`: there is no \`package\\.json\` at the top of \`org/nopkg\` on its default branch \\(\`[^\`]+\` answered 404\\)`));
      for (const form of forms(`${forge}:org/nopkg`)) assert.match(stderr, form);
      assert.match(stderr, /the repo, the ref or the file does not exist/);
    });
  }

  test("a path and a ref are named in the message", async () => {
    const result = await installFails(["github:org/nopkg/lib@v1"]);
    assert.match(flat(result.stderr), /`github:org\/nopkg\/lib@v1`: there is no `lib\/package\.json` in `org\/nopkg` at `v1`/);
    for (const form of forms("github:org/nopkg")) assert.match(flat(result.stderr), form);
  });

  test("a missing module says so, with the module's forms", async () => {
    const result = await installFails(["codeberg:org/nopkg/lib/gone.py@v1"]);
    assert.match(flat(result.stderr), /`codeberg:org\/nopkg\/lib\/gone\.py@v1`: there is no `lib\/gone\.py` in `org\/nopkg` at `v1`/);
    assert.match(flat(result.stderr), /`codeberg:org\/nopkg\/module\.py@v1\.0`/);
  });

  test("a dependency's missing package.json is said the same way", async () => {
    const result = await installFails(["github:org/needsnopkg"]);
    assert.match(flat(result.stderr), /`github:org\/nopkg`: there is no `package\.json` at the top of `org\/nopkg` on its default branch/);
  });
});

/** `installOk` of one spec, run once for the file: two tests install `gitlab:group/sub/project/-` alike. */
const installedOnce = new Map<string, ReturnType<typeof installOk>>();
function installOkOnce(spec: string): ReturnType<typeof installOk> {
  let run = installedOnce.get(spec);
  if (run === undefined) installedOnce.set(spec, (run = installOk([spec])));
  return run;
}

describe("GitLab projects inside subgroups", () => {
  before(() => {
    for (const ref of ["main", "v1"]) {
      repos.addRepo("gitlab", "group/sub", "project", ref, {
        "package.json": json({ urls: [["deep.py", "deep.py"], ["deep_lib.py", "gitlab:group/sub/project/-/lib/deep_lib.py"]] }),
        "deep.py": `DEEP = '${ref}'\n`,
        "lib/deep_lib.py": `LIB = '${ref}'\n`,
        "lib/package.json": json({ urls: [["lib_only.py", "deep_lib.py"]] }),
      });
    }
    repos.addRepo("gitlab", "group/a/b", "nested", "main", { "package.json": json({ urls: [["nested.py", "nested.py"]] }), "nested.py": "NESTED = 1\n" });
  });

  test("`gitlab:group/subgroup/project/-[/path][@ref]` names the project, its folders and modules", async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ["gitlab:group/sub/project/-", { "deep.py": "DEEP = 'main'\n", "deep_lib.py": "LIB = 'main'\n" }],
      ["gitlab:group/sub/project/-@v1", { "deep.py": "DEEP = 'v1'\n", "deep_lib.py": "LIB = 'v1'\n" }],
      ["gitlab:group/sub/project/-/lib@v1", { "lib_only.py": "LIB = 'v1'\n" }],
      ["gitlab:group/sub/project/-/lib/deep_lib.py", { "deep_lib.py": "LIB = 'main'\n" }],
      ["gitlab:group/a/b/nested/-/", { "nested.py": "NESTED = 1\n" }],
    ];
    for (const [spec, files] of cases) {
      const { target } = await installOkOnce(spec);
      assert.deepEqual((await listFiles(target)).sort(), Object.keys(files).sort(), spec);
      for (const [file, text] of Object.entries(files)) assert.equal(await readText(target, file), text, `${spec}: ${file}`);
    }
  });

  test("mip's form for a subgroup project fails with a hint giving the form that works and the raw URL; both install", async () => {
    for (const [spec, form, raw] of [
      ["gitlab:group/sub/project", "gitlab:group/sub/project/-", "/group/sub/project/-/raw/HEAD/package.json"],
      ["gitlab:group/sub/project/lib/deep_lib.py@v1", "gitlab:group/sub/project/-/lib/deep_lib.py@v1", "/group/sub/project/-/raw/v1/lib/deep_lib.py"],
    ] as const) {
      const result = await installFails([spec]);
      const stderr = flat(result.stderr);
      const rawUrl = `${repos.hosts.gitlab}${raw}`;
      assert.match(stderr, new RegExp(`if \`group/sub\` is a group and a subgroup, write \`${form.replace(/[.@]/g, "\\$&")}\`, or give the raw URL \`${rawUrl.replace(/[.?]/g, "\\$&")}\``), stderr);
      assert.match(stderr, /`gitlab:group\/subgroup\/project\/-\/path`/);
      // What the hint offers works (the project's form is the very install the test above checks file by file).
      await installOkOnce(form);
      await installOk([rawUrl]);
    }
  });
});

describe("a package.json dependency with no version", () => {
  for (const [shape, deps] of [
    ['["name"]', [["ledfont"], ["github:org/app"]]],
    ['["name", null]', [["ledfont", null], ["github:org/app", null]]],
    ['"name"', ["ledfont", "github:org/app"]],
  ] as const) {
    test(`${shape} means the latest, with a warning naming the dependency`, async () => {
      repos.addRepo("github", "org", "loose", "main", { "package.json": json({ urls: [["loose.py", "loose.py"]], deps: [...deps, ["blinker", ""]] }), "loose.py": "LOOSE = 1\n" });
      const { target, result } = await installOk(["github:org/loose"]);
      assert.match(await readText(target, "ledfont.py"), /^FONT = '1\.2'\n/);
      assert.equal(await readText(target, "app/__init__.py"), "APP = 'main'\n");
      assert.match(await readText(target, "blinker.py"), /^BLINK = '0\.4'\n/);
      const stderr = flat(result.stderr);
      assert.match(stderr, /warning: .*lists the dependency `ledfont` with no version \(`deps\[0\]`\): installing the latest/, stderr);
      assert.match(stderr, /lists the dependency `github:org\/app` with no version \(`deps\[1\]`\)/);
      assert.doesNotMatch(stderr, /`blinker` with no version/);
    });
  }
});

describe("a local package.json inside a git clone", () => {
  test("relative urls may reach anywhere in the clone (the nearest folder holding `.git`), never beyond it", async (t) => {
    const { dir, cleanup } = await tempDir("mpip-clone-");
    t.after(cleanup);
    const clone = path.join(dir, "clone");
    await writeTree(dir, {
      "outside.py": "OUTSIDE = 1\n",
      "clone/.git/HEAD": "ref: refs/heads/main\n",
      "clone/src/sensor.py": "SENSOR = 1\n",
      "clone/src/drivers/bus.py": "BUS = 1\n",
      "clone/packaging/mip/package.json": json({ urls: [["sensor.py", "../../src/sensor.py"], ["drivers/bus.py", "../../src/./drivers/../drivers/bus.py"]] }),
      "clone/packaging/bad/package.json": json({ urls: [["outside.py", "../../../outside.py"]] }),
      "clone/packaging/link/package.json": json({ urls: [["link.py", "link.py"]] }),
    });
    await symlink(path.join(dir, "outside.py"), path.join(clone, "packaging/link/link.py"));
    for (const spec of ["./clone/packaging/mip", "./clone/packaging/mip/package.json", path.join(clone, "packaging/mip")]) {
      const { target } = await installOk([spec], dir);
      assert.deepEqual((await listFiles(target)).sort(), ["drivers/bus.py", "sensor.py"], spec);
      assert.equal(await readText(target, "sensor.py"), "SENSOR = 1\n");
    }
    const beyond = await installFails(["./clone/packaging/bad"], dir);
    assert.match(flat(beyond.stderr), /names `\.\.\/\.\.\/\.\.\/outside\.py` \(`urls\[0\]\[1\]`\), which is outside the git clone `[^`]*clone`/);
    // A link inside the clone that leads out of it is refused when read.
    const link = await installFails(["./clone/packaging/link"], dir);
    assert.match(flat(link.stderr), /link\.py/);
    assert.doesNotMatch(flat(link.stderr), /OUTSIDE/);
  });

  test("`.git` as a file (a worktree or submodule) marks a clone too, and the nearest one is the limit", async (t) => {
    const { dir, cleanup } = await tempDir("mpip-clone-");
    t.after(cleanup);
    await writeTree(dir, {
      "outer/.git/HEAD": "ref: refs/heads/main\n",
      "outer/shared.py": "SHARED = 1\n",
      "outer/sub/.git": "gitdir: ../.git/modules/sub\n",
      "outer/sub/src/inner.py": "INNER = 1\n",
      "outer/sub/pkg/package.json": json({ urls: [["inner.py", "../src/inner.py"]] }),
      "outer/sub/up/package.json": json({ urls: [["shared.py", "../../shared.py"]] }),
    });
    const { target } = await installOk(["./outer/sub/pkg"], dir);
    assert.deepEqual(await listFiles(target), ["inner.py"]);
    const result = await installFails(["./outer/sub/up"], dir);
    assert.match(flat(result.stderr), /outside the git clone `[^`]*sub`/);
  });

  test("outside any clone, a package.json still names only files in its own folder", async (t) => {
    const { dir, cleanup } = await tempDir("mpip-noclone-");
    t.after(cleanup);
    await writeTree(dir, { "src/x.py": "X = 1\n", "pkg/package.json": json({ urls: [["x.py", "../src/x.py"]] }) });
    const result = await installFails(["./pkg"], dir);
    assert.match(flat(result.stderr), /outside the document's folder/);
  });
});

describe("a package.json listing a file twice", () => {
  test("the same `[dest, url]` or `[dest, hash]` pair twice installs once, with a warning", async () => {
    const body = "TWICE = 1\n";
    const { createHash } = await import("node:crypto");
    const hash = createHash("sha256").update(body).digest("hex");
    const cases: Array<[string, object]> = [
      ["urls, identical", { urls: [["twice.py", "twice.py"], ["twice.py", "twice.py"]] }],
      ["urls, spelled differently", { urls: [["./twice.py", "./src/../twice.py"], ["twice.py", "twice.py"]] }],
      ["urls, absolute", { urls: [["twice.py", `${repos.hosts.github}/org/twice/HEAD/twice.py`], ["twice.py", `${repos.hosts.github}/org/twice/HEAD/./twice.py`]] }],
      ["urls, shorthand", { urls: [["twice.py", "github:org/twice/twice.py"], ["twice.py", "github:org/twice/twice.py"]] }],
      ["hashes, one a prefix of the other", { hashes: [["twice.py", hash.slice(0, 8)], ["twice.py", hash.slice(0, 12)]], urls: [["twice.py", "twice.py"]] }],
    ];
    for (const [label, document] of cases) {
      repos.addRepo("github", "org", "twice", "main", { "package.json": json(document), "twice.py": body });
      const { target, result, seen } = await installOk(["github:org/twice"]);
      assert.deepEqual(await listFiles(target), ["twice.py"], label);
      assert.match(flat(result.stderr), /warning: .*lists `twice\.py` twice, at `(urls|hashes)\[0\]` and `(urls|hashes)\[1\]`, with the same (URL|hash): installed once/, label);
      assert.equal(seen.filter((line) => line.endsWith("/twice.py")).length, 1, label);
    }
  });

  test("one destination with two different sources is still an error", async () => {
    for (const document of [{ urls: [["twice.py", "twice.py"], ["twice.py", "other.py"]] }, { hashes: [["twice.py", "abcd1234"], ["twice.py", "abcd9999"]] }]) {
      repos.addRepo("github", "org", "conflict", "main", { "package.json": json(document), "twice.py": "T = 1\n", "other.py": "O = 1\n" });
      const result = await installFails(["github:org/conflict"]);
      assert.match(flat(result.stderr), /names `twice\.py` again, already listed at `(urls|hashes)\[0\]` with another (URL|hash)/);
    }
  });
});
