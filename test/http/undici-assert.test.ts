// undici's stand-in for node:assert in the bundled CLI (scripts/undici-assert.cjs, scripts/bundle.mjs):
// a check that holds loads nothing; one that fails throws what node:assert would, with a message about
// undici's check and a stack that starts at it, not at the stand-in's own code.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, test } from "node:test";
import { ROOT, runCommand } from "../helpers/cli.js";

const STAND_IN = path.join(ROOT, "scripts", "undici-assert.cjs");
const standIn = createRequire(import.meta.url)(STAND_IN) as (value: unknown, message?: unknown) => void;

/** A check as undici writes one, failing: `assert(request)` with no message. */
function undiciCheck(request: unknown): void {
  standIn(request);
}

describe("undici's stand-in for node:assert", () => {
  test("a failing check without a message throws node:assert's AssertionError about the value, its stack starting at undici's call", () => {
    assert.throws(() => undiciCheck(null), (error: unknown) => {
      assert.ok(error instanceof assert.AssertionError);
      assert.equal(error.code, "ERR_ASSERTION");
      // As node:assert says of `assert(null)` when it cannot read its caller's source; before, it named
      // the stand-in's own call (`The expression evaluated to a falsy value: real()`).
      assert.equal(error.message, "null == true");
      assert.equal(error.generatedMessage, true);
      assert.match(error.stack!.split("\n")[1]!, /^ {4}at undiciCheck /, error.stack);
      return true;
    });
  });

  test("a failing check with a message throws it, an Error given as the message itself; a check that holds throws nothing", () => {
    assert.throws(() => standIn(0, "the socket is gone"), (error: unknown) => error instanceof assert.AssertionError && error.message === "the socket is gone" && error.generatedMessage === false);
    const own = new TypeError("own");
    assert.throws(() => standIn("", own), (error: unknown) => error === own);
    for (const value of [1, "x", {}, [], true]) assert.equal(standIn(value, "unused"), undefined);
    assert.equal((standIn as unknown as { strictEqual: unknown }).strictEqual, assert.strictEqual, "any other use is answered by node:assert");
  });

  test("checks that hold load no node:assert; the bundled CLI carries the stand-in", async () => {
    const result = await runCommand(process.execPath, ["-e", `const a = require(${JSON.stringify(STAND_IN)}); a(1); a({}, "m"); process.stdout.write(String(process.moduleLoadList.includes("NativeModule assert")));`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "false");
    const bundle = await readFile(path.join(ROOT, "dist", "mpip.cjs"), "latin1");
    assert.match(bundle, /"lazy-assert:assert"[^]{0,400}stackStartFn:assert/, "dist/mpip.cjs is built with scripts/undici-assert.cjs");
  });
});
