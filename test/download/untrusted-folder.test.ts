// What a folder `mpip download` or `mpip index build` adds to already holds is untrusted input, through the
// built CLI: an index.json entry's own `version` must be one it lists, its flavors `py` or an .mpy major,
// and every release it lists must have its document there (a listing that sends mip and mpip to a 404 is
// refused, unless this run writes that document again); a package with no version, which could only be
// its `latest.json`, is refused where the folder lists releases of it (that file is theirs). And the
// PyPI face of an index build answers every spelling of a project that users and dependencies type, case
// included, where the filesystem can hold them; where it folds case, the build says which it could not.

import assert from "node:assert/strict";
import { cp, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { fatUnavailable, mountFat } from "../helpers/mounts.js";
import { serveRepos } from "../helpers/repo-server.js";
import { serveFolder } from "../helpers/static-server.js";

let server: IndexServer;
let mip: MipIndex;
let env: NodeJS.ProcessEnv;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = (name: string) => path.join(work.dir, `${name}-${++counter}`);

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  await mip.publish({ name: "ringbuf", version: "0.3", files: { "ringbuf.py": "SIZE = 3\n" }, mpy: false });
  await mip.publish({ name: "ringbuf", version: "0.4", files: { "ringbuf.py": "SIZE = 4\n" }, mpy: false });
  await mip.publish({ name: "relay", version: "1.0", files: { "relay.py": "ON = 1\n" }, mpy: false });
  const repos = serveRepos(server);
  // micropython-lib's package, republished from a repo with no version, or one that is no PEP 440 version.
  repos.addRepo("github", "acme", "ringbuf", "main", { "package.json": JSON.stringify({ urls: [["ringbuf.py", "ringbuf.py"]] }), "ringbuf.py": "SIZE = 0\n" }, { default: true });
  repos.addRepo("github", "acme", "ringbuf", "nightly", { "package.json": JSON.stringify({ version: "nightly build", urls: [["ringbuf.py", "ringbuf.py"]] }), "ringbuf.py": "SIZE = 9\n" });
  env = { MPIP_GITHUB_URL: repos.hosts.github };
  work = await tempDir("mpip-untrusted-folder-");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const download = (folder: string, ...specs: string[]) => runMpip(["download", "-d", folder, "-i", mip.base, ...specs], { env });
const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;

/** A folder a download of ringbuf 0.3 and relay made: downloaded once for the file, each test adds to a copy. */
let downloaded: Promise<string> | undefined;
async function downloadedFolder(): Promise<string> {
  downloaded ??= (async () => {
    const folder = fresh("downloaded");
    const result = await download(folder, "ringbuf==0.3", "relay");
    assert.equal(result.code, 0, result.stderr);
    return folder;
  })();
  const copy = fresh("dl");
  await cp(await downloaded, copy, { recursive: true });
  return copy;
}

describe("mpip download into a folder that lists a package already", () => {
  test("a package with no (PEP 440) version over released ones is refused, not reported as a latest.json that holds another release; into a folder of its own it is that latest.json", async () => {
    const folder = await downloadedFolder();
    const latest = await readFile(path.join(folder, "package/py/ringbuf/latest.json"), "utf8");
    for (const [spec, what] of [["github:acme/ringbuf", "has no version"], ["github:acme/ringbuf@nightly", "has the version `nightly build`, which is no PEP 440 version"]] as const) {
      const before = await snapshot(folder);
      const result = await download(folder, spec);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^error: \`ringbuf\` from \`${spec.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` ${what}, so it could only be \`package/py/ringbuf/latest\\.json\`, but \`.*dl-\\d+\` lists \`ringbuf\` 0\\.3, whose latest release that file holds; nothing was written$`, "m"), spec);
      assert.match(result.stderr, /^hint: download it into another folder, or give the package a PEP 440 version/m);
      assert.deepEqual(await snapshot(folder), before, spec);
    }
    assert.equal(await readFile(path.join(folder, "package/py/ringbuf/latest.json"), "utf8"), latest);
    // Alone in its folder, the unversioned package is the latest.json it is reported as.
    const own = fresh("dl");
    const alone = await download(own, "--json", "github:acme/ringbuf");
    assert.equal(alone.code, 0, alone.stderr);
    const report = JSON.parse(alone.stdout) as { packages: Array<{ files: string[] }> };
    assert.equal(report.packages[0]!.files[0], "package/py/ringbuf/latest.json");
    assert.deepEqual((await readJson(path.join(own, "package/py/ringbuf/latest.json"))).version, "");
  });

  test("index.json's listings are checked before they are copied: an entry's version it does not list, a flavor that is none, a listed release whose document is not there", async () => {
    const folder = await downloadedFolder();
    const good = await readJson(path.join(folder, "index.json"));
    const entries = good.packages as Array<Record<string, unknown>>;
    const relayAt = entries.findIndex((entry) => entry.name === "relay");
    const withRelay = (change: Record<string, unknown>) => ({ ...good, packages: entries.map((entry, at) => (at === relayAt ? { ...entry, ...change } : entry)) });
    const cases: Array<[string, object, RegExp]> = [
      ["an entry's version that is markup", withRelay({ version: "<script>" }), /lists `relay` at the version `<script>`, which is not one of the versions it lists/],
      ["an entry's version it does not list", withRelay({ version: "9.9" }), /lists `relay` at the version `9\.9`, which is not one of the versions it lists/],
      ["an entry's version that is no string", withRelay({ version: 7 }), /lists `relay` at the version `7`/],
      ["a flavor that is a path", withRelay({ versions: { py: ["1.0"], "../../x": ["1.0"] } }), /lists the flavor `\.\.\/\.\.\/x` for `relay`, which is neither `py` nor an \.mpy version/],
      ["a flavor with a space", withRelay({ versions: { "py ": ["1.0"] } }), /lists the flavor `py ` for `relay`/],
      ["a release with no document", withRelay({ versions: { py: ["1.0", "2.0"] }, version: "2.0" }), /lists `relay` 2\.0 \(py\), whose document `package\/py\/relay\/2\.0\.json` is not there/],
      ["a release listed in a flavor the folder has no document of", withRelay({ versions: { py: ["1.0"], 6: ["1.0"] } }), /lists `relay` 1\.0 \(6\), whose document `package\/6\/relay\/1\.0\.json` is not there/],
    ];
    for (const [what, index, said] of cases) {
      await writeFile(path.join(folder, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
      const before = await snapshot(folder);
      const result = await download(folder, "ringbuf==0.4");
      assert.equal(result.code, 1, `${what}: ${result.stderr}`);
      assert.match(result.stderr, said, what);
      assert.match(result.stderr, /so this download cannot add to it; nothing was written$/m, what);
      assert.deepEqual(await snapshot(folder), before, what);
    }
    // A document that is a link (never followed) or a folder is none.
    await writeFile(path.join(folder, "index.json"), `${JSON.stringify(good, null, 2)}\n`);
    const document = path.join(folder, "package/py/relay/1.0.json");
    const saved = await readFile(document);
    await rm(document);
    await symlink(path.join(work.dir, "elsewhere.json"), document);
    const linked = await download(folder, "ringbuf==0.4");
    assert.equal(linked.code, 1, linked.stderr);
    assert.match(linked.stderr, /lists `relay` 1\.0 \(py\), whose document `package\/py\/relay\/1\.0\.json` is not a regular file/);
    assert.match(linked.stderr, /^hint: put the document back, or take the version out of index\.json/m);
    // A download of that very release puts its document back; then the folder is whole again.
    await rm(document);
    const repaired = await download(folder, "relay==1.0");
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.deepEqual(await readFile(document), saved);
    assert.equal((await download(folder, "ringbuf==0.4")).code, 0);
  });
});

describe("mpip index build into a folder it built before", () => {
  test("a listed release whose document is gone, or an entry's version or flavor no build writes, is refused with nothing written; building that release again puts it back", async () => {
    const inputs = await writeTree(fresh("inputs"), {
      "v1/pyproject.toml": '[project]\nname = "meter"\nversion = "1.0"\n', "v1/meter.py": "V = 1\n",
      "v2/pyproject.toml": '[project]\nname = "meter"\nversion = "2.0"\n', "v2/meter.py": "V = 2\n",
      "v15/pyproject.toml": '[project]\nname = "meter"\nversion = "1.5"\n', "v15/meter.py": "V = 15\n",
    });
    const out = fresh("public");
    const built = await runMpip(["index", "build", path.join(inputs, "v1"), path.join(inputs, "v2"), "-o", out]);
    assert.equal(built.code, 0, built.stderr);
    const saved = await readFile(path.join(out, "package/6/meter/2.0.json"));
    await rm(path.join(out, "package/6/meter/2.0.json"));
    const before = await snapshot(out);
    const refused = await runMpip(["index", "build", path.join(inputs, "v15"), "-o", out]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /index\.json` lists `meter` 2\.0 \(6\), whose document `package\/6\/meter\/2\.0\.json` is not there, so this index build cannot add to it; nothing was written$/m);
    assert.deepEqual(await snapshot(out), before);
    // Building 2.0 again writes its document back, as published.
    const again = await runMpip(["index", "build", path.join(inputs, "v2"), "-o", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await readFile(path.join(out, "package/6/meter/2.0.json")), saved);
    // An entry's version or flavor no build writes.
    const index = await readJson(path.join(out, "index.json"));
    const entry = (index.packages as Array<Record<string, unknown>>)[0]!;
    for (const [change, said] of [[{ version: "../../2.0" }, /lists `meter` at the version `\.\.\/\.\.\/2\.0`, which is not one of the versions it lists/], [{ versions: { ...(entry.versions as object), mpy: ["1.0"] } }, /lists the flavor `mpy` for `meter`/]] as const) {
      await writeFile(path.join(out, "index.json"), JSON.stringify({ ...index, packages: [{ ...entry, ...change }] }));
      const untouched = await snapshot(out);
      const result = await runMpip(["index", "build", path.join(inputs, "v15"), "-o", out]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, said);
      assert.deepEqual(await snapshot(out), untouched);
    }
  });
});

describe("mpip index build's PyPI face answers every spelling a project is asked by", () => {
  const inputsOf = async () => writeTree(fresh("spellings"), {
    // Declared with capitals that PEP 503 folds; required by another project as `tiny_util` and `TINY-UTIL`.
    "tiny/pyproject.toml": '[project]\nname = "Tiny-Util"\nversion = "1.0"\n', "tiny/tiny_util.py": "X = 1\n",
    "app/pyproject.toml": '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["tiny_util", "TINY-UTIL>=1"]\n', "app/app.py": "import tiny_util\n",
  });

  test("case included, on a filesystem that keeps case: each spelling has its pages, served as static files", async () => {
    const inputs = await inputsOf();
    const out = fresh("public");
    const built = await runMpip(["index", "build", path.join(inputs, "tiny"), path.join(inputs, "app"), "-o", out]);
    assert.equal(built.code, 0, built.stderr);
    assert.doesNotMatch(built.stderr, /folds case/);
    const pages = (await listFiles(path.join(out, "pypi"))).filter((file) => file.endsWith("/json") && !/\/1\.0\/json$/.test(file));
    assert.deepEqual(pages.sort(), ["TINY-UTIL/json", "Tiny-Util/json", "app/json", "tiny-util/json", "tiny_util/json"]);
    const folder = await serveFolder(out);
    try {
      // upip asks for a project, and each dependency, as typed: every spelling is answered, with the same page.
      const bodies = await Promise.all(["Tiny-Util", "tiny_util", "TINY-UTIL", "tiny-util"].map(async (spelling) => {
        const response = await fetch(`${folder.url}/pypi/${spelling}/json`);
        assert.equal(response.status, 200, spelling);
        const version = await fetch(`${folder.url}/pypi/${spelling}/1.0/json`);
        assert.equal(version.status, 200, `${spelling}/1.0`);
        return response.text();
      }));
      assert.equal(new Set(bodies).size, 1);
    } finally {
      await folder.close();
    }
  });

  const fat = fatUnavailable();
  test("on a filesystem that folds case (FAT), one folder of each set is written and the build says which spellings it could not", { skip: fat }, async () => {
    const inputs = await inputsOf();
    const mount = fresh("card");
    await mkdir(mount);
    const unmount = await mountFat(`${mount}.img`, mount);
    try {
      const out = path.join(mount, "public");
      const built = await runMpip(["index", "build", path.join(inputs, "tiny"), path.join(inputs, "app"), "-o", out]);
      assert.equal(built.code, 0, built.stderr);
      assert.match(built.stderr, /^warning: the PyPI face of `tiny-util` is written as `pypi\/tiny-util\/` and `pypi\/tiny_util\/` only: this filesystem folds case, so it cannot also hold `pypi\/Tiny-Util\/`, `pypi\/TINY-UTIL\/`; served from a case-sensitive host, a copy of the folder answers upip's `Tiny-Util` \(names are asked as typed\) with 404: build on a case-sensitive filesystem to publish every spelling$/m);
      // This disk answers every spelling, from the folder it holds.
      for (const spelling of ["Tiny-Util", "tiny_util", "TINY-UTIL"]) assert.ok((await readFile(path.join(out, "pypi", spelling, "json"), "utf8")).includes('"Tiny-Util"'), spelling);
    } finally {
      await unmount();
    }
  });
});
