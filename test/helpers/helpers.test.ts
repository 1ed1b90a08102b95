// Proves the test helpers: real gzip + tar (read back with tar-stream, Python and MicroPython), a real HTTP index,
// and a real MicroPython interpreter.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, get } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { extract } from "tar-stream";
import { checkFixtures } from "../../scripts/build-fixtures.js";
import { buildFixtures, FIXTURES } from "../../scripts/fixtures-spec.js";
import { startIndexServer, type IndexServer } from "./index-server.js";
import { runMicroPython } from "./micropython.js";
import { buildSdist, buildSdistTar, buildWheelStub, sdistFilename, type SdistSpec } from "./sdist.js";

interface Member { name: string; type: string; linkname: string | null; data: Buffer; mtime: number }

async function readTar(gz: Buffer): Promise<Member[]> {
  const ex = extract();
  const members: Member[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => { chunks.push(c as Buffer); });
      stream.on("end", () => {
        members.push({ name: h.name, type: h.type ?? "?", linkname: h.linkname ?? null, data: Buffer.concat(chunks), mtime: h.mtime!.getTime() / 1000 });
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  ex.end(gunzipSync(gz));
  await done;
  return members;
}

const typeflags = (tar: Buffer) => Array.from({ length: tar.length / 512 }, (_, i) => String.fromCharCode(tar[i * 512 + 156]!)).filter((c) => c !== "\0");
const hasPython = (() => { try { execFileSync("python3", ["-c", "import tarfile"]); return true; } catch { return false; } })();
const pythonList = (gz: Buffer) => execFileSync("python3", ["-c", "import sys, tarfile, io\nfor m in tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read())): print(m.name)"], { input: gz }).toString().trim().split("\n");

/** Deterministic incompressible-ish bytes, repeated so a deflater with a 32 KiB window emits matches 12 KiB back. */
function longRangeBlob(): Buffer {
  let x = 12345;
  const block = Buffer.alloc(12 * 1024, 0).map(() => { x = (x * 1103515245 + 12345) >>> 0; return 33 + ((x >>> 16) % 94); });
  return Buffer.concat([block, block, block]);
}

const LIST_WITH_MICROPYTHON = `
import deflate, tarfile
f = open('/data/a.tar.gz', 'rb')
t = tarfile.TarFile(fileobj=deflate.DeflateIO(f, deflate.GZIP, 12))
for i in t:
    n = len(t.extractfile(i).read()) if i.type == tarfile.REGTYPE else -1
    print(i.name, n)
`;

describe("buildSdist", () => {
  const spec: SdistSpec = { name: "micropython-foo", version: "1.2", files: { "foo/util.py": "X = 2\n", "foo/__init__.py": "from .util import X\n", "foo/data/a.txt": new Uint8Array([0, 1, 2]) }, requires: ["micropython-bar", "# comment", "[extra]", "baz; python_version > '3'"] };

  test("lays the archive out like sdist_upip, reproducibly", async () => {
    const gz = await buildSdist(spec);
    assert.equal(sdistFilename(spec), "micropython-foo-1.2.tar.gz");
    assert.deepEqual(gz, await buildSdist(spec));
    assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]); // mtime 0, OS Unix
    const members = await readTar(gz);
    const top = "micropython-foo-1.2";
    assert.deepEqual(members.map((m) => `${m.type} ${m.name}`), [
      `directory ${top}/`, `file ${top}/micropython-foo.egg-info/PKG-INFO`, `file ${top}/micropython-foo.egg-info/requires.txt`,
      `directory ${top}/foo/`, `file ${top}/foo/__init__.py`, `directory ${top}/foo/data/`, `file ${top}/foo/data/a.txt`, `file ${top}/foo/util.py`,
    ]);
    assert.ok(members.every((m) => m.mtime === 1700000000));
    assert.equal(members[2]!.data.toString(), "micropython-bar\n# comment\n[extra]\nbaz; python_version > '3'\n");
    assert.match(members[1]!.data.toString(), /^Metadata-Version: 1\.1\nName: micropython-foo\nVersion: 1\.2\nSummary: /);
    assert.deepEqual([...members[6]!.data], [0, 1, 2]);
    assert.deepEqual(typeflags(buildSdistTar(spec)), ["5", "0", "0", "5", "0", "5", "0", "0"]);
  });

  test("requiresDist goes to a top-level PKG-INFO and suppresses requires.txt", async () => {
    const members = await readTar(await buildSdist({ name: "m", version: "1", files: { "m.py": "" }, requires: ["x"], requiresDist: ["solo (>=1.0)", 'ping; extra == "dev"'] }));
    assert.deepEqual(members.map((m) => m.name), ["m-1/", "m-1/PKG-INFO", "m-1/m.egg-info/PKG-INFO", "m-1/m.py"]);
    assert.match(members[1]!.data.toString(), /\nRequires-Dist: solo \(>=1\.0\)\nRequires-Dist: ping; extra == "dev"\n$/);
  });

  const long = "longpkg/" + "a".repeat(70) + "/" + "b".repeat(40) + "/mod.py";
  test("plain ustar refuses names over 100 bytes", async () => {
    await assert.rejects(buildSdist({ name: "l", version: "1", files: { [long]: "" } }), /does not fit in 100 bytes/);
  });

  for (const [format, flag] of [["pax", "x"], ["gnu", "L"]] as const) {
    test(`${format} long names read back in full`, async () => {
      const s = { name: "l", version: "1", files: { [long]: "X = 1\n" } };
      const gz = await buildSdist(s, { format, extraEntries: [{ name: "l-1/ln", type: "symlink", linkname: "t".repeat(120) }] });
      const members = await readTar(gz);
      assert.ok(members.some((m) => m.name === `l-1/${long}` && m.data.toString() === "X = 1\n"));
      assert.equal(members.find((m) => m.name === "l-1/ln")?.linkname, "t".repeat(120));
      assert.ok(members.every((m) => !m.name.includes("@")));
      assert.ok(typeflags(buildSdistTar(s, { format })).includes(flag));
      if (hasPython) assert.ok(pythonList(gz).includes(`l-1/${long}`));
    });
  }

  test("extraEntries are written verbatim, with optional pax records", async () => {
    const members = await readTar(await buildSdist({ name: "e", version: "1", files: {} }, {
      extraEntries: [
        { name: "e-1/../../evil.py", type: "file", content: "pwned" },
        { name: "e-1/link.py", type: "symlink", linkname: "/etc/passwd" },
        { name: "e-1/hard.py", type: "link", linkname: "e-1/link.py" },
        { name: "e-1/innocent.py", type: "file", content: "x", pax: { path: "/tmp/abs.py" } },
      ],
    }));
    assert.deepEqual(members.map((m) => [m.name, m.type, m.linkname]), [
      ["e-1/", "directory", null], ["e-1/e.egg-info/PKG-INFO", "file", null], ["e-1/../../evil.py", "file", null],
      ["e-1/link.py", "symlink", "/etc/passwd"], ["e-1/hard.py", "link", "e-1/link.py"], ["/tmp/abs.py", "file", null],
    ]);
  });

  test("MicroPython inflates a 4 KiB-window archive and lists it with tarfile", async () => {
    const gz = await buildSdist({ name: "big", version: "1", files: { "big/__init__.py": "", "big/blob.bin": longRangeBlob() } });
    const r = await runMicroPython(LIST_WITH_MICROPYTHON, { files: { "/data/a.tar.gz": gz } });
    assert.equal(r.error, undefined);
    assert.deepEqual(r.stdout.trim().split("\n"), ["big-1/ -1", "big-1/big.egg-info/PKG-INFO 71", "big-1/big/ -1", "big-1/big/__init__.py 0", `big-1/big/blob.bin ${36 * 1024}`]);
  });

  test("a windowBits 15 archive with long-range repeats fails in MicroPython at 12", async () => {
    const s = { name: "big", version: "1", files: { "big/blob.bin": longRangeBlob() } };
    const gz = await buildSdist(s, { windowBits: 15 });
    assert.ok(gz.length < (await buildSdist(s)).length / 2); // the matches really reach past 4 KiB
    assert.equal(gunzipSync(gz).length, buildSdistTar(s).length);
    const r = await runMicroPython(LIST_WITH_MICROPYTHON, { files: { "/data/a.tar.gz": gz } });
    assert.match(r.error ?? "", /OSError: \[Errno 22\] EINVAL/); // "invalid distance too far back"
  });

  test("buildWheelStub is a small zip", () => {
    const whl = buildWheelStub("foo", "1.0");
    assert.equal(whl.readUInt32LE(0), 0x04034b50);
    assert.ok(whl.includes(Buffer.from("foo-1.0.dist-info/METADATA")));
  });
});

describe("index server", () => {
  let server: IndexServer;
  const fetchJson = async (url: string, init?: RequestInit) => {
    const res = await fetch(url, { redirect: "manual", ...init });
    return { status: res.status, location: res.headers.get("location"), body: (await res.json()) as any };
  };
  before(async () => {
    server = await startIndexServer();
    await server.addSdist({ name: "Foo_Bar", version: "1.0", files: { "foo_bar.py": "V = 1\n" } });
    await server.addSdist({ name: "Foo_Bar", version: "1.10", files: { "foo_bar.py": "V = 10\n" } });
    await server.addSdist({ name: "Foo_Bar", version: "2.0", files: { "foo_bar.py": "V = 20\n" } }, { yanked: true });
    await server.addSdist({ name: "Foo_Bar", version: "1.11b1", files: { "foo_bar.py": "" } });
    server.addFile("foo-bar", "1.10", { filename: "Foo_Bar-1.10-py3-none-any.whl", body: buildWheelStub("Foo_Bar", "1.10") });
    server.addFile("tampered", "1.0", { filename: "t.tar.gz", body: Buffer.from("x"), sha256: "0".repeat(64) });
    server.addFile("nodigest", "1.0", { filename: "n.tar.gz", body: Buffer.from("x"), sha256: null });
  });
  after(() => server.close());

  test("/{name}/json: info, releases and urls; files match their sha256", async () => {
    const { status, body } = await fetchJson(`${server.url}/foo-bar/json`);
    assert.equal(status, 200);
    assert.deepEqual(body.info.name, "Foo_Bar");
    assert.equal(body.info.version, "1.10"); // highest non-yanked final release
    assert.deepEqual(Object.keys(body.releases), ["1.0", "1.10", "1.11b1", "2.0"]);
    assert.deepEqual(body.urls.map((f: any) => [f.filename, f.packagetype]), [["Foo_Bar-1.10.tar.gz", "sdist"], ["Foo_Bar-1.10-py3-none-any.whl", "bdist_wheel"]]);
    assert.equal(body.releases["2.0"][0].yanked, true);
    for (const f of body.urls) {
      const res = await fetch(f.url);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.headers.get("content-type"), "application/octet-stream");
      assert.equal(res.headers.get("content-length"), String(bytes.length));
      assert.equal(f.size, bytes.length);
      assert.equal(f.digests.sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(f.digests.md5, createHash("md5").update(bytes).digest("hex"));
    }
  });

  test("/{name}/{version}/json, 301 for non-normalized names, 404s and 405", async () => {
    const v = await fetchJson(`${server.url}/foo-bar/1.0/json`);
    assert.equal(v.status, 200);
    assert.equal(v.body.releases, undefined);
    assert.deepEqual(v.body.urls.map((f: any) => f.filename), ["Foo_Bar-1.0.tar.gz"]);
    const moved = await fetchJson(`${server.url}/Foo_Bar/json`);
    assert.deepEqual([moved.status, moved.location], [301, `${server.url}/foo-bar/json`]);
    assert.equal((await fetchJson(`${server.url}/Foo.Bar/1.0/json`)).location, `${server.url}/foo-bar/1.0/json`);
    for (const url of [`${server.url}/nope/json`, `${server.url}/foo-bar/9.9/json`, `${server.origin}/files/foo-bar/1.0/zzz.tar.gz`, `${server.origin}/elsewhere`]) {
      const r = await fetchJson(url);
      assert.deepEqual([r.status, r.body], [404, { message: "Not Found" }], url);
    }
    assert.equal((await fetch(`${server.url}/foo-bar/json`, { method: "POST" })).status, 405);
    assert.ok(server.requests.includes("GET /pypi/Foo_Bar/json") && server.requests.includes("POST /pypi/foo-bar/json"));
  });

  test("digest overrides, setInfoVersion and omitReleases", async () => {
    assert.equal((await fetchJson(`${server.url}/tampered/json`)).body.urls[0].digests.sha256, "0".repeat(64));
    assert.equal((await fetchJson(`${server.url}/nodigest/json`)).body.urls[0].digests, undefined);
    server.setInfoVersion("foo-bar", "1.0");
    server.omitReleases("FOO-BAR");
    const { body } = await fetchJson(`${server.url}/foo-bar/json`);
    assert.equal(body.info.version, "1.0");
    assert.equal(body.releases, undefined);
    assert.equal(body.urls[0].filename, "Foo_Bar-1.0.tar.gz");
  });

  test("validators: an ETag and a Last-Modified on 200s, 304 for a matching conditional request, counted apart", async () => {
    const s = await startIndexServer();
    try {
      await s.addSdist({ name: "ripe", version: "1.0", files: { "ripe.py": "R = 1\n" } });
      const first = await fetch(`${s.url}/ripe/json`);
      const etag = first.headers.get("etag")!;
      const lastModified = first.headers.get("last-modified")!;
      assert.match(etag, /^"[0-9a-f]{32}"$/);
      assert.ok(!Number.isNaN(Date.parse(lastModified)));
      assert.equal((await fetch(`${s.url}/ripe/json`, { headers: { "if-none-match": etag } })).status, 304);
      assert.equal((await fetch(`${s.url}/ripe/json`, { headers: { "if-none-match": '"other"' } })).status, 200);
      assert.equal((await fetch(`${s.url}/ripe/json`, { headers: { "if-modified-since": lastModified } })).status, 304);
      // A new body at the same path is later than the old one's date, and has another ETag.
      await s.addSdist({ name: "ripe", version: "1.1", files: { "ripe.py": "R = 2\n" } });
      const changed = await fetch(`${s.url}/ripe/json`, { headers: { "if-none-match": etag } });
      assert.equal(changed.status, 200);
      assert.ok(Date.parse(changed.headers.get("last-modified")!) > Date.parse(lastModified));
      assert.equal((await fetch(`${s.url}/ripe/json`, { headers: { "if-modified-since": lastModified } })).status, 200);
      assert.deepEqual(s.unconditional(), ["GET /pypi/ripe/json"]);
      assert.equal(s.notModified, 2);
      s.validators = "etag";
      assert.equal((await fetch(`${s.url}/ripe/json`)).headers.get("last-modified"), null);
      s.validators = "none";
      const plain = await fetch(`${s.url}/ripe/json`, { headers: { "if-none-match": changed.headers.get("etag")! } });
      assert.deepEqual([plain.status, plain.headers.get("etag")], [200, null]);
      s.headersFor = (requestPath) => (requestPath.endsWith("/json") ? { "Cache-Control": "no-store" } : undefined);
      assert.equal((await fetch(`${s.url}/ripe/json`)).headers.get("cache-control"), "no-store");
    } finally {
      await s.close();
    }
  });

  test("keep-alive, delayMs, and close() with idle sockets", async () => {
    const s = await startIndexServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    const once = () => new Promise<void>((resolve, reject) => {
      const req = get(`${s.url}/x/json`, { agent }, (res) => { reused.push(req.reusedSocket); res.resume(); res.on("end", resolve); });
      req.on("error", reject);
    });
    await once();
    s.delayMs = 150;
    const t0 = Date.now();
    await once();
    assert.ok(Date.now() - t0 >= 140);
    assert.deepEqual(reused, [false, true]);
    const t1 = Date.now();
    await s.close();
    assert.ok(Date.now() - t1 < 1000);
    agent.destroy();
  });
});

describe("runMicroPython", () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(path.join(tmpdir(), "mpip-helpers-")); });
  after(() => rm(dir, { recursive: true, force: true }));

  test("imports modules and packages from libDir, ahead of frozen modules", async () => {
    await mkdir(path.join(dir, "pkg", "sub"), { recursive: true });
    await writeFile(path.join(dir, "pkg", "__init__.py"), "from .sub.m import VALUE\n");
    await writeFile(path.join(dir, "pkg", "sub", "m.py"), "VALUE = 'deep'\n");
    await writeFile(path.join(dir, "tarfile.py"), "SHADOWED = True\n");
    const r = await runMicroPython("import sys, pkg, tarfile\nprint(sys.path[0], pkg.VALUE, tarfile.SHADOWED)", { libDir: dir });
    assert.deepEqual(r, { stdout: "/lib deep True\n", stderr: "" });
  });

  test("reports a traceback as error", async () => {
    const r = await runMicroPython("print('before')\nimport missing_module");
    assert.equal(r.stdout, "before\n");
    assert.match(r.error ?? "", /Traceback[\s\S]*ImportError: no module named 'missing_module'/);
  });
});

describe("fixtures", () => {
  test("the committed fixtures are byte-identical to a fresh build", async () => {
    assert.deepEqual(await checkFixtures(), []);
    assert.equal((await buildFixtures()).size, FIXTURES.length);
  });

  test("the demo app runs in MicroPython once installed upip-style", async () => {
    const lib = await mkdtemp(path.join(tmpdir(), "mpip-demo-"));
    try {
      for (const [file, gz] of await buildFixtures()) {
        if (file === "mpip-demo-fmt-0.9.tar.gz") continue;
        for (const m of await readTar(gz)) {
          const rel = m.name.split("/").slice(1).join("/");
          if (m.type !== "file" || rel.includes(".egg-info")) continue;
          await mkdir(path.dirname(path.join(lib, rel)), { recursive: true });
          await writeFile(path.join(lib, rel), m.data);
        }
      }
      const r = await runMicroPython("import ansi, demo_app\ndemo_app.main('mpip')\nansi.ENABLED = False\ndemo_app.main()", { libDir: lib });
      assert.equal(r.error, undefined);
      assert.match(r.stdout, /\x1b\[1;36mHello, mpip!\x1b\[0m/);
      assert.match(r.stdout, /Hello, MicroPython!\nboard {5}\| KiB \| MHz\n-{10}\+-{5}\+-{4}\nESP32 {5}\| 520 \| 240\n/);
      assert.match(r.stdout, /fmt 1\.0\n$/);
    } finally {
      await rm(lib, { recursive: true, force: true });
    }
  });
});
