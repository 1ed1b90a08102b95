// `mpip pack` end to end: the built CLI packs projects written by the test; the archives are served from
// the local index, installed with `mpip install`, and their resources read in real MicroPython through a
// `pkg_resources` that follows micropython-lib's (R.py first). Also: setup.cfg, the errors, reproducibility.

import assert from "node:assert/strict";
import { cp, mkdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { listFiles, runCommand, runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { tarGzMembers } from "../helpers/tar-craft.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { runMicroPython } from "../helpers/micropython.js";
import { writeTree } from "../helpers/expect.js";

const PKG_RESOURCES = readFile(new URL("../fixtures/pkg_resources.py", import.meta.url), "utf8");
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const PAGE = "<!doctype html>\n<p class='x'>caf\u00e9 \"quoted\" \\ back</p>\r\n";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-pack-");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

type Files = Record<string, string | Uint8Array>;

async function writeProject(files: Files, name = `project-${++counter}`): Promise<string> {
  const dir = path.join(work.dir, name);
  await writeTree(dir, files);
  return dir;
}

interface PackReport {
  ok: boolean;
  path: string;
  filename: string;
  sha256: string;
  files: string[];
  error?: { code: string; message: string; hint?: string };
}

async function pack(dir: string, args: string[] = [], env: NodeJS.ProcessEnv = { SOURCE_DATE_EPOCH: undefined }): Promise<RunResult & { report: PackReport }> {
  const result = await runMpip(["pack", dir, "--json", ...args], { env });
  return { ...result, report: JSON.parse(result.stdout) as PackReport };
}

const PYPROJECT = `[project]
name = "micropython-mypkg"
version = "1.0"
description = "A package with data files"
dependencies = ["micropython-helper"]
`;

const SETUP_CFG = `[metadata]
name = micropython-mypkg
version = 1.0
description = A package with data files

[options]
packages =
    mypkg
install_requires =
    micropython-helper
`;

const SOURCES: Files = {
  "mypkg/__init__.py": "import pkg_resources\n\ndef read(name):\n    return pkg_resources.resource_stream(__name__, name).read()\n",
  "mypkg/data/page.html": PAGE,
  "mypkg/data/all.bin": ALL_BYTES,
  "mypkg/data/empty.txt": "",
  "README.md": "# mypkg\n",
  "tests/test_mypkg.py": "import mypkg\n",
  "setup.py": "open('setup-py-ran', 'w').write('oops')\n",
};

/**
 * The project of PYPROJECT and SOURCES, packed once (SOURCE_DATE_EPOCH unset) into `out`: the round trip
 * installs this archive, and the metadata and reproducibility tests compare other packs with its report.
 */
let reference: Promise<{ dir: string; packed: RunResult & { report: PackReport } }> | undefined;
function referencePack(): Promise<{ dir: string; packed: RunResult & { report: PackReport } }> {
  reference ??= (async () => {
    const dir = await writeProject({ "pyproject.toml": PYPROJECT, ...SOURCES }, "checkout-a");
    const packed = await pack(dir, ["-o", path.join(work.dir, "out")]);
    assert.equal(packed.code, 0, packed.stderr);
    return { dir, packed };
  })();
  return reference;
}

describe("mpip pack round trip", () => {
  let target: string;

  before(async () => {
    const helper = await writeProject({ "pyproject.toml": '[project]\nname = "micropython-helper"\nversion = "0.1"\n', "helper.py": "HELPED = True\n" });
    const out = path.join(work.dir, "out");
    const helperPacked = await pack(helper, ["-o", out]);
    assert.equal(helperPacked.code, 0, helperPacked.stderr);
    for (const packed of [helperPacked, (await referencePack()).packed]) {
      const [name, version] = [packed.report.filename.replace(/-[^-]+\.tar\.gz$/, ""), packed.report.filename.replace(/^.*-|\.tar\.gz$/g, "")];
      server.addFile(name, version, { filename: packed.report.filename, body: await readFile(packed.report.path), packagetype: "sdist" });
    }
    target = path.join(work.dir, "target");
    const installed = await runMpip(["install", "--no-record", "-i", server.url, "-p", target, "micropython-mypkg"]);
    assert.equal(installed.code, 0, installed.stderr);
  });

  test("the archive holds the package, its data files, R.py and the egg-info, nothing else", async () => {
    const archive = await readFile(path.join(work.dir, "out", "micropython-mypkg-1.0.tar.gz"));
    const files = tarGzMembers(archive);
    assert.deepEqual([...files.keys()].filter((name) => !name.endsWith("/")), [
      "micropython-mypkg-1.0/micropython_mypkg.egg-info/PKG-INFO",
      "micropython-mypkg-1.0/micropython_mypkg.egg-info/requires.txt",
      "micropython-mypkg-1.0/mypkg/R.py",
      "micropython-mypkg-1.0/mypkg/__init__.py",
      "micropython-mypkg-1.0/mypkg/data/all.bin",
      "micropython-mypkg-1.0/mypkg/data/empty.txt",
      "micropython-mypkg-1.0/mypkg/data/page.html",
    ]);
    assert.equal(files.get("micropython-mypkg-1.0/micropython_mypkg.egg-info/requires.txt")?.toString(), "micropython-helper\n");
    const pkgInfo = files.get("micropython-mypkg-1.0/micropython_mypkg.egg-info/PKG-INFO")?.toString() ?? "";
    assert.match(pkgInfo, /^Metadata-Version: 2\.1\nName: micropython-mypkg\nVersion: 1\.0\nSummary: A package with data files\n/);
    assert.match(pkgInfo, /\nRequires-Dist: micropython-helper\n/);
    const rModule = files.get("micropython-mypkg-1.0/mypkg/R.py")?.toString() ?? "";
    assert.match(rModule, /^R = \{\n'data\/all\.bin': b'\\x00\\x01/);
    assert.deepEqual(rModule.split("\n").map((line) => line.slice(0, 18)), ["R = {", "'data/all.bin': b'", "'data/empty.txt': ", "'data/page.html': ", "}", ""]);
  });

  test("the archive passes `mpip check` (4 KiB window, device-readable ustar, no setup.py, dependencies declared)", async () => {
    const result = await runMpip(["check", path.join(work.dir, "out", "micropython-mypkg-1.0.tar.gz")]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  test("mpip install follows requires.txt and installs what upip would", async () => {
    assert.deepEqual((await listFiles(target)).sort(), ["helper.py", "mypkg/R.py", "mypkg/__init__.py", "mypkg/data/all.bin", "mypkg/data/empty.txt", "mypkg/data/page.html"]);
  });

  const expected = [
    `data/page.html ${Buffer.from(PAGE).toString("hex").replace(/../g, "$& ").trim()}`,
    `data/all.bin ${Buffer.from(ALL_BYTES).toString("hex").replace(/../g, "$& ").trim()}`,
    "data/empty.txt ",
    "",
  ].join("\n");

  /**
   * One interpreter reads the resources of two copies of the install: `/lib` without R.py, then `/frozen`
   * with R.py and no data files. Between them mypkg, mypkg.R and pkg_resources (with its cache) are
   * forgotten, and each reading says where mypkg came from and whether R.py or the files served it.
   */
  let reads: ReturnType<typeof runMicroPython> | undefined;
  const readBothImages = () =>
    (reads ??= (async () => {
      const disk = path.join(work.dir, "image-disk");
      await cp(target, disk, { recursive: true });
      await rm(path.join(disk, "mypkg", "R.py"));
      const frozen = path.join(work.dir, "image-frozen");
      await cp(target, frozen, { recursive: true });
      await rm(path.join(frozen, "mypkg", "data"), { recursive: true });
      const files: Record<string, string | Uint8Array> = { "/lib/pkg_resources.py": await PKG_RESOURCES };
      for (const file of await listFiles(frozen)) files[`/frozen/${file}`] = await readFile(path.join(frozen, file));
      const script = `
import sys
def read_all(where):
    for name in ("mypkg", "mypkg.R", "pkg_resources"):
        if name in sys.modules:
            del sys.modules[name]
    sys.path.insert(0, where)
    import mypkg, pkg_resources
    print("==", mypkg.__path__)
    for name in ("data/page.html", "data/all.bin", "data/empty.txt"):
        print(name, " ".join("%02x" % b for b in mypkg.read(name)))
    print("served by", "R.py" if isinstance(pkg_resources._cache["mypkg"], dict) else "files")
    sys.path.remove(where)
read_all("/lib")
read_all("/frozen")
`;
      return runMicroPython(script, { libDir: disk, files });
    })());
  /** What the reading of the copy at `where` printed. */
  const readingOf = async (where: "/lib" | "/frozen") => {
    const result = await readBothImages();
    assert.equal(result.error, undefined);
    const sections = result.stdout.split(/^== /m);
    assert.equal(sections.length, 3, result.stdout);
    return sections[where === "/lib" ? 1 : 2]!;
  };

  test("MicroPython reads the resources from the files on disk (no R.py)", async () => {
    assert.equal(await readingOf("/lib"), `/lib/mypkg\n${expected}served by files\n`);
  });

  test("MicroPython reads the resources from R.py alone (data files deleted, as when frozen)", async () => {
    assert.equal(await readingOf("/frozen"), `/frozen/mypkg\n${expected}served by R.py\n`);
  });
});

describe("mpip pack metadata", () => {
  test("a declarative setup.cfg with a src layout gives the same archive as pyproject.toml", async () => {
    const srcSources = Object.fromEntries(Object.entries(SOURCES).map(([file, body]) => [file.startsWith("mypkg/") ? `src/${file}` : file, body]));
    const fromCfg = await writeProject({ "setup.cfg": SETUP_CFG.replace("[options]\n", "[options]\npackage_dir =\n    =src\n"), ...srcSources });
    const [toml, cfg] = [(await referencePack()).packed, await pack(fromCfg)];
    assert.equal(cfg.code, 0, cfg.stderr);
    assert.deepEqual(cfg.report.files, toml.report.files);
    assert.equal(cfg.report.sha256, toml.report.sha256);
    assert.equal(cfg.report.path, path.join(fromCfg, "dist", "micropython-mypkg-1.0.tar.gz"));
  });

  test("a project with only setup.py is an error that shows a pyproject.toml; setup.py is not run", async () => {
    const dir = await writeProject({ "setup.py": SOURCES["setup.py"]!, "mypkg/__init__.py": "" });
    const result = await runMpip(["pack", dir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: `.*` declares its metadata only in `setup\.py`.*mpip never runs setup\.py\n/);
    assert.match(result.stderr, /hint: declare the metadata in `pyproject\.toml`; a minimal one:\n\n\[project\]\nname = "micropython-mylib"\nversion = "1\.0\.0"/);
    assert.deepEqual(await listFiles(dir), ["mypkg/__init__.py", "setup.py"]);
  });

  const failures: Array<[string, Files, RegExp]> = [
    ["a missing version", { "pyproject.toml": '[project]\nname = "foo"\n' }, /`pyproject\.toml`: `project\.version` is missing[\s\S]*hint: add `version = "1\.0\.0"` under `\[project\]`/],
    ["a dynamic version", { "pyproject.toml": '[project]\nname = "foo"\ndynamic = ["version"]\n' }, /`project\.dynamic` lists `version`: mpip never runs a build backend[\s\S]*hint: write `version` in `\[project\]`/],
    ["a setup.cfg without version", { "setup.cfg": "[metadata]\nname = foo\n" }, /`setup\.cfg`: `metadata\.version` is missing/],
    ["an invalid version", { "pyproject.toml": '[project]\nname = "foo"\nversion = "1.0-banana"\n' }, /`project\.version` is `1\.0-banana`, which is not a valid PEP 440 version/],
    ["an invalid name", { "pyproject.toml": '[project]\nname = "foo bar"\nversion = "1"\n' }, /`project\.name` is `foo bar`, which is not a valid package name/],
    ["an invalid dependency", { "pyproject.toml": '[project]\nname = "foo"\nversion = "1"\ndependencies = ["bar >= "]\n' }, /`project\.dependencies` has an invalid requirement: invalid requirement `bar >=`/],
    ["an invalid setup.cfg dependency", { "setup.cfg": "[metadata]\nname = foo\nversion = 1\n[options]\ninstall_requires =\n    ok\n    bad!\n" }, /`setup\.cfg`: `options\.install_requires` has an invalid requirement/],
    ["an unknown [tool.mpip] key", { "pyproject.toml": '[project]\nname = "foo"\nversion = "1"\n[tool.mpip]\nresource = false\n' }, /`tool\.mpip\.resource` is not a setting mpip knows/],
    ["a wrong type", { "pyproject.toml": '[project]\nname = "foo"\nversion = 1\n' }, /`project\.version` must be a string, not the number `1`/],
    ["nothing to pack", { "pyproject.toml": '[project]\nname = "foo"\nversion = "1"\n', "tests/__init__.py": "" }, /found no module or package to pack/],
  ];
  for (const [what, files, message] of failures) {
    test(`${what} is a clear error`, async () => {
      const dir = await writeProject(what === "nothing to pack" ? files : { "foo.py": "", ...files });
      const result = await runMpip(["pack", dir]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /bug/);
    });
  }

  test("[tool.mpip]: packages, modules, include, exclude, resources = false", async () => {
    const dir = await writeProject({
      "pyproject.toml": `${PYPROJECT}\n[tool.mpip]\npackages = ["mypkg"]\nmodules = ["extra"]\ninclude = ["config/*.json"]\nexclude = ["mypkg/data/*.bin"]\nresources = false\n`,
      ...SOURCES,
      "extra.py": "",
      "other.py": "",
      "config/board.json": "{}",
      "config/notes.txt": "",
    });
    const result = await pack(dir);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.report.files, [
      "config/board.json",
      "extra.py",
      "micropython_mypkg.egg-info/PKG-INFO",
      "micropython_mypkg.egg-info/requires.txt",
      "mypkg/__init__.py",
      "mypkg/data/empty.txt",
      "mypkg/data/page.html",
    ]);
  });

  test("a name longer than a ustar header holds is a clear error", async () => {
    const long = `mypkg/${"folder_with_a_long_name/".repeat(3)}file_with_a_long_name.html`;
    const dir = await writeProject({ "pyproject.toml": PYPROJECT, "mypkg/__init__.py": "", [long]: "x" });
    const result = await runMpip(["pack", dir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: cannot write `micropython-mypkg-1\.0\/mypkg\/folder_with_a_long_name\/.*file_with_a_long_name\.html` into the archive: its name is 1\d\d bytes long, more than the 100/);
    assert.match(result.stderr, /hint: .*shorten/);
  });
});

describe("mpip pack reproducibility", () => {
  test("the same sha256 twice, from another path, with another umask, other mtimes and modes", async () => {
    const { dir: first, packed: a } = await referencePack();
    const again = await pack(first, ["-o", path.join(work.dir, "repro-2")]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(again.report.sha256, a.report.sha256);

    // Another checkout: a deeper path, files written in another order, other mtimes, umask 077 and an executable bit.
    const second = path.join(work.dir, "elsewhere", "deeper", "checkout-b");
    const reversed = Object.entries({ "pyproject.toml": PYPROJECT, ...SOURCES }).reverse();
    for (const [file, body] of reversed) {
      await mkdir(path.dirname(path.join(second, file)), { recursive: true });
      await writeFile(path.join(second, file), body, { mode: file.endsWith(".py") ? 0o755 : 0o600 });
      await utimes(path.join(second, file), 1234567890, 1234567890 + reversed.length);
    }
    const third = path.join(work.dir, "umask-copy");
    const out = path.join(work.dir, "repro-3");
    const shell = await runCommand("sh", ["-c", `umask 077 && cp -R "$1" "$2" && "$3" "$4" pack "$2" -o "$5" --json`, "sh", second, third, process.execPath, path.join("bin", "mpip.js"), out], { env: { SOURCE_DATE_EPOCH: undefined } });
    assert.equal(shell.code, 0, shell.stderr);
    assert.equal((JSON.parse(shell.stdout) as PackReport).sha256, a.report.sha256);
    const b = await pack(second, ["-o", path.join(work.dir, "repro-4")]);
    assert.equal(b.report.sha256, a.report.sha256);
  });

  test("SOURCE_DATE_EPOCH sets the entry times, and so the bytes", async () => {
    const { dir, packed: plain } = await referencePack();
    const dated = await pack(dir, ["-o", path.join(work.dir, "dated")], { SOURCE_DATE_EPOCH: "1700000000" });
    const datedAgain = await pack(dir, ["-o", path.join(work.dir, "dated-again")], { SOURCE_DATE_EPOCH: "1700000000" });
    assert.notEqual(dated.report.sha256, plain.report.sha256);
    assert.equal(datedAgain.report.sha256, dated.report.sha256);
    const tar = gunzipSync(await readFile(dated.report.path));
    assert.equal(parseInt(tar.subarray(136, 147).toString("latin1"), 8), 1700000000);
  });
});
