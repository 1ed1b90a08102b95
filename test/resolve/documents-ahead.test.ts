// On a micropython-lib v2 index, a dependency's package document is asked for as soon as the document
// naming it has been read, while that package's files are still coming (src/prepare/package-document.ts
// DocumentsAhead), and the result is the plan of the level-by-level walk: the built CLI against a real
// index server on 127.0.0.1.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { budget } from "../helpers/budget.js";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer, type Route } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";

let server: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  work = await tempDir("mpip-documents-ahead-");
  const publish = (name: string, version: string, deps: Array<[string, string]> = []) =>
    mip.publish({ name, version, mpy: false, deps, files: { [`${name}.py`]: `NAME = ${JSON.stringify(`${name} ${version}`)}\n` } });
  await publish("tower", "1.0", [["crane", "latest"], ["hoist", "latest"]]);
  await publish("crane", "1.0", [["cable", "latest"]]);
  await publish("hoist", "1.0");
  await publish("cable", "1.0");
  await publish("cable", "2.0");
  // Two packages of one level that ask for one name in other words: one looks it up ahead for any
  // version, and their level then asks for both requirements at once.
  await publish("left", "1.0", [["bolt", "latest"]]);
  await publish("right", "1.0", [["bolt", "1.0"]]);
  await publish("bolt", "1.0");
  await publish("bolt", "2.0");
  await publish("spire", "1.0", [["vane", "latest"]]);
  await publish("pin-a", "1.0", [["anchor", "1.0"]]);
  await publish("pin-b", "1.0", [["anchor", "1.0"]]);
  await publish("anchor", "1.0");
  await publish("anchor", "2.0");
  await publish("vane", "1.0");
  // A chain four levels deep: each document names the next.
  await publish("mast", "1.0", [["boom", "latest"]]);
  await publish("boom", "1.0", [["jib", "latest"]]);
  await publish("jib", "1.0", [["hook", "latest"]]);
  await publish("hook", "1.0");
  // Two roots asking for one name in other words: spindle (any version: 2.0) and spindle==1.0. What
  // spindle 2.0 names, no level will want.
  await publish("fork-x", "1.0", [["spindle", "latest"]]);
  await publish("fork-y", "1.0", [["spindle", "1.0"]]);
  await publish("spindle", "1.0");
  await publish("spindle", "2.0", [["whorl-a", "latest"], ["whorl-b", "latest"]]);
  await publish("whorl-a", "1.0");
  await publish("whorl-b", "1.0");
  // Two roots asking for gear in other words that choose one release: gear (2.0) and gear==2.0.
  await publish("cog-p", "1.0", [["gear", "latest"]]);
  await publish("cog-q", "1.0", [["gear", "2.0"]]);
  await publish("gear", "1.0");
  await publish("gear", "2.0");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** Lines of the summary that name what was installed, in order. */
const installedLines = (stderr: string) => stderr.split("\n").filter((line) => line.startsWith(" + "));
const documentRequests = (from: number) => server.requests.slice(from).filter((request) => request.includes("/package/"));

describe("package documents fetched ahead of their level", () => {
  /**
   * Installs `root` twice, into `name` with the files of `held` answered only once the document of
   * `awaited` has been asked for (or after 20 s, which a walk that asks for it only later takes), then
   * with --jobs 1: checks the first run waited for nothing, and that both runs installed the same image
   * and summary. Returns the documents the first run asked for.
   */
  async function installHolding(root: string, held: string, awaited: string, name: string): Promise<string[]> {
    const hashes = mip.document("py", held, "1.0")!.hashes.map(([, hash]) => hash);
    let awaitedAsked!: () => void;
    const asked = new Promise<"asked">((resolve) => (awaitedAsked = () => resolve("asked")));
    let opened: "asked" | "timeout" | undefined;
    const files = server.routes.find((route) => route.name === "mip-file")!;
    const documents = server.routes.find((route) => route.name === "mip-package")!;
    const holding: Route = {
      name: "held",
      pattern: new RegExp(`/mip/v2/(file/[0-9a-f]{2}/(${hashes.join("|")})|package/py/${awaited}/)`),
      async handle(context) {
        if (context.path.includes(`/package/py/${awaited}/`)) {
          awaitedAsked();
          return documents.handle({ ...context, match: documents.pattern.exec(context.path)! });
        }
        opened ??= await Promise.race([asked, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 20_000).unref())]);
        return files.handle({ ...context, match: files.pattern.exec(context.path)! });
      },
    };
    server.routes.unshift(holding);
    try {
      const from = server.requests.length;
      const ahead = path.join(work.dir, name);
      const result = await runMpip(["install", "-i", mip.base, "-p", ahead, root]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(opened, "asked", `${awaited}'s document was asked for before ${held}'s file was answered`);
      const documentsAsked = documentRequests(from);
      server.routes.splice(server.routes.indexOf(holding), 1);

      const serial = path.join(work.dir, `${name}-serial`);
      const one = await runMpip(["install", "-i", mip.base, "-p", serial, "--jobs", "1", root]);
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(installedLines(result.stderr), installedLines(one.stderr));
      assert.deepEqual(await snapshot(ahead), await snapshot(serial));
      return documentsAsked;
    } finally {
      if (server.routes.includes(holding)) server.routes.splice(server.routes.indexOf(holding), 1);
    }
  }

  test("a dependency's document is asked for while the files of the package naming it are still coming; each document once; the image and the summary are those of --jobs 1", async () => {
    // Before, cable's document was asked for only once crane's files were in.
    const asked = await installHolding("tower", "crane", "cable", "ahead");
    assert.deepEqual([...asked].sort(), [...new Set(asked)].sort(), `each document once: ${asked.join(", ")}`);
    assert.ok(asked.some((request) => request.endsWith("/package/py/cable/2.0.json")), "the newest cable");
  });

  test("down a chain, each document fetched ahead asks for the next one's: the documents of four levels come while the first package's files are held", async () => {
    // hook's document is three levels below mast. Before, a document fetched ahead was read only when its
    // own level began: jib's was asked for once mast's files were in, and hook's once boom's were.
    const asked = await installHolding("mast", "mast", "hook", "chain");
    assert.deepEqual([...asked].sort(), ["mast", "boom", "jib", "hook"].map((name) => `GET /mip/v2/package/py/${name}/1.0.json`).sort(), "each document once");
  });

  test("what a document fetched ahead names is ended with it when its level asks in other words: no turn of --jobs is held for a release nobody installs", async () => {
    // fork-x's document comes first and looks spindle up ahead for any version: spindle 2.0's document
    // is fetched, and the whorls it names are looked up and their documents asked for. The level then
    // asks for `spindle` and `spindle==1.0` together, and ends the look-up made ahead; before, the
    // whorls' look-ups went on: their documents stall, and with --jobs 2 they held both turns while
    // the level's own fetch waited, each tried four times (--timeout 3: 16 s instead of 2).
    server.delayFor = (path) => (path.includes("/package/py/fork-y/") ? 1500 : 0);
    server.fault(({ path }) => path.includes("/package/py/whorl-"), { type: "stall" });
    try {
      const from = server.requests.length;
      const result = await runMpip(["install", "--jobs", "2", "--timeout", "3", "-i", mip.base, "-p", path.join(work.dir, "forked"), "fork-x", "fork-y"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /^ \+ spindle==1\.0 /m);
      const whorls = documentRequests(from).filter((request) => request.includes("/whorl-"));
      assert.ok(whorls.length <= 2 && new Set(whorls).size === whorls.length, `each whorl's document asked for once at most, never again after a timeout: ${whorls.join(", ")}`);
    } finally {
      server.delayFor = undefined;
      server.clearFaults();
    }
  });

  test("a document fetched ahead whose level asks for the name in other words yet chooses that very release: the level takes what was fetched, or the failure met, with the same attempts as --jobs 1", async () => {
    // cog-p's document comes first and looks gear up ahead for any version: gear 2.0's document, which
    // answers HTTP 500 four times, is fetched with every attempt (--retries 3) before cog-q's comes. The
    // level asks for `gear` and `gear==2.0` together, other words than the look-up ahead, and chooses
    // 2.0. Before, it fetched the document again, a fifth time, which succeeded: exit 0 where --jobs 1 fails.
    server.delayFor = (path) => (path.includes("/package/py/cog-q/") ? budget(2000) : 0);
    try {
      for (const jobs of ["16", "1"]) {
        server.clearFaults();
        server.fault(({ path }) => path.includes("/package/py/gear/2.0.json"), { type: "status", status: 500 }, { times: 4 });
        const from = server.requests.length;
        const result = await runMpip(["install", "--jobs", jobs, "--retries", "3", "-i", mip.base, "-p", path.join(work.dir, `geared-${jobs}`), "cog-p", "cog-q"], { env: { MPIP_RETRY_BASE_MS: "1" } });
        assert.equal(result.code, 1, `--jobs ${jobs}: ${result.stderr}`);
        assert.match(result.stderr, /gave up after 4 attempts/, `--jobs ${jobs}`);
        assert.equal(documentRequests(from).filter((request) => request.includes("/gear/2.0.json")).length, 4, `--jobs ${jobs}: four attempts in all`);
      }
    } finally {
      server.delayFor = undefined;
      server.clearFaults();
    }
  });

  test("a document fetched ahead for a version its level does not choose is never used for another", async () => {
    // Whichever of left's and right's documents is read first looks `bolt` up ahead: left's for any
    // version (2.0 is warmed), right's for 1.0. The level asks for `bolt` and `bolt==1.0` together, and
    // installs 1.0 from its own document in either order.
    const image = path.join(work.dir, "bolted");
    const result = await runMpip(["install", "-i", mip.base, "-p", image, "left", "right"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(await readFile(path.join(image, "bolt.py"), "utf8"), /^NAME = "bolt 1\.0"\n/);
    assert.match(result.stderr, /^ \+ bolt==1\.0 /m);
  });

  test("two packages that pin one version of a dependency: its document fetched ahead is the one its level takes, asked for once", async () => {
    // Before: the level asked for `anchor==1.0,==1.0`, other words than the look-up made ahead for
    // `anchor==1.0`, which was ended with its document, and the document was fetched again.
    const from = server.requests.length;
    const result = await runMpip(["install", "-i", mip.base, "-p", path.join(work.dir, "anchored"), "pin-a", "pin-b"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^ \+ anchor==1\.0 /m);
    assert.deepEqual(documentRequests(from).filter((request) => request.includes("/anchor/")), ["GET /mip/v2/package/py/anchor/1.0.json"]);
  });

  test("a document fetched ahead that failed is reported by its level as its own fetch: the same attempts and the same outcome as without fetching ahead", async () => {
    // vane's document answers HTTP 500 four times: the first fetch's attempts (--retries 3) all fail.
    // (Before: the level fetched it again, four attempts more, and installed where the walk fails.)
    const fault = server.fault(({ path }) => path.includes("/package/py/vane/"), { type: "status", status: 500 }, { times: 4 });
    try {
      const from = server.requests.length;
      const result = await runMpip(["install", "--retries", "3", "-i", mip.base, "-p", path.join(work.dir, "vane"), "spire"]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /while getting `vane` \(required by `spire 1\.0`\)/);
      assert.match(result.stderr, /gave up after 4 attempts/);
      assert.equal(fault.hits, 4);
      assert.equal(documentRequests(from).filter((request) => request.includes("/vane/")).length, 4, "four attempts in all");
    } finally {
      server.clearFaults();
    }
  });

  test("a document fetched ahead that its level does not choose is ended as soon as that is known, holding no turn of --jobs", async () => {
    // bolt 2.0's document stalls; with --jobs 1, a fetch ahead that went on holding the one turn would keep
    // the level's own fetch of bolt 1.0 waiting until it timed out, and try again.
    const fault = server.fault(({ path }) => path.includes("/package/py/bolt/2.0.json"), { type: "stall" });
    try {
      const from = server.requests.length;
      const result = await runMpip(["install", "--jobs", "1", "--timeout", "5", "-i", mip.base, "-p", path.join(work.dir, "bolt-jobs"), "left", "right"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /^ \+ bolt==1\.0 /m);
      assert.ok(documentRequests(from).filter((request) => request.includes("/bolt/2.0.json")).length <= 1, "never asked again");
    } finally {
      server.clearFaults();
    }
  });
});
