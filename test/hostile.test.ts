// Hostile archives and metadata, end to end: the built CLI against the test index, one crafted input per
// promise of issue 3. Every refusal must exit 1 with an MpipError naming the package (and the entry or the
// field), leave the target byte-identical, and leave nothing beside it.

import assert from "node:assert/strict";
import { access, mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { buildSdist, buildSdistTar, gzipReproducible, type ExtraEntry, type SdistOptions } from "./helpers/sdist.js";
import { headerOffsets, paxData, tarEnd, tarEntry } from "./helpers/tar-craft.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-hostile-");
  await server.addSdist({ name: "solo-meta", version: "1.0", files: { "solo_meta.py": "" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const module = (name: string) => `${name.replace(/-/g, "_")}.py`;

/** Publishes `name` 1.0: one module plus the hostile extra entries. */
async function publishSdist(name: string, extraEntries: ExtraEntry[], options: SdistOptions = {}): Promise<void> {
  await server.addSdist({ name, version: "1.0", files: { [module(name)]: "X = 1\n" } }, { ...options, extraEntries });
}

/** Publishes `name` 1.0 as hand-crafted tar blocks (after a top folder and one module), gzipped. */
function publishCrafted(name: string, entries: Buffer[], options: { end?: Buffer; gzip?: (tar: Buffer) => Buffer } = {}): void {
  const top = `${name}-1.0`;
  const tar = Buffer.concat([tarEntry({ name: `${top}/`, typeflag: "5" }), tarEntry({ name: `${top}/${module(name)}` }, "X = 1\n"), ...entries, options.end ?? tarEnd()]);
  publishBytes(name, (options.gzip ?? gzipReproducible)(tar));
}

function publishBytes(name: string, body: Buffer): void {
  server.addFile(name, "1.0", { filename: `${name}-1.0.tar.gz`, body });
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  parent: string;
  target: string;
  before: Record<string, string>;
}

/** Runs `mpip install --json` into a fresh target (holding a file of its own) in a folder of its own. */
async function install(args: string[]): Promise<Outcome> {
  const parent = path.join(work.dir, `case-${++counter}`);
  const target = path.join(parent, "target");
  await mkdir(path.join(target, "mine"), { recursive: true });
  await writeFile(path.join(target, "mine", "keep.py"), "KEEP = True\n");
  const before = await snapshot(target);
  const result = await runMpip(["install", "--no-record", "--json", "-i", server.url, "-p", target, ...args]);
  return { ...result, parent, target, before };
}

/** Exit 1 with `code`, the message matching, the target as it was and nothing beside it. */
async function expectFailure(args: string[], code: string, message: RegExp): Promise<Outcome> {
  const outcome = await install(args);
  assert.equal(outcome.code, 1, outcome.stderr);
  assert.match(outcome.stderr, /^error: /);
  assert.doesNotMatch(outcome.stderr, /This is a bug/);
  assert.match(outcome.stderr, message);
  assert.equal(JSON.parse(outcome.stdout).error.code, code, outcome.stderr);
  assert.deepEqual(await snapshot(outcome.target), outcome.before);
  assert.deepEqual(await readdir(outcome.parent), ["target"]);
  return outcome;
}

async function expectInstalled(args: string[], files: string[]): Promise<Outcome> {
  const outcome = await install(args);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.deepEqual((await listFiles(outcome.target)).sort(), [...files, "mine/keep.py"].sort());
  assert.deepEqual(await readdir(outcome.parent), ["target"]);
  return outcome;
}

const refused = (name: string, entry: string, reason: string) =>
  new RegExp(`^error: refused entry \`${escape(entry)}\` of \`${escape(name)} 1\\.0\` \\(\`${escape(name)}-1\\.0\\.tar\\.gz\`\\): ${reason}`, "m");
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("hostile entries are refused, naming the package and the entry", { concurrency: 4 }, () => {
  test("an absolute path", async () => {
    const outside = path.join(work.dir, "absolute-escape.py");
    await publishSdist("h-absolute", [{ name: outside, type: "file", content: "pwned" }]);
    await expectFailure(["h-absolute"], "unsafe-path", refused("h-absolute", outside, "its path is absolute"));
    await assert.rejects(access(outside));
  });

  test("`..` segments, in a plain name and in a pax path", async () => {
    await publishSdist("h-dotdot", [{ name: "h-dotdot-1.0/../../dotdot-escape.py", type: "file", content: "pwned" }]);
    await expectFailure(["h-dotdot"], "unsafe-path", refused("h-dotdot", "h-dotdot-1.0/../../dotdot-escape.py", "its path contains a `\\.\\.` segment"));
    await publishSdist("h-paxdotdot", [{ name: "h-paxdotdot-1.0/innocent.py", type: "file", content: "pwned", pax: { path: "h-paxdotdot-1.0/a/../../../pax-escape.py" } }]);
    await expectFailure(["h-paxdotdot"], "unsafe-path", refused("h-paxdotdot", "h-paxdotdot-1.0/a/../../../pax-escape.py", "its path contains a `\\.\\.` segment"));
    await assert.rejects(access(path.join(work.dir, "dotdot-escape.py")));
    await assert.rejects(access(path.join(work.dir, "pax-escape.py")));
  });

  test("a Windows drive letter, and a `:` anywhere (an NTFS data stream)", async () => {
    await publishSdist("h-drive", [{ name: "C:/Windows/evil.py", type: "file", content: "pwned" }]);
    await expectFailure(["h-drive"], "unsafe-path", refused("h-drive", "C:/Windows/evil.py", "its path starts with a drive letter"));
    await publishSdist("h-stream", [{ name: "h-stream-1.0/h_stream.py:hidden", type: "file", content: "pwned" }]);
    await expectFailure(["h-stream"], "unsafe-path", refused("h-stream", "h-stream-1.0/h_stream.py:hidden", "its name contains `:`"));
  });

  test("a backslash", async () => {
    await publishSdist("h-backslash", [{ name: "h-backslash-1.0\\..\\..\\evil.py", type: "file", content: "pwned" }]);
    await expectFailure(["h-backslash"], "unsafe-path", refused("h-backslash", "h-backslash-1.0\\..\\..\\evil.py", "its name contains a backslash"));
  });

  test("a NUL byte (only a pax path can carry one) and a control character", async () => {
    await publishSdist("h-nul", [{ name: "h-nul-1.0/plain.py", type: "file", content: "x", pax: { path: "h-nul-1.0/evil.py\0.txt" } }]);
    await expectFailure(["h-nul"], "unsafe-path", refused("h-nul", "h-nul-1.0/evil.py\\x00.txt", "its name contains a NUL byte"));
    await publishSdist("h-control", [{ name: "h-control-1.0/\u001b[2Jevil.py", type: "file", content: "x" }]);
    await expectFailure(["h-control"], "unsafe-path", refused("h-control", "h-control-1.0/\\x1b[2Jevil.py", "its name contains a control character"));
  });

  test("a symlink and a hard link", async () => {
    await publishSdist("h-symlink", [{ name: "h-symlink-1.0/passwd.py", type: "symlink", linkname: "/etc/passwd" }]);
    await expectFailure(["h-symlink"], "unsafe-path", refused("h-symlink", "h-symlink-1.0/passwd.py", "it is a symlink entry; only regular files and folders are installed"));
    await publishSdist("h-hardlink", [{ name: "h-hardlink-1.0/passwd.py", type: "link", linkname: "h-hardlink-1.0/h_hardlink.py" }]);
    await expectFailure(["h-hardlink"], "unsafe-path", refused("h-hardlink", "h-hardlink-1.0/passwd.py", "it is a link entry"));
  });

  test("character and block devices, FIFOs and unknown entry types", async () => {
    const cases: Array<[string, string, string]> = [["h-chardev", "3", "it is a character-device entry"], ["h-blockdev", "4", "it is a block-device entry"], ["h-fifo", "6", "it is a fifo entry"], ["h-volume", "V", "it has an unknown type flag `V`"]];
    for (const [name, typeflag] of cases) publishCrafted(name, [tarEntry({ name: `${name}-1.0/special`, typeflag })]);
    for (const [name, , reason] of cases) await expectFailure([name], "unsafe-path", refused(name, `${name}-1.0/special`, reason));
  });

  test("the same path twice in one archive", async () => {
    await publishSdist("h-twice", [{ name: "h-twice-1.0/h_twice.py", type: "file", content: "SECOND = 1\n" }]);
    await expectFailure(["h-twice"], "unsafe-path", refused("h-twice", "h-twice-1.0/h_twice.py", "the archive holds this path twice"));
  });

  // Within one archive, names that differ only by case are an error, not a warning: on FAT (most devices),
  // macOS and Windows the archive cannot be unpacked as it was on the host, and no real package needs both.
  test("names that differ only by case within one archive", async () => {
    await publishSdist("h-case", [{ name: "h-case-1.0/H_Case.py", type: "file", content: "OTHER = 1\n" }]);
    await expectFailure(["h-case"], "unsafe-path", refused("h-case", "h-case-1.0/H_Case.py", "it differs only by case from `h_case\\.py`: a case-insensitive filesystem .* would make them one file"));
    await publishSdist("h-casedir", [{ name: "h-casedir-1.0/pkg/a.py", type: "file" }, { name: "h-casedir-1.0/Pkg/b.py", type: "file" }]);
    await expectFailure(["h-casedir"], "unsafe-path", refused("h-casedir", "h-casedir-1.0/Pkg/b.py", "its folder `Pkg` differs only by case from the folder `pkg`"));
    await publishSdist("h-filedir", [{ name: "h-filedir-1.0/pkg", type: "file" }, { name: "h-filedir-1.0/pkg/a.py", type: "file" }]);
    await expectFailure(["h-filedir"], "unsafe-path", refused("h-filedir", "h-filedir-1.0/pkg/a.py", "its folder `pkg` is also a file in the archive"));
  });

  test("names of two packages that differ only by case: a warning naming both", async () => {
    await server.addSdist({ name: "case-one", version: "1.0", files: { "shared/Util.py": "A = 1\n", "case_one.py": "" } });
    await server.addSdist({ name: "case-two", version: "1.0", files: { "shared/util.py": "B = 1\n", "case_two.py": "" } });
    const outcome = await expectInstalled(["case-one", "case-two"], ["case_one.py", "case_two.py", "shared/Util.py", "shared/util.py"]);
    assert.match(outcome.stderr, /^warning: `shared\/Util\.py` \(from `case-one`\) and `shared\/util\.py` \(from `case-two`\) differ only by case: on a case-insensitive filesystem \(FAT, as on most devices; macOS; Windows\) they are one file/m);
    assert.equal(JSON.parse(outcome.stdout).warnings.length, 1);
  });
});

describe("limits stop bombs, and each has an option to raise it", { concurrency: 4 }, () => {
  test("unpacked bytes: 64 MiB by default, --max-unpacked-bytes to change it", async () => {
    await publishSdist("bomb-size", [{ name: "bomb-size-1.0/zeros.bin", type: "file", content: Buffer.alloc(65 * 1024 * 1024) }]);
    await expectFailure(["bomb-size"], "limit-exceeded", /^error: `bomb-size 1\.0` \(`bomb-size-1\.0\.tar\.gz`\) unpacks to \d+ bytes, more than the limit of 64 MiB$/m);
    await publishSdist("mid-size", [{ name: "mid-size-1.0/data.bin", type: "file", content: randomText(300 * 1024) }]);
    const small = await expectFailure(["--max-unpacked-bytes", "256KiB", "mid-size"], "limit-exceeded", /unpacks to \d+ bytes, more than the limit of 256 KiB/);
    assert.match(small.stderr, /^hint: .*raise the limit with --max-unpacked-bytes/m);
    await expectInstalled(["--max-unpacked-bytes", "1 MiB", "mid-size"], ["data.bin", "mid_size.py"]);
  });

  test("entries: 10,000 by default, --max-entries to change it", async () => {
    const many = Array.from({ length: 10_001 }, (_, i): ExtraEntry => ({ name: `bomb-entries-1.0/e/${i}.py`, type: "file" }));
    await publishSdist("bomb-entries", many);
    await expectFailure(["bomb-entries"], "limit-exceeded", /^error: `bomb-entries 1\.0` .* has more than 10000 entries$/m);
    const some = Array.from({ length: 30 }, (_, i): ExtraEntry => ({ name: `few-entries-1.0/e/${i}.py`, type: "file" }));
    await publishSdist("few-entries", some);
    const outcome = await expectFailure(["--max-entries", "20", "few-entries"], "limit-exceeded", /has more than 20 entries/);
    assert.match(outcome.stderr, /--max-entries/);
    const result = await install(["--max-entries", "40", "few-entries"]);
    assert.equal(result.code, 0, result.stderr);
  });

  test("compression ratio: 200:1 for archives over 1 MiB, --max-ratio to change it; small repetitive files pass", async () => {
    await publishSdist("bomb-ratio", [{ name: "bomb-ratio-1.0/zeros.bin", type: "file", content: Buffer.alloc(2 * 1024 * 1024) }]);
    const outcome = await expectFailure(["bomb-ratio"], "limit-exceeded", /^error: `bomb-ratio 1\.0` .* is compressed \d+:1 \(\d+ bytes unpack to \d+\), more than the limit of 200:1 for archives over 1 MiB$/m);
    assert.match(outcome.stderr, /--max-ratio/);
    await expectInstalled(["--max-ratio", "1100", "bomb-ratio"], ["bomb_ratio.py", "zeros.bin"]);
    await publishSdist("tiny-ratio", [{ name: "tiny-ratio-1.0/table.py", type: "file", content: "0, ".repeat(200_000) }]);
    await expectInstalled(["tiny-ratio"], ["table.py", "tiny_ratio.py"]);
  });

  test("path length: 255 bytes by default, --max-path-length to change it", async () => {
    const long = `pkg/${"a".repeat(120)}/${"b".repeat(140)}.py`;
    await publishSdist("long-path", [{ name: `long-path-1.0/${long}`, type: "file", content: "" }], { format: "pax" });
    const outcome = await expectFailure(["long-path"], "limit-exceeded", refused("long-path", `long-path-1.0/${long}`, "its path is 268 bytes long, more than the limit of 255"));
    assert.match(outcome.stderr, /--max-path-length/);
    await expectInstalled(["--max-path-length", "300", "long-path"], [long, "long_path.py"]);
  });

  test("metadata size: 16 MiB by default, --max-metadata-bytes to change it", async () => {
    await server.addSdist({ name: "huge-doc", version: "1.0", files: { "huge_doc.py": "" } });
    const document = { ...(await fetchJson(`${server.url}/huge-doc/json`)), padding: "x".repeat(17 * 1024 * 1024) };
    serveDocument("huge-doc", JSON.stringify(document));
    await expectInstalled(["--max-metadata-bytes", "32MiB", "huge-doc"], ["huge_doc.py"]);
    const outcome = await expectFailure(["--max-metadata-bytes", "1k", "solo-meta"], "limit-exceeded", /^error: the metadata `http:\/\/127\.0\.0\.1:\d+\/pypi\/solo-meta\/json` from the index `http:\/\/127\.0\.0\.1:\d+\/pypi` is larger than the limit of 1 KiB$/m);
    assert.match(outcome.stderr, /raise the limit with --max-metadata-bytes/);
  });

  test("metadata size also caps a requires.txt or PKG-INFO read from an archive", async () => {
    const links = path.join(work.dir, "links-requires");
    await mkdir(links, { recursive: true });
    await writeFile(path.join(links, "big-requires-1.0.tar.gz"), await buildSdist({ name: "big-requires", version: "1.0", files: { "big_requires.py": "" }, requires: Array.from({ length: 2000 }, (_, i) => `# comment ${i}`) }));
    const outcome = await expectFailure(["--no-index", "-f", links, "--max-metadata-bytes", "16KiB", "big-requires"], "limit-exceeded", refused("big-requires", "big-requires-1.0/big-requires.egg-info/requires.txt", "it is larger than the limit of 16 KiB for metadata"));
    assert.match(outcome.stderr, /--max-metadata-bytes/);
    await expectInstalled(["--no-index", "-f", links, "big-requires"], ["big_requires.py"]);
  });

  // The test server always sends Content-Length: here the HTTP client refuses the body before reading it.
  test("metadata size: a document declared larger than 16 MiB is refused before it is read", async () => {
    await server.addSdist({ name: "huge-declared", version: "1.0", files: { "huge_declared.py": "" } });
    const document = { ...(await fetchJson(`${server.url}/huge-declared/json`)), padding: "x".repeat(17 * 1024 * 1024) };
    serveDocument("huge-declared", JSON.stringify(document));
    await expectFailure(["huge-declared"], "limit-exceeded", /^error: the metadata `http:\/\/127\.0\.0\.1:\d+\/pypi\/huge-declared\/json` from the index `http:\/\/127\.0\.0\.1:\d+\/pypi` is larger than the limit of 16 MiB$/m);
  });

  test("a limit option takes a whole number or a size with a binary unit", async () => {
    for (const [option, value] of [["--max-unpacked-bytes", "12XB"], ["--max-unpacked-bytes", "0"], ["--max-metadata-bytes", "-1"], ["--max-entries", "1.5"], ["--max-ratio", "0"], ["--max-path-length", "x"]] as const) {
      const result = await runMpip(["install", option, value, "solo"]);
      assert.equal(result.code, 2, `${option} ${value}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`${option} must be`));
    }
  });
});

describe("malformed metadata names the index, the document and the field", { concurrency: 4 }, () => {
  const where = (name: string) => `the metadata \`http://127\\.0\\.0\\.1:\\d+/pypi/${name}/json\` from the index \`http://127\\.0\\.0\\.1:\\d+/pypi\``;
  const invalid = (name: string, field: string, problem: string) => new RegExp(`^error: ${where(name)} is invalid: field \`${escape(field)}\` ${problem}$`, "m");

  /**
   * A valid document for `name` pointing at a real sdist of `name` (holding `solo_meta.py`, as `solo-meta`'s
   * does), changed by `edit`; `raw` replaces "RAW". The sdist is `name`'s own: one of another package
   * is refused for that (test/install-metadata-identity.test.ts).
   */
  async function serveEdited(name: string, edit: (doc: any) => void, raw?: string): Promise<void> {
    await server.addSdist({ name, version: "1.0", files: { "solo_meta.py": "" } });
    const doc = await fetchJson(`${server.url}/${name}/json`);
    edit(doc);
    const text = JSON.stringify(doc);
    serveDocument(name, raw === undefined ? text : text.replace('"RAW"', raw));
  }

  test("the unedited document installs (the baseline for the cases below)", async () => {
    await serveEdited("m-baseline", () => undefined);
    await expectInstalled(["m-baseline"], ["solo_meta.py"]);
  });

  test("invalid JSON", async () => {
    serveDocument("m-json", '{"info": {"name": "m-json", "version": "1.0"}, "releases": {');
    await expectFailure(["m-json"], "bad-metadata", new RegExp(`^error: ${where("m-json")} is not valid JSON \\(`, "m"));
    serveDocument("m-html", "<html><body>Service Unavailable</body></html>");
    await expectFailure(["m-html"], "bad-metadata", new RegExp(`^error: ${where("m-html")} is not valid JSON`, "m"));
  });

  test("wrong types", async () => {
    serveDocument("m-array", "[]");
    await expectFailure(["m-array"], "bad-metadata", invalid("m-array", "(the whole document)", "must be an object, not an array"));
    await serveEdited("m-releases", (doc) => (doc.releases = ["1.0"]));
    await expectFailure(["m-releases"], "bad-metadata", invalid("m-releases", "releases", "must be an object, not an array"));
    await serveEdited("m-yanked", (doc) => (doc.releases["1.0"][0].yanked = "no"));
    await expectFailure(["m-yanked"], "bad-metadata", invalid("m-yanked", 'releases["1.0"][0].yanked', "must be boolean, not the string \"no\""));
    await serveEdited("m-filename-type", (doc) => (doc.releases["1.0"][0].filename = "RAW"), "1e999");
    await expectFailure(["m-filename-type"], "bad-metadata", invalid("m-filename-type", 'releases["1.0"][0].filename', "must be string, not the number Infinity"));
    await serveEdited("m-name", (doc) => (doc.info.name = "evil\u001b[2J name"));
    await expectFailure(["m-name"], "bad-metadata", invalid("m-name", "info.name", "must be a project name \\(letters, digits, `\\.`, `_`, `-`\\)"));
  });

  test("missing fields", async () => {
    await serveEdited("m-no-info", (doc) => delete doc.info);
    await expectFailure(["m-no-info"], "bad-metadata", invalid("m-no-info", "info", "is missing"));
    await serveEdited("m-no-url", (doc) => delete doc.releases["1.0"][0].url);
    await expectFailure(["m-no-url"], "bad-metadata", invalid("m-no-url", 'releases["1.0"][0].url', "is missing"));
    await serveEdited("m-no-filename", (doc) => delete doc.releases["1.0"][0].filename);
    await expectFailure(["m-no-filename"], "bad-metadata", invalid("m-no-filename", 'releases["1.0"][0].filename', "is missing"));
    await serveEdited("m-no-version", (doc) => {
      delete doc.releases;
      delete doc.info.version;
    });
    await expectFailure(["m-no-version"], "bad-metadata", invalid("m-no-version", "info.version", "is missing, and there is no `releases` to choose from"));
  });

  test("invalid versions", async () => {
    await serveEdited("m-bad-version", (doc) => {
      delete doc.releases;
      doc.info.version = "1.0/../../admin";
    });
    await expectFailure(["m-bad-version"], "bad-metadata", invalid("m-bad-version", "info.version", "is not a valid version \\(PEP 440\\): `1\\.0/\\.\\./\\.\\./admin`"));
    await serveEdited("m-no-valid", (doc) => {
      doc.releases = { "not a version": doc.releases["1.0"], "\ud800": [] };
    });
    await expectFailure(["m-no-valid"], "bad-metadata", invalid("m-no-valid", "releases", "lists no valid version \\(PEP 440\\), only `not a version`, `\\\\u\\{d800\\}`"));
    // Like pip: a valid release is still found among invalid ones.
    await serveEdited("m-some-valid", (doc) => (doc.releases["nonsense"] = []));
    await expectInstalled(["m-some-valid"], ["solo_meta.py"]);
  });

  test("a filename with path separators, a URL that is not http(s), a digest that is not hex", async () => {
    await serveEdited("m-filename", (doc) => (doc.releases["1.0"][0].filename = "../../evil.tar.gz"));
    await expectFailure(["m-filename"], "bad-metadata", invalid("m-filename", 'releases["1.0"][0].filename', "must be a plain file name without path separators"));
    await serveEdited("m-backslash", (doc) => (doc.releases["1.0"][0].filename = "..\\evil.tar.gz"));
    await expectFailure(["m-backslash"], "bad-metadata", invalid("m-backslash", 'releases["1.0"][0].filename', "must be a plain file name without path separators"));
    await serveEdited("m-file-url", (doc) => (doc.releases["1.0"][0].url = "file:///etc/passwd"));
    await expectFailure(["m-file-url"], "bad-metadata", invalid("m-file-url", 'releases["1.0"][0].url', "must be an http or https URL"));
    await serveEdited("m-bad-url", (doc) => (doc.releases["1.0"][0].url = "http://[::1"));
    await expectFailure(["m-bad-url"], "bad-metadata", invalid("m-bad-url", 'releases["1.0"][0].url', "must be an http or https URL"));
    await serveEdited("m-digest", (doc) => (doc.releases["1.0"][0].digests.sha256 = "not-hex"));
    await expectFailure(["m-digest"], "bad-metadata", invalid("m-digest", 'releases["1.0"][0].digests.sha256', "must be 64 hex digits"));
  });

  test("deep nesting and huge numbers are only wrong types", async () => {
    await serveEdited("m-deep", (doc) => (doc.releases["1.0"][0].digests = "RAW"), "[".repeat(100_000) + "]".repeat(100_000));
    await expectFailure(["m-deep"], "bad-metadata", invalid("m-deep", 'releases["1.0"][0].digests', "must be an object, not an array"));
    serveDocument("m-number", "1e99999");
    await expectFailure(["m-number"], "bad-metadata", invalid("m-number", "(the whole document)", "must be Object, not the number Infinity"));
  });
});

describe("truncated, corrupt and non-gzip archives, bad tar headers, trailing garbage: an error, nothing written", { concurrency: 4 }, () => {
  const corrupt = (name: string, reason: string) => new RegExp(`^error: \`${name} 1\\.0\` \\(\`${name}-1\\.0\\.tar\\.gz\`\\) is not a valid \\.tar\\.gz archive: ${reason}`, "m");
  const good = (name: string) => buildSdist({ name, version: "1.0", files: { [module(name)]: "X = 1\n".repeat(50), "pkg/data.txt": randomText(3000) } });

  test("a truncated gzip stream", async () => {
    const bytes = await good("c-truncated");
    publishBytes("c-truncated", bytes.subarray(0, bytes.length >> 1));
    await expectFailure(["c-truncated"], "archive-corrupt", corrupt("c-truncated", "gzip stream is truncated"));
    publishBytes("c-no-trailer", (await good("c-no-trailer")).subarray(0, -4));
    await expectFailure(["c-no-trailer"], "archive-corrupt", corrupt("c-no-trailer", "gzip stream is truncated \\(trailer missing\\)"));
  });

  test("a corrupt deflate stream and a wrong CRC", async () => {
    const bytes = await good("c-deflate");
    for (let i = 40; i < 60; i++) bytes[i]! ^= 0x5a;
    publishBytes("c-deflate", bytes);
    await expectFailure(["c-deflate"], "archive-corrupt", corrupt("c-deflate", "(deflate|gzip)"));
    const crc = await good("c-crc");
    crc[crc.length - 8]! ^= 0xff;
    publishBytes("c-crc", crc);
    await expectFailure(["c-crc"], "archive-corrupt", corrupt("c-crc", "its gzip layer does not inflate \\(incorrect data check\\)"));
  });

  test("not gzip at all: a plain tar, a zip, an HTML page", async () => {
    publishBytes("c-plain-tar", buildSdistTar({ name: "c-plain-tar", version: "1.0", files: { "c_plain_tar.py": "" } }));
    await expectFailure(["c-plain-tar"], "archive-corrupt", corrupt("c-plain-tar", "not a gzip stream \\(bad magic bytes\\)"));
    publishBytes("c-zip", Buffer.from("PK\u0003\u0004 not really a zip"));
    await expectFailure(["c-zip"], "archive-corrupt", corrupt("c-zip", "not a gzip stream"));
    publishBytes("c-html", Buffer.from("<html>404</html>"));
    await expectFailure(["c-html"], "archive-corrupt", corrupt("c-html", "not a gzip stream"));
  });

  test("a tar header with a bad checksum", async () => {
    const tar = buildSdistTar({ name: "c-checksum", version: "1.0", files: { "c_checksum.py": "X = 1\n" } });
    const last = headerOffsets(tar).at(-1)!;
    tar[last + 10]! ^= 0x01; // the name changes, the stored checksum does not
    publishBytes("c-checksum", gzipReproducible(tar));
    await expectFailure(["c-checksum"], "archive-corrupt", corrupt("c-checksum", `the tar header at byte ${last} has a bad checksum`));
  });

  test("header fields that are not numbers: a negative size, a size that is not octal", async () => {
    const negative = Buffer.alloc(12, 0xff);
    publishCrafted("c-negative", [tarEntry({ name: "c-negative-1.0/x.py", size: negative })]);
    await expectFailure(["c-negative"], "archive-corrupt", corrupt("c-negative", "the size of the tar header at byte 1536 is negative"));
    publishCrafted("c-octal", [tarEntry({ name: "c-octal-1.0/x.py", size: "00000000009\0" })]);
    await expectFailure(["c-octal"], "archive-corrupt", corrupt("c-octal", "the size of the tar header at byte 1536 is not an octal number"));
    publishCrafted("c-huge", [tarEntry({ name: "c-huge-1.0/x.py", size: "77777777777\0" })]);
    await expectFailure(["c-huge"], "archive-corrupt", corrupt("c-huge", "the tar is truncated: it ends in the middle of the data of an entry"));
  });

  test("a header in no tar format, a malformed pax record, a folder that carries data", async () => {
    publishCrafted("c-format", [tarEntry({ name: "c-format-1.0/x.py", magic: Buffer.alloc(8) })]);
    await expectFailure(["c-format"], "archive-corrupt", corrupt("c-format", "the tar header at byte 1536 is in an unknown format"));
    publishCrafted("c-pax", [tarEntry({ name: "././@PaxHeader", typeflag: "x" }, "99 path=short\n"), tarEntry({ name: "c-pax-1.0/x.py" })]);
    await expectFailure(["c-pax"], "archive-corrupt", corrupt("c-pax", "the pax header at byte 1536 of the tar has a malformed record"));
    publishCrafted("c-dirdata", [tarEntry({ name: "c-dirdata-1.0/pkg/", typeflag: "5" }, "hidden.py data")]);
    await expectFailure(["c-dirdata"], "archive-corrupt", corrupt("c-dirdata", "the directory entry at byte 1536 of the tar claims 14 bytes of data"));
    publishCrafted("c-dangling", [tarEntry({ name: "././@PaxHeader", typeflag: "x" }, paxData({ path: "c-dangling-1.0/y.py" }))]);
    await expectFailure(["c-dangling"], "archive-corrupt", corrupt("c-dangling", "the extended header at byte 1536 of the tar is not followed by an entry"));
  });

  test("trailing garbage after the gzip stream, and after the tar's end-of-archive marker", async () => {
    publishBytes("c-gzip-tail", Buffer.concat([await good("c-gzip-tail"), Buffer.from("garbage")]));
    await expectFailure(["c-gzip-tail"], "archive-corrupt", /^error: `c-gzip-tail 1\.0` .* has 7 bytes of trailing data after its gzip stream$/m);
    publishBytes("c-two-members", Buffer.concat([await good("c-two-members"), gzipSync(Buffer.alloc(1024))]));
    await expectFailure(["c-two-members"], "archive-corrupt", /has \d+ bytes of trailing data after its gzip stream/);
    // Entries after the end marker are hidden from `tar -t` and Python's tarfile: never install them.
    const hidden = Buffer.concat([tarEnd(), tarEntry({ name: "c-tar-tail-1.0/hidden.py" }, "EVIL = 1\n"), tarEnd()]);
    publishCrafted("c-tar-tail", [], { end: hidden });
    await expectFailure(["c-tar-tail"], "archive-corrupt", corrupt("c-tar-tail", "it has data after the tar's end-of-archive marker \\(at byte 2560 of the tar\\)"));
    publishCrafted("c-tar-junk", [], { end: Buffer.concat([tarEnd(), Buffer.from("junk")]) });
    await expectFailure(["c-tar-junk"], "archive-corrupt", corrupt("c-tar-junk", "it has data after the tar's end-of-archive marker"));
  });

  test("a tar cut short inside a valid gzip: mid-entry, and without its end-of-archive marker", async () => {
    const tar = buildSdistTar({ name: "c-cut", version: "1.0", files: { "c_cut.py": "X = 1\n".repeat(200) } });
    publishBytes("c-cut", gzipReproducible(tar.subarray(0, headerOffsets(tar).at(-1)! + 700)));
    await expectFailure(["c-cut"], "archive-corrupt", corrupt("c-cut", "the tar is truncated: it ends in the middle of the data of an entry"));
    const whole = buildSdistTar({ name: "c-no-end", version: "1.0", files: { "c_no_end.py": "X = 1\n" } });
    publishBytes("c-no-end", gzipReproducible(whole.subarray(0, whole.length - 1024)));
    await expectFailure(["c-no-end"], "archive-corrupt", corrupt("c-no-end", "the tar ends at byte \\d+ without its end-of-archive marker"));
    publishBytes("c-empty", gzipReproducible(Buffer.alloc(0)));
    await expectFailure(["c-empty"], "archive-corrupt", corrupt("c-empty", "the tar inside is empty"));
  });

  test("a corrupt archive among good ones: nothing of any of them is written", async () => {
    const tar = buildSdistTar({ name: "c-among", version: "1.0", files: { "c_among.py": "" } });
    tar[headerOffsets(tar).at(-1)! + 148] = 0x39; // "9" is no octal digit
    publishBytes("c-among", gzipReproducible(tar));
    await server.addSdist({ name: "good-among", version: "1.0", files: { "good_among.py": "" }, requires: ["c-among"] });
    // A dependency's: the error names the package that required it.
    await expectFailure(["good-among"], "archive-corrupt", new RegExp(`^error: while getting \`c-among\` \\(required by \`good-among 1\\.0\`\\): \`c-among 1\\.0\` \\(\`c-among-1\\.0\\.tar\\.gz\`\\) is not a valid \\.tar\\.gz archive: the tar header at byte \\d+ has a bad checksum`, "m"));
  });
});

function serveDocument(name: string, body: string): void {
  server.routes.unshift({
    name: `document ${name}`,
    pattern: new RegExp(`^/pypi/${escape(name)}/json$`),
    handle: () => ({ status: 200, headers: { "Content-Type": "application/json" }, body: Buffer.from(body) }),
  });
}

async function fetchJson(url: string): Promise<any> {
  const response = await fetch(url);
  return response.json();
}

/** Text that compresses about 2:1, deterministic. */
function randomText(size: number): Buffer {
  let state = 12345;
  return Buffer.from(Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return 97 + ((state >>> 16) % 26);
  }));
}
