// `mpip install` end to end: the built CLI against a real PyPI-JSON index server on 127.0.0.1,
// serving sdists built on the fly, checked on disk.

import assert from "node:assert/strict";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { buildSdist, buildWheelStub } from "./helpers/sdist.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let target: string;
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir();
  await publishAll(server);
});
after(async () => {
  await server.close();
  await work.cleanup();
});
beforeEach(() => {
  target = path.join(work.dir, `target-${++counter}`);
});

const mod = (name: string, body = "") => `# ${name}\n${body}`;

async function publishAll(index: IndexServer): Promise<void> {
  await index.addSdist({ name: "solo", version: "1.0", files: { "solo.py": mod("solo", "VALUE = 1\n") } });
  // A 3-level chain: chain-a -> chain-b -> chain-c
  await index.addSdist({ name: "chain-a", version: "1.0", files: { "chain_a.py": mod("a") }, requires: ["chain-b"] });
  await index.addSdist({ name: "chain-b", version: "1.0", files: { "chain_b.py": mod("b") }, requires: ["chain-c"] });
  await index.addSdist({ name: "chain-c", version: "1.0", files: { "chain_c.py": mod("c") } });
  // A diamond: top -> left, right -> bottom
  await index.addSdist({ name: "top", version: "1.0", files: { "top.py": mod("top") }, requires: ["left", "right"] });
  await index.addSdist({ name: "left", version: "1.0", files: { "left.py": mod("left") }, requires: ["bottom>=1.0"] });
  await index.addSdist({ name: "right", version: "1.0", files: { "right.py": mod("right") }, requires: ["bottom"] });
  await index.addSdist({ name: "bottom", version: "1.0", files: { "bottom.py": mod("bottom 1.0") } });
  await index.addSdist({ name: "bottom", version: "1.1", files: { "bottom.py": mod("bottom 1.1") } });
  // A cycle: ping <-> pong
  await index.addSdist({ name: "ping", version: "1.0", files: { "ping.py": mod("ping") }, requires: ["pong"] });
  await index.addSdist({ name: "pong", version: "1.0", files: { "pong.py": mod("pong") }, requires: ["ping"] });
  // Versions, pre-releases, yanked files
  for (const version of ["1.0", "1.5", "2.0", "2.1rc1"]) await index.addSdist({ name: "multi", version, files: { "multi.py": `V = "${version}"\n` } });
  await index.addSdist({ name: "onlypre", version: "0.1b1", files: { "onlypre.py": `V = "0.1b1"\n` } });
  await index.addSdist({ name: "yanky", version: "1.0", files: { "yanky.py": `V = "1.0"\n` } });
  await index.addSdist({ name: "yanky", version: "1.1", files: { "yanky.py": `V = "1.1"\n` } }, { yanked: true });
  // A missing dependency in the middle of a chain
  await index.addSdist({ name: "broken-a", version: "1.0", files: { "broken_a.py": mod("a") }, requires: ["broken-b"] });
  await index.addSdist({ name: "broken-b", version: "1.0", files: { "broken_b.py": mod("b") }, requires: ["no-such-package"] });
  // Only a wheel
  index.addFile("wheelonly", "1.0", { filename: "wheelonly-1.0-py3-none-any.whl", body: buildWheelStub("wheelonly", "1.0"), packagetype: "bdist_wheel" });
  // A 32 KiB window archive
  const random = Buffer.alloc(6000);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  const far = Buffer.concat([random, Buffer.from("x".repeat(100)), random]);
  await index.addSdist({ name: "bigwindow", version: "1.0", files: { "bigwindow/__init__.py": "", "bigwindow/blob.bin": far } }, { windowBits: 15 });
  // upip's skip rules
  await index.addSdist({
    name: "skippy",
    version: "1.0",
    files: {
      "setup.py": "raise SystemExit",
      "setup.cfg": "[metadata]",
      "README.md": "read me",
      "README": "read me",
      "PKG-INFO": "Name: skippy",
      "LICENSE": "MIT",
      "skippy/__init__.py": "",
      "skippy/data/page.html": "<p>hi</p>",
      "skippy/setup.py": "# kept: only top-level setup.* is skipped",
    },
  });
  // Long names, written as pax and as GNU records
  const long = `longnames/${"deep_folder_name/".repeat(6)}module_with_a_long_name.py`;
  await index.addSdist({ name: "paxnames", version: "1.0", files: { [long.replace("longnames", "paxnames")]: "X = 1\n" } }, { format: "pax" });
  await index.addSdist({ name: "gnunames", version: "1.0", files: { [long.replace("longnames", "gnunames")]: "X = 1\n" } }, { format: "gnu" });
  // requires.txt with comments, extras and markers
  await index.addSdist({
    name: "fancy",
    version: "1.0",
    files: { "fancy.py": "" },
    requires: [
      "# a comment",
      "solo  # trailing comment",
      "",
      'chain-c; implementation_name == "micropython"',
      'left; implementation_name == "cpython"',
      "[:python_version < \"3.0\"]",
      "right",
      "[tests]",
      "pong",
    ],
  });
  // Requires-Dist in PKG-INFO when there is no requires.txt
  await index.addSdist({ name: "modern", version: "1.0", files: { "modern.py": "" }, requiresDist: ["solo (>=1.0)", 'ping; extra == "dev"'] });
  // Conflicting requirements
  await index.addSdist({ name: "wants-old", version: "1.0", files: { "wants_old.py": "" }, requires: ["multi<2"] });
  await index.addSdist({ name: "wants-new", version: "1.0", files: { "wants_new.py": "" }, requires: ["multi>=2"] });
  // Hostile: a member that climbs out of the target
  await index.addSdist({ name: "escaper", version: "1.0", files: { "escaper.py": "" } }, { extraEntries: [{ name: "escaper-1.0/../../evil.py", type: "file", content: "pwned" }] });
  await index.addSdist({ name: "linker", version: "1.0", files: { "linker.py": "" } }, { extraEntries: [{ name: "linker-1.0/link.py", type: "symlink", linkname: "/etc/passwd" }] });
}

const install = (...args: string[]) => runMpip(["install", "--no-record", "-i", server.url, "-p", target, ...args]);

describe("mpip install from a PyPI JSON index", () => {
  test("installs one package and says so", async () => {
    const result = await install("solo");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["solo.py"]);
    assert.equal(await readFile(path.join(target, "solo.py"), "utf8"), "# solo\nVALUE = 1\n");
    assert.match(result.stderr, /Installed 1 package into `.*target-\d+`/);
    assert.match(result.stderr, /\+ solo==1\.0/);
    assert.equal(result.stdout, "");
  });

  test("follows a 3-level chain", async () => {
    const result = await install("chain-a");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["chain_a.py", "chain_b.py", "chain_c.py"]);
  });

  test("installs a diamond's shared dependency once, at the highest version all accept", async () => {
    const result = await install("top");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["bottom.py", "left.py", "right.py", "top.py"]);
    assert.equal(await readFile(path.join(target, "bottom.py"), "utf8"), "# bottom 1.1\n");
    assert.equal(result.stderr.match(/\+ bottom==/g)?.length, 1);
  });

  test("ends a dependency cycle", async () => {
    const result = await install("ping");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["ping.py", "pong.py"]);
  });

  test("honours == and range specifiers, and skips pre-releases", async () => {
    const cases: Array<[string, string]> = [["multi", "2.0"], ["multi==1.0", "1.0"], ["multi>=1.0,<2", "1.5"], ["multi~=1.0", "1.5"], ["multi!=2.0", "1.5"]];
    for (const [spec, expected] of cases) {
      target = path.join(work.dir, `target-${++counter}`);
      const result = await install(spec);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, "multi.py"), "utf8"), `V = "${expected}"\n`, spec);
    }
  });

  test("takes pre-releases with --pre, when pinned, or when nothing else matches", async () => {
    for (const [args, file, expected] of [[["--pre", "multi"], "multi.py", "2.1rc1"], [["multi==2.1rc1"], "multi.py", "2.1rc1"], [["onlypre"], "onlypre.py", "0.1b1"]] as const) {
      target = path.join(work.dir, `target-${++counter}`);
      const result = await install(...args);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, file), "utf8"), `V = "${expected}"\n`);
    }
  });

  test("skips yanked files unless the version is pinned", async () => {
    let result = await install("yanky");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(target, "yanky.py"), "utf8"), `V = "1.0"\n`);
    target = path.join(work.dir, `target-${++counter}`);
    result = await install("yanky==1.1");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(target, "yanky.py"), "utf8"), `V = "1.1"\n`);
  });

  test("a version conflict names who asked for what, and changes nothing", async () => {
    const result = await install("wants-old", "wants-new");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: no version of `multi` matches `multi<2,>=2`/);
    assert.match(result.stderr, /`wants-old 1\.0` \(`multi<2`\)/);
    assert.match(result.stderr, /`wants-new 1\.0` \(`multi>=2`\)/);
    assert.deepEqual(await snapshot(path.dirname(target)).then((tree) => Object.keys(tree).filter((name) => name.startsWith(path.basename(target)))), []);
  });

  test("a later requirement that the chosen version fails is a conflict", async () => {
    const result = await install("multi==2.0", "wants-old");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: `wants-old 1\.0` requires `multi<2`, but `multi 2\.0` was already chosen for the command line \(`multi==2\.0`\)/);
    // The hint shows every requirement on the name at once, not one side that fails the other.
    assert.match(result.stderr, /^hint: every requirement on `multi` must hold at once \(`multi==2\.0,<2`\): if a version meets them all, ask for it on the command line/m);
    assert.match(result.stderr, /if none does, these packages cannot be installed together/);
  });

  test("a missing package is a clear error with exit 1 and no stack trace", async () => {
    const result = await install("no-such-package");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: package `no-such-package` was not found in `http:\/\/127\.0\.0\.1:\d+\/pypi`$/m);
    assert.match(result.stderr, /^hint: check the spelling/m);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    const debug = await install("no-such-package", "--debug");
    assert.match(debug.stderr, /\n\s+at /);
  });

  test("a missing dependency mid-chain leaves the target exactly as it was", async () => {
    await mkdir(path.join(target, "keep"), { recursive: true });
    await writeFile(path.join(target, "keep", "mine.py"), "mine");
    await writeFile(path.join(target, "broken_a.py"), "old a");
    const before = await snapshot(target);
    const result = await install("broken-a");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /`no-such-package` was not found/);
    assert.deepEqual(await snapshot(target), before);
    assert.deepEqual((await readdir(path.dirname(target))).filter((name) => name.includes("mpip-staging")), []);
  });

  test("a release with only a wheel is a clear error listing what it has", async () => {
    const result = await install("wheelonly");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: `wheelonly 1\.0` has no \.tar\.gz source distribution \(sdist\) on `http:\/\/127\.0\.0\.1:\d+\/pypi`; it has `wheelonly-1\.0-py3-none-any\.whl` \(bdist_wheel\)/);
  });

  test("an archive needing a 32 KiB window installs with a warning, and fails with --strict-window", async () => {
    let result = await install("bigwindow");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /warning: `bigwindow 1\.0` \(`bigwindow-1\.0\.tar\.gz`\) needs a 32 KiB inflate window .* cannot be installed on a small device/);
    assert.deepEqual(await listFiles(target), ["bigwindow/__init__.py", "bigwindow/blob.bin"]);
    target = path.join(work.dir, `target-${++counter}`);
    result = await install("--strict-window", "bigwindow");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: `bigwindow 1\.0` .* needs a 32 KiB inflate window/);
    assert.deepEqual(await listFiles(target), []);
  });

  test("applies upip's skip rules exactly", async () => {
    const result = await install("skippy");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["LICENSE", "skippy/__init__.py", "skippy/data/page.html", "skippy/setup.py"]);
  });

  test("applies pax and GNU long names and never writes their records as files", async () => {
    const result = await install("paxnames", "gnunames");
    assert.equal(result.code, 0, result.stderr);
    const deep = `${"deep_folder_name/".repeat(6)}module_with_a_long_name.py`;
    assert.deepEqual(await listFiles(target), [`gnunames/${deep}`, `paxnames/${deep}`]);
  });

  test("reads requires.txt with comments, extras sections and markers", async () => {
    const result = await install("fancy");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["chain_c.py", "fancy.py", "solo.py"]);
  });

  test("falls back to Requires-Dist in PKG-INFO", async () => {
    const result = await install("modern");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["modern.py", "solo.py"]);
  });

  test("--no-deps installs only the named package", async () => {
    const result = await install("--no-deps", "chain-a");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["chain_a.py"]);
  });

  test("-r reads requirements files, ignoring comments and blank lines", async () => {
    const file = path.join(work.dir, `reqs-${counter}.txt`);
    await writeFile(file, "# device image\nsolo\n\nmulti==1.0  # pinned\n");
    const result = await install("-r", file, "ping");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["multi.py", "ping.py", "pong.py", "solo.py"]);
    assert.equal(await readFile(path.join(target, "multi.py"), "utf8"), `V = "1.0"\n`);
  });

  test("replaces files that already exist, keeps the others", async () => {
    await mkdir(target, { recursive: true });
    await writeFile(path.join(target, "solo.py"), "old");
    await writeFile(path.join(target, "other.py"), "other");
    const result = await install("solo");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(target, "solo.py"), "utf8"), "# solo\nVALUE = 1\n");
    assert.equal(await readFile(path.join(target, "other.py"), "utf8"), "other");
  });

  test("refuses an archive member that climbs out of the target, writing nothing", async () => {
    const result = await install("escaper");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: refused entry `escaper-1\.0\/\.\.\/\.\.\/evil\.py` of `escaper 1\.0` .*: its path contains a `\.\.` segment/);
    assert.deepEqual(await listFiles(target), []);
    assert.deepEqual((await readdir(work.dir)).filter((name) => name.includes("evil")), []);
  });

  test("refuses symlinks in archives", async () => {
    const result = await install("linker");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /refused entry `linker-1\.0\/link\.py` of `linker 1\.0`.*: it is a symlink entry/);
  });

  test("--json prints a machine-readable report on stdout", async () => {
    const result = await install("--json", "chain-b");
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.target, target);
    assert.deepEqual(report.packages.map((pkg: { name: string; version: string }) => `${pkg.name}==${pkg.version}`), ["chain-b==1.0", "chain-c==1.0"]);
    const [first] = report.packages;
    assert.match(first.sha256, /^[0-9a-f]{64}$/);
    assert.equal(first.source, server.url);
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+\/files\/.*chain-b-1\.0\.tar\.gz$/);
    assert.deepEqual(first.files, ["chain_b.py"]);
    assert.deepEqual(first.requestedBy, ["the command line"]);
    const failed = await install("--json", "no-such-package");
    assert.equal(failed.code, 1);
    assert.deepEqual(Object.keys(JSON.parse(failed.stdout)), ["ok", "error"]);
    assert.equal(JSON.parse(failed.stdout).error.code, "not-found");
  });
});

describe("mpip install: indexes and sources", () => {
  test("tries indexes in order: a 404 on the first means try the second", async () => {
    const second = await startIndexServer();
    try {
      await second.addSdist({ name: "elsewhere", version: "3.0", files: { "elsewhere.py": "" } });
      const result = await runMpip(["install", "--no-record", "-i", server.url, "--extra-index-url", second.url, "-p", target, "elsewhere", "solo"]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(target), ["elsewhere.py", "solo.py"]);
      assert.match(result.stderr, new RegExp(`\\+ elsewhere==3\\.0 \\(from ${second.url.replace(/[.]/g, "\\.")}\\)`));
    } finally {
      await second.close();
    }
  });

  test("falls back to the per-version document when `releases` is missing", async () => {
    const index = await startIndexServer();
    try {
      await index.addSdist({ name: "norel", version: "1.0", files: { "norel.py": `V = "1.0"\n` } });
      await index.addSdist({ name: "norel", version: "2.0", files: { "norel.py": `V = "2.0"\n` } });
      index.omitReleases("norel");
      let result = await runMpip(["install", "--no-record", "-i", index.url, "-p", target, "norel"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, "norel.py"), "utf8"), `V = "2.0"\n`);
      result = await runMpip(["install", "--no-record", "-i", index.url, "-p", target, "norel==1.0"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, "norel.py"), "utf8"), `V = "1.0"\n`);
      // The pin counts wherever it stands among the requirements on the name.
      target = path.join(work.dir, `target-${++counter}`);
      result = await runMpip(["install", "--no-record", "-i", index.url, "-p", target, "norel", "norel==1.0"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, "norel.py"), "utf8"), `V = "1.0"\n`);
      assert.ok(index.requests.includes("GET /pypi/norel/1.0/json"));
    } finally {
      await index.close();
    }
  });

  test("follows the index's redirect from a non-normalized name", async () => {
    const result = await install("Chain_C");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["chain_c.py"]);
  });

  test("--find-links installs from a local folder with no index", async () => {
    const folder = path.join(work.dir, "links");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "local-a-1.0.tar.gz"), await buildSdist({ name: "local-a", version: "1.0", files: { "local_a.py": "" }, requires: ["local-b"] }));
    await writeFile(path.join(folder, "local-b-0.9.tar.gz"), await buildSdist({ name: "local-b", version: "0.9", files: { "local_b.py": "V = 0.9\n" } }));
    await writeFile(path.join(folder, "local-b-1.0.tar.gz"), await buildSdist({ name: "local-b", version: "1.0", files: { "local_b.py": "V = 1.0\n" } }));
    await writeFile(path.join(folder, "notes.txt"), "not a package");
    const result = await runMpip(["install", "--no-record", "--no-index", "-f", folder, "-p", target, "local-a"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["local_a.py", "local_b.py"]);
    assert.equal(await readFile(path.join(target, "local_b.py"), "utf8"), "V = 1.0\n");
  });

  test("installs into ~/.micropython/lib by default, as upip does", async () => {
    const home = path.join(work.dir, `home-${counter}`);
    await mkdir(home);
    const result = await runMpip(["install", "--no-record", "-i", server.url, "solo"], { env: { HOME: home, MICROPYPATH: "" } });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(home), [".micropython/lib/solo.py"]);
  });

  test("with MICROPYPATH set, installs into its first folder, as upip installs into sys.path[1]", async () => {
    const home = path.join(work.dir, `home-${counter}`);
    await mkdir(home);
    const result = await runMpip(["install", "--no-record", "-i", server.url, "solo"], { env: { HOME: home, MICROPYPATH: `.frozen:~/mp/lib:${home}/other` } });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(home), ["mp/lib/solo.py"]);
  });

  test("an index URL without a scheme is a usage error that does not print its credentials", async () => {
    const result = await runMpip(["install", "--no-record", "-p", target, "-i", "user:s3cret@example.invalid/pypi", "--json", "solo"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error: `\*\*\*@example\.invalid\/pypi` is not an http or https URL/);
    assert.doesNotMatch(result.stderr + result.stdout, /s3cret/);
  });

  test("an archive whose top folder is `.` installs as upip installs it", async () => {
    const index = await startIndexServer();
    try {
      await index.addSdist({ name: "dotted", version: "1.0", files: { "dotted.py": "D = 1\n", "setup.py": "raise SystemExit" }, requires: ["elsewhere"] }, { topFolder: "." });
      await index.addSdist({ name: "elsewhere", version: "1.0", files: { "elsewhere.py": "" } });
      const result = await runMpip(["install", "--no-record", "-i", index.url, "-p", target, "dotted"]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(target), ["dotted.py", "elsewhere.py"]);
    } finally {
      await index.close();
    }
  });

  test("a wrong sha256 from the index is an error and nothing is written", async () => {
    const index = await startIndexServer();
    try {
      index.addFile("tampered", "1.0", { filename: "tampered-1.0.tar.gz", body: await buildSdist({ name: "tampered", version: "1.0", files: { "tampered.py": "" } }), sha256: "0".repeat(64) });
      const result = await runMpip(["install", "--no-record", "-i", index.url, "-p", target, "tampered"]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /error: `tampered 1\.0` .* does not match the index's sha256 \(expected 0{64}, got [0-9a-f]{64}\); nothing of it was written/);
      assert.deepEqual(await listFiles(target), []);
    } finally {
      await index.close();
    }
  });

  test("gives the same plan, files and output whatever the network timing", async () => {
    // Each run answers requests after a different pseudo-random delay, so responses arrive in another order.
    const outputs = new Set<string>();
    const stderrs = new Set<string>();
    for (const seed of [0, 1, 2]) {
      let state = seed * 7919 + 1;
      server.delayFor = () => (seed === 0 ? 0 : ((state = (state * 48271) % 2147483647) % 30));
      target = path.join(work.dir, "deterministic");
      await rm(target, { recursive: true, force: true });
      const result = await install("--json", "top", "chain-a", "ping", "fancy");
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      outputs.add(JSON.stringify(report.packages.map((pkg: { name: string; files: string[] }) => [pkg.name, pkg.files])));
      const quiet = await install("-v", "top", "chain-a", "ping", "fancy");
      stderrs.add(quiet.stderr.replace(/ in \d+\.\d+s/, ""));
    }
    delete server.delayFor;
    assert.equal(stderrs.size, 1, [...stderrs].join("\n---\n"));
    assert.equal(outputs.size, 1);
    const [only] = [...outputs];
    assert.deepEqual(JSON.parse(only!).map((entry: [string]) => entry[0]), ["top", "chain-a", "ping", "fancy", "left", "right", "chain-b", "pong", "solo", "chain-c", "bottom"]);
  });
});
