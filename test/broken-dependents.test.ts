// An install that leaves a package the target keeps without what it requires says so, as pip does: a
// version its specifier excludes (asked for by name, or with --no-deps), or a package `mpip sync` removes.
// The install itself goes ahead, as asked. Before, nothing was said.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "./helpers/cli.js";
import { buildSdist, sdistFilename, type SdistSpec } from "./helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let links: string;
let counter = 0;

before(async () => {
  work = await tempDir("mpip-broken-dependents-");
  links = path.join(work.dir, "links");
  await mkdir(links);
  const specs: SdistSpec[] = [
    { name: "gauge", version: "1.0", files: { "gauge.py": "import dial\n" }, requires: ["dial>=2.0", "needle", 'desk-only; sys_platform == "win32"'] },
    { name: "dial", version: "1.5", files: { "dial.py": "V = 1.5\n" } },
    { name: "dial", version: "2.1", files: { "dial.py": "V = 2.1\n" } },
    { name: "needle", version: "1.0", files: { "needle.py": "N = 1\n" } },
    { name: "desk-only", version: "1.0", files: { "desk_only.py": "D = 1\n" } },
    { name: "desk-only", version: "0.1", files: { "desk_only.py": "D = 0\n" } },
  ];
  for (const spec of specs) await writeFile(path.join(links, sdistFilename(spec)), await buildSdist(spec));
});
after(async () => {
  await work.cleanup();
});

/** A target with `gauge` and its dependencies installed. */
async function gaugeImage(): Promise<string> {
  const target = path.join(work.dir, `image-${++counter}`);
  const result = await runMpip(["install", "-q", "--no-index", "-f", links, "-p", target, "gauge"]);
  assert.equal(result.code, 0, result.stderr);
  return target;
}

describe("packages the target keeps whose requirements an install breaks", () => {
  test("a version the specifier excludes, asked for by name or with --no-deps: warned, and installed", async () => {
    for (const extra of [[], ["--no-deps"]]) {
      const target = await gaugeImage();
      const result = await runMpip(["install", "--json", ...extra, "--no-index", "-f", links, "-p", target, "dial==1.5"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /^warning: `gauge 1\.0`, which stays, requires `dial>=2\.0`, but `dial` 1\.5 is installed now$/m, extra.join(" "));
      const report = JSON.parse(result.stdout) as { packages: Array<{ name: string; version: string }>; warnings: string[] };
      assert.deepEqual(report.packages.map((item) => `${item.name} ${item.version}`), ["dial 1.5"]);
      assert.equal(report.warnings.filter((warning) => warning.includes("which stays")).length, 1);
    }
  });

  test("a version that still meets the specifier, a requirement whose marker does not hold on MicroPython: nothing said", async () => {
    const target = await gaugeImage();
    const upgraded = await runMpip(["install", "--no-index", "-f", links, "-p", target, "--force-reinstall", "dial==2.1", "desk-only==0.1"]);
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.doesNotMatch(upgraded.stderr, /which stays/);
  });

  test("a dry run says what would be", async () => {
    const target = await gaugeImage();
    const dry = await runMpip(["install", "--dry-run", "--no-index", "-f", links, "-p", target, "dial==1.5"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /^warning: `gauge 1\.0`, which stays, requires `dial>=2\.0`, but `dial` 1\.5 would be installed$/m);
  });

  test("mpip sync removing a package another it keeps requires: warned", async () => {
    const target = await gaugeImage();
    const project = path.join(work.dir, "sync-project");
    await mkdir(project, { recursive: true });
    // A lock of gauge alone (--no-deps): sync removes its dependencies.
    const locked = await runMpip(["lock", "-q", "--no-deps", "--no-index", "-f", links, "gauge"], { cwd: project });
    assert.equal(locked.code, 0, locked.stderr);
    const synced = await runMpip(["sync", "-i", links, "-p", target], { cwd: project });
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stderr, /^warning: `gauge 1\.0`, which stays, requires `dial>=2\.0`, which is removed$/m);
    assert.match(synced.stderr, /^warning: `gauge 1\.0`, which stays, requires `needle`, which is removed$/m);
  });
});
