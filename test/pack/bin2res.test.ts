// `mpip bin2res FILE...` prints what micropython-lib's mpy_bin2res.py prints for the same files (run with
// python3 as the oracle when present), keys exactly as given; a file that is not there is bad usage, exit 2.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { renderResourceModule } from "../../src/pack/r-py.js";
import { runMpip, tempDir } from "../helpers/cli.js";
import { prng, PYTHON } from "./python-oracle.js";

// mpy_bin2res.py as micropython-lib ships it (tools/mpy_bin2res.py), for the oracle.
const MPY_BIN2RES = `import sys
print("R = {")
for fname in sys.argv[1:]:
    with open(fname, "rb") as f:
        b = f.read()
        print("%r: %r," % (fname, b))
print("}")
`;

let work: { dir: string; cleanup: () => Promise<void> };
const next = prng(3);
const FILES: Record<string, Uint8Array> = {
  "data/logo.bin": Uint8Array.from({ length: 700 }, () => Math.floor(next() * 256)),
  "data/it's.txt": Buffer.from("it's\n"),
  'data/say "hi" and \'bye\'.txt': Buffer.from("\\ back\tslash\r\n"),
  "data/caf\u00e9 \u{1f600}.html": Buffer.from("<p>caf\u00e9</p>"),
  "empty": new Uint8Array(),
};

before(async () => {
  work = await tempDir();
  for (const [name, data] of Object.entries(FILES)) {
    await mkdir(path.join(work.dir, path.dirname(name)), { recursive: true });
    await writeFile(path.join(work.dir, name), data);
  }
});
after(() => work.cleanup());

describe("mpip bin2res", () => {
  const names = Object.keys(FILES);

  test("prints R.py with the paths as given as keys, in the order given", async () => {
    const order = [...names].reverse();
    const run = await runMpip(["bin2res", ...order], { cwd: work.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, renderResourceModule(order.map((name) => ({ key: name, data: FILES[name]! }))));
  });

  test("byte for byte what mpy_bin2res.py prints", { skip: PYTHON === undefined ? "python3 is not installed: mpy_bin2res.py cannot run as the oracle" : false }, async () => {
    const script = path.join(work.dir, "mpy_bin2res.py");
    await writeFile(script, MPY_BIN2RES);
    const oracle = spawnSync(PYTHON!, [script, ...names], { cwd: work.dir, env: { ...process.env, PYTHONIOENCODING: "utf-8" } });
    assert.equal(oracle.status, 0, oracle.stderr?.toString());
    const run = await runMpip(["bin2res", ...names], { cwd: work.dir });
    assert.equal(run.stdout, oracle.stdout.toString("utf8"));
  });

  test("a file that is not there, or a folder, is bad usage naming it, exit 2, as is no file at all", async () => {
    const missing = await runMpip(["bin2res", "empty", "nope.bin"], { cwd: work.dir });
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, /^error: `nope\.bin` \(given to bin2res\): there is nothing at that path\n/);
    const folder = await runMpip(["bin2res", "data"], { cwd: work.dir });
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /`data` \(given to bin2res\) is a folder, where a file is needed/);
    const none = await runMpip(["bin2res"], { cwd: work.dir });
    assert.equal(none.code, 2);
  });
});
