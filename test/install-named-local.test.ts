// `name @ file:///...` for a local sdist whose file name says no project (a forge's `v1.0.tar.gz`) and for
// a project folder (what `pip freeze` writes for a folder install): installed as pip installs them, the
// name given held to the sdist's PKG-INFO or the project's metadata. The built CLI, real sdists and
// folders; failures leave the target as it was.

import assert from "node:assert/strict";
import { cp, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, snapshot, tempDir, type RunResult } from "./helpers/cli.js";
import { buildSdist } from "./helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const url = (file: string) => pathToFileURL(path.join(work.dir, file)).href;
const target = () => path.join(work.dir, `t${++counter}`, "image");

before(async () => {
  work = await tempDir();
  await writeFile(path.join(work.dir, "v1.0.tar.gz"), await buildSdist({ name: "forge-lib", version: "1.0", files: { "forge_lib.py": "A = 1\n" } }));
  await writeFile(path.join(work.dir, "tag.tar.gz"), await buildSdist({ name: "Tagged_Lib", version: "2.1", files: { "tagged_lib.py": "" } }));
  await mkdir(path.join(work.dir, "my project"), { recursive: true });
  await writeFile(path.join(work.dir, "my project", "pyproject.toml"), '[project]\nname = "my-proj"\nversion = "0.3"\n');
  await writeFile(path.join(work.dir, "my project", "my_proj.py"), "B = 2\n");
  await mkdir(path.join(work.dir, "doc"), { recursive: true });
  await writeFile(path.join(work.dir, "doc", "package.json"), '{"urls": [["doc.py", "doc.py"]]}\n');
  await writeFile(path.join(work.dir, "doc", "doc.py"), "");
  await writeFile(path.join(work.dir, "mod.py"), "");
});
after(() => work.cleanup());

/**
 * The install of all three from the command line, made once: the first test checks it, the failure test
 * copies its target as an image that already holds `forge-lib` (and the others).
 */
let commandLineInstall: Promise<{ into: string; result: RunResult }> | undefined;
function installFromCommandLine(): Promise<{ into: string; result: RunResult }> {
  commandLineInstall ??= (async () => {
    const into = target();
    const result = await runMpip(["install", "--no-index", "-p", into, `forge-lib @ ${url("v1.0.tar.gz")}`, `My.Proj @ ${url("my project")}`, `tagged-lib@${url("tag.tar.gz")}`]);
    return { into, result };
  })();
  return commandLineInstall;
}

describe("name @ file:///... of an sdist that names no project, or of a project folder", () => {
  test("installs them as the project named, at the version their metadata gives, from the command line and a requirements file", async () => {
    const { into, result } = await installFromCommandLine();
    assert.equal(result.code, 0, result.stderr);
    const files = await listFiles(into);
    for (const file of ["forge_lib.py", "my_proj.py", "tagged_lib.py", "forge_lib-1.0.dist-info/METADATA", "my_proj-0.3.dist-info/METADATA", "tagged_lib-2.1.dist-info/METADATA"]) assert.ok(files.includes(file), `${file} in ${files.join(" ")}`);
    const requirements = path.join(work.dir, "reqs.txt");
    await writeFile(requirements, `forge-lib @ ${url("v1.0.tar.gz")}\nmy-proj @ ${url("my project")} ; sys_platform != "win32"\n`);
    const again = target();
    const fromFile = await runMpip(["install", "--no-index", "-p", again, "-r", requirements]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.ok((await listFiles(again)).includes("my_proj.py") && (await listFiles(again)).includes("forge_lib.py"));
  });

  test("a name the sdist's PKG-INFO or the project's metadata does not give is an error, and the target is left as it was", async () => {
    const installed = await installFromCommandLine();
    assert.equal(installed.result.code, 0, installed.result.stderr);
    const into = target();
    await cp(installed.into, into, { recursive: true });
    assert.ok((await listFiles(into)).includes("forge_lib-1.0.dist-info/METADATA"));
    const was = await snapshot(path.dirname(into));
    const cases: Array<[string, RegExp]> = [
      [`other-lib @ ${url("v1.0.tar.gz")}`, /PKG-INFO names `forge-lib 1\.0`, not `other-lib`/],
      [`other-proj @ ${url("my project")}`, /the project folder `.*my project` was given as `other-proj`, but its project metadata names it `my-proj`/],
    ];
    for (const [spec, message] of cases) {
      const result = await runMpip(["install", "--no-index", "-p", into, spec]);
      assert.notEqual(result.code, 0, spec);
      assert.match(result.stderr, message, spec);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
      assert.deepEqual(await snapshot(path.dirname(into)), was, spec);
    }
  });

  test("a module, a package.json folder and a hash on a folder are refused with what to give instead", async () => {
    const cases: Array<[string, RegExp]> = [
      [`mod @ ${url("mod.py")}`, /must point at a \.tar\.gz sdist or a project folder[\s\S]*hint: give the path alone/],
      [`doc @ ${url("doc")}`, /the folder holds a package\.json and no Python project metadata[\s\S]*hint: give the folder's path alone/],
      [`my-proj @ ${url("my project")}#sha256=${"0".repeat(64)}`, /a hash fragment \(`#sha256=`, `#md5=`, \.\.\.\) is checked for an sdist \(\.tar\.gz\) only/],
      [`ghost @ ${url("nothing here")}`, /there is nothing at/],
    ];
    for (const [spec, message] of cases) {
      const into = target();
      const result = await runMpip(["install", "--no-index", "-p", into, spec]);
      assert.equal(result.code, 2, `${spec}: ${result.stderr}`);
      assert.match(result.stderr, message, spec);
    }
  });
});
