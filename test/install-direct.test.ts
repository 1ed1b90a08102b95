// `mpip install` from package.json sources and direct sources, end to end: the built CLI against one
// https test server playing GitHub, GitLab and Codeberg raw hosts, a micropython-lib v2 index, a PyPI
// JSON index and a plain file host; plus local files and project folders. Results are checked on disk
// (and in real MicroPython), failures by exit code, stderr, and an unchanged target.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { compileSource } from "../src/mpy/compile.js";
import { listFiles, runMpip, snapshot, tempDir, type RunResult } from "./helpers/cli.js";
import { notFound, startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { runMicroPython } from "./helpers/micropython.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { serveRepos, type RepoServer } from "./helpers/repo-server.js";
import { buildSdist } from "./helpers/sdist.js";
import { makeTestPki } from "./helpers/tls.js";

let server: IndexServer;
let repos: RepoServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
let caFile: string;
let env: NodeJS.ProcessEnv;
let local: string; // the folder local-path specs are relative to
let prior: string; // an image installed before the failing installs, copied as their target
let priorRequests: string[]; // what the server saw while `prior` was installed (the dependency cycle's test reads it)
let counter = 0;
const plain = new Map<string, Buffer>();

const sha = (body: string | Uint8Array) => createHash("sha256").update(body).digest("hex");
const json = (value: object) => `${JSON.stringify(value, null, 1)}\n`;
const PROJECT_TOML = '[project]\nname = "micropython-proj"\nversion = "0.2"\ndependencies = ["pypidep"]\n';
const GREETING = "hello from a data file\n";

/** Serves `body` at `/plain/<file>` over https; returns its URL. */
function host(file: string, body: string | Uint8Array): string {
  plain.set(file, Buffer.from(body));
  return `${server.origin}/plain/${file}`;
}

async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [file, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), body);
  }
}

/** A fresh target below a fresh parent folder (which holds a sentinel, so its snapshot says something). */
async function newTarget(): Promise<string> {
  const parent = path.join(work.dir, `t${++counter}`);
  await writeTree(parent, { "sentinel.txt": "parent\n" });
  return path.join(parent, "image");
}

function install(target: string, args: string[], indexes = [`mip+${mip.base}`, `pypi+${server.url}`]): Promise<RunResult> {
  return runMpip(["install", "--no-record", "--cert", caFile, ...indexes.flatMap((index) => ["-i", index]), "-p", target, ...args], { env, cwd: local });
}

async function installOk(args: string[], indexes?: string[]): Promise<{ target: string; result: RunResult }> {
  const target = await newTarget();
  const result = await install(target, args, indexes);
  assert.equal(result.code, 0, result.stderr);
  return { target, result };
}

const readText = (target: string, file: string) => readFile(path.join(target, file), "utf8");

/** Requests the server saw while `task` ran. */
async function requestsDuring(task: () => Promise<unknown>): Promise<string[]> {
  const start = server.requests.length;
  await task();
  return server.requests.slice(start);
}

/**
 * failsUnchanged([spec]) run once per spec, shared by the tests that assert different things of the same
 * failing install (a URL answering 404).
 */
const sharedFailures = new Map<string, Promise<RunResult>>();
function failsUnchangedShared(spec: string): Promise<RunResult> {
  let run = sharedFailures.get(spec);
  if (run === undefined) {
    run = failsUnchanged([spec]);
    sharedFailures.set(spec, run);
  }
  return run;
}

/** Runs a failing install over a target that already holds an install; the target's parent must not change. */
async function failsUnchanged(args: string[], code = 1): Promise<RunResult> {
  const target = await newTarget();
  await cp(prior, target, { recursive: true });
  const parent = path.dirname(target);
  const before = await snapshot(parent);
  assert.ok(before["image/ping.py"] !== undefined && before["image/pong.py"] !== undefined);
  const result = await install(target, args);
  assert.equal(result.code, code, result.stderr);
  assert.deepEqual(await snapshot(parent), before);
  assert.doesNotMatch(result.stderr, /This is a bug in mpip/);
  return result;
}

before(async () => {
  work = await tempDir("mpip-direct-");
  const pki = await makeTestPki(work.dir);
  caFile = pki.caFile;
  server = await startIndexServer({ tls: { key: pki.key, cert: pki.cert } });
  server.routes.push({
    name: "plain",
    pattern: /^\/plain\/(.+)$/,
    handle: ({ match }) => {
      const body = plain.get(match[1]!);
      return body === undefined ? notFound() : { status: 200, headers: { "Content-Type": "application/octet-stream" }, body };
    },
  });
  repos = serveRepos(server);
  env = { MPIP_GITHUB_URL: repos.hosts.github, MPIP_GITLAB_URL: repos.hosts.gitlab, MPIP_CODEBERG_URL: repos.hosts.codeberg };
  mip = serveMipIndex(server);
  await mip.publish({ name: "mipdep", version: "0.3", files: { "mipdep.py": "MIPDEP = 3\n" } });
  await server.addSdist({ name: "pypidep", version: "2.0", files: { "pypidep.py": "PYPIDEP = 2\n" } });
  publishRepos();
  local = path.join(work.dir, "local");
  await writeLocalFiles();
  priorRequests = await requestsDuring(async () => ({ target: prior } = await installOk(["github:acme/ping"])));
});
after(async () => {
  await server.close();
  await work.cleanup();
});

function publishRepos(): void {
  const init = "from widget.core import VALUE\n";
  const core = "VALUE = 'main'\n";
  repos.addRepo("github", "acme", "widget", "main", {
    "package.json": json({
      version: "1.0",
      urls: [["widget/__init__.py", "widget/__init__.py"], ["widget/core.py", "github:acme/widget/src/core.py"]],
      hashes: [["widget/__init__.py", sha(init).slice(0, 8)], ["widget/core.py", sha(core)]],
      deps: [["mipdep", "latest"], ["pypidep", ""], ["github:acme/helper", "v2"]],
    }),
    "widget/__init__.py": init,
    "src/core.py": core,
    "sub/path/package.json": json({ urls: [["subpkg.py", "subpkg.py"]] }),
    "sub/path/subpkg.py": "WHERE = 'main'\n",
  });
  repos.addRepo("github", "acme", "widget", "v1", {
    "sub/path/package.json": json({ urls: [["subpkg.py", "subpkg.py"], ["extra.py", "github:acme/widget/sub/path/extra.py"]], deps: [["github:acme/helper", ""]] }),
    "sub/path/subpkg.py": "WHERE = 'v1'\n",
    "sub/path/extra.py": "EXTRA = 'v1'\n",
  });
  for (const ref of ["main", "v1", "v2"]) {
    repos.addRepo("github", "acme", "helper", ref, { "package.json": json({ version: ref, urls: [["helper.py", "helper.py"]] }), "helper.py": `HELPER = '${ref}'\n` });
  }
  for (const [forge, repo] of [["gitlab", "gl"], ["codeberg", "cb"]] as const) {
    for (const ref of ["main", "rel-1"]) {
      repos.addRepo(forge, "acme", repo, ref, {
        "package.json": json({ urls: [[`${repo}.py`, `${repo}.py`], [`${repo}dir/a.py`, "lib/a.py"]] }),
        [`${repo}.py`]: `REF = '${ref}'\n`,
        "lib/a.py": `A = '${ref}'\n`,
      });
    }
  }
  repos.addRepo("github", "acme", "ping", "main", { "package.json": json({ urls: [["ping.py", "ping.py"]], deps: [["github:acme/pong", ""]] }), "ping.py": "PING = 1\n" });
  repos.addRepo("github", "acme", "pong", "main", { "package.json": json({ urls: [["pong.py", "pong.py"]], deps: [["github:acme/ping", "latest"]] }), "pong.py": "PONG = 1\n" });
  const pkg = (hashes: Array<[string, string]>, urls: Array<[string, string]>) => ({ "package.json": json({ hashes, urls }), "t.py": "T = 1\n", "u.py": "U = 1\n" });
  repos.addRepo("github", "acme", "tampered", "main", pkg([["t.py", sha("T = 2\n")]], [["t.py", "t.py"], ["u.py", "u.py"]]));
  repos.addRepo("github", "acme", "tampered-short", "main", pkg([["u.py", sha("U = 2\n").slice(0, 8)]], [["t.py", "t.py"], ["u.py", "u.py"]]));
  repos.addRepo("github", "acme", "gappy", "main", pkg([], [["t.py", "t.py"], ["gone.py", "lib/gone.py"]]));
}

async function writeLocalFiles(): Promise<void> {
  await writeTree(local, {
    "dist/localpkg-1.0.tar.gz": await buildSdist({ name: "localpkg", version: "1.0", files: { "localpkg.py": "LOCAL = 1\n" }, requires: ["pypidep"] }),
    "dist/shared-lib-1.0.tar.gz": await buildSdist({ name: "shared-lib", version: "1.0", files: { "shared_lib.py": "SHARED = 'direct'\n" } }),
    "mod.py": "MOD = 'local'\n",
    "pkg/package.json": json({ version: "0.9", urls: [["pkgmod.py", "pkgmod.py"], ["pkgsub/a.py", "sub/a.py"]], deps: [["mipdep", ""]] }),
    "pkg/pkgmod.py": "PKGMOD = 1\n",
    "pkg/sub/a.py": "A = 1\n",
    "outside.py": "OUTSIDE = 1\n",
    "escape/package.json": json({ urls: [["outside.py", "../outside.py"]] }),
    // A project folder; its package.json names a missing file, so using it instead of packing would fail.
    "proj/pyproject.toml": PROJECT_TOML,
    "proj/package.json": json({ urls: [["nope.py", "nope.py"]] }),
    "proj/projpkg/__init__.py": "import pypidep\nfrom projpkg.R import R\nGREETING = R['data/greeting.txt']\n",
    "proj/projpkg/data/greeting.txt": GREETING,
    "proj/README.md": "# proj\n",
  });
}

describe("package.json sources: github:, gitlab:, codeberg:", () => {
  test("github:org/repo installs `urls` (relative and shorthand), checks `hashes`, follows deps on both indexes and a github: dep at its own ref", async () => {
    let target = "";
    const seen = await requestsDuring(async () => ({ target } = await installOk(["github:acme/widget"])));
    assert.deepEqual((await listFiles(target)).sort(), ["helper.py", "mipdep.py", "pypidep.py", "widget/__init__.py", "widget/core.py"]);
    assert.equal(await readText(target, "helper.py"), "HELPER = 'v2'\n");
    for (const wanted of ["/gh/acme/widget/HEAD/package.json", "/gh/acme/widget/HEAD/widget/__init__.py", "/gh/acme/widget/HEAD/src/core.py",
      "/gh/acme/helper/v2/package.json", "/gh/acme/helper/v2/helper.py", "/mip/v2/package/py/mipdep/0.3.json", "/pypi/pypidep/json"]) {
      assert.ok(seen.includes(`GET ${wanted}`), `${wanted} not requested: ${seen.join(", ")}`);
    }
    // mipdep is on the first index, so the second is never asked for it.
    assert.deepEqual(seen.filter((line) => line.includes("/pypi/mipdep")), []);
    const run = await runMicroPython("import widget, helper, mipdep, pypidep\nprint(widget.VALUE, helper.HELPER, mipdep.MIPDEP, pypidep.PYPIDEP)", { libDir: target });
    assert.equal(run.error, undefined);
    assert.equal(run.stdout, "main v2 3 2\n");
  });

  test("github:org/repo/sub/path@v1: files at v1, shorthand urls get the ref, but the ref does not leak into a dependency", async () => {
    let target = "";
    const seen = await requestsDuring(async () => ({ target } = await installOk(["github:acme/widget/sub/path@v1"])));
    assert.deepEqual((await listFiles(target)).sort(), ["extra.py", "helper.py", "subpkg.py"]);
    assert.equal(await readText(target, "subpkg.py"), "WHERE = 'v1'\n");
    assert.equal(await readText(target, "helper.py"), "HELPER = 'main'\n");
    assert.ok(seen.includes("GET /gh/acme/widget/v1/sub/path/package.json"));
    assert.ok(seen.includes("GET /gh/acme/widget/v1/sub/path/extra.py"));
    assert.ok(seen.includes("GET /gh/acme/helper/HEAD/package.json"), seen.join(", "));
    assert.deepEqual(seen.filter((line) => line.includes("/acme/helper/") && !line.includes("/HEAD/")), []);
  });

  test("gitlab: and codeberg: with and without @ref; relative urls stay on the ref (codeberg keeps ?ref=)", async () => {
    // Two installs, each of one gitlab and one codeberg spec (their files differ), one with @ref and one without.
    const gitlabAtRef = ["gitlab:acme/gl@rel-1", "gl", "rel-1", "GET /gl/acme/gl/-/raw/rel-1/lib/a.py"] as const;
    const gitlabBare = ["gitlab:acme/gl", "gl", "main", "GET /gl/acme/gl/-/raw/HEAD/lib/a.py"] as const;
    const codebergAtRef = ["codeberg:acme/cb@rel-1", "cb", "rel-1", "GET /cb/api/v1/repos/acme/cb/raw/lib/a.py?ref=rel-1"] as const;
    const codebergBare = ["codeberg:acme/cb", "cb", "main", "GET /cb/api/v1/repos/acme/cb/raw/lib/a.py?ref=HEAD"] as const;
    for (const pair of [[gitlabAtRef, codebergBare], [gitlabBare, codebergAtRef]]) {
      let target = "";
      const seen = await requestsDuring(async () => ({ target } = await installOk(pair.map(([spec]) => spec))));
      assert.deepEqual((await listFiles(target)).sort(), pair.flatMap(([, file]) => [`${file}.py`, `${file}dir/a.py`]).sort(), pair.map(([spec]) => spec).join(" "));
      for (const [spec, file, ref, wanted] of pair) {
        assert.equal(await readText(target, `${file}.py`), `REF = '${ref}'\n`, spec);
        assert.equal(await readText(target, `${file}dir/a.py`), `A = '${ref}'\n`, spec);
        assert.ok(seen.includes(wanted), `${spec}: ${seen.join(", ")}`);
      }
    }
  });

  test("a dependency cycle between two repos ends, each package installed once", async () => {
    // The install of github:acme/ping made in `before` (the failing installs' starting image) is this case.
    assert.deepEqual((await listFiles(prior)).sort(), ["ping.py", "pong.py"]);
    assert.equal(priorRequests.filter((line) => line === "GET /gh/acme/ping/HEAD/package.json").length, 1);
  });
});

describe("package.json failures leave the target as it was", () => {
  test("a file that does not match its `hashes` entry (full or short) is an error naming the file and the URL", async () => {
    for (const [repo, file] of [["tampered", "t.py"], ["tampered-short", "u.py"]] as const) {
      const result = await failsUnchanged([`github:acme/${repo}`]);
      const url = `${repos.hosts.github}/acme/${repo}/HEAD/${file}`.replace(/[.?]/g, "\\$&");
      assert.match(result.stderr, new RegExp(`^error: \`${file.replace(".", "\\.")}\` of \`${repo}\`.* from \`${url}\` does not match the sha256 in the package document`, "m"));
      assert.match(result.stderr, /nothing of it was written/);
    }
  });

  test("a `urls` entry that answers 404 is an error naming the file and the URL", async () => {
    const result = await failsUnchanged(["github:acme/gappy"]);
    const url = `${repos.hosts.github}/acme/gappy/HEAD/lib/gone.py`;
    assert.match(result.stderr, /^error: .*`gone\.py` of `gappy`/m);
    assert.ok(result.stderr.includes(`at \`${url}\`, but that URL answered 404`), result.stderr);
  });

  test("destinations that escape the target are refused before anything is fetched, in `urls` and in `hashes`", async () => {
    // Each rule (absolute, drive letter, `..`, backslash) is checked in both fields; the further members of
    // a rule (the same check, the same message) in one field each.
    const dests: Array<[string, ReadonlyArray<"urls" | "hashes">]> = [
      ["../evil.py", ["urls", "hashes"]], ["/etc/x", ["urls", "hashes"]], ["a/../../b", ["urls"]], ["C:x", ["urls", "hashes"]],
      ["a\\b.py", ["urls", "hashes"]], ["..\\evil.py", ["hashes"]], ["./../evil.py", ["hashes"]],
    ];
    for (const [at, [dest, fields]] of dests.entries()) {
      for (const field of fields) {
        const document = field === "urls" ? { urls: [["ok.py", "ok.py"], [dest, "x.py"]] } : { hashes: [[dest, sha("X = 1\n").slice(0, 8)]], urls: [["ok.py", "ok.py"]] };
        const dir = `unsafe-${at}-${field}`;
        host(`${dir}/x.py`, "X = 1\n");
        host(`${dir}/ok.py`, "OK = 1\n");
        const url = host(`${dir}/package.json`, json(document));
        let result: RunResult | undefined;
        const seen = await requestsDuring(async () => (result = await failsUnchanged([url])));
        assert.match(result!.stderr, new RegExp(`^error: .* lists the file \`.*\` \\(\`${field}\\[\\d\\]\`\\), refused: its (path|name)`, "m"), `${dest} in ${field}: ${result!.stderr}`);
        assert.match(result!.stderr, /hint: the package is broken or malicious; nothing of it was fetched or written/);
        assert.deepEqual(seen.filter((line) => line.includes(`/plain/${dir}/`) && !line.endsWith("package.json")), [], dest);
      }
    }
  });

  test("a local package.json may not name a file outside its folder", async () => {
    const result = await failsUnchanged(["./escape/package.json"]);
    assert.match(result.stderr, /^error: .* names `\.\.\/outside\.py` \(`urls\[0\]\[1\]`\), which is outside the document's folder/m);
  });
});

describe("https URLs", () => {
  before(() => {
    host("site/lib/package.json", json({ version: "3.1", urls: [["site_mod.py", "site_mod.py"], ["site_pkg/x.py", "../shared/x.py"]], deps: [["pypidep", ""]] }));
    host("site/lib/site_mod.py", "SITE = 1\n");
    host("site/shared/x.py", "X = 'shared'\n");
  });

  test("to a package.json, and to its folder (with and without a trailing slash)", async () => {
    for (const suffix of ["/package.json", "", "/"]) {
      const { target } = await installOk([`${server.origin}/plain/site/lib${suffix}`]);
      assert.deepEqual((await listFiles(target)).sort(), ["pypidep.py", "site_mod.py", "site_pkg/x.py"], suffix);
      assert.equal(await readText(target, "site_pkg/x.py"), "X = 'shared'\n");
    }
  });

  test("to a .py module, with a matching #sha256= or none; a wrong #sha256= is an error", async () => {
    const body = "def hello():\n    return 'hi'\n";
    const url = host("mods/hello.py", body);
    for (const spec of [url, `${url}#sha256=${sha(body).toUpperCase()}`]) {
      const { target } = await installOk([spec]);
      assert.deepEqual((await listFiles(target)).sort(), ["hello.py"]);
      assert.equal(await readText(target, "hello.py"), body);
    }
    const result = await failsUnchanged([`${url}#sha256=${sha("other")}`]);
    assert.match(result.stderr, new RegExp(`^error: \`hello\` \\(\`hello\\.py\`\\) from \`${url.replace(/[.]/g, "\\.")}\` does not match the sha256 in the URL's \`#sha256=\` \\(expected ${sha("other")}, got ${sha(body)}\\)`, "m"));
  });

  test("to a .mpy module compiled by mpy-cross: installed byte for byte, and it runs in MicroPython", async () => {
    const compiled = await compileSource("def answer():\n    return 42\n", "fast.py");
    assert.deepEqual([...compiled.subarray(0, 2)], [0x4d, 6]);
    const url = host("mods/fast.mpy", compiled);
    const { target } = await installOk([`${url}#sha256=${sha(compiled)}`, "--mpy", "6"]);
    assert.deepEqual((await listFiles(target)).sort(), ["fast.mpy"]);
    assert.deepEqual(await readFile(path.join(target, "fast.mpy")), Buffer.from(compiled));
    const run = await runMicroPython("import fast\nprint(fast.answer())", { libDir: target });
    assert.equal(run.error, undefined);
    assert.equal(run.stdout, "42\n");
    const refused = await failsUnchanged([url, "--mpy", "5"]);
    assert.match(refused.stderr, /^error: .*`fast\.mpy`/m);
  });

  test("to a .tar.gz sdist, alone and as `name @ URL`: unpacked, and its requires.txt followed", async () => {
    const url = host("dl/urlpkg-1.0.tar.gz", await buildSdist({ name: "urlpkg", version: "1.0", files: { "urlpkg.py": "URLPKG = 1\n" }, requires: ["pypidep"] }));
    for (const spec of [url, `urlpkg @ ${url}`]) {
      const { target } = await installOk([spec]);
      assert.deepEqual((await listFiles(target)).sort(), ["pypidep.py", "urlpkg.py"], spec);
    }
  });

  test("`name @ URL` naming another project than the sdist's is refused, as pip refuses it: for what its PKG-INFO says", async () => {
    const url = host("dl/urlpkg-1.0.tar.gz", await buildSdist({ name: "urlpkg", version: "1.0", files: { "urlpkg.py": "URLPKG = 1\n" } }));
    // The file name is no proof (a forge names its archives v1.0.tar.gz): the sdist is fetched and its PKG-INFO read.
    const result = await failsUnchanged([`other @ ${url}`], 1);
    assert.match(result.stderr, /^error: `other` \(`urlpkg-1\.0\.tar\.gz`\) is not the package it was fetched as: its PKG-INFO names `urlpkg 1\.0`, not `other`/m);
  });

  test("`name[extra] @ URL` is a PEP 508 URL requirement, not a path", async () => {
    const url = host("dl/urlpkg-1.0.tar.gz", await buildSdist({ name: "urlpkg", version: "1.0", files: { "urlpkg.py": "URLPKG = 1\n" } }));
    const { target } = await installOk([`urlpkg[extra] @ ${url}`, "--no-deps"]);
    assert.deepEqual(await listFiles(target), ["urlpkg.py"]);
  });

  test("errors about a URL given directly blame neither an index nor a `#sha256=` that lists it", async () => {
    const url = host("dl/plainpkg-1.0.tar.gz", await buildSdist({ name: "plainpkg", version: "1.0", files: { "plainpkg.py": "" } }));
    for (const [spec, wanted] of [
      [`${server.origin}/plain/nope/missing.py`, "answered 404"],
      [`${server.origin}/plain/nope/gone-1.0.tar.gz`, "answered 404"],
      [`${url}#sha256=${sha("other")}`, "does not match the sha256 in the URL's `#sha256=`"],
    ] as const) {
      const result = await (wanted === "answered 404" ? failsUnchangedShared(spec) : failsUnchanged([spec]));
      assert.ok(result.stderr.includes(wanted), `${spec}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /the index|#sha256=` lists/, `${spec}: ${result.stderr}`);
    }
  });

  test("a URL that answers 404 is an error naming it", async () => {
    for (const file of ["nope/missing.py", "nope/gone-1.0.tar.gz", "nope/package.json", "nope"]) {
      const result = await failsUnchangedShared(`${server.origin}/plain/${file}`);
      const shown = `${server.origin}/plain/${file}${file === "nope" ? "/package.json" : ""}`;
      assert.ok(result.stderr.includes(`\`${shown}\` answered 404`), `${file}: ${result.stderr}`);
    }
  });
});

describe("local paths", () => {
  test("an sdist, a module and a package.json, relative to the current folder; their deps from the indexes", async () => {
    const { target } = await installOk(["./dist/localpkg-1.0.tar.gz", "./mod.py", "./pkg/package.json"]);
    assert.deepEqual((await listFiles(target)).sort(), ["localpkg.py", "mipdep.py", "mod.py", "pkgmod.py", "pkgsub/a.py", "pypidep.py"]);
    assert.equal(await readText(target, "mod.py"), "MOD = 'local'\n");
  });

  test("a module or package.json folder whose file name is no project name is recorded under one made from it: listed, uninstalled, and the files import", async () => {
    // Before, the record kept `my mod` as the name: `mpip list` read the image's record as unrecorded
    // files, and `mpip uninstall` found nothing to remove.
    await writeTree(local, { "odd/my mod.py": "ODD = 1\n", "odd/ünï.py": "UNI = 2\n", "odd/my lib/package.json": json({ urls: [["mylib.py", "mylib.py"]] }), "odd/my lib/mylib.py": "MYLIB = 3\n" });
    const url = `${host("mods/weird%40name!.py", "WEIRD = 4\n")}#sha256=${sha("WEIRD = 4\n")}`;
    const target = await newTarget();
    const result = await runMpip(["install", "--cert", caFile, "-p", target, "./odd/my mod.py", "./odd/ünï.py", "./odd/my lib", url], { env, cwd: local });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /warning/);
    assert.deepEqual((await listFiles(target)).filter((file) => !file.includes(".dist-info/")).sort(), ["my mod.py", "mylib.py", "weird@name!.py", "ünï.py"]);
    const run = await runMicroPython("m = __import__('my mod')\nimport mylib\nw = __import__('weird@name!')\nu = __import__('ünï')\nprint(m.ODD, u.UNI, mylib.MYLIB, w.WEIRD)", { libDir: target });
    assert.equal(run.error, undefined);
    assert.equal(run.stdout, "1 2 3 4\n");
    const listed = await runMpip(["list", "--json", "-p", target]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stderr, "");
    const packages = (JSON.parse(listed.stdout) as { packages: Array<{ name: string }> }).packages;
    assert.deepEqual(packages.map((entry) => entry.name).sort(), ["my-lib", "my-mod", "uni", "weird-name"]);
    const removed = await runMpip(["uninstall", "-q", "-p", target, "my-mod", "uni", "my-lib", "weird-name"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await listFiles(target), []);
  });

  test("two sources whose file names make one name are refused before anything changes: given together (usage), or as one document's deps", async () => {
    await writeTree(local, { "twins/my mod.py": "A = 1\n", "twins/my_mod.py": "B = 2\n", "twins/My-Mod.mpy": "x", "twins/pair/package.json": json({ urls: [["pair.py", "pair.py"]], deps: [[host("twins/a/tw%20in.py", "T = 1\n"), "latest"], [host("twins/b/tw_in.py", "T = 2\n"), "latest"]] }), "twins/pair/pair.py": "P = 1\n" });
    for (const [specs, code, message] of [
      [["./twins/my mod.py", "./twins/my_mod.py"], 2, /^error: `[^`]*twins\/my mod\.py` \(for .*\) and `[^`]*twins\/my_mod\.py` \(for .*\) would both be installed as `my-mod`: an image records one package under a name$/m],
      [["./twins/my_mod.py", "./twins/My-Mod.mpy"], 2, /would both be installed as `my-mod`/],
      [["./twins/pair"], 1, /^error: `[^`]*tw%20in\.py` \(for `pair` .*\) and `[^`]*tw_in\.py` \(for `pair` .*\) would both be installed as `tw-in`/m],
    ] as const) {
      const result = await failsUnchanged([...specs], code);
      assert.match(result.stderr, message, specs.join(" "));
    }
  });

  test("a folder with a package.json and no project file installs that package.json", async () => {
    const { target } = await installOk(["./pkg"]);
    assert.deepEqual((await listFiles(target)).sort(), ["mipdep.py", "pkgmod.py", "pkgsub/a.py"]);
  });

  test("a project folder (pyproject.toml) is installed as packed: R.py made, no egg-info, deps resolved, and it imports in MicroPython", async () => {
    const { target, result } = await installOk(["./proj"]);
    assert.deepEqual((await listFiles(target)).sort(), ["projpkg/R.py", "projpkg/__init__.py", "projpkg/data/greeting.txt", "pypidep.py"]);
    assert.match(result.stderr, /micropython-proj==0\.2/);
    const run = await runMicroPython("import projpkg\nprint(repr(projpkg.GREETING))", { libDir: target });
    assert.equal(run.error, undefined);
    assert.equal(run.stdout, "b'hello from a data file\\n'\n");
  });

  test("a path to nothing is a usage error naming it", async () => {
    const target = await newTarget();
    const result = await install(target, ["./dist/absent-1.0.tar.gz"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error: `\.\/dist\/absent-1\.0\.tar\.gz` looks like a path, but there is nothing at `.*absent-1\.0\.tar\.gz` \(ENOENT\)/m);
    assert.deepEqual(await snapshot(path.dirname(target)), { "sentinel.txt": sha("parent\n") });
  });
});

describe("direct sources mixed with index requirements", () => {
  test("a direct sdist that another package requires is installed once, and never looked up on the index", async () => {
    await server.addSdist({ name: "needs-shared", version: "1.0", files: { "needs_shared.py": "import shared_lib\n" }, requires: ["shared-lib>=1.0"] });
    await server.addSdist({ name: "shared-lib", version: "9.0", files: { "shared_lib.py": "SHARED = 'index'\n" } });
    let target = "";
    let result: RunResult | undefined;
    const seen = await requestsDuring(async () => ({ target, result } = await installOk(["needs-shared", "./dist/shared-lib-1.0.tar.gz", "--json"], [`pypi+${server.url}`])));
    assert.deepEqual((await listFiles(target)).sort(), ["needs_shared.py", "shared_lib.py"]);
    assert.equal(await readText(target, "shared_lib.py"), "SHARED = 'direct'\n");
    assert.deepEqual(seen.filter((line) => /shared-lib|shared_lib/.test(line)), []);
    const report = JSON.parse(result!.stdout) as { packages: Array<{ name: string; requestedBy: string[] }> };
    assert.deepEqual(report.packages.map((pkg) => pkg.name).sort(), ["needs-shared", "shared-lib"]);
    assert.deepEqual(report.packages.find((pkg) => pkg.name === "shared-lib")!.requestedBy, ["the command line", "needs-shared 1.0"]);
  });
});

describe("--json report for direct installs", () => {
  test("kind, source, url, sha256 and files for each kind of direct source", async () => {
    const body = "def hello():\n    return 'hi'\n";
    const moduleUrl = host("mods/hello2.py", body);
    const { result } = await installOk(["--json", "--no-deps", "github:acme/helper@v2", moduleUrl, "./dist/localpkg-1.0.tar.gz", "./proj"]);
    const report = JSON.parse(result.stdout) as { ok: boolean; packages: Array<Record<string, unknown>> };
    assert.equal(report.ok, true);
    const pick = ({ name, version, kind, source, url, filename, files }: Record<string, unknown>) => ({ name, version, kind, source, url, filename, files });
    assert.deepEqual(report.packages.map(pick), [
      { name: "helper", version: "v2", kind: "package-json", source: "github:acme/helper@v2", url: `${repos.hosts.github}/acme/helper/v2/package.json`, filename: "package.json", files: ["helper.py"] },
      { name: "hello2", version: "", kind: "module", source: moduleUrl, url: moduleUrl, filename: "hello2.py", files: ["hello2.py"] },
      { name: "localpkg", version: "1.0", kind: "dist", source: path.join(local, "dist/localpkg-1.0.tar.gz"), url: pathToFileURL(path.join(local, "dist/localpkg-1.0.tar.gz")).href, filename: "localpkg-1.0.tar.gz", files: ["localpkg.py"] },
      { name: "micropython-proj", version: "0.2", kind: "project", source: path.join(local, "proj"), url: pathToFileURL(path.join(local, "proj")).href, filename: "micropython-proj-0.2.tar.gz", files: ["projpkg/R.py", "projpkg/__init__.py", "projpkg/data/greeting.txt"] },
    ]);
    assert.equal(report.packages[1]!.sha256, sha(body));
    assert.equal(report.packages[2]!.sha256, sha(await readFile(path.join(local, "dist/localpkg-1.0.tar.gz"))));
  });
});

describe("review fixes: links, #sha256= on documents, clashes, limits, deps", () => {
  test("a local package.json whose `urls` reach outside its folder through a symbolic link is refused; the target is unchanged", async () => {
    const { symlink } = await import("node:fs/promises");
    await writeTree(work.dir, { "private/passwd": "root:x:0:0\n" });
    await writeTree(local, {
      "links1/package.json": json({ urls: [["ok.py", "ok.py"], ["leak.py", "leak.py"]] }),
      "links1/ok.py": "OK = 1\n",
      "links2/package.json": json({ urls: [["passwd.py", "etcdir/passwd"]] }),
    });
    await symlink("../outside.py", path.join(local, "links1/leak.py"));
    await symlink(path.join(work.dir, "private"), path.join(local, "links2/etcdir"));
    for (const [spec, file, real] of [["./links1", "leak.py", path.join(local, "outside.py")], ["./links2/package.json", "etcdir/passwd", path.join(work.dir, "private/passwd")]] as const) {
      const result = await failsUnchanged([spec]);
      assert.match(result.stderr, /^error: the package document .* names `.*` of `links\d` .* at `.*`, which is a symbolic link \(or inside one\) to `.*`, outside the document's folder/m, result.stderr);
      assert.ok(result.stderr.includes(`\`${path.join(local, spec.startsWith("./links1") ? "links1" : "links2", file)}\``), result.stderr);
      assert.ok(result.stderr.includes(`to \`${real}\``), result.stderr);
      assert.match(result.stderr, /hint: a local package\.json may only name files in its own folder or below/);
    }
    // A link that stays inside the folder is followed.
    await writeTree(local, { "links3/package.json": json({ urls: [["alias.py", "alias.py"]] }), "links3/real/impl.py": "IMPL = 1\n" });
    await symlink("real/impl.py", path.join(local, "links3/alias.py"));
    const { target } = await installOk(["./links3"]);
    assert.equal(await readText(target, "alias.py"), "IMPL = 1\n");
  });

  test("`#sha256=` on a package.json URL or a folder URL checks the document: a match installs, a mismatch is an error", async () => {
    const document = json({ urls: [["hashed_mod.py", "hashed_mod.py"]] });
    const url = host("hashed/package.json", document);
    host("hashed/hashed_mod.py", "HASHED = 1\n");
    for (const spec of [`${url}#sha256=${sha(document)}`, `${server.origin}/plain/hashed#sha256=${sha(document)}`]) {
      const { target } = await installOk([spec]);
      assert.deepEqual(await listFiles(target), ["hashed_mod.py"], spec);
    }
    for (const spec of [`${url}#sha256=${sha("other")}`, `${server.origin}/plain/hashed/#sha256=${sha("other")}`]) {
      let result: RunResult | undefined;
      const seen = await requestsDuring(async () => (result = await failsUnchanged([spec])));
      assert.ok(result!.stderr.includes(`from \`${url}\` does not match the sha256 in the URL's \`#sha256=\` (expected ${sha("other")}, got ${sha(document)})`), result!.stderr);
      assert.deepEqual(seen.filter((line) => line.includes("hashed_mod")), [], spec);
    }
  });

  test("destinations that differ only by case, or are both a file and a folder, are refused before any file is fetched", async () => {
    const cases = [
      [{ urls: [["lib/__init__.py", "x.py"], ["LIB/__init__.py", "x.py"]] }, /lists the file `LIB\/__init__\.py` \(`urls\[1\]`\), refused: its folder `LIB` differs only by case from the folder `lib`/],
      [{ urls: [["a", "x.py"], ["a/b.py", "x.py"]] }, /lists the file `a\/b\.py` \(`urls\[1\]`\), refused: its folder `a` is also a file \(`urls\[0\]`\)/],
      [{ urls: [["a/b.py", "x.py"], ["a", "x.py"]] }, /lists the file `a` \(`urls\[1\]`\), refused: it is a file where `urls\[0\]` needs the folder `a`/],
    ] as const;
    for (const [at, [document, wanted]] of cases.entries()) {
      host(`clash-${at}/x.py`, "X = 1\n");
      const url = host(`clash-${at}/package.json`, json(document));
      let result: RunResult | undefined;
      const seen = await requestsDuring(async () => (result = await failsUnchanged([url])));
      assert.match(result!.stderr, wanted);
      assert.match(result!.stderr, /hint: the package is broken or malicious; nothing of it was fetched or written/);
      assert.doesNotMatch(result!.stderr, /cannot stage|EEXIST/);
      assert.deepEqual(seen.filter((line) => line.includes(`/clash-${at}/x.py`)), []);
    }
  });

  test("--max-unpacked-bytes applies to a direct module and to a package document's files, remote and local", async () => {
    const big = "# padding\n".repeat(200); // 2000 bytes
    const moduleUrl = host("limits/bigmod.py", big);
    await writeTree(local, {
      "bigmod.py": big,
      "biglocal/package.json": json({ urls: [["one.py", "one.py"], ["two.py", "two.py"]] }),
      "biglocal/one.py": big.slice(0, 700),
      "biglocal/two.py": big.slice(0, 700),
    });
    host("limits/doc/huge.py", big.repeat(10));
    const documentUrl = host("limits/doc/package.json", json({ urls: [["huge.py", "huge.py"]] }));
    for (const [spec, label] of [[moduleUrl, "`bigmod` (`bigmod.py`)"], ["./bigmod.py", "`bigmod` (`bigmod.py`)"], ["./biglocal", "(`package.json`)"], [documentUrl, "(`package.json`)"]] as const) {
      const result = await failsUnchanged([spec, "--max-unpacked-bytes", "1KiB"]);
      assert.match(result.stderr, /^error: .* is larger than the limit of 1 KiB$/m, `${spec}: ${result.stderr}`);
      assert.ok(result.stderr.includes(label), `${spec}: ${result.stderr}`);
      assert.match(result.stderr, /hint: if you trust this package, raise the limit with --max-unpacked-bytes/, spec);
    }
    const { target } = await installOk([moduleUrl, "--max-unpacked-bytes", "2000"]);
    assert.equal(await readText(target, "bigmod.py"), big);
  });

  test("--max-metadata-bytes applies to a package document, remote or local, and the error names the option", async () => {
    const document = json({ description: "x".repeat(2000), urls: [["meta_mod.py", "meta_mod.py"]] });
    const url = host("meta/package.json", document);
    host("meta/meta_mod.py", "META = 1\n");
    await writeTree(local, { "meta/package.json": document, "meta/meta_mod.py": "META = 1\n" });
    for (const spec of [url, "./meta"]) {
      const result = await failsUnchanged([spec, "--max-metadata-bytes", "1KiB"]);
      assert.match(result.stderr, /^error: the package document `.*package\.json` \(for `.*`\) is larger than the limit of 1 KiB$/m, `${spec}: ${result.stderr}`);
      assert.match(result.stderr, /hint: .*raise the limit with --max-metadata-bytes/, spec);
    }
    const { target } = await installOk([url, "--max-metadata-bytes", "4KiB"]);
    assert.deepEqual(await listFiles(target), ["meta_mod.py"]);
  });

  test("`deps` that are not a plain name, URL or shorthand, or whose version is a range, are errors naming the document and the field", async () => {
    const cases = [
      [["foo bar", ""], /field `deps\[0\]\[0\]` is `foo bar`, but must be a project name/],
      [["foo", ">=1.0"], /field `deps\[0\]\[1\]` is `>=1\.0`, but must be an exact version/],
      [["foo @ file:///etc/passwd", ""], /field `deps\[0\]\[0\]` is `foo @ file:\/\/\/etc\/passwd`/],
      [["github:lonely", ""], /field `deps\[0\]` is not a dependency mpip can follow: `github:lonely` is not a valid repository shorthand/],
    ] as const;
    for (const [at, [dep, wanted]] of cases.entries()) {
      host(`deps-${at}/ok.py`, "OK = 1\n");
      const url = host(`deps-${at}/package.json`, json({ urls: [["ok.py", "ok.py"]], deps: [dep] }));
      let result: RunResult | undefined;
      const seen = await requestsDuring(async () => (result = await failsUnchanged([url])));
      assert.match(result!.stderr, new RegExp(`^error: the package document \`${url.replace(/[.]/g, "\\.")}\` \\(for \`.*\`\\) is invalid: ${wanted.source}`, "m"), result!.stderr);
      assert.match(result!.stderr, /hint: the package document is malformed; tell the package's author/);
      assert.deepEqual(seen.filter((line) => /\/foo|etc|passwd|ok\.py/.test(line)), [], JSON.stringify(dep));
    }
  });

  test("a directly named URL that answers 404 blames neither the user nor an index alone", async () => {
    const result = await failsUnchangedShared(`${server.origin}/plain/nope/missing.py`);
    assert.match(result.stderr, /hint: check the URL, or the package that names it/);
  });
});
