// checkShellSplit as a unit: pieces of a spec the shell split are found; whole specs of every kind pass.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { checkShellSplit, versionNotFoundHint } from "../../src/spec/shell-split.js";
import { throwsMpip } from "../helpers/expect.js";

test("whole specs of every kind, side by side, pass", () => {
  checkShellSplit([]);
  checkShellSplit(["fmt", "other-lib", "2to3", "fmt>=1.0,<2", "fmt@1.2", "fmt[extra]>=1", "fmt; os_name == 'x'"]);
  checkShellSplit(["github:org/repo@v1.0", "gitlab:group/proj/lib.py", "https://host/x-1.0.tar.gz", "./dist/x-1.0.tar.gz", "./project", "1.0"]);
});

/** The error's message holds `message`, and its hint `hint`. */
function refused(args: string[], message: string, hint: string): void {
  const error = throwsMpip(() => checkShellSplit(args), "bad-spec", message);
  assert.ok(error.hint?.includes(hint), `${JSON.stringify(hint)} not in: ${error.hint}`);
}

test("the tail of a spec, and a version after a name, are refused with the spec quoted whole", () => {
  refused(["fmt", ">=1.0"], "`>=1.0` is not a package spec", "`mpip install 'fmt>=1.0'`");
  refused(["a", "fmt", "==", "2.0", "b"], "`==`", "`mpip install 'fmt==2.0'`");
  refused(["fmt>=1.0,", "<2", "other"], "`<2`", "`mpip install 'fmt>=1.0,<2'`");
  refused(["fmt", "(>=1.0)"], "`(>=1.0)`", "`mpip install 'fmt(>=1.0)'`");
  refused(["fmt", "; os_name == 'micropython'"], "marker part", "quote the whole spec as one");
  refused([",<2"], "`,<2`", "`mpip install 'NAME,<2'`");
  refused(["fmt", "v1.2.3"], "`v1.2.3` looks like a version", "`mpip install 'fmt==1.2.3'` (or mip's `fmt@v1.2.3`)");
  refused(["fmt", "2.0rc1"], "`2.0rc1` looks like a version", "`mpip install 'fmt==2.0rc1'`");
});

test("every spelling of a version with a dotted release, an epoch or a local label is refused after a name", () => {
  for (const version of ["2.0.post1", "1.0-1", "1.0c1", "1.0.DEV", "1.0_post2", "V1.0", "1.0preview1", "1!2", "1+local", "1.0+x.1", "0!1.2rc3.post4.dev5"]) {
    refused(["fmt", version], `\`${version}\` looks like a version`, `\`mpip install 'fmt==${version.replace(/^v/i, "")}'\``);
  }
});

test("one number (a valid project name) passes without the redirect, and is refused with it", () => {
  checkShellSplit(["fmt", "1", "fmt", "v2", "fmt", "3rc1", "fmt", "42"]);
  for (const version of ["1", "v2", "3rc1"]) {
    const error = throwsMpip(() => checkShellSplit(["fmt", version], "/home/me/="), "bad-spec", `\`${version}\` came as a package of its own`);
    assert.ok(error.hint?.includes(`\`mpip install 'fmt>=${version}'\``), error.hint);
  }
});

test("versionNotFoundHint adds the quoting hint to a not-found error about a bare version after a name, and only to that", () => {
  const notFound = new MpipError("not-found", "package `1` was not found in `https://host/pypi`", { hint: "check the spelling" });
  const hinted = versionNotFoundHint(notFound, ["fmt", "1"]) as MpipError;
  assert.deepEqual(hinted.hintLines, ["check the spelling", "`1` looks like a version: to ask for `fmt` at that version, write name and version as one argument: `mpip install 'fmt==1'` (or mip's `fmt@1`)"]);
  assert.equal(hinted.code, "not-found");
  assert.equal(versionNotFoundHint(notFound, ["1"]), notFound, "no name before it");
  assert.equal(versionNotFoundHint(notFound, ["fmt", "2"]), notFound, "another package");
  const other = new MpipError("network", "package `1` was not found");
  assert.equal(versionNotFoundHint(other, ["fmt", "1"]), other, "another error");
});
