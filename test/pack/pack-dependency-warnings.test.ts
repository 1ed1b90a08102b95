// `mpip pack` warns about a dependency upip cannot follow (a range, a URL) only when it is written to
// requires.txt: one whose marker is false on MicroPython is never installed, is left out, and draws none.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { tarGzMembers } from "../helpers/tar-craft.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  work = await tempDir("mpip-pack-deps-");
});
after(async () => {
  await work.cleanup();
});

async function pack(dependencies: string[]): Promise<{ stderr: string; requires: string | undefined }> {
  const project = path.join(work.dir, `p${++counter}`);
  await mkdir(path.join(project, "demo"), { recursive: true });
  await writeFile(path.join(project, "demo", "__init__.py"), "X = 1\n");
  await writeFile(path.join(project, "pyproject.toml"), `[project]\nname = "demo"\nversion = "1.0"\ndependencies = ${JSON.stringify(dependencies)}\n`);
  const out = path.join(work.dir, `out${counter}`);
  const result = await runMpip(["pack", project, "-o", out]);
  assert.equal(result.code, 0, result.stderr);
  const requires = tarGzMembers(await readFile(path.join(out, "demo-1.0.tar.gz"))).get("demo-1.0/demo.egg-info/requires.txt");
  return { stderr: result.stderr, requires: requires?.toString("utf8") };
}

describe("pack's warning about dependencies upip cannot follow", () => {
  test("a dependency whose marker is false on MicroPython draws no warning and is left out", async () => {
    const { stderr, requires } = await pack(["hostonly>=1.0; sys_platform == 'linux'", "cpython-only @ https://example.com/c-1.0.tar.gz ; implementation_name == 'cpython'"]);
    assert.doesNotMatch(stderr, /warning/);
    assert.equal(requires, undefined);
  });

  test("a range or a URL written to requires.txt still draws the warning, named as written", async () => {
    const { stderr, requires } = await pack(["ranged>=1.0", "mp-only>=2; implementation_name == 'micropython'", "plain; implementation_name == 'micropython'", "skipped<3; sys_platform == 'win32'"]);
    assert.equal(requires, "ranged>=1.0\nmp-only>=2\nplain\n");
    assert.match(stderr, /^warning: dependency `ranged>=1\.0` installs with mpip, but upip reads each line/m);
    assert.match(stderr, /^warning: dependency `mp-only>=2` installs with mpip/m);
    assert.doesNotMatch(stderr, /`plain|skipped/);
    assert.equal(stderr.match(/^warning:/gm)?.length, 2, stderr);
  });
});

describe("a dependency whose marker the firmware's release decides (implementation_version)", () => {
  // requires.txt holds no markers: it is decided for MicroPython's current release, and said so, since
  // `mpip install --mpy 6` of the archive would otherwise silently get the other branch.
  const firmwareWarning = (line: string, verdict: "left out" | "written") =>
    new RegExp(`^warning: (?:\\S+: )?dependency \`${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` has a marker on the firmware's release, which requires.txt cannot hold \\(upip reads each line as a package\\): it was decided for MicroPython 1\\.27\\.0 and ${verdict}, for every firmware the archive is installed on`, "m");

  test("pack: each is named, left out or written; a marker the release did not decide draws nothing", async () => {
    const old = 'old-fmt==0.9; implementation_version < "1.20"';
    const current = 'new-ansi; implementation_version >= "1.20"';
    const { stderr, requires } = await pack([old, current, 'extra-only; extra == "x" and implementation_version < "1.20"', 'any-mp; implementation_name == "micropython" or implementation_version < "1"']);
    assert.equal(requires, "new-ansi\nany-mp\n");
    assert.match(stderr, firmwareWarning(old, "left out"));
    assert.match(stderr, firmwareWarning(current, "written"));
    assert.equal(stderr.match(/marker on the firmware's release/g)?.length, 2, stderr);
  });

  test("repack: from PKG-INFO's Requires-Dist and from requires.txt's [:marker] sections alike", async () => {
    const { buildSdist } = await import("../helpers/sdist.js");
    const fromHeaders = path.join(work.dir, "hdr-1.0.tar.gz");
    await writeFile(fromHeaders, await buildSdist({ name: "hdr", version: "1.0", files: { "hdr.py": "" }, requiresDist: ['old-fmt==0.9; implementation_version < "1.20"', "plain"] }));
    const fromSections = path.join(work.dir, "sec-1.0.tar.gz");
    await writeFile(fromSections, await buildSdist({ name: "sec", version: "1.0", files: { "sec.py": "" }, requires: ["plain", '[:implementation_version >= "1.20"]', "new-ansi", "[extra]", "never"] }));
    for (const [input, line, verdict] of [[fromHeaders, 'old-fmt==0.9; implementation_version < "1.20"', "left out"], [fromSections, "new-ansi", "written"]] as const) {
      const result = await runMpip(["repack", input, "-o", path.join(work.dir, `re${++counter}`)]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, firmwareWarning(line, verdict));
      assert.equal(result.stderr.match(/marker on the firmware's release/g)?.length, 1, result.stderr);
    }
  });
});
