// Text from documents, archives and file names never reaches the terminal raw: every command's output
// (the install summary, -v detail, warnings, errors with their causes and hints, check, repack, pack) is
// checked with escape sequences, C1 controls, carriage returns, direction overrides, line separators, lone
// surrogates and a newline that tries to forge an `error:` line, planted in every field that is printed.
// The only control characters allowed through are newlines and mpip's own colour codes (FORCE_COLOR=1).
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { notFound, startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { buildSdist } from "../helpers/sdist.js";
import { writeTree } from "../helpers/expect.js";

/** Clears the screen, retitles the window, returns the carriage, reverses the text, forges a line. */
const FORGED = "error: forged by the package";
const HOSTILE_NAME = `\x1b[2J\x1b]0;pwned\x07\rX\u202eY\x9b31m\x7f\u2028\n${FORGED}`;
/** The same, with a lone surrogate (possible in JSON, not in a file name). */
const HOSTILE = `${HOSTILE_NAME}\ud800`;

/** mpip's own styles (src/text.ts), the only escape sequences it may write. */
const OWN_SGR = /\x1b\[(?:1|2|22|31|32|33|36|39)m/g;
const RAW_CONTROL = /[\0-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assertNoRawControls(text: string, where: string): void {
  const stripped = text.replace(OWN_SGR, "");
  const found = RAW_CONTROL.exec(stripped);
  if (found !== null) {
    const around = JSON.stringify(stripped.slice(Math.max(0, found.index - 60), found.index + 60));
    assert.fail(`${where} holds a raw ${JSON.stringify(found[0])}: ${around}`);
  }
  assert.doesNotMatch(stripped, new RegExp(`^${FORGED}`, "m"), `${where} lets a name start a line of its own`);
}

function assertClean(result: RunResult, what: string): void {
  assertNoRawControls(result.stderr, `${what}: stderr`);
  assertNoRawControls(result.stdout, `${what}: stdout`);
  assert.doesNotMatch(result.stderr, /This is a bug in mpip/);
}

/** The hostile text, as mpip shows it: escaped, visible, on the line it belongs to. */
function assertShownEscaped(output: string, what: string): void {
  assert.ok(output.includes("\\x1b[2J"), `${what} does not show the escape sequence escaped:\n${output}`);
}

const MODES: Array<{ name: string; args: string[]; env?: NodeJS.ProcessEnv }> = [
  { name: "plain", args: [] },
  { name: "-v", args: ["-v"] },
  { name: "FORCE_COLOR=1 -v", args: ["-v"], env: { FORCE_COLOR: "1", NO_COLOR: "" } },
  { name: "--json", args: ["--json"] },
];

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
const raw = new Map<string, { type: string; body: Buffer }>();

before(async () => {
  work = await tempDir("mpip-escapes-");
  server = await startIndexServer();
  server.routes.unshift({
    name: "raw",
    pattern: /^\/raw\/(.+)$/,
    handle: ({ match }) => {
      const entry = raw.get(decodeURIComponent(match[1]!));
      return entry === undefined ? notFound() : { status: 200, headers: { "Content-Type": entry.type }, body: entry.body };
    },
  });
  mip = serveMipIndex(server);

  // A v2 index whose package document declares a hostile version, with a file it gives no hash for.
  await mip.publish({ name: "shady", version: "1.0", files: { "shady.py": "X = 1\n" }, description: HOSTILE, mpy: false });
  const document = mip.document("py", "shady", "1.0")!;
  raw.set("shady-extra.py", { type: "text/plain", body: Buffer.from("Y = 2\n") });
  const hostileDocument = { ...document, version: `1.0${HOSTILE}`, urls: [["shady_extra.py", `${server.origin}/raw/shady-extra.py`]] };
  mip.setRaw(mip.documentPath("py", "shady", "1.0"), hostileDocument);
  mip.setRaw(mip.documentPath("py", "shady"), hostileDocument);

  // A package.json named by URL, in a folder whose name (the package's name until it says otherwise) is hostile.
  raw.set(`${HOSTILE_NAME}/package.json`, { type: "application/json", body: Buffer.from(JSON.stringify({ version: HOSTILE, urls: [["named.py", "named.py"]] })) });
  raw.set(`${HOSTILE_NAME}/named.py`, { type: "text/plain", body: Buffer.from("Z = 3\n") });

  // PyPI JSON: a file name with a direction override (an index may list one), served without a digest.
  const sdist = await buildSdist({ name: "turned", version: "1.0", files: { "turned.py": "T = 1\n" } });
  server.addFile("turned", "1.0", { filename: "turned-1.0\u202e.tar.gz", body: sdist, sha256: null });

  // An sdist whose requires.txt holds a hostile line: the install fails on it, quoting it.
  await server.addSdist({ name: "badreq", version: "1.0", files: { "badreq.py": "B = 1\n" }, requires: [`dep${HOSTILE_NAME}`] });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

async function install(mode: (typeof MODES)[number], ...args: string[]): Promise<RunResult> {
  const target = path.join(work.dir, `image-${Math.random().toString(36).slice(2)}`);
  return runMpip(["install", "-p", target, ...mode.args, ...args], mode.env === undefined ? {} : { env: mode.env });
}

/**
 * `install --json -i INDEX turned`, made once: the --json case of the file-name test and the JSON
 * documents test check different things of the same run.
 */
let turnedJson: Promise<RunResult> | undefined;
const installTurnedJson = () => (turnedJson ??= install(MODES.find((mode) => mode.name === "--json")!, "-i", server.url, "turned"));

describe("hostile text in what install prints", () => {
  for (const mode of MODES) {
    test(`a v2 package document's version and a file it gives no hash for (${mode.name})`, async () => {
      // Named by its URL as the index's latest document (no version of its own to be held to), it installs at the version it declares.
      const result = await install(mode, "--no-index", `${mip.base}/${mip.documentPath("py", "shady")}`);
      assert.equal(result.code, 0, result.stderr);
      assertClean(result, "v2 document");
      if (mode.name === "--json") {
        const report = JSON.parse(result.stdout) as { packages: Array<{ version: string }>; warnings: string[] };
        assert.equal(report.packages[0]!.version, `1.0${HOSTILE}`, "the report keeps the exact value");
        // The document itself (named by a URL with no `#sha256=`) and the file it gives no hash for.
        assert.equal(report.warnings.length, 2);
      } else {
        assertShownEscaped(result.stderr, "the summary");
        assert.match(result.stderr, /^warning: .*`shady_extra\.py` of `shady` \(`latest\.json`\)/m);
      }
    });

    test(`a v2 package document listed as 1.0 that declares a hostile version: refused, quoting it escaped (${mode.name})`, async () => {
      const result = await install(mode, "-i", mip.base, "shady");
      assert.equal(result.code, 1, result.stderr);
      assertClean(result, "v2 document's version");
      if (mode.name === "--json") {
        const { message } = (JSON.parse(result.stdout) as { error: { message: string } }).error;
        assert.ok(message.includes("is not the package it was fetched as") && message.includes("says version `1.0\\x1b[2J"), message);
      }
      else {
        assertShownEscaped(result.stderr, "the error");
        assert.match(result.stderr, /^error: `shady 1\.0` \(`1\.0\.json`\) is not the package it was fetched as/m);
      }
    });

    test(`a package.json URL whose folder name and version are hostile (${mode.name})`, async () => {
      const url = `${server.origin}/raw/${encodeURIComponent(HOSTILE_NAME)}/package.json`;
      const result = await install(mode, "--no-index", url);
      assert.equal(result.code, 0, result.stderr);
      assertClean(result, "direct package.json");
      if (mode.name !== "--json") assertShownEscaped(result.stderr, "the summary");
    });

    test(`a PyPI file name with a direction override and no digest (${mode.name})`, async () => {
      const result = await (mode.name === "--json" ? installTurnedJson() : install(mode, "-i", server.url, "turned"));
      assert.equal(result.code, 0, result.stderr);
      assertClean(result, "PyPI file name");
      if (mode.name === "--json") assert.equal((JSON.parse(result.stdout) as { packages: Array<{ filename: string }> }).packages[0]!.filename, "turned-1.0\u202e.tar.gz");
      else assert.match(result.stderr, /turned-1\.0\\u\{202e\}\.tar\.gz/);
    });

    test(`a failing install quoting a hostile requires.txt line (${mode.name})`, async () => {
      const result = await install(mode, "-i", server.url, "badreq");
      assert.equal(result.code, 1, result.stderr);
      assertClean(result, "failed install");
      assertShownEscaped(result.stderr, "the error");
      if (mode.name === "--json") assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, "bad-requirement");
    });
  }

  test("a hostile spec and -r file name are quoted escaped in usage errors", async () => {
    const file = path.join(work.dir, `reqs${HOSTILE_NAME.replace(/\n/g, "")}.txt`);
    await writeFile(file, `ok\nfoo${HOSTILE_NAME.replace(/\n/g, "")}>=\n`);
    for (const mode of MODES) {
      for (const args of [["-r", file], [`x${HOSTILE}`], ["-r", path.join(work.dir, `missing${HOSTILE_NAME}`)]]) {
        const result = await install(mode, "--no-index", "-f", work.dir, ...args);
        assert.equal(result.code, 2, result.stderr);
        assertClean(result, `usage error (${mode.name})`);
      }
    }
  });
});

describe("hostile file names in what pack, repack and check print", () => {
  const colours = [{}, { FORCE_COLOR: "1", NO_COLOR: "" }];

  test("check and repack name an archive whose file name is hostile", async () => {
    const dir = path.join(work.dir, "archives");
    const archive = path.join(dir, `evil${HOSTILE_NAME.replace(/[\n\r]/g, "")}-1.0.tar.gz`);
    await mkdir(dir, { recursive: true });
    await writeFile(archive, await buildSdist({ name: "evil", version: "1.0", files: { "evil.py": "E = 1\n", "setup.py": "" } }));
    for (const env of colours) {
      const check = await runMpip(["check", archive], { env });
      assert.equal(check.code, 1, check.stderr);
      assertClean(check, "check");
      assertShownEscaped(check.stdout, "check's report");
      const repack = await runMpip(["repack", "-v", "-o", path.join(dir, "out"), archive], { env });
      assertClean(repack, "repack");
      const checkJson = await runMpip(["check", "--json", archive], { env });
      assertClean(checkJson, "check --json");
      assert.equal((JSON.parse(checkJson.stdout) as { archives: Array<{ archive: string }> }).archives[0]!.archive, archive);
    }
  });

  test("pack -v lists a data file whose name is hostile", async () => {
    const project = path.join(work.dir, "project");
    await writeTree(project, {
      "pyproject.toml": '[project]\nname = "evilpack"\nversion = "1.0"\n',
      "evilpack/__init__.py": "",
      [`evilpack/data${HOSTILE_NAME.replace(/[\n\r]/g, "")}.txt`]: "data\n",
    });
    for (const env of colours) {
      for (const args of [["-v"], ["--json"]]) {
        const result = await runMpip(["pack", ...args, "-o", path.join(work.dir, "packed"), project], { env });
        assertClean(result, `pack ${args.join(" ")}`);
      }
    }
  });
});

describe("JSON documents", () => {
  test("--json escapes C1 controls and direction overrides as \\u escapes, and keeps the values", async () => {
    const result = await installTurnedJson();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.includes("turned-1.0\\u202e.tar.gz"), result.stdout);
    assertNoRawControls(result.stdout, "stdout");
  });
});
