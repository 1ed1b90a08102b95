// A seeded fuzz test of names and tar records: paths built from a pool of risky pieces (case variants,
// trailing dots and spaces, DOS device names, forbidden characters, NFC and NFD spellings, a file where a
// folder is, folder entries before and after their files) and entries named through sequences of `L`,
// `K`, `x` and `g` records in every order. Each archive is installed in-process (`--find-links`); a sample
// also through the built CLI; package documents with the same names are parsed. A model written here,
// independently of src/, says what must happen, and every case must end as it says:
//   - refused: an MpipError with the expected code (`unsafe-path` for a name, `archive-corrupt` for the
//     records), the target byte-identical, nothing beside it;
//   - installed: exactly the model's files, with their contents, and Python's tarfile (when present)
//     reading the very same names from the archive.
// MPIP_FUZZ_SEED=<n> replays a run; MPIP_FUZZ_NAMES_CASES=<n> sets the in-process count (the CLI sample is
// a fiftieth).

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { upipSkips } from "../src/archive/skip-rules.js";
import { MpipError } from "../src/errors.js";
import { install } from "../src/install.js";
import { Reporter } from "../src/log.js";
import { parsePackageDocument } from "../src/sources/package-json.js";
import { parseRequirement } from "../src/spec/requirement.js";
import { BIN, snapshot, tempDir, childEnv } from "./helpers/cli.js";
import { PYTHON } from "./pack/python-oracle.js";
import { gzipReproducible } from "./helpers/sdist.js";
import { paxData, tarEnd, tarEntry } from "./helpers/tar-craft.js";
import { prng } from "./helpers/prng.js";
import { budget } from "./helpers/budget.js";

const SEED = process.env.MPIP_FUZZ_SEED === undefined || process.env.MPIP_FUZZ_SEED === "" ? 0x6e616d65 : Number(process.env.MPIP_FUZZ_SEED) >>> 0;
const CASES = Number(process.env.MPIP_FUZZ_NAMES_CASES ?? 160);
const CLI_CASES = Math.max(2, Math.ceil(CASES / 50));
const PKG = "fzn";
const TOP = `${PKG}-1.0`;

type Rng = () => number;
const caseRng = (stream: number, index: number): Rng => prng(Math.imul(SEED ^ 0x85ebca6b, 31) + Math.imul(stream, 1_000_003) + index);
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;

// ---------------------------------------------------------------------------------------------------------
// the model: what FAT and Windows make of a name, written from their documentation, not from src/

const DEVICES = new Set(["con", "prn", "aux", "nul", "conin$", "conout$", ...["com", "lpt"].flatMap((stem) => [..."0123456789\u00b9\u00b2\u00b3"].map((digit) => stem + digit))]);

function holdable(segment: string): boolean {
  if ([...segment].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f || '"*:<>?|\\/'.includes(char))) return false;
  const last = segment.at(-1);
  if (last === "." || last === " ") return false; // also "only dots and spaces"
  const stem = segment.split(".")[0]!.trimEnd().toLowerCase();
  return !DEVICES.has(stem);
}

/** FAT's (and macOS's) key for a path: case and normalization aside. Trailing dots never reach here. */
const fatKey = (file: string) => file.normalize("NFC").toLowerCase();

interface Planned {
  /** Below the top folder; a folder entry has no trailing `/` here. */
  path: string;
  kind: "file" | "folder";
  data: string;
  /** The name in the entry's own header, and the records before it. */
  header: string;
  records: Buffer[];
  /** What the model says of the records alone: undefined when every reader applies them alike. */
  recordsProblem?: string;
}

type Expected = { refused: "unsafe-path" | "archive-corrupt"; why: string } | { files: Map<string, string> };

/**
 * Walks the entries in archive order, as an installer must: the first problem decides the outcome. With
 * `upip`, upip's skip rules apply (an sdist); without, every destination is installed (a package document).
 */
function model(entries: Array<Omit<Planned, "header" | "records" | "data"> & { data?: string }>, upip = true): Expected {
  const exact = new Map<string, "file" | "folder">();
  const fat = new Map<string, string>();
  const files = new Map<string, string>([[`${PKG}.py`, "M = 1\n"]]);
  exact.set(`${PKG}.py`, "file");
  fat.set(fatKey(`${PKG}.py`), `${PKG}.py`);
  for (const entry of entries) {
    if (entry.recordsProblem !== undefined) return { refused: "archive-corrupt", why: entry.recordsProblem };
    const segments = entry.path.split("/");
    const bad = segments.find((segment) => !holdable(segment));
    if (bad !== undefined) return { refused: "unsafe-path", why: `\`${bad}\` cannot be held` };
    const skipped = upip && upipSkips(entry.path);
    for (let i = 1; i <= segments.length; i++) {
      const prefix = segments.slice(0, i).join("/");
      const kind = i === segments.length ? entry.kind : "folder";
      const seen = exact.get(prefix);
      if (seen !== undefined && (seen === "file" || kind === "file")) return { refused: "unsafe-path", why: `\`${prefix}\` is given as a ${seen} and a ${kind}` };
      exact.set(prefix, kind);
      if (skipped) continue;
      const other = fat.get(fatKey(prefix));
      if (other !== undefined && other !== prefix) return { refused: "unsafe-path", why: `\`${prefix}\` and \`${other}\` are one name on FAT` };
      fat.set(fatKey(prefix), prefix);
    }
    if (entry.kind === "file" && !skipped) files.set(entry.path, entry.data ?? "");
  }
  return { files };
}

// ---------------------------------------------------------------------------------------------------------
// the inputs

/** Names a FAT device holds, in case and normalization variants that clash with each other. */
const SAFE_STEMS = ["mod", "Mod", "pkg", "Pkg", "caf\u00e9", "cafe\u0301", "README", "readme", "setup", "data", "util", "net", "io", "alpha", "beta", "gamma", "console", "auxiliary", "com10", "_aux", "lpt"];
/** Names it cannot hold, or only with another meaning. */
const RISKY_STEMS = ["MOD", "CAF\u00c9", "aux", "Aux", "con", "NUL", "com1", "LPT9", "conin$", "prn"];
const EXTENSIONS = ["", ".py", ".py", ".py", ".txt", ".PY", ".tar.gz"];
const TAILS = [".", " ", "..", " ."];
const FORBIDDEN = ['"', "*", "<", ">", "?", "|", ":"];

/** One path segment; `risk` is the chance of each risky piece. */
function segment(rng: Rng, folder: boolean, risk: number): string {
  let name = pick(rng, chance(rng, risk) ? RISKY_STEMS : SAFE_STEMS) + (folder && chance(rng, 0.7) ? "" : pick(rng, EXTENSIONS));
  if (chance(rng, risk / 4)) {
    const at = int(rng, 0, name.length);
    name = name.slice(0, at) + pick(rng, FORBIDDEN) + name.slice(at);
  }
  return chance(rng, risk / 2) ? name + pick(rng, TAILS) : name;
}

function randomPath(rng: Rng, risk: number): string {
  const depth = pick(rng, [0, 0, 1, 1, 2]);
  return [...Array.from({ length: depth }, () => segment(rng, true, risk)), segment(rng, false, risk)].join("/");
}

const gnu = (typeflag: "L" | "K", value: string) => tarEntry({ name: "././@LongLink", typeflag, magic: "gnu" }, `${value}\0`);
const pax = (typeflag: "x" | "g", body: Buffer) => tarEntry({ name: typeflag === "x" ? "././@PaxHeader" : "././@GlobalHead", typeflag }, body);

/** Records naming `full` (the path with the top folder) in one of many ways, with the model's verdict. */
function records(rng: Rng, full: string, risk: number): { blocks: Buffer[]; header: string; problem?: string } {
  if (chance(rng, 0.5)) return { blocks: [], header: full };
  const decoy = `${TOP}/decoy-${int(rng, 0, 9)}.py`;
  const alike = ["L", "x-path", "g", "x-mtime", "K"] as const;
  const any = ["L", "L", "K", "x-path", "x-path", "x-mtime", "x-link", "x-dup", "x-empty", "g", "g-path", "g-size"] as const;
  const kinds = Array.from({ length: chance(rng, 2 * risk) ? int(rng, 2, 3) : 1 }, () => pick(rng, chance(rng, risk) ? any : alike));
  const blocks: Buffer[] = [];
  let names = 0;
  let paxHeaders = 0;
  let nameByL = false;
  let nameByX = false;
  let linkByK = false;
  let linkByX = false;
  let problem: string | undefined;
  const named: string[] = [];
  for (const kind of kinds) {
    // The last name given is the real one, so that a model that forgot a clash would expect it installed.
    const name = () => (names++ === kinds.filter((k) => k === "L" || k === "x-path").length - 1 ? full : decoy);
    switch (kind) {
      case "L": {
        const value = name();
        named.push(value);
        nameByL = true;
        blocks.push(gnu("L", value));
        break;
      }
      case "K":
        linkByK = true;
        blocks.push(gnu("K", "target.py"));
        break;
      case "x-path":
      case "x-mtime":
      case "x-link":
      case "x-dup":
      case "x-empty": {
        paxHeaders++;
        const records: Record<string, string> = kind === "x-path" ? { path: name() } : kind === "x-mtime" ? { mtime: "1700000000" } : kind === "x-link" ? { linkpath: "target.py" } : kind === "x-empty" ? { [pick(rng, ["path", "linkpath", "size"])]: "" } : {};
        if (kind === "x-path") (named.push(records.path!), (nameByX = true));
        if (kind === "x-link") linkByX = true;
        if (kind === "x-empty") problem ??= "an empty pax value";
        let body = paxData(records);
        if (kind === "x-dup") {
          body = Buffer.concat([paxData({ mtime: "1" }), paxData({ mtime: "2" })]);
          problem ??= "a pax key twice";
        }
        blocks.push(pax("x", body));
        break;
      }
      case "g":
        blocks.push(pax("g", paxData({ comment: "fuzz" })));
        break;
      case "g-path":
      case "g-size":
        blocks.push(pax("g", paxData(kind === "g-path" ? { path: decoy } : { size: "4" })));
        problem ??= "a global path or size";
        break;
    }
  }
  const lCount = kinds.filter((kind) => kind === "L").length;
  const kCount = kinds.filter((kind) => kind === "K").length;
  if (lCount > 1 || kCount > 1 || paxHeaders > 1 || (nameByL && nameByX) || (linkByK && linkByX)) problem ??= "one field given twice";
  const header = named.length > 0 || Buffer.byteLength(full) > 100 ? `${TOP}/header-${int(rng, 0, 99)}.py` : full;
  return { blocks, header, ...(problem === undefined ? {} : { problem }) };
}

function plan(rng: Rng): Planned[] {
  const entries: Planned[] = [];
  const risk = pick(rng, [0, 0.05, 0.15, 0.3]);
  for (let i = int(rng, 1, 4); i > 0; i--) {
    const file = randomPath(rng, risk);
    const full = `${TOP}/${file}`;
    const named = records(rng, full, risk);
    entries.push({ path: file, kind: "file", data: `V = ${int(rng, 0, 999)}\n`, header: named.header, records: named.blocks, ...(named.problem === undefined ? {} : { recordsProblem: named.problem }) });
    // A folder entry for one of its folders (or for the file's own path), before or after it.
    const parts = file.split("/");
    if (chance(rng, 0.3)) {
      const folder = parts.slice(0, int(rng, 1, parts.length)).join("/");
      const entry: Planned = { path: folder, kind: "folder", data: "", header: `${TOP}/${folder}/`, records: [] };
      if (chance(rng, 0.5)) entries.push(entry);
      else entries.splice(entries.length - 1, 0, entry);
    }
  }
  return entries;
}

function buildTar(entries: Planned[]): Buffer {
  const blocks = [tarEntry({ name: `${TOP}/`, typeflag: "5" }), tarEntry({ name: `${TOP}/${PKG}.py` }, "M = 1\n")];
  for (const entry of entries) {
    blocks.push(...entry.records);
    blocks.push(entry.kind === "folder" ? tarEntry({ name: entry.header, typeflag: "5" }) : tarEntry({ name: entry.header }, entry.data));
  }
  return Buffer.concat([...blocks, tarEnd()]);
}

// ---------------------------------------------------------------------------------------------------------
// running and judging

let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
before(async () => (work = await tempDir("mpip-fuzz-names-")));
after(() => work.cleanup());

const quiet = new Reporter({ verbosity: "quiet", stream: new Writable({ write: (_chunk, _encoding, done) => done() }) as unknown as NodeJS.WriteStream, color: false, progress: false });
const digest = (text: string) => createHash("sha256").update(text).digest("hex");

async function freshTarget(): Promise<{ parent: string; target: string; links: string; before: Record<string, string> }> {
  const parent = path.join(work.dir, `case-${++counter}`);
  const target = path.join(parent, "target");
  const links = path.join(work.dir, `links-${counter}`);
  await mkdir(path.join(target, "mine"), { recursive: true });
  await writeFile(path.join(target, "mine", "keep.py"), "KEEP = 1\n");
  await mkdir(links);
  return { parent, target, links, before: await snapshot(target) };
}

type Failure = { code: string | undefined; message: string } | undefined;

async function installInProcess(target: string, links: string): Promise<Failure> {
  try {
    await install({ target, requests: [{ requirement: parseRequirement(PKG), requestedBy: "the fuzz test" }], indexUrls: [], findLinks: [links], noDeps: true, pre: false, strictWindow: false, jobs: 2, wait: false, reporter: quiet, record: false });
    return undefined;
  } catch (error) {
    return { code: error instanceof MpipError ? error.code : undefined, message: error instanceof Error ? error.message.slice(0, 300) : String(error) };
  }
}

function installWithCli(target: string, links: string): Promise<Failure> {
  const { env, cleanup } = childEnv();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, "install", "--no-record", "--json", "--no-index", "-f", links, "-p", target, PKG], { env, timeout: budget(120_000) }, (error, stdout, stderr) => {
      cleanup();
      if (error === null) return resolve(undefined);
      let code: string | undefined;
      try {
        code = (JSON.parse(stdout) as { error: { code: string } }).error.code;
      } catch {
        code = undefined;
      }
      resolve({ code: error.code === 1 && !/This is a bug/.test(stderr) ? code : undefined, message: stderr.slice(0, 300) });
    });
  });
}

/** Empty when the outcome is the model's; else what went wrong. */
async function judge(expected: Expected, failure: Failure, parent: string, target: string, before: Record<string, string>): Promise<string | undefined> {
  const after = await snapshot(target);
  const beside = await readdir(parent);
  if (beside.join() !== "target") return `left beside the target: ${beside.join(", ")}`;
  if ("refused" in expected) {
    if (failure === undefined) return `installed, but ${expected.why} (expected ${expected.refused})`;
    if (failure.code !== expected.refused) return `failed with ${failure.code ?? "a non-MpipError"} (expected ${expected.refused}: ${expected.why}): ${failure.message}`;
    try {
      assert.deepEqual(after, before);
    } catch {
      return "the target changed on failure";
    }
    return undefined;
  }
  if (failure !== undefined) return `refused (${failure.code}: ${failure.message}), but the model installs it`;
  const want: Record<string, string> = { ...before };
  for (const [file, data] of expected.files) {
    want[file] = digest(data);
    const parts = file.split("/");
    for (let i = 1; i < parts.length; i++) want[`${parts.slice(0, i).join("/")}/`] = "dir";
  }
  try {
    assert.deepEqual(after, want);
  } catch (error) {
    return `installed the wrong files: ${(error as Error).message.slice(0, 500)}`;
  }
  return undefined;
}

/** Python's tarfile's view of each archive: the files it would install by upip's rules. */
function pythonFiles(tars: Buffer[]): string[][] {
  const script = String.raw`
import base64, io, json, sys, tarfile
out = []
for case in json.load(sys.stdin):
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(case))) as tar:
        out.append([m.name.split("/", 1)[1] for m in tar if m.isfile() and "/" in m.name])
json.dump(out, sys.stdout, ensure_ascii=True)
`;
  const run = spawnSync(PYTHON!, ["-c", script], { input: JSON.stringify(tars.map((tar) => tar.toString("base64"))), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as string[][];
}

describe("fuzz: names and tar records", () => {
  const installed: Array<{ index: number; tar: Buffer; files: string[]; what: string }> = [];

  test(`archives, in-process (seed ${SEED})`, async () => {
    const problems: string[] = [];
    const tally = { refused: 0, corrupt: 0, installed: 0 };
    // Three at a time: an install mostly waits on the disk (fsync), and each case has its own target.
    await inParallel(CASES, 3, async (index) => {
      const rng = caseRng(1, index);
      const entries = plan(rng);
      const tar = buildTar(entries);
      const expected = model(entries);
      const what = entries.map((entry) => `${entry.kind} ${JSON.stringify(entry.path)}${entry.records.length > 0 ? ` (${entry.records.length} records${entry.recordsProblem === undefined ? "" : `: ${entry.recordsProblem}`})` : ""}`).join("; ");
      const { parent, target, links, before } = await freshTarget();
      await writeFile(path.join(links, `${TOP}.tar.gz`), gzipReproducible(tar));
      const failure = await installInProcess(target, links);
      const problem = await judge(expected, failure, parent, target, before);
      if (problem !== undefined) problems.push(`case ${index} (MPIP_FUZZ_SEED=${SEED}): ${what}\n    → ${problem}`);
      if ("files" in expected) {
        tally.installed++;
        installed.push({ index, tar, files: [...expected.files.keys()].filter((file) => file !== `${PKG}.py`), what });
      } else if (expected.refused === "unsafe-path") tally.refused++;
      else tally.corrupt++;
      await rm(parent, { recursive: true, force: true });
      await rm(links, { recursive: true, force: true });
    });
    problems.sort();
    installed.sort((a, b) => a.index - b.index);
    console.log(`fuzz-names: seed ${SEED}: ${CASES} archives: ${tally.refused} refused for a name, ${tally.corrupt} for their records, ${tally.installed} installed; ${problems.length} problems`);
    // Every kind of outcome is reached, or the pool has drifted and the test proves little.
    assert.ok(tally.refused > CASES / 10 && tally.corrupt > CASES / 20 && tally.installed > CASES / 10, JSON.stringify(tally));
    assert.deepEqual(problems, []);
  });

  test("Python's tarfile reads every installed archive as mpip did", { skip: PYTHON === undefined ? "python3 is not available" : false }, () => {
    assert.ok(installed.length > 0);
    const python = pythonFiles(installed.map((entry) => entry.tar));
    installed.forEach((entry, i) => {
      const theirs = python[i]!.filter((file) => file !== `${PKG}.py` && !upipSkips(file)).sort();
      assert.deepEqual(theirs, [...entry.files].sort(), entry.what);
    });
  });

  test(`archives through the CLI (seed ${SEED})`, async () => {
    const problems: string[] = [];
    for (let index = 0; index < CLI_CASES; index++) {
      const rng = caseRng(2, index);
      const entries = plan(rng);
      const expected = model(entries);
      const { parent, target, links, before } = await freshTarget();
      await writeFile(path.join(links, `${TOP}.tar.gz`), gzipReproducible(buildTar(entries)));
      const problem = await judge(expected, await installWithCli(target, links), parent, target, before);
      if (problem !== undefined) problems.push(`CLI case ${index} (MPIP_FUZZ_SEED=${SEED}): ${entries.map((entry) => JSON.stringify(entry.path)).join(", ")}\n    → ${problem}`);
      await rm(parent, { recursive: true, force: true });
      await rm(links, { recursive: true, force: true });
    }
    assert.deepEqual(problems, []);
  });

  test(`package documents with the same names (seed ${SEED})`, () => {
    const problems: string[] = [];
    for (let index = 0; index < CASES; index++) {
      const rng = caseRng(3, index);
      const risk = pick(rng, [0, 0.05, 0.15, 0.3]);
      const dests = Array.from({ length: int(rng, 1, 4) }, () => randomPath(rng, risk)).filter((dest, i, all) => all.indexOf(dest) === i);
      const expected = model(dests.map((dest) => ({ path: dest, kind: "file" as const })), false);
      const body = Buffer.from(JSON.stringify({ version: "1.0", urls: dests.map((dest) => [dest, "x.py"]) }));
      let failure: Failure;
      try {
        parsePackageDocument(body, { url: "https://example.invalid/package.json", index: "fuzz", kind: "package document" });
      } catch (error) {
        failure = { code: error instanceof MpipError ? error.code : undefined, message: (error as Error).message };
      }
      const refused = "refused" in expected;
      if (refused && failure?.code !== "unsafe-path") problems.push(`${JSON.stringify(dests)}: ${failure?.message ?? "accepted"}, expected unsafe-path`);
      if (!refused && failure !== undefined) problems.push(`${JSON.stringify(dests)}: refused (${failure.message}), expected accepted`);
    }
    assert.deepEqual(problems, []);
  });
});

async function inParallel(count: number, width: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await run(next++);
  };
  await Promise.all(Array.from({ length: width }, worker));
}
