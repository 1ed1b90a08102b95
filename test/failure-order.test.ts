// When several things an install asks for fail, the failure it reports is the first in the order they
// were asked for (as pip, working through them one at a time, would meet them), never whichever answer
// came back first (src/cancel.ts). Each case makes each failing request answer last in turn, by holding
// its answer back, and expects the same error both ways:
// - names missing from the index, on the command line and as a package's dependencies;
// - archives that are not what their index says (a sha256 mismatch), among a level's packages;
// - a file of a micropython-lib package document that answers 404 (a part of that package's task), beside
//   a name missing from the index;
// - files missing under a locked install;
// - sources that do not compile, under --compile (the order is the package's files', whichever compiles
//   first);
// - an index doubted for the names missing from it, beside a look-up made ahead for a dependency (which
//   starts whenever the package that needs it has been read, and so does not count).
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { runMpip, tempDir } from "./helpers/cli.js";

/** How long the answer held back waits: long enough that the others surely come back first. */
const LATE_MS = 400;

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
/** The paths answered last: any path that contains one of these. */
let late: string[] = [];
let runs = 0;

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  work = await tempDir("mpip-failure-order-");
  server.delayFor = (where) => (late.some((part) => where.includes(part)) ? LATE_MS : 0);
  await server.addSdist({ name: "app", version: "1.0", files: { "app.py": "" }, requires: ["dep-one", "dep-two"] });
  for (const name of ["spoilt-one", "spoilt-two", "kept-one", "kept-two"]) await server.addSdist({ name, version: "1.0", files: { [`${name.replace("-", "_")}.py`]: `N = "${name}"\n` } });
  await mip.publish({ name: "holed", version: "1.0", mpy: false, files: { "holed/a.py": "A = 1\n", "holed/b.py": "B = 1\n" } });
  mip.removeFile(mip.hashOf("py", "holed", "holed/a.py", "1.0"));
  // Two sources that do not compile: the first one listed takes far longer to compile than the second.
  const long = Array.from({ length: 20000 }, (_, at) => `x${at} = ${at}`).join("\n");
  await server.addSdist({ name: "uncompiled", version: "1.0", files: { "uncompiled/first.py": `${long}\ndef (:\n`, "uncompiled/second.py": "def (:\n" } });
});
after(async () => {
  await server?.close();
  await work?.cleanup();
});

/** `mpip install` into a fresh target, from the given indexes. */
function install(indexes: string[], ...args: string[]) {
  const target = path.join(work.dir, `target-${++runs}`);
  return runMpip(["install", "--retries", "0", "-p", target, ...indexes.flatMap((index) => ["-i", index]), ...args]);
}

/** Each of `parts` answering last in turn: `check` runs once for each. */
async function eachLast(parts: string[], check: (lastOne: string) => Promise<void>): Promise<void> {
  for (const part of parts) {
    late = [part];
    try {
      await check(part);
    } finally {
      late = [];
    }
  }
}

describe("the failure reported is the first asked for, whichever answers last", () => {
  test("two names missing from the index, on the command line: the first named, in either order given", async () => {
    for (const [first, second] of [["absent-one", "absent-two"], ["absent-two", "absent-one"]]) {
      await eachLast([`/${first}/`, `/${second}/`], async (lastOne) => {
        const result = await install([server.url], first!, second!);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, new RegExp(`^error: package \`${first}\` was not found in `, "m"), `${first} ${second}, ${lastOne} answering last:\n${result.stderr}`);
        // The test server has no root page: the index is doubted, naming both, sorted, not as they came back.
        assert.match(result.stderr, /every package asked for \(`absent-one`, `absent-two`\) was missing/, result.stderr);
      });
    }
  });

  test("two dependencies missing: the first the package requires", async () => {
    await eachLast(["/dep-one/", "/dep-two/"], async (lastOne) => {
      const result = await install([server.url], "app");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: `app 1\.0` requires `dep-one`, but package `dep-one` was not found in /m, `${lastOne} answering last:\n${result.stderr}`);
    });
  });

  test("two archives that are not what the index says: the first asked for", async () => {
    const spoilt = server.fault(({ route, path: where }) => route === "file" && where.includes("spoilt"), { type: "wrong-digest" });
    try {
      for (const [first, second] of [["spoilt-one", "spoilt-two"], ["spoilt-two", "spoilt-one"]]) {
        await eachLast([`/${first}-1.0.tar.gz`, `/${second}-1.0.tar.gz`], async (lastOne) => {
          const result = await install([server.url], first!, second!);
          assert.equal(result.code, 1, result.stderr);
          assert.match(result.stderr, /sha256/, result.stderr);
          assert.match(result.stderr, new RegExp(`^error: .*${first!.replace("-", "[-_]")}`, "m"), `${first} ${second}, ${lastOne} answering last:\n${result.stderr}`);
          assert.doesNotMatch(result.stderr.split("\n")[0]!, new RegExp(second!.replace("-", "[-_]")));
        });
      }
    } finally {
      spoilt.remove();
    }
  });

  test("a package document's file answering 404 beside a name missing from the index: the first asked for", async () => {
    const indexes = [mip.base, server.url];
    const missingFile = `/${mip.hashOf("py", "holed", "holed/a.py", "1.0")}`;
    await eachLast([missingFile, "/absent-one/"], async (lastOne) => {
      const nameFirst = await install(indexes, "absent-one", "holed");
      assert.equal(nameFirst.code, 1, nameFirst.stderr);
      assert.match(nameFirst.stderr, /^error: package `absent-one` was not found in /m, `${lastOne} answering last:\n${nameFirst.stderr}`);

      const fileFirst = await install(indexes, "holed", "absent-one");
      assert.equal(fileFirst.code, 1, fileFirst.stderr);
      assert.match(fileFirst.stderr, /^error: the package document `[^`]+` lists `holed\/a\.py` of `holed 1\.0` .* answered 404$/m, `${lastOne} answering last:\n${fileFirst.stderr}`);
    });
  });

  test("two sources that do not compile, under --compile: the first the package lists, whichever compiles first", async () => {
    for (const jobs of ["1", "4"]) {
      const result = await install([server.url], "--compile", "--jobs", jobs, "uncompiled");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^error: in `uncompiled 1\.0` .*could not compile `uncompiled\/first\.py`: SyntaxError/m, `--jobs ${jobs}:\n${result.stderr}`);
    }
  });

  // Whether an index is doubted (and which names it is said to miss) is decided by the look-ups the levels
  // made. The one made ahead for `dep-kept` starts only once `needs-dep` has been read: had it counted, it
  // would have found `dep-kept` on the first index (no doubt) when `needs-dep` came early, and not yet
  // have been made (a doubt) when `needs-dep` came late.
  test("a name missing from an index, beside a package whose dependency that index has: the same error, whenever that package comes", async () => {
    const other = await startIndexServer();
    try {
      await server.addSdist({ name: "needs-dep", version: "1.0", files: { "needs_dep.py": "" }, requires: ["dep-kept"] });
      await other.addSdist({ name: "dep-kept", version: "1.0", files: { "dep_kept.py": "" } });
      other.delayFor = server.delayFor;
      const errors = new Set<string>();
      await eachLast(["/absent-one/", "/needs-dep-1.0.tar.gz"], async (lastOne) => {
        const result = await install([other.url, server.url], "absent-one", "needs-dep");
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /^error: package `absent-one` was not found in /m, `${lastOne} answering last:\n${result.stderr}`);
        assert.match(result.stderr, /the index at `[^`]+` did not answer like an index: .*every package asked for \(`absent-one`, `needs-dep`\) was missing$/m, `${lastOne} answering last:\n${result.stderr}`);
        errors.add(result.stderr.replace(/^(?!error: ).*$/gm, "").trim());
      });
      assert.equal(errors.size, 1, [...errors].join("\n---\n"));
    } finally {
      await other.close();
    }
  });

  test("a locked install whose two files are gone: the first the lock lists", async () => {
    const lockFile = path.join(work.dir, "pylock.toml");
    const locked = await runMpip(["lock", "-q", "-i", server.url, "-o", lockFile, "kept-one", "kept-two"]);
    assert.equal(locked.code, 0, locked.stderr);
    const gone = server.fault(({ route, path: where }) => route === "file" && where.includes("kept"), { type: "status", status: 404 });
    try {
      await eachLast(["/kept-one-1.0.tar.gz", "/kept-two-1.0.tar.gz"], async (lastOne) => {
        const result = await install([], "--lock", lockFile);
        assert.equal(result.code, 1, result.stderr);
        const [line] = result.stderr.split("\n");
        assert.match(line!, /404/, result.stderr);
        assert.match(line!, /kept[-_]one/, `${lastOne} answering last:\n${result.stderr}`);
        assert.doesNotMatch(line!, /kept[-_]two/);
      });
    } finally {
      gone.remove();
    }
  });
});
