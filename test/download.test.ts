// `mpip download`: resolves as install does and writes a folder that is itself an index. The proof is
// the air-gapped round trip: serve a graph that mixes sdists (PyPI's JSON API), micropython-lib v2
// packages and a package.json repo, with dependencies across them; install it normally; download it;
// switch the server off; install from the folder into a fresh target; the two trees are byte-identical.
// Also: the folder's layout is micropython-lib's, downloads add to a folder deterministically, a folder
// holding other bytes under a name is refused with nothing written, and hostile names stay inside.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex, type MipPackageSpec } from "./helpers/mip-index.js";
import { serveRepos, type RepoServer } from "./helpers/repo-server.js";
import { buildSdist, type SdistSpec } from "./helpers/sdist.js";
import { writeTree } from "./helpers/expect.js";

interface Graph {
  dir: string;
  server: IndexServer;
  mip: MipIndex;
  repos: RepoServer;
  /** The forge hosts pointed at the test server. */
  env: NodeJS.ProcessEnv;
  /** `-i` for the v2 index, then the JSON API. */
  indexes: string[];
  /** Each sdist's bytes as served, by file name. */
  sdists: Map<string, Buffer>;
}

const SDISTS: SdistSpec[] = [
  { name: "sensor-kit", version: "2.1", files: { "sensor_kit/__init__.py": "from sensor_kit.core import read\n", "sensor_kit/core.py": "def read():\n    return 42\n", "sensor_kit/cal.dat": "\x00\x01calibration" }, requires: ["bus-io>=1.0"] },
  { name: "bus-io", version: "1.0", files: { "bus_io.py": "SPEED = 100\n" } },
  { name: "bus-io", version: "1.2", files: { "bus_io.py": "SPEED = 400\n", "bus_io_dma.py": "DMA = True\n" } },
];

const V2: MipPackageSpec[] = [
  { name: "ringbuf", version: "0.3", files: { "ringbuf.py": "class Ring:\n    pass\n" } },
  { name: "ringbuf", version: "0.4", files: { "ringbuf.py": "class Ring:\n    size = 4\n" } },
  { name: "telemetry", version: "1.0", files: { "telemetry/__init__.py": "import ringbuf\n", "telemetry/pack.py": "FMT = '<I'\n" }, deps: [["ringbuf", "0.3"], ["sensor-kit", ""]] },
];

/** A server with the whole graph, and the widget repo whose package.json depends on both worlds. */
async function graph(t: TestContext): Promise<Graph> {
  const { dir, cleanup } = await tempDir("mpip-download-");
  const server = await startIndexServer();
  t.after(async () => {
    await server.close();
    await cleanup();
  });
  const mip = serveMipIndex(server);
  for (const spec of V2) await mip.publish({ mpy: false, ...spec });
  const sdists = new Map<string, Buffer>();
  for (const spec of SDISTS) {
    const body = await buildSdist(spec);
    sdists.set(`${spec.name}-${spec.version}.tar.gz`, body);
    server.addFile(spec.name, spec.version, { filename: `${spec.name}-${spec.version}.tar.gz`, body });
  }
  const repos = serveRepos(server);
  repos.addRepo("github", "acme", "widget", "main", {
    "package.json": JSON.stringify({ version: "0.9", urls: [["widget/__init__.py", "widget/__init__.py"], ["widget/draw.py", "github:acme/widget/widget/draw.py"]], deps: [["telemetry", "latest"], ["github:acme/fonts", "v2"]] }),
    "widget/__init__.py": "from widget.draw import line\n",
    "widget/draw.py": "def line():\n    return '-'\n",
  });
  repos.addRepo("github", "acme", "fonts", "v2", { "package.json": JSON.stringify({ version: "2.0", urls: [["fonts/small.py", "small.py"]] }), "small.py": "GLYPHS = 5\n" });
  const env = { MPIP_GITHUB_URL: repos.hosts.github, MPIP_GITLAB_URL: repos.hosts.gitlab, MPIP_CODEBERG_URL: repos.hosts.codeberg };
  return { dir, server, mip, repos, env, indexes: ["-i", mip.base, "-i", server.url], sdists };
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

function mpip(g: Graph, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runMpip(args, { env: { ...g.env, ...env } });
}

describe("download, then install with the network off", () => {
  test("a graph of sdists, v2 packages and a package.json repo: the install from the folder is byte-identical", async (t) => {
    const g = await graph(t);
    const specs = ["github:acme/widget@main", "bus-io<1.2"];
    const served = path.join(g.dir, "served");
    const normal = await mpip(g, ["install", "--no-record", "-p", served, ...g.indexes, ...specs]);
    assert.equal(normal.code, 0, normal.stderr);
    const expected = await snapshot(served);
    assert.deepEqual(Object.keys(expected).filter((name) => !name.endsWith("/")), [
      "bus_io.py", "fonts/small.py", "ringbuf.py", "sensor_kit/__init__.py", "sensor_kit/cal.dat", "sensor_kit/core.py", "telemetry/__init__.py", "telemetry/pack.py", "widget/__init__.py", "widget/draw.py",
    ]);
    const recorded = path.join(g.dir, "recorded");
    assert.equal((await mpip(g, ["install", "-p", recorded, ...g.indexes, ...specs])).code, 0);

    const folder = path.join(g.dir, "offline index");
    const result = await mpip(g, ["download", "-d", folder, ...g.indexes, ...specs]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Downloaded 6 packages into `.*offline index` in [\d.]+s \(\d+ files written\)$/m);
    assert.ok(result.stderr.includes(" + sensor-kit==2.1 (from " + g.server.url + ") as sensor-kit-2.1.tar.gz"), result.stderr);
    assert.ok(result.stderr.includes(` + telemetry==1.0 (from ${g.mip.base}) as package/py/telemetry/1.0.json and 2 files`), result.stderr);
    assert.ok(result.stderr.includes(" + widget==0.9 (from github:acme/widget@main) as package/py/widget/0.9.json and 2 files"), result.stderr);
    assert.match(result.stderr, /^Install from it with no network: `mpip install -i .*offline index \.\.\.`$/m);

    await g.server.close();
    const offline = path.join(g.dir, "offline");
    const again = await mpip(g, ["install", "--no-record", "-p", offline, "-i", folder, "widget", "bus-io<1.2"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await snapshot(offline), expected);
    // With records too, each package's metadata is the same; only where it came from differs.
    const offlineRecorded = path.join(g.dir, "offline-recorded");
    assert.equal((await mpip(g, ["install", "-p", offlineRecorded, "-i", folder, "widget", "bus-io<1.2"])).code, 0);
    for (const file of (await listFiles(recorded)).filter((name) => name.endsWith("/METADATA"))) {
      const ours = await readFile(path.join(offlineRecorded, file), "utf8");
      const theirs = await readFile(path.join(recorded, file), "utf8");
      // A dependency given as a URL is recorded as one; from the folder it is the package of that name.
      assert.equal(ours, theirs.replace(/^Requires-Dist: fonts @ .*$/m, "Requires-Dist: fonts==2.0"), file);
    }
    // The sdists alone, as a --find-links folder.
    const sdistsOnly = path.join(g.dir, "sdists-only");
    const viaLinks = await mpip(g, ["install", "--no-record", "-p", sdistsOnly, "--no-index", "-f", folder, "sensor-kit", "bus-io<1.2"]);
    assert.equal(viaLinks.code, 0, viaLinks.stderr);
    assert.deepEqual(await listFiles(sdistsOnly), ["bus_io.py", "sensor_kit/__init__.py", "sensor_kit/cal.dat", "sensor_kit/core.py"]);
    // A mip package of the folder is not an sdist: `-f` cannot find it, and the hint says to give the folder with `-i`.
    const mipViaLinks = await mpip(g, ["install", "--no-record", "-p", path.join(g.dir, "mip-via-links"), "--no-index", "-f", folder, "telemetry"]);
    assert.equal(mipViaLinks.code, 1, mipViaLinks.stderr);
    assert.match(mipViaLinks.stderr, /error: package `telemetry` was not found in `[^`]*index`/);
    assert.ok(mipViaLinks.stderr.includes(`\`${folder}\` is also a micropython-lib (v2) index (it holds index.json, as \`mpip download\` writes): \`-f\` reads only its sdists; install its mip packages with \`-i ${folder}\``), mipViaLinks.stderr);
  });

  test("the folder is laid out as micropython-lib's publisher lays out its index, and the sdists as served", async (t) => {
    const g = await graph(t);
    const folder = path.join(g.dir, "dl");
    const result = await mpip(g, ["download", "--json", "-d", folder, ...g.indexes, "telemetry", "github:acme/fonts@v2"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.flavor, "py");
    assert.deepEqual(report.packages.map((pkg: { name: string; version: string; kind: string }) => `${pkg.name} ${pkg.version} ${pkg.kind}`), ["telemetry 1.0 mip", "fonts 2.0 mip", "ringbuf 0.3 mip", "sensor-kit 2.1 sdist", "bus-io 1.2 sdist"]);
    const files = await listFiles(folder);
    assert.deepEqual(files.filter((name) => !name.startsWith("file/")), [
      "bus-io-1.2.tar.gz", "index.json",
      "package/py/fonts/2.0.json", "package/py/fonts/latest.json",
      "package/py/ringbuf/0.3.json", "package/py/ringbuf/latest.json",
      "package/py/telemetry/1.0.json", "package/py/telemetry/latest.json",
      "sensor-kit-2.1.tar.gz",
    ]);
    assert.deepEqual(report.written.slice().sort(), files.slice().sort());
    for (const name of ["bus-io-1.2.tar.gz", "sensor-kit-2.1.tar.gz"]) assert.ok((await readFile(path.join(folder, name))).equals(g.sdists.get(name)!), name);
    // Each v2 document is the index's own, byte for byte, where the index served one.
    for (const [name, version] of [["telemetry", "1.0"], ["ringbuf", "0.3"]] as const) {
      const ours = await readFile(path.join(folder, "package/py", name, `${version}.json`), "utf8");
      assert.equal(ours, g.mip.tree.get(`package/py/${name}/${version}.json`)!.toString("utf8"), name);
      assert.equal(await readFile(path.join(folder, "package/py", name, "latest.json"), "utf8"), ours);
    }
    // A package.json's files are hashed and named as build.py names them.
    const fonts = JSON.parse(await readFile(path.join(folder, "package/py/fonts/2.0.json"), "utf8"));
    const small = sha256(Buffer.from("GLYPHS = 5\n"));
    assert.deepEqual(fonts, { v: 1, hashes: [["fonts/small.py", small.slice(0, 8)]], version: "2.0" });
    assert.equal(await readFile(path.join(folder, "file", small.slice(0, 2), small.slice(0, 8)), "utf8"), "GLYPHS = 5\n");
    for (const file of files.filter((name) => name.startsWith("file/"))) {
      const short = path.basename(file);
      assert.match(file, /^file\/[0-9a-f]{2}\/[0-9a-f]{8}$/);
      assert.ok(sha256(await readFile(path.join(folder, file))).startsWith(short), file);
    }
    const index = JSON.parse(await readFile(path.join(folder, "index.json"), "utf8"));
    assert.equal(index.v, 2);
    assert.deepEqual(index.packages.map((entry: { name: string; version: string; versions: object }) => [entry.name, entry.version, entry.versions]), [
      ["fonts", "2.0", { py: ["2.0"] }],
      ["ringbuf", "0.3", { py: ["0.3"] }],
      ["telemetry", "1.0", { py: ["1.0"] }],
    ]);
    assert.match(await readFile(path.join(folder, "index.json"), "utf8"), /^\{\n {2}"v": 2,\n {2}"updated": \d+,\n {2}"packages": \[\n/);
  });

  test("for a firmware: the .mpy flavor is downloaded, and installs from the folder with the same --mpy", async (t) => {
    const g = await graph(t);
    await g.mip.publish({ name: "mathx", version: "1.1", files: { "mathx/__init__.py": "def sq(x):\n    return x * x\n" } });
    const served = path.join(g.dir, "served");
    assert.equal((await mpip(g, ["install", "--no-record", "-p", served, "--mpy", "6", ...g.indexes, "mathx"])).code, 0);
    const folder = path.join(g.dir, "dl");
    const result = await mpip(g, ["download", "-d", folder, "--mpy", "6", ...g.indexes, "mathx"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /`mpip install -i .*dl --mpy 6 \.\.\.`/);
    assert.ok((await listFiles(folder)).includes("package/6/mathx/1.1.json"));
    await g.server.close();
    const offline = path.join(g.dir, "offline");
    const again = await mpip(g, ["install", "--no-record", "-p", offline, "--mpy", "6", "-i", folder, "mathx"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await snapshot(offline), await snapshot(served));
    assert.deepEqual(await listFiles(offline), ["mathx/__init__.mpy"]);
  });
});

describe("download: every kind of source", () => {
  test("a single module and a project folder are kept too: the module as a v2 package, the project as its packed sdist", async (t) => {
    const g = await graph(t);
    const project = await writeTree(path.join(g.dir, "src", "station"), {
      "pyproject.toml": '[project]\nname = "station"\nversion = "0.2"\ndependencies = ["bus-io"]\n',
      "station/__init__.py": "from station.R import R\nMOTD = R['motd.txt']\n",
      "station/motd.txt": "hello\n",
    });
    const specs = ["github:acme/fonts/small.py@v2", project];
    const served = path.join(g.dir, "served");
    assert.equal((await mpip(g, ["install", "--no-record", "-p", served, ...g.indexes, ...specs])).code, 0);
    const folder = path.join(g.dir, "dl");
    const result = await mpip(g, ["download", "--json", "-d", folder, ...g.indexes, ...specs]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).packages.map((pkg: { name: string; kind: string; files: string[] }) => [pkg.name, pkg.kind, pkg.files[0]]), [
      ["small", "mip", "package/py/small/latest.json"],
      ["station", "sdist", "station-0.2.tar.gz"],
      ["bus-io", "sdist", "bus-io-1.2.tar.gz"],
    ]);
    await g.server.close();
    const offline = path.join(g.dir, "offline");
    const again = await mpip(g, ["install", "--no-record", "-p", offline, "-i", folder, "small", "station"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await snapshot(offline), await snapshot(served));
  });
});

describe("downloading into a folder that holds a download", () => {
  test("adds to it: index.json merged in a fixed order, the same bytes as one download of everything", async (t) => {
    const g = await graph(t);
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const stepwise = path.join(g.dir, "stepwise");
    for (const spec of ["telemetry", "ringbuf==0.4", "github:acme/fonts@v2"]) {
      const result = await mpip(g, ["download", "-d", stepwise, ...g.indexes, spec], env);
      assert.equal(result.code, 0, `${spec}: ${result.stderr}`);
    }
    const atOnce = path.join(g.dir, "at once");
    // Another order of the same requests: ringbuf 0.4 first, then what telemetry pins.
    assert.equal((await mpip(g, ["download", "-d", atOnce, ...g.indexes, "ringbuf==0.4", "github:acme/fonts@v2"], env)).code, 0);
    assert.equal((await mpip(g, ["download", "-d", atOnce, ...g.indexes, "telemetry"], env)).code, 0);
    assert.deepEqual(await snapshot(atOnce), await snapshot(stepwise));
    const index = JSON.parse(await readFile(path.join(stepwise, "index.json"), "utf8"));
    assert.deepEqual(index.packages.map((entry: { name: string }) => entry.name), ["fonts", "ringbuf", "telemetry"]);
    assert.deepEqual(index.packages[1].versions, { py: ["0.3", "0.4"] });
    assert.equal(index.packages[1].version, "0.4");
    assert.equal(index.updated, 1700000000);
    // latest.json follows the highest version the folder holds.
    assert.equal(await readFile(path.join(stepwise, "package/py/ringbuf/latest.json"), "utf8"), await readFile(path.join(stepwise, "package/py/ringbuf/0.4.json"), "utf8"));
    // Downloading again changes nothing, `updated` included.
    const before = await snapshot(stepwise);
    const again = await mpip(g, ["download", "--json", "-d", stepwise, ...g.indexes, "telemetry", "github:acme/fonts@v2"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).written, []);
    assert.deepEqual(await snapshot(stepwise), before);
    // Both versions install from the folder.
    await g.server.close();
    for (const [spec, expected] of [["ringbuf", "size = 4"], ["ringbuf==0.3", "pass"]] as const) {
      const target = path.join(g.dir, `image-${spec}`);
      const result = await mpip(g, ["install", "--no-record", "-p", target, "-i", stepwise, spec]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(await readFile(path.join(target, "ringbuf.py"), "utf8"), new RegExp(expected));
    }
  });

  test("a file the folder holds with other bytes is an error, and nothing is written", async (t) => {
    const g = await graph(t);
    const folder = path.join(g.dir, "dl");
    assert.equal((await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.3"])).code, 0);
    await writeFile(path.join(folder, "bus-io-1.2.tar.gz"), "not the sdist the index serves\n");
    const before = await snapshot(g.dir);
    const result = await mpip(g, ["download", "-d", folder, ...g.indexes, "sensor-kit", "ringbuf==0.4"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^error: `.*bus-io-1\.2\.tar\.gz` is already there with other bytes than the sdist of `bus-io 1\.2` from `http:\/\/127\.0\.0\.1:\d+\/pypi`; nothing was written$/m);
    assert.match(result.stderr, /^hint: download into another folder, or remove that file from this one first$/m);
    assert.deepEqual(await snapshot(g.dir), before);
    // A release published again with other files: its locked document is not rewritten.
    await writeFile(path.join(folder, "bus-io-1.2.tar.gz"), g.sdists.get("bus-io-1.2.tar.gz")!);
    const document = JSON.parse(await readFile(path.join(folder, "package/py/ringbuf/0.3.json"), "utf8"));
    document.hashes[0][1] = "0badc0de";
    await writeFile(path.join(folder, "package/py/ringbuf/0.3.json"), JSON.stringify(document));
    const locked = await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.3", "sensor-kit"]);
    assert.equal(locked.code, 1, locked.stderr);
    assert.match(locked.stderr, /package\/py\/ringbuf\/0\.3\.json` is already there with other bytes than `ringbuf 0\.3`/);
    // An index.json that is not a v2 index's.
    await writeFile(path.join(folder, "package/py/ringbuf/0.3.json"), g.mip.tree.get("package/py/ringbuf/0.3.json")!);
    await writeFile(path.join(folder, "index.json"), JSON.stringify({ projects: [] }));
    const notIndex = await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.4"]);
    assert.equal(notIndex.code, 1);
    assert.match(notIndex.stderr, /index\.json` is not a micropython-lib index\.json/);
    // Nearly a v2 index: a `null` or a list where an object belongs is refused the same way, not a crash.
    for (const packages of [[null], [{ name: "ringbuf", versions: null }], [{ name: "ringbuf", versions: [["0.3"]] }], [["ringbuf"]], [{ name: "ringbuf", versions: { py: "0.3" } }]]) {
      await writeFile(path.join(folder, "index.json"), JSON.stringify({ v: 2, updated: 1, packages }));
      const untouched = await snapshot(g.dir);
      const nearly = await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.4"]);
      assert.equal(nearly.code, 1, `${JSON.stringify(packages)}: ${nearly.stderr}`);
      assert.match(nearly.stderr, /index\.json` is not a micropython-lib index\.json/);
      assert.doesNotMatch(nearly.stderr, /This is a bug/);
      assert.deepEqual(await snapshot(g.dir), untouched);
    }
    // A v2 index.json listing what no package can be (copied into the index this run writes): refused.
    for (const [packages, said] of [
      [[{ name: "../../x", versions: { py: ["1.0"] } }], /lists the package `\.\.\/\.\.\/x`, which is no package name/],
      [[{ name: "<b>bold</b>", versions: {} }], /which is no package name/],
      [[{ name: "ringbuf", versions: { py: ["0.3", "<script>"] } }], /lists `<script>` for `ringbuf`, which is no PEP 440 version/],
    ] as const) {
      await writeFile(path.join(folder, "index.json"), JSON.stringify({ v: 2, updated: 1, packages }));
      const untouched = await snapshot(g.dir);
      const bogus = await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.4"]);
      assert.equal(bogus.code, 1, `${JSON.stringify(packages)}: ${bogus.stderr}`);
      assert.match(bogus.stderr, said);
      assert.deepEqual(await snapshot(g.dir), untouched);
    }
  });
});

describe("downloading into a folder planted with a document of the same release", () => {
  test("a document kept as the release it names must name files that hold this release's bytes: other bytes are an error, nothing written", async (t) => {
    const g = await graph(t);
    const folder = path.join(g.dir, "planted");
    // The document says what the download fetches (its short hash a prefix of the real file's sha256), the file it names does not.
    const served = JSON.parse(g.mip.tree.get("package/py/ringbuf/0.3.json")!.toString()) as { hashes: Array<[string, string]> };
    const short = served.hashes[0]![1].slice(0, 4);
    await mkdir(path.join(folder, "package", "py", "ringbuf"), { recursive: true });
    await mkdir(path.join(folder, "file", short.slice(0, 2)), { recursive: true });
    await writeFile(path.join(folder, "package", "py", "ringbuf", "0.3.json"), JSON.stringify({ v: 1, hashes: [["ringbuf.py", short]], version: "0.3" }));
    await writeFile(path.join(folder, "file", short.slice(0, 2), short), "print('not ringbuf')\n");
    const before = await snapshot(g.dir);
    const result = await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.3"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`error: \`file/${short.slice(0, 2)}/${short}\` in \`.*planted\`, which the \`package/py/ringbuf/0\\.3\\.json\` there names for \`ringbuf\\.py\` of \`ringbuf 0\\.3\`, holds other bytes`));
    assert.deepEqual(await snapshot(g.dir), before);
    // The file it names a link to a file with other bytes (never followed), or missing: refused the same way.
    await writeFile(path.join(folder, "evil.py"), "print('not ringbuf')\n");
    await rm(path.join(folder, "file", short.slice(0, 2), short));
    await symlink("../../evil.py", path.join(folder, "file", short.slice(0, 2), short));
    const linked = await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.3"]);
    assert.equal(linked.code, 1, linked.stderr);
    assert.match(linked.stderr, /names for `ringbuf\.py` of `ringbuf 0\.3`, is not a regular file; nothing was written/);
    await rm(path.join(folder, "file", short.slice(0, 2), short));
    const missing = await mpip(g, ["download", "-d", folder, ...g.indexes, "ringbuf==0.3"]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /names for `ringbuf\.py` of `ringbuf 0\.3`, is not there; nothing was written/);
  });
});

describe("download: names and usage", () => {
  test("names and versions from a hostile package.json never leave the folder", async (t) => {
    const g = await graph(t);
    g.repos.addRepo("github", "acme", "sly", "main", {
      "package.json": JSON.stringify({ version: "../../../../escaped", urls: [["sly.py", "sly.py"]], deps: [["github:acme/sly/lib/wéird", "main"]] }),
      "sly.py": "S = 1\n",
      "lib/wéird/package.json": JSON.stringify({ urls: [["weird.py", "w.py"]] }),
      "lib/wéird/w.py": "W = 1\n",
    });
    const folder = path.join(g.dir, "dl");
    // The dependency's name comes from its folder, `wéird`, made a name (`weird`: package-spec.ts
    // nameFromFile), under which a v2 index can hold it; the version stays a document's text, inside it.
    const result = await mpip(g, ["download", "-d", folder, "-i", g.mip.base, "github:acme/sly"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^ \+ weird \(from github:acme\/sly\/lib\/wéird@main\)/m);
    assert.deepEqual((await listFiles(g.dir)).filter((file) => !file.startsWith("dl/file/")), ["dl/index.json", "dl/package/py/sly/latest.json", "dl/package/py/weird/latest.json"]);
    assert.ok((await listFiles(g.dir)).every((file) => file.startsWith("dl/")));
    assert.equal(JSON.parse(await readFile(path.join(folder, "package/py/sly/latest.json"), "utf8")).version, "../../../../escaped");
  });

  test("-d is required and must be a folder on this machine; the options that build an image are not taken", async (t) => {
    const g = await graph(t);
    const missing = await mpip(g, ["download", "ringbuf"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '-d, --dest <dir>' not specified/);
    assert.match(missing.stderr, /^usage: mpip download \[options\] -d <dir> \[spec\.\.\.\]$/m, "the usage line shows the required option");
    const url = await mpip(g, ["download", "-d", "https://example.invalid/dl", "ringbuf"]);
    assert.equal(url.code, 2);
    assert.match(url.stderr, /\(given with --dest\) is a URL, but this takes a folder on this machine/);
    // One option of each group of install's that builds an image (src/cli-options.ts: `target`, `firmware`,
    // `image`); download takes none of those groups, and each is refused by the same unknown-option check.
    for (const option of ["-p", "--compile", "-U"]) {
      const result = await mpip(g, ["download", "-d", path.join(g.dir, "dl"), option, "ringbuf"]);
      assert.equal(result.code, 2, option);
      assert.match(result.stderr, /unknown option/);
    }
    await writeFile(path.join(g.dir, "a-file"), "x");
    const file = await mpip(g, ["download", "-d", path.join(g.dir, "a-file"), "ringbuf"]);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /\(given with --dest\) is a file; a download is written into a folder/);
    await rm(path.join(g.dir, "a-file"));
    const none = await mpip(g, ["download", "-d", path.join(g.dir, "dl")]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no packages to download/);
    assert.deepEqual(await snapshot(g.dir), {});
  });
});
