// Every kind of source `mpip install` takes, locked and installed again through the built CLI: a
// `github:` package.json at a ref whose files and `deps` name more of its repo, an sdist URL, a module URL,
// a project folder, a local package.json, an sdist in a `-f` folder and one named by its path, beside the
// index packages. The locked install gives the plain install's image byte for byte, records included,
// from a lock whose local paths are relative to its folder and which is the same from any folder.

import assert from "node:assert/strict";
import { cp, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parse as parseToml } from "smol-toml";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { serveRepos } from "../helpers/repo-server.js";
import { buildSdist } from "../helpers/sdist.js";
import { image, metadataRequests, serveGraph, type Graph } from "./graph.js";

let graph: Graph;
let work: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;

before(async () => {
  graph = await serveGraph();
  work = await tempDir("mpip-lock-sources-");
  const repos = serveRepos(graph.server);
  env = { MPIP_GITHUB_URL: repos.hosts.github };
  repos.addRepo("github", "acme", "widgets", "v2", {
    "package.json": JSON.stringify({ version: "2.0", urls: [["widgets/__init__.py", "github:acme/widgets/src/w.py"]], deps: [["github:acme/widgets/extra.py", ""], ["blinker", "0.3"]] }),
    "src/w.py": "W = 2\n",
    "extra.py": "E = 1\n",
  });
  repos.addRepo("github", "acme", "widgets", "main", { "package.json": JSON.stringify({ version: "3.0", urls: [["widgets/__init__.py", "src/w.py"]] }), "src/w.py": "W = 3\n" }, { default: true });
  const remote = await buildSdist({ name: "remote-thing", version: "0.1", files: { "remote_thing.py": "R = 1\n" } });
  graph.server.routes.push(
    { name: "direct-sdist", pattern: /^\/dl\/remote-thing-0\.1\.tar\.gz$/, handle: () => ({ status: 200, body: remote }) },
    { name: "direct-module", pattern: /^\/dl\/probe\.py$/, handle: () => ({ status: 200, body: Buffer.from("PROBE = 1\n") }) },
  );
  await writeTree(path.join(work.dir, "app"), {
    "proj/pyproject.toml": '[project]\nname = "my-app"\nversion = "3.1"\ndependencies = ["sensor-lib"]\n',
    "proj/my_app/__init__.py": "A = 1\n",
    "pj/package.json": JSON.stringify({ version: "0.9", urls: [["pj.py", "pj.py"]] }),
    "pj/pj.py": "P = 1\n",
    "wheelhouse/local-dist-2.0.tar.gz": await buildSdist({ name: "local-dist", version: "2.0", files: { "local_dist.py": "L = 2\n" } }),
    "loose-1.1.tar.gz": await buildSdist({ name: "loose", version: "1.1", files: { "loose.py": "L = 1\n" } }),
  });
});
after(async () => {
  await graph.server.close();
  await work.cleanup();
});

const specs = () => ["github:acme/widgets@v2", `${graph.server.origin}/dl/remote-thing-0.1.tar.gz`, `${graph.server.origin}/dl/probe.py`, "./proj", "./pj", "local-dist", "./loose-1.1.tar.gz"];

describe("every kind of source", () => {
  test("locked and installed from the lock: the plain install's image, byte for byte; shorthands keep their ref; local paths are relative to the lock", async () => {
    const app = path.join(work.dir, "app");
    const args = [...graph.indexes, "-f", "wheelhouse", ...specs()];
    const locked = await runMpip(["lock", ...args], { cwd: app, env });
    assert.equal(locked.code, 0, locked.stderr);
    assert.match(locked.stderr, /^Locked 12 packages into `pylock\.toml`/m);
    const plain = path.join(work.dir, "plain");
    assert.equal((await runMpip(["install", "-p", plain, ...args], { cwd: app, env })).code, 0);
    graph.server.requests.length = 0;
    const target = path.join(work.dir, "locked");
    // From another folder: the paths in the lock are relative to the lock, not to where mpip runs.
    const installed = await runMpip(["install", "--lock", path.join(app, "pylock.toml"), "-p", target], { cwd: work.dir, env });
    assert.equal(installed.code, 0, installed.stderr);
    assert.deepEqual(await image(target), await image(plain));
    assert.deepEqual(metadataRequests(graph.server), []);

    const text = await readFile(path.join(app, "pylock.toml"), "utf8");
    assert.doesNotMatch(text, new RegExp(work.dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "no absolute path of this machine");
    const lock = parseToml(text) as unknown as { packages: Array<{ name: string; version?: string; directory?: { path: string }; archive?: { path?: string; url?: string }; sdist?: { path?: string }; tool: { mpip: Record<string, unknown> } }> };
    const byName = new Map(lock.packages.map((item) => [item.name, item]));
    assert.deepEqual([...byName.keys()], ["blinker", "extra", "helper-lib", "local-dist", "loose", "my-app", "pj", "probe", "remote-thing", "sensor-lib", "ticker", "widgets"]);
    assert.deepEqual([byName.get("widgets")!.tool.mpip.spec, byName.get("widgets")!.tool.mpip.ref], ["github:acme/widgets@v2", "v2"]);
    assert.equal(byName.get("extra")!.tool.mpip.spec, "github:acme/widgets/extra.py@v2");
    assert.equal(byName.get("my-app")!.directory!.path, "proj");
    assert.equal(byName.get("my-app")!.version, undefined);
    assert.equal(byName.get("loose")!.archive!.path, "loose-1.1.tar.gz");
    assert.equal(byName.get("local-dist")!.sdist!.path, "wheelhouse/local-dist-2.0.tar.gz");
    assert.equal(byName.get("remote-thing")!.archive!.url, `${graph.server.origin}/dl/remote-thing-0.1.tar.gz`);
    assert.equal(byName.get("probe")!.tool.mpip.artifact, "module");
    assert.equal(byName.get("pj")!.tool.mpip.spec, "./pj");

    // The same lock, byte for byte, when made from a copy of the folder elsewhere.
    const copy = path.join(work.dir, "copy");
    await cp(app, copy, { recursive: true });
    const again = await runMpip(["lock", "-o", "pylock.toml", ...args], { cwd: copy, env });
    assert.equal(again.code, 0, again.stderr);
    assert.ok((await readFile(path.join(copy, "pylock.toml"))).equals(Buffer.from(text)));
  });
});
