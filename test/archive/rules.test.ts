import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isInside, stripEntryPath } from "../../src/archive/entry-path.js";
import { isPkgInfo, isRequiresTxt, upipSkips } from "../../src/archive/skip-rules.js";

describe("stripEntryPath", () => {
  test("strips the top folder, dropping `.` and empty segments", () => {
    assert.deepEqual(stripEntryPath("foo-1.0/foo/__init__.py"), { ok: true, path: "foo/__init__.py" });
    assert.deepEqual(stripEntryPath("./foo-1.0/./foo//bar.py"), { ok: true, path: "foo/bar.py" });
    assert.deepEqual(stripEntryPath("foo-1.0/"), { ok: true, path: "" });
  });

  test("with `upip`, the first component is whatever precedes the first `/`, even `.`", () => {
    assert.deepEqual(stripEntryPath("./setup.py", { upip: true }), { ok: true, path: "setup.py" });
    assert.deepEqual(stripEntryPath("./dot/__init__.py", { upip: true }), { ok: true, path: "dot/__init__.py" });
    assert.deepEqual(stripEntryPath("foo-1.0/./foo//bar.py", { upip: true }), { ok: true, path: "foo/bar.py" });
    assert.deepEqual(stripEntryPath("./foo-1.0/foo.py", { upip: true }), { ok: true, path: "foo-1.0/foo.py" });
    assert.equal(stripEntryPath("./../x.py", { upip: true }).ok, false);
  });

  test("refuses names that could escape", () => {
    const refused: Array<[string, RegExp]> = [
      ["/etc/passwd", /absolute/],
      ["foo-1.0/../../x.py", /`\.\.` segment/],
      ["foo-1.0/a/../../x", /`\.\.` segment/],
      ["C:/Windows/x", /drive letter/],
      ["c:x", /drive letter/],
      ["foo-1.0\\..\\x", /backslash/],
      ["foo-1.0/a\0b", /NUL/],
    ];
    for (const [name, reason] of refused) {
      const result = stripEntryPath(name);
      assert.equal(result.ok, false, name);
      if (!result.ok) assert.match(result.reason, reason, name);
    }
  });

  test("isInside is a path check, not a prefix check", () => {
    assert.equal(isInside("/t/lib", "/t/lib/a.py"), true);
    assert.equal(isInside("/t/lib", "/t/lib"), true);
    assert.equal(isInside("/t/lib", "/t/lib2/a.py"), false);
    assert.equal(isInside("/t/lib", "/t/a.py"), false);
  });
});

describe("upip's skip rules", () => {
  test("skip a top-level setup.*, PKG-INFO*, README* and anything with .egg-info", () => {
    for (const skipped of ["setup.py", "setup.cfg", "PKG-INFO", "README", "README.md", "READMEFIRST", "foo.egg-info/PKG-INFO", "foo.egg-info/requires.txt", "pkg/x.egg-info/y"]) {
      assert.equal(upipSkips(skipped), true, skipped);
    }
  });

  test("keep everything else, including nested setup.py and top-level LICENSE", () => {
    for (const kept of ["foo.py", "pkg/setup.py", "pkg/README.md", "LICENSE", "pyproject.toml", "pkg/data/PKG-INFO.txt", "readme.txt"]) {
      assert.equal(upipSkips(kept), false, kept);
    }
  });

  test("requires.txt and PKG-INFO are recognised for dependencies", () => {
    assert.equal(isRequiresTxt("foo.egg-info/requires.txt"), true);
    assert.equal(isRequiresTxt("requires.txt"), false);
    assert.equal(isRequiresTxt("pkg/requires.txt"), false);
    assert.equal(isPkgInfo("PKG-INFO"), true);
    assert.equal(isPkgInfo("foo.egg-info/PKG-INFO"), true);
    assert.equal(isPkgInfo("pkg/PKG-INFO"), false);
  });
});
