// A self-hosted mip index whose index.json is of format 1: what micropython-lib's publisher
// (tools/build.py) wrote until 2024, the same as format 2 but for each package's `path`. mip never reads
// index.json, so such an index serves mip as any other; mpip reads it as a micropython-lib index too,
// whether its kind is detected or given with `mip+`.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, beforeEach, describe, test } from "node:test";
import { HttpClient } from "../../src/http.js";
import { detectKind } from "../../src/sources/detect.js";
import { MipV2Source } from "../../src/sources/mip-v2.js";
import { parseRequirement } from "../../src/spec/requirement.js";
import { listFiles, runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";

let server: IndexServer;
let http: HttpClient;
let mip: MipIndex;
let serverRoutes: number;

before(async () => {
  server = await startIndexServer();
  serverRoutes = server.routes.length;
  http = new HttpClient({ retries: 0 });
});
after(async () => {
  await http.close();
  await server.close();
});

/**
 * An index at a URL that tells no kind (`/self/pi`), published as build.py does, then with its index.json
 * rewritten as format 1 wrote it: `"v": 1`, and no `path` in any package.
 */
beforeEach(async () => {
  server.routes.splice(serverRoutes);
  server.requests.length = 0;
  mip = serveMipIndex(server, { prefix: "/self/pi" });
  await mip.publish({ name: "sensor-core", version: "0.3", mpy: false, files: { "sensor_core.py": "CORE = 3\n" } });
  await mip.publish({ name: "sensor-core", version: "0.4", mpy: false, files: { "sensor_core.py": "CORE = 4\n" } });
  await mip.publish({ name: "bme-sensor", version: "2.0", mpy: false, files: { "bme_sensor/__init__.py": "import sensor_core\n" }, deps: [["sensor-core", "0.3"]] });
  const index = mip.index();
  for (const entry of index.packages) delete (entry as Partial<typeof entry>).path;
  mip.setRaw("index.json", `${JSON.stringify({ ...index, v: 1 }, null, 2)}\n`);
});

describe("an index.json of format 1", () => {
  test("lists every version of every flavor, as format 2 does", async () => {
    const listing = await new MipV2Source(mip.base, http, { flavor: "py" }).lookup(parseRequirement("Sensor_Core"));
    assert.equal(listing?.name, "sensor-core");
    assert.deepEqual([...(listing?.releases.keys() ?? [])], ["0.3", "0.4"]);
    const [artifact] = listing!.releases.get("0.4")!;
    assert.deepEqual(artifact, { type: "package-json", location: { type: "remote", url: `${mip.base}/package/py/sensor-core/0.4.json` }, mip: { base: mip.base, flavor: "py" } });
  });

  test("is detected as a micropython-lib index, not taken for a PyPI JSON API", async () => {
    const detected = await detectKind(mip.base, http, 1 << 20);
    assert.equal(detected.kind, "mip");
    assert.equal(JSON.parse(detected.indexJson?.body.toString("utf8") ?? "{}").v, 1);
  });

  for (const [how, indexUrl] of [["detected", () => mip.base], ["given with `mip+`", () => `mip+${mip.base}`]] as const) {
    test(`installs with its dependencies, pinned and latest (${how})`, async (t) => {
      const { dir, cleanup } = await tempDir("mpip-mip-v1-");
      t.after(cleanup);
      for (const [spec, core] of [["bme-sensor", "CORE = 3"], ["sensor-core", "CORE = 4"]] as const) {
        const image = `${dir}/${spec}`;
        server.requests.length = 0;
        const result = await runMpip(["install", "--no-record", "--retries", "0", "-i", indexUrl(), "-p", image, spec]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(await readFile(`${image}/sensor_core.py`, "utf8"), new RegExp(core));
        if (spec === "bme-sensor") assert.deepEqual(await listFiles(image), ["bme_sensor/__init__.py", "sensor_core.py"]);
        // Never asked as a PyPI JSON API.
        assert.deepEqual(server.requests.filter((request) => request.endsWith("/json") && !request.includes("/package/")), []);
      }
    });
  }
});
