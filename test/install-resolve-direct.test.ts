// How direct sources (URLs, paths, github:) meet requests by name and each other in one plan, and how a
// guessed index kind behaves when the guess is hard: through the built CLI against a real server.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { buildSdist, sdistFilename } from "./helpers/sdist.js";
import { jsonReply, startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { serveRepos, type RepoServer } from "./helpers/repo-server.js";

let server: IndexServer;
let mip: MipIndex;
let repos: RepoServer;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server, { compile: async (source) => Buffer.concat([Buffer.from("M\x06\x00\x1f"), Buffer.from(source)]) });
  repos = serveRepos(server);
  work = await tempDir();
  await mip.publish({ name: "foo", version: "1.0", files: { "foo.py": "F = 'index 1.0'\n" } });
  await mip.publish({ name: "foo", version: "2.0", files: { "foo.py": "F = 'index'\n" } });
  await mip.publish({ name: "bar", version: "1.0", files: { "bar.py": "import foo\n" }, deps: [["foo", "1.0"]] });
  repos.addRepo("github", "acme", "nover", "HEAD", { "foo/package.json": JSON.stringify({ urls: [["foo.py", "foo.py"]], version: "" }), "foo/foo.py": "F = 'repo'\n", "foo.py": "F = 'repo'\n" });
  repos.addRepo("github", "acme", "a", "HEAD", { "package.json": JSON.stringify({ urls: [["a.py", "a.py"]], deps: [["github:acme/b", ""]] }), "a.py": "A = 'HEAD'\n" });
  repos.addRepo("github", "acme", "a", "main", { "package.json": JSON.stringify({ urls: [["a.py", "a.py"]], deps: [["github:acme/b", ""]] }), "a.py": "A = 'main'\n" });
  repos.addRepo("github", "acme", "b", "HEAD", { "package.json": JSON.stringify({ urls: [["b.py", "b.py"]], deps: [["github:acme/a", ""]] }), "b.py": "B = 1\n" });
  // An index that is hard to recognize: a landing page at its root, the JSON API below it.
  const landing = { name: "landing-pkg", version: "1.0", files: { "landing_pkg.py": "" } };
  const landingBody = await buildSdist(landing);
  const directSdist = await buildSdist({ name: "foo", version: "1.5", files: { "foo.py": "F = 'url'\n" } });
  // Dependencies by URL in a package's metadata (PEP 508 `name @ URL`), beside an index that has the name.
  const leafSdist = await buildSdist({ name: "leaf", version: "9.0", files: { "leaf.py": "LEAF = 'url'\n" } });
  const leafUrl = `${server.origin}/direct/leaf-9.0.tar.gz`;
  await server.addSdist({ name: "leaf", version: "1.0", files: { "leaf.py": "LEAF = 'index'\n" } });
  await server.addSdist({ name: "branch-txt", version: "1.0", files: { "branch_txt.py": "" }, requires: [`leaf @ ${leafUrl}`] });
  await server.addSdist({ name: "branch-dist", version: "1.0", files: { "branch_dist.py": "" }, requiresDist: [`leaf @ ${leafUrl}`] });
  await server.addSdist({ name: "branch-misnamed", version: "1.0", files: { "branch_misnamed.py": "" }, requires: [`twig @ ${leafUrl}`] });
  await server.addSdist({ name: "branch-file", version: "1.0", files: { "branch_file.py": "" }, requires: ["leaf @ file:///etc/hostname"] });
  await server.addSdist({ name: "branch-module", version: "1.0", files: { "branch_module.py": "" }, requires: [`leaf @ ${server.origin}/direct/leaf.py`] });
  const leafSha = createHash("sha256").update(leafSdist).digest("hex");
  const credentialed = leafUrl.replace("http://", "http://ci:s3cr3t-pw@");
  await server.addSdist({ name: "branch-pinned", version: "1.0", files: { "branch_pinned.py": "" }, requires: [`leaf @ ${credentialed}#sha256=${leafSha}`] });
  await server.addSdist({ name: "branch-pinned-plain", version: "1.0", files: { "branch_pinned_plain.py": "" }, requires: [`leaf @ ${leafUrl}#sha256=${leafSha}`] });
  await server.addSdist({ name: "branch-wrong", version: "1.0", files: { "branch_wrong.py": "" }, requires: [`leaf @ ${leafUrl}#sha256=${"0".repeat(64)}`] });
  server.routes.unshift(
    { name: "landing-root", pattern: /^\/mirror\/?$/, handle: () => ({ status: 200, headers: { "content-type": "text/html" }, body: Buffer.from("<html><body><h1>Welcome</h1><a href=\"https://example.invalid/docs\">docs</a></body></html>") }) },
    { name: "landing-project", pattern: /^\/mirror\/landing-pkg\/json$/, handle: () => jsonReply(200, { info: { name: "landing-pkg", version: "1.0" }, releases: { "1.0": [{ filename: sdistFilename(landing), url: `${server.origin}/mirror-files/${sdistFilename(landing)}`, packagetype: "sdist" }] } }) },
    { name: "landing-file", pattern: /^\/mirror-files\//, handle: () => ({ status: 200, body: landingBody }) },
    { name: "direct-sdist", pattern: /^\/direct\/foo-1\.5\.tar\.gz$/, handle: () => ({ status: 200, body: directSdist }) },
    { name: "direct-leaf", pattern: /^\/direct\/leaf-9\.0\.tar\.gz$/, handle: () => ({ status: 200, body: leafSdist }) },
    { name: "flaky-index", pattern: /^\/flaky\/index\.json$/, handle: () => ({ status: 503 }) },
  );
});

after(async () => {
  await server.close();
  await work.cleanup();
});

const env = () => ({ MPIP_GITHUB_URL: repos.hosts.github, MPIP_RETRY_BASE_MS: "1" });
const install = (target: string, args: string[], cwd?: string) => runMpip(["install", "--no-record", "-p", target, "-i", `mip+${mip.base}`, ...args], { env: env(), ...(cwd === undefined ? {} : { cwd }) });

describe("dependencies by URL in a package's metadata", () => {
  const installFromIndex = (target: string, args: string[]) => runMpip(["install", "-p", target, "-i", server.url, ...args], { env: env() });
  const leafRequests = () => server.requests.filter((line) => line.includes("/direct/leaf-9.0.tar.gz")).length;

  test("are fetched from their URL, never taken from an index under their name: from requires.txt and from PKG-INFO", async () => {
    for (const root of ["branch-txt", "branch-dist"]) {
      const target = path.join(work.dir, `url-dep-${root}`);
      const before = leafRequests();
      const result = await installFromIndex(target, [root]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, "leaf.py"), "utf8"), "LEAF = 'url'\n", root);
      assert.equal(leafRequests(), before + 1, `${root}: the URL was fetched`);
      const listed = (JSON.parse((await runMpip(["list", "--json", "-p", target])).stdout) as { packages: Array<{ name: string; version: string }> }).packages;
      assert.deepEqual(listed.map((item) => `${item.name} ${item.version}`).sort(), [`${root} 1.0`, "leaf 9.0"]);
    }
  });

  test("settle: installed again, the one the target holds from that URL answers it, unfetched; the record keeps the pin, not the login", async () => {
    const target = path.join(work.dir, "url-dep-settle");
    const first = await installFromIndex(target, ["branch-pinned"]);
    assert.equal(first.code, 0, first.stderr);
    const metadata = await readFile(path.join(target, "branch_pinned-1.0.dist-info", "METADATA"), "utf8");
    assert.match(metadata, /^Requires-Dist: leaf @ http:\/\/\*\*\*@127\.0\.0\.1:\d+\/direct\/leaf-9\.0\.tar\.gz#sha256=[0-9a-f]{64}$/m);
    assert.doesNotMatch(metadata, /s3cr3t/);
    for (const args of [["branch-pinned"], ["branch-pinned", "--no-deps"], ["branch-pinned"]]) {
      const before = leafRequests();
      const again = await installFromIndex(target, args);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(leafRequests(), before, `${args.join(" ")}: leaf is not fetched again`);
      assert.doesNotMatch(again.stderr, /replacing/);
    }
    assert.equal(await readFile(path.join(target, "leaf.py"), "utf8"), "LEAF = 'url'\n");
  });

  test("a sha256 that one package pins for a URL is checked whoever asks for the URL first; two pins that differ are a conflict", async () => {
    for (const args of [["branch-txt", "branch-wrong"], ["branch-wrong", "branch-txt"]]) {
      const target = path.join(work.dir, `url-dep-pins-${args[0]}`);
      const result = await installFromIndex(target, args);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /does not match the sha256/, args.join(" "));
      assert.equal(existsSync(target), false, `${args.join(" ")}: nothing is installed`);
    }
    const aloneTarget = path.join(work.dir, "url-dep-pins-alone");
    const alone = await installFromIndex(aloneTarget, ["branch-wrong"]);
    assert.equal(alone.code, 1, alone.stderr);
    assert.equal(existsSync(aloneTarget), false, "nothing is installed");
    assert.match(alone.stderr, /^error: while getting `http:\/\/127\.0\.0\.1:\d+\/direct\/leaf-9\.0\.tar\.gz` \(required by `branch-wrong 1\.0`\): .*does not match the sha256/m);
    const both = await installFromIndex(path.join(work.dir, "url-dep-pins-both"), ["branch-pinned-plain", "branch-wrong"]);
    assert.equal(both.code, 1, both.stderr);
    assert.match(both.stderr, /^error: `branch-pinned-plain 1\.0` and `branch-wrong 1\.0` ask for `http:\/\/127\.0\.0\.1:\d+\/direct\/leaf-9\.0\.tar\.gz` with other sha256 digests/m);
    assert.equal(existsSync(path.join(work.dir, "url-dep-pins-both")), false);
  });

  test("download names them as what an install from the folder still fetches from their URL", async () => {
    const dest = path.join(work.dir, "url-dep-download");
    const result = await runMpip(["download", "-d", dest, "-i", server.url, "branch-txt"], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^except `leaf`: a dependency by URL, which an install fetches from its URL again, or with --offline from the download cache this run filled$/m);
  });

  test("that cannot be followed are errors naming the package and the dependency, and nothing is installed", async () => {
    const cases: Array<[string, RegExp]> = [
      ["branch-file", /^error: in the dependencies of .*branch-file.*: `file:\/\/\/etc\/hostname` is not an http or https URL$/m],
      ["branch-module", /^error: in the dependencies of .*branch-module.*: `leaf @ http:\/\/127\.0\.0\.1:\d+\/direct\/leaf\.py`: a `name @ URL` requirement must point at a \.tar\.gz sdist$/m],
    ];
    for (const [root, message] of cases) {
      const target = path.join(work.dir, `url-dep-${root}`);
      const result = await installFromIndex(target, [root]);
      assert.equal(result.code, 1, `${root}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /^hint: a dependency by URL must be an http or https URL of an sdist \(\.tar\.gz\); this one is for the package's authors to fix\. To install the package anyway, give --no-deps/m);
      assert.doesNotMatch(result.stderr, /This is a bug/);
      assert.equal(existsSync(target), false, root);
    }
    // One whose sdist is another project than the name before ` @ ` is fetched, and refused for what its PKG-INFO says.
    const misnamed = await installFromIndex(path.join(work.dir, "url-dep-branch-misnamed"), ["branch-misnamed"]);
    assert.equal(misnamed.code, 1, misnamed.stderr);
    assert.match(misnamed.stderr, /^error: while getting `twig @ http:\/\/127\.0\.0\.1:\d+\/direct\/leaf-9\.0\.tar\.gz` \(required by `branch-misnamed 1\.0`\): `twig` \(`leaf-9\.0\.tar\.gz`\) is not the package it was fetched as: its PKG-INFO names `leaf 9\.0`, not `twig`/m);
    assert.equal(existsSync(path.join(work.dir, "url-dep-branch-misnamed")), false);
  });
});

describe("direct sources in one plan", () => {
  test("a package.json whose folder is named like a dependency does not answer it (the name is a guess), and both are refused: one image records one package under a name", async () => {
    // Before, both were installed, and the image held two records of `foo` (the folder's version 0 and
    // the index's 1.0), one of them owning files the other had replaced.
    const target = path.join(work.dir, "nover");
    const result = await install(target, ["github:acme/nover/foo", "bar"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: `github:acme\/nover\/foo` \(for the command line \(`foo`\)\) and `http:\/\/127\.0\.0\.1:\d+\/mip\/v2` \(for `bar 1\.0` \(`foo==1\.0`\)\) would both be installed as `foo`: an image records one package under a name$/m);
    assert.match(result.stderr, /^hint: install one of them; a name that a source does not state is made from its file or folder name/m);
    assert.equal(existsSync(target), false);
  });

  test("a name and an sdist URL for the same project: the URL the user gave is installed, once", async () => {
    const target = path.join(work.dir, "same");
    const result = await install(target, ["foo", `${server.origin}/direct/foo-1.5.tar.gz`]);
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /is in both/);
    assert.deepEqual(await listFiles(target), ["foo.py"]);
    assert.equal(await readFile(path.join(target, "foo.py"), "utf8"), "F = 'url'\n");
    const dependency = await install(path.join(work.dir, "same-dep"), ["bar", `${server.origin}/direct/foo-1.5.tar.gz`]);
    assert.equal(dependency.code, 1);
    assert.match(dependency.stderr, /`bar 1\.0` requires `foo==1\.0`, but `foo 1\.5` was already chosen/);
  });

  test("a project folder and its name asked for by name in one command: the folder is installed, once", async () => {
    const local = path.join(work.dir, "project-local");
    await mkdir(path.join(local, "proj", "foo"), { recursive: true });
    await writeFile(path.join(local, "proj", "pyproject.toml"), '[project]\nname = "foo"\nversion = "9.0"\n');
    await writeFile(path.join(local, "proj", "foo", "__init__.py"), "F = 'project'\n");
    const target = path.join(work.dir, "project");
    const result = await install(target, ["foo", "./proj"], local);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /`foo` is both asked for by name and given as the folder `[^`]*proj`; the folder is installed/);
    assert.deepEqual(await listFiles(target), ["foo/__init__.py"]);
    const pinned = await install(path.join(work.dir, "project-pinned"), ["foo==2.0", "./proj"], local);
    assert.equal(pinned.code, 1);
    assert.match(pinned.stderr, /requires `foo==2\.0`, but `foo 9\.0` was already chosen/);
  });

  test("a pin that the direct sdist does not satisfy is a conflict", async () => {
    const local = path.join(work.dir, "local");
    await mkdir(path.join(local, "dist"), { recursive: true });
    const spec = { name: "mylib", version: "1.0", files: { "mylib.py": "" } };
    await writeFile(path.join(local, "dist", sdistFilename(spec)), await buildSdist(spec));
    const target = path.join(work.dir, "pin");
    const result = await install(target, ["mylib==9", `./dist/${sdistFilename(spec)}`], local);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /requires `mylib==9`, but `mylib 1\.0` was already chosen/);
    const ok = await install(target, ["mylib==1.0", `./dist/${sdistFilename(spec)}`], local);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await listFiles(target), ["mylib.py"]);
  });

  test("one repo asked for at two refs is installed once, at the ref asked for first, with a warning", async () => {
    const target = path.join(work.dir, "refs");
    const seen = server.requests.length;
    const result = await install(target, ["github:acme/a@main"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["a.py", "b.py"]);
    assert.equal(await readFile(path.join(target, "a.py"), "utf8"), "A = 'main'\n");
    assert.match(result.stderr, /warning: `b` asks for `github:acme\/a`; `a` from `github:acme\/a@main` was already chosen and is installed instead/);
    assert.equal(server.requests.slice(seen).filter((line) => line.includes("/acme/a/HEAD/")).length, 0);
  });

  test("a pipe where a local package names a file is refused at once, not waited on", async (t) => {
    // In a folder of its own: snapshots of the work folder would block reading it.
    const { dir: local, cleanup } = await tempDir();
    t.after(cleanup);
    await mkdir(path.join(local, "pkg"), { recursive: true });
    await writeFile(path.join(local, "pkg", "package.json"), JSON.stringify({ urls: [["a.py", "a.py"]] }));
    execFileSync("mkfifo", [path.join(local, "pkg", "a.py")]);
    const target = path.join(work.dir, "fifo-target");
    const result = await runMpip(["install", "--no-record", "--no-index", "-p", target, "./pkg"], { cwd: local });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: cannot read .*a\.py.*: it is not a regular file/);
    assert.deepEqual(await listFiles(target), []);
  });

  test("--no-index still installs what needs no index", async () => {
    const target = path.join(work.dir, "no-index");
    const result = await runMpip(["install", "--no-record", "--no-index", "-p", target, "github:acme/b/b.py"], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["b.py"]);
  });
});

describe("detecting an index's kind", () => {
  test("a detected v2 index is where a package.json's bare hashes come from, as with a named one", async () => {
    const custom = serveMipIndex(server, { prefix: "/custom-mip", compile: async (source) => Buffer.from(source) });
    await custom.publish({ name: "hashed", version: "1.0", files: { "hashed.py": "H = 1\n" } });
    const hash = custom.hashOf("py", "hashed", "hashed.py");
    repos.addRepo("github", "acme", "bare", "HEAD", { "package.json": JSON.stringify({ hashes: [["hashed.py", hash]] }) });
    const target = path.join(work.dir, "bare-hashes");
    const result = await runMpip(["install", "--no-record", "-p", target, "-i", `${server.origin}/custom-mip`, "github:acme/bare"], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["hashed.py"]);
    assert.match(await readFile(path.join(target, "hashed.py"), "utf8"), /^H = 1\n/);
  });

  test("a landing page at the root is not taken for a simple index; a miss says how to name the kind", async () => {
    const target = path.join(work.dir, "landing");
    const ok = await runMpip(["install", "--no-record", "-v", "-p", target, "-i", `${server.origin}/mirror`, "landing-pkg"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /is a PyPI JSON API \(detected\)/);
    const missing = await runMpip(["install", "--no-record", "-p", target, "-i", `${server.origin}/mirror`, "nothing-here"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /was taken for a PyPI JSON API by asking it; if it is another kind, say so: `mip\+http:\/\/127\.0\.0\.1:\d+\/mirror` or `simple\+/);
  });

  test("an index.json that fails (503) is an error, not a reason to guess another kind", async () => {
    const target = path.join(work.dir, "flaky");
    const before = await snapshot(work.dir);
    const result = await runMpip(["install", "--no-record", "--retries", "0", "-p", target, "-i", `${server.origin}/flaky`, "foo"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: GET `[^`]*\/flaky\/index\.json` answered HTTP 503/);
    assert.deepEqual(await snapshot(work.dir), before);
  });
});
