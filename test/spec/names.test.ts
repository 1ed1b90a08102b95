import { test } from "node:test";
import assert from "node:assert/strict";
import { isValidName, normalizeName } from "../../src/spec/names.js";

test("normalizeName lowercases and collapses runs of -_.", () => {
  assert.equal(normalizeName("Foo_Bar"), "foo-bar");
  assert.equal(normalizeName("foo.bar"), "foo-bar");
  assert.equal(normalizeName("FOO-._-bar"), "foo-bar");
  assert.equal(normalizeName("micropython-umqtt.simple"), "micropython-umqtt-simple");
  assert.equal(normalizeName("already-normal"), "already-normal");
  assert.equal(normalizeName("a__b..c--d"), "a-b-c-d");
});

test("isValidName accepts PEP 508 names", () => {
  for (const name of ["a", "A", "0", "foo", "Foo_Bar", "foo.bar", "foo-bar", "a1", "micropython-uasyncio"]) {
    assert.equal(isValidName(name), true, name);
  }
});

test("isValidName rejects bad names", () => {
  for (const name of ["", "-foo", "foo-", "_foo", "foo_", ".foo", "foo.", "foo bar", "foo!", "föö", "foo/bar"]) {
    assert.equal(isValidName(name), false, name);
  }
});
