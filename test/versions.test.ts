// src/versions.ts, the one door to the PEP 440 library: every call answers for any string, numbers up to
// 2^53 − 1 compare exactly, and a larger one is named instead of thrown on or compared wrong.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pep440 from "@renovatebot/pep440";
import { compareVersions, isComparableVersion, isPep440Version, LARGEST_VERSION_NUMBER, parseVersion, satisfiesSpecifier, specifierProblem, versionProblem } from "../src/versions.js";

const HUGE = "10000000000000000000000";

describe("versionProblem", () => {
  test("versions whose numbers fit are comparable, however they are written", () => {
    for (const version of ["1.0", "v1.0", "1!2.0", "1.0rc1", "1.0.post2", "1.0.dev3", "1.0+ubuntu.1", String(LARGEST_VERSION_NUMBER), `0${LARGEST_VERSION_NUMBER}`, `1.${"0".repeat(40)}1`, "20240101123456", "1.0+abc10000000000000000000000"]) {
      assert.equal(versionProblem(version), undefined, version);
      assert.ok(isComparableVersion(version), version);
    }
  });

  test("a number above 2^53 − 1 anywhere in the version is named", () => {
    const above = String(LARGEST_VERSION_NUMBER + 1);
    for (const [version, number] of [
      [above, above], [HUGE, HUGE], [`1.${HUGE}`, HUGE], [`${HUGE}!1.0`, HUGE], [`1.0a${HUGE}`, HUGE], [`1.0.post${HUGE}`, HUGE],
      [`1.0-${HUGE}`, HUGE], [`1.0.dev${HUGE}`, HUGE], [`1.0+local.${HUGE}`, HUGE], [`1.0+${above}`, above],
    ]) {
      const problem = versionProblem(version!);
      assert.ok(problem?.includes(`larger than ${LARGEST_VERSION_NUMBER}`), `${version}: ${problem}`);
      if (version !== number) assert.ok(problem!.includes(`holds the number ${number}`), problem);
      assert.ok(isPep440Version(version!), `${version} is still PEP 440 by its syntax`);
      assert.equal(parseVersion(version!), undefined);
    }
  });

  test("text that is not PEP 440 says so", () => {
    for (const text of ["", "latest", "1.0/../2", "1..0", "\ud800", "1.0 beta", "1.*"]) assert.equal(versionProblem(text), "is not a valid PEP 440 version", text);
  });
});

describe("comparing", () => {
  test("numbers up to 2^53 − 1 compare exactly", () => {
    assert.ok(compareVersions("1.9007199254740991", "1.9007199254740990") > 0);
    assert.equal(compareVersions("1.0", "1.0.0"), 0);
    assert.ok(compareVersions("1.0rc1", "1.0") < 0);
    assert.ok(satisfiesSpecifier("1.9007199254740991", ">1.9007199254740990", { prereleases: false }));
    assert.ok(!satisfiesSpecifier("1.9007199254740990", ">1.9007199254740990", { prereleases: false }));
  });

  test("what mpip cannot compare sorts first and satisfies nothing", () => {
    assert.deepEqual(["2.0", HUGE, "nonsense", "1.0"].sort(compareVersions), [HUGE, "nonsense", "1.0", "2.0"]);
    for (const specifier of ["", "<2", ">1", "!=3"]) assert.equal(satisfiesSpecifier(HUGE, specifier, { prereleases: true }), false, specifier);
    assert.equal(satisfiesSpecifier("1.0", `<${HUGE}`, { prereleases: true }), false);
  });

  // What each operator means is held to packaging's answers in test/spec/specifiers.test.ts (the library's
  // own `satisfies` gets about one pair in twelve wrong, so it is no yardstick here): this test holds the
  // answer to be total, and false wherever mpip cannot compare the version or check the specifier.
  test("answers for every pair, the library's throwing ones too; false where mpip cannot compare", () => {
    const versions = ["0", "1.0", "1.0rc1", "1.0.post1", "1.0+local.7", "2!1.0", HUGE, `1.${HUGE}`, `1.0+${HUGE}`, `1.0.post${HUGE}`, "9007199254740993", "x", ""];
    const specifiers = ["", "<2", ">1", "<=1.0", ">=1.0", "==1.*", "!=1.0", "~=1.0", "===1.0", `<${HUGE}`, `>1.${HUGE}`, `~=1.${HUGE}`, `==${HUGE}.*`, "==1.0+local.7", "<1,>0", ">=", "<<1", "==1.0.*+x"];
    let libraryThrew = 0;
    for (const version of versions) {
      for (const specifier of specifiers) {
        for (const prereleases of [false, true]) {
          const answer = satisfiesSpecifier(version, specifier, { prereleases });
          let library: boolean | "threw";
          try {
            library = pep440.satisfies(version, specifier, { prereleases });
          } catch {
            library = "threw";
          }
          if (library === "threw") libraryThrew++;
          assert.equal(typeof answer, "boolean", `${version} ${specifier}`);
          if (!isComparableVersion(version) || specifierProblem(specifier) !== undefined) assert.equal(answer, false, `${version} ${specifier}`);
        }
      }
    }
    assert.ok(libraryThrew > 0, "the library itself throws on some of these pairs");
  });
});

describe("specifierProblem", () => {
  test("accepts PEP 440 specifier sets", () => {
    for (const specifier of ["", ">=1.0,<2", "==1.4.*", "!=1.3", "~=1.4", "===whatever", "==1.0+local", `===${HUGE}`]) assert.equal(specifierProblem(specifier), undefined, specifier);
  });

  test("names the clause that is wrong, or the number that is too large", () => {
    assert.match(specifierProblem(`>=1,<${HUGE}`) ?? "", new RegExp(`\`${HUGE}\` is larger than 9007199254740991`));
    assert.match(specifierProblem(`==1.${HUGE}.*`) ?? "", new RegExp(`holds the number ${HUGE}`));
    assert.match(specifierProblem("<<1") ?? "", /not a valid PEP 440 version specifier/);
    assert.match(specifierProblem("1.0") ?? "", /`1\.0` is not a version specifier/);
    assert.match(specifierProblem("~=1") ?? "", /not a valid PEP 440 version specifier/);
  });
});
