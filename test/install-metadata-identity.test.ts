// An sdist is installed as the package its own metadata (PKG-INFO's Name and Version) says it is, and
// only when that is the package it was fetched as: a file named `leaf-9.0.tar.gz` that holds `evil`, or
// `leaf 1.0`, is refused wherever the name came from (a URL on the command line, a dependency's
// `name @ URL`, a local path, an index's listing), as pip refuses it. Names compare as PEP 503
// normalizes them, versions as PEP 440 compares them. Through the built CLI against a real server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { buildSdist } from "./helpers/sdist.js";
import { jsonReply, startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { runMpip, tempDir } from "./helpers/cli.js";
import { writeSdist } from "../src/pack/writer.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
/** Served at /direct/<file name>: what each file name really holds. */
const served = new Map<string, Buffer>();
let evilSdist: Buffer;

before(async () => {
  server = await startIndexServer();
  work = await tempDir();
  evilSdist = await buildSdist({ name: "evil", version: "9.0", files: { "leaf.py": "LEAF = 'evil'\n" } });
  served.set("leaf-9.0.tar.gz", evilSdist);
  served.set("old-9.0.tar.gz", await buildSdist({ name: "old", version: "1.0", files: { "old.py": "OLD = 1\n" } }));
  served.set("v9.0.tar.gz", await buildSdist({ name: "leaf", version: "9.0", files: { "leaf.py": "LEAF = 'forge'\n" } }));
  // Forge archives whose PKG-INFO gives no version, or one that is no PEP 440 version, or that hold none.
  const versionless = (pkgInfo: string | undefined) => writeSdist([...(pkgInfo === undefined ? [] : [{ path: "nover-src/nover.egg-info/PKG-INFO", data: Buffer.from(pkgInfo) }]), { path: "nover-src/nover.py", data: Buffer.from("") }]);
  served.set("no-version.tar.gz", versionless("Metadata-Version: 1.1\nName: nover\n"));
  served.set("legacy-version.tar.gz", versionless("Metadata-Version: 1.1\nName: nover\nVersion: nightly 2024\n"));
  served.set("no-pkg-info.tar.gz", versionless(undefined));
  const twoPkgInfos = (top: string, egg: string) => writeSdist([{ path: "leaf-src/PKG-INFO", data: Buffer.from(top) }, { path: "leaf-src/leaf.egg-info/PKG-INFO", data: Buffer.from(egg) }, { path: "leaf-src/leaf.py", data: Buffer.from("") }]);
  served.set("two-versions.tar.gz", twoPkgInfos("Metadata-Version: 2.1\nName: leaf\nVersion: 1.0\n", "Metadata-Version: 1.1\nName: leaf\nVersion: 2.0\n"));
  served.set("egg-version.tar.gz", twoPkgInfos("Metadata-Version: 2.1\nName: leaf\n", "Metadata-Version: 1.1\nName: leaf\nVersion: 2.0\n"));
  served.set("leaf_pkg-1.0.tar.gz", await buildSdist({ name: "Leaf.Pkg", version: "1.0.0", files: { "leaf_pkg.py": "LEAF_PKG = 1\n" } }));
  server.routes.unshift(
    { name: "direct", pattern: /^\/direct\/.+$/, handle: ({ path: asked }) => {
      const body = served.get(path.posix.basename(asked));
      return body === undefined ? { status: 404 } : { status: 200, body };
    } },
    // An index that lists `spoof 1.0` with the right digest of a file that holds `evil`.
    { name: "spoof-project", pattern: /^\/pypi\/spoof\/json$/, handle: () => jsonReply(200, {
      info: { name: "spoof", version: "1.0" },
      releases: { "1.0": [{ filename: "spoof-1.0.tar.gz", url: `${server.origin}/direct/leaf-9.0.tar.gz`, packagetype: "sdist", digests: { sha256: createHash("sha256").update(evilSdist).digest("hex") } }] },
    }) },
  );
  await server.addSdist({ name: "branch", version: "1.0", files: { "branch.py": "" }, requires: [`leaf @ ${server.origin}/direct/leaf-9.0.tar.gz`] });
  await server.addSdist({ name: "branch-ok", version: "1.0", files: { "branch_ok.py": "" }, requires: [`LEAF_PKG @ ${server.origin}/direct/leaf_pkg-1.0.tar.gz`] });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, args: string[]) => runMpip(["install", "-p", target, "-i", server.url, ...args], { env: { MPIP_RETRY_BASE_MS: "1" } });

/** The sha256 of what `url` serves (lowercase hex). */
async function sha256Of(url: string): Promise<string> {
  return createHash("sha256").update(Buffer.from(await (await fetch(url)).arrayBuffer())).digest("hex");
}

describe("an sdist whose PKG-INFO names another package than it was fetched as", () => {
  test("is refused, whoever named it: a URL, a dependency's `name @ URL`, a local path, an index; the target is left as it was", async () => {
    const local = path.join(work.dir, "leaf-9.0.tar.gz");
    await writeFile(local, evilSdist);
    const cases: Array<{ label: string; args: string[]; says: RegExp }> = [
      { label: "URL", args: [`${server.origin}/direct/leaf-9.0.tar.gz`], says: /`leaf 9\.0` \(`leaf-9\.0\.tar\.gz`\) is not the package it was fetched as: its PKG-INFO names `evil 9\.0`, not `leaf 9\.0`/ },
      { label: "name @ URL", args: [`leaf @ ${server.origin}/direct/leaf-9.0.tar.gz`], says: /its PKG-INFO names `evil 9\.0`, not `leaf 9\.0`/ },
      { label: "dependency by URL", args: ["branch"], says: /\(required by `branch 1\.0`\).*its PKG-INFO names `evil 9\.0`, not `leaf 9\.0`/ },
      { label: "local path", args: [local], says: /its PKG-INFO names `evil 9\.0`, not `leaf 9\.0`; the file came from `.*leaf-9\.0\.tar\.gz`$/m },
      { label: "index", args: ["spoof"], says: /`spoof 1\.0` \(`spoof-1\.0\.tar\.gz`\) is not the package it was fetched as: its PKG-INFO names `evil 9\.0`, not `spoof 1\.0`; the file came from `http:\/\/127\.0\.0\.1:\d+\/direct\/leaf-9\.0\.tar\.gz`$/m },
      { label: "version", args: [`${server.origin}/direct/old-9.0.tar.gz`], says: /its PKG-INFO names `old 1\.0`, not `old 9\.0`/ },
    ];
    for (const { label, args, says } of cases) {
      const target = path.join(work.dir, `refused-${label.replace(/\W+/g, "-")}`);
      const result = await install(target, args);
      assert.equal(result.code, 1, `${label}: ${result.stderr}`);
      assert.match(result.stderr, says, label);
      if (label === "index") assert.match(result.stderr, /^hint: the index lists a file that holds another package than it says: report it to the index's maintainers, or use another index$/m, label);
      else assert.match(result.stderr, new RegExp(`^hint: a file is installed only as the package its own PKG-INFO names: name the file \`${label === "version" ? "old-1\\.0" : "evil-9\\.0"}\\.tar\\.gz\`, as its PKG-INFO says, or correct the name before \` @ \` where one was given\\. .*--no-deps`, "m"), label);
      assert.doesNotMatch(result.stderr, /\n\s+at /, `${label}: no stack trace`);
      assert.equal(existsSync(target), false, `${label}: nothing was made`);
    }
  });

  test("with --json, the failure is `bad-metadata`", async () => {
    const result = await install(path.join(work.dir, "refused-json"), ["--json", `${server.origin}/direct/leaf-9.0.tar.gz`]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    assert.equal(report.error.code, "bad-metadata");
    assert.match(report.error.message, /names `evil 9\.0`, not `leaf 9\.0`/);
  });
});

describe("every PKG-INFO an sdist holds is read, however its headers are written", () => {
  test("a Name in any spelling of the header, or none at all, in the top-level PKG-INFO or any egg-info, is checked", async () => {
    const shapes: Record<string, { file: string; text: string; says: RegExp }> = {
      bom: { file: "PKG-INFO", text: "\uFEFFName: evil\nVersion: 9.0\n", says: /names `evil 9\.0`/ },
      "blank first line": { file: "PKG-INFO", text: "\nName: evil\nVersion: 9.0\n", says: /names `evil 9\.0`/ },
      folded: { file: "PKG-INFO", text: "Metadata-Version: 1.1\nName:\n  evil\nVersion: 9.0\n", says: /names `evil 9\.0`/ },
      "bare CR": { file: "PKG-INFO", text: "Metadata-Version: 1.1\rName: evil\rVersion: 9.0\r", says: /names `evil 9\.0`/ },
      "space before the colon": { file: "PKG-INFO", text: "NAME : evil\nVersion: 9.0\n", says: /names `evil 9\.0`/ },
      "no version": { file: "PKG-INFO", text: "Metadata-Version: 1.1\nName: evil\n", says: /names `evil`, not `leaf`/ },
      "empty name": { file: "PKG-INFO", text: "Name: \nVersion: 9.0\n", says: /no `Name:`, which core metadata must give/ },
      "version only": { file: "PKG-INFO", text: "Version: 9.0\n", says: /no `Name:`/ },
      "a second egg-info": { file: "evil.egg-info/PKG-INFO", text: "Metadata-Version: 1.1\nName: evil\nVersion: 9.0\n", says: /names `evil 9\.0`/ },
    };
    for (const [shape, { file, text, says }] of Object.entries(shapes)) {
      const folder = path.join(work.dir, `shape-${shape.replace(/\W+/g, "-")}`);
      await mkdir(folder);
      // Its own egg-info says leaf 9.0: the other PKG-INFO must not hide behind it.
      await writeFile(path.join(folder, "leaf-9.0.tar.gz"), await buildSdist({ name: "leaf", version: "9.0", files: { "leaf.py": "" } }, { extraEntries: [{ name: `leaf-9.0/${file}`, type: "file", content: text }] }));
      const target = path.join(work.dir, `shape-target-${shape.replace(/\W+/g, "-")}`);
      const result = await install(target, [path.join(folder, "leaf-9.0.tar.gz")]);
      assert.equal(result.code, 1, `${shape}: ${result.stderr}`);
      assert.match(result.stderr, says, shape);
      assert.equal(existsSync(target), false, shape);
    }
  });
});

/** `leaf @ <forge archive URL>` installed once for the file: one test checks the run, another freezes a copy. */
let forgeNamed: Promise<{ target: string; result: Awaited<ReturnType<typeof install>> }> | undefined;
function installForgeNamed(): Promise<{ target: string; result: Awaited<ReturnType<typeof install>> }> {
  forgeNamed ??= (async () => {
    const target = path.join(work.dir, "forge-named");
    return { target, result: await install(target, [`leaf @ ${server.origin}/direct/archive/v9.0.tar.gz`]) };
  })();
  return forgeNamed;
}

describe("`name @ URL` takes an sdist whatever its file is called, for what its PKG-INFO says", () => {
  test("a forge's `archive/v9.0.tar.gz`: refused alone (its file name says no project), installed as `leaf @ URL`, as the hint says", async () => {
    const url = `${server.origin}/direct/archive/v9.0.tar.gz`;
    const alone = await install(path.join(work.dir, "forge-alone"), [url]);
    assert.equal(alone.code, 2, alone.stderr);
    assert.match(alone.stderr, /^error: cannot tell the project name and version from the file name `v9\.0\.tar\.gz`$/m);
    assert.match(alone.stderr, /^hint: .*write `NAME @ URL`$/m);
    const { target, result: named } = await installForgeNamed();
    assert.equal(named.code, 0, named.stderr);
    assert.equal(await readFile(path.join(target, "leaf.py"), "utf8"), "LEAF = 'forge'\n");
    const listed = (JSON.parse((await runMpip(["list", "--json", "-p", target])).stdout) as { packages: Array<{ name: string; version: string }> }).packages;
    assert.deepEqual(listed.map((item) => `${item.name} ${item.version}`), ["leaf 9.0"]);
    // Another name before ` @ ` is refused once the file says what it is.
    const other = await install(path.join(work.dir, "forge-other"), [`twig @ ${url}`]);
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stderr, /`twig` \(`v9\.0\.tar\.gz`\) is not the package it was fetched as: its PKG-INFO names `leaf 9\.0`, not `twig`/);
    assert.equal(existsSync(path.join(work.dir, "forge-other")), false);
  });

  test("it is written back as `leaf @ URL`: `mpip freeze` gives a line that installs it again", async () => {
    const url = `${server.origin}/direct/archive/v9.0.tar.gz`;
    // A copy of the same install (files and records as they are), not a second run of it.
    const installed = await installForgeNamed();
    assert.equal(installed.result.code, 0, installed.result.stderr);
    const target = path.join(work.dir, "forge-freeze");
    await cp(installed.target, target, { recursive: true });
    const frozen = await runMpip(["freeze", "-p", target]);
    // With the sha256 of the file installed, as pip's freeze writes a URL (see test/commands/freeze.test.ts).
    assert.equal(frozen.stdout, `leaf @ ${url}#sha256=${await sha256Of(url)}\n`);
    const file = path.join(work.dir, "forge-freeze.txt");
    await writeFile(file, frozen.stdout);
    const again = await install(path.join(work.dir, "forge-freeze-again"), ["-r", file]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await readFile(path.join(work.dir, "forge-freeze-again", "leaf.py"), "utf8"), "LEAF = 'forge'\n");
  });

  test("a lock names it `leaf @ URL` too, and installs it again", async () => {
    const url = `${server.origin}/direct/archive/v9.0.tar.gz`;
    const folder = path.join(work.dir, "forge-lock");
    await mkdir(folder);
    const locked = await runMpip(["lock", "-q", `leaf @ ${url}`], { cwd: folder });
    assert.equal(locked.code, 0, locked.stderr);
    const lock = await readFile(path.join(folder, "pylock.toml"), "utf8");
    assert.ok(lock.includes(`spec = "leaf @ ${url}"`), lock);
    assert.ok(lock.includes(`requirements = ["leaf @ ${url}"]`), lock);
    const target = path.join(work.dir, "forge-lock-target");
    const again = await runMpip(["install", "-q", "--lock", path.join(folder, "pylock.toml"), "-p", target]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await runMpip(["freeze", "-p", target])).stdout, `leaf @ ${url}#sha256=${await sha256Of(url)}\n`);
  });

  test("its marker is evaluated as a requirement's by name is: for another platform it is skipped, on the command line and in a -r file", async () => {
    const url = `${server.origin}/direct/archive/v9.0.tar.gz`;
    const never = `leaf @ ${url} ; sys_platform == 'never'`;
    const file = path.join(work.dir, "marker-reqs.txt");
    await writeFile(file, `${never}\nleaf_pkg @ ${server.origin}/direct/leaf_pkg-1.0.tar.gz ; implementation_name == 'micropython'\n`);
    for (const args of [[never, `leaf_pkg @ ${server.origin}/direct/leaf_pkg-1.0.tar.gz ; implementation_name == 'micropython'`], ["-r", file]]) {
      const target = path.join(work.dir, `marker-${args[0] === "-r" ? "file" : "line"}`);
      const result = await install(target, args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout + result.stderr, /Skipping `leaf @ http:\/\/127\.0\.0\.1:\d+\/direct\/archive\/v9\.0\.tar\.gz ; sys_platform == 'never'` \(.*\): its marker does not apply to MicroPython/);
      assert.equal(existsSync(path.join(target, "leaf.py")), false, args.join(" "));
      assert.equal(existsSync(path.join(target, "leaf_pkg.py")), true, args.join(" "));
    }
  });

  test("its version is the one its PKG-INFO files agree on: two that differ are refused; one that gives none takes the other's", async () => {
    const refused = await install(path.join(work.dir, "two-versions"), [`leaf @ ${server.origin}/direct/archive/two-versions.tar.gz`]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^error: `leaf` \(`two-versions\.tar\.gz`\) does not say which version it is: one PKG-INFO names `leaf 2\.0`, not `leaf 1\.0`/m);
    assert.equal(existsSync(path.join(work.dir, "two-versions")), false);
    const target = path.join(work.dir, "egg-version");
    const taken = await install(target, [`leaf @ ${server.origin}/direct/archive/egg-version.tar.gz`]);
    assert.equal(taken.code, 0, taken.stderr);
    const listed = (JSON.parse((await runMpip(["list", "--json", "-p", target])).stdout) as { packages: Array<{ name: string; version: string }> }).packages;
    assert.deepEqual(listed.map((item) => `${item.name} ${item.version}`), ["leaf 2.0"]);
  });

  test("one whose file name and PKG-INFO give no PEP 440 version is refused: nothing to record it, lock it or name its download by", async () => {
    for (const [file, says] of [["no-version.tar.gz", /its PKG-INFO has no PEP 440 `Version:`/], ["legacy-version.tar.gz", /its PKG-INFO has no PEP 440 `Version:`/], ["no-pkg-info.tar.gz", /it holds no PKG-INFO/]] as const) {
      const target = path.join(work.dir, `versionless-${file}`);
      const result = await install(target, [`nover @ ${server.origin}/direct/archive/${file}`]);
      assert.equal(result.code, 1, `${file}: ${result.stderr}`);
      assert.match(result.stderr, /^error: `nover` \(`[a-z-]+\.tar\.gz`\) has no version to be installed as: its file name gives none, and /m, file);
      assert.match(result.stderr, says, file);
      assert.equal(existsSync(target), false, file);
    }
  });
});

describe("an index's document for another project than the one asked for", () => {
  test("is refused (bad-metadata), not installed in its place", async () => {
    await server.addSdist({ name: "other", version: "1.0", files: { "other.py": "" } });
    const other = (await (await fetch(`${server.url}/other/json`)).json()) as Record<string, unknown>;
    server.routes.unshift({ name: "asked", pattern: /^\/pypi\/asked\/json$/, handle: () => jsonReply(200, other) });
    const target = path.join(work.dir, "asked");
    const result = await install(target, ["asked"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /is invalid: field `info\.name` names the project `other`, not `asked` that was asked for/);
    assert.equal(existsSync(target), false);
  });
});

describe("an sdist whose PKG-INFO names the same package, spelled otherwise", () => {
  test("is installed (PEP 503 names, PEP 440 versions), recorded under its own spelling of both when named by a URL", async () => {
    for (const args of [[`${server.origin}/direct/leaf_pkg-1.0.tar.gz`], [`LEAF_PKG @ ${server.origin}/direct/leaf_pkg-1.0.tar.gz`], ["branch-ok"]]) {
      const target = path.join(work.dir, `spelled-${args[0]!.replace(/\W+/g, "-").slice(-20)}`);
      const result = await install(target, args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(await readFile(path.join(target, "leaf_pkg.py"), "utf8"), "LEAF_PKG = 1\n");
      const listed = (JSON.parse((await runMpip(["list", "--json", "-p", target])).stdout) as { packages: Array<{ name: string; version: string }> }).packages;
      assert.ok(listed.some((item) => item.name === "Leaf.Pkg" && item.version === "1.0.0"), `${args.join(" ")}: ${JSON.stringify(listed)}`);
    }
  });
});
