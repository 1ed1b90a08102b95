// The lock as data and as pylock.toml text (src/lock/format.ts, toml.ts, read.ts, diff.ts): written in a
// fixed order whatever order the packages come in, parsed back (smol-toml, then mpip's reader) as what
// was written, text that TOML must escape escaped, and every way a lock can be malformed an error that
// names the file, the package and the field.

import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { parse as parseToml } from "smol-toml";
import { diffLocks } from "../../src/lock/diff.js";
import { absoluteInput, relativeInput, renderLock, type InputKind, type Lock, type LockedPackage } from "../../src/lock/format.js";
import { parseLock } from "../../src/lock/read.js";
import { keyValue } from "../../src/lock/toml.js";
import { evaluateMarker, parseMarker } from "../../src/spec/markers.js";
import { throwsMpip } from "../helpers/expect.js";

const DIR = path.resolve("/work/locks/app");
const FILE = path.join(DIR, "pylock.toml");
const hash = (digit: string) => digit.repeat(64);

const sdist: LockedPackage = {
  name: "Sensor_Lib",
  version: "1.0",
  origin: { type: "index", index: "https://host/pypi", kind: "pypi" },
  requested: true,
  dependencies: ["helper-lib"],
  artifact: { type: "dist", filename: "Sensor_Lib-1.0.tar.gz", file: { location: { type: "remote", url: "https://host/files/Sensor_Lib-1.0.tar.gz" }, sha256: hash("a"), size: 300 } },
};
const helper: LockedPackage = {
  name: "helper-lib",
  version: "1.2",
  origin: { type: "index", index: path.join(DIR, "wheelhouse"), kind: "find-links" },
  requested: false,
  dependencies: [],
  artifact: { type: "dist", filename: "helper-lib-1.2.tar.gz", file: { location: { type: "local", path: path.join(DIR, "wheelhouse", "helper-lib-1.2.tar.gz") }, sha256: hash("b"), size: 200 } },
};
const blinker: LockedPackage = {
  name: "blinker",
  version: "0.3",
  origin: { type: "index", index: "https://host/mip/v2", kind: "mip" },
  requested: true,
  dependencies: [],
  artifact: {
    type: "package-json",
    document: { location: { type: "remote", url: "https://host/mip/v2/package/py/blinker/0.3.json" }, sha256: hash("c"), size: 90 },
    // Document order, not sorted: the install record lists the files so.
    files: [
      { dest: "blinker/z.py", location: { type: "remote", url: "https://host/mip/v2/file/dd/dddddddd" }, sha256: hash("d"), size: 10 },
      { dest: "blinker/a.py", location: { type: "remote", url: "https://host/mip/v2/file/ee/eeeeeeee" }, sha256: hash("e"), size: 11 },
    ],
  },
};
const widget: LockedPackage = {
  name: "widgets",
  version: "",
  origin: { type: "direct", spec: "github:acme/widgets@v2", ref: "v2" },
  requested: true,
  dependencies: [],
  artifact: { type: "package-json", document: { location: { type: "remote", url: "https://raw/acme/widgets/v2/package.json" }, sha256: hash("f"), size: 50 }, files: [] },
};
const project: LockedPackage = {
  name: "my-app",
  version: "",
  origin: { type: "direct", spec: path.join(DIR, "src", "app") },
  requested: true,
  dependencies: ["Sensor_Lib"],
  artifact: { type: "project", path: path.join(DIR, "src", "app") },
};

const LOCK: Lock = {
  packages: [project, sdist, widget, blinker, helper],
  build: { compile: "mpy", firmware: { mpy: "6.2", arch: "xtensawin" } },
  inputs: { requirements: ["./src/app", "github:acme/widgets@v2"], constraints: ["ticker<2", "helper-lib!=1.1"], constraintFiles: [path.join(DIR, "pins", "constraints.txt")], indexUrls: ["https://host/mip/v2", "https://host/pypi"], findLinks: [path.join(DIR, "wheelhouse")], pre: false, noDeps: false },
};

describe("writing a lock", () => {
  test("packages sorted by name whatever order they come in, keys in PEP 751's order, paths relative to the lock, install order kept", () => {
    const text = renderLock(LOCK, DIR);
    assert.equal(renderLock({ ...LOCK, packages: [...LOCK.packages].reverse() }, DIR).replace(/install-order = .*/, ""), text.replace(/install-order = .*/, ""));
    const names = [...text.matchAll(/^\[\[packages\]\]\nname = "(.*)"$/gm)].map((match) => match[1]);
    assert.deepEqual(names, ["blinker", "helper-lib", "my-app", "sensor-lib", "widgets"]);
    assert.match(text, /^lock-version = "1\.0"\ncreated-by = "mpip"\n/);
    assert.match(text, /^install-order = \["my-app", "sensor-lib", "widgets", "blinker", "helper-lib"\]$/m);
    // The standard's keys in its order: name, version, dependencies, index, sdist.
    assert.match(text, /name = "sensor-lib"\nversion = "1\.0"\ndependencies = \[\n    \{ name = "helper-lib" \},\n\]\nindex = "https:\/\/host\/pypi"\nsdist = \{ name = "Sensor_Lib-1\.0\.tar\.gz", url = "https:\/\/host\/files\/Sensor_Lib-1\.0\.tar\.gz", size = 300, hashes = \{ sha256 = "a{64}" \} \}\n/);
    // A project folder: no version (PEP 751), its path relative to the lock.
    assert.match(text, /name = "my-app"\ndependencies = \[\n    \{ name = "sensor-lib" \},\n\]\ndirectory = \{ path = "src\/app" \}\n/);
    assert.match(text, /spec = "\.\/src\/app"/);
    // A find-links sdist: a path, and its folder in mpip's table rather than `index` (a folder is no index URL).
    assert.match(text, /name = "helper-lib"\nversion = "1\.2"\nsdist = \{ name = "helper-lib-1\.2\.tar\.gz", path = "wheelhouse\/helper-lib-1\.2\.tar\.gz"/);
    assert.match(text, /find-links = "\/work\/locks\/app\/wheelhouse"\nkind = "find-links"/);
    // A document's files in the document's order.
    assert.ok(text.indexOf("blinker/z.py") < text.indexOf("blinker/a.py"));
    assert.match(text, /name = "Sensor_Lib"/);
    assert.match(text, /\[tool\.mpip\]\narch = "xtensawin"\ncompile = "mpy"\n/);
    // The -f folders it was made with, relative to the lock as every path (kept absolute in memory).
    assert.match(text, /^find-links = \["wheelhouse"\]$/m);
    // The constraints applied, as written, and the files they came from, relative to the lock.
    assert.match(text, /^constraint-files = \["pins\/constraints\.txt"\]\nconstraints = \["ticker<2", "helper-lib!=1\.1"\]$/m);
    // A lock made with no constraints has neither key: it reads as a lock written before they were recorded.
    const unconstrained = renderLock({ ...LOCK, inputs: { ...LOCK.inputs!, constraints: [], constraintFiles: [] } }, DIR);
    assert.doesNotMatch(unconstrained, /^constraint/m);
    assert.deepEqual(parseLock(unconstrained, FILE).inputs, { ...LOCK.inputs, constraints: [], constraintFiles: [] });
  });

  test("what is written parses back, through smol-toml and mpip's reader, as what was locked", () => {
    const text = renderLock(LOCK, DIR);
    assert.doesNotThrow(() => parseToml(text));
    const read = parseLock(text, FILE);
    assert.deepEqual(read.build, LOCK.build);
    assert.deepEqual(read.inputs, LOCK.inputs);
    assert.deepEqual(read.packages.map((item) => ({ ...item, dependencies: [] })), LOCK.packages.map((item) => ({ ...item, dependencies: [] })));
    assert.deepEqual(read.skipped, []);
  });

  test("a lock of nothing still has `packages`, and reads back empty", () => {
    const text = renderLock({ ...LOCK, packages: [] }, DIR);
    assert.match(text, /^packages = \[\]$/m);
    assert.deepEqual(parseLock(text, FILE).packages, []);
  });

  test("strings TOML must escape are escaped: quotes, backslashes, newlines, control characters; a lone surrogate is refused", () => {
    for (const value of ['a "quoted" name', "back\\slash", "line\nbreak", "tab\there", "bell\u0007", "del\u007f", "é ü 中"]) {
      const line = keyValue("key", value);
      assert.equal(line.includes("\n"), false, line);
      assert.equal((parseToml(line) as { key: string }).key, value);
    }
    assert.equal(keyValue("a.b", 1), '"a.b" = 1');
    throwsMpip(() => keyValue("key", "bad\ud800"), "bad-metadata", "not valid Unicode");
  });
});

describe("[tool.mpip]'s folders: relative to the lock, read back as the same folders", () => {
  const base = path.resolve("/work/locks/app");
  const cases: Array<[string, InputKind, string, string]> = [
    // [as given, kind, kept (absolute), written relative to the lock]
    ["wheelhouse", "find-links", path.join(base, "wheelhouse"), "wheelhouse"],
    ["simple+d", "find-links", path.join(base, "simple+d"), "simple+d"],
    ["http:x", "find-links", path.join(base, "http:x"), "http:x"],
    ["../shared/dist", "find-links", path.resolve(base, "../shared/dist"), "../shared/dist"],
    ["simple+d", "index", `simple+${path.join(base, "d")}`, "simple+d"],
    ["mip+vendor", "index", `mip+${path.join(base, "vendor")}`, "mip+vendor"],
    // A folder named like a prefix or a URL, given as such (`./simple+d`), is written so that it reads back so.
    ["./simple+d", "index", path.join(base, "simple+d"), "./simple+d"],
    ["./http:x", "index", path.join(base, "http:x"), "./http:x"],
    ["https://host/simple", "index", "https://host/simple", "https://host/simple"],
    ["simple+https://host/simple", "index", "simple+https://host/simple", "simple+https://host/simple"],
    ["file:///srv/index", "index", "file:///srv/index", "file:///srv/index"],
  ];
  test("kept absolute, written relative, and read back the same", () => {
    for (const [given, kind, kept, written] of cases) {
      assert.equal(absoluteInput(given, kind, base), kept, `${kind} ${given}`);
      assert.equal(relativeInput(kept, kind, base), written, `${kind} ${given}`);
      assert.equal(absoluteInput(written, kind, base), kept, `${kind} ${given} read back`);
    }
  });
});

describe("reading a lock: what is refused, naming the file, the package and the field", () => {
  const base = 'lock-version = "1.0"\ncreated-by = "x"\n';
  const pkg = (body: string) => `${base}\n[[packages]]\nname = "thing"\nversion = "1.0"\n${body}\n`;
  const goodSdist = `sdist = { url = "https://host/thing-1.0.tar.gz", hashes = { sha256 = "${hash("1")}" } }`;

  test("not TOML, no lock-version, an unknown major version", () => {
    throwsMpip(() => parseLock("lock-version = ", FILE), "bad-lock", "pylock.toml", "is not valid TOML");
    throwsMpip(() => parseLock("created-by = \"x\"\npackages = []\n", FILE), "bad-lock", "`lock-version` is missing");
    throwsMpip(() => parseLock('lock-version = "2.0"\npackages = []\n', FILE), "bad-lock", "lock of version 2.0", "lock-version 1.x");
    throwsMpip(() => parseLock('lock-version = "one"\npackages = []\n', FILE), "bad-lock", "not a version");
  });

  test("a newer minor version is read, each unknown key warned about", () => {
    const read = parseLock(`lock-version = "1.3"\nfuture-key = 1\n\n[[packages]]\nname = "thing"\nversion = "1.0"\nshiny = true\n${goodSdist}\n`, FILE);
    assert.equal(read.packages.length, 1);
    assert.equal(read.warnings.length, 2);
    assert.match(read.warnings.join("\n"), /`future-key` is not a key of lock-version 1\.0/);
    assert.match(read.warnings.join("\n"), /package `thing` \(packages\[0\]\): `shiny` is not a key/);
  });

  test("fields of the wrong kind, missing hashes, two sources, a URL that is not http", () => {
    throwsMpip(() => parseLock(`${base}packages = "x"\n`, FILE), "bad-lock", "`packages` is missing or not an array");
    throwsMpip(() => parseLock(`${base}\n[[packages]]\nversion = "1"\n`, FILE), "bad-lock", "packages[0]", "has no `name`");
    // A name is written into the install record: one no package can have is refused (micropython-lib's `__future__` is one).
    for (const name of ["../../../../tmp/ESCAPED", "a b", "-dash", "<b>x</b>"]) {
      throwsMpip(() => parseLock(`${base}\n[[packages]]\nname = ${JSON.stringify(name)}\nversion = "1"\n`, FILE), "bad-lock", "packages[0]", "which is no package name");
    }
    assert.doesNotThrow(() => parseLock(`${base}\n[[packages]]\nname = "__future__"\nversion = "0.1"\nsdist = { url = "https://host/x-0.1.tar.gz", hashes = { sha256 = "${hash("1")}" } }\n`, FILE));
    throwsMpip(() => parseLock(pkg('sdist = { url = "https://host/thing-1.0.tar.gz", hashes = { md5 = "abc" } }'), FILE), "bad-lock", "package `thing` (packages[0])", "`sdist.hashes` gives no sha256", "only `md5`");
    throwsMpip(() => parseLock(pkg('sdist = { url = "https://host/thing-1.0.tar.gz" }'), FILE), "bad-lock", "`sdist.hashes` gives no sha256");
    throwsMpip(() => parseLock(pkg(`sdist = { url = "ftp://host/thing-1.0.tar.gz", hashes = { sha256 = "${hash("1")}" } }`), FILE), "bad-lock", "`sdist.url`", "not an http or https URL");
    throwsMpip(() => parseLock(pkg(`sdist = { hashes = { sha256 = "${hash("1")}" } }`), FILE), "bad-lock", "`sdist` must give either `url` or `path`");
    throwsMpip(() => parseLock(pkg(`${goodSdist}\ndirectory = { path = "." }`), FILE), "bad-lock", "names more than one source");
    throwsMpip(() => parseLock(pkg(`sdist = { url = "https://host/thing-1.0.tar.gz", size = -1, hashes = { sha256 = "${hash("1")}" } }`), FILE), "bad-lock", "`sdist.size` must be a whole number");
    throwsMpip(() => parseLock(pkg(""), FILE), "bad-lock", "names no file to install");
    throwsMpip(() => parseLock(pkg(`${goodSdist}\n[packages.tool.mpip]\nkind = "ftp"`), FILE), "bad-lock", "`tool.mpip.kind` is `ftp`");
    throwsMpip(() => parseLock(pkg(`${goodSdist}\n[packages.tool.mpip]\nname = "other"`), FILE), "bad-lock", "`tool.mpip.name` (`other`) is another name");
    throwsMpip(() => parseLock(pkg('[packages.tool.mpip]\nartifact = "package-json"\nfiles = []'), FILE), "bad-lock", "`tool.mpip.document` is missing");
    throwsMpip(() => parseLock(`${pkg(goodSdist)}\n[tool.mpip]\ncompile = "fast"\n`, FILE), "bad-lock", "`tool.mpip.compile` is `fast`");
  });

  test("every value mpip acts on is checked, the error naming the file, the package and the key: names, versions, URLs, paths, specs, refs, destinations, firmware", () => {
    const doc = `document = { url = "https://host/p/w.json", hashes = { sha256 = "${hash("2")}" } }`;
    const mip = (files: string, extra = "") => pkg(`\n[packages.tool.mpip]\nartifact = "package-json"\n${doc}\nfiles = [${files}]\n${extra}`);
    const file = (dest: string, digit = "3") => `{ dest = ${JSON.stringify(dest)}, url = "https://host/f/${digit}", hashes = { sha256 = "${hash(digit)}" } }`;
    const direct = (spec: string, ref?: string) => mip(file("w.py"), `spec = ${JSON.stringify(spec)}${ref === undefined ? "" : `\nref = ${JSON.stringify(ref)}`}`);
    const cases: Array<[string, string[]]> = [
      // A version an sdist's record and METADATA would carry; a mip document's may be any short text.
      [pkg(goodSdist).replace('\nversion = "1.0"', '\n' + 'version = "../../1.0"'), ["package `thing` (packages[0])", "`version` (`../../1.0`) is not a valid PEP 440 version"]],
      [mip(file("w.py")).replace('\nversion = "1.0"', '\n' + 'version = "1.0\\n--index-url https://evil"'), ["`version`", "holds a control character"]],
      // An sdist's file name is a path of a download folder.
      [pkg(`sdist = { name = "../../evil.tar.gz", url = "https://host/thing-1.0.tar.gz", hashes = { sha256 = "${hash("1")}" } }`), ["`sdist.name` (`../../evil.tar.gz`) names a folder too"]],
      [pkg(`sdist = { name = ".hidden.tar.gz", url = "https://host/thing-1.0.tar.gz", hashes = { sha256 = "${hash("1")}" } }`), ["`sdist.name`", "starts with `.`"]],
      // URLs: the package's index, a file's; paths.
      [pkg(`index = "javascript:alert(1)"\n${goodSdist}`), ["`index` (`javascript:alert(1)`) is not an http or https URL"]],
      [pkg(`sdist = { url = "https://host/a b.tar.gz", hashes = { sha256 = "${hash("1")}" } }`), ["`sdist.url`", "white space"]],
      [pkg(`sdist = { path = "dist/x\\u0000.tar.gz", hashes = { sha256 = "${hash("1")}" } }`), ["`sdist.path`", "control character"]],
      [pkg('directory = { path = "app", subdirectory = "../../etc" }'), ["`directory.subdirectory` (`../../etc`) has a `..` segment"]],
      // Destinations in the target, and one destination twice.
      [mip(`${file("w/a.py")}, ${file("w//a.py", "4")}`), ["`tool.mpip.files[0]` and `tool.mpip.files[1]` both go to `w/a.py`"]],
      [pkg(`${goodSdist}\n[packages.tool.mpip]\nartifact = "wheel"`), ["`tool.mpip.artifact` is `wheel`"]],
      // Specs and refs: recorded, printed by freeze, expanded into URLs.
      [direct("ftp://host/w.json"), ["`tool.mpip.spec` (`ftp://host/w.json`) is a URL of a scheme mpip does not fetch"]],
      [direct("https://host/w.json\\nx"), ["`tool.mpip.spec`", "control character"]],
      [direct("github:acme/../w@v1", "v1"), ["`tool.mpip.spec`", "is no source mpip can fetch"]],
      [direct("github:acme/widget", "../../evil/repo/main"), ["`tool.mpip.ref` (`../../evil/repo/main`)", "is no source mpip can fetch"]],
      [direct("github:acme/widget@v1", "v2"), ["`tool.mpip.ref` (`v2`) is another ref than the spec's own (`@v1`)"]],
      [direct("https://host/w.json", "main"), ["`tool.mpip.ref` (`main`) is given for a spec that is no"]],
      [mip(file("w.py"), 'ref = "main"'), ["`tool.mpip.ref` is given without `tool.mpip.spec`"]],
      [pkg(`${goodSdist}\n[packages.tool.mpip]\nfolder = "vendor\\u0007"\nkind = "find-links"`), ["`tool.mpip.folder`", "control character"]],
      // The lock's own [tool.mpip]: firmware, indexes, folders, files, the install order.
      [`${pkg(goodSdist)}\n[tool.mpip]\nmpy = "9"\n`, ["`tool.mpip.mpy` (`9`) is not an .mpy version mpip knows"]],
      [`${pkg(goodSdist)}\n[tool.mpip]\nmpy = "6.7"\n`, ["`tool.mpip.mpy` (`6.7`)"]],
      [`${pkg(goodSdist)}\n[tool.mpip]\nmpy = "6"\narch = "z80"\n`, ["`tool.mpip.arch` (`z80`) is not a native architecture mpip knows"]],
      [`${pkg(goodSdist)}\n[tool.mpip]\narch = "xtensawin"\n`, ["`tool.mpip.arch` (`xtensawin`) is given without `mpy`"]],
      [`${pkg(goodSdist)}\n[tool.mpip]\nindex-urls = ["gopher://host/x"]\n`, ["`tool.mpip.index-urls` (`gopher://host/x`) is not an http or https URL"]],
      [`${pkg(goodSdist)}\n[tool.mpip]\nfind-links = [""]\n`, ["`tool.mpip.find-links` (``) is empty"]],
      [`${pkg(goodSdist)}\n[tool.mpip]\nconstraint-files = ["pins\\u001b[2J.txt"]\n`, ["`tool.mpip.constraint-files`", "control character"]],
      [`${pkg(goodSdist)}\n[tool.mpip]\ninstall-order = ["thing", "../x"]\n`, ["`tool.mpip.install-order` (`../x`) is no package name"]],
    ];
    // A destination out of the target is unsafe-path, as install's refusal of one in a package document.
    for (const [dest, reason] of [["../../boot.py", "`..`"], ["/etc/passwd", "absolute"], ["a\\\\b.py", "backslash"], ["CON.py", "device"]] as const) {
      throwsMpip(() => parseLock(mip(file(dest)), FILE), "unsafe-path", "package `thing` (packages[0])", "`tool.mpip.files[0].dest`", "is refused", reason);
    }
    for (const [text, fragments] of cases) throwsMpip(() => parseLock(text, FILE), "bad-lock", "`/work/locks/app/pylock.toml`".replace(/\//g, path.sep), ...fragments);
    // What is fine stays fine: a document's version that is no PEP 440 version, a shorthand at its ref,
    // a ref inherited by a spec without one, a firmware with its architecture.
    assert.equal(parseLock(mip(file("w.py")).replace('\nversion = "1.0"', '\n' + 'version = "2024-01 build"'), FILE).packages[0]!.version, "2024-01 build");
    assert.doesNotThrow(() => parseLock(direct("github:acme/widget@v1", "v1"), FILE));
    assert.doesNotThrow(() => parseLock(direct("github:acme/widget/sub", "feature/x"), FILE));
    assert.deepEqual(parseLock(`${pkg(goodSdist)}\n[tool.mpip]\nmpy = "6.2"\narch = "xtensawin"\n`, FILE).build, { compile: "no", firmware: { mpy: "6.2", arch: "xtensawin" } });
  });

  test("a marker that does not hold on MicroPython skips its package; `environments` must hold one; lock markers may test `extras` and `dependency_groups`", () => {
    const read = parseLock(`${base}default-groups = ["device"]\n\n[[packages]]\nname = "winonly"\nversion = "1"\nmarker = "sys_platform == 'win32'"\n${goodSdist}\n\n[[packages]]\nname = "thing"\nversion = "1.0"\nmarker = "'device' in dependency_groups and 'docs' not in extras"\n${goodSdist}\n\n[[packages]]\nname = "docs-only"\nversion = "1"\nmarker = "'docs' in extras"\n${goodSdist}\n`, FILE);
    assert.deepEqual(read.packages.map((item) => item.name), ["thing"]);
    assert.deepEqual(read.skipped.map((item) => item.name), ["winonly", "docs-only"]);
    throwsMpip(() => parseLock(`${base}environments = ["sys_platform == 'linux'", "sys_platform == 'darwin'"]\npackages = []\n`, FILE), "bad-lock", "is for `sys_platform == 'linux'` or `sys_platform == 'darwin'`", "MicroPython is none of them");
    assert.equal(parseLock(`${base}environments = ["implementation_name == 'micropython'"]\npackages = []\n`, FILE).packages.length, 0);
    throwsMpip(() => parseLock(pkg(`marker = "bogus == '1'"\n${goodSdist}`), FILE), "bad-lock", "package `thing`", "the marker `bogus == '1'` cannot be read");
  });

  test("a name two entries give for MicroPython is an error; entries one marker tells apart are not", () => {
    const twice = `${base}\n[[packages]]\nname = "thing"\nversion = "1"\n${goodSdist}\n\n[[packages]]\nname = "Thing"\nversion = "2"\n${goodSdist}\n`;
    throwsMpip(() => parseLock(twice, FILE), "bad-lock", "is listed twice for MicroPython (packages[0] and packages[1])");
    const apart = twice.replace('version = "2"', "version = \"2\"\nmarker = \"sys_platform == 'win32'\"");
    assert.deepEqual(parseLock(apart, FILE).packages.map((item) => item.version), ["1"]);
  });

  test("packages mpip cannot install are one error naming every one: wheels only, a wheel archive, vcs, an archive with a subdirectory", () => {
    const wheel = `wheels = [{ url = "https://host/x-1-py3-none-any.whl", hashes = { sha256 = "${hash("2")}" } }]`;
    const text = [
      base,
      `[[packages]]\nname = "attrs"\nversion = "25.1"\n${wheel}\n`,
      `[[packages]]\nname = "numpy"\nversion = "2.2"\n${wheel}\n`,
      `[[packages]]\nname = "tool"\nversion = "1"\narchive = { url = "https://host/tool-1-py3-none-any.whl", hashes = { sha256 = "${hash("3")}" } }\n`,
      `[[packages]]\nname = "gitty"\nvcs = { type = "git", url = "https://host/gitty.git", commit-id = "abc" }\n`,
      `[[packages]]\nname = "subby"\narchive = { url = "https://host/subby.tar.gz", subdirectory = "sub", hashes = { sha256 = "${hash("4")}" } }\n`,
      `[[packages]]\nname = "thing"\nversion = "1.0"\n${goodSdist}\n${wheel}\n`,
    ].join("\n");
    const error = throwsMpip(() => parseLock(text, FILE), "bad-lock", "has 5 packages mpip cannot install on MicroPython", "`attrs 25.1` has only wheels", "`numpy 2.2` has only wheels", "`tool 1` has only a wheel", "`gitty` comes from version control (`vcs`)", "`subby` is an archive with a `subdirectory`");
    assert.doesNotMatch(error.message, /thing/);
  });
});

describe("comparing locks (mpip lock --check)", () => {
  test("the same lock: no change; each kind of change is a line", () => {
    assert.deepEqual(diffLocks(LOCK, LOCK), []);
    const bumped: LockedPackage = { ...sdist, version: "1.1", artifact: { ...sdist.artifact, file: { ...(sdist.artifact as { file: object }).file, sha256: hash("9") } } as LockedPackage["artifact"] };
    const tampered: LockedPackage = { ...blinker, artifact: { ...(blinker.artifact as Extract<LockedPackage["artifact"], { type: "package-json" }>), files: [{ ...(blinker.artifact as Extract<LockedPackage["artifact"], { type: "package-json" }>).files[0]!, sha256: hash("0") }, (blinker.artifact as Extract<LockedPackage["artifact"], { type: "package-json" }>).files[1]!] } };
    const now: Lock = { ...LOCK, packages: [project, bumped, tampered, { ...helper, name: "newcomer" }], build: { compile: "no" } };
    const lines = diffLocks(LOCK, now).map((change) => change.text);
    assert.deepEqual(lines, [
      `~ blinker: sha256 of \`blinker/z.py\` ${"d".repeat(12)}… → ${"0".repeat(12)}…`,
      "- helper-lib 1.2",
      "+ newcomer 1.2",
      `~ sensor-lib: version 1.0 → 1.1, sha256 of the sdist ${"a".repeat(12)}… → ${"9".repeat(12)}…`,
      "- widgets",
      '~ [tool.mpip] mpy: "6.2" → (none)',
      '~ [tool.mpip] arch: "xtensawin" → (none)',
      '~ [tool.mpip] compile: "mpy" → "no"',
    ]);
  });
});

describe("lock markers", () => {
  test("`extras` and `dependency_groups` are variables of lock files only; PEP 508 requirements still refuse them", () => {
    throwsMpip(() => parseMarker("'dev' in dependency_groups"), "bad-requirement", "unknown marker variable `dependency_groups`");
    const marker = parseMarker("'Dev_Tools' in dependency_groups", { lockFile: true });
    assert.equal(evaluateMarker(marker), false);
    assert.equal(evaluateMarker(marker, undefined, { dependency_groups: ["dev-tools"] }), true);
    assert.equal(evaluateMarker(parseMarker("extras == 'x'", { lockFile: true }), undefined, { extras: ["x"] }), false);
  });
});
