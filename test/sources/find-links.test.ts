import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArchiveName } from "../../src/sources/find-links.js";
import { parseRequirementsFile } from "../../src/spec/requirements-file.js";

test("archive names split at the last `-` that starts a valid version", () => {
  assert.deepEqual(parseArchiveName("micropython-foo-1.0.tar.gz"), { name: "micropython-foo", version: "1.0", packagetype: "sdist" });
  assert.deepEqual(parseArchiveName("foo-bar-2.0rc1.tar.gz"), { name: "foo-bar", version: "2.0rc1", packagetype: "sdist" });
  assert.deepEqual(parseArchiveName("foo_bar-0.1-py3-none-any.whl"), { name: "foo_bar", version: "0.1", packagetype: "bdist_wheel" });
  assert.equal(parseArchiveName("notes.txt"), undefined);
  assert.equal(parseArchiveName("noversion.tar.gz"), undefined);
});

test("requirements files drop comments and blank lines and keep line numbers", () => {
  assert.deepEqual(parseRequirementsFile("# image\nfoo\n\n  bar==1.0  # pinned\r\nbaz>=1#not-a-comment\n"), [
    { text: "foo", line: 2 },
    { text: "bar==1.0", line: 4 },
    { text: "baz>=1#not-a-comment", line: 5 },
  ]);
});
