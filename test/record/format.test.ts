// The record's pure parts: names and versions escaped as the binary distribution format says, RECORD's
// CSV written and read back as Python's csv module does, METADATA's fields, the image plan.

import assert from "node:assert/strict";
import { test } from "node:test";
import { distInfoName, formatMetadata, formatRecord, isRecordableVersion, parseMetadata, parseRecord, recordedVersion, recordHash } from "../../src/record/format.js";
import { planImage } from "../../src/record/plan.js";
import type { InstalledDistribution } from "../../src/record/installed.js";

test("dist-info names: runs of -_. become _, lowercased; versions normalized; none is 0", () => {
  assert.equal(distInfoName("Foo.Bar--baz", "1.0-RC1"), "foo_bar_baz-1.0rc1.dist-info");
  assert.equal(distInfoName("micropython-ssd1306", "v0.1.2"), "micropython_ssd1306-0.1.2.dist-info");
  assert.equal(distInfoName("A_B", "2!1.0.post1+Local.X"), "a_b-2!1.0.post1+local.x.dist-info");
  assert.equal(distInfoName("loose", ""), "loose-0.dist-info");
  // A version that is not PEP 440 stays, with anything unsafe in a file name as _.
  assert.equal(distInfoName("odd", "2024-01/beta"), "odd-2024_01_beta.dist-info");
});

test("a package document's free-text version is recorded as one the record is read back with", () => {
  // A package.json (or a lock's `version` for one) may say anything; the record must still be read.
  for (const version of ["v1.2-dev build", "1.0\nRequires-Dist: evil", "a,b;c#d", "\u0085x", "é".repeat(150), "1.0\u001b[31m", " "]) {
    const recorded = recordedVersion(version);
    assert.ok(isRecordableVersion(recorded), JSON.stringify([version, recorded]));
  }
  assert.equal(recordedVersion("v1.2-dev build"), "v1.2-dev_build");
  assert.equal(recordedVersion("1.0\nRequires-Dist: evil"), "1.0_Requires-Dist:_evil");
  assert.equal(recordedVersion("1.0-RC1"), "1.0rc1");
  assert.equal(recordedVersion(""), "0");
  assert.ok(!isRecordableVersion("a b") && !isRecordableVersion("") && !isRecordableVersion("x".repeat(101)) && isRecordableVersion("x".repeat(100)));
});

test("RECORD: hashes in urlsafe base64 without padding; fields quoted only when needed; read back whole", () => {
  // The sha256 of no bytes, from hex to RECORD's form.
  assert.equal(recordHash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
  const rows = [{ path: "a,b.py", hash: "sha256=x", size: 3 }, { path: 'q"uote.py', hash: "sha256=y", size: 0 }, { path: "p-1.dist-info/RECORD" }];
  const text = formatRecord(rows);
  assert.equal(text, '"a,b.py",sha256=x,3\n"q""uote.py",sha256=y,0\np-1.dist-info/RECORD,,\n');
  assert.deepEqual(parseRecord(text), rows);
  assert.deepEqual(parseRecord("x.py,sha256=z,12\r\n\r\ny.py,,\n"), [{ path: "x.py", hash: "sha256=z", size: 12 }, { path: "y.py" }]);
});

test("METADATA: written and read back; a line break in a value cannot start a field", () => {
  const text = formatMetadata({ name: "demo", version: "1.0", summary: "two\nlines", requiresDist: ["a>=1", "b @ https://x/b.tar.gz"] });
  assert.equal(text, "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nSummary: two lines\nRequires-Dist: a>=1\nRequires-Dist: b @ https://x/b.tar.gz\n");
  assert.deepEqual(parseMetadata(text), { name: "demo", version: "1.0", summary: "two lines", requiresDist: ["a>=1", "b @ https://x/b.tar.gz"] });
  assert.equal(parseMetadata("Name: x\n"), undefined);
});

const dist = (key: string, version: string, files: string[]): InstalledDistribution => {
  const distInfo = `${key}-${version}.dist-info`;
  return { distInfo, name: key, key, version, requiresDist: [], rows: [...files, `${distInfo}/RECORD`].map((path) => ({ path })), infoFiles: [`${distInfo}/METADATA`, `${distInfo}/RECORD`], requested: true };
};

test("the image plan: a replaced package's dropped files go, a kept package's files stay, the later owner wins", () => {
  const installed = [dist("app", "1.0", ["app/a.py", "app/old.py", "shared.py"]), dist("other", "1.0", ["other.py", "common.py"])];
  const incoming = [{ key: "app", files: ["app/a.py", "app/new.py", "common.py"] }];
  const plan = planImage(installed, incoming);
  assert.deepEqual(plan.replaced.map((item) => item.key), ["app"]);
  assert.deepEqual(plan.removals.sort(), ["app-1.0.dist-info/METADATA", "app-1.0.dist-info/RECORD", "app/old.py", "shared.py"]);
  assert.deepEqual(plan.rewrites.map((item) => [item.distribution.key, item.rows.map((row) => row.path)]), [["other", ["other.py", "other-1.0.dist-info/RECORD"]]]);
  assert.deepEqual(plan.unrecorded, ["app/new.py"]);
  // A file a kept package lists is never removed, even when the replaced one listed it too.
  const both = planImage([dist("x", "1", ["s.py"]), dist("y", "1", ["s.py"])], [{ key: "x", files: [] }]);
  assert.ok(!both.removals.includes("s.py"));
  // A RECORD path that leaves the target (pip writes ../../bin/x) is never removed.
  const outside = planImage([dist("z", "1", ["../../bin/z", "/etc/passwd", "z.py"])], [{ key: "z", files: [] }]);
  assert.deepEqual(outside.removals.filter((file) => !file.includes(".dist-info")), ["z.py"]);
});
