// metadataMismatch: a package's PKG-INFO against the name and version it was fetched as (spec/identity.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metadataMismatch } from "../../src/spec/identity.js";

const meta = (name: string, version: string) => ({ name, version, requiresDist: [] });

describe("metadataMismatch", () => {
  test("the same package, however spelled: PEP 503 names, PEP 440 versions", () => {
    for (const [name, version, expectedName, expectedVersion] of [
      ["Leaf.Pkg", "1.0.0", "leaf_pkg", "1.0"],
      ["micropython-umqtt.simple", "1.3.4", "micropython-umqtt-simple", "1.3.4"],
      ["leaf", "1.0-RC1", "LEAF", "1.0rc1"],
      ["leaf", "v2", "leaf", "2"],
      ["leaf", "1!2.0", "leaf", "1!2.0.0"],
      ["leaf", "1.0+Local.X", "leaf", "1.0+local.x"],
      ["leaf", "2013b", "leaf", "2013b"],
      ["leaf", "anything", "leaf", ""],
    ]) assert.equal(metadataMismatch(meta(name!, version!), { name: expectedName!, version: expectedVersion! }), undefined, `${name} ${version}`);
  });

  test("another package, or another version of it", () => {
    assert.equal(metadataMismatch(meta("evil", "9.0"), { name: "leaf", version: "9.0" }), "`Name: evil`, not `leaf`");
    assert.equal(metadataMismatch(meta("leafy", "9.0"), { name: "leaf", version: "" }), "`Name: leafy`, not `leaf`");
    assert.equal(metadataMismatch(meta("leaf", "1.0"), { name: "leaf", version: "9.0" }), "`Version: 1.0`, not `9.0`");
    assert.equal(metadataMismatch(meta("leaf", "1.0+evil"), { name: "leaf", version: "1.0" }), "`Version: 1.0+evil`, not `1.0`");
    assert.equal(metadataMismatch(meta("leaf", "1!1.0"), { name: "leaf", version: "1.0" }), "`Version: 1!1.0`, not `1.0`");
    // Text where either is no PEP 440 version.
    assert.equal(metadataMismatch(meta("leaf", "2013 b"), { name: "leaf", version: "2013b" }), "`Version: 2013 b`, not `2013b`");
  });

  test("what PKG-INFO says is printed escaped", () => {
    assert.equal(metadataMismatch(meta("evil\u001b[2J", "1.0"), { name: "leaf", version: "1.0" }), "`Name: evil\\x1b[2J`, not `leaf`");
  });
});
