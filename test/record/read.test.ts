// Reading install records (src/record/read.ts, csv.ts, inventory.ts) from targets built by hand as pip
// --target writes them, plus mpip.json; and hostile records: paths that leave the target, malformed CSV,
// huge or special files, bad encodings. Every problem is a warning naming its file, never a crash.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdir, rm, symlink, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { parseRecordCsv } from "../../src/record/csv.js";
import { fileState, ownedFiles, takeInventory } from "../../src/record/inventory.js";
import { checkRecordPath, readRecords, RECORD_FILE_LIMITS } from "../../src/record/read.js";
import { stagedRecordFile, stageRecord } from "../../src/record/write.js";
import { BIN, ROOT, runCommand, tempDir } from "../helpers/cli.js";
import { distInfoName, recordHash, writeRecordedPackage } from "../helpers/dist-info.js";

let work: { dir: string; cleanup: () => Promise<void> };
let target: string;
beforeEach(async () => {
  work = await tempDir("mpip-record-");
  target = path.join(work.dir, "image");
  await mkdir(target);
});
afterEach(() => work.cleanup());

describe("readRecords: pip's and mpip's records", () => {
  test("reads METADATA, RECORD, INSTALLER, REQUESTED, direct_url.json and mpip.json", async () => {
    await writeRecordedPackage(target, {
      name: "Sensor.Kit",
      version: "2.0.1",
      summary: "drivers for a made-up sensor",
      requires: ["bus-helper>=1.1", "cpython-thing; implementation_name == 'cpython'"],
      files: { "sensor_kit/__init__.py": "A = 1\n", "sensor_kit/table.bin": new Uint8Array([0, 1, 2]) },
      installer: "mpip",
      directUrl: { url: "https://files.example/sensor_kit-2.0.1.tar.gz", archive_info: { hashes: { sha256: "ab".repeat(32) } } },
      mpip: { index: null, kind: "url", artifact: "dist", url: "https://files.example/sensor_kit-2.0.1.tar.gz", sha256: "ab".repeat(32), spec: "https://files.example/sensor_kit-2.0.1.tar.gz" },
    });
    await writeRecordedPackage(target, { name: "bus_helper", version: "1.3", files: { "bus_helper.py": "B = 2\n" }, requested: false });
    const records = await readRecords(target);
    assert.deepEqual(records.warnings, []);
    assert.deepEqual(records.distributions.map((distribution) => distribution.key), ["bus-helper", "sensor-kit"]);
    const [bus, sensor] = records.distributions as [typeof records.distributions[0], typeof records.distributions[0]];
    assert.equal(sensor.name, "Sensor.Kit");
    assert.equal(sensor.version, "2.0.1");
    assert.equal(sensor.summary, "drivers for a made-up sensor");
    assert.deepEqual(sensor.requiresDist, ["bus-helper>=1.1", "cpython-thing; implementation_name == 'cpython'"]);
    assert.equal(sensor.distInfo, distInfoName("Sensor.Kit", "2.0.1"));
    assert.equal(sensor.installer, "mpip");
    assert.equal(sensor.requested, true);
    assert.equal(bus.requested, false);
    assert.equal(bus.installer, "pip");
    assert.deepEqual(sensor.directUrl, { url: "https://files.example/sensor_kit-2.0.1.tar.gz", info: { type: "archive", hashes: { sha256: "ab".repeat(32) } } });
    assert.equal(sensor.origin?.kind, "url");
    assert.equal(sensor.origin?.spec, "https://files.example/sensor_kit-2.0.1.tar.gz");
    assert.equal(sensor.recordComplete, true);
    const init = sensor.rows.find((row) => row.path === "sensor_kit/__init__.py");
    assert.deepEqual(init, { path: "sensor_kit/__init__.py", hash: { algorithm: "sha256", digest: recordHash("A = 1\n").slice(7) }, size: 6 });
    assert.deepEqual(sensor.rows.find((row) => row.path.endsWith("/RECORD")), { path: `${sensor.distInfo}/RECORD` });
  });

  test("a record mpip writes for a micropython-lib name that PEP 508 refuses (`__future__`) reads back", async () => {
    await writeFile(path.join(target, "__future__.py"), "nested_scopes = True\n");
    const staging = path.join(work.dir, "staging");
    const staged = await stageRecord(staging, {
      name: "__future__",
      version: "0.1",
      requiresDist: [],
      requested: true,
      provenance: { index: "https://example.invalid/mip/v2", kind: "mip", artifact: "package-json", url: null, sha256: null, spec: null, build: { compile: "no", mpy: null } },
      files: [{ path: "__future__.py", staged: path.join(target, "__future__.py") }],
    });
    await mkdir(path.join(target, staged.distInfo));
    for (const file of staged.files) await cp(stagedRecordFile(staged, file), path.join(target, file));
    const records = await readRecords(target);
    assert.deepEqual(records.warnings, []);
    assert.deepEqual(records.distributions.map((distribution) => [distribution.name, distribution.version, distribution.distInfo]), [["__future__", "0.1", staged.distInfo]]);
    assert.deepEqual((await takeInventory(target)).unrecorded, []);
  });

  test("many records are read side by side: each as alone, their problems said in the folders' order, with few files open at once", async () => {
    const names: string[] = [];
    for (let i = 0; i < 120; i++) {
      const name = `pkg-${String(i).padStart(3, "0")}`;
      // Every seventh has a RECORD row of two fields, every eleventh no INSTALLER, every fifth is not requested.
      const folder = await writeRecordedPackage(target, { name, version: "1.0", files: { [`${name.replace("-", "_")}.py`]: `N = ${i}\n` }, requested: i % 5 !== 0, ...(i % 7 === 0 ? { record: `${name.replace("-", "_")}.py,\n` } : {}) });
      if (i % 11 === 0) await rm(path.join(target, folder, "INSTALLER"));
      names.push(folder);
    }
    // A file where a folder should be, amid the folders.
    await writeFile(path.join(target, "pkg_050-9.dist-info"), "");
    const records = await readRecords(target);
    assert.equal(records.distributions.length, 120);
    records.distributions.forEach((distribution, i) => {
      assert.equal(distribution.distInfo, names[i]);
      assert.equal(distribution.requested, i % 5 !== 0, `${distribution.distInfo} REQUESTED`);
      assert.equal(distribution.installer, i % 11 === 0 ? undefined : "pip", `${distribution.distInfo} INSTALLER`);
      assert.equal(distribution.recordComplete, i % 7 !== 0);
      assert.deepEqual(distribution.infoFiles, ["INSTALLER", "METADATA", "RECORD", "REQUESTED"].filter((file) => !(file === "INSTALLER" && i % 11 === 0) && !(file === "REQUESTED" && i % 5 === 0)).map((file) => `${names[i]}/${file}`));
    });
    const named = records.warnings.map((warning) => /^`([^`/]+)/.exec(warning)?.[1]);
    const expected = [...names.filter((_, i) => i % 7 === 0), "pkg_050-9.dist-info"].sort();
    assert.deepEqual(named, expected, "one warning for each broken RECORD, and the file, in the folders' order");
    // The CLI reads them all under a low limit of open files (one that reading them all at once exceeds).
    const run = await runCommand("sh", ["-c", 'ulimit -n 32 && exec "$0" "$@"', process.execPath, BIN, "list", "-p", target, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as { packages: unknown[]; warnings: string[] };
    assert.equal(doc.packages.length, 120);
    assert.deepEqual(doc.warnings, records.warnings, "no file failed to open");
  });

  test("near the limit of open files, a record file or folder is opened again once others close: none reads as broken", async () => {
    for (let i = 0; i < 30; i++) await writeRecordedPackage(target, { name: `bolt-${i}`, version: "1.0", files: { [`bolt_${i}.py`]: `B = ${i}\n` } });
    // A process that holds every descriptor it may open but one, and gives them back 100 ms after it
    // starts reading. (Before: the reads that found none free made records read as broken, with warnings
    // such as "METADATA cannot be read (EMFILE)", and their packages as not installed.)
    const script = path.join(work.dir, "starved.mts");
    await writeFile(
      script,
      [
        'import { closeSync, openSync } from "node:fs";',
        `import { readRecords } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "src", "record", "read.ts")).href)};`,
        "const held: number[] = [];",
        "try { for (;;) held.push(openSync(\"/dev/null\", \"r\")); } catch {}",
        "closeSync(held.pop()!);",
        "setTimeout(() => { for (const fd of held.splice(0)) closeSync(fd); }, 100);",
        "const records = await readRecords(process.argv[2]!);",
        "process.stdout.write(JSON.stringify({ names: records.distributions.map((d) => d.name), infoFiles: records.distributions.map((d) => d.infoFiles.length), warnings: records.warnings }));",
        "",
      ].join("\n"),
    );
    const run = await runCommand("sh", ["-c", 'ulimit -n 64 && exec "$0" "$@"', process.execPath, "--import", "tsx", script, target], { cwd: ROOT });
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { names: string[]; infoFiles: number[]; warnings: string[] };
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.names, Array.from({ length: 30 }, (_, i) => `bolt-${i}`).sort());
    assert.deepEqual(result.infoFiles, Array.from({ length: 30 }, () => 4), "INSTALLER, METADATA, RECORD, REQUESTED of each");
  });

  test("a target that does not exist is a bad-target error; one with no records reads as empty", async () => {
    await assert.rejects(readRecords(path.join(work.dir, "nothing-here")), (error: unknown) => error instanceof MpipError && error.code === "bad-target");
    assert.deepEqual((await readRecords(target)).distributions, []);
  });
});

describe("RECORD as CSV", () => {
  test("quoted fields with commas, quotes and line breaks; CRLF, LF and CR row ends; empty rows skipped", () => {
    const text = '"a,b.py",sha256=x,1\r\n"say ""hi"".py",,\n\n"two\nlines.py",,2\rlast.py,,3';
    const parsed = parseRecordCsv(text);
    assert.equal(parsed.error, undefined);
    assert.deepEqual(parsed.rows.map((row) => row.fields), [["a,b.py", "sha256=x", "1"], ['say "hi".py', "", ""], ["two\nlines.py", "", "2"], ["last.py", "", "3"]]);
    assert.deepEqual(parsed.rows.map((row) => row.line), [1, 2, 4, 6]);
  });

  test("a quoted field never closed stops reading at its line", () => {
    const parsed = parseRecordCsv('ok.py,,1\n"broken.py,,2\nmore.py,,3\n');
    assert.deepEqual(parsed.rows.map((row) => row.fields[0]), ["ok.py"]);
    assert.deepEqual(parsed.error, { line: 2, message: "a quoted field is never closed" });
  });

  test("paths that leave the target or name mpip's own files are refused; others normalized", () => {
    for (const bad of ["../evil.py", "a/../../evil.py", "/etc/passwd", "C:/x.py", "c:x.py", "a\\b.py", "", ".", "a/..", "x\u0000y", "x\ny.py", ".mpip-journal", "pkg/.img.mpip-lock", ".MPIP-LOCK"]) {
      assert.equal(checkRecordPath(bad).ok, false, bad);
    }
    assert.deepEqual(checkRecordPath("./pkg//mod.py"), { ok: true, path: "pkg/mod.py" });
    assert.deepEqual(checkRecordPath("pkg/sub/../mod.py"), { ok: true, path: "pkg/mod.py" });
  });
});

describe("hostile records", () => {
  async function recordWith(rows: string): Promise<string> {
    return writeRecordedPackage(target, { name: "victim", version: "1.0", files: { "victim.py": "V = 1\n" }, record: rows });
  }

  test("rows leaving the target, naming mpip's files or another package's record are dropped with a warning naming the line", async () => {
    await writeFile(path.join(work.dir, "outside.py"), "keep me\n");
    await writeRecordedPackage(target, { name: "other", version: "1.0", files: { "other.py": "O\n" } });
    await recordWith(["victim.py,,", "../outside.py,,", "/etc/passwd,,", ".mpip-journal,,", `${distInfoName("other", "1.0")}/METADATA,,`, "victim.py,,"].join("\n"));
    const records = await readRecords(target);
    const victim = records.distributions.find((distribution) => distribution.key === "victim")!;
    assert.deepEqual(victim.rows.map((row) => row.path), ["victim.py"]);
    assert.equal(victim.recordComplete, false);
    const folder = distInfoName("victim", "1.0");
    assert.match(victim.problems.join("\n"), new RegExp(`\`${folder}/RECORD\` line 2: \`\\.\\./outside\\.py\` lies outside the target`));
    assert.match(victim.problems.join("\n"), /line 3: `\/etc\/passwd` is absolute/);
    assert.match(victim.problems.join("\n"), /line 4: `\.mpip-journal` names one of mpip's own files/);
    assert.match(victim.problems.join("\n"), /line 5: .* another package's record folder/);
    const inventory = await takeInventory(target);
    assert.equal(inventory.owners.get(`${distInfoName("other", "1.0")}/METADATA`)?.key, "other");
  });

  test("wrong field counts, bad hashes and sizes, an unclosed quote: warnings, the good rows kept", async () => {
    await recordWith(["victim.py,sha256=!!!,12x", "a,b", "x.py,,1,extra", '"open.py,,'].join("\n"));
    const victim = (await readRecords(target)).distributions[0]!;
    assert.deepEqual(victim.rows, [{ path: "victim.py" }]);
    const text = victim.problems.join("\n");
    assert.match(text, /line 1: `sha256=!!!` is not a hash/);
    assert.match(text, /line 1: `12x` is not a size/);
    assert.match(text, /line 2: a row has 2 fields, not 3/);
    assert.match(text, /line 3: a row has 4 fields, not 3/);
    assert.match(text, /line 4: a quoted field is never closed/);
  });

  test("a RECORD too large, a link, a FIFO, or not UTF-8: a warning naming it, and no file is taken as recorded", async () => {
    const folder = await recordWith("victim.py,,\n");
    const record = path.join(target, folder, "RECORD");
    const expectProblem = async (pattern: RegExp) => {
      const victim = (await readRecords(target)).distributions[0]!;
      assert.deepEqual(victim.rows, []);
      assert.equal(victim.recordComplete, false);
      assert.match(victim.problems.join("\n"), pattern);
      assert.deepEqual((await takeInventory(target)).unrecorded, ["victim.py"]);
    };
    await truncate(record, RECORD_FILE_LIMITS.RECORD + 1);
    await expectProblem(new RegExp(`\`${folder}/RECORD\` is ${RECORD_FILE_LIMITS.RECORD + 1} bytes, more than the`));
    await writeFile(record, Buffer.from([0x76, 0x69, 0xff, 0xfe, 0x2c, 0x2c, 0x0a]));
    await expectProblem(/RECORD` is not UTF-8 text/);
    await rm(record);
    await writeFile(path.join(work.dir, "elsewhere"), "victim.py,,\n");
    await symlink(path.join(work.dir, "elsewhere"), record);
    await expectProblem(/RECORD` is a symbolic link/);
    await rm(record);
    if (spawnSync("mkfifo", [record]).status === 0) await expectProblem(/RECORD` is not a regular file/);
  });

  test("METADATA without a name or version, or not UTF-8, leaves the folder out with a warning naming the file", async () => {
    const folder = await writeRecordedPackage(target, { name: "nameless", version: "1.0", files: { "nameless.py": "N\n" }, metadata: "Metadata-Version: 2.1\nVersion: 1.0\n" });
    await writeRecordedPackage(target, { name: "badbytes", version: "1.0", files: { "badbytes.py": "B\n" }, metadata: Buffer.from([0x4e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xc3, 0x28, 0x0a]) });
    await writeRecordedPackage(target, { name: "weird", version: "1.0", files: { "weird.py": "W\n" }, metadata: "Name: ../../x\nVersion: 1.0\n" });
    const records = await readRecords(target);
    assert.deepEqual(records.distributions, []);
    const text = records.warnings.join("\n");
    assert.match(text, new RegExp(`\`${folder}/METADATA\`: it has no \`Name:\` header`));
    assert.match(text, /badbytes-1\.0\.dist-info\/METADATA` is not UTF-8 text/);
    assert.match(text, /`Name: \.\.\/\.\.\/x` is not a valid project name/);
    const inventory = await takeInventory(target);
    assert.ok(inventory.unrecorded.includes("nameless.py") && inventory.unrecorded.includes(`${folder}/METADATA`));
  });

  test("direct_url.json and mpip.json that are not what they should be are warnings; the record still reads", async () => {
    const folder = await writeRecordedPackage(target, { name: "pkg", version: "1.0", files: { "pkg.py": "P\n" }, directUrl: { url: 5 }, mpip: ["not", "an", "object"] });
    await writeFile(path.join(target, folder, "INSTALLER"), Buffer.alloc(RECORD_FILE_LIMITS.INSTALLER + 10, 0x61));
    const records = await readRecords(target);
    const pkg = records.distributions[0]!;
    assert.equal(pkg.directUrl, undefined);
    assert.equal(pkg.origin, undefined);
    assert.equal(pkg.installer, undefined);
    const text = pkg.problems.join("\n");
    assert.match(text, new RegExp(`\`${folder}/direct_url\\.json\`: it has no \`url\``));
    assert.match(text, /mpip\.json`: it is not a JSON object/);
    assert.match(text, /INSTALLER` is \d+ bytes, more than the/);
    await writeFile(path.join(target, folder, "mpip.json"), "{not json");
    assert.match((await readRecords(target)).warnings.join("\n"), /mpip\.json` is not valid JSON/);
  });
});

describe("takeInventory: whose each file is", () => {
  test("unrecorded files are listed; mpip's own lock, journal and staging names are passed over", async () => {
    await writeRecordedPackage(target, { name: "app", version: "1.0", files: { "app/__init__.py": "A\n" } });
    await writeFile(path.join(target, "by_hand.py"), "H\n");
    await mkdir(path.join(target, "upip_pkg"));
    await writeFile(path.join(target, "upip_pkg", "__init__.py"), "U\n");
    await writeFile(path.join(target, ".mpip-lock"), "");
    await mkdir(path.join(target, ".mpip-staging-12-abcdef01"));
    await writeFile(path.join(target, ".mpip-staging-12-abcdef01", "x.py"), "");
    const inventory = await takeInventory(target);
    assert.deepEqual(inventory.unrecorded, ["by_hand.py", "upip_pkg/__init__.py"]);
    const app = inventory.distributions[0]!;
    assert.deepEqual(ownedFiles(inventory, app), ["app-1.0.dist-info/INSTALLER", "app-1.0.dist-info/METADATA", "app-1.0.dist-info/RECORD", "app-1.0.dist-info/REQUESTED", "app/__init__.py"]);
  });

  test("a file two records list belongs to the one whose hash matches it now", async () => {
    await writeRecordedPackage(target, { name: "first", version: "1.0", files: { "shared/util.py": "old\n", "first.py": "F\n" } });
    await writeRecordedPackage(target, { name: "second", version: "1.0", files: { "shared/util.py": "new\n", "second.py": "S\n" } });
    const inventory = await takeInventory(target);
    assert.equal(inventory.owners.get("shared/util.py")?.key, "second");
    assert.deepEqual(inventory.shared.get("shared/util.py")?.map((distribution) => distribution.key), ["second", "first"]);
    assert.ok(!ownedFiles(inventory, inventory.distributions.find((distribution) => distribution.key === "first")!).includes("shared/util.py"));
    // Written again with the first's bytes: now it is the first's.
    await writeFile(path.join(target, "shared/util.py"), "old\n");
    assert.equal((await takeInventory(target)).owners.get("shared/util.py")?.key, "first");
  });

  test("a linked folder is not walked: a record cannot reach files outside the target through it", async () => {
    await mkdir(path.join(work.dir, "outside"));
    await writeFile(path.join(work.dir, "outside", "secret.py"), "S\n");
    await symlink(path.join(work.dir, "outside"), path.join(target, "link"));
    await writeRecordedPackage(target, { name: "sneaky", version: "1.0", files: {}, record: "link/secret.py,,\n" });
    const inventory = await takeInventory(target);
    assert.equal(inventory.files.get("link")?.kind, "link");
    assert.equal(inventory.files.has("link/secret.py"), false);
    assert.equal(inventory.owners.has("link/secret.py"), false);
  });

  test("a file name that is not UTF-8 is a warning naming its folder", async () => {
    await mkdir(path.join(target, "pkg"));
    const name = Buffer.concat([Buffer.from(path.join(target, "pkg") + "/"), Buffer.from([0x66, 0xff, 0x2e, 0x70, 0x79])]);
    try {
      await writeFile(name, "x");
    } catch {
      return; // a filesystem that takes only UTF-8 names (macOS): nothing to test
    }
    const inventory = await takeInventory(target);
    assert.match(inventory.warnings.join("\n"), /`pkg\/f\\xff\.py`: the name is not UTF-8/);
    assert.deepEqual(inventory.unrecorded, []);
  });

  test("fileState: unchanged, changed (bytes or size), missing, unchecked (no hash)", async () => {
    const folder = await writeRecordedPackage(target, { name: "pkg", version: "1.0", files: { "a.py": "A\n", "b.py": "B\n", "c.py": "C\n", "d.py": "D\n" } });
    await writeFile(path.join(target, "b.py"), "X\n"); // same size, other bytes
    await writeFile(path.join(target, "c.py"), "longer\n");
    await rm(path.join(target, "d.py"));
    const inventory = await takeInventory(target);
    const pkg = inventory.distributions[0]!;
    const state = async (file: string) => fileState(inventory, pkg.rows.find((row) => row.path === file)!);
    assert.equal(await state("a.py"), "unchanged");
    assert.equal(await state("b.py"), "changed");
    assert.equal(await state("c.py"), "changed");
    assert.equal(await state("d.py"), "missing");
    assert.equal(await state(`${folder}/RECORD`), "unchecked");
  });
});
