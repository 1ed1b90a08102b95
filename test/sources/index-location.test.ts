// Where `-i` points when it names a folder (src/sources/index-kind.ts), and which links a document may
// hold (src/sources/metadata.ts resolveLink): pure, on real folders.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { parseIndexLocation } from "../../src/sources/index-kind.js";
import { resolveLink } from "../../src/sources/metadata.js";
import { tempDir } from "../helpers/cli.js";
import { throwsMpip } from "../helpers/expect.js";

test("a folder, as a path (relative or absolute, taken as typed) or a file: URL (percent-decoded), with or without a kind", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  for (const name of ["plain", "with space", "ünï ☃", "100%25 sure"]) {
    const folder = path.join(dir, name);
    await mkdir(folder);
    const url = pathToFileURL(folder).href;
    const expected = { url, folder };
    assert.deepEqual(parseIndexLocation(folder), expected);
    assert.deepEqual(parseIndexLocation(name, dir), expected);
    assert.deepEqual(parseIndexLocation(`./${name}/`, dir), expected);
    assert.deepEqual(parseIndexLocation(url), expected);
    assert.deepEqual(parseIndexLocation(`${url}/`), expected);
    assert.deepEqual(parseIndexLocation(`mip+${name}`, dir), { ...expected, kind: "mip" });
    assert.deepEqual(parseIndexLocation(`SIMPLE+${url}`), { ...expected, kind: "simple" });
  }
  // `%25` typed in a path is those three characters; in a URL it is `%`.
  assert.equal(parseIndexLocation(pathToFileURL(path.join(dir, "100%25 sure")).href).folder, path.join(dir, "100%25 sure"));
  await writeFile(path.join(dir, "file.txt"), "x");
  throwsMpip(() => parseIndexLocation("file.txt", dir), "usage", "is a file; a local index is a folder");
  throwsMpip(() => parseIndexLocation("missing", dir), "usage", "is not an http or https URL, nor a folder on this machine");
  throwsMpip(() => parseIndexLocation(pathToFileURL(path.join(dir, "missing")).href), "usage", "names no folder on this machine");
  throwsMpip(() => parseIndexLocation("file://other-host/srv/index"), "usage", "is not a `file:` URL of a folder on this machine");
  const secret = throwsMpip(() => parseIndexLocation("pypi+user:s3cret@host/pypi", dir), "usage", "`pypi+***@host/pypi` is not an http or https URL");
  assert.doesNotMatch(secret.message + (secret.hint ?? ""), /s3cret/);
  // Nothing given, or a URL whose scheme is there but whose host is no host: said as what it is.
  for (const empty of ["", "  ", "mip+", "SIMPLE+"]) throwsMpip(() => parseIndexLocation(empty, dir), "usage", "with no URL or folder");
  for (const broken of ["http://[::1", "https://host:99999/x", "mip+https://[nope/v2"]) throwsMpip(() => parseIndexLocation(broken, dir), "usage", "is not a valid URL");
  for (const other of ["ftp://host/simple", "simple+sftp://host/x"]) throwsMpip(() => parseIndexLocation(other, dir), "usage", "is not an http or https URL: mpip does not fetch over");
});

test("a malformed index, each way it goes wrong, says what is wrong and how to write it, with the option it was given with", async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const hintOf = (text: string, option?: string) => {
    try {
      parseIndexLocation(text, dir, option);
    } catch (error) {
      return { message: (error as Error).message, hint: (error as { hint?: string }).hint ?? "" };
    }
    assert.fail(`${text} was taken`);
  };
  // A scheme missing its colon: the scheme is there, so no "add the scheme".
  for (const [typed, fixed] of [["https//micropython.org/pi/v2", "https://micropython.org/pi/v2"], ["http//host/simple", "http://host/simple"], ["mip+https//host/v2", "mip+https://host/v2"], ["http;//host/simple", "http://host/simple"]] as const) {
    const { message, hint } = hintOf(typed, "-i/--index-url");
    assert.match(message, /^`.*` is not a URL: `https?` has no `:\/\/` after it/, typed);
    assert.equal(hint, `write \`-i ${fixed}\``, typed);
    assert.doesNotMatch(hint, /add the scheme/);
  }
  // A slip in the scheme: the look-alike, with the option it was given with; a real other scheme gets none.
  for (const [typed, fixed] of [["htps://micropython.org/pi/v2", "https://micropython.org/pi/v2"], ["htp://host/simple", "http://host/simple"], ["simple+hhtps://host/simple", "simple+https://host/simple"]] as const) {
    const { message, hint } = hintOf(typed, "--extra-index-url");
    assert.match(message, /^`.*` is not an http or https URL: mpip does not fetch over \S+ \(did you mean https?\?\)$/, typed);
    assert.equal(hint, `write \`--extra-index-url ${fixed}\``, typed);
  }
  assert.doesNotMatch(hintOf("ftp://host/simple", "-i/--index-url").message, /did you mean/);
  // A path to nothing: said as a path, with where it leads; no URL advice.
  for (const typed of ["./nonexistent", "../gone/v2", "nothing-here"]) {
    const { message, hint } = hintOf(typed, "-i/--index-url");
    assert.equal(message, `\`${typed}\` is not an http or https URL, nor a folder on this machine: there is nothing at \`${path.resolve(dir, typed)}\``);
    assert.match(hint, /^check the path; it is relative to the current folder/);
    assert.doesNotMatch(hint, /add the scheme/);
  }
  // A URL typed without its scheme: the URL with it.
  for (const typed of ["micropython.org/pi/v2", "localhost:8080/simple", "10.0.0.2/pypi"]) {
    assert.match(hintOf(typed, "-i/--index-url").hint, new RegExp(`^for a URL, add the scheme \\(e\\.g\\. \`-i https://user:token@host/pypi\`\\), here \`-i https://${typed.replace(/\./g, "\\.")}\`;`), typed);
  }
});

test("links: http(s) from any document; file: only from a local index's document, and only inside its folder", () => {
  const root = "file:///srv/idx";
  const page = "file:///srv/idx/foo/";
  assert.equal(resolveLink("../dist/foo-1.0.tar.gz", page, root), "file:///srv/idx/dist/foo-1.0.tar.gz");
  assert.equal(resolveLink("foo-1.0.tar.gz#sha256=ab", page, root), "file:///srv/idx/foo/foo-1.0.tar.gz#sha256=ab");
  assert.equal(resolveLink("file:///srv/idx/x/y.tar.gz", page, root), "file:///srv/idx/x/y.tar.gz");
  assert.equal(resolveLink("https://host/a.tar.gz", page, root), "https://host/a.tar.gz");
  for (const href of ["../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "file:///srv/idx-other/a", "../", "file://host/srv/idx/a", "ftp://h/a", "javascript:x", "../%2e%2e/%2e%2e/etc/passwd", "a%2Fb"]) {
    assert.equal(resolveLink(href, page, root), undefined, href);
  }
  // A server's document: never a file on this machine, however written, whatever folder is named with it.
  for (const given of [root, undefined]) assert.equal(resolveLink("file:///srv/idx/a", "https://host/simple/foo/", given), undefined);
  assert.equal(resolveLink("../a.tar.gz", "https://host/simple/foo/", undefined), "https://host/simple/a.tar.gz");
});
