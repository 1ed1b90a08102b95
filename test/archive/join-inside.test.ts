// The fast joins a commit uses for each of its files (src/archive/entry-path.ts): `isPlainlyInside` may
// say yes only for a path that resolves inside any folder, on POSIX and Windows alike, and `joinInside`
// must name exactly the path `path.join` names, whatever it is given.

import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { isPlainlyInside, joinInside } from "../../src/archive/entry-path.js";

const PARTS = ["a", ".", "..", "...", "..a", "a..", "", "\\", ":", "C:", "b c", "\0", "~", "x.py", "-", "a/", "/"];
const GOOD = ["a", "...", "..a", "a..", "b c", "~", "x.py", "-"];

/** Random relative paths, most of plain parts, some of parts that each rule treats differently (deterministic). */
function* randomPaths(count: number): Generator<string> {
  let seed = 2024;
  const random = (below: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), Math.floor((seed / 2 ** 31) * below));
  for (let i = 0; i < count; i++) {
    const parts: string[] = [];
    for (let length = 1 + random(5); length > 0; length--) parts.push(random(4) === 0 ? PARTS[random(PARTS.length)]! : GOOD[random(GOOD.length)]!);
    yield parts.join(random(8) === 0 ? "" : "/");
  }
}

describe("joining a relative path to a folder", () => {
  test("a path said to be plainly inside resolves strictly inside the folder, on POSIX and on Windows", () => {
    let plain = 0;
    for (const relative of randomPaths(60000)) {
      if (!isPlainlyInside(relative)) continue;
      plain++;
      for (const [flavour, root] of [[path.posix, "/t/x"], [path.win32, "C:\\t\\x"]] as const) {
        const resolved = flavour.resolve(root, relative);
        assert.ok(resolved.startsWith(root + flavour.sep) && resolved !== root, `${JSON.stringify(relative)} -> ${resolved}`);
      }
    }
    assert.ok(plain > 10000, `${plain} plain paths tried`);
    for (const relative of ["", ".", "..", "a/..", "../a", "a//b", "a/", "/a", "C:a", "a\\b", "a/./b", "a:b"]) assert.equal(isPlainlyInside(relative), false, relative);
    for (const relative of ["a", "a/b.py", "...", "..a/a..", "pkg-1.0.dist-info/RECORD", "backup/12"]) assert.equal(isPlainlyInside(relative), true, relative);
  });

  test("names the path path.join names, for plain and other paths, on resolved and unresolved folders", () => {
    for (const base of ["/t/image", "/", "/t/image/", "/t/./image", "relative/base", ""]) {
      for (const relative of randomPaths(3000)) assert.equal(joinInside(base, relative), path.join(base, relative), `${JSON.stringify(base)} + ${JSON.stringify(relative)}`);
    }
  });
});
