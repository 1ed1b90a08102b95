// `--compile`, `--target-version`/`--mpy` through the CLI: images compiled to .mpy import and run in
// real MicroPython; a file that does not compile, or a compiler of the wrong version, leaves the target
// as it was.
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { runMicroPython } from "./helpers/micropython.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  work = await tempDir();
  await server.addSdist({
    name: "geometry",
    version: "1.0",
    files: {
      "geometry/__init__.py": "from .shapes import Square\n",
      "geometry/shapes.py": "from units import scale\n\nclass Square:\n    def __init__(self, side):\n        self.side = side\n    def area(self):\n        return scale(self.side * self.side)\n",
      "main.py": "print('main stays source')\n",
    },
    requires: ["units"],
  });
  await server.addSdist({ name: "units", version: "2.0", files: { "units.py": "FACTOR = 3\n\ndef scale(value):\n    return value * FACTOR\n" } });
  await server.addSdist({ name: "broken", version: "0.1", files: { "broken.py": "def f(:\n    pass\n" } });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, ...args: string[]) => runMpip(["install", "-i", server.url, "-p", target, ...args]);

describe("--compile", () => {
  test("compiles every installed .py to .mpy (boot.py/main.py stay source); MicroPython imports the image", async () => {
    const target = path.join(work.dir, "compiled");
    const result = await install(target, "--compile", "geometry");
    assert.equal(result.code, 0, result.stderr);
    // Each package's record lists its compiled files (the records themselves are tested in test/record/).
    assert.deepEqual((await listFiles(target)).filter((file) => !file.includes(".dist-info/")), ["geometry/__init__.mpy", "geometry/shapes.mpy", "main.py", "units.mpy"]);
    assert.deepEqual((await listFiles(target)).filter((file) => file.endsWith("/RECORD")), ["geometry-1.0.dist-info/RECORD", "units-2.0.dist-info/RECORD"]);
    const header = await readFile(path.join(target, "units.mpy"));
    assert.equal(header.subarray(0, 2).toString("latin1"), "M\x06");
    const run = await runMicroPython("import geometry\nprint(geometry.Square(4).area())", { libDir: target });
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.stdout.trim(), "48");
  });

  test("--keep-sources keeps the .py beside each .mpy", async () => {
    const target = path.join(work.dir, "kept");
    const result = await install(target, "--no-record", "--compile", "--keep-sources", "units");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listFiles(target), ["units.mpy", "units.py"]);
  });

  test("a file that does not compile is an error with mpy-cross's message, and the target is unchanged", async () => {
    const target = path.join(work.dir, "broken-target");
    assert.equal((await install(target, "units")).code, 0);
    const before = await snapshot(target);
    const result = await install(target, "--compile", "broken", "geometry");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: in `broken 0\.1` .*mpy-cross could not compile `broken\.py`: .*SyntaxError/);
    assert.deepEqual(await snapshot(target), before);
  });

  test("--mpy 5 with the built-in compiler (.mpy 6) is refused before anything is downloaded", async () => {
    const target = path.join(work.dir, "mpy5");
    const requestsBefore = server.requests.length;
    const result = await install(target, "--compile", "--mpy", "5", "units");
    // Options that contradict each other: bad usage (issue 10, item 13), no longer a failure of the work.
    assert.equal(result.code, 2);
    assert.match(result.stderr, /emits mpy 6, but the target is mpy 5/);
    assert.match(result.stderr, /hint: .*--mpy-cross/);
    assert.equal(server.requests.length, requestsBefore);
    assert.deepEqual(await listFiles(target), []);
  });

  test("--mpy-cross checks the native compiler's version first", async () => {
    // A stand-in for a native mpy-cross binary (none can be installed here): it only answers --version.
    const fake = path.join(work.dir, "mpy-cross-v5");
    await writeFile(fake, "#!/bin/sh\necho 'MicroPython v1.18 on 2022-01-17; mpy-cross emitting mpy v5'\n");
    await chmod(fake, 0o755);
    const result = await install(path.join(work.dir, "native"), "--compile", "--mpy-cross", fake, "units");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /mpy 5/);
    assert.match(result.stderr, /mpy 6|MicroPython 1\.19/);
  });

  test("usage errors: --keep-sources without --compile, both --mpy and --target-version, a firmware too old", async () => {
    const target = path.join(work.dir, "usage");
    const cases: Array<[string[], RegExp]> = [
      [["--keep-sources", "units"], /--keep-sources has an effect only with --compile/],
      [["--mpy", "6", "--target-version", "1.22", "units"], /not both/],
      [["--target-version", "1.10", "units"], /1\.12 and later/],
      [["--arch", "xtensawin", "units"], /--arch needs --target-version or --mpy/],
    ];
    for (const [args, message] of cases) {
      const result = await install(target, ...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});
