// checkShellSplit as a unit: pieces of a spec the shell split are found; whole specs of every kind pass.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkShellSplit } from "../../src/spec/shell-split.js";
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
