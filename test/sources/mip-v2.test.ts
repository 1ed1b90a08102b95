import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, beforeEach, describe, test } from "node:test";
import { isMpipError, type MpipError } from "../../src/errors.js";
import { HttpClient } from "../../src/http.js";
import { hashedFileUrl, MipV2Source, UNVERSIONED } from "../../src/sources/mip-v2.js";
import type { Artifact, ProjectListing } from "../../src/sources/types.js";
import { parseRequirement } from "../../src/spec/requirement.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type Compile, type MipIndex } from "../helpers/mip-index.js";
import { runMicroPython } from "../helpers/micropython.js";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { parseMipDependency, parsePackageSpec, type PackageSpec } from "../../src/spec/package-spec.js";
import { gitHostsFromEnv } from "../../src/sources/git-hosts.js";

// A stand-in for mpy-cross in the layout tests (one test below uses the real one): an .mpy 6 header
// followed by the source, so the layout tests see which source each .mpy was made from.
const compiled: Array<{ source: string; fileName: string }> = [];
const standInCompile: Compile = async (source, fileName) => {
  compiled.push({ source, fileName });
  return Buffer.concat([Buffer.from("M\x06\x00\x1f"), Buffer.from(source)]);
};

let server: IndexServer;
let http: HttpClient;
let mip: MipIndex;
let serverRoutes: number;

before(async () => {
  server = await startIndexServer();
  serverRoutes = server.routes.length;
  http = new HttpClient({ retries: 0 });
});
after(async () => {
  await http.close();
  await server.close();
});
beforeEach(() => {
  server.routes.splice(serverRoutes); // drop the previous test's index: each test publishes its own
  server.requests.length = 0;
  compiled.length = 0;
  mip = serveMipIndex(server, { compile: standInCompile });
});

const lookup = (flavor: string, spec: string, base = mip.base) => new MipV2Source(base, http, { flavor }).lookup(parseRequirement(spec));
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const urlOf = (artifact: Artifact | undefined) => (artifact?.type === "package-json" && artifact.location.type === "remote" ? artifact.location.url : assert.fail("not a remote package document"));
const versions = (listing: ProjectListing | undefined) => [...(listing?.releases.keys() ?? [])];
/** Version → document URL (beware: an object lists integer-like keys such as "2" first). */
const urls = (listing: ProjectListing | undefined) => Object.fromEntries([...(listing?.releases ?? [])].map(([version, [artifact]]) => [version, urlOf(artifact)]));

async function rejectsWith(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<MpipError> {
  const error = await promise.then(() => assert.fail("expected an error"), (error: unknown) => error);
  assert.ok(isMpipError(error), String(error));
  assert.equal(error.code, code, error.message);
  for (const pattern of patterns) assert.match(`${error.message}\nhint: ${error.hint}`, pattern);
  return error;
}

describe("listing from index.json", () => {
  test("every version of a flavor, each pointing at its document, for sources and .mpy", async () => {
    for (const version of ["1.0", "1.1", "2.0rc1"]) await mip.publish({ name: "foo-bar", version, files: { "foo_bar.py": `x = '${version}'\n` } });
    const py = await lookup("py", "Foo_Bar>=1");
    assert.equal(py?.name, "foo-bar");
    assert.equal(py?.source, mip.base);
    assert.deepEqual(urls(py), {
      "1.0": `${mip.base}/package/py/foo-bar/1.0.json`,
      "1.1": `${mip.base}/package/py/foo-bar/1.1.json`,
      "2.0rc1": `${mip.base}/package/py/foo-bar/2.0rc1.json`,
    });
    const [artifact] = py!.releases.get("1.1")!;
    assert.deepEqual(artifact, { type: "package-json", location: { type: "remote", url: `${mip.base}/package/py/foo-bar/1.1.json` }, mip: { base: mip.base, flavor: "py" } });
    const mpy = await lookup("6", "foo-bar");
    assert.deepEqual(versions(mpy), ["1.0", "1.1", "2.0rc1"]);
    assert.equal(urls(mpy)["1.0"], `${mip.base}/package/6/foo-bar/1.0.json`);
    // Every listed document is really there, and says what version it is.
    for (const url of [...Object.values(urls(py)), ...Object.values(urls(mpy))]) {
      const response = await http.get(url, { maxBytes: 1 << 20 });
      assert.equal(response.status, "ok", url);
      assert.equal(JSON.parse(response.status === "ok" ? response.body.toString() : "").version, /\/([^/]+)\.json$/.exec(url)![1]);
    }
  });

  test("a name the index does not list is not known here; index.json is read once per source", async () => {
    await mip.publish({ name: "foo", version: "1.0", files: { "foo.py": "" } });
    const source = new MipV2Source(`${mip.base}/`, http, { flavor: "py" });
    assert.equal(source.label, mip.base);
    assert.equal(await source.lookup(parseRequirement("bar")), undefined);
    assert.equal(await source.lookup(parseRequirement("fo")), undefined);
    assert.ok(await source.lookup(parseRequirement("FOO")));
    assert.deepEqual(server.requests, ["GET /mip/v2/index.json"]);
  });

  test("versions that are not PEP 440 are skipped; a flavor with none valid is bad metadata", async () => {
    mip.setRaw("index.json", { v: 2, packages: [{ name: "foo", version: "2", versions: { py: ["1.0", "not a version", "2"], "6": ["x", "y"] } }] });
    assert.deepEqual(versions(await lookup("py", "foo")), ["1.0", "2"]);
    await rejectsWith(lookup("6", "foo"), "bad-metadata", /field `packages\[0\]\.versions\["6"\]` lists no valid version/, /`x`, `y`/);
  });

  test("a package without the requested flavor is a clear error, not an empty listing", async () => {
    await mip.publish({ name: "sources-only", version: "1.0", files: { "s.py": "" }, mpy: false });
    await rejectsWith(lookup("6", "sources-only"), "not-found", /`sources-only` is on the index .* but not as \.mpy version 6/, /only sources \(`py`\)/, /leave out `--mpy` and `--target-version`/);
    mip.setRaw("index.json", { v: 2, packages: [{ name: "mpy-only", version: "1.0", versions: { "6": ["1.0"], "7": ["1.0"] } }] });
    await rejectsWith(lookup("py", "mpy-only"), "not-found", /not as sources \(`py`\): it has only \.mpy version 6 \(`6`\), \.mpy version 7/, /`--mpy 6` or `--target-version/);
  });

  test("a package listed without any version is looked up through its latest.json", async () => {
    await mip.publish({ name: "loose", version: "", files: { "loose.py": "" } });
    assert.deepEqual(mip.index().packages[0]!.versions, {});
    assert.deepEqual(urls(await lookup("py", "loose")), { [UNVERSIONED]: `${mip.base}/package/py/loose/latest.json` });
  });

  test("an index.json that is not of format 1 or 2, or malformed, is bad metadata naming the field", async () => {
    // Format 1 (micropython-lib's until 2024) is read: see mip-v1.test.ts.
    mip.setRaw("index.json", { v: 3, packages: [] });
    await rejectsWith(lookup("py", "foo"), "bad-metadata", /index\.json.*field `v` must be 1 or 2 .*not 3/, /not a micropython-lib index/);
    mip.setRaw("index.json", { packages: [] });
    await rejectsWith(lookup("py", "foo"), "bad-metadata", /field `v` must be 1 or 2 .*it is missing/);
    mip.setRaw("index.json", "<html>not json</html>");
    await rejectsWith(lookup("py", "foo"), "bad-metadata", /index\.json.* is not valid JSON/);
    mip.setRaw("index.json", { v: 2, packages: { foo: {} } });
    await rejectsWith(lookup("py", "foo"), "bad-metadata", /field `packages` must be Array, not an object/);
    mip.setRaw("index.json", { v: 2, packages: [{ name: "foo", versions: { py: [1.0] } }] });
    await rejectsWith(lookup("py", "foo"), "bad-metadata", /field `packages\[0\]\.versions\.py\[0\]` must be string, not the number 1/);
    mip.setRaw("index.json", { v: 2, packages: [{ versions: {} }] });
    await rejectsWith(lookup("py", "foo"), "bad-metadata", /field `packages\[0\]\.name` is missing/);
  });

  test("a document larger than the limit says how to raise it", async () => {
    await mip.publish({ name: "foo", version: "1.0", files: { "foo.py": "" }, description: "x".repeat(2000) });
    const source = new MipV2Source(mip.base, http, { flavor: "py", maxMetadataBytes: 1000 });
    await rejectsWith(source.lookup(parseRequirement("foo")), "limit-exceeded", /--max-metadata-bytes/);
  });
});

describe("without index.json", () => {
  test("latest.json is the one release; a pinned version's document is listed too", async () => {
    for (const version of ["1.0", "1.1", "2.0"]) await mip.publish({ name: "foo", version, files: { "foo.py": "" } });
    mip.removeIndex();
    assert.deepEqual(urls(await lookup("py", "foo")), { "2.0": `${mip.base}/package/py/foo/latest.json` });
    assert.deepEqual(urls(await lookup("6", "foo==1.0")), { "2.0": `${mip.base}/package/6/foo/latest.json`, "1.0": `${mip.base}/package/6/foo/1.0.json` });
    // A pin the index lacks leaves only latest: version choice then says what there is.
    assert.deepEqual(versions(await lookup("py", "foo==9.9")), ["2.0"]);
    assert.equal(await lookup("py", "bar"), undefined);
    assert.ok(server.requests.includes("GET /mip/v2/index.json"));
  });

  test("a name is tried as typed, then normalized; an unversioned latest.json is version 0", async () => {
    await mip.publish({ name: "foo-bar", version: "", files: { "foo_bar.py": "" } });
    mip.removeIndex();
    const listing = await lookup("py", "Foo_Bar");
    assert.equal(listing?.name, "foo-bar");
    assert.deepEqual(urls(listing), { [UNVERSIONED]: `${mip.base}/package/py/foo-bar/latest.json` });
    assert.ok(server.requests.includes("GET /mip/v2/package/py/Foo_Bar/latest.json"));
  });

  test("a latest.json that is not a JSON object is bad metadata", async () => {
    mip.removeIndex();
    mip.setRaw("package/py/foo/latest.json", "[1, 2]");
    await rejectsWith(lookup("py", "foo"), "bad-metadata", /latest\.json.*must be an object, not an array/);
  });
});

describe("the publisher lays out an index as micropython-lib's build.py does", () => {
  test("hashed files, minified documents, and an indented index.json", async () => {
    const published = await mip.publish({ name: "pkg", version: "0.2", files: { "pkg/__init__.py": "from .core import f\n", "pkg/core.py": "def f():\n    return 42\n__version__ = '7'\n" } });
    const tagged = "from .core import f\n\n\n__version__ = '0.2'\n";
    assert.deepEqual(published.py.hashes.map(([dest]) => dest), ["pkg/__init__.py", "pkg/core.py"]);
    const [initHash, coreHash] = published.py.hashes.map(([, hash]) => hash);
    assert.equal(initHash, sha256(Buffer.from(tagged)).slice(0, 8));
    assert.equal(mip.tree.get(`file/${initHash!.slice(0, 2)}/${initHash}`)?.toString(), tagged);
    // A file that sets __version__ itself is left as it is.
    assert.equal(mip.tree.get(`file/${coreHash!.slice(0, 2)}/${coreHash}`)?.toString(), "def f():\n    return 42\n__version__ = '7'\n");
    assert.deepEqual(published.mpy?.hashes.map(([dest]) => dest), ["pkg/__init__.mpy", "pkg/core.mpy"]);
    assert.deepEqual(compiled.map((c) => c.fileName), ["pkg/__init__.py", "pkg/core.py"]);
    assert.equal(compiled[0]!.source, tagged);
    const mpyHash = published.mpy!.hashes[0]![1];
    assert.equal(mpyHash, sha256(mip.tree.get(`file/${mpyHash.slice(0, 2)}/${mpyHash}`)!).slice(0, 8));

    assert.deepEqual([...mip.tree.keys()].filter((path) => !path.startsWith("file/")).sort(), [
      "index.json", "package/6/pkg/0.2.json", "package/6/pkg/latest.json", "package/py/pkg/0.2.json", "package/py/pkg/latest.json",
    ]);
    assert.deepEqual([...mip.tree.keys()].filter((path) => path.startsWith("file/")).sort(), [initHash, coreHash, ...published.mpy!.hashes.map(([, hash]) => hash)].map((hash) => `file/${hash!.slice(0, 2)}/${hash}`).sort());
    assert.equal(mip.tree.get("package/py/pkg/0.2.json")?.toString(), `{"v":1,"hashes":[["pkg/__init__.py","${initHash}"],["pkg/core.py","${coreHash}"]],"version":"0.2"}\n`);
    const index = mip.tree.get("index.json")!.toString();
    assert.match(index, /^\{\n  "v": 2,\n  "updated": \d+,\n  "packages": \[\n    \{\n      "name": "pkg",\n      "version": "0\.2",\n/);
    assert.deepEqual(JSON.parse(index).packages, [{ name: "pkg", version: "0.2", author: "", description: "", license: "MIT", versions: { py: ["0.2"], "6": ["0.2"] }, path: "micropython/pkg" }]);

    // What the server sends is the tree, byte for byte.
    const served = await http.get(mip.fileUrl(initHash!), { maxBytes: 1 << 20 });
    assert.equal(served.status === "ok" && served.body.toString(), tagged);
    assert.equal(hashedFileUrl(mip.base, initHash!), mip.fileUrl(initHash!));
  });

  test("a version's document is locked when first published; latest.json and index.json follow each publish", async () => {
    await mip.publish({ name: "pkg", version: "1.0", files: { "pkg.py": "a = 1\n" } });
    const first = mip.tree.get("package/py/pkg/1.0.json");
    await mip.publish({ name: "pkg", version: "1.0", files: { "pkg.py": "a = 2\n" } });
    assert.equal(mip.tree.get("package/py/pkg/1.0.json"), first);
    assert.notEqual(mip.hashOf("py", "pkg", "pkg.py"), mip.hashOf("py", "pkg", "pkg.py", "1.0"));
    await mip.publish({ name: "pkg", version: "1.1", files: { "pkg.py": "a = 3\n" } });
    await mip.publish({ name: "aaa", version: "0.1", files: { "aaa.py": "" }, description: "caf\u00e9" });
    assert.equal(mip.document("py", "pkg")?.version, "1.1");
    assert.equal(mip.document("mpy", "pkg", "1.0")?.version, "1.0");
    const index = mip.index();
    assert.deepEqual(index.packages.map((p) => [p.name, p.version, p.versions]), [
      ["aaa", "0.1", { py: ["0.1"], "6": ["0.1"] }],
      ["pkg", "1.1", { py: ["1.0", "1.1"], "6": ["1.0", "1.1"] }],
    ]);
    assert.match(mip.tree.get("index.json")!.toString(), /"description": "caf\\u00e9"/); // Python's ensure_ascii
  });

  test("inlined packages' files are listed in the requiring package's hashes; deps and urls as given", async () => {
    await mip.publish({ name: "core", version: "0.3", files: { "core/__init__.py": "X = 1\n" } });
    await mip.publish({ name: "extra", version: "1.0", files: { "extra.py": "" }, inline: ["core"] });
    const { py } = await mip.publish({ name: "app", version: "2.0", files: { "app.py": "import core\n" }, inline: ["extra", "core"], deps: [["logging", "latest"], ["tool", "0.1"]], urls: [["data.py", "https://example.invalid/data.py"]] });
    assert.deepEqual(py.hashes.map(([dest]) => dest), ["core/__init__.py", "extra.py", "app.py"]);
    // An inlined file is the very file its own package published (tagged with that package's version).
    assert.equal(py.hashes[0]![1], mip.hashOf("py", "core", "core/__init__.py"));
    assert.equal(py.hashes[1]![1], mip.hashOf("py", "extra", "extra.py"));
    assert.equal(mip.tree.get("package/py/app/2.0.json")!.toString(), `{"v":1,"hashes":${JSON.stringify(py.hashes)},"urls":[["data.py","https://example.invalid/data.py"]],"deps":[["logging","latest"],["tool","0.1"]],"version":"2.0"}\n`);
    await assert.rejects(mip.publish({ name: "bad", version: "1", files: { "data.txt": "" } }), /isn't a \.py file/);
  });

  test("corruption helpers: a tampered file, a missing file, no index.json", async () => {
    await mip.publish({ name: "pkg", version: "1.0", files: { "pkg.py": "a = 1\n" } });
    const hash = mip.hashOf("py", "pkg", "pkg.py");
    mip.corruptFile(hash);
    const tampered = await http.get(mip.fileUrl(hash), { maxBytes: 1 << 20 });
    assert.ok(tampered.status === "ok" && !sha256(tampered.body).startsWith(hash));
    mip.removeFile(hash);
    assert.equal((await http.get(mip.fileUrl(hash), { maxBytes: 1 << 20 })).status, "not-found");
    mip.removeIndex();
    await mip.publish({ name: "pkg", version: "1.1", files: { "pkg.py": "a = 2\n" } });
    assert.equal((await http.get(`${mip.base}/index.json`, { maxBytes: 1 << 20 })).status, "not-found");
    assert.equal(mip.document("py", "pkg")?.version, "1.1");
  });

  test("published sources run in MicroPython and carry their version", async () => {
    const { py } = await mip.publish({ name: "pkg", version: "3.1", files: { "pkg/__init__.py": "from .core import answer\n", "pkg/core.py": "def answer():\n    return 42\n" } });
    const files: Record<string, Uint8Array> = {};
    for (const [dest, hash] of py.hashes) {
      const response = await http.get(hashedFileUrl(mip.base, hash), { maxBytes: 1 << 20 });
      assert.equal(response.status, "ok");
      if (response.status === "ok") files[`/lib/${dest}`] = response.body;
    }
    const result = await runMicroPython("import pkg\nprint(pkg.answer(), pkg.__version__)", { files });
    assert.equal(result.error, undefined);
    assert.equal(result.stdout.trim(), "42 3.1");
  });

  test("by default the .mpy flavor is compiled with mpy-cross, and MicroPython imports it", async () => {
    const real = serveMipIndex(server, { prefix: "/mip/real" });
    const { mpy } = await real.publish({ name: "pkg", version: "0.9", files: { "pkg/__init__.py": "from .core import answer\n", "pkg/core.py": "def answer():\n    return 6 * 7\n" } });
    assert.deepEqual(mpy?.hashes.map(([dest]) => dest), ["pkg/__init__.mpy", "pkg/core.mpy"]);
    const listing = await new MipV2Source(real.base, http, { flavor: real.mpyVersion }).lookup(parseRequirement("pkg==0.9"));
    const document = await http.get(urlOf(listing?.releases.get("0.9")?.[0]), { maxBytes: 1 << 20 });
    assert.equal(document.status, "ok");
    const files: Record<string, Uint8Array> = {};
    for (const [dest, hash] of JSON.parse(document.status === "ok" ? document.body.toString() : "{}").hashes as Array<[string, string]>) {
      const response = await http.get(hashedFileUrl(real.base, hash), { maxBytes: 1 << 20 });
      assert.ok(response.status === "ok" && sha256(response.body).startsWith(hash));
      if (response.status === "ok") files[`/lib/${dest}`] = response.body;
    }
    assert.deepEqual([...Object.values(files)].map((bytes) => [...bytes.subarray(0, 2)]), [[0x4d, 6], [0x4d, 6]]);
    const result = await runMicroPython("import pkg, pkg.core\nprint(pkg.answer(), pkg.core.__version__, pkg.__file__.endswith('.mpy'))", { files });
    assert.equal(result.error, undefined);
    assert.equal(result.stdout.trim(), "42 0.9 True");
  });
});

test("hashed file URLs take 4 to 64 lowercase hex digits", () => {
  assert.equal(hashedFileUrl("https://micropython.org/pi/v2/", "1dddc25d"), "https://micropython.org/pi/v2/file/1d/1dddc25d");
  assert.equal(hashedFileUrl("https://h/v2", "abcd"), "https://h/v2/file/ab/abcd");
  for (const bad of ["abc", "ABCDEF12", "../../etc", "1dddc25d/x", "", "a".repeat(65)]) {
    assert.throws(() => hashedFileUrl("https://h/v2", bad), (error: unknown) => isMpipError(error) && error.code === "bad-metadata", bad);
  }
});

test("the label hides credentials; a flavor must be py or an .mpy major", () => {
  const source = new MipV2Source("https://user:secret@example.invalid/pi/v2/", new HttpClient(), { flavor: "6" });
  assert.equal(source.label, "https://***@example.invalid/pi/v2");
  assert.throws(() => new MipV2Source("https://h/v2", new HttpClient(), { flavor: "../x" }), (error: unknown) => isMpipError(error) && error.code === "usage");
});

// The CLI tests below install into a fresh folder each; the built CLI (`npm run build`) is what runs.
async function target(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const { dir, cleanup } = await tempDir("mpip-mip-v2-");
  t.after(cleanup);
  return `${dir}/image`;
}

const specContext = { hosts: gitHostsFromEnv({}), cwd: "/" };
const directOf = (spec: PackageSpec) => (spec.type === "direct" ? spec.direct : assert.fail(`not a direct spec: ${JSON.stringify(spec)}`));
const requirementOf = (spec: PackageSpec) => (spec.type === "requirement" ? spec.requirement : assert.fail(`not a requirement: ${JSON.stringify(spec)}`));
/** Requests for hashed files, by index prefix ("/mip/v2", "/other/v2"). */
const fileRequests = (prefix: string) => server.requests.filter((request) => request.startsWith(`GET ${prefix}/file/`));

describe("a package document URL of another v2 index, as a dependency or a spec", () => {
  test("the URL names the index, the flavor, the package and the version; other URLs stay as they were", () => {
    const cases: Array<[string, { name: string; base: string; flavor: string; version?: string }]> = [
      ["https://other.example/pi/v2/package/py/helper/latest.json", { name: "helper", base: "https://other.example/pi/v2", flavor: "py" }],
      ["https://user:tok@other.example/v2/package/6/Helper_Two/1.4.json", { name: "Helper_Two", base: "https://user:tok@other.example/v2", flavor: "6", version: "1.4" }],
      ["http://127.0.0.1:9/package/py/__future__/latest.json#sha256=" + "a".repeat(64), { name: "__future__", base: "http://127.0.0.1:9", flavor: "py" }],
    ];
    for (const [url, expected] of cases) {
      for (const spec of [parsePackageSpec(url, specContext), parseMipDependency(url, "", specContext)]) {
        const direct = directOf(spec);
        assert.equal(direct.name, expected.name, url);
        assert.equal(direct.named, true, url);
        assert.equal(direct.version, expected.version, url);
        assert.deepEqual(direct.artifact.type === "package-json" ? direct.artifact.mip : undefined, { base: expected.base, flavor: expected.flavor }, url);
      }
    }
    // A shorthand to a repo that hosts an index: its base is the raw folder at the ref.
    const shorthand = directOf(parsePackageSpec("github:org/site/pi/package/py/helper/latest.json@gh-pages", specContext));
    assert.equal(shorthand.name, "helper");
    assert.deepEqual(shorthand.artifact.type === "package-json" ? shorthand.artifact.mip : undefined, { base: "https://raw.githubusercontent.com/org/site/gh-pages/pi", flavor: "py" });
    // Not the layout of an index: named after its folder, with no index of its own, as before.
    for (const [url, name] of [["https://host/repo/helper/package.json", "helper"], ["https://host/package/py/helper/extra/latest.json", "latest"], ["https://host/package/ab/helper/latest.json", "latest"]] as const) {
      const direct = directOf(parsePackageSpec(url, specContext));
      assert.equal(direct.name, name, url);
      assert.equal(direct.artifact.type === "package-json" ? direct.artifact.mip : "not a document", undefined, url);
    }
  });

  test("its hash-only files come from the index that serves the document, which names the package", async (t) => {
    const other = serveMipIndex(server, { prefix: "/other/v2", compile: standInCompile });
    await other.publish({ name: "helper", version: "1.2", files: { "helper.py": "WHERE = 'other index'\n" } });
    const members = [
      { dep: `${other.base}/package/py/helper/latest.json`, file: "helper.py" },
      { dep: `${other.base}/package/py/helper/1.2.json`, file: "helper.py" },
      { dep: `${other.base}/package/6/helper/latest.json`, file: "helper.mpy" },
    ];
    for (const [index, member] of members.entries()) {
      await mip.publish({ name: `app${index}`, version: "1.0", mpy: false, files: { [`app${index}.py`]: "import helper\n" }, deps: [[member.dep, ""]] });
      const image = await target(t);
      server.requests.length = 0;
      const result = await runMpip(["install", "--no-record", "--json", "-i", mip.base, "-p", image, `app${index}`]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(image), [`app${index}.py`, member.file].sort(), member.dep);
      assert.equal(fileRequests("/other/v2").length, 1, member.dep);
      assert.equal(fileRequests("/mip/v2").length, 1, member.dep); // app's own file only
      const report = JSON.parse(result.stdout) as { packages: Array<{ name: string; version: string }> };
      assert.deepEqual(report.packages.map((p) => `${p.name} ${p.version}`).sort(), [`app${index} 1.0`, "helper 1.2"]);
    }
    // Given on the command line, the same.
    const image = await target(t);
    const direct = await runMpip(["install", "--no-record", "-i", mip.base, "-p", image, `${other.base}/package/py/helper/1.2.json`]);
    assert.equal(direct.code, 0, direct.stderr);
    assert.deepEqual(await listFiles(image), ["helper.py"]);
  });

  test("a file missing from that index is an error that names the package, not `latest`", async (t) => {
    const other = serveMipIndex(server, { prefix: "/other/v2", compile: standInCompile });
    await other.publish({ name: "helper", version: "1.2", mpy: false, files: { "helper.py": "WHERE = 'other index'\n" } });
    other.removeFile(other.hashOf("py", "helper", "helper.py"));
    await mip.publish({ name: "app", version: "1.0", mpy: false, files: { "app.py": "" }, deps: [[`${other.base}/package/py/helper/latest.json`, "latest"]] });
    const result = await runMpip(["install", "-i", mip.base, "-p", await target(t), "app"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /`helper\.py` of `helper` \(`latest\.json`\)/);
    assert.ok(result.stderr.includes(`${other.base}/file/`), result.stderr);
    assert.doesNotMatch(result.stderr, /`latest`|`latest [^`]*` \(/);
  });
});

describe("names by mip's rules on a v2 index", () => {
  test("a spec or a `deps` name may be any mip name; requires.txt keeps PEP 508's rule", () => {
    for (const name of ["__future__", "_markupbase", "foo_", "a.b_c-d"]) {
      assert.equal(requirementOf(parsePackageSpec(name, specContext)).name, name);
      assert.deepEqual(requirementOf(parsePackageSpec(`${name}@0.1`, specContext)).specifier, "==0.1");
      assert.deepEqual(requirementOf(parsePackageSpec(`${name}>=0.1`, specContext)).specifier, ">=0.1");
      assert.equal(requirementOf(parseMipDependency(name, "latest", specContext)).name, name);
      assert.equal(requirementOf(parseMipDependency(name, "0.1", specContext)).specifier, "==0.1");
    }
    assert.throws(() => parseRequirement("__future__"), (error: unknown) => isMpipError(error) && error.code === "bad-requirement");
    for (const bad of ["-foo", "foo.", "___", ".foo-1", "foo-"]) {
      assert.throws(() => parsePackageSpec(bad, specContext), (error: unknown) => isMpipError(error) && error.code === "bad-requirement", bad);
    }
  });

  test("`__future__` and `_markupbase` install as a spec, as `name@version` and as dependencies; PyPI-style indexes are not asked", async (t) => {
    await mip.publish({ name: "__future__", version: "0.1", mpy: false, files: { "__future__.py": "nested_scopes = True\n" } });
    await mip.publish({ name: "_markupbase", version: "1.0", mpy: false, files: { "_markupbase.py": "class ParserBase: pass\n" } });
    await mip.publish({ name: "html-app", version: "2.0", mpy: false, files: { "html_app.py": "" }, deps: [["__future__", "latest"], ["_markupbase", "1.0"]] });
    for (const [specs, files] of [
      [["html-app"], ["__future__.py", "_markupbase.py", "html_app.py"]],
      [["__future__"], ["__future__.py"]],
      [["__future__@0.1", "_markupbase==1.0"], ["__future__.py", "_markupbase.py"]],
    ] as const) {
      const image = await target(t);
      server.requests.length = 0;
      const result = await runMpip(["install", "--no-record", "-i", mip.base, "--extra-index-url", `pypi+${server.url}`, "-p", image, ...specs]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(image), [...files]);
      assert.deepEqual(server.requests.filter((request) => request.includes("/pypi/")), [], specs.join(" "));
    }
  });

  test("the v2 source finds such a name with or without index.json, and asks for no spelling that is no name", async () => {
    await mip.publish({ name: "__future__", version: "0.1", mpy: false, files: { "__future__.py": "" } });
    const spec = (text: string) => requirementOf(parsePackageSpec(text, specContext));
    const find = (text: string) => new MipV2Source(mip.base, http, { flavor: "py" }).lookup(spec(text));
    assert.deepEqual(urls(await find("__future__")), { "0.1": `${mip.base}/package/py/__future__/0.1.json` });
    mip.removeIndex();
    server.requests.length = 0;
    assert.deepEqual(urls(await find("__future__@0.1")), { "0.1": `${mip.base}/package/py/__future__/latest.json` });
    assert.equal(await find("__absent__"), undefined);
    assert.deepEqual(server.requests.filter((request) => request.includes("/-")), []);
  });

  test("a mip name no v2 index has is not found, and the hint says why PyPI was not asked", async (t) => {
    const result = await runMpip(["install", "--retries", "0", "-i", mip.base, "--extra-index-url", `pypi+${server.url}`, "-p", await target(t), "__nothing__"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /package `__nothing__` was not found/);
    assert.match(result.stderr, /hint: .*mip's rules, not PEP 508's, so only micropython-lib \(v2\) indexes were asked/);
    assert.deepEqual(server.requests.filter((request) => request.includes("/pypi/")), []);
  });
});

describe("a name with the `micropython-` prefix asked of a v2 index that names the package without it", () => {
  test("the source's hint names the spelling the index has, in every spelling of the prefix, with or without index.json", async () => {
    await mip.publish({ name: "ssd1306", version: "0.1", mpy: false, files: { "ssd1306.py": "" } });
    await mip.publish({ name: "micropython-legacy", version: "1.0", mpy: false, files: { "legacy.py": "" } });
    for (const withIndex of [true, false]) {
      if (!withIndex) mip.removeIndex();
      const source = new MipV2Source(mip.base, http, { flavor: "py" });
      for (const asked of ["micropython-ssd1306", "micropython_ssd1306", "MicroPython.SSD1306==0.1"]) {
        assert.equal(await source.lookup(parseRequirement(asked)), undefined);
        const hint = await source.hintWhenMissing(parseRequirement(asked));
        assert.match(hint ?? "", /has `ssd1306`: micropython-lib's v2 index names its packages without the `micropython-` prefix .*ask for `ssd1306`/, `${asked} ${withIndex}`);
      }
      // The other way round, on an index that kept the prefix.
      assert.match((await source.hintWhenMissing(parseRequirement("legacy"))) ?? "", /has `micropython-legacy`, with the `micropython-` prefix/);
      assert.equal(await source.hintWhenMissing(parseRequirement("micropython-absent")), undefined);
      assert.equal(await source.hintWhenMissing(parseRequirement("micropython")), undefined);
    }
  });

  test("a name a letter or two off one the index lists gets that name in the hint; a far one gets none", async (t) => {
    await mip.publish({ name: "aioble", version: "0.4", mpy: false, files: { "aioble.py": "" } });
    await mip.publish({ name: "umqtt.simple", version: "1.4", mpy: false, files: { "umqtt/simple.py": "" } });
    await mip.publish({ name: "umqtt.robust", version: "1.0", mpy: false, files: { "umqtt/robust.py": "" } });
    const source = new MipV2Source(mip.base, http, { flavor: "py" });
    const hint = async (asked: string) => source.hintWhenMissing(parseRequirement(asked));
    assert.equal(await hint("aiobel"), `\`${mip.base}\` has a name close to it: \`aioble\``);
    assert.equal(await hint("micropython-aiobel"), `\`${mip.base}\` has a name close to it: \`aioble\``);
    assert.equal(await hint("umqtt.simpel"), `\`${mip.base}\` has a name close to it: \`umqtt.simple\``);
    assert.equal(await hint("umqtt.rbust"), `\`${mip.base}\` has a name close to it: \`umqtt.robust\``);
    assert.equal(await hint("umqtt"), undefined);
    assert.equal(await hint("bluetooth"), undefined);
    const result = await runMpip(["install", "--retries", "0", "-i", mip.base, "-p", await target(t), "aiobel"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^hint: check the spelling of the name, .*; `[^`]+` has a name close to it: `aioble`$/m);
  });

  test("the install's error says it, for a spec and for a dependency", async (t) => {
    await mip.publish({ name: "ssd1306", version: "0.1", mpy: false, files: { "ssd1306.py": "" } });
    await mip.publish({ name: "display", version: "1.0", mpy: false, files: { "display.py": "" }, deps: [["micropython-ssd1306", "latest"]] });
    for (const spec of ["micropython-ssd1306", "display"]) {
      const result = await runMpip(["install", "--retries", "0", "-i", mip.base, "-p", await target(t), spec]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /package `micropython-ssd1306` was not found/);
      assert.match(result.stderr, /^hint: .*has `ssd1306`: micropython-lib's v2 index names its packages without the `micropython-` prefix.*ask for `ssd1306`/m);
    }
  });
});
