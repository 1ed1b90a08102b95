// `mpip show NAME...` through the built CLI: version, source, requires, required-by, files checked
// against their recorded hashes, sizes; names compared after PEP 503 normalization.

import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeRecordedPackage } from "../helpers/dist-info.js";

let work: { dir: string; cleanup: () => Promise<void> };
let image: string;

before(async () => {
  work = await tempDir("mpip-show-");
  image = path.join(work.dir, "image");
  await mkdir(image);
  await writeRecordedPackage(image, {
    name: "Weather_Station",
    version: "3.1",
    summary: "reads the made-up weather sensors",
    requires: ["sensor-kit>=2", "host-only; implementation_name == 'cpython'", "extra-thing; extra == 'plots'"],
    files: { "weather_station/__init__.py": "W = 1\n", "weather_station/units.py": "C = 'celsius'\n", "weather_station/shared.py": "old\n" },
    installer: "mpip",
    mpip: { index: "https://pypi.org/pypi", kind: "pypi", artifact: "dist", url: "https://files.example/weather_station-3.1.tar.gz", sha256: "cd".repeat(32) },
  });
  await writeRecordedPackage(image, { name: "sensor-kit", version: "2.0", files: { "sensor_kit.py": "S = 1\n" }, requested: false });
  // A later package ships the same file: it is that package's now.
  await writeRecordedPackage(image, { name: "overlay", version: "1.0", files: { "weather_station/shared.py": "new\n" }, requires: ["Sensor_Kit"] });
});
after(() => work.cleanup());

describe("mpip show", () => {
  test("shows version, summary, source, requires (markers applied), required-by and location", async () => {
    const run = await runMpip(["show", "-p", image, "weather.station"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const expected = [
      "Name: Weather_Station",
      "Version: 3.1",
      "Summary: reads the made-up weather sensors",
      "Source: pypi https://pypi.org/pypi",
      "Installer: mpip",
      "Requested: yes",
      "Requires: sensor-kit",
      "Required-by: ",
      `Location: ${image}`,
      "Record: weather_station-3.1.dist-info",
    ];
    assert.deepEqual(run.stdout.split("\n").slice(0, expected.length), expected);
    assert.match(run.stdout, /^Size: 7 files, [\d.]+ (bytes|KiB)$/m);
  });

  test("several names, separated by ---; required-by lists every package that needs it", async () => {
    const run = await runMpip(["show", "-p", image, "SENSOR_KIT", "overlay"]);
    assert.equal(run.code, 0, run.stderr);
    const [first, second] = run.stdout.split("---\n");
    assert.match(first!, /^Name: sensor-kit$/m);
    assert.match(first!, /^Required-by: overlay, Weather_Station$/m);
    assert.match(first!, /^Requested: no/m);
    assert.match(second!, /^Name: overlay$/m);
  });

  test("--files: each file with its size; changed, missing and taken-over files said", async () => {
    const copy = path.join(work.dir, "changed");
    await mkdir(copy);
    await writeRecordedPackage(copy, { name: "gadget", version: "1.0", files: { "gadget/__init__.py": "G = 1\n", "gadget/edit.py": "E = 1\n", "gadget/gone.py": "X\n", "gadget/shared.py": "one\n" } });
    await writeRecordedPackage(copy, { name: "later", version: "1.0", files: { "gadget/shared.py": "two\n" } });
    await writeFile(path.join(copy, "gadget", "edit.py"), "E = 2  # edited on the device\n");
    await rm(path.join(copy, "gadget", "gone.py"));
    const run = await runMpip(["show", "-p", copy, "gadget", "--files"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Files:$/m);
    assert.match(run.stdout, /^  gadget\/__init__\.py {2,}6 bytes$/m);
    assert.match(run.stdout, /^  gadget\/edit\.py {2,}30 bytes \(changed since install\)$/m);
    assert.match(run.stdout, /^  gadget\/gone\.py \(missing\)$/m);
    assert.match(run.stdout, /^  gadget\/shared\.py {2,}4 bytes \(now later's\)$/m);
    assert.match(run.stdout, /^  gadget-1\.0\.dist-info\/RECORD {2,}\d+ bytes$/m);
    const sizeColumns = run.stdout.split("\n").filter((line) => / \d+ bytes/.test(line) && line.startsWith("  ")).map((line) => line.search(/ \d+ bytes/));
    assert.equal(new Set(sizeColumns).size, 1, "the sizes of --files start in one column");
    const json = JSON.parse((await runMpip(["show", "-p", copy, "gadget", "--files", "--json"])).stdout);
    const states = Object.fromEntries(json.packages[0].files.map((file: { path: string; state: string }) => [file.path, file.state]));
    assert.equal(states["gadget/__init__.py"], "unchanged");
    assert.equal(states["gadget/edit.py"], "changed");
    assert.equal(states["gadget/gone.py"], "missing");
    assert.equal(states["gadget/shared.py"], "owned-by-other");
    assert.deepEqual(json.packages[0].missing, ["gadget/gone.py"]);
  });

  test("--json: requires with their specifiers, required-by, file count and bytes", async () => {
    const run = await runMpip(["show", "-p", image, "weather-station", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const [pkg] = JSON.parse(run.stdout).packages;
    assert.equal(pkg.name, "Weather_Station");
    assert.deepEqual(pkg.requires, ["sensor-kit>=2"]);
    assert.equal(pkg.requiresDist.length, 3);
    assert.deepEqual(pkg.requiredBy, []);
    assert.equal(pkg.fileCount, 7);
    assert.equal(pkg.origin.sha256, "cd".repeat(32));
  });

  test("a Requires-Dist line that cannot be read is warned about (escaped), not dropped without a word", async () => {
    const odd = path.join(work.dir, "odd-requires");
    await mkdir(odd);
    await writeRecordedPackage(odd, { name: "oddreq", version: "1.0", files: { "oddreq.py": "" }, requires: ["fine-dep>=1", "broken dep \u001b[2J (("] });
    const run = await runMpip(["show", "-p", odd, "oddreq"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Requires: fine-dep$/m);
    assert.match(run.stderr, /warning: `oddreq-1\.0\.dist-info\/METADATA`: `Requires-Dist: broken dep \\x1b\[2J \(\(` is not a requirement mpip can read/);
    assert.doesNotMatch(run.stderr, /\u001b/);
  });

  test("a name with no record is an error naming it (exit 1, not-found); the names found are shown all the same, as pip shows them", async () => {
    const run = await runMpip(["show", "-p", image, "sensor-kit", "no-such-thing"]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^Name: sensor-kit$/m);
    assert.match(run.stdout, /^Version: 2\.0$/m);
    // The hint names the folder, as a command to run (quoted for a shell where it must be).
    const shown = /[^A-Za-z0-9_@%+=:,./-]/.test(image) ? `'${image}'` : image;
    assert.equal(run.stderr, `error: no package \`no-such-thing\` is recorded in \`${image}\`\n\nhint: \`mpip list -p ${shown}\` shows the recorded packages\n`);
    const json = await runMpip(["show", "-p", image, "no-such-thing", "--json"]);
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout).error.code, "not-found");
    // With --json too: the packages found, and the error.
    const partial = await runMpip(["show", "-p", image, "sensor-kit", "no-such-thing", "--json"]);
    assert.equal(partial.code, 1);
    const document = JSON.parse(partial.stdout) as { ok: boolean; error: { code: string }; packages: Array<{ name: string }> };
    assert.equal(document.ok, false);
    assert.equal(document.error.code, "not-found");
    assert.deepEqual(document.packages.map((item) => item.name), ["sensor-kit"]);
    // Nothing found: nothing shown.
    const none = await runMpip(["show", "-p", image, "no-such-thing"]);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, "");
  });

  test("a misspelt name gets the recorded names close to it, as install's not-found does", async () => {
    const run = await runMpip(["show", "-p", image, "sensor-kitt", "overlayy", "zzzzzz"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^hint: `sensor-kitt`: did you mean `sensor-kit`\?; `overlayy`: did you mean `overlay`\?$/m);
    assert.match(run.stderr, /^`mpip list -p .*` shows the recorded packages$/m);
    const plain = await runMpip(["show", "-p", image, "zzzzzz"]);
    assert.doesNotMatch(plain.stderr, /did you mean/);
  });

  test("--size adds the frozen bytecode size", async () => {
    const run = await runMpip(["show", "-p", image, "sensor-kit", "--size", "--json"], { env: { MPIP_CACHE_DIR: path.join(work.dir, "cache") } });
    assert.equal(run.code, 0, run.stderr);
    const [pkg] = JSON.parse(run.stdout).packages;
    assert.ok(pkg.size.frozenBytes > 0);
    assert.equal(pkg.size.bytes, pkg.bytes);
  });
});
