// A dependency's metadata is asked for as soon as the package naming it has been read, not once its
// whole level is done (src/resolve/lookups.ts), and the result is the plan of the level-by-level walk:
// the built CLI against a real index server on 127.0.0.1.

import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer, type Route } from "../helpers/index-server.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-look-ahead-");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** Lines of the summary that name what was installed, in order. */
const installedLines = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith(" + "));

describe("looking dependencies up ahead of their level", () => {
  test("the metadata of a quick package's dependency is asked for while a slow package of the same level is still downloading; the image and the summary are those of --jobs 1", async () => {
    await server.addSdist({ name: "station", version: "1.0", files: { "station.py": "import quick, slow\n" }, requires: ["quick", "slow"] });
    await server.addSdist({ name: "quick", version: "1.0", files: { "quick.py": "import leaf\n" }, requires: ["leaf>=1"] });
    await server.addSdist({ name: "slow", version: "1.0", files: { "slow.py": "S = 1\n" } });
    await server.addSdist({ name: "leaf", version: "1.0", files: { "leaf.py": "L = 1\n" } });
    await server.addSdist({ name: "leaf", version: "2.0", files: { "leaf.py": "L = 2\n" } });
    // slow's archive is answered only once leaf's metadata has been asked for (or after 20 s, which a
    // level-by-level walk would take, leaf being asked for only once slow is done).
    let leafAsked!: () => void;
    const asked = new Promise<"leaf">((resolve) => (leafAsked = () => resolve("leaf")));
    let opened: "leaf" | "timeout" | undefined;
    const file = server.routes.find((route) => route.name === "file")!;
    const project = server.routes.find((route) => route.name === "project")!;
    const held: Route = {
      name: "held",
      pattern: /^\/(files\/slow\/|pypi\/leaf\/json)/,
      async handle(context) {
        if (context.path.startsWith("/pypi/leaf/")) {
          leafAsked();
          return project.handle({ ...context, match: project.pattern.exec(context.path)! });
        }
        opened ??= await Promise.race([asked, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 20_000).unref())]);
        return file.handle({ ...context, match: file.pattern.exec(context.path)! });
      },
    };
    server.routes.unshift(held);
    try {
      const ahead = path.join(work.dir, "ahead");
      const result = await runMpip(["install", "-i", server.url, "-p", ahead, "station"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(opened, "leaf", "leaf's metadata was asked for before slow's archive was answered");
      server.routes.splice(server.routes.indexOf(held), 1);

      const serial = path.join(work.dir, "serial");
      const one = await runMpip(["install", "-i", server.url, "-p", serial, "--jobs", "1", "station"]);
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(installedLines(result.stderr), installedLines(one.stderr));
      assert.deepEqual(await snapshot(ahead), await snapshot(serial));
      assert.equal(await readFile(path.join(ahead, "leaf.py"), "utf8"), "L = 2\n");
    } finally {
      if (server.routes.includes(held)) server.routes.splice(server.routes.indexOf(held), 1);
    }
  });

  test("a name asked for in other words by its level than by the package looked up first is looked up again as its level asks", async () => {
    // gauge's index document lists no releases: a look-up for `gauge>=1` sees only its latest version,
    // 2.5, while `gauge>=1,==1.5` fetches that version's own document.
    await server.addSdist({ name: "gauge", version: "1.5", files: { "gauge.py": "G = '1.5'\n" } });
    await server.addSdist({ name: "gauge", version: "2.5", files: { "gauge.py": "G = '2.5'\n" } });
    server.setInfoVersion("gauge", "2.5");
    server.omitReleases("gauge");
    await server.addSdist({ name: "meter", version: "1.0", files: { "meter.py": "" }, requires: ["gauge>=1"] });
    await server.addSdist({ name: "dial", version: "1.0", files: { "dial.py": "" }, requires: ["gauge==1.5"] });
    await server.addSdist({ name: "panel", version: "1.0", files: { "panel.py": "" }, requires: ["meter", "dial"] });
    const target = path.join(work.dir, "panel");
    const result = await runMpip(["install", "-i", server.url, "-p", target, "panel"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(target, "gauge.py"), "utf8"), "G = '1.5'\n");
    assert.ok(server.requests.includes("GET /pypi/gauge/1.5/json"), server.requests.join("\n"));
  });

  test("a name looked up ahead that its level then takes from elsewhere (a project folder that turns out to have that name) holds neither the pool (--jobs 1), nor the install's end, nor the process", { timeout: 120_000 }, async () => {
    // `haunt` needs `wisp` and `ember`; `wisp` is also given as a project folder, whose name is known only
    // once it is packed: by then `wisp` is being looked up ahead, and the folder answers the next level.
    await server.addSdist({ name: "ember", version: "1.0", files: { "ember.py": "E = 1\n" } });
    await server.addSdist({ name: "haunt", version: "1.0", files: { "haunt.py": "import wisp\n" }, requires: ["wisp", "ember"] });
    const folder = path.join(work.dir, "wisp-project");
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "pyproject.toml"), '[project]\nname = "wisp"\nversion = "2.0"\n');
    await writeFile(path.join(folder, "wisp.py"), "W = 2\n");
    // The index holds its answer for `wisp` until mpip has exited (a server that stalls): with one request
    // at a time, `ember` must still be looked up and installed, and the install must end without wisp's
    // answer, not wait out a timeout of ten minutes.
    let exited!: () => void;
    const done = new Promise<void>((resolve) => (exited = resolve));
    const stalled: Route = {
      name: "stalled",
      pattern: /^\/pypi\/wisp\//,
      handle: async () => {
        await done;
        return { status: 404, body: Buffer.from("{}") };
      },
    };
    server.routes.unshift(stalled);
    try {
      const target = path.join(work.dir, "haunt");
      const result = await runMpip(["install", "-i", server.url, "-p", target, "--timeout", "600", "--jobs", "1", "haunt", folder]);
      exited();
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await readFile(path.join(target, "wisp.py"), "utf8"), "W = 2\n");
      assert.equal(await readFile(path.join(target, "ember.py"), "utf8"), "E = 1\n");
      assert.doesNotMatch(result.stderr, /still running|bug in mpip/);
    } finally {
      exited();
      server.routes.splice(server.routes.indexOf(stalled), 1);
    }
  });
});
