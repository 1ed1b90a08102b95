// Installing from a micropython-lib v2 index through the built CLI (`node bin/mpip.js`): the index is
// laid out as micropython-lib's publisher writes it (test/helpers/mip-index.ts) and served over real
// HTTP; every test checks the files on disk, the exit code and what mpip printed. Hostile and broken
// indexes must leave the target (and the folder around it) byte for byte as it was.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, readFile } from "node:fs/promises";
import path from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { runMicroPython } from "./helpers/micropython.js";
import { serveMipIndex, type MipIndex, type MipIndexOptions, type MipPackageSpec } from "./helpers/mip-index.js";

interface Setup {
  server: IndexServer;
  mip: MipIndex;
  /** The temporary folder holding the target (checked for stray files too). */
  parent: string;
  target: string;
  /** `mpip install -p <target> -i <the v2 index> ...`, or with the `-i` options given. */
  install(...args: string[]): ReturnType<typeof runMpip>;
  read(file: string): Promise<string>;
}

/** A fresh server, v2 index (py only unless a package asks for .mpy) and target, closed after the test. */
async function setup(t: TestContext, packages: MipPackageSpec[] = [], options: MipIndexOptions = {}): Promise<Setup> {
  const server = await startIndexServer();
  const mip = serveMipIndex(server, options);
  const { dir, cleanup } = await tempDir("mpip-mip-");
  t.after(async () => {
    await server.close();
    await cleanup();
  });
  for (const spec of packages) await mip.publish({ mpy: false, ...spec });
  const target = path.join(dir, "image");
  return {
    server,
    mip,
    parent: dir,
    target,
    install: (...args) => runMpip(["install", "--no-record", "-p", target, ...(args.includes("-i") ? [] : ["-i", mip.base]), ...args]),
    read: (file) => readFile(path.join(target, file), "utf8"),
  };
}

const pkg = (name: string, version: string, extra: Partial<MipPackageSpec> = {}): MipPackageSpec => ({
  name,
  version,
  files: { [`${name}.py`]: `NAME = ${JSON.stringify(name)}\n` },
  ...extra,
});

/** A target holding one earlier install (`good 1.0`, --no-record), made once for the file by a real install. */
let baselineImage: Promise<string> | undefined;
let removeBaseline: (() => Promise<void>) | undefined;
after(async () => {
  await removeBaseline?.();
});

/**
 * Gives `s` a target that already holds an install, for tests that check a failed install changes nothing
 * of it: a copy of one real install (the files as it wrote them), not a run per test.
 */
async function withEarlierInstall(s: Setup): Promise<void> {
  baselineImage ??= (async () => {
    const server = await startIndexServer();
    const { dir, cleanup } = await tempDir("mpip-mip-baseline-");
    removeBaseline = cleanup;
    try {
      const mip = serveMipIndex(server);
      await mip.publish({ mpy: false, ...pkg("good", "1.0") });
      const image = path.join(dir, "image");
      const result = await runMpip(["install", "--no-record", "-p", image, "-i", mip.base, "good"]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(image), ["good.py"]);
      return image;
    } finally {
      await server.close();
    }
  })();
  await cp(await baselineImage, s.target, { recursive: true });
}

/** The requests for one package's documents, e.g. ["GET /mip/v2/package/py/a/latest.json"]. */
const documentRequests = (s: Setup, name: string) => s.server.requests.filter((r) => r.includes(`/package/py/${name}/`));

/** A failed run: exit 1, a uv-style `error:` with each fragment, and a `hint:`. */
function assertFailure(result: { code: number; stdout: string; stderr: string }, ...fragments: string[]): void {
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^error: /m);
  assert.match(result.stderr, /^hint: /m);
  for (const fragment of fragments) assert.ok(result.stderr.includes(fragment), `stderr lacks ${JSON.stringify(fragment)}:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /This is a bug in mpip/);
}

function assertSummary(stderr: string, name: string, version: string, source: string): void {
  assert.ok(stderr.includes(` + ${name}==${version} (from ${source})`), `no summary line for ${name}==${version} from ${source}:\n${stderr}`);
}

describe("install from a v2 index: dependencies and versions", () => {
  test("deps with `latest` and pinned versions", async (t) => {
    const s = await setup(t, [
      pkg("util", "1.0", { files: { "util.py": "def twice(x):\n    return 2 * x\n" } }),
      pkg("util", "2.0", { files: { "util.py": "def twice(x):\n    return x + x\n" } }),
      pkg("logging", "0.5"),
      pkg("logging", "0.6"),
      pkg("app", "1.0", { files: { "app/__init__.py": "from util import twice\n", "app/main.py": "X = 1\n" }, deps: [["util", "1.0"], ["logging", "latest"]] }),
    ]);
    const result = await s.install("app");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(s.target), ["app/__init__.py", "app/main.py", "logging.py", "util.py"]);
    assert.match(await s.read("util.py"), /return 2 \* x\n\n\n__version__ = '1\.0'\n$/);
    assert.match(await s.read("logging.py"), /__version__ = '0\.6'/);
    assert.match(await s.read("app/__init__.py"), /^from util import twice\n/);
    for (const [name, version] of [["app", "1.0"], ["util", "1.0"], ["logging", "0.6"]] as const) assertSummary(result.stderr, name, version, s.mip.base);
    assert.deepEqual(documentRequests(s, "util"), ["GET /mip/v2/package/py/util/1.0.json"]);
  });

  test("a dependency cycle and a shared dependency: each package fetched and installed once", async (t) => {
    const s = await setup(t, [
      pkg("a", "1.0", { deps: [["b", "latest"], ["shared", "latest"]] }),
      pkg("b", "1.0", { deps: [["a", "latest"], ["c", "latest"]] }),
      pkg("c", "1.0", { deps: [["shared", "latest"], ["b", "1.0"]] }),
      pkg("shared", "3.1", { deps: [["a", "1.0"]] }),
    ]);
    const result = await s.install("a", "b");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(s.target), ["a.py", "b.py", "c.py", "shared.py"]);
    assert.match(result.stderr, /Installed 4 packages/);
    for (const name of ["a", "b", "c", "shared"]) {
      assert.equal(documentRequests(s, name).length, 1, `${name}: ${s.server.requests.join("\n")}`);
      assert.equal(result.stderr.split(` + ${name}==`).length, 2, result.stderr);
    }
    assert.equal(s.server.requests.filter((r) => r.endsWith("/index.json")).length, 1);
  });

  test("an old-style package with its requirements' files inlined", async (t) => {
    const s = await setup(t, [
      pkg("ffilib", "0.1", { files: { "ffilib.py": "LIB = 1\n" } }),
      pkg("os-path", "0.1", { files: { "os/path.py": "SEP = '/'\n" }, inline: ["ffilib"] }),
      pkg("glob", "0.5", { files: { "glob.py": "import os.path\n" }, inline: ["os-path"] }),
    ]);
    assert.deepEqual(s.mip.document("py", "glob")?.hashes.map(([dest]) => dest), ["ffilib.py", "os/path.py", "glob.py"]);
    const result = await s.install("glob");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(s.target), ["ffilib.py", "glob.py", "os/path.py"]);
    assert.match(result.stderr, /Installed 1 package /);
    // Each inlined file keeps its own package's version tag, as build.py writes it.
    assert.match(await s.read("os/path.py"), /__version__ = '0\.1'/);
    assert.match(await s.read("glob.py"), /__version__ = '0\.5'/);
  });

  test("several versions: name@v, name==v, ranges, and the highest by default", async (t) => {
    const s = await setup(t, ["0.1", "0.2", "0.3"].map((v) => pkg("multi", v, { files: { "multi.py": `V = ${JSON.stringify(v)}\n` } })));
    for (const [spec, expected] of [["multi@0.1", "0.1"], ["multi==0.1", "0.1"], ["multi>=0.2,<0.3", "0.2"], ["multi>=0.2", "0.3"], ["multi", "0.3"]]) {
      s.server.requests.length = 0;
      const result = await s.install(spec!);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await s.read("multi.py"), `V = "${expected}"\n\n\n__version__ = '${expected}'\n`, spec);
      assertSummary(result.stderr, "multi", expected!, s.mip.base);
      assert.deepEqual(documentRequests(s, "multi"), [`GET /mip/v2/package/py/multi/${expected}.json`], spec);
    }
    assertFailure(await s.install("multi@0.4"), "no version of `multi` matches");
  });

  test("--no-deps installs only the named package", async (t) => {
    const s = await setup(t, [pkg("dep", "1.0"), pkg("top", "1.0", { deps: [["dep", "latest"]] })]);
    const result = await s.install("--no-deps", "top");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(s.target), ["top.py"]);
    assert.deepEqual(documentRequests(s, "dep"), []);
  });
});

describe("install from a v2 index: broken and hostile indexes change nothing", () => {
  test("a file that does not match its hash: digest-mismatch, nothing written", async (t) => {
    const s = await setup(t, [pkg("lib", "1.0"), pkg("app", "1.0", { deps: [["lib", "latest"]] })]);
    const hash = s.mip.hashOf("py", "lib", "lib.py");
    s.mip.corruptFile(hash);
    const result = await s.install("app");
    assertFailure(result, "`lib.py` of `lib 1.0`", s.mip.fileUrl(hash), `expected ${hash}`, "nothing of it was written");
    assert.deepEqual(await snapshot(s.parent), {});
    const json = await s.install("--json", "app");
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).error.code, "digest-mismatch");
  });

  test("a digest mismatch over an earlier install loses nothing", async (t) => {
    const s = await setup(t, [pkg("lib", "1.0", { files: { "lib/__init__.py": "V = 1\n", "lib/core.py": "C = 1\n" } })]);
    assert.equal((await s.install("lib")).code, 0);
    const before = await snapshot(s.parent);
    await s.mip.publish({ name: "lib", version: "2.0", mpy: false, files: { "lib/__init__.py": "V = 2\n", "lib/core.py": "C = 2\n", "lib/extra.py": "E = 2\n" } });
    s.mip.corruptFile(s.mip.hashOf("py", "lib", "lib/extra.py"));
    assertFailure(await s.install("lib"), "`lib/extra.py` of `lib 2.0`", "does not match");
    assert.deepEqual(await snapshot(s.parent), before);
    assert.match(await s.read("lib/__init__.py"), /^V = 1\n/);
  });

  test("a hashed file missing from the index: an error naming the file and its URL", async (t) => {
    const s = await setup(t, [pkg("lib", "1.0", { files: { "lib/a.py": "A = 1\n", "lib/b.py": "B = 1\n" } })]);
    await withEarlierInstall(s);
    const before = await snapshot(s.parent);
    const hash = s.mip.hashOf("py", "lib", "lib/b.py");
    s.mip.removeFile(hash);
    const result = await s.install("lib");
    assertFailure(result, "`lib/b.py` of `lib 1.0`", s.mip.fileUrl(hash), "404");
    assert.deepEqual(await snapshot(s.parent), before);
  });

  for (const field of ["hashes", "urls"] as const) {
    test(`a package document whose \`${field}\` try to escape the target is refused`, async (t) => {
      const s = await setup(t, [pkg("evil", "1.0")]);
      await withEarlierInstall(s);
      const hash = s.mip.hashOf("py", "evil", "evil.py");
      for (const dest of ["../x.py", "/abs.py", "a/../../b.py", "../image-sibling/c.py"]) {
        const entries: Array<[string, string]> = [["ok.py", field === "hashes" ? hash : s.mip.fileUrl(hash)], [dest, field === "hashes" ? hash : s.mip.fileUrl(hash)]];
        const document = field === "hashes" ? { v: 1, hashes: entries, version: "1.0" } : { v: 1, hashes: [], urls: entries, version: "1.0" };
        for (const version of ["1.0", "latest"]) s.mip.setRaw(s.mip.documentPath("py", "evil", version), document);
        const before = await snapshot(s.parent);
        const result = await s.install("evil");
        assertFailure(result, `lists the file \`${dest}\` (\`${field}[1]\`), refused`, s.mip.documentPath("py", "evil", "1.0"));
        assert.deepEqual(await snapshot(s.parent), before, dest);
        assert.equal(existsSync("/abs.py"), false);
      }
      assert.deepEqual(await listFiles(s.target), ["good.py"]);
    });
  }

  test("a package document that says another version than it was fetched as is refused, pinned or chosen", async (t) => {
    const s = await setup(t, [pkg("liar", "1.0"), pkg("liar", "1.1"), pkg("same", "1.0")]);
    const lie = (version: string, says: string) => {
      const document = JSON.parse(String(s.mip.tree.get(s.mip.documentPath("py", "liar", version))));
      s.mip.setRaw(s.mip.documentPath("py", "liar", version), { ...document, version: says });
    };
    lie("1.0", "9.9");
    lie("1.1", "1.0");
    for (const [args, fetchedAs, says] of [[["liar@1.0"], "liar 1.0", "9.9"], [["liar==1.0"], "liar 1.0", "9.9"], [["liar"], "liar 1.1", "1.0"]] as const) {
      const result = await s.install(...args);
      assertFailure(result, `\`${fetchedAs}\``, "is not the package it was fetched as: its package document", `says version \`${says}\``);
      assert.deepEqual(await snapshot(s.parent), {});
    }
    // The same version spelled otherwise (PEP 440: `1.0.0` is `1.0`) is that version.
    const document = JSON.parse(String(s.mip.tree.get(s.mip.documentPath("py", "same", "1.0"))));
    s.mip.setRaw(s.mip.documentPath("py", "same", "1.0"), { ...document, version: "1.0.0" });
    assert.equal((await s.install("same==1.0")).code, 0);
  });

  test("an index without index.json still installs, latest and pinned", async (t) => {
    const s = await setup(t, [pkg("dep", "0.9"), pkg("solo", "1.0", { deps: [["dep", "latest"]] }), pkg("solo", "1.1", { deps: [["dep", "0.9"]] })]);
    s.mip.removeIndex();
    let result = await s.install("solo");
    assert.equal(result.code, 0, result.stderr);
    assertSummary(result.stderr, "solo", "1.1", s.mip.base);
    assertSummary(result.stderr, "dep", "0.9", s.mip.base);
    assert.deepEqual(await listFiles(s.target), ["dep.py", "solo.py"]);
    assert.match(await s.read("solo.py"), /__version__ = '1\.1'/);
    result = await s.install("solo@1.0");
    assert.equal(result.code, 0, result.stderr);
    assertSummary(result.stderr, "solo", "1.0", s.mip.base);
    assert.match(await s.read("solo.py"), /__version__ = '1\.0'/);
    assertFailure(await s.install("nowhere"), "`nowhere` was not found");
  });
});

describe("install from a v2 index and a PyPI JSON index together", () => {
  test("each package comes from the index that has it, and the report says which", async (t) => {
    const s = await setup(t, [pkg("onlymip", "1.0", { deps: [["onlypypi", "latest"]] }), pkg("alsomip", "2.0")]);
    await s.server.addSdist({ name: "onlypypi", version: "0.3", files: { "onlypypi.py": "P = 3\n" } });
    await s.server.addSdist({ name: "pypitop", version: "1.5", files: { "pypitop/__init__.py": "T = 1\n" } });
    const indexes = ["-i", `mip+${s.mip.base}`, "-i", `pypi+${s.server.url}`];
    const result = await s.install(...indexes, "-v", "onlymip", "alsomip", "pypitop");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(s.target), ["alsomip.py", "onlymip.py", "onlypypi.py", "pypitop/__init__.py"]);
    assertSummary(result.stderr, "onlymip", "1.0", s.mip.base);
    assertSummary(result.stderr, "alsomip", "2.0", s.mip.base);
    assertSummary(result.stderr, "onlypypi", "0.3", s.server.url);
    assertSummary(result.stderr, "pypitop", "1.5", s.server.url);
    assert.ok(result.stderr.includes(`\`${s.mip.base}\` is a micropython-lib v2 index (mip) (as its prefix says)`), result.stderr);

    const json = await runMpip(["install", "--no-record", "-p", path.join(s.parent, "other"), "--json", ...indexes, "onlymip"]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { ok: boolean; packages: Array<{ name: string; source: string; kind: string; files: string[] }> };
    const byName = Object.fromEntries(report.packages.map((p) => [p.name, p]));
    assert.deepEqual(Object.keys(byName).sort(), ["onlymip", "onlypypi"]);
    assert.equal(byName.onlymip!.source, s.mip.base);
    assert.equal(byName.onlymip!.kind, "package-json");
    assert.equal(byName.onlypypi!.source, s.server.url);
    assert.equal(byName.onlypypi!.kind, "dist");
    assert.deepEqual(byName.onlypypi!.files, ["onlypypi.py"]);
  });

  /** A v2 index under a prefix that does not end in /v2, with three packages. */
  const detectable = async (t: TestContext) => {
    const s = await setup(t, [], { prefix: "/custom" });
    for (const name of ["one", "two", "three"]) await s.mip.publish(pkg(name, "1.0", { mpy: false }));
    return s;
  };

  /** One install of the three through an index URL that tells no kind (-v only adds what it prints). */
  let detectedRun: Promise<{ s: Setup; result: Awaited<ReturnType<typeof runMpip>> }> | undefined;
  const installDetected = (t: TestContext) => {
    detectedRun ??= (async () => {
      const s = await detectable(t);
      return { s, result: await s.install("-v", "-i", s.mip.base, "one", "two", "three") };
    })();
    return detectedRun;
  };

  test("an index URL that tells no kind is detected as mip, once per run", async (t) => {
    const { s, result } = await installDetected(t);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr.split("is a micropython-lib v2 index").length, 2, result.stderr);
    assert.ok(result.stderr.includes(`\`${s.mip.base}\` is a micropython-lib v2 index (mip) (detected)`), result.stderr);
    assert.deepEqual(await listFiles(s.target), ["one.py", "three.py", "two.py"]);
    for (const name of ["one", "two", "three"]) assert.deepEqual(s.server.requests.filter((r) => r.includes(`/package/py/${name}/`)), [`GET /custom/package/py/${name}/1.0.json`]);
  });

  // Guards the reuse of the detection's answer: the index.json the probe fetched to tell the index's kind is
  // the one the packages are then looked up in, not downloaded a second time by MipV2Source.
  test("detection reads index.json once per run, not once more for the packages", async (t) => {
    // The same run as the test above (its server's requests are kept after it closes).
    const { s, result } = await installDetected(t);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(s.server.requests.filter((r) => r.includes("index.json")), ["GET /custom/index.json"]);
  });
});

describe("install .mpy from a v2 index", () => {
  const specs: MipPackageSpec[] = [
    { name: "mathutil", version: "1.2", files: { "mathutil/__init__.py": "from .ops import double\n", "mathutil/ops.py": "def double(x):\n    return 2 * x\n" } },
    { name: "calc", version: "0.4", files: { "calc.py": "from mathutil import double\n\ndef answer():\n    return double(21)\n" }, deps: [["mathutil", "latest"]] },
  ];

  for (const flags of [["--mpy", "6"], ["--target-version", "1.22"]]) {
    test(`${flags.join(" ")}: .mpy files that import and run in MicroPython`, async (t) => {
      const s = await setup(t);
      for (const spec of specs) await s.mip.publish(spec);
      const result = await s.install(...flags, "calc");
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await listFiles(s.target), ["calc.mpy", "mathutil/__init__.mpy", "mathutil/ops.mpy"]);
      for (const file of await listFiles(s.target)) {
        const bytes = await readFile(path.join(s.target, file));
        assert.deepEqual([...bytes.subarray(0, 2)], [0x4d, 6], file);
      }
      assert.ok(s.server.requests.includes("GET /mip/v2/package/6/calc/0.4.json"), s.server.requests.join("\n"));
      const run = await runMicroPython("import calc, mathutil.ops\nprint(calc.answer(), calc.__version__, mathutil.ops.__version__)", { libDir: s.target });
      assert.equal(run.error, undefined);
      assert.equal(run.stdout, "42 0.4 1.2\n");
    });
  }

  test("--mpy 5 for a package built only for .mpy 6: not found for that flavor", async (t) => {
    const s = await setup(t);
    await s.mip.publish(specs[0]!);
    const result = await s.install("--mpy", "5", "mathutil");
    assertFailure(result, "`mathutil` is on the index", "not as .mpy version 5", ".mpy version 6");
    assert.deepEqual(await snapshot(s.parent), {});
  });

  test("--mpy 5 refuses .mpy 6 files an index serves in its `5` folder", async (t) => {
    const s = await setup(t, [], { prefix: "/mip5/v2", mpyVersion: "5" });
    for (const spec of specs) await s.mip.publish(spec);
    await withEarlierInstall(s);
    const before = await snapshot(s.parent);
    const result = await s.install("--mpy", "5", "calc");
    assertFailure(result, s.mip.base);
    assert.match(result.stderr, /^error: .*`(calc|mathutil\/__init__|mathutil\/ops)\.mpy` is mpy 6 bytecode, but the target is mpy 5$/m);
    assert.deepEqual(await snapshot(s.parent), before);
  });
});

describe("--json report of a mip install", () => {
  test("kind, source, version, files and the document it came from", async (t) => {
    const s = await setup(t, [pkg("leaf", "2.1", { files: { "leaf/__init__.py": "L = 1\n", "leaf/data.py": "D = 1\n" } }), pkg("root", "1.0", { deps: [["leaf", "2.1"]] })]);
    const result = await s.install("--json", "root@1.0");
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { ok: boolean; target: string; packages: Array<Record<string, unknown>> };
    assert.equal(report.ok, true);
    assert.equal(report.target, s.target);
    const leaf = report.packages.find((p) => p.name === "leaf");
    const root = report.packages.find((p) => p.name === "root");
    assert.deepEqual(report.packages.map((p) => p.name).sort(), ["leaf", "root"]);
    assert.deepEqual({ kind: root?.kind, source: root?.source, version: root?.version, files: root?.files }, { kind: "package-json", source: s.mip.base, version: "1.0", files: ["root.py"] });
    assert.deepEqual({ kind: leaf?.kind, source: leaf?.source, version: leaf?.version, files: leaf?.files }, { kind: "package-json", source: s.mip.base, version: "2.1", files: ["leaf/__init__.py", "leaf/data.py"] });
    assert.equal(leaf?.url, `${s.mip.base}/package/py/leaf/2.1.json`);
    assert.match(String(root?.sha256), /^[0-9a-f]{64}$/);
    assert.deepEqual(await listFiles(s.target), ["leaf/__init__.py", "leaf/data.py", "root.py"]);
  });
});
