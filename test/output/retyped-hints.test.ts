// A hint that offers the command back corrected (a spec the shell split quoted whole, a requirements file
// or a lock given with its option) keeps the rest of what was typed, shell-quoted, and the command's own
// name; `sync --help` says what -i does there (no index is asked).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-retyped-");
  await writeFile(path.join(work.dir, "requirements.txt"), "absent\n");
  await writeFile(path.join(work.dir, "pylock.toml"), "lock-version = '1.0'\n");
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const hintOf = (stderr: string) => /^hint: (.*)$/m.exec(stderr)?.[1] ?? "";

describe("hints that rewrite the command keep the rest of it", () => {
  test("a spec split by the shell: the other options stay, quoted where the shell needs it", async () => {
    const result = await runMpip(["install", "-p", "my image", "-i", server.url, "fmt", ">=1.0", "--no-deps"], { cwd: work.dir });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(hintOf(result.stderr), `the shell passed \`fmt\` and \`>=1.0\` as separate arguments: quote the whole spec as one, \`mpip install -p 'my image' -i ${server.url} 'fmt>=1.0' --no-deps\``);
  });

  test("a bare version after a name, in `mpip lock`: the hint is a lock command", async () => {
    const result = await runMpip(["lock", "-i", server.url, "-o", "pylock.dev.toml", "fmt", "1.2"], { cwd: work.dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(hintOf(result.stderr), new RegExp(`write name and version as one argument: \`mpip lock -i ${server.url.replace(/[.]/g, "\\.")} -o pylock\\.dev\\.toml 'fmt==1\\.2'\` \\(or mip's \`fmt@1\\.2\`\\)`));
  });

  test("a spec tail with no name: NAME in its place, the rest kept", async () => {
    const result = await runMpip(["download", "-d", "dl dir", ",<2"], { cwd: work.dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(hintOf(result.stderr), /all in one argument: `mpip download -d 'dl dir' 'NAME,<2'`$/);
  });

  test("a requirements file or a lock named as a package: given with -r or --lock, the other options kept", async () => {
    const requirements = await runMpip(["install", "-p", "image", "-i", server.url, "requirements.txt"], { cwd: work.dir });
    assert.equal(requirements.code, 1, requirements.stderr);
    assert.equal(hintOf(requirements.stderr), `\`requirements.txt\` is a file in this folder: to install what it lists, give it with -r: \`mpip install -p image -i ${server.url} -r requirements.txt\``);
    const lock = await runMpip(["install", "--target=image", "-i", server.url, "pylock.toml"], { cwd: work.dir });
    assert.equal(lock.code, 1, lock.stderr);
    assert.equal(hintOf(lock.stderr), `\`pylock.toml\` is a file in this folder: to install what it lists, give it with --lock: \`mpip install --target=image -i ${server.url} --lock pylock.toml\``);
  });

  test("credentials typed in the command stay hidden in the command offered", async () => {
    const authed = server.url.replace("http://", "http://builder:s3cr3t-t0ken-XYZ@");
    const result = await runMpip(["install", "-i", authed, "fmt", "==", "1.0"], { cwd: work.dir });
    assert.equal(result.code, 2, result.stderr);
    assert.ok(!result.stderr.includes("s3cr3t-t0ken-XYZ"), result.stderr);
    assert.match(hintOf(result.stderr), /`mpip install -i http:\/\/\*\*\*@127\.0\.0\.1:\d+\/pypi 'fmt==1\.0'`/);
  });
});

describe("sync --help", () => {
  test("-i and --extra-index-url say that no index is asked, and what they do instead", async () => {
    const result = await runMpip(["sync", "--help"]);
    assert.equal(result.code, 0, result.stderr);
    const help = result.stdout.replace(/\s+/g, " ");
    assert.match(help, /-i, --index-url <url> asks nothing \(the lock says where each file is\): an index URL's credentials \(https:\/\/user:token@host\/\.\.\.\) are sent with the lock's URLs of the same scheme, host and port, and a local folder is one the lock's files may be read from/);
    assert.match(help, /--extra-index-url <url> as -i: credentials for the lock's URLs of its origin/);
    assert.doesNotMatch(help, /replaces the default list|detected by asking the index/);
    assert.match(help, /--force-reinstall reinstall every package the lock lists/);
    assert.doesNotMatch(help, /resolve, download and verify/);
  });

  test("the firmware, cache and limit options say what they do for a lock, which asks no index", async () => {
    const result = await runMpip(["sync", "--help"]);
    assert.equal(result.code, 0, result.stderr);
    const help = result.stdout.replace(/\s+/g, " ");
    assert.match(help, /--target-version <version> the MicroPython release the lock was made for \(`mpip lock --target-version`\), e\.g\. 1\.22: a lock made for another firmware is refused/);
    assert.match(help, /--mpy <version> like --target-version, by \.mpy version: .* the lock's own/);
    assert.match(help, /--compile .*as the lock was made with \(`mpip lock --compile`\)/);
    assert.match(help, /--offline never use the network: every file the lock lists comes from the cache by its sha256/);
    assert.match(help, /--no-cache neither read nor write the download cache: fetch every file the lock lists/);
    assert.match(help, /-j, --jobs <n> how many of the lock's files are downloaded at once \(default: 16\)/);
    assert.match(help, /--max-metadata-bytes <size> the largest package document .* a locked package may have \(default: 16 MiB\)/);
    // Nothing about what sync never does.
    assert.doesNotMatch(help, /from a micropython-lib index come|index documents|metadata look-ups|index metadata/);
    // install --help keeps install's words.
    const install = (await runMpip(["install", "--help"])).stdout.replace(/\s+/g, " ");
    assert.match(install, /packages from a micropython-lib index come as \.mpy for it/);
    assert.match(install, /--offline never use the network: index documents come from the cache/);
  });
});

describe("a lock that is not there", () => {
  test("sync, install --lock and download --lock say to make one with `mpip lock` first, with the path's -o when not the default", async () => {
    const cases: Array<[string[], string]> = [
      [["sync", "-p", "image"], "no lock yet? make one first: `mpip lock -r requirements.txt` (or `mpip lock NAME...`; in a project folder, `mpip lock` alone), with the --target-version or --mpy the install is for"],
      [["sync", "sub/pylock.dev.toml"], "no lock yet? make one first: `mpip lock -o sub/pylock.dev.toml -r requirements.txt` (or `mpip lock -o sub/pylock.dev.toml NAME...`; in a project folder, `mpip lock -o sub/pylock.dev.toml` alone), with the --target-version or --mpy the install is for"],
      [["install", "--lock", "pylock.toml", "-p", "image"], "no lock yet? make one first: `mpip lock -r requirements.txt` (or `mpip lock NAME...`; in a project folder, `mpip lock` alone), with the --target-version or --mpy the install is for"],
      [["download", "-d", "dl", "--lock", "pylock.toml"], "no lock yet? make one first: `mpip lock -r requirements.txt` (or `mpip lock NAME...`; in a project folder, `mpip lock` alone), with the --target-version or --mpy the install is for"],
    ];
    const empty = await tempDir("mpip-nolock-");
    try {
      for (const [args, hint] of cases) {
        const result = await runMpip(args, { cwd: empty.dir });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /there is nothing at that path/);
        assert.equal(hintOf(result.stderr), hint, args.join(" "));
        assert.match(result.stderr, /^check the path; it is relative to the current folder/m);
      }
      // A name `mpip lock -o` would refuse is not offered to it.
      const other = await runMpip(["sync", "my.lock"], { cwd: empty.dir });
      assert.equal(other.code, 2, other.stderr);
      assert.doesNotMatch(other.stderr, /mpip lock/);
    } finally {
      await empty.cleanup();
    }
  });
});
