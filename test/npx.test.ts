// `npm pack` must give a tarball that works as a one-off: `npx --yes ./mpip-<version>.tgz install ...`.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { listFiles, runCommand, tempDir } from "./helpers/cli.js";
import { startIndexServer } from "./helpers/index-server.js";

test("the packed tarball runs through npx and installs a package", async () => {
  const work = await tempDir();
  const server = await startIndexServer();
  try {
    await server.addSdist({ name: "solo", version: "1.0", files: { "solo.py": "X = 1\n" } });
    const packed = await runCommand("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work.dir]);
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const shipped = info!.files.map((file) => file.path);
    assert.ok(shipped.includes("bin/mpip.js") && shipped.includes("dist/cli.js"), shipped.join(", "));
    assert.ok(!shipped.some((file) => file.startsWith("src/") || file.startsWith("test/")), "ships only what runs");
    const target = path.join(work.dir, "image");
    // The dependencies are in npm's cache after `npm ci`; prefer it over the registry.
    const env = { npm_config_prefer_offline: "true", npm_config_update_notifier: "false" };
    const result = await runCommand("npx", ["--yes", `./${info!.filename}`, "install", "-i", server.url, "-p", target, "solo"], { cwd: work.dir, env });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    // The whole image: the package's file and its install record.
    const record = ["INSTALLER", "METADATA", "mpip.json", "RECORD", "REQUESTED"].map((file) => `solo-1.0.dist-info/${file}`);
    assert.deepEqual(await listFiles(target), [...record, "solo.py"]);
    assert.equal(await readFile(path.join(target, "solo.py"), "utf8"), "X = 1\n");
  } finally {
    await server.close();
    await work.cleanup();
  }
});
