// A relative `file:` URL (`file:../dist/x-1.0.tar.gz`, `file:./pkg`), as pip takes it: its path, relative
// to the current folder as any relative path on the command line or a requirements-file line is (pip's
// `url_to_path`; pip reads such paths from the current folder, not the file's). A relative path on a
// requirements-file line that names nothing from the current folder but something from the file's folder
// gets a hint saying so. The built CLI, real sdists and project folders.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { buildSdist } from "./helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const target = () => path.join(work.dir, "targets", `t${++counter}`);

before(async () => {
  work = await tempDir();
  await mkdir(path.join(work.dir, "dist"), { recursive: true });
  await mkdir(path.join(work.dir, "reqs", "my pkg"), { recursive: true });
  await writeFile(path.join(work.dir, "dist", "rel_lib-1.0.tar.gz"), await buildSdist({ name: "rel-lib", version: "1.0", files: { "rel_lib.py": "" } }));
  await writeFile(path.join(work.dir, "dist", "v2.tar.gz"), await buildSdist({ name: "forge", version: "2.0", files: { "forge.py": "" } }));
  await writeFile(path.join(work.dir, "reqs", "my pkg", "pyproject.toml"), '[project]\nname = "rel-pkg"\nversion = "0.1"\n');
  await writeFile(path.join(work.dir, "reqs", "my pkg", "rel_pkg.py"), "");
  await writeFile(path.join(work.dir, "reqs", "reqs.txt"), ["file:../dist/rel_lib-1.0.tar.gz", "file:./my%20pkg", "forge @ file:../dist/v2.tar.gz#sha256=" + "0".repeat(64), ""].join("\n"));
  await writeFile(path.join(work.dir, "reqs", "ok.txt"), ["file:../dist/rel_lib-1.0.tar.gz", "file:./my%20pkg ; sys_platform != \"win32\"", "forge @ file:../dist/v2.tar.gz", ""].join("\n"));
});
after(() => work.cleanup());

describe("relative file: URLs", () => {
  test("are their paths, relative to the current folder, on a requirements-file line and on the command line", async () => {
    const into = target();
    const result = await runMpip(["install", "--no-index", "-p", into, "-r", "ok.txt"], { cwd: path.join(work.dir, "reqs") });
    assert.equal(result.code, 0, result.stderr);
    const files = await listFiles(into);
    for (const file of ["rel_lib.py", "rel_pkg.py", "forge.py"]) assert.ok(files.includes(file), `${file} in ${files.join(" ")}`);
    const fromCommandLine = target();
    const typed = await runMpip(["install", "--no-index", "-p", fromCommandLine, "file:dist/rel_lib-1.0.tar.gz", "rel-pkg @ file:reqs/my%20pkg"], { cwd: work.dir });
    assert.equal(typed.code, 0, typed.stderr);
    assert.ok((await listFiles(fromCommandLine)).includes("rel_pkg.py"));
  });

  test("`name @ file:FILE` with no slash (a file in the current folder, named for no project or for its own) is the URL, not a path", async () => {
    for (const spec of ["forge @ file:v2.tar.gz", "forge@file:v2.tar.gz", "forge @file:v2.tar.gz", "forge[extra] @ file:v2.tar.gz"]) {
      const into = target();
      const result = await runMpip(["install", "--no-index", "-p", into, spec], { cwd: path.join(work.dir, "dist") });
      assert.equal(result.code, 0, `${spec}: ${result.stderr}`);
      assert.ok((await listFiles(into)).includes("forge.py"), spec);
    }
    await writeFile(path.join(work.dir, "dist", "one.txt"), "rel-lib @ file:rel_lib-1.0.tar.gz\n");
    const into = target();
    const fromFile = await runMpip(["install", "--no-index", "-p", into, "-r", "one.txt"], { cwd: path.join(work.dir, "dist") });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.ok((await listFiles(into)).includes("rel_lib.py"));
  });

  test("a hash on one is checked: a mismatch fails the install and leaves the target unchanged", async () => {
    const into = target();
    await mkdir(into, { recursive: true });
    await writeFile(path.join(into, "keep.py"), "");
    const was = await snapshot(into);
    const result = await runMpip(["install", "--no-index", "-p", into, "-r", "reqs.txt"], { cwd: path.join(work.dir, "reqs") });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /does not match the sha256/);
    assert.deepEqual(await snapshot(into), was);
  });

  test("from another folder, the error says such a path is relative to the current folder and where it would be from the file's", async () => {
    const lib = path.join(work.dir, "dist", "rel_lib-1.0.tar.gz");
    for (const [line, shown, there] of [["file:../dist/rel_lib-1.0.tar.gz", "file:../dist/rel_lib-1.0.tar.gz", lib], ["../dist/rel_lib-1.0.tar.gz", "../dist/rel_lib-1.0.tar.gz", lib], ["rel-pkg @ file:my%20pkg", "file:my%20pkg", path.join(work.dir, "reqs", "my pkg")]] as const) {
      await writeFile(path.join(work.dir, "reqs", "moved.txt"), `${line}\n`);
      const result = await runMpip(["install", "--no-index", "-p", target(), "-r", path.join("reqs", "moved.txt")], { cwd: work.dir });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`moved\\.txt\` line 1: \`${shown.replace(/[.]/g, "\\.")}\` looks like a path, but there is nothing at`));
      assert.match(result.stderr, /hint: a relative path in a requirements file is relative to the current folder .*, as pip reads it, not to the file's folder/);
      assert.ok(result.stderr.replace(/\s+/g, " ").includes(`it names \`${there}\` from there: run mpip in \`${path.join(work.dir, "reqs")}\``), result.stderr);
    }
  });
});
