import assert from "node:assert/strict";
import { test } from "node:test";
import { requiresTxtFromRequiresTxt } from "../../src/pack/pkg-info.js";

test("setuptools' sectioned requires.txt becomes plain lines that upip can read", () => {
  const setuptools = 'micro-dep>=1.0\n\n[:implementation_name == "cpython"]\nhost\n\n[:implementation_name == "micropython"]\nonly-mp\n\n[plot]\nplotlib\n';
  const result = requiresTxtFromRequiresTxt(setuptools);
  assert.equal(result.text, "micro-dep>=1.0\nonly-mp\n");
  assert.deepEqual(result.omitted, ["host", "plotlib"]);
});
