// `mpip index build`: a mix of an sdist (one that needs a 32 KiB window), a project folder and a
// package.json package becomes one static folder; served by a plain static file server, each of its three
// faces (v2, also as .mpy; PyPI JSON; simple) installs the same image as the sources do, and the images
// run in MicroPython. A second build with a new version adds files and changes only listings; a build of
// the same inputs writes nothing; a changed release at a published version is refused.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { checkArchive } from "../../src/pack/check.js";
import { Reporter } from "../../src/log.js";
import { buildIndex } from "../../src/publish/build.js";
import { listFiles, runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { rejectsMpip, writeTree } from "../helpers/expect.js";
import { runMicroPython } from "../helpers/micropython.js";
import { buildSdist } from "../helpers/sdist.js";
import { serveFolder, type StaticServer } from "../helpers/static-server.js";

/** Text whose end repeats its start more than 4 KiB back: deflate with a 32 KiB window reaches for it. */
const FAR = `${Array.from({ length: 400 }, (_, index) => `# line ${index} ${createHash("sha256").update(String(index)).digest("hex").slice(0, 8)}`).join("\n")}\n`;
const TINY_UTIL = { name: "tiny-util", version: "0.3", files: { "tiny_util.py": `${FAR}def twice(x):\n    return 2 * x\n${FAR.slice(0, 600)}` } };

const PROJECT = (version: string, answer: string) => ({
  "pyproject.toml": `[project]\nname = "meadow-sensor"\nversion = "${version}"\ndescription = "Reads the meadow"\nlicense = {text = "MIT"}\nauthors = [{name = "Ann Field"}]\ndependencies = ["Tiny_Util==0.3"]\n`,
  "sensor/__init__.py": "from sensor.core import read\n",
  "sensor/core.py": `from tiny_util import twice\n\ndef read():\n    return twice(${answer})\n`,
});

const PACKAGE_JSON = {
  "package.json": JSON.stringify({ urls: [["blinker/__init__.py", "blinker/__init__.py"], ["blinker/led.py", "blinker/led.py"]], deps: [["tiny-util", "0.3"]], version: "2.1" }),
  "blinker/__init__.py": "from blinker.led import blink\n",
  "blinker/led.py": "def blink():\n    return 'blink'\n",
};

let dir: string;
let cleanup: () => Promise<void>;
let out: string;
let server: StaticServer;
let inputs: { sdist: string; project: string; packageJson: string };

before(async () => {
  ({ dir, cleanup } = await tempDir("mpip-index-build-"));
  inputs = { sdist: path.join(dir, "tiny-util-0.3.tar.gz"), project: path.join(dir, "meadow"), packageJson: path.join(dir, "blinker") };
  await writeFile(inputs.sdist, await buildSdist(TINY_UTIL, { windowBits: 15 }));
  await writeTree(inputs.project, PROJECT("1.0", "21"));
  await writeTree(inputs.packageJson, PACKAGE_JSON);
  out = path.join(dir, "public");
  const built = await runMpip(["index", "build", inputs.sdist, inputs.project, inputs.packageJson, "-o", out]);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /^Published 3 releases into /m);
  assert.match(built.stderr, /^warning: `.*tiny-util-0\.3\.tar\.gz` is not an sdist upip installs as it is \(needs a 32 KiB inflate window.*\): it is published rewritten as plain ustar with a 4 KiB window and the egg-info upip reads, the files it installs unchanged$/m);
  assert.doesNotMatch(built.stderr, /installed anyway/);
  server = await serveFolder(out);
});

after(async () => {
  await server.close();
  await cleanup();
});

const json = async (relative: string) => JSON.parse(await readFile(path.join(out, ...relative.split("/")), "utf8")) as Record<string, unknown>;
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** An image's files and their digests, install records left out (they name where each package came from). */
async function imageFiles(image: string): Promise<Record<string, string>> {
  const tree = await snapshot(image);
  return Object.fromEntries(Object.entries(tree).filter(([name]) => !name.includes(".dist-info/") && !name.endsWith(".dist-info/")));
}

describe("mpip index build", () => {
  test("writes the v2 index (sources and .mpy, full sha256 beside the short hashes), the PyPI JSON API and the simple API", async () => {
    const index = await json("index.json");
    assert.equal(index.v, 2);
    const packages = index.packages as Array<Record<string, unknown>>;
    assert.deepEqual(packages.map((entry) => entry.name), ["blinker", "meadow-sensor", "tiny-util"]);
    const meadow = packages.find((entry) => entry.name === "meadow-sensor")!;
    assert.deepEqual(meadow.versions, { py: ["1.0"], 6: ["1.0"] });
    assert.equal(meadow.description, "Reads the meadow");
    assert.equal(meadow.license, "MIT");
    assert.equal(meadow.author, "Ann Field");

    for (const flavor of ["py", "6"]) {
      const document = await json(`package/${flavor}/meadow-sensor/1.0.json`);
      assert.deepEqual(Object.keys(document), ["v", "hashes", "deps", "version", "sha256"]);
      // A dependency is named as the index names the package, however the metadata spelled it.
      assert.deepEqual(document.deps, [["tiny-util", "0.3"]]);
      const hashes = document.hashes as Array<[string, string]>;
      assert.deepEqual(hashes.map(([dest]) => dest), flavor === "py" ? ["sensor/__init__.py", "sensor/core.py"] : ["sensor/__init__.mpy", "sensor/core.mpy"]);
      const full = new Map(document.sha256 as Array<[string, string]>);
      for (const [dest, short] of hashes) {
        assert.equal(short.length, 8);
        const data = await readFile(path.join(out, "file", short.slice(0, 2), short));
        assert.equal(sha256(data), full.get(dest));
        if (flavor === "6") assert.deepEqual([...data.subarray(0, 2)], [0x4d, 6], `${dest} is .mpy 6`);
      }
      assert.deepEqual(await readFile(path.join(out, `package/${flavor}/meadow-sensor/latest.json`)), await readFile(path.join(out, `package/${flavor}/meadow-sensor/1.0.json`)));
    }

    // The sdist that needed a 32 KiB window is served recompressed with a 4 KiB one, its files unchanged.
    const original = await readFile(inputs.sdist);
    const served = await readFile(path.join(out, "sdist", "tiny-util-0.3.tar.gz"));
    assert.equal(checkArchive(original, "original").checks.find((check) => check.id === "gzip")!.status, "fail");
    assert.equal(checkArchive(served, "served").checks.find((check) => check.id === "gzip")!.status, "pass");

    const project = await json("pypi/meadow-sensor/json");
    const release = (project.releases as Record<string, Array<Record<string, unknown>>>)["1.0"]!;
    assert.equal(release.length, 1);
    assert.equal(release[0]!.url, "../../sdist/meadow-sensor-1.0.tar.gz");
    assert.equal((release[0]!.digests as { sha256: string }).sha256, sha256(await readFile(path.join(out, "sdist", "meadow-sensor-1.0.tar.gz"))));
    assert.equal((project.info as { version: string }).version, "1.0");
    assert.deepEqual((await json("pypi/meadow-sensor/1.0/json")).urls, [{ ...release[0], url: "../../../sdist/meadow-sensor-1.0.tar.gz" }]);

    const page = await readFile(path.join(out, "simple", "blinker", "index.html"), "utf8");
    const blinkerSdist = sha256(await readFile(path.join(out, "sdist", "blinker-2.1.tar.gz")));
    assert.match(page, new RegExp(`<a href="\\.\\./\\.\\./sdist/blinker-2\\.1\\.tar\\.gz#sha256=${blinkerSdist}">blinker-2\\.1\\.tar\\.gz</a>`));
    assert.deepEqual((await json("simple/blinker/index.json")).files, [{ filename: "blinker-2.1.tar.gz", url: "../../sdist/blinker-2.1.tar.gz", hashes: { sha256: blinkerSdist }, size: (await readFile(path.join(out, "sdist", "blinker-2.1.tar.gz"))).length }]);
    assert.deepEqual((await json("simple/index.json")).projects, [{ name: "blinker" }, { name: "meadow-sensor" }, { name: "tiny-util" }]);
    assert.match(await readFile(path.join(out, "simple", "index.html"), "utf8"), /<a href="tiny-util\/">tiny-util<\/a>/);
  });

  test("each face, served as plain files (the simple face also as PEP 691 JSON), installs what the sources install, and the images run in MicroPython", async () => {
    const images = (name: string) => path.join(dir, "images", name);
    const install = async (name: string, args: string[]) => {
      const result = await runMpip(["install", "-q", "--no-record", "-p", images(name), ...args]);
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      return imageFiles(images(name));
    };
    const sources = [inputs.sdist, inputs.project, inputs.packageJson];
    const fromSources = await install("sources", ["--no-index", ...sources]);
    const compiled = await install("sources-compiled", ["--no-index", "--compile", ...sources]);
    assert.deepEqual(Object.keys(fromSources).filter((name) => !name.endsWith("/")), ["blinker/__init__.py", "blinker/led.py", "sensor/__init__.py", "sensor/core.py", "tiny_util.py"]);
    const names = ["meadow-sensor", "blinker"];
    assert.deepEqual(await install("v2", ["-i", `mip+${server.url}`, ...names]), fromSources);
    assert.deepEqual(await install("v2-mpy", ["-i", `mip+${server.url}`, "--mpy", "6", ...names]), compiled);
    assert.deepEqual(await install("pypi", ["-i", `${server.url}/pypi`, ...names]), fromSources);
    // A spelling the face has no page for is asked again by its PEP 503 name, which it always has.
    assert.deepEqual(await install("pypi-spelled", ["-i", `${server.url}/pypi`, "Meadow_Sensor", "BLINKER"]), fromSources);
    assert.deepEqual(await install("simple", ["-i", `simple+${server.url}/simple/`, ...names]), fromSources);
    // The PEP 691 JSON pages, from a host that serves them by content type.
    const negotiating = await serveFolder(out, { negotiate: true });
    try {
      assert.deepEqual(await install("simple-json", ["-i", `simple+${negotiating.url}/simple/`, ...names]), fromSources);
      assert.ok(negotiating.served.includes("simple/meadow-sensor/index.json"), negotiating.served.join(" "));
      assert.ok(!negotiating.served.some((file) => file.endsWith(".html")), negotiating.served.join(" "));
    } finally {
      await negotiating.close();
    }

    const code = "import sensor, blinker\nprint(sensor.read(), blinker.blink())\nimport tiny_util\nprint(tiny_util.__file__)\n";
    for (const [image, file] of [["v2", "/lib/tiny_util.py"], ["v2-mpy", "/lib/tiny_util.mpy"]] as const) {
      const ran = await runMicroPython(code, { libDir: images(image) });
      assert.equal(ran.error, undefined, ran.error);
      assert.equal(ran.stdout, `42 blink\n${file}\n`);
    }
  });

  test("a second build with a new version adds files and changes only listings; the same inputs again write nothing, in any environment", async () => {
    const copy = path.join(dir, "public-copy");
    await cp(out, copy, { recursive: true });
    const first = await snapshot(copy);
    const next = path.join(dir, "meadow-1.1");
    await writeTree(next, PROJECT("1.1", "50"));
    const built = await runMpip(["index", "build", inputs.sdist, inputs.project, inputs.packageJson, next, "-o", copy]);
    assert.equal(built.code, 0, built.stderr);
    const second = await snapshot(copy);
    const listing = /^(index\.json|package\/(py|6)\/meadow-sensor\/latest\.json|pypi\/meadow-sensor\/json|simple\/index\.(html|json)|simple\/meadow-sensor\/index\.(html|json))$/;
    const changed = Object.keys(first).filter((name) => second[name] !== first[name]);
    assert.deepEqual(changed.filter((name) => !listing.test(name)), [], "only listings change");
    assert.ok(changed.includes("index.json") && changed.includes("pypi/meadow-sensor/json") && changed.includes("package/py/meadow-sensor/latest.json"), changed.join(", "));
    const added = Object.keys(second).filter((name) => !(name in first) && !name.endsWith("/"));
    assert.deepEqual(added.filter((name) => !name.startsWith("file/")).sort(), ["package/6/meadow-sensor/1.1.json", "package/py/meadow-sensor/1.1.json", "pypi/meadow-sensor/1.1/json", "sdist/meadow-sensor-1.1.tar.gz"]);
    // sensor/__init__ is the same in both versions: its content-addressed files are shared.
    assert.equal(added.filter((name) => name.startsWith("file/")).length, 2);
    const listed = JSON.parse(await readFile(path.join(copy, "pypi", "meadow-sensor", "json"), "utf8")) as { info: { version: string }; releases: Record<string, unknown> };
    assert.equal(listed.info.version, "1.1");
    assert.deepEqual(Object.keys(listed.releases), ["1.0", "1.1"]);
    assert.equal(await readFile(path.join(copy, "package", "py", "meadow-sensor", "latest.json"), "utf8"), await readFile(path.join(copy, "package", "py", "meadow-sensor", "1.1.json"), "utf8"));

    // Another SOURCE_DATE_EPOCH (a CI job at a later commit) publishes the same bytes: nothing to write.
    const again = await runMpip(["index", "build", "--json", inputs.sdist, inputs.project, inputs.packageJson, next, "-o", copy], { env: { SOURCE_DATE_EPOCH: "1800000000" } });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { written: string[] }).written, []);
    assert.deepEqual(await snapshot(copy), second);
  });

  test("a release published before with other content is refused, naming it, and nothing is written", async () => {
    const changed = path.join(dir, "meadow-changed");
    await writeTree(changed, PROJECT("1.0", "22"));
    const before = await snapshot(out);
    const error = await rejectsMpip(buildIndex({ sources: [changed], output: out, jobs: 4, reporter: new Reporter({ verbosity: "quiet" }) }), "version-conflict", "`meadow-sensor 1.0`", "already published", "with other content");
    assert.match(error.hint ?? "", /bump the version/);
    assert.deepEqual(await snapshot(out), before);

    // A file a published release names, changed since (a source, an .mpy): the build refuses to go on as if all were well.
    for (const flavor of ["py", "6"]) {
      const tampered = path.join(dir, `public-tampered-${flavor}`);
      await cp(out, tampered, { recursive: true });
      const document = JSON.parse(await readFile(path.join(tampered, "package", flavor, "meadow-sensor", "1.0.json"), "utf8")) as { hashes: Array<[string, string]> };
      const [dest, short] = document.hashes.find(([name]) => name.startsWith("sensor/core."))!;
      await writeFile(path.join(tampered, "file", short.slice(0, 2), short), "tampered\n");
      const unchanged = await snapshot(tampered);
      await rejectsMpip(buildIndex({ sources: [inputs.sdist, inputs.project], output: tampered, jobs: 4, reporter: new Reporter({ verbosity: "quiet" }) }), "digest-mismatch", `file/${short.slice(0, 2)}/${short}`, `\`${dest}\` of \`meadow-sensor 1.0\``, "holds other bytes");
      assert.deepEqual(await snapshot(tampered), unchanged);
    }
  });

  test("--base-url makes the PyPI and simple faces' file URLs absolute", async () => {
    const absolute = path.join(dir, "absolute");
    await buildIndex({ sources: [inputs.packageJson], output: absolute, baseUrl: "https://cdn.example/mp/", jobs: 4, reporter: new Reporter({ verbosity: "quiet" }) });
    const document = JSON.parse(await readFile(path.join(absolute, "pypi", "blinker", "json"), "utf8")) as { urls: Array<{ url: string }> };
    assert.equal(document.urls[0]!.url, "https://cdn.example/mp/sdist/blinker-2.1.tar.gz");
    assert.match(await readFile(path.join(absolute, "simple", "blinker", "index.html"), "utf8"), /href="https:\/\/cdn\.example\/mp\/sdist\/blinker-2\.1\.tar\.gz#sha256=/);
    assert.ok((await listFiles(absolute)).includes("package/6/blinker/2.1.json"));
    // Written as every parser reads it: WHATWG's serialization, without trailing slashes.
    const canonical = path.join(dir, "canonical");
    await buildIndex({ sources: [inputs.packageJson], output: canonical, baseUrl: "HTTPS://CDN.Example:443/mp/répertoire//", jobs: 4, reporter: new Reporter({ verbosity: "quiet" }) });
    assert.match(await readFile(path.join(canonical, "simple", "blinker", "index.html"), "utf8"), /href="https:\/\/cdn\.example\/mp\/r%C3%A9pertoire\/sdist\/blinker-2\.1\.tar\.gz#sha256=/);
    // Refused, before anything is read or written: what parsers read differently, or what would swallow the file paths.
    const refused = path.join(dir, "refused");
    for (const baseUrl of ["https://cdn.example\\@evil.example/", "https://cdn.example/mp?", "https://cdn.example/mp#", " https://cdn.example/mp", "https://cdn.example/m p", "https://cdn.example/mp\n", "https://user:pw@cdn.example/", "https://@cdn.example/", "ftp://cdn.example/", "javascript:alert(1)//"]) {
      await rejectsMpip(buildIndex({ sources: [inputs.packageJson], output: refused, baseUrl, jobs: 4, reporter: new Reporter({ verbosity: "quiet" }) }), "usage", "given with --base-url");
    }
    assert.deepEqual(await listFiles(refused).catch(() => []), []);
  });
});
