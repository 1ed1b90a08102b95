// A file that comes with no hash to check it against is never installed silently: each source kind that can
// lack one (PyPI JSON without `digests.sha256`, a simple-API link without `#sha256=`, a package document's
// `urls` entry with no `hashes` entry, a URL or shorthand given without `#sha256=`) draws one warning per
// file, naming the package and the file, in plan order whatever the network timing, and in --json's
// `warnings`. --require-hashes makes each of them an error (`hash-required`) that changes nothing. Local
// files (--find-links, paths, a local package.json's files) cross no network and need no hash.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir, type RunResult } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { notFound, startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { serveRepos, type RepoServer } from "../helpers/repo-server.js";
import { buildSdist } from "../helpers/sdist.js";
import { serveSimple } from "../helpers/simple-index.js";

const sha = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

let server: IndexServer;
let mip: MipIndex;
let repos: RepoServer;
let simple: string;
let simpleHtml: string;
let env: NodeJS.ProcessEnv;
let work: { dir: string; cleanup: () => Promise<void> };
const plain = new Map<string, Buffer>();
let links: string;

const SDIST = { name: "nohash", version: "1.0", files: { "nohash.py": "N = 1\n" } };

before(async () => {
  work = await tempDir("mpip-hashes-");
  server = await startIndexServer();
  server.routes.unshift({
    name: "plain",
    pattern: /^\/plain\/(.+)$/,
    handle: ({ match }) => {
      const body = plain.get(decodeURIComponent(match[1]!));
      return body === undefined ? notFound() : { status: 200, headers: { "Content-Type": "application/octet-stream" }, body };
    },
  });
  simple = serveSimple(server);
  simpleHtml = serveSimple(server, { prefix: "/html/simple", html: true });
  mip = serveMipIndex(server);
  repos = serveRepos(server);
  env = { MPIP_GITHUB_URL: repos.hosts.github, MPIP_GITLAB_URL: repos.hosts.gitlab, MPIP_CODEBERG_URL: repos.hosts.codeberg };

  // Served with no digest (PyPI JSON) and no #sha256= (simple API), and two that have one.
  const body = await buildSdist(SDIST);
  server.addFile("nohash", "1.0", { filename: "nohash-1.0.tar.gz", body, sha256: null });
  await server.addSdist({ name: "hashed", version: "1.0", files: { "hashed.py": "H = 1\n" }, requires: ["nohash", "alsonohash"] });
  server.addFile("alsonohash", "2.0", { filename: "alsonohash-2.0.tar.gz", body: await buildSdist({ name: "alsonohash", version: "2.0", files: { "alsonohash.py": "A = 2\n" } }), sha256: null });

  // A v2 index document whose `urls` entries have no `hashes` entry, beside one hashed file.
  await mip.publish({ name: "mixed", version: "1.0", files: { "mixed/__init__.py": "M = 1\n" }, urls: [["mixed/b.py", `${server.origin}/plain/b.py`], ["mixed/a.py", `${server.origin}/plain/a.py`]], mpy: false });
  plain.set("a.py", Buffer.from("A = 1\n"));
  plain.set("b.py", Buffer.from("B = 1\n"));
  await mip.publish({ name: "clean", version: "1.0", files: { "clean.py": "C = 1\n" }, mpy: false });

  // Direct URLs: an sdist, a module and a package.json.
  plain.set("dl/direct-1.0.tar.gz", await buildSdist({ name: "direct", version: "1.0", files: { "direct.py": "D = 1\n" } }));
  plain.set("mod.py", Buffer.from("MOD = 1\n"));
  plain.set("doc/package.json", Buffer.from(JSON.stringify({ version: "1.0", urls: [["doc.py", "doc.py"]], hashes: [["doc.py", sha("DOC = 1\n")]] })));
  plain.set("doc/doc.py", Buffer.from("DOC = 1\n"));

  // A repo: its package.json (fetched by shorthand, which has no place for a hash) lists one unhashed file.
  const init = "R = 1\n";
  repos.addRepo("github", "acme", "repo", "main", {
    "package.json": JSON.stringify({ version: "1.0", urls: [["repo/__init__.py", "repo/__init__.py"], ["repo/extra.py", "repo/extra.py"]], hashes: [["repo/__init__.py", sha(init)]] }),
    "repo/__init__.py": init,
    "repo/extra.py": "E = 1\n",
  });

  // Local: a folder of sdists and a local package.json whose files have no hashes.
  links = path.join(work.dir, "links");
  await writeTree(links, { "nohash-1.0.tar.gz": body });
  await writeTree(path.join(work.dir, "localpkg"), { "package.json": JSON.stringify({ urls: [["local.py", "local.py"]] }), "local.py": "L = 1\n" });
  await writeTree(work.dir, { "localmod.py": "LM = 1\n" });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

interface Report {
  packages: Array<{ name: string }>;
  warnings: string[];
}

let counter = 0;
async function install(...args: string[]): Promise<RunResult & { target: string }> {
  const target = path.join(work.dir, `image-${++counter}`);
  const result = await runMpip(["install", "-p", target, ...args], { env });
  return { ...result, target };
}

function warningLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("warning: ")).map((line) => line.slice("warning: ".length));
}

/** Installs with --json: exit 0, the same warnings on stderr and in the report, which are returned. */
async function warningsOf(...args: string[]): Promise<string[]> {
  const result = await install("--json", ...args);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as Report;
  assert.deepEqual(warningLines(result.stderr), report.warnings);
  return report.warnings;
}

/** With --require-hashes: exit 1, `hash-required` naming the file, the target not created, that file not fetched. Returns the message. */
async function refused(unverifiable: RegExp, fragments: string[], ...args: string[]): Promise<string> {
  const before = await snapshot(work.dir);
  const requested = server.requests.length;
  const result = await install("--json", "--require-hashes", ...args);
  assert.equal(result.code, 1, result.stderr);
  const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string; hint: string } };
  assert.equal(error.code, "hash-required");
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${JSON.stringify(fragment)} not in ${error.message}`);
  assert.match(error.message, /--require-hashes is set; nothing was installed/);
  assert.ok(error.hint.length > 0);
  assert.match(result.stderr, /^hint: /m);
  assert.deepEqual(await snapshot(work.dir), before, "nothing written");
  const fetched = server.requests.slice(requested).filter((request) => unverifiable.test(request));
  assert.deepEqual(fetched, [], "the unverifiable file was not downloaded");
  return error.message;
}

describe("files with no hash: one warning each, naming the package and the file", () => {
  test("PyPI JSON without digests.sha256", async () => {
    const warnings = await warningsOf("-i", server.url, "nohash");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^`nohash 1\.0` \(`nohash-1\.0\.tar\.gz`\) from `http:\/\/127\.0\.0\.1:\d+\/files\/nohash\/1\.0\/nohash-1\.0\.tar\.gz` is not verified: the index `http:\/\/127\.0\.0\.1:\d+\/pypi` gives no sha256 for it \(--require-hashes refuses such a file\)$/);
  });

  test("a simple-API link without #sha256=, as JSON (PEP 691) and as HTML (PEP 503)", async () => {
    for (const index of [simple, simpleHtml]) {
      const warnings = await warningsOf("-i", index, "nohash");
      assert.equal(warnings.length, 1, index);
      assert.ok(warnings[0]!.includes(`the index \`${index}\` gives no sha256 for it`), warnings[0]);
      assert.ok(warnings[0]!.startsWith("`nohash 1.0` (`nohash-1.0.tar.gz`)"), warnings[0]);
    }
  });

  test("a package document's `urls` entries with no hash, in the document's order, and none for its hashed file", async () => {
    const warnings = await warningsOf("-i", mip.base, "mixed", "clean");
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^`mixed\/b\.py` of `mixed 1\.0` \(`1\.0\.json`\) from `.*\/plain\/b\.py` is not verified: the package document `.*\/package\/py\/mixed\/1\.0\.json` lists it in `urls` with no hash in `hashes`/);
    assert.match(warnings[1]!, /^`mixed\/a\.py` of `mixed 1\.0`/);
  });

  test("a URL given without #sha256=: an sdist, a module, a package.json (whose own hashed file is fine)", async () => {
    // The three kinds in one install: each is prepared on its own and draws its own warning, so one run
    // checks them all; then the same three with their hashes draw none.
    const files = ["dl/direct-1.0.tar.gz", "mod.py", "doc/package.json"];
    const urls = files.map((file) => `${server.origin}/plain/${file}`);
    const warnings = await warningsOf("--no-index", ...urls);
    assert.equal(warnings.length, files.length, warnings.join("\n"));
    for (const url of urls) {
      const own = warnings.filter((warning) => warning.includes(`from \`${url}\` `));
      assert.equal(own.length, 1, `${url}: ${warnings.join("\n")}`);
      assert.ok(own[0]!.includes(`from \`${url}\` is not verified: its URL carries no \`#sha256=\``), own[0]);
    }
    assert.deepEqual(await warningsOf("--no-index", ...files.map((file, i) => `${urls[i]}#sha256=${sha(plain.get(file)!)}`)), [], "with their hashes");
  });

  test("a repository shorthand, which carries no hash, and its document's unhashed file", async () => {
    const warnings = await warningsOf("--no-index", "github:acme/repo");
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0]!, /^`repo` \(`package\.json`\) from `.*\/acme\/repo\/HEAD\/package\.json` is not verified: `github:acme\/repo` is a repository shorthand, which carries no hash/);
    assert.match(warnings[1]!, /^`repo\/extra\.py` of `repo` \(`package\.json`\) from `.*\/repo\/extra\.py` is not verified: the package document/);
  });

  test("local files need no hash: a --find-links folder, a local package.json, a local module", async () => {
    // The three kinds in one install (each prepared on its own), without and with --require-hashes.
    const args = ["--no-index", "-f", links, "nohash", path.join(work.dir, "localpkg"), path.join(work.dir, "localmod.py")];
    const report = await install("--json", ...args);
    assert.equal(report.code, 0, report.stderr);
    assert.deepEqual(warningLines(report.stderr), []);
    const { packages, warnings } = JSON.parse(report.stdout) as Report;
    assert.deepEqual(warnings, []);
    assert.equal(packages.length, 3, JSON.stringify(packages));
    const result = await install("--require-hashes", ...args);
    assert.equal(result.code, 0, result.stderr);
  });

  test("an index that gives every hash draws no warning, with or without --require-hashes", async () => {
    assert.deepEqual(await warningsOf("-i", mip.base, "clean"), []);
    const result = await install("--require-hashes", "-i", mip.base, "clean");
    assert.equal(result.code, 0, result.stderr);
  });

  test("warnings come in plan order, whatever order the downloads finish in", async () => {
    // hashed (has a hash) requires nohash and alsonohash (none): two warnings, in that order, every time.
    const seen = new Set<string>();
    // Each of the two finish orders once (one holds nohash back, the other alsonohash).
    for (let run = 0; run < 2; run++) {
      server.delayFor = (requestPath) => (requestPath.includes(run % 2 === 0 ? "alsonohash" : "/nohash") ? 150 : 0);
      try {
        const result = await install("--json", "-i", server.url, "hashed");
        assert.equal(result.code, 0, result.stderr);
        const report = JSON.parse(result.stdout) as Report;
        assert.deepEqual(report.packages.map((pkg) => pkg.name), ["hashed", "nohash", "alsonohash"]);
        assert.equal(report.warnings.length, 2);
        assert.ok(report.warnings[0]!.startsWith("`nohash 1.0`") && report.warnings[1]!.startsWith("`alsonohash 2.0`"), report.warnings.join("\n"));
        seen.add(JSON.stringify(report.warnings));
      } finally {
        delete server.delayFor;
      }
    }
    assert.equal(seen.size, 1);
  });
});

describe("--require-hashes", () => {
  test("refuses a file from an index that gives no hash (PyPI JSON, simple JSON and HTML)", async () => {
    for (const index of [server.url, simple, simpleHtml]) {
      await refused(/\/files\/nohash\//, ["`nohash 1.0` (`nohash-1.0.tar.gz`)", `the index \`${index}\` gives no sha256 for it`], "-i", index, "nohash");
    }
  });

  test("refuses a dependency with no hash even when the package asked for has one", async () => {
    // Both dependencies of `hashed` lack a hash and are prepared at once: the refusal names the one whose
    // metadata came first, with its own file (which of the two is a race of the network, not mpip's choice).
    const message = await refused(/\/files\/(also)?nohash\//, [], "-i", server.url, "hashed");
    assert.match(message, /^`(nohash 1\.0` \(`nohash-1\.0\.tar\.gz`\)|alsonohash 2\.0` \(`alsonohash-2\.0\.tar\.gz`\)) from `[^`]*\/files\/(also)?nohash\//);
  });

  test("refuses a package document's unhashed `urls` entry", async () => {
    await refused(/\/plain\/[ab]\.py/, ["`mixed/b.py` of `mixed 1.0`", "lists it in `urls` with no hash in `hashes`"], "-i", mip.base, "mixed");
  });

  test("refuses URLs without #sha256= and repository shorthands, and takes them with a hash", async () => {
    for (const file of ["dl/direct-1.0.tar.gz", "mod.py", "doc/package.json"]) {
      const url = `${server.origin}/plain/${file}`;
      await refused(new RegExp(`/plain/${file.replace(/[.]/g, "\\.")}$`), [`from \`${url}\``, "its URL carries no `#sha256=`"], "--no-index", url);
    }
    // All three with their hashes, in one install.
    const hashed = ["dl/direct-1.0.tar.gz", "mod.py", "doc/package.json"].map((file) => `${server.origin}/plain/${file}#sha256=${sha(plain.get(file)!)}`);
    const result = await install("--require-hashes", "--no-index", ...hashed);
    assert.equal(result.code, 0, result.stderr);
    await refused(/\/acme\/repo\//, ["`github:acme/repo` is a repository shorthand"], "--no-index", "github:acme/repo");
  });

  test("is in --help", async () => {
    const result = await runMpip(["install", "--help"]);
    assert.match(result.stdout, /--require-hashes\s+refuse any file downloaded with no hash/);
  });
});
