// The pure part of `mpip download`'s folder (src/download/layout.ts): names, short hashes, documents and
// the merging of index.json, checked without a folder.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { documentPath, documentVersion, mergeIndex, packageDocument, sameDocument, sdistFileName, shortHashes, type DownloadedArtifact } from "../../src/download/layout.js";
import { throwsMpip } from "../helpers/expect.js";

const full = (prefix: string) => prefix.padEnd(64, "0");

describe("short hashes", () => {
  test("8 hex digits, as build.py names files; more only where two files of the folder share them", async () => {
    const a = full("abcdef12aa");
    const b = full("abcdef12bb");
    const c = full("12345678");
    const shorts = await shortHashes([b, a, c, a], async () => undefined);
    assert.deepEqual([shorts.get(a), shorts.get(b), shorts.get(c)], ["abcdef12", "abcdef12b", "12345678"]);
    // A file the folder already holds under a short hash: the same bytes share it, others go longer.
    const held = new Map([["12345678", c], ["abcdef12", full("abcdef12ff")]]);
    const again = await shortHashes([a, c], async (short) => held.get(short));
    assert.deepEqual([again.get(a), again.get(c)], ["abcdef12a", "12345678"]);
  });
});

describe("names that become paths", () => {
  const sdist = (name: string, filename: string): Extract<DownloadedArtifact, { type: "sdist" }> => ({ type: "sdist", name, version: "1.0", source: "s", filename, file: "/x", sha256: "" });

  test("an sdist keeps the index's file name when it names the project, else NAME-VERSION.tar.gz", () => {
    assert.equal(sdistFileName(sdist("foo", "Foo-1.0.tar.gz"), "Foo"), "Foo-1.0.tar.gz");
    assert.equal(sdistFileName(sdist("foo", "release.tar.gz"), undefined), "foo-1.0.tar.gz");
    assert.equal(sdistFileName(sdist("foo", "bar-1.0.tar.gz"), "bar"), "foo-1.0.tar.gz");
    throwsMpip(() => sdistFileName(sdist(".hidden", "x.tar.gz"), undefined), "unsafe-path", "not a plain `.tar.gz` file name");
  });

  test("a v2 package needs a mip name; a version that is no PEP 440 version is written as latest.json only", () => {
    assert.equal(documentVersion("aioble", "0.4"), "0.4");
    assert.equal(documentVersion("__future__", "0.0.3"), "0.0.3");
    for (const version of ["", "main", "../../x", "1.0/2"]) assert.equal(documentVersion("pkg", version), undefined, version);
    for (const name of ["../x", "a/b", ".hidden", "we ird", "-opt", "wéird"]) throwsMpip(() => documentVersion(name, "1.0"), "unsafe-path", "cannot lay out");
    assert.equal(documentPath("6", "aioble", undefined), "package/6/aioble/latest.json");
  });
});

describe("documents", () => {
  const mip: Extract<DownloadedArtifact, { type: "mip" }> = {
    type: "mip",
    name: "app",
    version: "1.0",
    source: "s",
    files: [{ dest: "app/__init__.py", file: "/a", sha256: full("aa11bb22") }, { dest: "app/x.py", file: "/b", sha256: full("cc33dd44") }],
    deps: [["util", "1.0"]],
  };

  test("build.py's keys, in its order; deps only when there are some", () => {
    const shorts = new Map(mip.files.map((file) => [file.sha256, file.sha256.slice(0, 8)]));
    assert.equal(JSON.stringify(packageDocument(mip, shorts)), '{"v":1,"hashes":[["app/__init__.py","aa11bb22"],["app/x.py","cc33dd44"]],"deps":[["util","1.0"]],"version":"1.0"}');
    assert.equal(JSON.stringify(packageDocument({ ...mip, deps: [] }, shorts)), '{"v":1,"hashes":[["app/__init__.py","aa11bb22"],["app/x.py","cc33dd44"]],"version":"1.0"}');
  });

  test("an existing document says the same when its files, deps and version agree, whatever its hash lengths", () => {
    assert.ok(sameDocument({ version: "1.0", deps: [["util", "1.0"]], hashes: [["app/__init__.py", "aa11"], ["app/x.py", "CC33DD44"]] }, mip));
    assert.ok(!sameDocument({ version: "1.0", deps: [["util", "1.0"]], hashes: [["app/__init__.py", "aa12"], ["app/x.py", "cc33dd44"]] }, mip));
    assert.ok(!sameDocument({ version: "1.1", deps: [["util", "1.0"]], hashes: [["app/__init__.py", "aa11"], ["app/x.py", "cc33dd44"]] }, mip));
    assert.ok(!sameDocument({ version: "1.0", hashes: [["app/__init__.py", "aa11"], ["app/x.py", "cc33dd44"]] }, mip));
    assert.ok(!sameDocument({ version: "1.0", deps: [["util", "1.0"]], hashes: [["app/__init__.py", "aa11"]], urls: [["app/x.py", "https://h/x.py"]] }, mip));
    assert.ok(!sameDocument("not a document", mip));
  });
});

describe("index.json", () => {
  test("merged: entries kept with their spelling and fields, versions added per flavor in PEP 440 order, sorted by name", () => {
    const existing = {
      v: 2,
      updated: 5,
      packages: [
        { name: "Zeta", version: "1.10", author: "me", description: "kept", license: "MIT", versions: { py: ["1.10", "1.9"] }, path: "micropython/zeta" },
      ],
    };
    const merged = mergeIndex(existing, [
      { name: "zeta", version: "1.2", flavor: "py" },
      { name: "alpha", version: "0.1", flavor: "6" },
      { name: "bare", version: "", flavor: "py" },
      { name: "zeta", version: "1.10", flavor: "py" },
    ], 7);
    assert.deepEqual(merged, {
      v: 2,
      updated: 7,
      packages: [
        { name: "Zeta", version: "1.10", author: "me", description: "kept", license: "MIT", versions: { py: ["1.2", "1.9", "1.10"] }, path: "micropython/zeta" },
        { name: "alpha", version: "0.1", author: "", description: "", license: "", versions: { 6: ["0.1"] } },
        { name: "bare", version: "", author: "", description: "", license: "", versions: {} },
      ].sort((a, b) => (a.name < b.name ? -1 : 1)),
    });
    assert.deepEqual(existing.packages[0]!.versions.py, ["1.10", "1.9"], "the existing index is not changed in place");
  });
});
