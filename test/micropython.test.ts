// An installed image is only proven when real MicroPython imports it: install a package with a
// dependency from the local index, then import it in MicroPython 1.27 (WebAssembly) and call it.

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { runMpip, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { runMicroPython } from "./helpers/micropython.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  work = await tempDir();
  await server.addSdist({
    name: "micropython-greeter",
    version: "1.2.0",
    files: {
      "greeter/__init__.py": "from textcase import shout\n\ndef greet(name):\n    return shout('hello, ' + name)\n",
    },
    requires: ["micropython-textcase>=0.2"],
  });
  await server.addSdist({ name: "micropython-textcase", version: "0.1", files: { "textcase.py": "def shout(text):\n    raise ValueError('too old')\n" } });
  await server.addSdist({ name: "micropython-textcase", version: "0.3", files: { "textcase.py": "def shout(text):\n    return text.upper() + '!'\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

test("an installed package and its dependency import and run in MicroPython", async () => {
  const target = path.join(work.dir, "image");
  const result = await runMpip(["install", "-i", server.url, "-p", target, "micropython-greeter"]);
  assert.equal(result.code, 0, result.stderr);
  const run = await runMicroPython("import greeter\nprint(greeter.greet('device'))", { libDir: target });
  assert.equal(run.error, undefined, run.error);
  assert.equal(run.stdout.trim(), "HELLO, DEVICE!");
});
