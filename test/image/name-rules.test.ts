// The keys under which names that are one file on a filesystem meet (src/image/name-rules.ts): the fast
// way for plain ASCII names must give exactly what folding each part by the rules gives.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EXACT, foldPath, widestFold, type NameRules } from "../../src/image/name-rules.js";

/** The rules applied part by part, as FAT, macOS and Windows fold a name. */
function reference(relative: string, rules: NameRules): string {
  return relative
    .split("/")
    .map((name) => {
      let folded = rules.normalization ? name.normalize("NFC") : name;
      if (rules.trailingDotsSpaces) folded = folded.replace(/[. ]+$/, "") || folded;
      if (rules.unicodeCase) folded = folded.toLowerCase();
      else if (rules.asciiCase) folded = folded.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
      return folded;
    })
    .join("/");
}

const ALL_RULES: NameRules[] = [];
for (const asciiCase of [false, true]) for (const unicodeCase of [false, true]) for (const normalization of [false, true]) for (const trailingDotsSpaces of [false, true]) ALL_RULES.push({ asciiCase, unicodeCase, normalization, trailingDotsSpaces });

describe("foldPath", () => {
  test("gives what folding each part gives, for plain and unusual names under every set of rules", () => {
    const named = ["pkg/__init__.py", "pkg-1.0.dist-info/RECORD", "Mod.py", "mod.py.", "a /b", "dir./x", "...", " ", "", "lib/Util.PY", "caf\u00e9.py", "cafe\u0301.py", "\u00c9/x", "\u212a", "stra\u00dfe", "\u0130.py", "tab\there", "~user/x_y-z"];
    for (const name of named) for (const rules of ALL_RULES) assert.equal(foldPath(name, rules), reference(name, rules), `${JSON.stringify(name)} ${JSON.stringify(rules)}`);
    // Random names from letters that each rule treats differently.
    const letters = ["a", "B", ".", " ", "/", "\u00e9", "\u00c9", "e\u0301", "Z", "_", "~", "\t", "\u0130", "\u00df", "\u212a", "0"];
    let seed = 12345;
    const random = (below: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % below);
    for (let i = 0; i < 20000; i++) {
      let name = "";
      for (let length = 1 + random(8); length > 0; length--) name += letters[random(letters.length)];
      for (const rules of ALL_RULES) assert.equal(foldPath(name, rules), reference(name, rules), `${JSON.stringify(name)} ${JSON.stringify(rules)}`);
    }
  });

  test("leaves a name no rule changes as it is, and folds case under the widest rules", () => {
    assert.equal(foldPath("pkg/Mod.py", EXACT), "pkg/Mod.py");
    assert.equal(widestFold("Pkg-1.0.dist-info/RECORD"), "pkg-1.0.dist-info/record");
    assert.equal(widestFold("pkg/mod.py. "), "pkg/mod.py");
  });
});
