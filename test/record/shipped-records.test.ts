// A `.dist-info` folder at the top of the target is an install record, which only the installer writes:
// a package that ships one would forge records (packages never installed, a false source, another
// package's files, the user's own files listed for an uninstall to remove). Every source's package is
// refused with `unsafe-path` and nothing changed, whatever the spelling; a folder of that name deeper in
// a package is its own business.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { baselineRun } from "../helpers/baseline.js";

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

const FORGED_METADATA = "Metadata-Version: 2.1\nName: victim\nVersion: 9.0\n";

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  work = await tempDir("mpip-shipped-records-");
  await server.addSdist({ name: "forger", version: "1.0", files: { "forger.py": "", "victim-9.0.dist-info/METADATA": FORGED_METADATA, "victim-9.0.dist-info/RECORD": "main.py,,\n" } });
  await server.addSdist({ name: "own-forger", version: "1.0", files: { "own_forger.py": "", "own_forger-1.0.dist-info/direct_url.json": '{"url": "https://example.invalid/x.tar.gz", "archive_info": {}}' } });
  await server.addSdist({ name: "shouty", version: "1.0", files: { "shouty.py": "", "VICTIM-9.0.DIST-INFO/METADATA": FORGED_METADATA } });
  await server.addSdist({ name: "filey", version: "1.0", files: { "filey.py": "", "q-1.0.dist-info": "not a folder" } });
  await server.addSdist({ name: "deep-ok", version: "1.0", files: { "deep_ok/__init__.py": "", "deep_ok/data.dist-info/notes.txt": "its own data" } });
  await mip.publish({ name: "mip-forger", version: "1.0", files: { "mip_forger.py": "", "victim-9.0.dist-info/forged.py": "" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

// deep-ok installed: the image each refusal must leave unchanged. Installed once and copied per test; the
// last test checks that install on a run of its own.
const withDeepOk = baselineRun((dir) => runMpip(["install", "-i", server.url, "-p", dir, "deep-ok"]), () => work.dir);

describe("a package that ships an install record", () => {
  for (const [name, index, shipped] of [
    ["forger", "pypi", "victim-9.0.dist-info/"],
    ["own-forger", "pypi", "own_forger-1.0.dist-info/direct_url.json"],
    ["shouty", "pypi", "VICTIM-9.0.DIST-INFO/METADATA"],
    ["filey", "pypi", "q-1.0.dist-info"],
    ["mip-forger", "mip", "victim-9.0.dist-info/forged.py"],
  ] as const) {
    test(`${name} (${index}): refused, nothing changed, with or without records`, async () => {
      const target = await withDeepOk.copyTo(path.join(work.dir, `image-${++counter}`));
      await writeFile(path.join(target, "main.py"), "print('my app')\n");
      const before = await snapshot(target);
      for (const extra of [[], ["--no-record"]]) {
        const result = await runMpip(["install", "-i", index === "mip" ? `mip+${mip.base}` : server.url, "-p", target, ...extra, name]);
        assert.equal(result.code, 1, result.stderr);
        assert.ok(result.stderr.includes(`error: refused to install \`${name} 1.0\`: it ships \`${shipped}`), result.stderr);
        assert.match(result.stderr, /only the installer writes; nothing was changed/);
        assert.deepEqual(await snapshot(target), before);
      }
      const listed = await runMpip(["list", "-p", target]);
      assert.doesNotMatch(listed.stdout, /victim/);
    });
  }

  test("a `.dist-info` folder deeper in a package is the package's own", async () => {
    const target = path.join(work.dir, `image-${++counter}`);
    const result = await runMpip(["install", "-i", server.url, "-p", target, "deep-ok"]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await snapshot(target))["deep_ok/data.dist-info/notes.txt"] !== undefined);
  });
});
