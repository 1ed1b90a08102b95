// URL fragments as pip reads them: `#egg=NAME` (the project, as `NAME @ URL` says it; both given must be
// the same project) and a hash of each algorithm pip takes (`#sha256=`, `#sha512=`, `#sha384=`,
// `#sha224=`, `#sha1=`, `#md5=`), checked for an sdist and a module over http and for a local sdist; a
// mismatch fails the install and leaves the target as it was. The built CLI against a static file server.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, snapshot, tempDir, type RunResult } from "./helpers/cli.js";
import { buildSdist } from "./helpers/sdist.js";
import { serveFolder, type StaticServer } from "./helpers/static-server.js";

const ALGORITHMS = ["sha256", "sha512", "sha384", "sha224", "sha1", "md5"] as const;
let work: { dir: string; cleanup: () => Promise<void> };
let server: StaticServer;
let archive: Buffer;
const MODULE = "VALUE = 42\n";
let counter = 0;
const digest = (algorithm: string, body: string | Buffer) => createHash(algorithm).update(body).digest("hex");
const target = () => path.join(work.dir, "targets", `t${++counter}`);

before(async () => {
  work = await tempDir();
  const files = path.join(work.dir, "files");
  await mkdir(path.join(files, "archive"), { recursive: true });
  archive = await buildSdist({ name: "frag-lib", version: "1.0", files: { "frag_lib.py": "" } });
  await writeFile(path.join(files, "archive", "v1.0.tar.gz"), archive);
  await writeFile(path.join(files, "frag_lib-1.0.tar.gz"), archive);
  await writeFile(path.join(files, "fragmod.py"), MODULE);
  server = await serveFolder(files);
});
after(async () => {
  await server.close();
  await work.cleanup();
});

async function installs(specs: string[], expected: string[]): Promise<void> {
  const into = target();
  const result = await runMpip(["install", "--no-index", "--no-cache", "-p", into, ...specs]);
  assert.equal(result.code, 0, `${specs.join(" ")}: ${result.stderr}`);
  const files = await listFiles(into);
  for (const file of expected) assert.ok(files.includes(file), `${file} in ${files.join(" ")}`);
}

/** Fails with `code` and `message` over a target that holds an install, which must be left as it was. */
async function fails(spec: string, code: number, message: RegExp): Promise<void> {
  const into = target();
  await mkdir(into, { recursive: true });
  await writeFile(path.join(into, "keep.py"), "");
  const was = await snapshot(into);
  const result = await runMpip(["install", "--no-index", "--no-cache", "-p", into, spec]);
  assert.equal(result.code, code, `${spec}: ${result.stderr}`);
  assert.match(result.stderr, message, spec);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  assert.deepEqual(await snapshot(into), was, spec);
}

/** The http sdist and module, each with a matching `#<algorithm>=` (sha1's in upper case, which must match too). */
const httpSpecs = (algorithm: string) => [
  `${server.url}/frag_lib-1.0.tar.gz#${algorithm}=${algorithm === "sha1" ? digest(algorithm, archive).toUpperCase() : digest(algorithm, archive)}`,
  `${server.url}/fragmod.py#${algorithm}=${digest(algorithm, MODULE)}`,
];

/**
 * One install of `httpSpecs(algorithm)` per algorithm, shared: the test of what is installed and the test
 * of what is said about the algorithm read the same run.
 */
const httpInstalls = new Map<string, Promise<{ into: string; result: RunResult }>>();
function httpInstall(algorithm: string): Promise<{ into: string; result: RunResult }> {
  let run = httpInstalls.get(algorithm);
  if (run === undefined) {
    const into = target();
    run = runMpip(["install", "--no-index", "--no-cache", "-p", into, ...httpSpecs(algorithm)]).then((result) => ({ into, result }));
    httpInstalls.set(algorithm, run);
  }
  return run;
}

/**
 * The algorithms checked on a local sdist as well: a local file is hashed by the same code as a fetched one
 * (sha256 on its own path, every other algorithm through one check taking the algorithm's name), so three
 * are enough: sha256, a strong other (sha512) and a weak one (md5). Every algorithm is checked over http.
 */
const LOCAL_ALGORITHMS = ["sha256", "sha512", "md5"] as const;

describe("hash fragments of every algorithm pip takes", () => {
  test("a matching one installs an sdist and a module over http, and a local sdist", async () => {
    for (const algorithm of ALGORITHMS) {
      const { into, result } = await httpInstall(algorithm);
      assert.equal(result.code, 0, `${algorithm}: ${result.stderr}`);
      const files = await listFiles(into);
      for (const file of ["frag_lib.py", "fragmod.py"]) assert.ok(files.includes(file), `${algorithm}: ${file} in ${files.join(" ")}`);
    }
    for (const algorithm of LOCAL_ALGORITHMS) {
      await installs([`${pathToFileURL(path.join(work.dir, "files", "frag_lib-1.0.tar.gz")).href}#${algorithm}=${digest(algorithm, archive)}`], ["frag_lib.py"]);
    }
  });

  test("sha384 and sha512 verify a file as sha256 does (no warning; --require-hashes takes them); md5, sha1 and sha224 are checked but said to be weak, and --require-hashes refuses them", async () => {
    for (const algorithm of ALGORITHMS) {
      const specs = httpSpecs(algorithm);
      const { result: plain } = await httpInstall(algorithm);
      assert.equal(plain.code, 0, `${algorithm}: ${plain.stderr}`);
      const strong = ["sha256", "sha384", "sha512"].includes(algorithm);
      assert.doesNotMatch(plain.stderr, /is not verified/, algorithm);
      if (strong) assert.doesNotMatch(plain.stderr, /warning/, `${algorithm}: ${plain.stderr}`);
      else assert.equal(plain.stderr.match(new RegExp(`is verified only by \`#${algorithm}=\`, which is checked but is not a hash --require-hashes accepts \\(sha256, sha384 or sha512, as pip\\)`, "g"))?.length, 2, `${algorithm}: ${plain.stderr}`);
      const into = target();
      const required = await runMpip(["install", "--no-index", "--no-cache", "--require-hashes", "-p", into, ...specs]);
      assert.equal(required.code, strong ? 0 : 1, `${algorithm}: ${required.stderr}`);
      if (!strong) {
        assert.match(required.stderr, new RegExp(`cannot be verified: its URL gives only \`#${algorithm}=\``), algorithm);
        assert.match(required.stderr, /hint: give the file's sha256 instead/, algorithm);
        assert.deepEqual(await snapshot(into), {}, algorithm);
      }
    }
  });

  test("a mismatching one fails the install, naming the algorithm, and leaves the target unchanged", async () => {
    for (const algorithm of ALGORITHMS) {
      const wrong = digest(algorithm, "other bytes");
      const message = new RegExp(`does not match the ${algorithm === "sha256" ? "sha256 in the URL's `#sha256=`" : `${algorithm} in the URL's \`#${algorithm}=\``} \\(expected ${wrong}, got ${digest(algorithm, archive)}\\)`);
      await fails(`${server.url}/frag_lib-1.0.tar.gz#${algorithm}=${wrong}`, 1, message);
      if ((LOCAL_ALGORITHMS as readonly string[]).includes(algorithm)) {
        await fails(`frag-lib @ ${pathToFileURL(path.join(work.dir, "files", "archive", "v1.0.tar.gz")).href}#${algorithm}=${wrong}`, 1, message);
      }
    }
    await fails(`${server.url}/fragmod.py#md5=${digest("md5", "x")}`, 1, /does not match the md5 in the URL's `#md5=`/);
  });

  test("a digest of the wrong length, two hashes, or a part mpip does not read are refused before anything is fetched", async () => {
    const before = server.requests.length;
    await fails(`${server.url}/frag_lib-1.0.tar.gz#sha512=${digest("sha256", archive)}`, 2, /`#sha512=` takes 128 hex digits/);
    await fails(`${server.url}/frag_lib-1.0.tar.gz#md5=${digest("md5", archive)}&sha256=${digest("sha256", archive)}`, 2, /gives more than one hash/);
    await fails(`${server.url}/frag_lib-1.0.tar.gz#sha265=${digest("sha256", archive)}`, 2, /is not `#sha256=<64 hex digits>` nor another part mpip reads/);
    await fails(`${server.url}/frag_lib-1.0.tar.gz#egg=frag-lib&subdirectory=sub`, 2, /it has no `subdirectory=`/);
    assert.equal(server.requests.length, before);
  });
});

describe("#egg=NAME", () => {
  test("names the project of an sdist whose file name says none, alone or with a hash, and agrees with `NAME @`", async () => {
    const forge = `${server.url}/archive/v1.0.tar.gz`;
    await installs([`${forge}#egg=frag-lib`], ["frag_lib.py", "frag_lib-1.0.dist-info/METADATA"]);
    await installs([`${forge}#egg=Frag_Lib&sha256=${digest("sha256", archive)}`], ["frag_lib.py"]);
    await installs([`${forge}#md5=${digest("md5", archive)}&egg=frag.lib`], ["frag_lib.py"]);
    await installs([`frag-lib @ ${forge}#egg=frag_lib`], ["frag_lib.py"]);
    await installs([`${pathToFileURL(path.join(work.dir, "files", "archive", "v1.0.tar.gz")).href}#egg=frag-lib`], ["frag_lib.py"]);
    const requirements = path.join(work.dir, "reqs.txt");
    await writeFile(requirements, `${forge}#egg=frag-lib\n`);
    await installs(["-r", requirements], ["frag_lib.py"]);
  });

  test("a name that disagrees with `NAME @`, with the sdist's PKG-INFO, or that is no name is an error; the target is left as it was", async () => {
    const forge = `${server.url}/archive/v1.0.tar.gz`;
    await fails(`frag-lib @ ${forge}#egg=other-lib`, 2, /names two projects: `frag-lib` before `@` and `other-lib` in `#egg=`/);
    await fails(`frag-lib @ ${pathToFileURL(path.join(work.dir, "files", "archive", "v1.0.tar.gz")).href}#egg=other-lib`, 2, /names two projects/);
    await fails(`${forge}#egg=other-lib`, 1, /PKG-INFO names `frag-lib 1\.0`, not `other-lib`/);
    await fails(`${forge}#egg=-bad-`, 2, /has `egg=-bad-`, which is not a project name/);
    await fails(`${server.url}/fragmod.py#egg=fragmod`, 2, /`#egg=` names the project of an sdist/);
  });
});
