import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { isExactPin, selectRelease } from "../../src/resolve/select.js";
import type { Artifact, DistFile, ProjectListing } from "../../src/sources/types.js";

const sdist = (version: string, yanked = false): DistFile => ({ filename: `p-${version}.tar.gz`, location: { type: "remote", url: `http://x/p-${version}.tar.gz` }, packagetype: "sdist", yanked });
const wheel = (version: string): DistFile => ({ filename: `p-${version}-py3-none-any.whl`, location: { type: "remote", url: "http://x/w" }, packagetype: "bdist_wheel", yanked: false });

function listing(releases: Record<string, DistFile[]>): ProjectListing {
  return { name: "p", source: "http://index", releases: new Map(Object.entries(releases).map(([version, files]) => [version, files.map((file): Artifact => ({ type: "dist", file }))])) };
}

const choose = (releases: Record<string, DistFile[]>, specifier: string, pre = false) => selectRelease(listing(releases), specifier, { pre, askedBy: "the command line" }).version;

describe("selectRelease", () => {
  const all = { "1.0": [sdist("1.0")], "1.10": [sdist("1.10")], "1.9": [sdist("1.9")], "2.0b1": [sdist("2.0b1")], "0.5": [sdist("0.5", true)] };

  test("takes the highest version by PEP 440, not by string order", () => {
    assert.equal(choose(all, ""), "1.10");
    assert.equal(choose(all, "<1.10"), "1.9");
    assert.equal(choose(all, "~=1.0"), "1.10");
    assert.equal(choose(all, "==1.0"), "1.0");
    assert.equal(choose(all, "!=1.10,>=1"), "1.9");
  });

  test("pre-releases only with --pre, when pinned, or when nothing else matches", () => {
    assert.equal(choose(all, "", true), "2.0b1");
    assert.equal(choose(all, "==2.0b1"), "2.0b1");
    assert.equal(choose(all, ">=2.0a1"), "2.0b1");
    assert.equal(choose(all, ">1.10"), "2.0b1");
  });

  test("yanked files only when the version is pinned exactly", () => {
    assert.equal(choose(all, "==0.5"), "0.5");
    assert.throws(() => choose(all, "<0.9"), (error: MpipError) => error.code === "no-matching-version" && /available versions: 1\.0, 1\.9, 1\.10, 2\.0b1/.test(error.hint ?? ""));
    assert.equal(isExactPin("==1.0"), true);
    assert.equal(isExactPin("===1.0"), true);
    assert.equal(isExactPin("==1.*"), false);
    assert.equal(isExactPin(">=1.0"), false);
  });

  test("ignores versions that are not PEP 440 and releases with no files", () => {
    assert.equal(choose({ "1.0": [sdist("1.0")], "banana": [sdist("banana")], "3.0": [] }, ""), "1.0");
  });

  test("a chosen release without an sdist is an error listing its files and the versions that have one", () => {
    assert.throws(
      () => choose({ "1.0": [sdist("1.0")], "2.0": [wheel("2.0")] }, ""),
      (error: MpipError) =>
        error.code === "no-sdist" &&
        error.message.includes("`p 2.0` has no .tar.gz source distribution (sdist) on `http://index`; it has `p-2.0-py3-none-any.whl` (bdist_wheel)") &&
        /versions with one: 1\.0/.test(error.hint ?? ""),
    );
  });

  test("a .zip sdist is not installable: the release counts as having no sdist", () => {
    const zip: DistFile = { ...sdist("2.0"), filename: "p-2.0.zip" };
    assert.throws(() => choose({ "1.0": [sdist("1.0")], "2.0": [zip] }, ""), (error: MpipError) => error.code === "no-sdist" && error.message.includes("`p-2.0.zip` (sdist)"));
  });

  test("prefers the .tar.gz when a release has several sdists", () => {
    const zip: DistFile = { ...sdist("1.0"), filename: "p-1.0.zip" };
    const { artifact } = selectRelease(listing({ "1.0": [zip, sdist("1.0")] }), "", { pre: false, askedBy: "x" });
    assert.equal(artifact.type === "dist" ? artifact.file.filename : artifact.type, "p-1.0.tar.gz");
  });

  test("a mip package document is installable, and versions compare by PEP 440 as for sdists", () => {
    const document = (version: string): Artifact => ({ type: "package-json", location: { type: "remote", url: `http://x/package/py/p/${version}.json` }, mip: { base: "http://x", flavor: "py" } });
    const mip: ProjectListing = { name: "p", source: "http://x", releases: new Map([["0.9", [document("0.9")]], ["0.10", [document("0.10")]]]) };
    const chosen = selectRelease(mip, "", { pre: false, askedBy: "x" });
    assert.equal(chosen.version, "0.10");
    assert.deepEqual(chosen.artifact, document("0.10"));
  });
});
