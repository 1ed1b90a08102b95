// An archive refused for what its headers say is refused before a file of it is written, wherever the
// refused entry stands: an archive too large to be inflated at once can hold thousands of entries, and
// writing (then removing) all those before the last one is refused costs seconds and disk for a bomb.
// Each case has several hundred good entries (so that it unpacks to more than INFLATE_AT_ONCE_BYTES),
// then the one that is refused; the staging folder must stay empty. The same archive without that entry
// unpacks whole.

import assert from "node:assert/strict";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { INFLATE_AT_ONCE_BYTES, unpackSdist } from "../../src/archive/unpack.js";
import { DEFAULT_LIMITS } from "../../src/limits.js";
import { tempDir } from "../helpers/cli.js";
import { rejectsMpip } from "../helpers/expect.js";
import { gzipReproducible } from "../helpers/sdist.js";
import { paxData, tarEnd, tarEntry } from "../helpers/tar-craft.js";

const TOP = "many-1.0";
const GOOD = 600;
const good = Array.from({ length: GOOD }, (_, i) => tarEntry({ name: `${TOP}/many/m${i}.py` }, `N = ${i}\n`));
const archive = (...last: Buffer[]) => gzipReproducible(Buffer.concat([tarEntry({ name: `${TOP}/`, typeflag: "5" }), ...good, ...last, tarEnd()]));

let work: { dir: string; cleanup: () => Promise<void> };
let count = 0;
before(async () => {
  work = await tempDir("mpip-refused-before-");
});
after(() => work.cleanup());

async function freshFolder(): Promise<string> {
  const dir = path.join(work.dir, String(count++));
  await mkdir(dir);
  return dir;
}

describe("an archive refused for its headers", () => {
  test("is larger than what is inflated at once (the case this is about)", () => {
    assert.ok(GOOD * 1024 > INFLATE_AT_ONCE_BYTES);
  });

  const cases: Array<[string, Buffer[], string, string, number?]> = [
    ["one entry more than the limit", [tarEntry({ name: `${TOP}/many/extra.py` }, "E = 1\n")], "limit-exceeded", "has more than", GOOD + 1],
    ["a `..` path", [tarEntry({ name: `${TOP}/../escape.py` }, "E = 1\n")], "unsafe-path", "escape.py"],
    ["a symlink", [tarEntry({ name: `${TOP}/many/link.py`, typeflag: "2", linkname: "m0.py" })], "unsafe-path", "link.py"],
    ["the same path twice", [tarEntry({ name: `${TOP}/many/m1.py` }, "AGAIN = 1\n")], "unsafe-path", "m1.py"],
    ["a path longer than the limit", [tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData({ path: `${TOP}/many/${"p".repeat(200)}/${"q".repeat(100)}.py` })), tarEntry({ name: `${TOP}/many/long.py` }, "L = 1\n")], "limit-exceeded", "more than the limit of 255"],
    ["a name longer than any filesystem takes", [tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData({ path: `${TOP}/many/${"p".repeat(300)}.py` })), tarEntry({ name: `${TOP}/many/long.py` }, "L = 1\n")], "limit-exceeded", "is 303 bytes long, more than the 255 a file or folder name can have"],
  ];
  for (const [what, last, code, fragment, maxEntries] of cases) {
    test(`${what}: refused, and nothing is written`, async () => {
      const dir = await freshFolder();
      const limits = { ...DEFAULT_LIMITS, ...(maxEntries === undefined ? {} : { maxEntries }) };
      await rejectsMpip(unpackSdist(archive(...last), dir, "`many 1.0`", limits), code, fragment);
      assert.deepEqual(await readdir(dir), [], "no file or folder of the archive was written");
    });
  }

  test("without the refused entry, the archive unpacks whole", async () => {
    const dir = await freshFolder();
    const unpacked = await unpackSdist(archive(), dir, "`many 1.0`", { ...DEFAULT_LIMITS, maxEntries: GOOD + 1 });
    assert.equal(unpacked.files.length, GOOD);
    assert.equal((await readdir(path.join(dir, "many"))).length, GOOD);
  });
});
