// A seeded fuzz test of the text mpip reads from users and documents (test/fuzz.test.ts covers archives):
// specs, requirement lines (requires.txt, PKG-INFO Requires-Dist, -r files), versions (in specifiers, in an
// index's releases, in find-links and simple file names, in a v2 index's `versions`) and documents of every
// source kind (PyPI JSON, simple JSON and HTML, v2 index.json, package documents and package.json). Every
// case must end in a result or an MpipError, never another exception, and an error's message must not
// carry raw control characters or lone surrogates from the input. Most cases run in-process, through the
// same functions an install calls (sources are given a fake HTTP client that serves the case's document);
// a handful run the built CLI against a real index server, and a few install from a find-links folder.
// The run is bounded by case counts, never by time. MPIP_FUZZ_SEED=<n> replays a run.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, beforeEach, describe, test } from "node:test";
import { MpipError } from "../src/errors.js";
import type { HttpClient } from "../src/http.js";
import { install } from "../src/install.js";
import { Reporter } from "../src/log.js";
import { Pool } from "../src/pool.js";
import { resolve, type Request } from "../src/resolve/resolve.js";
import { selectRelease } from "../src/resolve/select.js";
import { parseArchiveName } from "../src/sources/find-links.js";
import { DEFAULT_GIT_HOSTS } from "../src/sources/git-hosts.js";
import { MipV2Source } from "../src/sources/mip-v2.js";
import { dependenciesOf, parsePackageDocument, planPackageFiles } from "../src/sources/package-json.js";
import { PypiJsonSource } from "../src/sources/pypi-json.js";
import { SimpleSource } from "../src/sources/simple.js";
import type { Artifact, ProjectListing, Source } from "../src/sources/types.js";
import { evaluateMarker } from "../src/spec/markers.js";
import { parseMipDependency, parsePackageSpec, type PackageSpec } from "../src/spec/package-spec.js";
import { parseRequirement } from "../src/spec/requirement.js";
import { parseRequirementsFile } from "../src/spec/requirements-file.js";
import { parseRequiresDist, parseRequiresTxt } from "../src/spec/requires.js";
import { BIN, tempDir, childEnv } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { prng } from "./helpers/prng.js";
import { buildSdist } from "./helpers/sdist.js";

const SEED = seedFrom(process.env.MPIP_FUZZ_SEED) ?? 0x7e57ed;
/** In-process cases per kind (specs, requirement files, versions, each document kind). */
const CASES = 500;
const INSTALL_CASES = 24;
const CLI_CASES = 6;

function seedFrom(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  assert.ok(Number.isInteger(value), `MPIP_FUZZ_SEED must be an integer, not ${text}`);
  return value >>> 0;
}

// ---------------------------------------------------------------------------------------------------------
// randomness: one stream per case, so that any case can be replayed alone

type Rng = () => number;
const caseRng = (stream: number, index: number): Rng => prng(Math.imul(SEED ^ 0x85ebca6b, 31) + Math.imul(stream, 1_000_003) + index);
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number): boolean => rng() < p;
const some = <T>(rng: Rng, lo: number, hi: number, make: () => T): T[] => Array.from({ length: int(rng, lo, hi) }, make);

// ---------------------------------------------------------------------------------------------------------
// hostile text

/** Mostly small numbers, else one at an edge the PEP 440 library has: 2^53, 10^21, leading zeros. */
function number(rng: Rng): string {
  if (chance(rng, 0.8)) return String(int(rng, 0, chance(rng, 0.8) ? 20 : 99_999));
  return pick(rng, [
    () => String(int(rng, 0, 20)),
    () => String(int(rng, 0, 99_999)),
    () => "007",
    () => "9007199254740991",
    () => "9007199254740993",
    () => "1".repeat(int(rng, 17, 40)),
    () => `1${"0".repeat(int(rng, 20, 30))}`,
    () => `${"0".repeat(int(rng, 20, 30))}1`,
  ])();
}

/** Pieces that break parsers: separators of every grammar mpip reads, escapes, bidi and invisible characters. */
const SHARDS = ["\u0000", "\ud800", "\udc00", "\u202e", "\u200b", "\ufeff", "\u001b[2J", "%zz", "%E0%A4", " ", ",", ";", "@", "[", "]", "(", ")", '"', "'", "*", ".*", "+", "!", "#", "\n", "\r", "\t", "\\", "/", ":", "..", "==", "<", ">", "~=", "===", "http://[", "https://", ":70000"];

function mangle(rng: Rng, text: string): string {
  let out = text;
  for (let i = int(rng, 1, 3); i > 0; i--) {
    const at = int(rng, 0, out.length);
    const shard = chance(rng, 0.1) ? number(rng) : chance(rng, 0.02) ? "x".repeat(int(rng, 10_001, 12_000)) : pick(rng, SHARDS);
    out = chance(rng, 0.2) ? out.slice(0, at) + out.slice(at + int(rng, 1, 4)) : out.slice(0, at) + shard + out.slice(at);
  }
  return out;
}

function version(rng: Rng): string {
  let text = "";
  if (chance(rng, 0.08)) text += `${number(rng)}!`;
  text += some(rng, 1, 4, () => number(rng)).join(".");
  if (chance(rng, 0.2)) text += pick(rng, ["a", "b", "rc", "alpha", ".pre", "-c"]) + (chance(rng, 0.8) ? number(rng) : "");
  if (chance(rng, 0.2)) text += pick(rng, [".post", "-", "post", "r", ".rev"]) + number(rng);
  if (chance(rng, 0.15)) text += pick(rng, [".dev", "dev"]) + (chance(rng, 0.8) ? number(rng) : "");
  if (chance(rng, 0.15)) text += `+${some(rng, 1, 3, () => pick(rng, [number(rng), "abc", "0x1f", "1e5", "ubuntu"])).join(pick(rng, [".", "-", "_"]))}`;
  if (chance(rng, 0.05)) text = `v${text}`;
  return chance(rng, 0.1) ? mangle(rng, text) : text;
}

function specifier(rng: Rng): string {
  const clause = () => {
    const op = pick(rng, ["==", "!=", "<", "<=", ">", ">=", "~=", "==="]);
    return `${op}${pick(rng, ["", " "])}${version(rng)}${op.length === 2 && op.endsWith("=") && chance(rng, 0.15) ? ".*" : ""}`;
  };
  const text = some(rng, 1, 3, clause).join(pick(rng, [",", ", "]));
  return chance(rng, 0.08) ? mangle(rng, text) : text;
}

function marker(rng: Rng, depth = 0): string {
  if (depth < 3 && chance(rng, 0.3)) return `${marker(rng, depth + 1)} ${pick(rng, ["and", "or"])} ${marker(rng, depth + 1)}`;
  if (depth < 3 && chance(rng, 0.15)) return `(${marker(rng, depth + 1)})`;
  const variable = pick(rng, ["python_version", "python_full_version", "implementation_version", "sys_platform", "extra", "platform_release", "os.name"]);
  const value = `"${chance(rng, 0.6) ? version(rng) : pick(rng, ["micropython", "linux", "", "3.*", "test"])}"`;
  const op = pick(rng, ["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in"]);
  const atom = chance(rng, 0.5) ? `${variable} ${op} ${value}` : `${value} ${op} ${variable}`;
  return chance(rng, 0.05) ? mangle(rng, atom) : atom;
}

function name(rng: Rng): string {
  return chance(rng, 0.9) ? pick(rng, ["lib", "Foo_Bar", "micropython-x", "a.b", "pkg"]) : mangle(rng, "pkg");
}

function url(rng: Rng): string {
  const file = pick(rng, [`pkg-${version(rng)}.tar.gz`, "mod.py", "mod.mpy", "package.json", "dir", "dir/", "", `%E0%A4-1.0.tar.gz`, "x%zz.py"]);
  const host = pick(rng, ["h.invalid", "[::1]", `h.invalid:${int(rng, 0, 99_999)}`, "u:p%zz@h.invalid", "999.999.999.999.999", "", "[", "xn--", "h.invalid:"]);
  const text = pick(rng, [
    () => `${pick(rng, ["http", "https", "HTTPS", "ftp", "file"])}://${host}/${file}`,
    () => `https://h.invalid/${file}#sha256=${pick(rng, ["0".repeat(64), "zz", ""])}`,
    () => `${pick(rng, ["github", "gitlab", "codeberg"])}:${pick(rng, ["o/r", "o", "o/r/p/m.py", "o\ud800/r", "o/../r", "o/r/"])}${chance(rng, 0.5) ? `@${pick(rng, ["v1", "", "a..b", "x?y", "\udc00", "feature/x"])}` : ""}`,
    () => pick(rng, ["http://[", "https://", "http://host:70000/x.tar.gz", "https://[::1/x.py", "http://a b/x.py"]),
  ])();
  return chance(rng, 0.1) ? mangle(rng, text) : text;
}

function requirementLine(rng: Rng): string {
  let text = name(rng);
  if (chance(rng, 0.15)) text += `[${some(rng, 0, 2, () => pick(rng, ["extra", "a-b", "", "x y"])).join(",")}]`;
  if (chance(rng, 0.15)) text += ` @ ${url(rng)}`;
  else if (chance(rng, 0.6)) text += chance(rng, 0.2) ? ` (${specifier(rng)})` : specifier(rng);
  if (chance(rng, 0.35)) text += `; ${marker(rng)}`;
  if (chance(rng, 0.1)) text += "  # a comment";
  return chance(rng, 0.15) ? mangle(rng, text) : text;
}

function spec(rng: Rng): string {
  return pick(rng, [
    () => requirementLine(rng),
    () => requirementLine(rng),
    () => url(rng),
    () => `${name(rng)}@${pick(rng, [version(rng), "latest", "", "\ud800"])}`,
    () => pick(rng, ["./nothing-1.0.tar.gz", "~/nothing/here", "a/b", "./", "nul\u0000.py", "../x.json", "x.json"]),
  ])();
}

// ---------------------------------------------------------------------------------------------------------
// documents

/** Values that break schemas and the checks behind them. */
function hostileValue(rng: Rng): unknown {
  return pick(rng, [
    () => version(rng),
    () => url(rng),
    () => spec(rng),
    () => mangle(rng, "value"),
    () => pick(rng, ["", "\ud800", "../x", "/abs", "C:x", "a\\b", "x".repeat(int(rng, 300, 20_000))]),
    () => pick(rng, [0, -1, 1.5, 1e308, 2 ** 53 + 1, true, null]),
    () => pick(rng, [[], {}, [[]], [["a"]], [["a", "b", "c"]], { a: 1 }]),
  ])();
}

/** Every (container, key) of a JSON tree, keys included: a case may replace a value or rename a key. */
function nodes(value: unknown, out: Array<[Record<string | number, unknown>, string | number]> = []): Array<[Record<string | number, unknown>, string | number]> {
  if (value === null || typeof value !== "object") return out;
  const container = value as Record<string | number, unknown>;
  for (const key of Array.isArray(value) ? [...value.keys()] : Object.keys(container)) {
    out.push([container, key]);
    nodes(container[key], out);
  }
  return out;
}

function mutateJson(rng: Rng, base: unknown): Buffer {
  const doc = structuredClone(base);
  for (let i = int(rng, 1, 3); i > 0; i--) {
    const all = nodes(doc);
    if (all.length === 0) break;
    const [container, key] = pick(rng, all);
    if (!Array.isArray(container) && chance(rng, 0.25)) {
      const value = container[key];
      delete container[key];
      container[String(hostileValue(rng))] = value;
    } else {
      container[key] = hostileValue(rng);
    }
  }
  const text = JSON.stringify(doc);
  if (chance(rng, 0.05)) return Buffer.from(text.slice(0, int(rng, 0, text.length)));
  return Buffer.from(chance(rng, 0.05) ? `\ufeff${text}` : text);
}

const HASH = "a".repeat(64);
const distFile = (rng: Rng, v: string) => ({ filename: `pkg-${v}.tar.gz`, url: chance(rng, 0.95) ? `https://h.invalid/files/pkg-${v}.tar.gz` : url(rng), packagetype: "sdist", digests: { sha256: HASH }, yanked: chance(rng, 0.1) });

function pypiDocument(rng: Rng): Buffer {
  const versions = some(rng, 1, 5, () => version(rng));
  const doc: Record<string, unknown> = { info: { name: "pkg", version: pick(rng, versions) }, urls: [distFile(rng, versions[0]!)] };
  if (chance(rng, 0.8)) doc.releases = Object.fromEntries(versions.map((v) => [v, [distFile(rng, v)]]));
  return chance(rng, 0.3) ? mutateJson(rng, doc) : Buffer.from(JSON.stringify(doc));
}

function simpleDocument(rng: Rng): { body: Buffer; contentType: string } {
  const files = some(rng, 1, 5, () => {
    const v = version(rng);
    return { filename: chance(rng, 0.9) ? `pkg-${v}.tar.gz` : mangle(rng, `pkg-${v}.tar.gz`), href: chance(rng, 0.95) ? `../../files/pkg-${v}.tar.gz#sha256=${HASH}` : url(rng) };
  });
  if (chance(rng, 0.5)) {
    const doc = { meta: { "api-version": "1.0" }, name: "pkg", files: files.map((file) => ({ filename: file.filename, url: file.href, hashes: { sha256: HASH } })) };
    return { body: chance(rng, 0.3) ? mutateJson(rng, doc) : Buffer.from(JSON.stringify(doc)), contentType: "application/vnd.pypi.simple.v1+json" };
  }
  const anchors = files.map((file) => `<a href="${chance(rng, 0.9) ? file.href : mangle(rng, file.href)}"${chance(rng, 0.1) ? " data-yanked" : ""}>${file.filename}</a>`);
  const head = chance(rng, 0.3) ? `<meta name="pypi:repository-version" content="${pick(rng, ["1.0", "2.0", "x", "1.99999999999999999999"])}">` : "";
  const base = chance(rng, 0.2) ? `<base href="${url(rng)}">` : "";
  return { body: Buffer.from(`<!DOCTYPE html><html><head>${head}${base}</head><body>${anchors.join("<br>")}</body></html>`), contentType: "text/html" };
}

function mipIndexDocument(rng: Rng): Buffer {
  const doc = { v: 2, updated: 1, packages: [{ name: "pkg", version: "1.0", versions: { py: some(rng, 0, 5, () => version(rng)), "6": some(rng, 0, 3, () => version(rng)) } }] };
  return chance(rng, 0.5) ? mutateJson(rng, doc) : Buffer.from(JSON.stringify(doc));
}

function packageDocument(rng: Rng): Buffer {
  const doc = {
    v: 1,
    version: version(rng),
    hashes: some(rng, 0, 3, () => [pick(rng, ["pkg/a.py", "b.py", mangle(rng, "c.py")]), pick(rng, ["abcd1234", HASH])]),
    urls: some(rng, 0, 3, () => [pick(rng, ["pkg/a.py", "u.py", "x/y.mpy"]), chance(rng, 0.5) ? url(rng) : pick(rng, ["rel.py", "../up.py", "sub/dir/f.py", "%zz.py", "github:o/r/f.py"])]),
    deps: some(rng, 0, 3, () => [chance(rng, 0.6) ? name(rng) : url(rng), pick(rng, [version(rng), "latest", "", "main", "\ud800"])]),
  };
  return chance(rng, 0.5) ? mutateJson(rng, doc) : Buffer.from(JSON.stringify(doc));
}

// ---------------------------------------------------------------------------------------------------------
// checking a case

const problems: string[] = [];
const tally = { cases: 0, errors: 0 };
const INVISIBLE = /[\0-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function judge(where: string, input: unknown, error: unknown): void {
  tally.cases++;
  if (error === undefined) return;
  const shown = JSON.stringify(input)?.slice(0, 300);
  if (!(error instanceof MpipError)) {
    problems.push(`${where} (MPIP_FUZZ_SEED=${SEED}): not an MpipError: ${(error as Error)?.stack?.split("\n").slice(0, 3).join(" | ") ?? String(error)}\n    input: ${shown}`);
    return;
  }
  tally.errors++;
  if (INVISIBLE.test(error.message) || INVISIBLE.test(error.hint ?? "")) problems.push(`${where} (MPIP_FUZZ_SEED=${SEED}): raw control or invisible text in ${JSON.stringify(error.message.slice(0, 300))}\n    input: ${shown}`);
}

function check(where: string, input: unknown, run: () => void): void {
  try {
    run();
    judge(where, input, undefined);
  } catch (error) {
    judge(where, input, error);
  }
}

async function checkAsync(where: string, input: unknown, run: () => Promise<void>): Promise<void> {
  try {
    await run();
    judge(where, input, undefined);
  } catch (error) {
    judge(where, input, error);
  }
}

const context = { hosts: { ...DEFAULT_GIT_HOSTS }, cwd: "/nonexistent-mpip-fuzz" };

/** A listing of random releases, and a few ordinary ones for specifiers to match, as any source gives it. */
function listing(rng: Rng, versions: string[]): ProjectListing {
  const releases = new Map<string, Artifact[]>();
  for (const v of [...versions, ...(chance(rng, 0.7) ? ["0.1", "1.0", "2.0rc1", "3"] : [])]) releases.set(v, [{ type: "dist", file: { filename: chance(rng, 0.9) ? `pkg-${v}.tar.gz` : `pkg-${v}.whl`, location: { type: "remote", url: "https://h.invalid/x" }, packagetype: "sdist", yanked: chance(rng, 0.1) } }]);
  return { name: "pkg", source: "https://h.invalid/pypi", releases };
}

/** What an install does with a requirement once parsed: its marker, then choosing a release. */
function choose(rng: Rng, parsed: PackageSpec, versions: string[]): void {
  if (parsed.type !== "requirement") return;
  if (parsed.requirement.marker !== undefined) evaluateMarker(parsed.requirement.marker);
  selectRelease(listing(rng, versions), parsed.requirement.specifier, { pre: chance(rng, 0.3), askedBy: "the fuzz test" });
}

/** An HTTP client that serves `documents` by URL suffix (else 404), and never touches the network. */
function fakeHttp(documents: Array<[string, { body: Buffer; contentType?: string }]>): HttpClient {
  return {
    async get(requested: string) {
      const found = documents.find(([suffix]) => requested.endsWith(suffix));
      if (found === undefined) return { status: "not-found", url: requested };
      return { status: "ok", url: requested, body: found[1].body, contentType: found[1].contentType ?? "application/json" };
    },
  } as unknown as HttpClient;
}

const quiet = new Reporter({ verbosity: "quiet", stream: new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream, color: false, progress: false });

// ---------------------------------------------------------------------------------------------------------

let work: { dir: string; cleanup: () => Promise<void> };
let server: IndexServer;
/** Any host but 127.0.0.1 goes to a dead proxy: a fuzzed URL never reaches the network or waits on DNS. */
let fuzzEnv: Record<string, string>;

before(async () => {
  work = await tempDir("mpip-fuzz-inputs-");
  server = await startIndexServer();
  fuzzEnv = {
    HTTP_PROXY: "http://127.0.0.1:9", HTTPS_PROXY: "http://127.0.0.1:9", NO_PROXY: "127.0.0.1", MPIP_RETRY_BASE_MS: "1",
    MPIP_GITHUB_URL: server.origin, MPIP_GITLAB_URL: server.origin, MPIP_CODEBERG_URL: server.origin,
  };
  await server.addSdist({ name: "lib", version: "1.0", files: { "lib.py": "" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

describe(`fuzzing untrusted text (seed ${SEED})`, () => {
  beforeEach(() => {
    problems.length = 0;
  });

  test("specs, requirement lines and -r files", () => {
    for (let index = 0; index < CASES; index++) {
      const rng = caseRng(1, index);
      const text = spec(rng);
      const versions = some(rng, 0, 4, () => version(rng));
      check(`spec case ${index}`, { text, versions }, () => choose(rng, parsePackageSpec(text, context), versions));

      const lines = some(rng, 1, 4, () => (chance(rng, 0.15) ? `[${pick(rng, ["", "extra", `:${marker(rng)}`, "x:"])}]` : requirementLine(rng)));
      check(`requires.txt case ${index}`, lines, () => {
        for (const requirement of parseRequiresTxt(lines.join("\n"))) choose(rng, { type: "requirement", requirement }, versions);
      });
      const pkgInfo = `Metadata-Version: 2.1\nName: pkg\n${lines.map((line) => `Requires-Dist: ${line.replace(/\n/g, "\n ")}`).join("\n")}\n\nbody`;
      check(`PKG-INFO case ${index}`, pkgInfo, () => {
        for (const requirement of parseRequiresDist(pkgInfo)) choose(rng, { type: "requirement", requirement }, versions);
      });
      check(`-r case ${index}`, lines, () => {
        for (const line of parseRequirementsFile(lines.join("\n"))) choose(rng, parsePackageSpec(line.text, context, `\`reqs.txt\` line ${line.line}`), versions);
      });
    }
    assert.deepEqual(problems, []);
  });

  test("versions in specifiers, releases, file names and a whole resolution", async () => {
    for (let index = 0; index < CASES; index++) {
      const rng = caseRng(2, index);
      const versions = some(rng, 1, 6, () => version(rng));
      const wanted = chance(rng, 0.8) ? specifier(rng) : "";
      check(`select case ${index}`, { versions, wanted }, () => {
        selectRelease(listing(rng, versions), wanted, { pre: chance(rng, 0.5), askedBy: "the fuzz test" });
      });
      check(`file name case ${index}`, versions, () => {
        for (const v of versions) parseArchiveName(`pkg-${v}.tar.gz`);
      });
      // A resolution over fake sources: dependencies with random specifiers meet releases with random versions.
      const roots: Request[] = [];
      await checkAsync(`resolve case ${index}`, { versions, wanted }, async () => {
        roots.push({ requirement: parseRequirement(`pkg${wanted === "" || chance(rng, 0.3) ? "" : wanted.split(",")[0]!.trim()}`), requestedBy: "the fuzz test" });
        const source: Source = { label: "fake", lookup: async (requirement) => ({ ...listing(rng, versions), name: requirement.name }) };
        await resolve(roots, {
          sources: [source],
          pool: new Pool(4),
          pre: false,
          noDeps: false,
          prepare: async (release) => ({
            dependencies: release.key === "pkg" ? some(rng, 0, 3, () => requirementLine(rng)).flatMap((line) => {
              try {
                return [parsePackageSpec(line, context)];
              } catch {
                return [];
              }
            }).filter((parsed) => parsed.type === "requirement") : [],
            value: undefined,
            ...(chance(rng, 0.2) ? { version: version(rng) } : {}),
          }),
        });
      });
    }
    assert.deepEqual(problems, []);
  });

  test("documents of every source kind", async () => {
    for (let index = 0; index < CASES; index++) {
      const rng = caseRng(3, index);
      const wanted = chance(rng, 0.7) ? specifier(rng) : "";
      const requirement = { name: "pkg", extras: [], specifier: wanted, text: `pkg${wanted}` };
      const pick1 = () => ({ pre: chance(rng, 0.5), askedBy: "the fuzz test" });

      const pypi = pypiDocument(rng);
      await checkAsync(`PyPI JSON case ${index}`, pypi.toString(), async () => {
        const found = await new PypiJsonSource("https://h.invalid/pypi", fakeHttp([["/json", { body: pypi }]])).lookup(requirement);
        if (found !== undefined) selectRelease(found, wanted, pick1());
      });

      const simple = simpleDocument(rng);
      await checkAsync(`simple case ${index}`, simple.body.toString(), async () => {
        const found = await new SimpleSource("https://h.invalid/simple", fakeHttp([["/pkg/", simple]])).lookup(requirement);
        if (found !== undefined) selectRelease(found, wanted, pick1());
      });

      const indexJson = mipIndexDocument(rng);
      const latest = packageDocument(rng);
      await checkAsync(`v2 index case ${index}`, { index: indexJson.toString(), latest: latest.toString() }, async () => {
        const documents: Array<[string, { body: Buffer }]> = [["/package/py/pkg/latest.json", { body: latest }]];
        if (chance(rng, 0.7)) documents.push(["/index.json", { body: indexJson }]);
        const found = await new MipV2Source("https://h.invalid/mip/v2", fakeHttp(documents), { flavor: pick(rng, ["py", "6"]) }).lookup(requirement);
        if (found !== undefined) selectRelease(found, wanted, pick1());
      });

      const documentUrl = pick(rng, ["https://h.invalid/o/r/HEAD/package.json", "/nonexistent-mpip-fuzz/pkg/package.json", "https://codeberg.org/api/v1/repos/o/r/raw/package.json?ref=v1"]);
      await checkAsync(`package document case ${index}`, { latest: latest.toString(), documentUrl }, async () => {
        const origin = { url: documentUrl, index: "the fuzz test", ...(chance(rng, 0.5) ? { kind: "package document" as const } : {}) };
        const doc = parsePackageDocument(latest, origin);
        planPackageFiles(doc, { documentUrl, hosts: context.hosts, ...(chance(rng, 0.5) ? { ref: { repo: "github:o/r", ref: pick(rng, ["v1", "a/b"]) } } : {}), ...(chance(rng, 0.5) ? { fallbackMip: "https://h.invalid/mip/v2" } : {}) });
        for (const dep of dependenciesOf(doc)) choose(rng, parseMipDependency(dep.name, dep.version, context), some(rng, 0, 3, () => version(rng)));
      });
    }
    assert.deepEqual(problems, []);
  });

  test("installs from find-links folders with fuzzed file names and requires.txt lines", async () => {
    for (let index = 0; index < INSTALL_CASES; index++) {
      const rng = caseRng(4, index);
      const links = path.join(work.dir, `links-${index}`);
      await mkdir(links);
      const versions = some(rng, 1, 3, () => version(rng).replace(/[/\\\0]/g, ""));
      for (const v of versions) {
        const requires = some(rng, 0, 2, () => (chance(rng, 0.5) ? `lib${chance(rng, 0.5) ? specifier(rng) : ""}` : requirementLine(rng)).replace(/[\r\n]/g, " "));
        const body = await buildSdist({ name: "fz", version: "1.0", files: { "fz.py": "" }, ...(chance(rng, 0.5) ? { requires } : { requiresDist: requires }) });
        await writeFile(path.join(links, `fz-${v}.tar.gz`), body).catch(() => undefined); // a name the filesystem refuses is no case
      }
      await writeFile(path.join(links, "lib-1.0.tar.gz"), await buildSdist({ name: "lib", version: "1.0", files: { "lib.py": "" } }));
      const wanted = chance(rng, 0.5) ? specifier(rng) : "";
      await checkAsync(`find-links install case ${index}`, { versions, wanted }, async () => {
        await install({
          target: path.join(work.dir, `target-${index}`),
          requests: [{ requirement: parseRequirement(`fz${wanted.startsWith("=") || wanted.startsWith("<") || wanted.startsWith(">") || wanted.startsWith("!") || wanted.startsWith("~") ? wanted : ""}`), requestedBy: "the fuzz test" }],
          indexUrls: [],
          findLinks: [links],
          noDeps: false,
          pre: chance(rng, 0.3),
          strictWindow: false,
          jobs: 2,
          wait: false,
          reporter: quiet,
        });
      });
    }
    assert.deepEqual(problems, []);
  });

  test("the built CLI: specs, -r files, documents and requires.txt lines", async () => {
    const runs = Array.from({ length: CLI_CASES }, (_, index) => index);
    await Promise.all([0, 1].map(async (lane) => {
      for (const index of runs.filter((run) => run % 2 === lane)) {
        const rng = caseRng(5, index);
        const project = `fzcli-${index}`;
        const reqs = path.join(work.dir, `reqs-${index}.txt`);
        await writeFile(reqs, some(rng, 1, 4, () => (chance(rng, 0.5) ? spec(rng) : requirementLine(rng))).join("\n"));
        await server.addSdist({ name: project, version: "1.0", files: { [`fzcli_${index}.py`]: "" }, requires: some(rng, 1, 2, () => requirementLine(rng).replace(/[\r\n]/g, " ")) });
        const document = pypiDocument(rng);
        server.routes.unshift({ name: `fuzz-doc-${index}`, pattern: new RegExp(`^/pypi/fzdoc-${index}/(?:[^/]+/)?json$`), handle: () => ({ status: 200, headers: { "Content-Type": "application/json" }, body: document }) });
        const args = ["install", "--retries", "0", "--timeout", "5", "-i", server.url, "-p", path.join(work.dir, `cli-target-${index}`)];
        const cases: Array<[string, string[]]> = [
          ["spec", [...args, spec(rng).replace(/\0/g, "")]], // a command line cannot carry a NUL
          ["-r file", [...args, "-r", reqs]],
          ["document and requires.txt", [...args, `fzdoc-${index}`, project]],
        ];
        for (const [what, argv] of cases) {
          const result = await runCli(argv);
          tally.cases++;
          const crashed = /This is a bug|unexpected failure|\n\s+at .*:\d+:\d+/.test(result.stderr);
          const clean = result.code === 0 || ((result.code === 1 || result.code === 2) && /(^|\n)error: /.test(result.stderr));
          if (crashed || !clean) problems.push(`CLI case ${index} ${what} (MPIP_FUZZ_SEED=${SEED}): exit ${result.code}: ${result.stderr.slice(0, 500)}\n    argv: ${JSON.stringify(argv.slice(args.length))}`);
        }
      }
    }));
    console.log(`fuzz-inputs: seed ${SEED}: ${tally.cases} cases, ${tally.errors} in-process MpipErrors, ${problems.length} problems`);
    assert.deepEqual(problems, []);
  });
});

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { env, cleanup } = childEnv(fuzzEnv);
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      cleanup();
      done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}
