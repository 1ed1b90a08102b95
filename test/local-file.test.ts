// Reading small files from folders mpip did not make (src/local-file.ts): whole within the limit, refused
// beyond it, and never with room for the limit when the file is far smaller.

import assert from "node:assert/strict";
import { appendFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { readSmallFile } from "../src/local-file.js";
import { tempDir } from "./helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir("mpip-local-file-");
});
after(() => work.cleanup());

async function fileOf(name: string, data: string | Uint8Array): Promise<string> {
  const file = path.join(work.dir, name);
  await writeFile(file, data);
  return file;
}

describe("readSmallFile", () => {
  test("reads files of every size up to the limit whole, and refuses one byte more", async () => {
    const limit = 300_000;
    for (const size of [0, 1, 4095, 4096, 65_537, limit - 1, limit]) {
      const data = Buffer.alloc(size, size % 251);
      const read = await readSmallFile(await fileOf(`f-${size}`, data), limit);
      assert.equal(read.kind, "read", `${size} bytes`);
      assert.ok(read.kind === "read" && read.data.equals(data), `${size} bytes read whole`);
    }
    assert.deepEqual(await readSmallFile(await fileOf("over", Buffer.alloc(limit + 1)), limit), { kind: "too-large", size: limit + 1 });
  });

  test("takes room for the file's size, not for the limit: a 1 KiB file under a 1 GiB limit", async () => {
    // Before: room for the limit, zeroed, for every read (16 MiB for each RECORD of an image).
    const read = await readSmallFile(await fileOf("small", "x".repeat(1024)), 1024 ** 3);
    assert.equal(read.kind, "read");
    assert.ok(read.kind === "read" && read.data.toString() === "x".repeat(1024));
    assert.ok(read.kind === "read" && read.data.buffer.byteLength < 1024 * 1024, `the bytes read sit in ${read.kind === "read" ? read.data.buffer.byteLength : 0} bytes`);
  });

  test("a file that grows while it is read is read on to its end, or refused once past the limit", async () => {
    // The file grows between each read of a size and the read of its bytes: run many times, both orders occur.
    const file = await fileOf("growing", "a".repeat(10_000));
    for (let round = 0; round < 40; round++) {
      const [read] = await Promise.all([readSmallFile(file, 30_000), appendFile(file, "b".repeat(500))]);
      if (read.kind === "too-large") {
        assert.ok(read.size > 30_000);
        continue;
      }
      assert.equal(read.kind, "read");
      const text = read.kind === "read" ? read.data.toString() : "";
      assert.match(text, /^a{10000}b*$/, "a prefix of the file as it grew, never bytes it did not hold");
    }
  });
});
