// undici's stand-in for node:assert in the bundled CLI (scripts/bundle.mjs, lazyAssert): undici only ever
// calls it as `assert(value)` or `assert(value, message)`. A check that holds costs a test of the value and
// loads nothing; one that fails throws what node:assert would, loaded then: the message, an Error given as
// the message itself, or, given none, an AssertionError whose message Node makes from the value (`null ==
// true`, as node:assert says when it cannot read its caller's source) and whose stack starts at undici's
// call. Handing the failure to node:assert itself would not do: it names the expression its own caller
// wrote, which would be this module's, not undici's check. Any other use (`assert.ok`, should a later
// undici make one) loads node:assert and is answered by it.
"use strict";
let loaded;
const real = () => (loaded ??= require("node:assert"));
function assert(value, message) {
  if (value) return;
  if (message instanceof Error) throw message;
  const error = new (real().AssertionError)({ actual: value, expected: true, operator: "==", message, stackStartFn: assert });
  error.generatedMessage = message == null;
  throw error;
}
module.exports = new Proxy(assert, { get: (target, key) => (key === "prototype" ? target.prototype : real()[key]) });
