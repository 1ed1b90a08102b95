// What a FAT device sees of a name (src/archive/fat-names.ts), and every place that decides a name using
// it: tar entry paths, package-document destinations and module names (checkEntryPath), the index of
// clashes, and the layout of a whole archive. Inputs are built from the classes: every DOS device name
// with extensions and cases, every forbidden character, trailing dots and spaces in any segment, NFC and NFD.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CaseIndex, caseClashWarnings, describeClash, exact } from "../../src/archive/case-fold.js";
import { checkEntryPath, stripEntryPath } from "../../src/archive/entry-path.js";
import { FAT_HINT, fatFold, fatNameProblem, fatPathProblem } from "../../src/archive/fat-names.js";
import { ArchiveLayout, type Admission } from "../../src/archive/layout.js";
import type { TarEntry } from "../../src/archive/tar-reader.js";
import { writeTar } from "../../src/pack/writer.js";
import { throwsMpip } from "../helpers/expect.js";

const DEVICES = ["CON", "PRN", "AUX", "NUL", ...Array.from({ length: 10 }, (_, i) => `COM${i}`), ...Array.from({ length: 10 }, (_, i) => `LPT${i}`), "COM¹", "LPT³", "CONIN$", "CONOUT$"];
const EXTENSIONS = ["", ".py", ".txt", ".tar.gz", ".PY", " .py"];
const spellings = (name: string) => [name, name.toLowerCase(), name[0]! + name.slice(1).toLowerCase()];

/** Every way a DOS device name can be spelt as a file name. */
function deviceNames(): string[] {
  return DEVICES.flatMap((device) => spellings(device).flatMap((spelling) => EXTENSIONS.map((extension) => `${spelling}${extension}`)));
}

describe("names FAT cannot hold", () => {
  test("DOS device names, in any case and with any extension", () => {
    for (const name of deviceNames()) assert.match(fatNameProblem(name) ?? "", /is the DOS device name `[A-Z0-9¹²³$]+`/, name);
  });

  test("names that only start like a device, or hold one further on, are fine", () => {
    for (const name of ["console.py", "auxiliary.py", "com10.py", "lpt.py", "nul_driver.py", "my.con", "aux-1.0", "_aux.py", "conin.py", "com1x.py", "prn2.txt"]) {
      assert.equal(fatNameProblem(name), undefined, name);
    }
  });

  test("every character FAT and Windows refuse, anywhere in the name", () => {
    const forbidden = ['"', "*", ":", "<", ">", "?", "|", "\\", "/", "\x01", "\x1f", "\x7f"];
    for (const char of forbidden) {
      for (const name of [`${char}mod.py`, `mo${char}d.py`, `mod.py${char}`]) assert.match(fatNameProblem(name) ?? "", /contains/, JSON.stringify(name));
    }
  });

  test("trailing dots and spaces, and names of only dots and spaces", () => {
    for (const name of ["mod.py.", "mod.py ", "mod.py. .", "pkg.", "pkg ", "a..", "x\u3000."]) {
      assert.match(fatNameProblem(name) ?? "", /ends in a (dot|space), which FAT and Windows strip: it would be `/, JSON.stringify(name));
    }
    assert.match(fatNameProblem("mod.py.") ?? "", /it would be `mod\.py`/);
    for (const name of ["...", " ", ". .", "  ..  "]) assert.match(fatNameProblem(name) ?? "", /only dots and spaces/, JSON.stringify(name));
  });

  test("leading dots and spaces, inner dots, non-ASCII and long names are fine", () => {
    for (const name of [".hidden", " lead.py", "a.b.c.py", "naïve.py", "日本語.py", "e\u0301.py", "x".repeat(255), "[brackets]+(parens)&#@!.py"]) {
      assert.equal(fatNameProblem(name), undefined, JSON.stringify(name));
    }
  });

  test("a path is checked segment by segment, folders too", () => {
    assert.match(fatPathProblem("pkg/aux/mod.py") ?? "", /`aux` is the DOS device name `AUX`/);
    assert.match(fatPathProblem("pkg./mod.py") ?? "", /`pkg\.` ends in a dot/);
    assert.equal(fatPathProblem("pkg/sub/mod.py"), undefined);
  });

  test("the reason shows hostile text escaped", () => {
    assert.doesNotMatch(fatNameProblem("\u202eevil.py.") ?? "", /\u202e/);
  });
});

describe("one file on FAT", () => {
  test("case, trailing dots and spaces, and Unicode normalization fold to one key; other names do not", () => {
    const same: Array<[string, string]> = [
      ["pkg/Mod.py", "pkg/mod.py"], ["PKG/MOD.PY", "pkg/mod.py"], ["mod.py.", "mod.py"], ["mod.py ", "MOD.PY"], ["pkg./x.py", "pkg/x.py"],
      ["caf\u00e9.py", "cafe\u0301.py"], ["CAF\u00c9.py", "cafe\u0301.py"], ["\u212a.py", "k.py"], ["\u00c4/x", "a\u0308/X"],
    ];
    for (const [a, b] of same) assert.equal(fatFold(a), fatFold(b), `${a} ~ ${b}`);
    const different: Array<[string, string]> = [["mod.py", "mod.pyc"], ["a/b.py", "ab.py"], [".x", "x"], [" x", "x"], ["stra\u00dfe.py", "strasse.py"], ["a.b", "a b"]];
    for (const [a, b] of different) assert.notEqual(fatFold(a), fatFold(b), `${a} !~ ${b}`);
  });

  test("the index tells an NFD spelling from a case difference, and knows folder entries", () => {
    const index = new CaseIndex<string>();
    assert.deepEqual(index.add("pkg/caf\u00e9.py", "a"), []);
    const [nfd] = index.add("pkg/cafe\u0301.py", "a");
    assert.match(describeClash(nfd!), /differs only in Unicode normalization \(NFC against NFD\) from `pkg\/café\.py`: macOS/);
    const [upper] = index.add("pkg/CAFE\u0301.py", "a");
    assert.match(describeClash(upper!), /only by case and Unicode normalization/);
    const [folderEntry] = index.add("PKG", "a", "folder");
    assert.match(describeClash(folderEntry!), /^the folder `PKG` differs only by case from the folder `pkg`/);
    assert.deepEqual(index.add("pkg", "a", "folder"), [], "the same folder twice");
    const [fileOnFolder] = index.add("Pkg", "a", "file");
    assert.match(describeClash(fileOnFolder!), /^it is a file, and the folder `pkg` differs from it only by case/);
  });

  test("an exact index finds only the very same path twice, or as a file and a folder, whatever the order", () => {
    const orders: Array<Array<[string, "file" | "folder"]>> = [
      [["pkg/x", "folder"], ["pkg/x", "file"]],
      [["pkg/x", "file"], ["pkg/x", "folder"]],
      [["pkg/x", "file"], ["pkg/x/y.py", "file"]],
      [["pkg/x/y.py", "file"], ["pkg/x", "file"]],
      [["pkg/x.py", "file"], ["pkg/x.py", "file"]],
    ];
    const reasons = [/it is a file, but the archive also has a folder `pkg\/x`/, /it is a folder, and the archive also holds the file `pkg\/x`/, /its folder `pkg\/x` is also a file in the archive/, /it is a file, but the archive also has a folder `pkg\/x`/, /the archive holds this path twice/];
    orders.forEach((order, i) => {
      const index = new CaseIndex<undefined>(exact);
      const clashes = order.flatMap(([entry, kind]) => index.add(entry, undefined, kind));
      assert.equal(clashes.length, 1, JSON.stringify(order));
      assert.match(describeClash(clashes[0]!), reasons[i]!);
    });
    const index = new CaseIndex<undefined>(exact);
    assert.deepEqual([...index.add("pkg/Mod.py", undefined), ...index.add("pkg/mod.py", undefined)], [], "case is FAT's business, not the exact index's");
  });

  test("across packages: a warning that says how the names differ", () => {
    const warnings = caseClashWarnings([
      { name: "a", files: ["lib/caf\u00e9.py", "Util.py"] },
      { name: "b", files: ["lib/cafe\u0301.py", "util.py"] },
    ]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /`lib\/caf\u00e9\.py` \(from `a`\) and `lib\/cafe\u0301\.py` \(from `b`\) differ only in Unicode normalization .* they are one file/);
    assert.match(warnings[1]!, /differ only by case: on a case-insensitive filesystem/);
  });
});

describe("every name-deciding place uses the rule", () => {
  const refusedNames = (): string[] => [...deviceNames().filter((_, i) => i % 7 === 0), "mod.py.", "mod.py ", "...", "a?b.py", "a*b.py", "a<b.py", "a>b.py", "a|b.py", 'a"b.py'];

  test("tar entry names: each installed segment, files and folders alike; the stripped top folder is not installed", () => {
    for (const name of refusedNames()) {
      for (const raw of [`foo-1.0/${name}`, `foo-1.0/pkg/${name}/x.py`, `foo-1.0/${name}/`]) {
        const upip = stripEntryPath(raw, { upip: true });
        assert.equal(upip.ok, false, raw);
        if (!upip.ok) assert.equal(upip.hint, FAT_HINT, raw);
        assert.equal(stripEntryPath(raw).ok, false, raw);
      }
    }
    assert.deepEqual(stripEntryPath("aux.1./pkg/x.py", { upip: true }), { ok: true, path: "pkg/x.py" });
    assert.equal(stripEntryPath("./aux/x.py", { upip: true }).ok, false, "with `./` upip strips `.` and installs `aux/`");
  });

  test("destinations and module names (checkEntryPath), at any depth", () => {
    for (const name of refusedNames()) {
      for (const dest of [name, `lib/${name}`, `${name}/x.py`]) {
        const checked = checkEntryPath(dest);
        assert.equal(checked.ok, false, dest);
        if (!checked.ok) assert.match(checked.reason, /FAT and Windows|DOS device name/, dest);
      }
    }
    assert.deepEqual(checkEntryPath("lib/console.py"), { ok: true, path: "lib/console.py" });
  });

  test("the layout of an archive: names, file/folder in any order, FAT clashes among installed paths only", () => {
    const judge = (entries: Array<[string, TarEntry["type"]]>): Admission[] => {
      const layout = new ArchiveLayout();
      return entries.map(([name, type]) => layout.admit({ name, type, typeflag: type === "directory" ? "5" : "0" }));
    };
    const last = (entries: Array<[string, TarEntry["type"]]>) => judge(entries).at(-1)!;
    const refusedLast: Array<[Array<[string, TarEntry["type"]]>, RegExp]> = [
      [[["t/pkg/x/", "directory"], ["t/pkg/x", "file"]], /it is a file, but the archive also has a folder `pkg\/x`/],
      [[["t/pkg/x", "file"], ["t/pkg/x/", "directory"]], /it is a folder, and the archive also holds the file `pkg\/x`/],
      [[["t/pkg/x", "file"], ["t/pkg/x/y.py", "file"]], /its folder `pkg\/x` is also a file/],
      [[["t/pkg/x/y.py", "file"], ["t/pkg/x", "file"]], /it is a file, but the archive also has a folder/],
      [[["t/setup.py", "file"], ["t/setup.py/x", "file"]], /its folder `setup\.py` is also a file/],
      [[["t/x.egg-info/", "directory"], ["t/x.egg-info", "file"]], /it is a file, but the archive also has a folder/],
      [[["t/Pkg/", "directory"], ["t/pkg/a.py", "file"]], /its folder `pkg` differs only by case from the folder `Pkg`/],
      [[["t/mod.py", "file"], ["t/MOD.py", "file"]], /it differs only by case from `mod\.py`/],
      [[["t/caf\u00e9.py", "file"], ["t/cafe\u0301.py", "file"]], /only in Unicode normalization/],
      [[["t/pkg/", "directory"], ["t/pkg/aux.py", "file"]], /DOS device name `AUX`/],
      [[["t/mod.py.", "file"]], /ends in a dot/],
    ];
    for (const [entries, reason] of refusedLast) {
      const verdict = last(entries);
      assert.equal(verdict.ok, false, JSON.stringify(entries));
      if (!verdict.ok) assert.match(verdict.reason, reason, JSON.stringify(entries));
    }
    // Skipped files are not installed, so their case spellings are no clash on FAT.
    assert.deepEqual(judge([["t/README", "file"], ["t/readme", "file"], ["t/x.egg-info/PKG-INFO", "file"], ["t/X.egg-info/PKG-INFO", "file"]]).map((verdict) => verdict.ok), [true, true, true, true]);
    assert.deepEqual(judge([["t/", "directory"], ["t/pkg/", "directory"], ["t/pkg/", "directory"], ["t/pkg/a.py", "file"]]).map((verdict) => verdict.ok), [true, true, true, true]);
    assert.match(JSON.stringify(last([["t/l", "symlink"]])), /symlink entry/);
  });

  test("the archive writer (pack, repack) refuses such names and paths FAT makes one, naming the file", () => {
    const write = (...paths: string[]) => writeTar(paths.map((file) => ({ path: file, data: Buffer.from("") })), { mtime: 0 });
    for (const name of refusedNames()) {
      for (const file of [`p-1/${name}`, `p-1/pkg/${name}/x.py`]) throwsMpip(() => write("p-1/ok.py", file), "archive-name", "cannot write `p-1/");
    }
    const pairs: Array<[string, string, string]> = [["p-1/Mod.py", "p-1/mod.py", "only by case"], ["p-1/caf\u00e9.py", "p-1/cafe\u0301.py", "Unicode normalization"], ["p-1/Pkg/a.py", "p-1/pkg/b.py", "only by case"]];
    for (const [a, b, how] of pairs) {
      const error = throwsMpip(() => write(a, b), "archive-name", how);
      assert.match(error.hint ?? "", /rename the file or folder/);
    }
    throwsMpip(() => write("p-1/pkg", "p-1/pkg/x.py"), "archive-name", "`p-1/pkg` is both a file and a folder");
    assert.ok(write("p-1/console.py", "p-1/aux_1.py", "p-1/pkg/.hidden", "p-1/a.b.c.py").length > 0);
  });
});
