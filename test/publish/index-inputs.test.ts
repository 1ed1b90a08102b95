// What `mpip index build` accepts as input, and how: every input goes through install's hostile-input
// checks (an sdist's member names, a package.json's file names), a release must have a name and a version
// an index can list, a package.json's dependency must be one an sdist's requires.txt can name, a release is
// given once, and dependencies become mip's `[name, version]` pairs (a range as the latest, with a warning;
// a marker that does not hold on MicroPython left out). The PyPI JSON pages answer every spelling a
// client asks for. Usage errors exit 2.
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Reporter } from "../../src/log.js";
import { readSdist } from "../../src/pack/read-sdist.js";
import { buildIndex } from "../../src/publish/build.js";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { rejectsMpip, writeTree } from "../helpers/expect.js";
import { buildSdist } from "../helpers/sdist.js";

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir, cleanup } = await tempDir("mpip-index-inputs-"));
});
after(() => cleanup());

const quiet = () => new Reporter({ verbosity: "quiet" });
const build = (sources: string[], output: string) => buildIndex({ sources, output, jobs: 4, reporter: quiet() });
const exists = (file: string) => stat(file).then(() => true, () => false);

describe("index build inputs", () => {
  test("hostile inputs are refused with install's checks, and nothing is written", async () => {
    const evil = path.join(dir, "evil-1.0.tar.gz");
    await writeFile(evil, await buildSdist({ name: "evil", version: "1.0", files: { "evil.py": "E = 1\n" } }, { extraEntries: [{ name: "evil-1.0/../../escape.py", type: "file", content: "X = 1\n" }] }));
    const out = path.join(dir, "hostile-out");
    await rejectsMpip(build([evil], out), "unsafe-path", "escape.py");
    const outside = await writeTree(path.join(dir, "reacher"), { "package.json": JSON.stringify({ version: "1.0", urls: [["reacher.py", "../secret.py"]] }) });
    await writeFile(path.join(dir, "secret.py"), "SECRET = 1\n");
    await rejectsMpip(build([outside], out), "unsafe-path", "../secret.py", "outside");
    const linked = await writeTree(path.join(dir, "linked"), { "package.json": JSON.stringify({ version: "1.0", urls: [["Linked.py", "a.py"], ["linked.py", "b.py"]] }), "a.py": "A = 1\n", "b.py": "B = 1\n" });
    await rejectsMpip(build([linked], out), "unsafe-path", "linked.py");
    assert.deepEqual(await listFiles(out), []);
  });

  test("a release needs a version, dependencies an sdist can name, and is given once", async () => {
    const out = path.join(dir, "metadata-out");
    const unversioned = await writeTree(path.join(dir, "unversioned"), { "package.json": JSON.stringify({ urls: [["u.py", "u.py"]] }), "u.py": "U = 1\n" });
    const error = await rejectsMpip(build([unversioned], out), "bad-metadata", "`", "no version");
    assert.match(error.hint ?? "", /"version"/);
    // Versions mpip cannot compare (a number past 2^53 − 1) would sort anywhere: in the release, the epoch, a dev number.
    for (const [folder, version, number] of [["huge-release", "1.99999999999999999999", "99999999999999999999"], ["huge-epoch", "99999999999999999!1.0", "99999999999999999"], ["huge-dev", "1.0.dev123456789012345678", "123456789012345678"]]) {
      const huge = await writeTree(path.join(dir, folder!), { "package.json": JSON.stringify({ version, urls: [["h.py", "h.py"]] }), "h.py": "H = 1\n" });
      await rejectsMpip(build([huge], out), "bad-metadata", `the version \`${version}\``, `holds the number ${number}`, "in PEP 440 order");
    }
    const byUrl = await writeTree(path.join(dir, "by-url"), { "package.json": JSON.stringify({ version: "1.0", urls: [["w.py", "w.py"]], deps: [["github:org/helper", "main"]] }), "w.py": "W = 1\n" });
    await rejectsMpip(build([byUrl], out), "bad-metadata", "`github:org/helper", "requires.txt");
    const sdist = path.join(dir, "twice-1.0.tar.gz");
    await writeFile(sdist, await buildSdist({ name: "twice", version: "1.0", files: { "twice.py": "T = 1\n" } }));
    const project = await writeTree(path.join(dir, "twice-project"), { "pyproject.toml": '[project]\nname = "twice"\nversion = "1.0"\n', "twice.py": "T = 2\n" });
    await rejectsMpip(build([sdist, project], out), "version-conflict", "both `twice 1.0`");
    // The same PEP 440 version spelled otherwise is the same release: in one build, and against an earlier one.
    const respelled = await writeTree(path.join(dir, "twice-respelled"), { "pyproject.toml": '[project]\nname = "Twice"\nversion = "1.0.0"\n', "twice.py": "T = 3\n" });
    await rejectsMpip(build([sdist, respelled], out), "version-conflict", "are both `Twice 1.0.0`");
    const earlier = path.join(dir, "earlier-out");
    await build([sdist], earlier);
    await rejectsMpip(build([respelled], earlier), "version-conflict", "`Twice 1.0.0`", "the version `1.0`", "spelled otherwise");
    const module = path.join(dir, "lonely.py");
    await writeFile(module, "L = 1\n");
    await rejectsMpip(build([module], out), "usage", "a single module");
    assert.equal(await exists(path.join(out, "index.json")), false);
  });

  test("dependencies become mip's pairs, inputs are paths however written, and the PyPI pages answer each spelling of a name", async () => {
    const out = path.join(dir, "deps-out");
    const project = await writeTree(path.join(dir, "Garden_Kit"), {
      "pyproject.toml": '[project]\nname = "Garden_Kit"\nversion = "0.1"\ndependencies = ["soil>=1.0", "Rain_Gauge==2.0", "desktop-only; sys_platform == \'win32\'", "Soil_Probe==1.0.0", "moss==v0.2"]\n',
      "garden_kit.py": "G = 1\n",
    });
    const gauge = path.join(dir, "rain-gauge-2.0.tar.gz");
    await writeFile(gauge, await buildSdist({ name: "rain-gauge", version: "2.0", files: { "rain_gauge.py": "R = 1\n" } }));
    const probe = path.join(dir, "soil-probe-1.0.tar.gz");
    await writeFile(probe, await buildSdist({ name: "soil-probe", version: "1.0", files: { "soil_probe.py": "P = 1\n" } }));
    const moss = await writeTree(path.join(dir, "mosses", "moss"), { "package.json": JSON.stringify({ version: "0.2", urls: [["moss.py", "moss.py"]] }), "moss.py": "M = 1\n" });
    // Published before the index holds its dependencies, the document spells them as the metadata does ...
    const early = path.join(dir, "deps-early-out");
    await build([project], early);
    const earlyDocument = await readFile(path.join(early, "package", "py", "Garden_Kit", "0.1.json"), "utf8");
    assert.deepEqual((JSON.parse(earlyDocument) as { deps: unknown }).deps, [["soil", ""], ["Rain_Gauge", "2.0"], ["Soil_Probe", "1.0.0"], ["moss", "v0.2"]]);
    // ... and building every input again, the dependencies among them, keeps it: it is the same release.
    await build([project, gauge, probe, moss], early);
    assert.equal(await readFile(path.join(early, "package", "py", "Garden_Kit", "0.1.json"), "utf8"), earlyDocument);
    const reporter = quiet();
    // A folder named bare (`Garden_Kit`, relative to the current folder) is a path, not a package's name.
    const report = await buildIndex({ sources: ["Garden_Kit", gauge, probe, moss], cwd: dir, output: out, jobs: 4, reporter });
    assert.deepEqual(report.warnings, ["`" + project + "` needs `soil>=1.0`, which the v2 index (mip's) can only list as `soil` at its latest version"]);
    // A dependency the index publishes is named, and its pinned version spelled, as the index has them: mip asks verbatim.
    for (const flavor of ["py", "6"]) {
      const document = JSON.parse(await readFile(path.join(out, "package", flavor, "Garden_Kit", "0.1.json"), "utf8")) as { deps: unknown };
      assert.deepEqual(document.deps, [["soil", ""], ["rain-gauge", "2.0"], ["soil-probe", "1.0"], ["moss", "0.2"]], flavor);
    }
    const files = await listFiles(out);
    for (const page of ["pypi/garden-kit/json", "pypi/Garden_Kit/json", "pypi/Garden_Kit/0.1/json", "pypi/rain-gauge/json", "pypi/Rain_Gauge/json", "pypi/Rain_Gauge/2.0/json", "simple/garden-kit/index.html"]) {
      assert.ok(files.includes(page), `${page} in ${files.join(", ")}`);
    }
    assert.equal(await readFile(path.join(out, "pypi", "Rain_Gauge", "json"), "utf8"), await readFile(path.join(out, "pypi", "rain-gauge", "json"), "utf8"));
  });

  test("an sdist whose dependencies upip cannot read is published with a requires.txt it reads; one upip reads is published as it is", async () => {
    const out = path.join(dir, "requires-out");
    const modern = path.join(dir, "modern-1.0.tar.gz");
    await writeFile(modern, await buildSdist({ name: "modern", version: "1.0", files: { "modern.py": "M = 1\n" }, requiresDist: ["tiny-util>=0.1", "winonly; sys_platform == 'win32'"] }));
    const sectioned = path.join(dir, "sectioned-1.0.tar.gz");
    await writeFile(sectioned, await buildSdist({ name: "sectioned", version: "1.0", files: { "sectioned.py": "S = 1\n" }, requires: ["tiny-util", "[fast]", "speedups"] }));
    const plain = path.join(dir, "plain-1.0.tar.gz");
    await writeFile(plain, await buildSdist({ name: "plain", version: "1.0", files: { "plain.py": "P = 1\n" }, requires: ["tiny-util"] }));
    const report = await buildIndex({ sources: [modern, sectioned, plain], output: out, jobs: 4, reporter: quiet() });
    assert.equal(report.warnings.filter((warning) => warning.includes("is not an sdist upip installs as it is")).length, 2, report.warnings.join("\n"));
    const requiresTxt = async (file: string) => readSdist(await readFile(path.join(out, "sdist", file)), file).files.find((entry) => entry.path.endsWith(".egg-info/requires.txt"))?.data.toString("utf8");
    assert.equal(await requiresTxt("modern-1.0.tar.gz"), "tiny-util>=0.1\n");
    assert.equal(await requiresTxt("sectioned-1.0.tar.gz"), "tiny-util\n");
    assert.deepEqual(await readFile(path.join(out, "sdist", "plain-1.0.tar.gz")), await readFile(plain));
    const info = JSON.parse(await readFile(path.join(out, "pypi", "modern", "json"), "utf8")) as { info: { requires_dist: string[] } };
    assert.deepEqual(info.info.requires_dist, ["tiny-util>=0.1", "winonly; sys_platform == 'win32'"]);
  });

  test("a folder of sdists given as an input is a usage error that says to give its sdists; a project holding sdists is a project", async () => {
    const out = path.join(dir, "sdist-folder-out");
    const wheelhouse = path.join(dir, "wheelhouse");
    for (const [name, version] of [["relay", "1.0"], ["relay", "1.1"], ["buzzer", "0.2"], ["dimmer", "3.0"]] as const) {
      await writeTree(wheelhouse, { [`${name}-${version}.tar.gz`]: await buildSdist({ name, version, files: { [`${name}.py`]: "X = 1\n" } }) });
    }
    const error = await rejectsMpip(build([wheelhouse], out), "usage", "is a folder of sdists (`buzzer-0.2.tar.gz`, `dimmer-3.0.tar.gz`, `relay-1.0.tar.gz`, ...), not a project");
    assert.equal(error.hint, `give the sdists themselves in its place: \`mpip index build ${path.join(wheelhouse, "*.tar.gz")} -o OUT\`, with any other inputs`);
    // Built into a project's own dist/ folder, the sdists do not make the project a folder of sdists.
    const project = await writeTree(path.join(dir, "siren"), { "pyproject.toml": '[project]\nname = "siren"\nversion = "0.1"\n', "siren.py": "S = 1\n" });
    await writeTree(project, { "siren-0.0.9.tar.gz": await buildSdist({ name: "siren", version: "0.0.9", files: { "siren.py": "S = 0\n" } }) });
    await build([project], out);
    assert.equal(await exists(path.join(out, "package", "py", "siren", "0.1.json")), true);
    // As typed on the command line (relative to the current folder): exit 2, the hint in the user's own words.
    const typed = await runMpip(["index", "build", "wheelhouse", "-o", out], { cwd: dir });
    assert.equal(typed.code, 2, typed.stderr);
    assert.match(typed.stderr, /^error: `wheelhouse` is a folder of sdists \(.*\), not a project: it has no pyproject\.toml or setup\.cfg$/m);
    assert.match(typed.stderr, /^hint: give the sdists themselves in its place: `mpip index build wheelhouse\/\*\.tar\.gz -o OUT`, with any other inputs$/m);
  });

  test("the latest release is the highest final one, as pip and PyPI take it: latest.json, index.json's `version` and the PyPI `info` pass over pre-releases", async () => {
    const out = path.join(dir, "latest-out");
    const release = (name: string, version: string) => writeTree(path.join(dir, "latest", version, name), { "package.json": JSON.stringify({ version, urls: [[`${name}.py`, `${name}.py`]] }), [`${name}.py`]: `V = '${version}'\n` });
    // `meadow` has final releases and later pre-releases (alpha, release candidate, dev); `sprout` only pre-releases.
    const first = await Promise.all([release("meadow", "1.0"), release("meadow", "2.0a1"), release("meadow", "1.1.dev3"), release("sprout", "0.1b1"), release("sprout", "0.2rc1")]);
    await build(first, out);
    const latest = async (expected: Record<string, string>) => {
      const index = JSON.parse(await readFile(path.join(out, "index.json"), "utf8")) as { packages: Array<{ name: string; version: string }> };
      assert.deepEqual(Object.fromEntries(index.packages.map((entry) => [entry.name, entry.version])), expected);
      for (const [name, version] of Object.entries(expected)) {
        for (const flavor of ["py", "6"]) assert.equal(await readFile(path.join(out, "package", flavor, name, "latest.json"), "utf8"), await readFile(path.join(out, "package", flavor, name, `${version}.json`), "utf8"), `${flavor}/${name}`);
        const pypi = JSON.parse(await readFile(path.join(out, "pypi", name, "json"), "utf8")) as { info: { version: string }; urls: Array<{ filename: string }> };
        assert.equal(pypi.info.version, version);
        assert.deepEqual(pypi.urls.map((file) => file.filename), [`${name}-${version}.tar.gz`]);
      }
    };
    await latest({ meadow: "1.0", sprout: "0.2rc1" });
    // A later build: another pre-release leaves the latest as it is; a final release above it becomes the latest.
    await build([await release("meadow", "2.0rc1")], out);
    await latest({ meadow: "1.0", sprout: "0.2rc1" });
    await build([await release("meadow", "2.0"), await release("sprout", "0.2")], out);
    await latest({ meadow: "2.0", sprout: "0.2" });
  });

  test("an earlier build's listing that names a version or file no build writes is refused, and nothing is written", async () => {
    const out = path.join(dir, "planted-out");
    const first = await writeTree(path.join(dir, "planted", "1", "fence"), { "package.json": JSON.stringify({ version: "1.0", urls: [["fence.py", "fence.py"]] }), "fence.py": "F = 1\n" });
    const second = await writeTree(path.join(dir, "planted", "2", "fence"), { "package.json": JSON.stringify({ version: "2.0", urls: [["fence.py", "fence.py"]] }), "fence.py": "F = 2\n" });
    await build([first], out);
    const listing = path.join(out, "pypi", "fence", "json");
    const original = await readFile(listing, "utf8");
    const document = JSON.parse(original) as { releases: Record<string, Array<Record<string, unknown>>> };
    const [file] = document.releases["1.0"]!;
    // A version that climbs out of `pypi/fence/`, a file name with a separator, a digest that is HTML.
    for (const releases of [{ "../../../escaped": [file] }, { "1.0": [{ ...file, filename: "../../elsewhere.tar.gz" }] }, { "1.0": [{ ...file, digests: { sha256: '"><script>x</script>' } }] }]) {
      await writeFile(listing, JSON.stringify({ ...document, releases }));
      const before = await listFiles(out);
      await rejectsMpip(build([second], out), "bad-metadata", "pypi/fence/json", "is not a listing `mpip index build` writes");
      assert.deepEqual(await listFiles(out), before);
    }
    await writeFile(listing, original);
    await build([second], out);
    assert.ok((await listFiles(out)).includes("pypi/fence/2.0/json"));
  });

  test("usage errors exit 2: a URL to publish, an output that is a file, no output folder", async () => {
    const url = await runMpip(["index", "build", "https://example.invalid/pkg-1.0.tar.gz", "-o", path.join(dir, "url-out")]);
    assert.equal(url.code, 2, url.stderr);
    assert.match(url.stderr, /^error: `https:\/\/example\.invalid\/pkg-1\.0\.tar\.gz` \(given to publish\) is a URL, but this takes a file on this machine$/m);
    const fileOutput = await runMpip(["index", "build", path.join(dir, "twice-1.0.tar.gz"), "-o", path.join(dir, "secret.py")]);
    assert.equal(fileOutput.code, 2, fileOutput.stderr);
    assert.match(fileOutput.stderr, /^error: `.*secret\.py` \(given with --output\) is a file; an index is written into a folder$/m);
    const noOutput = await runMpip(["index", "build", path.join(dir, "twice-1.0.tar.gz")]);
    assert.equal(noOutput.code, 2, noOutput.stderr);
    assert.match(noOutput.stderr, /^error: required option '-o, --output <dir>' not specified$/m);
    assert.match(noOutput.stderr, /^hint: `mpip index build --help` shows its usage and options$/m);
    assert.match(noOutput.stderr, /^usage: mpip index build \[options\] <source\.\.\.> -o <dir>$/m, "the usage line shows the required option");
    // A base URL that parsers read differently (here: a path of cdn.example, or the host evil.example).
    const unclearBase = await runMpip(["index", "build", path.join(dir, "twice-1.0.tar.gz"), "-o", path.join(dir, "base-out"), "--base-url", "https://cdn.example\\@evil.example/"]);
    assert.equal(unclearBase.code, 2, unclearBase.stderr);
    assert.match(unclearBase.stderr, /^error: `https:\/\/cdn\.example\\@evil\.example\/` \(given with --base-url\) is not an http or https URL without credentials, query, fragment, backslashes or spaces \(it holds "\\\\"\)$/m);
    assert.equal(await exists(path.join(dir, "base-out")), false);
  });
});
