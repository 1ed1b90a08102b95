// Progress that tells the truth (issue 10, item 14): while a request waits to be tried again, the progress
// line says so (which URL, which attempt) without -v, and gives the line back when the request ends; every
// count printed agrees with its number ("1 package", "1 file").
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { Reporter } from "../../src/log.js";
import { retryNote } from "../../src/render.js";
import { quantity } from "../../src/text.js";
import { BIN, runCommand, runMpip, tempDir } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { gzipReproducible } from "../helpers/sdist.js";
import { tarEnd, tarEntry } from "../helpers/tar-craft.js";
import { BodyCutShort } from "../../src/http/failures.js";

/** A stream that records what is written, as a terminal of 200 columns. */
function terminal(): NodeJS.WriteStream & { text(): string } {
  let written = "";
  const stream = { isTTY: true, columns: 200, write: (chunk: string) => ((written += chunk), true), text: () => written };
  return stream as unknown as NodeJS.WriteStream & { text(): string };
}

/** The lines a terminal shows in turn: each redraw of the progress line, and each full line. */
function frames(text: string): string[] {
  return text.split(/\r\x1b\[2K|\n/).filter((frame) => frame !== "");
}

const notice = (attempt: number, url: string) => ({ attempt, attempts: 4, waitMs: 500, error: new MpipError("http-status", `GET \`${url}\` answered HTTP 503`) });

describe("the progress line while requests are retried", () => {
  test("a retry takes the line over; when its request ends, the status comes back", () => {
    const stream = terminal();
    const reporter = new Reporter({ stream, color: false });
    reporter.progress("Resolving: 0 packages ready, 2 in progress");
    reporter.progressNote("request 1", retryNote(notice(2, "http://idx.example/files/a-1.0.tar.gz")));
    reporter.progress("Resolving: 1 package ready, 1 in progress");
    reporter.progressNote("request 1", undefined);
    assert.deepEqual(frames(stream.text()), [
      "Resolving: 0 packages ready, 2 in progress",
      "Retrying (attempt 2 of 4, after a 0.5 s wait): GET `http://idx.example/files/a-1.0.tar.gz` answered HTTP 503",
      // A status that comes while the retry lasts waits behind it.
      "Retrying (attempt 2 of 4, after a 0.5 s wait): GET `http://idx.example/files/a-1.0.tar.gz` answered HTTP 503",
      "Resolving: 1 package ready, 1 in progress",
    ]);
  });

  test("concurrent retries: the newest shows, each goes on its own, and the line is not redrawn once cleared", () => {
    const stream = terminal();
    const reporter = new Reporter({ stream, color: false });
    reporter.progress("Resolving");
    reporter.progressNote("request 1", retryNote(notice(2, "http://idx.example/a")));
    reporter.progressNote("request 2", retryNote(notice(3, "http://idx.example/b")));
    reporter.progressNote("request 2", undefined);
    reporter.write("error: something failed");
    reporter.progressNote("request 1", undefined);
    const shown = frames(stream.text());
    assert.match(shown[1]!, /^Retrying \(attempt 2 of 4.*idx\.example\/a/);
    assert.match(shown[2]!, /^Retrying \(attempt 3 of 4.*idx\.example\/b/);
    assert.match(shown[3]!, /^Retrying \(attempt 2 of 4.*idx\.example\/a/, "back to the other retry");
    assert.deepEqual(shown.slice(4), ["error: something failed"], "nothing drawn after the error");
    assert.ok(stream.text().endsWith("error: something failed\n"));
  });

  test("a retry draws nothing when the stream is not a terminal, or with -q", () => {
    for (const options of [{ stream: Object.assign(terminal(), { isTTY: false }) }, { stream: terminal(), verbosity: "quiet" as const }]) {
      const reporter = new Reporter({ ...options, color: false });
      reporter.progressNote("request 1", retryNote(notice(2, "http://idx.example/a")));
      assert.equal(options.stream.text(), "");
    }
  });
});

describe("the progress line of a real install on a terminal", () => {
  let server: IndexServer;
  let work: { dir: string; cleanup: () => Promise<void> };
  let hasScript = true;
  before(async () => {
    server = await startIndexServer();
    work = await tempDir("mpip-progress-");
    await server.addSdist({ name: "cabin-lib", version: "1.0", files: { "cabin_lib.py": "X = 1\n" } });
    await server.addSdist({ name: "porch-lib", version: "2.0", files: { "porch_lib.py": "Y = 2\n" } });
    try {
      execFileSync("script", ["--version"], { stdio: "ignore" });
    } catch {
      hasScript = false;
    }
  });
  after(async () => {
    await server.close();
    await work.cleanup();
  });

  /** mpip run on a pseudo-terminal 200 columns wide (util-linux `script`), all it drew captured. */
  async function onTerminal(args: string[]): Promise<{ code: number; shown: string[] }> {
    const quoted = [process.execPath, BIN, ...args].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ");
    const result = await runCommand("script", ["-qec", `stty cols 200 2>/dev/null; exec ${quoted}`, "/dev/null"], { env: { MPIP_RETRY_BASE_MS: "1", HTTP_PROXY: undefined, http_proxy: undefined } });
    return { code: result.code, shown: frames(result.stdout.replace(/\r\n/g, "\n")) };
  }

  test("a download answered 503 once: the line names the URL and the attempt, without -v", async (t) => {
    if (!hasScript) return t.skip("util-linux `script` (a pseudo-terminal) is not installed");
    const spoiled = server.fault(({ route, path: url }) => route === "file" && url.includes("cabin"), { type: "status", status: 503 }, { times: 1 });
    const { code, shown } = await onTerminal(["install", "-p", path.join(work.dir, "cabin"), "-i", server.url, "cabin-lib"]);
    assert.equal(code, 0, shown.join("\n"));
    assert.equal(spoiled.hits, 1);
    const retrying = shown.findIndex((frame) => /^Retrying \(attempt 2 of 4, after a [\d.]+ s wait\): GET `http:\/\/127\.0\.0\.1:\d+\/[^`]*cabin[^`]*` answered HTTP 503$/.test(frame));
    assert.ok(retrying > 0, shown.join("\n"));
    assert.ok(shown.slice(retrying + 1).some((frame) => frame.startsWith("Resolving")), "the status line comes back after the retry");
    assert.ok(shown.includes("Resolving: 1 package ready, 0 in progress"), shown.join("\n"));
    assert.match(shown.at(-2) ?? "", /^Installed 1 package into /);
  });

  test("with no retry there is no retry line; piped output has no progress at all", async (t) => {
    if (!hasScript) return t.skip("util-linux `script` (a pseudo-terminal) is not installed");
    const { code, shown } = await onTerminal(["install", "-p", path.join(work.dir, "porch"), "-i", server.url, "porch-lib"]);
    assert.equal(code, 0, shown.join("\n"));
    assert.ok(!shown.some((frame) => frame.startsWith("Retrying")), shown.join("\n"));
    server.fault(({ route, path: url }) => route === "file" && url.includes("porch"), { type: "status", status: 503 }, { times: 1 });
    const piped = await runMpip(["install", "-p", path.join(work.dir, "porch-piped"), "-i", server.url, "porch-lib"], { env: { MPIP_RETRY_BASE_MS: "1" } });
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /Retrying|\r/);
  });
});

describe("counts agree with their number", () => {
  test("quantity", () => {
    assert.equal(quantity(0, "package"), "0 packages");
    assert.equal(quantity(1, "package"), "1 package");
    assert.equal(quantity(2, "package"), "2 packages");
    assert.equal(quantity(1, "entry", "entries"), "1 entry");
    assert.equal(quantity(3, "entry", "entries"), "3 entries");
  });

  test("check of a one-entry archive with one trailing byte says `1 entry` and `1 byte`", async () => {
    const { dir, cleanup } = await tempDir("mpip-counts-");
    try {
      const archive = Buffer.concat([gzipReproducible(Buffer.concat([tarEntry({ name: "solo-1.0/solo.py" }, "X = 1\n"), tarEnd()])), Buffer.from("!")]);
      await writeTree(dir, { "solo-1.0.tar.gz": archive });
      const result = await runMpip(["check", path.join(dir, "solo-1.0.tar.gz")]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, /\(1 entry, short names/);
      assert.match(result.stdout, /1 byte follows the gzip stream/);
      assert.match(result.stderr, /^error: 1 of 1 archive failed/m);
    } finally {
      await cleanup();
    }
  });

  test("a body cut short after one byte", () => {
    assert.equal(new BodyCutShort(1, undefined).message, "cut short after 1 byte");
    assert.equal(new BodyCutShort(0, 1).message, "cut short: 0 of 1 byte");
  });
});
