import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { fetchFile } from "../../src/fetch.js";
import { HttpClient } from "../../src/http.js";
import { DEFAULT_GIT_HOSTS, expandShorthand, shorthandRepo, splitRef } from "../../src/sources/git-hosts.js";
import { isTooLarge, MAX_METADATA_BYTES } from "../../src/sources/metadata.js";
import { checkEntryPath } from "../../src/archive/entry-path.js";
import { localDocumentRoot } from "../../src/sources/local-root.js";
import { dependenciesOf, parsePackageDocument, planPackageFiles, type PackageDocument, type PlanContext } from "../../src/sources/package-json.js";
import { tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveRepos, type RepoServer } from "../helpers/repo-server.js";

const origin = { url: "https://raw.githubusercontent.com/org/repo/v1.0/lib/package.json", index: "github:org/repo/lib@v1.0" };
const hosts = DEFAULT_GIT_HOSTS;

function parse(value: unknown, at = origin): PackageDocument {
  return parsePackageDocument(Buffer.from(typeof value === "string" ? value : JSON.stringify(value)), at);
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function mpipError(code: string, ...patterns: RegExp[]) {
  return (error: unknown) => {
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, code, error.message);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

test("a micropython-lib v2 document parses, with lowercased hashes and its deps", () => {
  const doc = parse({ v: 1, version: "0.2.1", hashes: [["aioble/__init__.py", "AB12CD34"], ["aioble/core.py", "0011aabb"]], deps: [["micropython-lib-dep", "1.0"], ["other", "latest"], ["third", ""]] });
  assert.deepEqual(doc, {
    origin,
    version: "0.2.1",
    hashes: [["aioble/__init__.py", "ab12cd34"], ["aioble/core.py", "0011aabb"]],
    urls: [],
    deps: [["micropython-lib-dep", "1.0"], ["other", "latest"], ["third", ""]],
  });
  assert.deepEqual(dependenciesOf(doc), [{ name: "micropython-lib-dep", version: "1.0" }, { name: "other" }, { name: "third" }]);
});

test("a third-party package.json needs no `v` or `version`, and unknown fields are tolerated", () => {
  const doc = parse({ urls: [["./pkg//a.py", "a.py"]], description: "x", keywords: ["a"], extra: { nested: true } });
  assert.deepEqual(doc, { origin, hashes: [], urls: [["pkg/a.py", "a.py"]], deps: [] });
  assert.equal(parse({ version: "" }).version, undefined);
  assert.equal(parse({ version: null }).version, undefined);
  assert.deepEqual(parse("\ufeff{}"), { origin, hashes: [], urls: [], deps: [] });
});

test("every malformed field is an error naming the document and the field", () => {
  const cases: Array<[unknown, RegExp]> = [
    ["{not json", /is not valid JSON/],
    [[1, 2], /must be an object, not an array/],
    [{ v: 2 }, /field `v` is 2, but mpip reads package documents of format 1 only/],
    [{ v: "1" }, /field `v` is "1"/],
    [{ version: 1 }, /field `version` must be/],
    [{ hashes: {} }, /field `hashes` must be Array/],
    [{ hashes: [["a.py"]] }, /field `hashes\[0\]` must be a pair/],
    [{ hashes: [["a.py", "abcd1234", "extra"]] }, /field `hashes\[0\]` must be a pair `\[destination, hash\]`/],
    [{ urls: [["a.py"]] }, /field `urls\[0\]` must be a pair `\[destination, url\]`/],
    [{ urls: ["a.py"] }, /field `urls\[0\]` must be Array/],
    [{ hashes: [["a.py", 1234]] }, /field `hashes\[0\]\[1\]` must be string, not the number 1234/],
    [{ hashes: [["a.py", "xyz12345"]] }, /field `hashes\[0\]\[1\]` must be 4 to 64 hex digits/],
    [{ hashes: [["a.py", "abc"]] }, /4 to 64 hex digits/],
    [{ hashes: [["a.py", "a".repeat(65)]] }, /4 to 64 hex digits/],
    [{ hashes: [[7, "abcd1234"]] }, /field `hashes\[0\]\[0\]` must be string/],
    [{ urls: [["a.py", ""]] }, /field `urls\[0\]\[1\]` must not be empty/],
    [{ urls: [["a.py", "https://x/a\n.py"]] }, /field `urls\[0\]\[1\]` must not contain control characters or backslashes/],
    [{ urls: [["a.py", "lib\\a.py"]] }, /control characters or backslashes/],
    [{ urls: "a.py" }, /field `urls` must be Array/],
    [{ deps: [["", "1.0"]] }, /field `deps\[0\]\[0\]` must not be empty/],
    [{ deps: [["foo", 1]] }, /field `deps\[0\]\[1\]` must be string/],
    // `["foo"]` is read leniently (the latest, with a warning); other lengths are still refused.
    [{ deps: [["foo", "1.0", "extra"]] }, /field `deps\[0\]` must be a pair `\[name, version\]`/],
    [{ deps: [[]] }, /field `deps\[0\]` must be a pair `\[name, version\]`/],
    [{ deps: [[null]] }, /field `deps\[0\]\[0\]` must be string/],
  ];
  for (const [value, problem] of cases) {
    assert.throws(() => parse(value), mpipError("bad-metadata", problem, /`https:\/\/raw\.githubusercontent\.com\/org\/repo\/v1\.0\/lib\/package\.json`/), JSON.stringify(value));
  }
});

test("destinations get the same checks as tar entries, before anything is fetched", () => {
  const unsafe: Array<[string, RegExp]> = [
    ["../../x", /`\.\.` segment/],
    ["/etc/x", /absolute/],
    ["a/../../b", /`\.\.` segment/],
    ["C:x", /drive letter/],
    ["c:/x.py", /drive letter/],
    ["a\\b", /backslash/],
    ["ab:c", /`:`/],
    ["a\0b", /NUL/],
    ["a\u0007b", /control character/],
    ["", /empty/],
    [".", /names no file/],
    ["./", /ends in `\/`/],
    ["lib/", /ends in `\/`/],
  ];
  for (const field of ["hashes", "urls"] as const) {
    for (const [dest, reason] of unsafe) {
      const value = field === "hashes" ? { hashes: [["ok.py", "abcd1234"], [dest, "abcd1234"]] } : { urls: [["ok.py", "ok.py"], [dest, "https://x/y.py"]] };
      assert.throws(() => parse(value), mpipError("unsafe-path", reason, new RegExp(`\`${field}\\[1\\]\``), /refused/, /package\.json/), `${field} ${JSON.stringify(dest)}`);
    }
  }
  assert.deepEqual(checkEntryPath("./a//b/./c.py"), { ok: true, path: "a/b/c.py" });
  assert.deepEqual(checkEntryPath("a/../b"), { ok: false, reason: "its path contains a `..` segment" });
});

test("a destination listed twice in one list with two sources is refused; in `hashes` and `urls` it is one file", () => {
  assert.throws(() => parse({ urls: [["a.py", "a.py"], ["./a.py", "b.py"]] }), mpipError("bad-metadata", /field `urls\[1\]\[0\]` names `a\.py` again, already listed at `urls\[0\]`/));
  // The same destination with the same hash is listed twice, not twice with two sources: see "a `[dest, url]` or `[dest, hash]` pair listed twice" below.
  assert.throws(() => parse({ hashes: [["x/a.py", "abcd1234"], ["x//a.py", "abcd9999"]] }), mpipError("bad-metadata", /`hashes\[1\]\[0\]` names `x\/a\.py` again/));
  const doc = parse({ hashes: [["./a.py", "ABCD1234"]], urls: [["a.py", "src/a.py"]] });
  assert.deepEqual(planPackageFiles(doc, { documentUrl: origin.url, hosts }), [
    { dest: "a.py", location: { type: "remote", url: "https://raw.githubusercontent.com/org/repo/v1.0/lib/src/a.py" }, sha256: "abcd1234" },
  ]);
});

test("planning: relative urls resolve against the document's URL, including the ref in it", () => {
  const doc = parse({
    urls: [
      ["pkg/a.py", "a.py"],
      ["pkg/b.py", "sub/b.py"],
      ["pkg/c.py", "../shared/c.py"],
      ["pkg/d.py", "https://example.com/files/d.py"],
      ["pkg/e.py", "http://example.com/e.py"],
    ],
  });
  assert.deepEqual(planPackageFiles(doc, { documentUrl: origin.url, ref: { repo: "github:org/repo", ref: "v1.0" }, hosts }).map((file) => [file.dest, file.location]), [
    ["pkg/a.py", { type: "remote", url: "https://raw.githubusercontent.com/org/repo/v1.0/lib/a.py" }],
    ["pkg/b.py", { type: "remote", url: "https://raw.githubusercontent.com/org/repo/v1.0/lib/sub/b.py" }],
    ["pkg/c.py", { type: "remote", url: "https://raw.githubusercontent.com/org/repo/v1.0/shared/c.py" }],
    ["pkg/d.py", { type: "remote", url: "https://example.com/files/d.py" }],
    ["pkg/e.py", { type: "remote", url: "http://example.com/e.py" }],
  ]);
  // Codeberg's raw API carries the ref in the query: relative entries keep it.
  const codeberg = { documentUrl: "https://codeberg.org/api/v1/repos/o/r/raw/lib/package.json?ref=v2", ref: { repo: "codeberg:o/r", ref: "v2" }, hosts };
  assert.deepEqual(planPackageFiles(parse({ urls: [["a.py", "a.py"]] }), codeberg)[0]!.location, { type: "remote", url: "https://codeberg.org/api/v1/repos/o/r/raw/lib/a.py?ref=v2" });
});

test("planning: shorthand urls into the spec's own repo inherit its ref unless they carry one; other repos and deps do not", () => {
  const doc = parse({
    urls: [["a.py", "github:org/other/a.py"], ["b.py", "gitlab:org/other/src/b.py@pinned"], ["c.py", "codeberg:org/other/c.py"], ["d.py", "github:org/repo/d.py"], ["e.py", "github:Org/Repo/lib/e.py"], ["f.py", "gitlab:org/repo/f.py"]],
    deps: [["github:org/dep", ""], ["github:org/dep2", "v9"], ["plain", "latest"]],
  });
  const withRef = planPackageFiles(doc, { documentUrl: origin.url, ref: { repo: "github:org/repo", ref: "v1.0" }, hosts });
  // Only the spec's own repo (org and repo matched without regard to case, as the forges do) takes its ref.
  assert.deepEqual(withRef.map((file) => file.location), [
    { type: "remote", url: "https://raw.githubusercontent.com/org/other/HEAD/a.py" },
    { type: "remote", url: "https://gitlab.com/org/other/-/raw/pinned/src/b.py" },
    { type: "remote", url: "https://codeberg.org/api/v1/repos/org/other/raw/c.py?ref=HEAD" },
    { type: "remote", url: "https://raw.githubusercontent.com/org/repo/v1.0/d.py" },
    { type: "remote", url: "https://raw.githubusercontent.com/Org/Repo/v1.0/lib/e.py" },
    { type: "remote", url: "https://gitlab.com/org/repo/-/raw/HEAD/f.py" },
  ]);
  const withoutRef = planPackageFiles(doc, { documentUrl: origin.url, hosts });
  assert.equal(withoutRef[0]!.location.type === "remote" && withoutRef[0]!.location.url, "https://raw.githubusercontent.com/org/other/HEAD/a.py");
  assert.deepEqual(dependenciesOf(doc), [{ name: "github:org/dep" }, { name: "github:org/dep2", version: "v9" }, { name: "plain" }]);
  assert.throws(() => planPackageFiles(parse({ urls: [["a.py", "github:org/repo/../x.py"]] }), { documentUrl: origin.url, hosts }), mpipError("bad-metadata", /`urls\[0\]\[1\]` is not a valid shorthand/, /`\.\.` path segment/));
});

test("planning: bare hashes come from the document's v2 index, else the first one configured", () => {
  const doc = parse({ hashes: [["lib/a.py", "ab12cd34"]], urls: [["lib/b.py", "b.py"]] });
  const mip = { base: "https://micropython.org/pi/v2/", flavor: "py" };
  assert.deepEqual(planPackageFiles(doc, { documentUrl: "https://micropython.org/pi/v2/package/py/x/1.0.json", hosts, mip, fallbackMip: "https://other/v2" }), [
    { dest: "lib/a.py", location: { type: "remote", url: "https://micropython.org/pi/v2/file/ab/ab12cd34" }, sha256: "ab12cd34" },
    { dest: "lib/b.py", location: { type: "remote", url: "https://micropython.org/pi/v2/package/py/x/b.py" } },
  ]);
  assert.deepEqual(planPackageFiles(doc, { documentUrl: origin.url, hosts, fallbackMip: "http://127.0.0.1:9/mip" })[0]!.location, { type: "remote", url: "http://127.0.0.1:9/mip/file/ab/ab12cd34" });
  assert.throws(() => planPackageFiles(doc, { documentUrl: origin.url, hosts }), mpipError("not-found", /`lib\/a\.py` \(`hashes\[0\]`\) by hash only/, /no micropython-lib index/));
});

test("planning: urls with other schemes are refused", () => {
  for (const url of ["file:///etc/passwd", "ftp://x/a.py", "C:x.py", "javascript:alert(1)", "data:,x"]) {
    assert.throws(() => planPackageFiles(parse({ urls: [["a.py", url]] }), { documentUrl: origin.url, hosts }), mpipError("bad-metadata", /`urls\[0\]\[1\]`/, /only http, https/), url);
  }
});

test("planning a local document: relative urls are files inside its folder", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const document = path.join(dir, "pkg", "package.json");
  const doc = parse({ urls: [["a.py", "a.py"], ["b/c.py", "./src/c.py"], ["d.py", "github:o/r/d.py"], ["e.py", "https://h/e.py"]] });
  const expected = [
    { dest: "a.py", location: { type: "local", path: path.join(dir, "pkg", "a.py") } },
    { dest: "b/c.py", location: { type: "local", path: path.join(dir, "pkg", "src", "c.py") } },
    { dest: "d.py", location: { type: "remote", url: "https://raw.githubusercontent.com/o/r/main/d.py" } },
    { dest: "e.py", location: { type: "remote", url: "https://h/e.py" } },
  ];
  assert.deepEqual(planPackageFiles(doc, { documentUrl: document, ref: { repo: "github:o/r", ref: "main" }, hosts }), expected);
  assert.deepEqual(planPackageFiles(doc, { documentUrl: pathToFileURL(document).toString(), ref: { repo: "github:o/r", ref: "main" }, hosts }), expected);
  for (const url of ["../secret.py", "src/../../x.py", "/etc/passwd", "."]) {
    assert.throws(() => planPackageFiles(parse({ urls: [["a.py", url]] }), { documentUrl: document, hosts }), mpipError("unsafe-path", /outside the document's folder/), url);
  }
});

// ---- against a real server that serves repos as the forges do ----

let server: IndexServer;
let repos: RepoServer;
const http = new HttpClient({ retries: 0 });

before(async () => {
  server = await startIndexServer();
  repos = serveRepos(server);
});
after(() => server.close());

/** What an install does with a shorthand spec: fetch its document, parse it, plan its files, fetch them. */
async function installFiles(text: string, extra: Partial<PlanContext> = {}) {
  const { spec, ref } = splitRef(text);
  const response = await http.get(expandShorthand(spec, ref, repos.hosts), { accept: "application/json", maxBytes: MAX_METADATA_BYTES });
  assert.equal(response.status, "ok", text);
  if (response.status !== "ok") throw new Error("unreachable");
  const doc = parsePackageDocument(response.body, { url: response.url, index: text });
  const files = planPackageFiles(doc, { documentUrl: response.url, hosts: repos.hosts, ...(ref === undefined ? {} : { ref: { repo: shorthandRepo(spec)!, ref } }), ...extra });
  const fetched = await Promise.all(files.map((file) => fetchFile(file, http, `\`${file.dest}\``, { authority: "the package document" })));
  return { doc, files, contents: Object.fromEntries(files.map((file, index) => [file.dest, fetched[index]!.data.toString()])) };
}

test("a package.json from each forge installs its files, at HEAD and at a ref", async () => {
  const util = "def helper():\n    return 2\n";
  for (const forge of ["github", "gitlab", "codeberg"] as const) {
    repos.addRepo(forge, "org", "lib", "main", {
      "pkg/package.json": JSON.stringify({
        version: "2.0",
        hashes: [["mylib/util.py", sha256(util).slice(0, 8)]],
        urls: [["mylib/__init__.py", "src/init.py"], ["mylib/util.py", "util.py"], ["mylib/extra.py", `${forge}:org/extras/extra.py`]],
        deps: [["github:org/dep", ""]],
      }),
      "pkg/src/init.py": "VERSION = 'main'\n",
      "pkg/util.py": util,
    });
    repos.addRepo(forge, "org", "lib", "v1.0", {
      "pkg/package.json": JSON.stringify({ version: "1.0", urls: [["mylib/__init__.py", "src/init.py"], ["mylib/extra.py", `${forge}:org/extras/extra.py`]] }),
      "pkg/src/init.py": "VERSION = 'v1.0'\n",
    });
    repos.addRepo(forge, "org", "extras", "main", { "extra.py": "EXTRA = 'main'\n" });
    repos.addRepo(forge, "org", "extras", "v1.0", { "extra.py": "EXTRA = 'v1.0'\n" });

    const head = await installFiles(`${forge}:org/lib/pkg`);
    assert.equal(head.doc.version, "2.0");
    assert.deepEqual(head.contents, { "mylib/util.py": util, "mylib/__init__.py": "VERSION = 'main'\n", "mylib/extra.py": "EXTRA = 'main'\n" });
    assert.deepEqual(dependenciesOf(head.doc), [{ name: "github:org/dep" }]);

    // The spec's ref reaches the document and its relative urls; a shorthand into another repo is
    // fetched at that repo's default branch.
    const pinned = await installFiles(`${forge}:org/lib/pkg@v1.0`);
    assert.equal(pinned.doc.version, "1.0");
    assert.deepEqual(pinned.contents, { "mylib/__init__.py": "VERSION = 'v1.0'\n", "mylib/extra.py": "EXTRA = 'main'\n" });
  }
  assert.ok(server.requests.includes("GET /cb/api/v1/repos/org/lib/raw/pkg/src/init.py?ref=v1.0"), server.requests.join("\n"));
  assert.ok(server.requests.includes("GET /gl/org/lib/-/raw/HEAD/pkg/package.json"));
  assert.ok(server.requests.includes("GET /gh/org/extras/HEAD/extra.py"));
  assert.ok(!server.requests.includes("GET /gh/org/extras/v1.0/extra.py"));
});

test("a hash in the document is checked against the file fetched from its url", async () => {
  repos.addRepo("github", "org", "tampered", "main", {
    "package.json": JSON.stringify({ hashes: [["a.py", sha256("print('expected')\n").slice(0, 8)]], urls: [["a.py", "a.py"]] }),
    "a.py": "print('tampered')\n",
  });
  await assert.rejects(installFiles("github:org/tampered"), mpipError("digest-mismatch", /`a\.py`/, /the sha256 in the package document/));
});

test("bare hashes are fetched from the v2 index's file folder and verified", async () => {
  const body = "X = 1\n";
  const hash = sha256(body).slice(0, 8);
  server.routes.push({ name: "mip-file", pattern: /^\/mip\/file\/([0-9a-f]{2})\/([0-9a-f]+)$/, handle: ({ match }) => (match[2] === hash && match[1] === hash.slice(0, 2) ? { status: 200, body: Buffer.from(body) } : { status: 404 }) });
  repos.addRepo("github", "org", "hashed", "main", { "package.json": JSON.stringify({ hashes: [["x.py", hash]] }) });
  const result = await installFiles("github:org/hashed", { fallbackMip: `${server.origin}/mip` });
  assert.deepEqual(result.contents, { "x.py": body });
  assert.ok(server.requests.includes(`GET /mip/file/${hash.slice(0, 2)}/${hash}`));
});

test("the repo server answers 404 for unknown repos, refs and files", async () => {
  for (const url of [`${repos.hosts.github}/org/nope/HEAD/package.json`, `${repos.hosts.github}/org/lib/nope/pkg/package.json`, `${repos.hosts.gitlab}/org/lib/-/raw/main/missing.py`, `${repos.hosts.codeberg}/api/v1/repos/org/lib/raw/pkg/package.json?ref=nope`]) {
    assert.equal((await http.get(url, { maxBytes: 1024 })).status, "not-found", url);
  }
});

test("a local package.json installs files from its own folder", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  await mkdir(path.join(dir, "src"), { recursive: true });
  await writeFile(path.join(dir, "src", "m.py"), "M = 1\n");
  const document = path.join(dir, "package.json");
  await writeFile(document, JSON.stringify({ hashes: [["m.py", sha256("M = 1\n").slice(0, 12)]], urls: [["m.py", "src/m.py"]] }));
  const doc = parsePackageDocument(await readFile(document), { url: document, index: document });
  const [file] = planPackageFiles(doc, { documentUrl: document, hosts });
  assert.deepEqual(file, { dest: "m.py", location: { type: "local", path: path.join(dir, "src", "m.py") }, sha256: sha256("M = 1\n").slice(0, 12) });
  assert.equal((await fetchFile(file!, http, "`m.py`")).data.toString(), "M = 1\n");
});

test("destinations that are one file on a case-insensitive filesystem, or a file and a folder, are refused as in an archive", () => {
  const cases: Array<[object, RegExp, RegExp]> = [
    [{ urls: [["lib/__init__.py", "x.py"], ["LIB/__init__.py", "x.py"]] }, /`LIB\/__init__\.py` \(`urls\[1\]`\), refused: its folder `LIB` differs only by case from the folder `lib`/, /case-insensitive/],
    [{ urls: [["a.py", "x.py"], ["A.py", "x.py"]] }, /`A\.py` \(`urls\[1\]`\), refused: it differs only by case from `a\.py`: .*\(the other is `urls\[0\]`\)/, /one file/],
    [{ hashes: [["Mod.py", "abcd1234"]], urls: [["mod.py", "x.py"]] }, /`mod\.py` \(`urls\[0\]`\), refused: it differs only by case from `Mod\.py`/, /`hashes\[0\]`/],
    [{ urls: [["a", "x.py"], ["a/b.py", "x.py"]] }, /`a\/b\.py` \(`urls\[1\]`\), refused: its folder `a` is also a file \(`urls\[0\]`\)/, /package\.json/],
    [{ urls: [["a/b.py", "x.py"], ["a", "x.py"]] }, /`a` \(`urls\[1\]`\), refused: it is a file where `urls\[0\]` needs the folder `a`$/, /package\.json/],
    [{ urls: [["A/b.py", "x.py"], ["a", "x.py"]] }, /it is a file where `urls\[0\]` needs the folder `A`, which differs from it only by case/, /package\.json/],
    [{ hashes: [["x", "abcd1234"]], urls: [["x/y.py", "y.py"]] }, /`x\/y\.py` \(`urls\[0\]`\), refused: its folder `x` is also a file \(`hashes\[0\]`\)/, /package\.json/],
  ];
  for (const [value, reason, also] of cases) {
    assert.throws(() => parse(value), (error: unknown) => {
      assert.ok(error instanceof MpipError, String(error));
      assert.equal(error.code, "unsafe-path");
      assert.match(error.message, reason);
      assert.match(error.message, also);
      assert.match(error.hint ?? "", /nothing of it was fetched or written/);
      return true;
    }, JSON.stringify(value));
  }
  // The same destination in both lists is one file; folders shared by several files never clash.
  assert.equal(parse({ hashes: [["pkg/a.py", "abcd1234"]], urls: [["pkg/a.py", "a.py"], ["pkg/b.py", "b.py"], ["pkg/sub/c.py", "c.py"]] }).urls.length, 3);
});

test("deps: names must be project names, http(s) URLs or shorthands; versions exact, a ref, `latest` or empty", () => {
  const bad: Array<[[string, string], RegExp]> = [
    [["foo bar", ""], /field `deps\[0\]\[0\]` is `foo bar`, but must be a project name, an http\(s\) URL, or a `github:`/],
    [["foo @ file:///etc/passwd", ""], /field `deps\[0\]\[0\]` is `foo @ file:\/\/\/etc\/passwd`/],
    [["foo; python_version<'3'", ""], /field `deps\[0\]\[0\]`/],
    [["foo>=1.0", ""], /field `deps\[0\]\[0\]`/],
    [["file:///etc/passwd", ""], /field `deps\[0\]\[0\]`/],
    [["ftp://h/x.py", ""], /field `deps\[0\]\[0\]`/],
    [["https://h/a b.py", ""], /field `deps\[0\]\[0\]`/],
    [["-foo", ""], /field `deps\[0\]\[0\]`/],
    [["foo", ">=1.0"], /field `deps\[0\]\[1\]` is `>=1\.0`, but must be an exact version, a git ref, `latest` or empty/],
    [["foo", "1.0; os_name=='nt'"], /field `deps\[0\]\[1\]`/],
    [["foo", "1.0 "], /field `deps\[0\]\[1\]`/],
    [["foo", "1.*"], /field `deps\[0\]\[1\]`/],
    [["foo", "~=1.0"], /field `deps\[0\]\[1\]`/],
    [["foo", "1.0,2.0"], /field `deps\[0\]\[1\]`/],
  ];
  for (const [dep, problem] of bad) {
    assert.throws(() => parse({ deps: [dep] }), mpipError("bad-metadata", problem, /package\.json/), JSON.stringify(dep));
  }
  const good: Array<[string, string]> = [["micropython-foo", "1.0.2"], ["foo.bar_baz", "latest"], ["x", ""], ["github:org/repo/lib", "feature/x"], ["https://h/p/package.json", ""], ["gitlab:o/r@v1", ""], ["y", "1.0+local.1"]];
  assert.deepEqual(parse({ deps: good }).deps, good);
});

test("a document's own problems are blamed on the index, or for a package document on its author", () => {
  const packageDocument = { ...origin, kind: "package document" as const };
  assert.throws(() => parse({ v: 7 }, packageDocument), (error: unknown) => {
    assert.ok(error instanceof MpipError);
    assert.match(error.message, /^the package document `/);
    assert.match(error.hint ?? "", /the package document is malformed; tell the package's author/);
    assert.doesNotMatch(error.hint ?? "", /index/);
    return true;
  });
  assert.throws(() => parse("{oops", packageDocument), (error: unknown) => error instanceof MpipError && /not a package\.json/.test(error.hint ?? "") && !/index/.test(error.hint ?? ""));
  assert.throws(() => parse({ v: 7 }), (error: unknown) => error instanceof MpipError && /the index serves malformed metadata/.test(error.hint ?? ""));
});

test("a local document's file that is a symbolic link out of its folder is refused when read; links inside are fine", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const pkg = path.join(dir, "pkg");
  await mkdir(path.join(pkg, "real"), { recursive: true });
  await writeFile(path.join(dir, "secret.txt"), "SECRET\n");
  await writeFile(path.join(pkg, "real", "ok.py"), "OK = 1\n");
  await symlink("../secret.txt", path.join(pkg, "leak.py"));
  await symlink(dir, path.join(pkg, "updir"));
  await symlink("real/ok.py", path.join(pkg, "inside.py"));
  const doc = parse({ urls: [["leak.py", "leak.py"], ["up.py", "updir/secret.txt"], ["inside.py", "inside.py"], ["link.py", "real/../inside.py"]] });
  const planned = planPackageFiles(doc, { documentUrl: path.join(pkg, "package.json"), hosts });
  const fetch = (index: number) => fetchFile(planned[index]!, http, `\`${planned[index]!.dest}\``, { authority: "the package document", within: pkg });
  for (const index of [0, 1]) {
    await assert.rejects(fetch(index), mpipError("unsafe-path", /symbolic link/, /secret\.txt/, /outside the document's folder/));
  }
  assert.equal((await fetch(2)).data.toString(), "OK = 1\n");
  assert.equal((await fetch(3)).data.toString(), "OK = 1\n");
  // Without `within` (a file the user named), links are followed as usual.
  assert.equal((await fetchFile(planned[0]!, http, "`leak.py`")).data.toString(), "SECRET\n");
});

test("a local file over `maxBytes` is refused before it is read, with the HTTP client's wording; a folder is no file", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const file = path.join(dir, "big.py");
  await writeFile(file, "x".repeat(100));
  const location = { type: "local" as const, path: file };
  assert.equal((await fetchFile({ location }, http, "`big.py`", { maxBytes: 100 })).data.length, 100);
  await assert.rejects(fetchFile({ location }, http, "`big.py`", { maxBytes: 99 }), (error: unknown) => {
    assert.ok(error instanceof MpipError);
    assert.equal(error.code, "limit-exceeded");
    assert.ok(isTooLarge(error, 99), error.message);
    return true;
  });
  await assert.rejects(fetchFile({ location: { type: "local", path: dir } }, http, "`dir`"), mpipError("io", /not a regular file/));
});

describe("a `[dest, url]` or `[dest, hash]` pair listed twice", () => {
  test("the same pair again is listed once, with a warning naming both entries", () => {
    const cases: Array<[object, Array<[string, string]>, Array<[string, string]>, RegExp]> = [
      [{ urls: [["a.py", "a.py"], ["a.py", "a.py"]] }, [], [["a.py", "a.py"]], /lists `a\.py` twice, at `urls\[0\]` and `urls\[1\]`, with the same URL: installed once/],
      [{ urls: [["./lib//a.py", "./src/a.py"], ["lib/a.py", "src/x/../a.py"]] }, [], [["lib/a.py", "./src/a.py"]], /`lib\/a\.py` twice/],
      [{ urls: [["a.py", "https://H.example/x/./a.py"], ["b.py", "b.py"], ["a.py", "https://h.example/x/a.py"]] }, [], [["a.py", "https://H.example/x/./a.py"], ["b.py", "b.py"]], /at `urls\[0\]` and `urls\[2\]`/],
      [{ urls: [["a.py", "github:o/r/a.py@v1"], ["a.py", "github:o/r/a.py@v1"]] }, [], [["a.py", "github:o/r/a.py@v1"]], /with the same URL/],
      [{ hashes: [["a.py", "ABCD1234"], ["a.py", "abcd1234"]] }, [["a.py", "abcd1234"]], [], /at `hashes\[0\]` and `hashes\[1\]`, with the same hash/],
      [{ hashes: [["a.py", "abcd1234"], ["a.py", "abcd12345678"]] }, [["a.py", "abcd12345678"]], [], /with the same hash/],
    ];
    for (const [value, hashes, urls, warning] of cases) {
      const doc = parse(value);
      assert.deepEqual([doc.hashes, doc.urls], [hashes, urls], JSON.stringify(value));
      assert.equal(doc.warnings?.length, 1, JSON.stringify(value));
      assert.match(doc.warnings![0]!, warning);
      assert.match(doc.warnings![0]!, /^the metadata `https:\/\/raw\.githubusercontent\.com\/org\/repo\/v1\.0\/lib\/package\.json`/);
    }
    assert.equal(parse({ urls: [["a.py", "a.py"]] }).warnings, undefined);
  });

  test("one destination with two sources is still an error, whatever the spelling", () => {
    const cases: object[] = [
      { urls: [["a.py", "a.py"], ["a.py", "b.py"]] },
      { urls: [["a.py", "a.py"], ["a.py", "../a.py"]] },
      { urls: [["a.py", "github:o/r/a.py@v1"], ["a.py", "github:o/r/a.py@v2"]] },
      { urls: [["a.py", "https://h/a.py"], ["./a.py", "https://h/b.py"]] },
      { hashes: [["a.py", "abcd1234"], ["a.py", "abcd1235"]] },
    ];
    for (const value of cases) {
      assert.throws(() => parse(value), mpipError("bad-metadata", /names `a\.py` again, already listed at `(urls|hashes)\[0\]` with another (URL|hash)/), JSON.stringify(value));
    }
  });
});

describe("a dependency written with no version", () => {
  test("`[name]`, `[name, null]` and a bare `name` mean the latest, each with a warning", () => {
    const doc = parse({ deps: [["alpha"], ["github:o/r/lib", null], "gamma", ["delta", ""], ["eps", "latest"], ["zeta", "1.0"]] });
    assert.deepEqual(doc.deps, [["alpha", ""], ["github:o/r/lib", ""], ["gamma", ""], ["delta", ""], ["eps", "latest"], ["zeta", "1.0"]]);
    assert.deepEqual(dependenciesOf(doc), [{ name: "alpha" }, { name: "github:o/r/lib" }, { name: "gamma" }, { name: "delta" }, { name: "eps" }, { name: "zeta", version: "1.0" }]);
    assert.equal(doc.warnings?.length, 3);
    for (const [index, name] of [[0, "alpha"], [1, "github:o/r/lib"], [2, "gamma"]] as const) {
      assert.ok(doc.warnings![index]!.includes(`lists the dependency \`${name}\` with no version (\`deps[${index}]\`): installing the latest`), doc.warnings![index]);
    }
  });

  test("the name still gets every check", () => {
    assert.throws(() => parse({ deps: [["foo bar"]] }), mpipError("bad-metadata", /field `deps\[0\]\[0\]` is `foo bar`/));
    assert.throws(() => parse({ deps: ["file:///etc/passwd"] }), mpipError("bad-metadata", /field `deps\[0\]\[0\]`/));
    assert.throws(() => parse({ deps: [""] }), mpipError("bad-metadata", /field `deps\[0\]\[0\]` must not be empty/));
    assert.throws(() => parse({ deps: [7] }), mpipError("bad-metadata", /field `deps\[0\]`/));
  });
});

describe("a local document inside a git clone", () => {
  test("localDocumentRoot: the nearest folder at or above the document that holds `.git` (folder or file), else its own folder", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    await mkdir(path.join(dir, "clone", ".git"), { recursive: true });
    await mkdir(path.join(dir, "clone", "a", "b", "sub", "pkg"), { recursive: true });
    await writeFile(path.join(dir, "clone", "a", "b", "sub", ".git"), "gitdir: ../../../.git/modules/sub\n");
    await mkdir(path.join(dir, "plain", "pkg"), { recursive: true });
    assert.equal(await localDocumentRoot(path.join(dir, "clone", "a", "b", "package.json")), path.join(dir, "clone"));
    assert.equal(await localDocumentRoot(path.join(dir, "clone", "package.json")), path.join(dir, "clone"));
    assert.equal(await localDocumentRoot(path.join(dir, "clone", "a", "b", "sub", "pkg", "package.json")), path.join(dir, "clone", "a", "b", "sub"));
    assert.equal(await localDocumentRoot(path.join(dir, "plain", "pkg", "package.json")), path.join(dir, "plain", "pkg"));
  });

  test("planning: relative urls may reach up to the clone's folder, never beyond it", () => {
    const root = path.join(path.sep, "home", "me", "clone");
    const document = path.join(root, "packaging", "mip", "package.json");
    const doc = parse({ urls: [["x.py", "../../src/x.py"], ["y.py", "../y.py"], ["z.py", "z.py"]] });
    assert.deepEqual(planPackageFiles(doc, { documentUrl: document, hosts, localRoot: root }).map((file) => file.location), [
      { type: "local", path: path.join(root, "src", "x.py") },
      { type: "local", path: path.join(root, "packaging", "y.py") },
      { type: "local", path: path.join(root, "packaging", "mip", "z.py") },
    ]);
    for (const url of ["../../../x.py", "../../../clone2/x.py", "../..", "/etc/passwd"]) {
      assert.throws(() => planPackageFiles(parse({ urls: [["a.py", url]] }), { documentUrl: document, hosts, localRoot: root }), mpipError("unsafe-path", /outside the git clone `\/home\/me\/clone` that holds the document/), url);
    }
    // Without a clone, the document's own folder is the limit, as before.
    assert.throws(() => planPackageFiles(parse({ urls: [["a.py", "../y.py"]] }), { documentUrl: document, hosts }), mpipError("unsafe-path", /outside the document's folder/));
  });

  test("planning: nothing inside a `.git` folder, in the clone or beside the document, however it is spelled", () => {
    const root = path.join(path.sep, "home", "me", "clone");
    const document = path.join(root, "packaging", "mip", "package.json");
    for (const url of ["../../.git/config", "../../.GIT/config", "../../.git./config", "../../.git /config", "../../src/../.git/HEAD", ".git/config", "sub/.git/config", "../../lib/.git"]) {
      assert.throws(() => planPackageFiles(parse({ urls: [["a.py", url]] }), { documentUrl: document, hosts, localRoot: root }), mpipError("unsafe-path", /inside a `\.git` folder/), url);
    }
    // Outside a clone too: a `.git` beside the document is git's data as well.
    assert.throws(() => planPackageFiles(parse({ urls: [["a.py", ".git/config"]] }), { documentUrl: document, hosts }), mpipError("unsafe-path", /inside a `\.git` folder/));
    // Names that only contain `.git` are files like any other.
    assert.equal(planPackageFiles(parse({ urls: [["a.py", "../../.github/a.py"], ["b.py", "x.git/b.py"], ["c.py", ".gitignore"]] }), { documentUrl: document, hosts, localRoot: root }).length, 3);
  });

  test("reading: a symbolic link to git's data is refused, and a link out of the clone names the clone", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const clone = path.join(dir, "clone");
    const pkg = path.join(clone, "packaging");
    await mkdir(path.join(clone, ".git"), { recursive: true });
    await mkdir(pkg, { recursive: true });
    await writeFile(path.join(clone, ".git", "config"), "url = https://user:TOKEN@example.com/r.git\n");
    await writeFile(path.join(dir, "secret.txt"), "SECRET\n");
    await symlink("../.git/config", path.join(pkg, "cfg.py"));
    await symlink("../.git", path.join(pkg, "gitdir"));
    await symlink("../../secret.txt", path.join(pkg, "leak.py"));
    const document = path.join(pkg, "package.json");
    const root = await localDocumentRoot(document);
    const planned = planPackageFiles(parse({ urls: [["cfg.py", "cfg.py"], ["g.py", "gitdir/config"], ["leak.py", "leak.py"]] }), { documentUrl: document, hosts, localRoot: root });
    const fetch = (index: number, withinName?: string) => fetchFile(planned[index]!, http, `\`${planned[index]!.dest}\``, { authority: "the package document", within: root, ...(withinName === undefined ? {} : { withinName }) });
    for (const index of [0, 1]) await assert.rejects(fetch(index), mpipError("unsafe-path", /symbolic link/, /inside a `\.git` folder/));
    await assert.rejects(fetch(2, "the git clone that holds the document"), mpipError("unsafe-path", /symbolic link/, /outside the git clone that holds the document/));
  });
});
