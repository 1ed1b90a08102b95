// The one-shot sha256 an install takes of hundreds of small things (record files, files unpacked whole,
// cache keys): the same digest as a Hash object gives, for a string (as UTF-8), a Buffer and a view into
// a larger buffer.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { digestOf, sha256Hex } from "../../src/image/fs-ops.js";

test("sha256Hex and digestOf agree with createHash, whatever the input's form", () => {
  const reference = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
  const backing = Buffer.from("xxhello, wörld\0yy", "utf8");
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, backing.length - 4);
  for (const data of ["", "hello, wörld", "🙂 \u0000 end", Buffer.alloc(0), Buffer.from([0, 255, 1, 254]), view]) {
    assert.equal(sha256Hex(data), reference(data), JSON.stringify(String(data)));
  }
  assert.deepEqual(digestOf(view), { size: view.length, sha256: reference(view) });
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});
