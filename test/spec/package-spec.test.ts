import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { parseMipDependency, parsePackageSpec, type SpecContext } from "../../src/spec/package-spec.js";
import { kindFromUrl, parseIndexLocation } from "../../src/sources/index-kind.js";
import { DEFAULT_INDEXES } from "../../src/install.js";
import { tempDir } from "../helpers/cli.js";

const hosts = { github: "https://gh.test", gitlab: "https://gl.test", codeberg: "https://cb.test" };
const context: SpecContext = { hosts, cwd: "/nonexistent" };

function directOf(text: string, ctx = context) {
  const spec = parsePackageSpec(text, ctx);
  assert.equal(spec.type, "direct", `${text} should be a direct source`);
  return spec.type === "direct" ? spec.direct : assert.fail();
}

function requirementOf(text: string) {
  const spec = parsePackageSpec(text, context);
  assert.equal(spec.type, "requirement", `${text} should be a requirement`);
  return spec.type === "requirement" ? spec.requirement : assert.fail();
}

describe("parsePackageSpec", () => {
  test("names and PEP 440 specifiers stay requirements; mip's name@version pins", () => {
    assert.equal(requirementOf("foo").specifier, "");
    assert.equal(requirementOf("foo>=1.0,<2").specifier, ">=1.0,<2");
    assert.equal(requirementOf("aioble@0.4").specifier, "==0.4");
    assert.equal(requirementOf("aioble@0.4").name, "aioble");
    assert.equal(requirementOf("aioble@latest").specifier, "");
    // Not PEP 440: matched as a string, exactly.
    assert.equal(requirementOf("thing@main-2").specifier, "===main-2");
    // A specifier after `@` is no version: said so, with the spec to write instead.
    for (const [text, hint] of [["vers@>=1", "'vers>=1'"], ["vers@==1.0", "'vers==1.0'"], ["vers@~=1.2", "'vers~=1.2'"], ["vers@=1", "'vers==1'"]] as const) {
      assert.throws(() => parsePackageSpec(text, context), (error: MpipError) => error.code === "bad-spec" && error.message.includes("takes one version, not a version specifier") && (error.hint ?? "").includes(hint), text);
    }
  });

  test("github:, gitlab: and codeberg: become package.json URLs on the configured hosts, with the ref", () => {
    const github = directOf("github:org/repo/lib/foo@v1.2");
    assert.deepEqual(github.artifact, { type: "package-json", location: { type: "remote", url: "https://gh.test/org/repo/v1.2/lib/foo/package.json" }, ref: { repo: "github:org/repo", ref: "v1.2" } });
    assert.equal(github.name, "foo");
    assert.equal(github.source, "github:org/repo/lib/foo@v1.2");
    assert.equal(directOf("gitlab:org/repo").artifact.type, "package-json");
    const gitlab = directOf("gitlab:org/repo").artifact;
    assert.equal(gitlab.type === "package-json" && gitlab.location.type === "remote" ? gitlab.location.url : "", "https://gl.test/org/repo/-/raw/HEAD/package.json");
    const codeberg = directOf("codeberg:org/repo/x.py@dev");
    assert.equal(codeberg.artifact.type, "module");
    assert.equal(codeberg.artifact.type === "module" ? codeberg.artifact.dest : "", "x.py");
  });

  test("URLs: sdists by file name, modules, documents, folders; #sha256= is checked, other fragments refused", () => {
    const sdist = directOf("https://host/files/foo_bar-1.2.tar.gz");
    assert.equal(sdist.key, "foo-bar");
    assert.equal(sdist.version, "1.2");
    const hashed = directOf(`https://host/m.py#sha256=${"AB".repeat(32)}`);
    assert.deepEqual(hashed.artifact, { type: "module", location: { type: "remote", url: "https://host/m.py" }, dest: "m.py", sha256: "ab".repeat(32) });
    assert.throws(() => parsePackageSpec("https://host/m.py#md5=00", context), (error: MpipError) => error.code === "bad-spec");
    const folder = directOf("https://host/repo/lib/thing");
    assert.equal(folder.artifact.type === "package-json" && folder.artifact.location.type === "remote" ? folder.artifact.location.url : "", "https://host/repo/lib/thing/package.json");
    assert.equal(folder.name, "thing");
    const named = directOf("Foo @ https://host/dl/foo-9.tar.gz");
    assert.equal(named.key, "foo");
    assert.equal(named.name, "Foo");
    // `name @ URL` names the project whatever the file is called; its PKG-INFO decides once fetched, and the version is PKG-INFO's.
    for (const url of ["https://host/dl/anything-9.tar.gz", "https://host/archive/v9.tar.gz"]) {
      const other = directOf(`foo @ ${url}`);
      assert.deepEqual([other.key, other.name, other.named, other.version], ["foo", "foo", true, undefined], url);
    }
    assert.throws(() => parsePackageSpec("https://host/archive/v9.tar.gz", context), (error: MpipError) => error.code === "bad-spec" && /write `NAME @ URL`/.test(error.hint ?? ""));
    // A version before ` @ ` is a malformed requirement, not a path.
    assert.throws(() => parsePackageSpec("leaf==1.0 @ https://host/x/leaf-1.0.tar.gz", context), (error: MpipError) => error.code === "bad-requirement" && error.message.includes("found `@ https://host/x/leaf-1.0.tar.gz`"));
    assert.throws(() => parsePackageSpec("ftp://host/x.tar.gz", context), (error: MpipError) => error.code === "bad-spec");
  });

  test("local paths: files by suffix, a folder with package.json, a project folder; a missing path is an error", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    await mkdir(path.join(dir, "mip-pkg"));
    await writeFile(path.join(dir, "mip-pkg", "package.json"), "{}");
    await mkdir(path.join(dir, "project"));
    await writeFile(path.join(dir, "project", "pyproject.toml"), '[project]\nname = "p"\nversion = "1"\n');
    await writeFile(path.join(dir, "project", "package.json"), "{}");
    // A pyproject.toml with no project metadata (empty, or only tools' settings) makes no project: the package.json serves.
    await mkdir(path.join(dir, "mip-linted"));
    await writeFile(path.join(dir, "mip-linted", "pyproject.toml"), "");
    await writeFile(path.join(dir, "mip-linted", "package.json"), "{}");
    const local = { hosts, cwd: dir };
    assert.equal(directOf("./mip-pkg", local).artifact.type, "package-json");
    assert.deepEqual(directOf("./project", local).artifact, { type: "project", path: path.join(dir, "project") });
    assert.equal(directOf("./mip-linted", local).artifact.type, "package-json");
    await writeFile(path.join(dir, "mod.mpy"), "M");
    assert.deepEqual(directOf("mod.mpy", local).artifact, { type: "module", location: { type: "local", path: path.join(dir, "mod.mpy") }, dest: "mod.mpy" });
    assert.throws(() => parsePackageSpec("./nothing-here", local), (error: MpipError) => error.code === "bad-spec" && error.message.includes("nothing at"));
  });

  test("a project named like a file (`discord.py`, `conf.json`) is the project where no such file is here; an archive's name is always a path", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const local = { hosts, cwd: dir };
    for (const name of ["sensor.py", "discord.py", "conf.json", "fast.mpy"]) {
      const spec = parsePackageSpec(name, local);
      assert.equal(spec.type === "requirement" ? spec.requirement.name : spec.type, name);
      const marked = parsePackageSpec(`${name} ; sys_platform == "win32"`, local);
      assert.ok(marked.type === "requirement" && marked.requirement.marker !== undefined, name);
    }
    await writeFile(path.join(dir, "sensor.py"), "");
    assert.equal(directOf("sensor.py", local).artifact.type, "module");
    assert.throws(() => parsePackageSpec("foo-1.0.tar.gz", local), (error: MpipError) => error.code === "bad-spec" && error.message.includes("nothing at"));
    assert.throws(() => parsePackageSpec("./other.py", local), (error: MpipError) => error.code === "bad-spec" && error.message.includes("nothing at"));
  });

  test("pip's `URL ; marker` and `path ; marker`: the marker is split off (after `; ` for a URL, `;` for a path)", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    await writeFile(path.join(dir, "foo-1.0.tar.gz"), "not read here");
    const local = { hosts, cwd: dir };
    for (const [text, url] of [
      ['https://host/dl/foo-1.0.tar.gz ; sys_platform == "win32"', "https://host/dl/foo-1.0.tar.gz"],
      ['https://host/dl/foo-1.0.tar.gz; python_version >= "3"', "https://host/dl/foo-1.0.tar.gz"],
      ["https://host/lib/thing.py ; implementation_name == 'micropython'", "https://host/lib/thing.py"],
    ] as const) {
      const spec = directOf(text, local);
      assert.ok(spec.marker !== undefined, text);
      const location = spec.artifact.type === "dist" ? spec.artifact.file.location : spec.artifact.type === "module" ? spec.artifact.location : undefined;
      assert.deepEqual(location, { type: "remote", url }, text);
    }
    for (const text of ['./foo-1.0.tar.gz ; sys_platform == "win32"', 'foo-1.0.tar.gz;sys_platform=="win32"', `${pathToFileURL(path.join(dir, "foo-1.0.tar.gz")).href} ; os_name == "nt"`]) {
      const spec = directOf(text, local);
      assert.ok(spec.marker !== undefined, text);
      assert.deepEqual([spec.key, spec.version, spec.source], ["foo", "1.0", path.join(dir, "foo-1.0.tar.gz")], text);
    }
    // An empty marker is none; one that does not parse is the line's error.
    assert.equal(directOf("./foo-1.0.tar.gz ;", local).marker, undefined);
    assert.throws(() => parsePackageSpec("https://host/dl/foo-1.0.tar.gz ; not a marker", local), (error: MpipError) => error.code === "bad-requirement" && error.message.startsWith("`https://host/dl/foo-1.0.tar.gz ; not a marker`: "));
  });

  test("file: URLs, bare or as `name @ file:///...` (as pip freeze writes them), are the local paths they name", async (t) => {
    const { dir, cleanup } = await tempDir();
    t.after(cleanup);
    const spaced = path.join(dir, "my dists");
    await mkdir(spaced);
    const archive = path.join(spaced, "foo_bar-1.2.tar.gz");
    await writeFile(archive, "not read here");
    await writeFile(path.join(dir, "mod.py"), "");
    await mkdir(path.join(dir, "project"));
    await writeFile(path.join(dir, "project", "pyproject.toml"), '[project]\nname = "p"\nversion = "1"\n');
    const local = { hosts, cwd: "/nonexistent" };
    const url = pathToFileURL(archive).href; // `my%20dists`: percent-escaped, as a file: URL is
    const expected = { type: "dist", file: { filename: "foo_bar-1.2.tar.gz", location: { type: "local", path: archive }, packagetype: "sdist", yanked: false } };
    for (const text of [url, url.replace("file:///", "file://localhost/"), `foo-bar @ ${url}`, `Foo.Bar@${url}`, `foo_bar @ ${url} ; sys_platform != "win32"`]) {
      const spec = directOf(text, local);
      assert.deepEqual([spec.key, spec.version, spec.source, spec.artifact], ["foo-bar", "1.2", archive, expected], text);
    }
    assert.ok(directOf(`foo-bar @ ${url} ; sys_platform != "win32"`, local).marker !== undefined);
    const hashed = directOf(`${url}#sha256=${"CD".repeat(32)}`, local);
    assert.equal(hashed.artifact.type === "dist" ? hashed.artifact.file.sha256 : "", "cd".repeat(32));
    assert.deepEqual(directOf(pathToFileURL(path.join(dir, "mod.py")).href, local).artifact, { type: "module", location: { type: "local", path: path.join(dir, "mod.py") }, dest: "mod.py" });
    assert.equal(directOf(pathToFileURL(path.join(dir, "project")).href, local).artifact.type, "project");
    const refused: Array<[string, RegExp]> = [
      [`other @ ${url}`, /is an sdist of `foo_bar`, not of `other`/],
      [`mod @ ${pathToFileURL(path.join(dir, "mod.py")).href}`, /must point at a \.tar\.gz sdist/],
      [`${pathToFileURL(path.join(dir, "mod.py")).href}#sha256=${"0".repeat(64)}`, /checked for an sdist \(\.tar\.gz\) only/],
      [`${url}#md5=00`, /is not `#sha256=/],
      [`file://elsewhere${archive}`, /is not a `file:` URL of a path on this machine/],
      [pathToFileURL(path.join(dir, "v1.2.tar.gz")).href, /nothing at/],
    ];
    for (const [text, message] of refused) assert.throws(() => parsePackageSpec(text, local), (error: MpipError) => error.code === "bad-spec" && message.test(error.message), text);
  });
});

describe("parseMipDependency", () => {
  test("names with versions pin, latest means any; URL dependencies take the version as their ref", () => {
    const pinned = parseMipDependency("core", "0.3", context);
    assert.equal(pinned.type === "requirement" ? pinned.requirement.specifier : "", "==0.3");
    const latest = parseMipDependency("core", "latest", context);
    assert.equal(latest.type === "requirement" ? latest.requirement.specifier : "x", "");
    const repo = parseMipDependency("github:org/lib", "main", context);
    assert.equal(repo.type === "direct" && repo.direct.artifact.type === "package-json" ? repo.direct.artifact.ref?.ref : "", "main");
    const head = parseMipDependency("github:org/lib", "latest", context);
    assert.equal(head.type === "direct" && head.direct.artifact.type === "package-json" && head.direct.artifact.location.type === "remote" ? head.direct.artifact.location.url : "", "https://gh.test/org/lib/HEAD/package.json");
  });
});

describe("index locations", () => {
  test("a kind prefix is taken off; the URL's shape tells the kind when it can", () => {
    assert.deepEqual(parseIndexLocation("simple+https://host/simple/"), { url: "https://host/simple", kind: "simple" });
    assert.deepEqual(parseIndexLocation("MIP+http://h/x"), { url: "http://h/x", kind: "mip" });
    assert.deepEqual(parseIndexLocation("https://h/repo/"), { url: "https://h/repo" });
    assert.equal(kindFromUrl("https://micropython.org/pi/v2"), "mip");
    assert.equal(kindFromUrl("https://pypi.org/pypi"), "pypi");
    assert.equal(kindFromUrl("https://host/root/+simple/"), "simple");
    assert.equal(kindFromUrl("https://host/artifactory/api/pypi/x"), undefined);
    // The default list needs no probing: micropython-lib's v2 index first, then PyPI's JSON API.
    assert.deepEqual(DEFAULT_INDEXES.map((url) => kindFromUrl(parseIndexLocation(url).url)), ["mip", "pypi"]);
    assert.throws(() => parseIndexLocation("mip+ftp://h/x"), (error: MpipError) => error.code === "usage");
    assert.throws(() => parseIndexLocation("user:token@host/pypi"), (error: MpipError) => error.code === "usage" && !error.message.includes("token"));
  });
});

describe("names made from file and folder names", () => {
  // Before, the stem went into the record as it was (`my mod`), and the record was then unreadable:
  // `mpip list` showed the files as unrecorded and `mpip uninstall` found nothing to remove.
  test("a name mip reads back stays as it is; any other is made one, from every kind of source named by a file or folder", async (t) => {
    const work = await tempDir("mpip-spec-names-");
    t.after(work.cleanup);
    const local: SpecContext = { hosts, cwd: work.dir };
    for (const [folder, file] of [["lib", "my mod.py"], ["lib", "weird@name!.py"], ["lib", "ünï.mpy"], ["my lib", "package.json"], ["lib", "_private.py"], ["lib", "Foo_Bar.baz.py"]] as const) {
      await mkdir(path.join(work.dir, folder), { recursive: true });
      await writeFile(path.join(work.dir, folder, file), file.endsWith(".json") ? "{}" : "X = 1\n");
    }
    const cases: Array<[string, SpecContext, string]> = [
      ["lib/my mod.py", local, "my-mod"],
      ["lib/weird@name!.py", local, "weird-name"],
      ["lib/ünï.mpy", local, "uni"],
      ["./my lib", local, "my-lib"],
      ["my lib/package.json", local, "my-lib"],
      ["lib/_private.py", local, "_private"],
      ["lib/Foo_Bar.baz.py", local, "Foo_Bar.baz"],
      ["https://example.test/a/my%20mod.py", context, "my-mod"],
      ["https://example.test/a/--odd--.py", context, "odd"],
      ["https://example.test/my%20lib/package.json", context, "my-lib"],
      ["https://example.test/.hidden/", context, "hidden"],
      ["https://example.test/a.b.c/package.json", context, "a.b.c"],
      ["github:org/repo/lib/a.b.c", context, "a.b.c"],
      ["github:org/repo/lib/tool.py", context, "tool"],
      ["github:org/repo/my lib@v1", context, "my-lib"],
    ];
    for (const [text, ctx, name] of cases) assert.equal(directOf(text, ctx).name, name, text);
  });

  test("a file or folder name with no ASCII letter or digit is refused, naming the spec", async (t) => {
    for (const text of ["https://example.test/a/%40%40.py", "https://example.test/a/日本.py", "https://example.test/---/package.json"]) {
      assert.throws(() => parsePackageSpec(text, context), (error: MpipError) => error.code === "bad-spec" && error.message.includes(text) && /no ASCII letter or digit/.test(error.message), text);
    }
    const work = await tempDir("mpip-spec-names-");
    t.after(work.cleanup);
    await writeFile(path.join(work.dir, "__.py"), "X = 1\n");
    assert.throws(() => parsePackageSpec("./__.py", { hosts, cwd: work.dir }), (error: MpipError) => error.code === "bad-spec" && error.message.includes("`./__.py`"));
  });
});
