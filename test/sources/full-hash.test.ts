// The `sha256` field of a v2 package document (`[dest, full sha256]`, written by `mpip index build`; mip
// ignores it): a file it names is checked against the full sha256, not only the short prefix in `hashes`,
// so a file that shares the prefix (32 bits for micropython-lib's 8 hex digits) is refused. A field that
// contradicts the rest of the document is refused before anything is fetched.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { DEFAULT_GIT_HOSTS } from "../../src/sources/git-hosts.js";
import { parsePackageDocument, planPackageFiles } from "../../src/sources/package-json.js";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";

const origin = { url: "https://host/v2/package/py/frob/1.0.json", index: "https://host/v2" };
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const parse = (value: unknown) => parsePackageDocument(Buffer.from(JSON.stringify(value)), origin);

function badMetadata(...patterns: RegExp[]) {
  return (error: unknown) => {
    assert.ok(error instanceof MpipError, String(error));
    assert.equal(error.code, "bad-metadata", error.message);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

/** Two module texts whose sha256 share their first four hex digits (found in some ten thousand tries). */
function prefixTwins(): { good: string; evil: string; short: string } {
  const good = "VALUE = 'good'\n";
  const short = sha256(good).slice(0, 4);
  for (let index = 0; ; index++) {
    const evil = `VALUE = 'evil ${index}'\n`;
    if (sha256(evil).startsWith(short)) return { good, evil, short };
  }
}

test("a file the `sha256` field names is planned with its full sha256; the short hash still names it in file/", () => {
  const full = sha256("A = 1\n");
  const doc = parse({ v: 1, version: "1.0", hashes: [["frob.py", full.slice(0, 8)], ["other.py", "abcd1234"]], urls: [["web.py", "https://host/web.py"]], sha256: [["frob.py", full.toUpperCase()], ["web.py", sha256("W = 1\n")]] });
  const planned = planPackageFiles(doc, { documentUrl: origin.url, hosts: DEFAULT_GIT_HOSTS, mip: { base: "https://host/v2", flavor: "py" } });
  assert.deepEqual(planned.map((file) => [file.dest, file.sha256, file.location.type === "remote" ? file.location.url : ""]), [
    ["frob.py", full, `https://host/v2/file/${full.slice(0, 2)}/${full.slice(0, 8)}`],
    ["other.py", "abcd1234", "https://host/v2/file/ab/abcd1234"],
    ["web.py", sha256("W = 1\n"), "https://host/web.py"],
  ]);
});

test("a `sha256` field that is empty or null says nothing: the document is read as mip reads it, by its short hashes", () => {
  const full = sha256("A = 1\n");
  for (const field of [{}, { sha256: [] }, { sha256: null }]) {
    const doc = parse({ v: 1, version: "1.0", hashes: [["frob.py", full.slice(0, 8)]], ...field });
    assert.equal(doc.sha256, undefined, JSON.stringify(field));
    const planned = planPackageFiles(doc, { documentUrl: origin.url, hosts: DEFAULT_GIT_HOSTS, mip: { base: "https://host/v2", flavor: "py" } });
    assert.deepEqual(planned.map((file) => [file.dest, file.sha256]), [["frob.py", full.slice(0, 8)]]);
  }
});

test("a `sha256` field that contradicts the document is refused", () => {
  const full = sha256("A = 1\n");
  assert.throws(() => parse({ v: 1, hashes: [["frob.py", "00000000"]], sha256: [["frob.py", full]] }), badMetadata(/`sha256\[0\]\[1\]`/, /does not start with the short hash 00000000/));
  assert.throws(() => parse({ v: 1, hashes: [["frob.py", full.slice(0, 8)]], sha256: [["gone.py", full]] }), badMetadata(/`sha256\[0\]\[0\]`/, /in neither `hashes` nor `urls`/));
  assert.throws(() => parse({ v: 1, hashes: [["frob.py", full.slice(0, 8)]], sha256: [["frob.py", full.slice(0, 40)]] }), badMetadata(/must be a full sha256/));
  assert.throws(() => parse({ v: 1, hashes: [["frob.py", full.slice(0, 8)]], sha256: [["frob.py", full], ["./frob.py", sha256("B")]] }), badMetadata(/names `frob\.py` again/));
});

test("install refuses a file that matches the short hash but not the full sha256 the document gives", async () => {
  const { dir, cleanup } = await tempDir("mpip-full-hash-");
  try {
    const { good, evil, short } = prefixTwins();
    const document = (withFull: boolean) => JSON.stringify({ v: 1, hashes: [["frob.py", short]], version: "1.0", ...(withFull ? { sha256: [["frob.py", sha256(good)]] } : {}) });
    // The same hashed file, `evil` in place of `good`: the short hash alone cannot tell them apart.
    for (const [name, withFull] of [["checked", true], ["unchecked", false]] as const) {
      await writeTree(path.join(dir, name), { "index.json": JSON.stringify({ v: 2, updated: 0, packages: [{ name: "frob", version: "1.0", versions: { py: ["1.0"] } }] }), "package/py/frob/1.0.json": document(withFull), "package/py/frob/latest.json": document(withFull), [`file/${short.slice(0, 2)}/${short}`]: evil });
    }
    const unchecked = await runMpip(["install", "--no-record", "-p", path.join(dir, "target-unchecked"), "-i", path.join(dir, "unchecked"), "frob"]);
    assert.equal(unchecked.code, 0, unchecked.stderr);
    const checked = await runMpip(["install", "--no-record", "-p", path.join(dir, "target-checked"), "-i", path.join(dir, "checked"), "frob"]);
    assert.equal(checked.code, 1, checked.stderr);
    assert.match(checked.stderr, new RegExp(`^error: .*\`frob\\.py\`.* does not match .*expected ${sha256(good)}, got ${sha256(evil)}`, "m"));
    assert.deepEqual(await readdir(path.join(dir, "target-checked")).catch(() => []), []);
  } finally {
    await cleanup();
  }
});
