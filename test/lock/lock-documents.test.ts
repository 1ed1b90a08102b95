// A locked micropython-lib package is its package document and the files the lock lists; the document is
// checked against the lock's sha256, and the lock's files must be exactly the document's, through the
// built CLI: the same destinations, each file's full sha256 the one the document's `sha256` field gives
// or starting with its `hashes` prefix, the version the one it declares. A lock edited to rename, add,
// drop or swap a file, or to change the version, is `bad-lock` (exit 2) for `install --lock` and
// `download --lock` alike, with nothing installed or written; so is a lock that swaps a file for another
// whose sha256 shares the document's short prefix, where the document gives the full sha256. A served
// document that is not the one the lock pins is `digest-mismatch`.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { serveGraph, type Graph } from "./graph.js";

let graph: Graph;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const sha256 = (bytes: string | Buffer) => createHash("sha256").update(bytes).digest("hex");

before(async () => {
  graph = await serveGraph();
  work = await tempDir("mpip-lock-documents-");
});
after(async () => {
  await graph.server.close();
  await work.cleanup();
});

/** A lock of `specs` from the graph's indexes, written to a fresh file: its path and text. */
async function lockOf(...specs: string[]): Promise<{ lockFile: string; text: string }> {
  const lockFile = path.join(work.dir, `locks-${++counter}`, "pylock.toml");
  const made = await runMpip(["lock", "-o", lockFile, ...graph.indexes, ...specs]);
  assert.equal(made.code, 0, made.stderr);
  return { lockFile, text: await readFile(lockFile, "utf8") };
}

/** The lock of `blinker`, which two tests edit: made once per file, each test given a copy in a fresh folder. */
let blinkerLock: Promise<{ lockFile: string; text: string }> | undefined;
async function blinkerLockCopy(): Promise<{ lockFile: string; text: string }> {
  blinkerLock ??= lockOf("blinker");
  const { lockFile: original, text } = await blinkerLock;
  const lockFile = path.join(work.dir, `locks-${++counter}`, "pylock.toml");
  await mkdir(path.dirname(lockFile));
  await cp(original, lockFile);
  return { lockFile, text };
}

/** `install --lock` and `download --lock` of `text` (written over `lockFile`) both fail with `code` and `message`; nothing is created. */
async function refused(lockFile: string, text: string, exit: number, code: string, message: RegExp): Promise<void> {
  await writeFile(lockFile, text);
  const target = path.join(path.dirname(lockFile), "image");
  const vendor = path.join(path.dirname(lockFile), "vendor");
  for (const command of [["install", "--lock", lockFile, "-p", target], ["download", "--lock", lockFile, "-d", vendor]]) {
    const result = await runMpip([...command, "--json"]);
    assert.equal(result.code, exit, `${command[0]}: ${result.stderr}`);
    const document = JSON.parse(result.stdout) as { ok: boolean; error: { code: string; message: string; hint?: string } };
    assert.equal(document.error.code, code, command[0]);
    assert.match(document.error.message, message, `${command[0]}: ${document.error.message}`);
    assert.ok(document.error.hint !== undefined && document.error.hint !== "", command[0]);
  }
  assert.equal(existsSync(target), false, "nothing installed");
  assert.equal(existsSync(vendor), false, "nothing downloaded");
}

describe("a locked mip package's files are the package document's", () => {
  test("a lock edited to rename, add, drop or swap a file, or to change the version, is refused", async () => {
    const { lockFile, text } = await blinkerLockCopy();
    const ticker = /\{ dest = "ticker\.py", (url = "[^"]+", size = \d+, hashes = \{ sha256 = "[0-9a-f]{64}" \}) \}/.exec(text)?.[1];
    const led = /\{ dest = "blinker\/led\.py", (url = "[^"]+", size = \d+, hashes = \{ sha256 = "([0-9a-f]{64})" \}) \},\n/.exec(text);
    assert.ok(ticker !== undefined && led !== null, text);
    const short = led[2]!.slice(0, 8);
    const edits: Array<[string, string, RegExp]> = [
      ["renamed", text.replace('dest = "blinker/led.py"', 'dest = "blinker/lamp.py"'), /`blinker\/lamp\.py` is locked but not in the document; `blinker\/led\.py` is in the document but not locked; nothing was changed$/],
      ["added", text.replace(led[0], `${led[0]}    { dest = "boot.py", ${ticker} },\n`), /`boot\.py` is locked but not in the document; nothing was changed$/],
      ["dropped", text.replace(led[0], ""), /`blinker\/led\.py` is in the document but not locked; nothing was changed$/],
      ["swapped for another file of the index", text.replace(led[1]!, ticker), new RegExp(`\`blinker/led\\.py\` is locked with sha256 [0-9a-f]{12}…, the document's hash is ${short}; nothing was changed$`)],
      ["another version", text.replace(/(name = "blinker"\n)version = "0\.3"/, '$1version = "0.4"'), /the lock says version 0\.4, the document 0\.3; nothing was changed$/],
    ];
    for (const [what, edited, message] of edits) {
      assert.notEqual(edited, text, what);
      await refused(lockFile, edited, 2, "bad-lock", new RegExp(`^the lock \`.*pylock\\.toml\` does not agree with the package document it pins for \`blinker 0\\.[34]\` \\(\`0\\.3\\.json\`\\): ${message.source}`));
    }
    // The lock as written installs and downloads.
    await writeFile(lockFile, text);
    const installed = await runMpip(["install", "--lock", lockFile, "-p", path.join(path.dirname(lockFile), "image")]);
    assert.equal(installed.code, 0, installed.stderr);
    const downloaded = await runMpip(["download", "--lock", lockFile, "-d", path.join(path.dirname(lockFile), "vendor")]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
  });

  test("where the document gives each file's full sha256, a file whose sha256 only shares its short hash is refused", async () => {
    // Two files whose sha256 share their first 4 hex digits, which a document's `hashes` may be.
    const original = "T = 'original'\n";
    const prefix = sha256(original).slice(0, 4);
    let twin = "";
    for (let n = 0; twin === ""; n++) if (sha256(`T = 'twin ${n}'\n`).startsWith(prefix)) twin = `T = 'twin ${n}'\n`;
    await graph.mip.publish({ name: "twinned", version: "1.0", files: { "twinned.py": original }, mpy: false });
    const document = { v: 1, hashes: [["twinned.py", prefix]], version: "1.0", sha256: [["twinned.py", sha256(original)]] };
    for (const version of ["1.0", "latest"]) graph.mip.setRaw(graph.mip.documentPath("py", "twinned", version), `${JSON.stringify(document)}\n`);
    graph.mip.setRaw(`file/${prefix.slice(0, 2)}/${prefix}`, original);
    const twinShort = sha256(twin).slice(0, 8);
    graph.mip.setRaw(`file/${twinShort.slice(0, 2)}/${twinShort}`, twin);
    const { lockFile, text } = await lockOf("twinned");
    assert.match(text, new RegExp(`sha256 = "${sha256(original)}"`));
    const swapped = text.replace(/url = "([^"]+\/file\/)[0-9a-f]{2}\/[0-9a-f]+", size = \d+, hashes = \{ sha256 = "[0-9a-f]{64}" \}/, `url = "$1${twinShort.slice(0, 2)}/${twinShort}", size = ${twin.length}, hashes = { sha256 = "${sha256(twin)}" }`);
    assert.notEqual(swapped, text);
    await refused(lockFile, swapped, 2, "bad-lock", new RegExp(`\`twinned\\.py\` is locked with sha256 ${sha256(twin).slice(0, 12)}…, the document gives ${sha256(original).slice(0, 12)}…; nothing was changed$`));
    await writeFile(lockFile, text);
    const target = path.join(path.dirname(lockFile), "good");
    assert.equal((await runMpip(["install", "--lock", lockFile, "-p", target])).code, 0);
    assert.equal(await readFile(path.join(target, "twinned.py"), "utf8"), original);
  });

  test("a served document other than the one the lock pins is refused (digest-mismatch), whatever it lists", async () => {
    const { lockFile, text } = await blinkerLockCopy();
    const documentPath = graph.mip.documentPath("py", "blinker", "0.3");
    const served = graph.mip.tree.get(documentPath)!;
    const parsed = JSON.parse(served.toString("utf8")) as { hashes: Array<[string, string]> };
    try {
      // The same files and one more (a boot.py that the lock knows nothing of), and the same files with one dropped.
      for (const hashes of [[...parsed.hashes, ["boot.py", parsed.hashes[0]![1]]], parsed.hashes.slice(1)]) {
        graph.mip.setRaw(documentPath, `${JSON.stringify({ ...parsed, hashes })}\n`);
        await refused(lockFile, text, 1, "digest-mismatch", /package document|0\.3\.json/);
      }
    } finally {
      graph.mip.setRaw(documentPath, served);
    }
  });
});
