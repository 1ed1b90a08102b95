// An index on this machine, given with `-i` as a folder (a path, relative or absolute) or a `file:` URL:
// each kind (a micropython-lib v2 index, PyPI's JSON API laid out as files, a simple index of HTML or
// PEP 691 pages, a folder of sdists) installs as the same index served over HTTP installs, its kind
// taken from a prefix or from what the folder holds. Links in its documents resolve as on a server, and
// name files inside the folder only; a folder that is no index is a usage error saying what was looked
// for. Through the built CLI, with real files; the same index is also served by a real server to compare.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test, type TestContext } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { writeTree } from "./helpers/expect.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex, type MipPackageSpec } from "./helpers/mip-index.js";
import { buildSdist, sdistFilename, type SdistSpec } from "./helpers/sdist.js";

/**
 * Folder names that a path, a URL and a shell each spell differently: a space, non-ASCII letters and a
 * symbol, and a `%` that a decoder must not take for an escape. (A plain name is spelled the same by all
 * three, and every step the others take it takes too.)
 */
const AWKWARD = ["with space", "ünïcødé ☃", "per%41cent%2F"];

interface Work {
  dir: string;
  server: IndexServer;
}

async function work(t: TestContext): Promise<Work> {
  const { dir, cleanup } = await tempDir("mpip-localidx-");
  const server = await startIndexServer();
  t.after(async () => {
    await server.close();
    await cleanup();
  });
  return { dir, server };
}

/** `mpip install --no-record -p TARGET ...`: with no record, two installs of the same packages are byte-identical. */
function install(target: string, args: string[], cwd?: string) {
  return runMpip(["install", "--no-record", "-p", target, ...args], cwd === undefined ? {} : { cwd });
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function publishAll(mip: MipIndex, specs: MipPackageSpec[]): Promise<void> {
  for (const spec of specs) await mip.publish({ mpy: false, ...spec });
}

/** A v2 index's files (as build.py leaves its --output folder) written below `folder`. */
async function writeMip(mip: MipIndex, folder: string): Promise<string> {
  return writeTree(folder, Object.fromEntries(mip.tree));
}

const APP: MipPackageSpec[] = [
  { name: "util", version: "1.0", files: { "util.py": "def twice(x):\n    return 2 * x\n" } },
  { name: "util", version: "2.0", files: { "util.py": "def twice(x):\n    return x + x\n" } },
  { name: "logcfg", version: "0.6", files: { "logcfg/__init__.py": "LEVEL = 1\n", "logcfg/fmt.py": "F = '%s'\n" } },
  { name: "app", version: "1.0", files: { "app/__init__.py": "from util import twice\n" }, deps: [["util", "1.0"], ["logcfg", "latest"]] },
];

describe("a v2 index on disk", () => {
  test("installs exactly what the same index served over HTTP installs, however the folder is named and given", async (t) => {
    const { dir, server } = await work(t);
    const mip = serveMipIndex(server);
    await publishAll(mip, APP);
    const served = path.join(dir, "served");
    const fromServer = await install(served, ["-i", mip.base, "app"]);
    assert.equal(fromServer.code, 0, fromServer.stderr);
    const expected = await snapshot(served);
    assert.deepEqual(Object.keys(expected).filter((name) => !name.endsWith("/")), ["app/__init__.py", "logcfg/__init__.py", "logcfg/fmt.py", "util.py"]);
    const before = server.requests.length;
    for (const [at, name] of AWKWARD.entries()) {
      const folder = await writeMip(mip, path.join(dir, name, "v2 index"));
      const ways = [folder, pathToFileURL(folder).href, `mip+${folder}`, `mip+${pathToFileURL(folder).href}/`];
      for (const [way, given] of ways.entries()) {
        const target = path.join(dir, `image-${at}-${way}`);
        const result = await install(target, ["-i", given, "app"]);
        assert.equal(result.code, 0, `${given}: ${result.stderr}`);
        assert.deepEqual(await snapshot(target), expected, given);
        assert.ok(result.stderr.includes(` + util==1.0 (from ${pathToFileURL(folder).href})`), result.stderr);
      }
      // A relative path resolves against the current folder.
      const relative = path.join(dir, `image-${at}-relative`);
      const result = await install(relative, ["-i", path.join(name, "v2 index"), "app"], dir);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await snapshot(relative), expected);
    }
    assert.equal(server.requests.length, before, "nothing was asked of the server");
  });

  test("without index.json (as mip needs none): found by its `package/` folder, latest and pinned", async (t) => {
    const { dir, server } = await work(t);
    const mip = serveMipIndex(server);
    await publishAll(mip, APP);
    mip.removeIndex();
    const folder = await writeMip(mip, path.join(dir, "bare"));
    const target = path.join(dir, "image");
    const result = await runMpip(["install", "--no-record", "-v", "-p", target, "-i", folder, "app", "util==2.0"]);
    assert.equal(result.code, 1, result.stderr); // app pins util 1.0: the conflict proves both documents were read
    assert.match(result.stderr, /is a micropython-lib v2 index \(mip\) \(detected\)/);
    assert.match(result.stderr, /requires `util==1\.0`/);
    const ok = await install(target, ["-i", folder, "app"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(await readFile(path.join(target, "util.py"), "utf8"), /return 2 \* x/);
  });

  test("documents that name https:// files: those are fetched over the network, the rest from the folder", async (t) => {
    const { dir, server } = await work(t);
    const mip = serveMipIndex(server);
    await publishAll(mip, [{ name: "remote-lib", version: "1.0", files: { "remote_lib.py": "R = 1\n" } }]);
    const hash = mip.hashOf("py", "remote-lib", "remote_lib.py");
    const local = "LOCAL = 2\n";
    const localHash = sha256(Buffer.from(local)).slice(0, 8);
    const folder = await writeTree(path.join(dir, "mixed"), {
      "index.json": JSON.stringify({ v: 2, updated: 0, packages: [{ name: "mixed", version: "1.0", versions: { py: ["1.0"] } }] }),
      "package/py/mixed/1.0.json": JSON.stringify({ v: 1, hashes: [["remote_lib.py", hash], ["local_part.py", localHash]], urls: [["remote_lib.py", mip.fileUrl(hash)]], version: "1.0" }),
      [`file/${localHash.slice(0, 2)}/${localHash}`]: local,
    });
    const target = path.join(dir, "image");
    const result = await install(target, ["-i", folder, "mixed"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["local_part.py", "remote_lib.py"]);
    assert.deepEqual(server.requests, [`GET /mip/v2/file/${hash.slice(0, 2)}/${hash}`]);
  });
});

type Sdists = Array<{ spec: SdistSpec; filename: string; body: Buffer }>;
let builtSdists: Promise<Sdists> | undefined;

/** Three sdists and the links a folder index gives them: `dep` is required by `top`. Built once per file; never changed. */
function sdists(): Promise<Sdists> {
  const specs: SdistSpec[] = [
    { name: "top", version: "1.0", files: { "top.py": "import dep\n" }, requires: ["dep>=1.0"] },
    { name: "dep", version: "1.0", files: { "dep/__init__.py": "V = 1\n" } },
    { name: "dep", version: "1.1", files: { "dep/__init__.py": "V = 11\n", "dep/extra.py": "E = 1\n" } },
  ];
  builtSdists ??= Promise.all(specs.map(async (spec) => ({ spec, filename: sdistFilename(spec), body: await buildSdist(spec) })));
  return builtSdists;
}

let served: Promise<{ code: number; stderr: string; image: Record<string, string> }> | undefined;

/**
 * The same sdists served over HTTP by the test server's PyPI JSON API: what an install from a folder must
 * equal. Installed once per file (with --no-record, the image holds nothing of the index it came from),
 * from a server and into a folder of its own.
 */
async function servedInstall(): Promise<Record<string, string>> {
  served ??= (async () => {
    const files = await sdists();
    const server = await startIndexServer();
    const { dir, cleanup } = await tempDir("mpip-localidx-served-");
    try {
      for (const file of files) server.addFile(file.spec.name, file.spec.version, { filename: file.filename, body: file.body });
      const target = path.join(dir, "served");
      const result = await install(target, ["-i", server.url, "top"]);
      return { code: result.code, stderr: result.stderr, image: await snapshot(target) };
    } finally {
      await server.close();
      await cleanup();
    }
  })();
  const { code, stderr, image } = await served;
  assert.equal(code, 0, stderr);
  return image;
}

describe("PyPI's JSON API and the simple API, laid out as files", () => {
  test("`NAME/json` with relative and `file:` links, and `NAME/VERSION/json` where `releases` is missing", async (t) => {
    const { dir } = await work(t);
    const files = await sdists();
    const expected = await servedInstall();
    for (const name of AWKWARD) {
      const folder = path.join(dir, name, "pypi files");
      const entry = (file: (typeof files)[number], url: string) => ({ filename: file.filename, url, packagetype: "sdist", digests: { sha256: sha256(file.body) } });
      await writeTree(folder, {
        // Relative to the document, as a server's relative URL.
        "top/json": JSON.stringify({ info: { name: "top", version: "1.0" }, releases: { "1.0": [entry(files[0]!, `../../dist/${files[0]!.filename}`)] } }),
        // No `releases`: the latest's own document is read, its file named by an absolute `file:` URL inside the folder.
        "dep/json": JSON.stringify({ info: { name: "dep", version: "1.1" }, urls: [] }),
        "dep/1.1/json": JSON.stringify({ info: { name: "dep", version: "1.1" }, urls: [entry(files[2]!, pathToFileURL(path.join(folder, "dep", "dep-1.1.tar.gz")).href)] }),
        "dep/dep-1.1.tar.gz": files[2]!.body,
      });
      // The sdists the `top` document names sit beside the index folder: outside it.
      await writeTree(path.join(dir, name), { [`dist/${files[0]!.filename}`]: files[0]!.body });
      const outside = await install(path.join(dir, `refused-${name}`), ["-i", folder, "top"]);
      assert.equal(outside.code, 1, outside.stderr);
      assert.match(outside.stderr, /field `releases\["1\.0"\]\[0\]\.url` must be an http or https URL, or name a file inside the local index/);
      await writeTree(folder, { [`dist/${files[0]!.filename}`]: files[0]!.body });
      await writeFile(path.join(folder, "top/json"), JSON.stringify({ info: { name: "top", version: "1.0" }, releases: { "1.0": [entry(files[0]!, `../dist/${files[0]!.filename}`)] } }));
      for (const given of [folder, `pypi+${pathToFileURL(folder).href}`]) {
        const target = path.join(dir, `image-${name}-${given.length}`);
        const result = await install(target, ["-i", given, "top"]);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(await snapshot(target), expected, given);
      }
      assert.deepEqual(await snapshot(path.join(dir, `refused-${name}`)), {});
    }
  });

  test("a digest in a folder's document is checked like a server's", async (t) => {
    const { dir } = await work(t);
    const [top] = await sdists();
    const folder = await writeTree(path.join(dir, "pypi"), {
      "top/json": JSON.stringify({ info: { name: "top", version: "1.0" }, releases: { "1.0": [{ filename: top!.filename, url: top!.filename, digests: { sha256: "0".repeat(64) } }] } }),
      [`top/${top!.filename}`]: top!.body,
    });
    const result = await install(path.join(dir, "image"), ["-i", folder, "--no-deps", "top"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /does not match the index's sha256/);
  });

  test("simple pages: `NAME/index.html` (with or without a root page) and PEP 691 `index.v1_json`", async (t) => {
    const { dir } = await work(t);
    const files = await sdists();
    const expected = await servedInstall();
    const anchor = (file: (typeof files)[number], href: string) => `<a href="${href}#sha256=${sha256(file.body)}">${file.filename}</a>`;
    for (const name of AWKWARD) {
      const folder = path.join(dir, name, "simple");
      await writeTree(folder, {
        ...Object.fromEntries(files.map((file) => [`packages/${file.filename}`, file.body])),
        "top/index.html": `<!DOCTYPE html><html><body>${anchor(files[0]!, `../packages/${files[0]!.filename}`)}</body></html>`,
        "dep/index.v1_json": JSON.stringify({
          meta: { "api-version": "1.1" },
          name: "dep",
          files: files.slice(1).map((file) => ({ filename: file.filename, url: `../packages/${encodeURIComponent(file.filename)}`, hashes: { sha256: sha256(file.body) } })),
        }),
      });
      const target = path.join(dir, `image-${name}`);
      const detected = await runMpip(["install", "--no-record", "-v", "-p", target, "-i", folder, "top"]);
      assert.equal(detected.code, 0, detected.stderr);
      assert.match(detected.stderr, /is a simple repository API \(PEP 503\/691\) \(detected\)/);
      assert.deepEqual(await snapshot(target), expected);
      // With a root page (PEP 503 HTML, then PEP 691 JSON as plain `index.json`) and a prefix.
      await writeTree(folder, { "index.html": `<a href="top/">top</a><a href="dep/">dep</a>` });
      const rooted = await install(path.join(dir, `rooted-${name}`), ["-i", `simple+${pathToFileURL(folder).href}`, "top"]);
      assert.equal(rooted.code, 0, rooted.stderr);
      assert.deepEqual(await snapshot(path.join(dir, `rooted-${name}`)), expected);
    }
  });

  test("a folder of sdists given with -i is read as -f reads it; sdists beside an index are found after it", async (t) => {
    const { dir, server } = await work(t);
    const files = await sdists();
    const expected = await servedInstall();
    const folder = await writeTree(path.join(dir, "just sdists"), Object.fromEntries(files.map((file) => [file.filename, file.body])));
    const target = path.join(dir, "image");
    const result = await runMpip(["install", "--no-record", "-v", "-p", target, "-i", folder, "top"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /holds only sdists: read as a folder of sdists/);
    assert.deepEqual(await snapshot(target), expected);
    // A page at its top that lists no projects (a note for people) does not make it a simple index.
    await writeFile(path.join(folder, "index.html"), "<h1>Downloads for the lab</h1>\n");
    const noted = path.join(dir, "noted");
    assert.equal((await install(noted, ["-i", folder, "top"])).code, 0);
    assert.deepEqual(await snapshot(noted), expected);
    // A v2 index with sdists at its top: v2 packages from the index, the rest from the sdists.
    const mip = serveMipIndex(server);
    await publishAll(mip, [{ name: "tool", version: "1.0", files: { "tool.py": "T = 1\n" }, deps: [["top", "latest"]] }]);
    await writeMip(mip, folder);
    const both = path.join(dir, "both");
    const mixed = await install(both, ["-i", folder, "tool"]);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.deepEqual(await listFiles(both), ["dep/__init__.py", "dep/extra.py", "tool.py", "top.py"]);
    assert.ok(mixed.stderr.includes(` + tool==1.0 (from ${pathToFileURL(folder).href})`), mixed.stderr);
    assert.ok(mixed.stderr.includes(` + top==1.0 (from ${folder})`), mixed.stderr);
  });
});

describe("what a local index may not do", () => {
  test("a folder that is no index, a missing one and a file: usage errors saying what was looked for", async (t) => {
    const { dir } = await work(t);
    const empty = await writeTree(path.join(dir, "not an index"), { "notes.txt": "hello\n", "sub/readme.md": "x\n" });
    const target = path.join(dir, "image");
    for (const given of [empty, `file://${empty}`, pathToFileURL(empty).href]) {
      const result = await install(target, ["-i", given, "anything"]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /is not an index of any kind: it holds no `index\.json` or `package\/` \(micropython-lib v2 index\), no `index\.html` or `NAME\/index\.html` \(simple API\), no `NAME\/json` \(PyPI JSON API\), and no `NAME-VERSION\.tar\.gz` sdists/);
      assert.match(result.stderr, /^hint: /m);
    }
    const missing = await install(target, ["-i", path.join(dir, "nowhere"), "anything"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /is not an http or https URL, nor a folder on this machine/);
    const file = await install(target, ["-i", path.join(empty, "notes.txt"), "anything"]);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /\(given with -i\) is a file; a local index is a folder/);
    const missingUrl = await install(target, ["-i", pathToFileURL(path.join(dir, "gone")).href, "anything"]);
    assert.equal(missingUrl.code, 2);
    assert.match(missingUrl.stderr, /names no folder on this machine/);
    assert.deepEqual(await snapshot(target), {});
  });

  test("documents that name files outside the folder, by link, path or symbolic link: refused, nothing installed", async (t) => {
    const { dir } = await work(t);
    const secret = await writeTree(path.join(dir, "outside"), { "secret.py": "TOKEN = 'x'\n" });
    const secretHash = sha256(Buffer.from("TOKEN = 'x'\n"));
    const [top] = await sdists();
    await writeTree(secret, { [top!.filename]: top!.body });
    const cases: Array<{ name: string; files: Record<string, string>; link?: [string, string]; spec: string; expect: RegExp }> = [
      {
        name: "v2-relative",
        files: { "package/py/evil/latest.json": JSON.stringify({ v: 1, hashes: [], urls: [["evil.py", "../../../../outside/secret.py"]], version: "1.0" }) },
        spec: "evil",
        expect: /names `\.\.\/\.\.\/\.\.\/\.\.\/outside\/secret\.py` \(`urls\[0\]\[1\]`\), which is outside the local index/,
      },
      {
        name: "v2-absolute",
        files: { "package/py/evil/latest.json": JSON.stringify({ v: 1, hashes: [], urls: [["evil.py", pathToFileURL(path.join(secret, "secret.py")).href]], version: "1.0" }) },
        spec: "evil",
        expect: /which is outside the local index/,
      },
      {
        name: "v2-symlink",
        files: { "package/py/evil/latest.json": JSON.stringify({ v: 1, hashes: [["evil.py", secretHash.slice(0, 8)]], version: "1.0" }) },
        link: [`file/${secretHash.slice(0, 2)}/${secretHash.slice(0, 8)}`, path.join(secret, "secret.py")],
        spec: "evil",
        expect: /is a symbolic link \(or inside one\) to `[^`]*outside\/secret\.py`, outside the local index folder/,
      },
      {
        name: "simple-absolute",
        files: { "top/index.html": `<a href="${pathToFileURL(path.join(secret, top!.filename)).href}">${top!.filename}</a>` },
        spec: "top",
        expect: /field `a\[0\]\.href` must be an http or https URL of at most 8192 characters, or name a file inside the local index/,
      },
      {
        name: "simple-relative",
        files: { "top/index.html": `<a href="../../outside/${top!.filename}">${top!.filename}</a>` },
        spec: "top",
        expect: /field `a\[0\]\.href` must be an http or https URL/,
      },
      {
        name: "pypi-etc",
        files: { "top/json": JSON.stringify({ info: { name: "top", version: "1.0" }, releases: { "1.0": [{ filename: top!.filename, url: "file:///etc/passwd" }] } }) },
        spec: "top",
        expect: /field `releases\["1\.0"\]\[0\]\.url` must be an http or https URL, or name a file inside the local index/,
      },
    ];
    for (const item of cases) {
      const folder = await writeTree(path.join(dir, item.name), item.files);
      if (item.link !== undefined) {
        await mkdir(path.dirname(path.join(folder, item.link[0])), { recursive: true });
        await symlink(item.link[1], path.join(folder, item.link[0]));
      }
      const target = path.join(dir, `image-${item.name}`);
      const result = await install(target, ["-i", folder, "--no-deps", item.spec]);
      assert.equal(result.code, 1, `${item.name}: ${result.stderr}`);
      assert.match(result.stderr, item.expect, item.name);
      assert.doesNotMatch(result.stderr, /This is a bug/);
      if (item.link === undefined) {
        // A link out of the folder is the user's folder given too deep, as often as a hostile one: say what to do.
        assert.match(result.stderr, /hint: a local index may name only files inside its own folder \(`[^`]+`\), and this link leads out of it; nothing was fetched or written\. If the files are yours, give -i a folder that holds them too/, item.name);
        assert.doesNotMatch(result.stderr, /report it to the index's maintainers/, item.name);
      }
      assert.deepEqual(await snapshot(target), {}, item.name);
    }
  });

  test("the PyPI or simple face of a folder `mpip index build` wrote, given alone: refused with a hint to give the whole folder", async (t) => {
    const { dir } = await work(t);
    const project = await writeTree(path.join(dir, "lamp"), {
      "pyproject.toml": '[project]\nname = "lamp-driver"\nversion = "0.4"\n',
      "lamp_driver/__init__.py": "def on():\n    return 1\n",
    });
    const out = path.join(dir, "public");
    const built = await runMpip(["index", "build", project, "-o", out, "-q"]);
    assert.equal(built.code, 0, built.stderr);
    for (const face of ["pypi", "simple"]) {
      const target = path.join(dir, `image-${face}`);
      const result = await install(target, ["-i", path.join(out, face), "lamp-driver"]);
      assert.equal(result.code, 1, `${face}: ${result.stderr}`);
      assert.match(result.stderr, /`\.\.\/\.\.\/sdist\/lamp-driver-0\.4\.tar\.gz/, face);
      assert.match(result.stderr, /hint: a local index may name only files inside its own folder .*\(for a folder `mpip index build` wrote: that whole folder, read as its v2 face\), or serve the folder over HTTP/, face);
      assert.deepEqual(await snapshot(target), {}, face);
    }
  });

  test("only regular files are read, within the limits: a FIFO or an oversized document is an error, never a hang", async (t) => {
    const { dir } = await work(t);
    const fifo = await writeTree(path.join(dir, "fifo"), { "package/py/x/latest.json": "{}" });
    execFileSync("mkfifo", [path.join(fifo, "index.json")]);
    const target = path.join(dir, "image");
    const piped = await install(target, ["-i", fifo, "x"]);
    assert.equal(piped.code, 1, piped.stderr);
    assert.match(piped.stderr, /cannot read `[^`]*fifo\/index\.json` of a local index \(it is not a regular file\)/);
    const big = await writeTree(path.join(dir, "big"), { "huge/json": JSON.stringify({ info: { name: "huge", version: "1.0" }, releases: {}, pad: "x".repeat(4096) }) });
    const large = await install(target, ["-i", `pypi+${big}`, "--max-metadata-bytes", "1KiB", "huge"]);
    assert.equal(large.code, 1, large.stderr);
    assert.match(large.stderr, /is larger than the limit of 1 KiB/);
    assert.deepEqual(await snapshot(target), {});
  });

  test("a server's document never names a file on this machine, even when a local index is configured", async (t) => {
    const { dir, server } = await work(t);
    const mip = serveMipIndex(server);
    const folder = await writeTree(path.join(dir, "local"), { "package/py/ok/latest.json": JSON.stringify({ v: 1, hashes: [], version: "1.0" }), "file/ab/abcdef12": "X = 1\n" });
    mip.setRaw(mip.documentPath("py", "remote"), { v: 1, hashes: [], urls: [["x.py", pathToFileURL(path.join(folder, "file/ab/abcdef12")).href]], version: "1.0" });
    const target = path.join(dir, "image");
    const result = await install(target, ["-i", folder, "-i", `mip+${mip.base}`, "remote"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /`urls\[0\]\[1\]`/);
    assert.match(result.stderr, /only http, https/);
    assert.deepEqual(await snapshot(target), {});
  });
});
