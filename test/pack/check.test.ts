// `mpip check`: each way an archive can fail a small device is reported as its own failed check with the
// reason; a package written by mpip passes. Unit tests on checkArchive, then the CLI (text, --json, exit codes).

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { checkArchive, type ArchiveReport, type CheckId, type CheckStatus } from "../../src/pack/check.js";
import { writeSdist } from "../../src/pack/writer.js";
import { runMpip, tempDir } from "../helpers/cli.js";
import { buildSdist, gzipReproducible } from "../helpers/sdist.js";
import { tarEnd, tarEntry } from "../helpers/tar-craft.js";
import { prng } from "./python-oracle.js";

const statuses = (report: ArchiveReport): Record<CheckId, CheckStatus> =>
  Object.fromEntries(report.checks.map((check) => [check.id, check.status])) as Record<CheckId, CheckStatus>;
const check = (report: ArchiveReport, id: CheckId) => report.checks.find((c) => c.id === id)!;
const text = (report: ArchiveReport, id: CheckId) => [check(report, id).message, ...check(report, id).details].join("\n");

const ALL_PASS = { gzip: "pass", tar: "pass", "top-folder": "pass", names: "pass", "setup-py": "pass", dependencies: "pass", identity: "pass" };
const next = prng(7);
const noise = Buffer.from(Array.from({ length: 6000 }, () => Math.floor(next() * 256)));
const FAR = Buffer.concat([noise, Buffer.from("gap"), noise]);
const LONG = `good/${"sub_folder_name/".repeat(6)}module_with_a_long_name.py`;
const good = { name: "good", version: "1.0", files: { "good/__init__.py": "X = 1\n" }, requires: ["dep>=1"] };

const mpipArchive = (files: Record<string, string>) => writeSdist(Object.entries(files).map(([p, data]) => ({ path: p, data: Buffer.from(data) })));

describe("checkArchive", () => {
  test("a package as sdist_upip or mpip writes it passes every check", async () => {
    const report = checkArchive(await buildSdist(good), "good-1.0.tar.gz");
    assert.deepEqual(statuses(report), ALL_PASS);
    assert.equal(report.ok, true);
    assert.match(text(report, "dependencies"), /good\.egg-info\/requires\.txt` lists 1 requirement/);
    const none = checkArchive(mpipArchive({ "x-1/x.py": "", "x-1/x.egg-info/PKG-INFO": "Name: x\nVersion: 1\n" }), "x-1.tar.gz");
    assert.deepEqual(statuses(none), ALL_PASS);
    assert.match(text(none, "dependencies"), /no dependencies/);
  });

  test("an archive that needs a 32 KiB window fails the gzip check, with the distance", async () => {
    const report = checkArchive(await buildSdist({ ...good, files: { ...good.files, "good/blob.bin": FAR } }, { windowBits: 15 }), "good-1.0.tar.gz");
    assert.deepEqual(statuses(report), { ...ALL_PASS, gzip: "fail" });
    assert.match(text(report, "gzip"), /needs a 32 KiB inflate window[\s\S]*reaches (\d{4,5}) bytes back, beyond the 4096/);
  });

  test("a pax archive fails the tar check: device readers write pax headers out as files", async () => {
    const report = checkArchive(await buildSdist({ ...good, files: { [LONG]: "" } }, { format: "pax" }), "good-1.0.tar.gz");
    assert.deepEqual(statuses(report), { ...ALL_PASS, tar: "fail" });
    assert.match(text(report, "tar"), /a pax extended header \(`x`, `\.\/\.\/@PaxHeader`\)/);
  });

  test("a GNU long-name archive fails the tar check", async () => {
    const report = checkArchive(await buildSdist({ ...good, files: { [LONG]: "" } }, { format: "gnu" }), "good-1.0.tar.gz");
    assert.deepEqual(statuses(report), { ...ALL_PASS, tar: "fail" });
    assert.match(text(report, "tar"), /GNU long name record \(`L`, `\.\/\.\/@LongLink`\)/);
  });

  test("a name split into the ustar prefix, links and folders without a slash fail the tar check", async () => {
    const prefix = checkArchive(await buildSdist({ ...good, files: { [LONG]: "" } }, { format: "ustar-prefix" }), "prefix.tar.gz");
    assert.match(text(prefix, "tar"), /ustar prefix field, which device readers ignore: they see only `module_with_a_long_name\.py`/);
    const link = checkArchive(await buildSdist(good, { extraEntries: [{ name: "good-1.0/good/link.py", type: "symlink", linkname: "__init__.py" }] }), "link.tar.gz");
    assert.match(text(link, "tar"), /`good-1\.0\/good\/link\.py` is a symbolic link entry/);
    const tar = Buffer.concat([tarEntry({ name: "p-1/", typeflag: "5" }), tarEntry({ name: "p-1/sub", typeflag: "5" }), tarEntry({ name: "p-1/sub/a.py" }, "A = 1\n"), tarEnd()]);
    const folder = checkArchive(gzipReproducible(tar), "folder.tar.gz");
    assert.match(text(folder, "tar"), /folder `p-1\/sub` has no trailing `\/`, so a device reader takes it for a file/);
  });

  test("an archive with setup.py fails the setup-py check", async () => {
    const report = checkArchive(await buildSdist({ ...good, files: { ...good.files, "setup.py": "from setuptools import setup\n" } }), "good-1.0.tar.gz");
    assert.deepEqual(statuses(report), { ...ALL_PASS, "setup-py": "fail" });
    assert.match(text(report, "setup-py"), /holds `setup\.py`/);
  });

  test("dependencies: no egg-info at all fails; Requires-Dist only in PKG-INFO fails, listing them", async () => {
    const bare = checkArchive(mpipArchive({ "x-1/x.py": "" }), "x-1.tar.gz");
    assert.deepEqual(statuses(bare), { ...ALL_PASS, dependencies: "fail", identity: "skip" });
    assert.match(text(bare, "dependencies"), /no `\*\.egg-info\/PKG-INFO` or `requires\.txt`/);
    const dist = checkArchive(await buildSdist({ ...good, requires: undefined, requiresDist: ["dep>=1", "other; extra == 'x'"] }), "good-1.0.tar.gz");
    assert.deepEqual(statuses(dist), { ...ALL_PASS, dependencies: "fail" });
    // The extra's requirement is no runtime dependency (issue 10, item 11): only `dep>=1` is listed.
    assert.match(text(dist, "dependencies"), /its dependency is declared only as `Requires-Dist`[\s\S]*Requires-Dist: dep>=1/);
    assert.doesNotMatch(text(dist, "dependencies"), /other/);
    const sections = checkArchive(await buildSdist({ ...good, requires: ["dep", "[extra]", "more"] }), "sections.tar.gz");
    assert.equal(check(sections, "dependencies").status, "warn");
    assert.equal(sections.ok, true);
  });

  test("an archive whose PKG-INFO names another package or version than its file name fails the identity check", async () => {
    const sdist = await buildSdist(good);
    const renamed = checkArchive(sdist, "dist/bar-1.0.tar.gz");
    assert.deepEqual(statuses(renamed), { ...ALL_PASS, identity: "fail" });
    assert.equal(renamed.ok, false);
    assert.match(text(renamed, "identity"), /`mpip install` refuses it by its file name, `bar-1\.0\.tar\.gz`: its PKG-INFO names `good 1\.0`, not `bar 1\.0`; name it `good-1\.0\.tar\.gz`$/);
    assert.match(text(checkArchive(sdist, "good-2.0.tar.gz"), "identity"), /names `good 1\.0`, not `good 2\.0`/);
    // The same package spelled otherwise (PEP 503, PEP 440) passes.
    assert.equal(check(checkArchive(sdist, "Good-1.0.0.tar.gz"), "identity").status, "pass");
    // A top-level PKG-INFO that names another package fails beside an egg-info that is right.
    const top = checkArchive(await buildSdist(good, { extraEntries: [{ name: "good-1.0/PKG-INFO", type: "file", content: "Name: evil\nVersion: 1.0\n" }] }), "good-1.0.tar.gz");
    assert.match(text(top, "identity"), /names `evil 1\.0`, not `good 1\.0`/);
    // Nothing to compare: no PKG-INFO, or a file name that says no name and version.
    assert.match(text(checkArchive(sdist, "upload.tar.gz"), "identity"), /^its file name `upload\.tar\.gz` is not NAME-VERSION\.tar\.gz/);
    assert.equal(check(checkArchive(sdist, "upload.tar.gz"), "identity").status, "skip");
  });

  test("more than one top folder fails; an archive that is not gzip fails and skips the rest", async () => {
    const two = checkArchive(mpipArchive({ "a-1/a.py": "", "a-1/a.egg-info/PKG-INFO": "Name: a\nVersion: 1\n", "b-1/b.py": "" }), "a-1.tar.gz");
    assert.deepEqual(statuses(two), { ...ALL_PASS, "top-folder": "fail" });
    const dotted = checkArchive(gzipReproducible(Buffer.concat([tarEntry({ name: "./", typeflag: "5" }), tarEntry({ name: "./d-1/d.py" }, "D = 1\n"), tarEnd()])), "dotted.tar.gz");
    assert.equal(check(dotted, "top-folder").status, "fail");
    assert.match(text(dotted, "top-folder"), /names start with `\.\/`, and upip strips `\.` as the top folder/);
    const escaping = checkArchive(gzipReproducible(Buffer.concat([tarEntry({ name: "e-1/e.py" }, ""), tarEntry({ name: "e-1/../../evil.py" }, ""), tarEnd()])), "escape.tar.gz");
    assert.match(text(escaping, "names"), /`e-1\/\.\.\/\.\.\/evil\.py`: its path contains a `\.\.` segment/);
    const empty = checkArchive(gzipReproducible(tarEnd()), "empty.tar.gz");
    assert.equal(empty.ok, false);
    const junk = checkArchive(Buffer.from("not an archive at all"), "junk.tar.gz");
    assert.deepEqual(statuses(junk), { gzip: "fail", tar: "skip", "top-folder": "skip", names: "skip", "setup-py": "skip", dependencies: "skip", identity: "skip" });
    const tail = checkArchive(Buffer.concat([await buildSdist(good), gzipSync(Buffer.from("x"))]), "tail.tar.gz");
    assert.match(text(tail, "gzip"), /bytes follow the gzip stream/);
  });
});

describe("mpip check (CLI)", () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  const file = (name: string) => path.join(work.dir, name);
  before(async () => {
    work = await tempDir();
    await writeFile(file("good-1.0.tar.gz"), await buildSdist(good));
    await writeFile(file("bad-1.0.tar.gz"), await buildSdist({ ...good, name: "bad", files: { ...good.files, "setup.py": "", "good/blob.bin": FAR } }, { windowBits: 15 }));
  });
  after(() => work.cleanup());

  test("passing archives: one line per check, exit 0", async () => {
    const run = await runMpip(["check", file("good-1.0.tar.gz")]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.split("\n").slice(1, 8).map((line) => line.trim().split(":")[0]), ["PASS gzip", "PASS tar", "PASS top-folder", "PASS names", "PASS setup-py", "PASS dependencies", "PASS identity"]);
    assert.equal(run.stderr, "");
  });

  test("a failing archive: exit 1, the failed checks named on stderr with a hint", async () => {
    const run = await runMpip(["check", file("good-1.0.tar.gz"), file("bad-1.0.tar.gz")]);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /bad-1\.0\.tar\.gz: fails\n  FAIL gzip: needs a 32 KiB inflate window/);
    assert.match(run.stdout, /  FAIL setup-py: /);
    assert.match(run.stderr, /^error: 1 of 2 archives failed: `[^`]*bad-1\.0\.tar\.gz`: gzip, setup-py\n\nhint: `mpip repack SDIST`/);
  });

  test("--json for CI, and a file that is not there is bad usage", async () => {
    const run = await runMpip(["check", "--json", file("good-1.0.tar.gz"), file("bad-1.0.tar.gz")]);
    assert.equal(run.code, 1);
    const report = JSON.parse(run.stdout) as { ok: boolean; archives: ArchiveReport[] };
    assert.equal(report.ok, false);
    assert.deepEqual(report.archives.map((a) => a.ok), [true, false]);
    assert.deepEqual(report.archives[1]!.checks.filter((c) => c.status === "fail").map((c) => c.id), ["gzip", "setup-py"]);
    const missing = await runMpip(["check", file("nope.tar.gz")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /error: `[^`]*nope\.tar\.gz` \(given to check\): there is nothing at that path/);
  });
});

test("a 12-digit size field, which a device reader reads as another number, fails the tar check", () => {
  const body = "X = 1\n";
  const twelveDigits = Buffer.from(body.length.toString(8).padStart(12, "0"), "latin1");
  const tar = Buffer.concat([
    tarEntry({ name: "t-1/", typeflag: "5" }),
    tarEntry({ name: "t-1/t.py", size: twelveDigits }, body),
    tarEntry({ name: "t-1/t.egg-info/requires.txt" }, ""),
    tarEnd(),
  ]);
  const report = checkArchive(gzipReproducible(tar), "size12.tar.gz");
  const check = report.checks.find((entry) => entry.id === "tar");
  assert.equal(check?.status, "fail", JSON.stringify(report.checks));
  assert.match(check!.details.join("\n"), /its size field holds 6, but a device reader, which reads 11 digits, sees 0/);
});
