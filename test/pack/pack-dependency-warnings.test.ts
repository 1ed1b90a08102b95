// `mpip pack` warns about a dependency upip cannot follow (a range, a URL) only when it is written to
// requires.txt: one whose marker is false on MicroPython is never installed, is left out, and draws none.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { gunzipSync } from "node:zlib";

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
  const requires = members(await readFile(path.join(out, "demo-1.0.tar.gz"))).get("demo-1.0/demo.egg-info/requires.txt");
  return { stderr: result.stderr, requires: requires?.toString("utf8") };
}

/** The regular files of a ustar .tar.gz, by name (the names here are short: no pax, no prefix). */
function members(archive: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(archive);
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const name = tar.subarray(at, at + 100).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(tar.subarray(at + 124, at + 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
    out.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
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
