// URLs with no host (`http:///x`, `https:/x`) or no path (`file:`, `file://`) wherever a URL is typed:
// -i/--index-url, --extra-index-url and their lines in a requirements file, a spec on the command line,
// a requirements-file line, `name @ URL`, -f/--find-links. WHATWG's parser would read `http:///x` as the
// host `x` and `file:` as `/`; mpip refuses each with an error naming the option or line and the URL,
// before anything is fetched (no server is started: a fetch would fail with another message).

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, snapshot, tempDir } from "./helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir();
});
after(() => work.cleanup());

async function refused(args: string[], code: number, message: RegExp): Promise<void> {
  const target = path.join(work.dir, "image");
  const was = await snapshot(work.dir);
  const result = await runMpip(["install", "--no-cache", "-p", target, ...args], { cwd: work.dir });
  assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
  assert.match(result.stderr, message, args.join(" "));
  assert.doesNotMatch(result.stderr, /could not fetch|ENOTFOUND|\n\s+at /, args.join(" "));
  assert.deepEqual(await snapshot(work.dir), was);
}

describe("URLs with no host or no path are refused wherever a URL is typed", () => {
  test("index options on the command line", async () => {
    await refused(["-i", "http:///x", "foo"], 2, /^error: the index URL `http:\/\/\/x` \(given with -i\/--index-url\) is not a valid URL: it has no host/m);
    await refused(["--index-url", "simple+https:x/simple", "foo"], 2, /the index URL `https:x\/simple` \(given with -i\/--index-url\) is not a valid URL: it has no `\/\/` and host/);
    await refused(["--extra-index-url", "https:/x", "foo"], 2, /the index URL `https:\/x` \(given with --extra-index-url\) is not a valid URL: it has no `\/\/` and host/);
    await refused(["-i", "file:", "foo"], 2, /`file:` \(given with -i\/--index-url\) is not a `file:` URL of a folder on this machine: it names no path/);
    await refused(["--extra-index-url", "mip+file://", "foo"], 2, /`file:\/\/` \(given with --extra-index-url\) is not a `file:` URL of a folder.*names no path/);
  });

  test("specs on the command line, bare and after `name @`", async () => {
    await refused(["http:///x/foo-1.0.tar.gz"], 2, /`http:\/\/\/x\/foo-1\.0\.tar\.gz` is not a valid URL: it has no host/);
    await refused(["https:x/foo-1.0.tar.gz"], 2, /`https:x\/foo-1\.0\.tar\.gz` is not a valid URL: it has no `\/\/` and host/);
    await refused(["foo @ https:///x/v1.tar.gz"], 2, /`https:\/\/\/x\/v1\.tar\.gz` is not a valid URL: it has no host/);
    await refused(["file:"], 2, /the `file:` URL `file:` names no path/);
    await refused(["foo @ file://"], 2, /the `file:` URL `file:\/\/` names no path/);
  });

  test("requirements-file lines: index options, specs, `name @ URL`; each error names its line", async () => {
    const cases: Array<[string, RegExp]> = [
      ["-i http:///simple\nfoo\n", /reqs1\.txt` line 1: the index URL `http:\/\/\/simple` is not a valid URL: it has no host/],
      ["foo\n--extra-index-url file://\n", /reqs2\.txt` line 2: `file:\/\/` is not a `file:` URL of a folder.*names no path/],
      ["http:///x/foo-1.0.tar.gz\n", /reqs3\.txt` line 1: `http:\/\/\/x\/foo-1\.0\.tar\.gz` is not a valid URL: it has no host/],
      ["# a comment\nfoo @ http:x/foo-1.0.tar.gz\n", /reqs4\.txt` line 2: `http:x\/foo-1\.0\.tar\.gz` is not a valid URL: it has no `\/\/` and host/],
      ["foo @ file://localhost\n", /reqs5\.txt` line 1: the `file:` URL `file:\/\/localhost` names no path/],
    ];
    let n = 0;
    for (const [content, message] of cases) {
      const file = path.join(work.dir, `reqs${++n}.txt`);
      await writeFile(file, content);
      await refused(["-r", file], 2, message);
    }
  });

  test("-f/--find-links takes a folder, and says so for any URL", async () => {
    await refused(["--no-index", "-f", "http:///x", "foo"], 2, /`http:\/\/\/x` \(given with --find-links\) is a URL, but this takes a folder/);
    await refused(["--no-index", "-f", "file:", "foo"], 2, /`file:` \(given with --find-links\): there is nothing at that path/);
  });
});
