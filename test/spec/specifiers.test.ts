// PEP 440 specifier matching, held to packaging (the library pip uses): every version of
// test/fixtures/pep440-specifiers.json against every specifier there, as packaging answered when the file
// was made (test/fixtures/pep440-specifiers.py, packaging 26.2): the operators alone (pre-releases
// allowed), and the way a specifier lets pre-releases in by itself (when a clause names one). A specifier
// packaging refuses must be one mpip refuses too (specifierProblem says why, and it matches nothing).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { satisfiesSpecifier, specifierProblem } from "../../src/versions.js";

interface Oracle {
  packaging: string;
  versions: string[];
  specifiers: Array<{ spec: string; clause?: string[]; default?: string[]; invalid?: true }>;
}

const oracle = JSON.parse(readFileSync(new URL("../fixtures/pep440-specifiers.json", import.meta.url), "utf8")) as Oracle;

describe(`specifiers as packaging ${oracle.packaging} reads them`, () => {
  test("the oracle is whole", () => {
    assert.ok(oracle.versions.length >= 60 && oracle.specifiers.length >= 350);
    assert.ok(oracle.specifiers.filter((row) => row.invalid).length >= 20);
  });
  for (const { spec, clause, default: byDefault, invalid } of oracle.specifiers) {
    if (invalid) {
      test(`${spec} is refused`, () => {
        assert.match(specifierProblem(spec) ?? "", /not a (valid PEP 440 )?version specifier/);
        assert.deepEqual(oracle.versions.filter((version) => satisfiesSpecifier(version, spec, { prereleases: true })), []);
      });
      continue;
    }
    test(spec, () => {
      assert.equal(specifierProblem(spec), undefined);
      assert.deepEqual(oracle.versions.filter((version) => satisfiesSpecifier(version, spec, { prereleases: true })), clause, "pre-releases allowed");
      assert.deepEqual(oracle.versions.filter((version) => satisfiesSpecifier(version, spec, { prereleases: false })), byDefault, "pre-releases by the specifier");
    });
  }
});
