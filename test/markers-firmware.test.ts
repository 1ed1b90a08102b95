// Environment markers see the firmware's release as `implementation_version`: `--target-version X` is
// X (three numbers), `--mpy N` the lowest release that loads .mpy N, and with neither the current release
// (1.27.0). Checked through the built CLI on a package whose requires.txt gates its dependencies on
// implementation_version, on a requirements-file line's marker, and as a unit (markerEnvironment,
// releaseOfMpy and the targets).

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MICROPYTHON_ENVIRONMENT, evaluateMarker, markerEnvironment, parseMarker } from "../src/spec/markers.js";
import { releaseOfMpy, releaseOfTargetVersion } from "../src/mpy/target.js";
import { firmwareRelease } from "../src/commands/install.js";
import { listFiles, runMpip, tempDir } from "./helpers/cli.js";
import { buildSdist, sdistFilename, type SdistSpec } from "./helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let links: string;
let counter = 0;

before(async () => {
  work = await tempDir();
  links = path.join(work.dir, "links");
  await mkdir(links, { recursive: true });
  const packages: SdistSpec[] = [
    { name: "gated-app", version: "1.0", files: { "gated_app.py": "" }, requires: ['old-backport; implementation_version < "1.22"', 'new-helper; implementation_version >= "1.25"', "always-dep"] },
    { name: "old-backport", version: "1.0", files: { "old_backport.py": "" } },
    { name: "new-helper", version: "1.0", files: { "new_helper.py": "" } },
    { name: "always-dep", version: "1.0", files: { "always_dep.py": "" } },
  ];
  for (const spec of packages) await writeFile(path.join(links, sdistFilename(spec)), await buildSdist(spec));
});
after(() => work.cleanup());

/** The modules an install with `firmware` options puts in a fresh target. */
async function installed(firmware: string[], specs = ["gated-app"]): Promise<string[]> {
  const target = path.join(work.dir, `t${++counter}`);
  const result = await runMpip(["install", "--no-index", "-f", links, "-p", target, ...firmware, ...specs]);
  assert.equal(result.code, 0, `${firmware.join(" ")}: ${result.stderr}`);
  return (await listFiles(target)).filter((file) => file.endsWith(".py")).sort();
}

describe("implementation_version follows the firmware", () => {
  test("in a package's requires.txt: --target-version, --mpy, and neither", async () => {
    const old = ["always_dep.py", "gated_app.py", "old_backport.py"];
    const middle = ["always_dep.py", "gated_app.py"];
    const current = ["always_dep.py", "gated_app.py", "new_helper.py"];
    const cases: Array<[string[], string[]]> = [
      [[], current],
      [["--target-version", "1.19"], old],
      [["--target-version", "v1.21.0"], old],
      [["--target-version", "1.22"], middle],
      [["--target-version", "1.25.1"], current],
      [["--mpy", "5"], old],
      [["--mpy", "6"], old],
      [["--mpy", "6.1"], old],
      [["--mpy", "6.2"], middle],
      [["--mpy", "6.3"], middle],
    ];
    for (const [firmware, expected] of cases) assert.deepEqual(await installed(firmware), expected, firmware.join(" ") || "no firmware");
  });

  test("on a requirements-file line and a command-line spec", async () => {
    const requirements = path.join(work.dir, "reqs.txt");
    await writeFile(requirements, 'old-backport ; implementation_version < "1.20"\nnew-helper ; implementation_version >= "1.25"\n');
    assert.deepEqual(await installed(["--target-version", "1.19", "-r", requirements], []), ["old_backport.py"]);
    assert.deepEqual(await installed(["-r", requirements], []), ["new_helper.py"]);
    assert.deepEqual(await installed(["--mpy", "6.3"], ['always-dep; implementation_version >= "1.23"', 'old-backport; implementation_version < "1.23"']), ["always_dep.py"]);
  });
});

describe("markerEnvironment and the targets' releases", () => {
  test("a release replaces implementation_version only; none keeps the default environment", () => {
    assert.equal(markerEnvironment(undefined), MICROPYTHON_ENVIRONMENT);
    assert.equal(MICROPYTHON_ENVIRONMENT.implementation_version, "1.27.0");
    const env = markerEnvironment("1.19.0");
    assert.deepEqual({ ...env, implementation_version: "1.27.0" }, { ...MICROPYTHON_ENVIRONMENT });
    assert.ok(evaluateMarker(parseMarker('implementation_version < "1.20"'), env));
    assert.ok(!evaluateMarker(parseMarker('implementation_version < "1.20"')));
    assert.ok(Object.isFrozen(env));
  });

  test("--target-version gives its three numbers; --mpy the lowest release that loads it", () => {
    assert.equal(releaseOfTargetVersion("1.22"), "1.22.0");
    assert.equal(releaseOfTargetVersion("v1.22.2"), "1.22.2");
    assert.equal(releaseOfTargetVersion("1.23.0-preview.45.gabc"), "1.23.0");
    assert.equal(firmwareRelease({ targetVersion: "1.21" }), "1.21.0");
    assert.deepEqual(["5", "6", "6.0", "6.1", "6.2", "6.3"].map((mpy) => firmwareRelease({ mpy })), ["1.12.0", "1.19.0", "1.19.0", "1.20.0", "1.22.0", "1.23.0"]);
    assert.equal(firmwareRelease({ mpy: "6.2", arch: "armv6m" }), "1.22.0");
    assert.equal(firmwareRelease({}), undefined);
    assert.equal(releaseOfMpy(6, 3), "1.23.0");
  });
});
