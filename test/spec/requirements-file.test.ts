// Requirement files as pip reads them: continuations, comments, `${VAR}`, options, nested `-r`/`-c`
// files relative to the file naming them, cycles, and the bounds on what a file can make mpip read.
// Real files in a temporary folder; no network.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseHash, parseRequirementsFile, readRequirementFiles, REQUIREMENTS_FILE_LIMITS } from "../../src/spec/requirements-file.js";
import { redactSecrets } from "../../src/secrets.js";
import { tempDir } from "../helpers/cli.js";
import { rejectsMpip, throwsMpip, writeTree } from "../helpers/expect.js";

let work: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir("mpip-reqfile-");
});
after(async () => {
  await work.cleanup();
});

const HASH_A = "a".repeat(64);
const HASH_B = "B".repeat(64);

describe("lines", () => {
  test("a `\\` at the end of a line goes on with the next; the joined line keeps the first line's number", () => {
    assert.deepEqual(parseRequirementsFile("alpha==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\nbeta\n"), [
      { text: "alpha==1.0     --hash=sha256:aa     --hash=sha256:bb", line: 1 },
      { text: "beta", line: 4 },
    ]);
    // A continuation on the last line, and CRLF line ends.
    assert.deepEqual(parseRequirementsFile("gamma>=1,\\\r\n<2\r\ndelta\\"), [{ text: "gamma>=1,<2", line: 1 }, { text: "delta", line: 3 }]);
  });

  test("comments: a whole line, or `#` after whitespace, stripped after lines are joined (pip's order)", () => {
    assert.deepEqual(parseRequirementsFile("# image\n  # indented\nfoo  # pinned later\nurl-lib @ https://h/x.tar.gz#sha256=ab\nbar#baz\n"), [
      { text: "foo", line: 3 },
      { text: "url-lib @ https://h/x.tar.gz#sha256=ab", line: 4 },
      { text: "bar#baz", line: 5 },
    ]);
    // A comment line ends a run of continuations; a `\` after a trailing comment still joins, and the
    // comment then takes the joined line with it, as pip does.
    assert.deepEqual(parseRequirementsFile("one \\\n# note\ntwo # note \\\nthree\nfour\n"), [{ text: "one", line: 1 }, { text: "two", line: 3 }, { text: "four", line: 5 }]);
  });

  test("a line of hundreds of thousands of spaces (one line, or continued) is read in one pass", { timeout: 30_000 }, () => {
    // pip's comment pattern `(^|\s+)#.*$` as a regular expression takes time quadratic in such a run
    // (about 10 s for 80,000 spaces, hours for a 1 MiB line); the limit here only stops a hang.
    assert.deepEqual(parseRequirementsFile(`foo${" ".repeat(1_000_000)}bar\n`), [{ text: `foo${" ".repeat(1_000_000)}bar`, line: 1 }]);
    assert.deepEqual(parseRequirementsFile(`foo${" \\\n".repeat(300_000)}\n`), [{ text: "foo", line: 1 }]);
    assert.deepEqual(parseRequirementsFile("a#b\t# tab\nc#d #e # f\n#\n"), [{ text: "a#b", line: 1 }, { text: "c#d", line: 2 }]);
  });
});

describe("readRequirementFiles", () => {
  test("-r and -c inside a file are read relative to that file, depth first, each in its kind", async () => {
    const dir = await writeTree(path.join(work.dir, "nested"), {
      "reqs.txt": "app==1.0\n-r sub/more.txt\n-c pins.txt\nlast\n",
      "sub/more.txt": "helper>=2 --hash=sha256:" + HASH_A + "\n--requirement=../deeper/most.txt\n",
      "deeper/most.txt": "deepest\n-cboth.txt\n",
      "deeper/both.txt": "helper<3\n",
      "pins.txt": "app==1.0 --hash sha256:" + HASH_B + "\n-r extra.txt\n",
      "extra.txt": "from-constraints-file\n",
    });
    const input = await readRequirementFiles([{ path: path.join(dir, "reqs.txt"), kind: "requirement" }], {});
    const at = (file: string, line: number) => `\`${path.join(dir, file)}\` line ${line}`;
    assert.deepEqual(input.requirements.map((entry) => [entry.text, entry.origin, entry.hashes]), [
      ["app==1.0", at("reqs.txt", 1), []],
      ["helper>=2", at("sub/more.txt", 1), [HASH_A]],
      ["deepest", at("deeper/most.txt", 1), []],
      // pip's rule: `-r` reads requirements even from inside a constraints file.
      ["from-constraints-file", at("extra.txt", 1), []],
      ["last", at("reqs.txt", 4), []],
    ]);
    assert.deepEqual(input.constraints.map((entry) => [entry.text, entry.origin, entry.hashes]), [
      ["helper<3", at("deeper/both.txt", 1), []],
      ["app==1.0", at("pins.txt", 1), [HASH_B.toLowerCase()]],
    ]);
  });

  test("a file with a byte order mark is read in its encoding, as pip reads it: UTF-8, UTF-16 LE (PowerShell's `pip freeze >`), UTF-16 BE", async () => {
    const text = "foo==1.0\r\n# caf\u00e9\r\nbar>=2 ; sys_platform != 'win32'\r\n";
    const utf16be = Buffer.from(text, "utf16le").swap16();
    const encodings: Array<[string, Buffer]> = [
      ["utf-8 with mark", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")])],
      ["utf-16 le", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])],
      ["utf-16 be", Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be])],
      ["utf-8", Buffer.from(text, "utf8")],
    ];
    for (const [name, bytes] of encodings) {
      const file = path.join(work.dir, `encoded-${name.replace(/\W+/g, "-")}.txt`);
      await writeFile(file, bytes);
      const input = await readRequirementFiles([{ path: file, kind: "requirement" }], {});
      assert.deepEqual(input.requirements.map((entry) => entry.text), ["foo==1.0", "bar>=2 ; sys_platform != 'win32'"], name);
    }
  });

  test("index options, -f (relative to the file when it exists there), --no-index, --pre, --require-hashes", async () => {
    const dir = await writeTree(path.join(work.dir, "options"), { "reqs.txt": "-i https://one.example/simple\n--extra-index-url=https://two.example/pypi\n-f wheels\n--find-links /abs/dists\n-f elsewhere\n--no-index --pre\n--require-hashes\nfoo\n", "wheels/.keep": "" });
    const file = path.join(dir, "reqs.txt");
    const input = await readRequirementFiles([{ path: file, kind: "requirement" }], {});
    const at = (line: number) => `\`${file}\` line ${line}`;
    assert.deepEqual(input.indexChanges, [
      { type: "index-url", url: "https://one.example/simple", origin: at(1) },
      { type: "extra-index-url", url: "https://two.example/pypi", origin: at(2) },
    ]);
    assert.deepEqual(input.findLinks, [{ path: path.join(dir, "wheels"), origin: at(3) }, { path: "/abs/dists", origin: at(4) }, { path: "elsewhere", origin: at(5) }]);
    assert.equal(input.noIndex, at(6));
    assert.equal(input.pre, at(6));
    assert.equal(input.requireHashes, at(7));
    assert.deepEqual(input.requirements.map((entry) => entry.text), ["foo"]);
  });

  test("${VAR} is expanded (only that form, as pip); unset or empty is an error naming the variable and the line", async () => {
    const file = path.join(work.dir, "vars.txt");
    await writeFile(file, "-i https://ci:${INDEX_TOKEN}@idx.example/simple\nlib-${FLAVOR}==1.0\nkeep-$FLAVOR-${lower}\n");
    const input = await readRequirementFiles([{ path: file, kind: "requirement" }], { INDEX_TOKEN: "tok-1234567890", FLAVOR: "esp32" });
    assert.equal(input.indexChanges[0]!.url, "https://ci:tok-1234567890@idx.example/simple");
    assert.deepEqual(input.requirements.map((entry) => entry.text), ["lib-esp32==1.0", "keep-$FLAVOR-${lower}"]);
    // The expanded credential is remembered: no output shows it, even away from its URL.
    assert.equal(redactSecrets("token tok-1234567890 seen"), "token *** seen");
    await rejectsMpip(readRequirementFiles([{ path: file, kind: "requirement" }], { FLAVOR: "x" }), "usage", `\`${file}\` line 1`, "`INDEX_TOKEN`", "not set");
    await rejectsMpip(readRequirementFiles([{ path: file, kind: "requirement" }], { INDEX_TOKEN: "t", FLAVOR: "" }), "usage", `\`${file}\` line 2`, "`FLAVOR`", "empty");
  });

  test("options mpip does not take, and misplaced ones, are errors naming the file and the line", async () => {
    const cases: Array<[string, string[]]> = [
      ["-e ./project", ["`-e` is not supported", "editable"]],
      ["-e.", ["`-e` is not supported"]],
      ["--editable=git+https://h/r.git", ["`--editable` is not supported"]],
      ["foo --global-option=--quiet", ["`--global-option` is not supported"]],
      ["foo --config-settings key=value", ["`--config-settings` is not supported"]],
      ["--trusted-host example.com", ["`--trusted-host` is not supported"]],
      ["--frobnicate", ["`--frobnicate` is not an option mpip reads"]],
      ["-x", ["`-x` is not an option mpip reads"]],
      ["foo -i https://h/simple", ["`--index-url` must be on a line of its own"]],
      ["foo --pre", ["`--pre` must be on a line of its own"]],
      ["--hash=sha256:" + HASH_A, ["`--hash` with no requirement"]],
      ["foo --hash", ["`--hash` needs a value"]],
      ["-r", ["`-r` needs a value"]],
      ["--pre=yes", ["`--pre` takes no value"]],
      ["foo --hash=sha256:" + HASH_A + " bar", ["`bar` stands after the options"]],
      ["foo --hash='sha256:" + HASH_A, ["quote in the options is not closed"]],
    ];
    for (const [line, fragments] of cases) {
      const file = path.join(work.dir, "bad-option.txt");
      await writeFile(file, `# first\nok-lib\n${line}\n`);
      await rejectsMpip(readRequirementFiles([{ path: file, kind: "requirement" }], {}), "usage", `\`${file}\` line 3: `, ...fragments);
    }
  });

  test("--hash takes sha256:HEX only", () => {
    assert.equal(parseHash(`sha256:${HASH_B}`, "x"), HASH_B.toLowerCase());
    assert.equal(parseHash(`SHA256:${HASH_A}`, "x"), HASH_A);
    throwsMpip(() => parseHash(`sha512:${"c".repeat(128)}`, "`r.txt` line 1"), "usage", "`r.txt` line 1", "sha256 digests only");
    throwsMpip(() => parseHash("sha256:abc", "`r.txt` line 2"), "usage", "not a sha256 digest");
    throwsMpip(() => parseHash(HASH_A, "`r.txt` line 3"), "usage", "is not `ALGORITHM:HEX`");
  });

  test("files naming each other in a cycle are an error naming the chain, symbolic links seen through", async () => {
    const dir = await writeTree(path.join(work.dir, "cycle"), { "a.txt": "one\n-r b.txt\n", "b.txt": "two\n-c sub/c.txt\n", "sub/c.txt": "-r ../a.txt\n", "self.txt": "x\n\n-r self.txt\n" });
    const a = path.join(dir, "a.txt");
    const error = await rejectsMpip(readRequirementFiles([{ path: a, kind: "requirement" }], {}), "usage", "cycle");
    assert.ok(error.message.includes(`\`${a}\` line 2 → \`${path.join(dir, "b.txt")}\` line 2 → \`${path.join(dir, "sub/c.txt")}\` line 1 → \`${path.join(dir, "sub/../a.txt")}\``), error.message);
    await rejectsMpip(readRequirementFiles([{ path: path.join(dir, "self.txt"), kind: "requirement" }], {}), "usage", "cycle", "self.txt` line 3 →");
    await symlink(path.join(dir, "a.txt"), path.join(dir, "link.txt"));
    await writeFile(path.join(dir, "b.txt"), "-r link.txt\n");
    await rejectsMpip(readRequirementFiles([{ path: a, kind: "requirement" }], {}), "usage", "cycle", "link.txt`");
  });

  test("what a file can make mpip read is bounded: nesting, size, files, lines", async () => {
    const depth = REQUIREMENTS_FILE_LIMITS.maxDepth;
    const deep: Record<string, string> = {};
    for (let level = 0; level <= depth; level++) deep[`level${level}.txt`] = `pkg${level}\n-r level${level + 1}.txt\n`;
    deep[`level${depth + 1}.txt`] = "bottom\n";
    const dir = await writeTree(path.join(work.dir, "deep"), deep);
    await rejectsMpip(readRequirementFiles([{ path: path.join(dir, "level0.txt"), kind: "requirement" }], {}), "usage", `nest more than ${depth} deep`);

    const big = path.join(work.dir, "big.txt");
    await writeFile(big, "x\n".repeat(REQUIREMENTS_FILE_LIMITS.maxFileBytes / 2 + 1));
    await rejectsMpip(readRequirementFiles([{ path: big, kind: "requirement" }], {}), "usage", "larger than 1 MiB");

    // A diamond read many times over: each reading counts.
    const wide = await writeTree(path.join(work.dir, "wide"), { "leaf.txt": "leaf\n", "mid.txt": "-r leaf.txt\n".repeat(20), "top.txt": "-r mid.txt\n".repeat(20) });
    await rejectsMpip(readRequirementFiles([{ path: path.join(wide, "top.txt"), kind: "requirement" }], {}), "usage", `more than ${REQUIREMENTS_FILE_LIMITS.maxFiles} files`);

    const long = await writeTree(path.join(work.dir, "long"), { "a.txt": "\n".repeat(60_000), "b.txt": "\n".repeat(60_000) });
    await rejectsMpip(readRequirementFiles([{ path: path.join(long, "a.txt"), kind: "requirement" }, { path: path.join(long, "b.txt"), kind: "constraint" }], {}), "usage", `more than ${REQUIREMENTS_FILE_LIMITS.maxLines} lines`);
  });

  test("a nested file that is missing, a folder or a socket is an error naming the line that names it; a FIFO is read", async () => {
    const dir = await writeTree(path.join(work.dir, "missing"), { "reqs.txt": "a\n-r gone.txt\n", "folder.txt": "-c sub\n", "sub/x": "", "fifo.txt": "-r pipe\n", "socket.txt": "-r sock\n" });
    await rejectsMpip(readRequirementFiles([{ path: path.join(dir, "reqs.txt"), kind: "requirement" }], {}), "usage", "there is no requirements file", "gone.txt", "reqs.txt` line 2");
    await rejectsMpip(readRequirementFiles([{ path: path.join(dir, "folder.txt"), kind: "requirement" }], {}), "usage", "the constraints file", "is a folder", "folder.txt` line 1");
    const listening = createServer().listen(path.join(dir, "sock"));
    await once(listening, "listening");
    try {
      await rejectsMpip(readRequirementFiles([{ path: path.join(dir, "socket.txt"), kind: "requirement" }], {}), "usage", "is not a regular file, a pipe or a device", "socket.txt` line 1");
    } finally {
      listening.close();
    }
    // A FIFO gives its lines once, as pip reads one; its writer may come after mpip opened it.
    execFileSync("mkfifo", [path.join(dir, "pipe")]);
    const reading = readRequirementFiles([{ path: path.join(dir, "fifo.txt"), kind: "requirement" }], {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(path.join(dir, "pipe"), "from-pipe>=1\n");
    assert.deepEqual((await reading).requirements.map((line) => line.text), ["from-pipe>=1"]);
    await rejectsMpip(readRequirementFiles([{ path: path.join(dir, "urls.txt"), kind: "constraint" }], {}), "usage", "there is no constraints file");
    await writeFile(path.join(dir, "url.txt"), "-r https://host.example/more.txt\n");
    await rejectsMpip(readRequirementFiles([{ path: path.join(dir, "url.txt"), kind: "requirement" }], {}), "usage", "url.txt` line 1", "is a URL");
  });
});
