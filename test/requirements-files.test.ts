// Requirement files as pip reads them, through the built CLI against real index servers on 127.0.0.1:
// nested `-r`/`-c` relative to their file, constraints (pip's: they narrow versions, dependencies
// included, and never add a package), hash-checking mode (`--hash` on lines, `--require-hashes`), index
// options inside files, and `${VAR}` expansion. Packages and files are invented for each test.

import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readlinkSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { BIN, childEnv, listFiles, runMpip, snapshot, tempDir } from "./helpers/cli.js";
import { writeTree } from "./helpers/expect.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { fifoGiving, startMpip, until } from "./helpers/process.js";
import { buildSdist } from "./helpers/sdist.js";

let server: IndexServer;
let other: IndexServer;
let mip: MipIndex;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
/** The sha256 of the sdist the server holds for `name` `version`. */
const served = (index: IndexServer, name: string, version: string) => sha(index.projects.get(name)!.releases.get(version)![0]!.body);
const freshTarget = () => path.join(work.dir, `image-${++counter}`);

interface Failure {
  code: string;
  message: string;
  hint?: string;
}

async function failure(args: string[], exit: number, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Failure> {
  const result = await runMpip(["install", "--json", ...args], options);
  assert.equal(result.code, exit, `${result.stdout}\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /\n\s+at .*:\d+:\d+/, "no stack trace");
  return (JSON.parse(result.stdout) as { error: Failure }).error;
}

before(async () => {
  server = await startIndexServer();
  other = await startIndexServer();
  work = await tempDir("mpip-reqfiles-");
  await server.addSdist({ name: "beacon", version: "1.0", files: { "beacon.py": "B = 1\n" }, requires: ["ticker"] });
  for (const version of ["1.0", "1.5", "2.0"]) await server.addSdist({ name: "ticker", version, files: { "ticker.py": `V = "${version}"\n` } });
  await server.addSdist({ name: "relay", version: "1.0", files: { "relay.py": "R = 1\n" } });
  await server.addSdist({ name: "relay", version: "2.0b1", files: { "relay.py": "R = 2\n" } });
  await server.addSdist({ name: "lamp", version: "1.0", files: { "lamp.py": "L = 1\n" } });
  // A file the index lists with no sha256 at all: only a --hash can vouch for it.
  const bare = await buildSdist({ name: "bare", version: "1.0", files: { "bare.py": "X = 0\n" } });
  server.addFile("bare", "1.0", { filename: "bare-1.0.tar.gz", body: bare, sha256: null });
  await other.addSdist({ name: "faraway", version: "3.0", files: { "faraway.py": "F = 3\n" } });
  mip = serveMipIndex(server);
  await mip.publish({ name: "mipled", version: "0.2", files: { "mipled.py": "ON = True\n" } });
});
after(async () => {
  await server.close();
  await other.close();
  await work.cleanup();
});

describe("nested files", () => {
  test("-r inside a file is read relative to that file, wherever mpip runs", async () => {
    await writeTree(path.join(work.dir, "nest"), { "ci/image.txt": "lamp\n-r parts/extra.txt\n", "ci/parts/extra.txt": "relay==1.0\n" });
    const target = freshTarget();
    const result = await runMpip(["install", "-i", server.url, "-p", target, "-r", "nest/ci/image.txt"], { cwd: work.dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await listFiles(target)).filter((file) => !file.includes(".dist-info/")), ["lamp.py", "relay.py"]);
  });

  test("an option mpip does not take is a usage error naming the file and line; nothing is created", async () => {
    for (const [line, words] of [["-e ./app", /`-e` is not supported/], ["lamp --global-option=x", /`--global-option` is not supported/], ["--use-pep517", /`--use-pep517` is not an option mpip reads/]] as const) {
      const file = path.join(work.dir, "unsupported.txt");
      await writeFile(file, `lamp\n${line}\n`);
      const target = freshTarget();
      const error = await failure(["-i", server.url, "-p", target, "-r", file], 2);
      assert.equal(error.code, "usage");
      assert.ok(error.message.startsWith(`\`${file}\` line 2: `), error.message);
      assert.match(error.message, words);
      assert.deepEqual(await snapshot(target), {});
    }
  });
});

describe("files from a pipe", () => {
  /** A new FIFO in the work folder, and its writer (fifoGiving). */
  const fifo = (text: string) => fifoGiving(path.join(work.dir, `fifo-${++counter}`), text);

  test("-r and -c given a FIFO are read once, as files (pip reads `-r <(...)` too)", async () => {
    const requirements = fifo("beacon\nrelay==1.0\n");
    const constraints = fifo("ticker<2\n");
    const target = freshTarget();
    const result = await runMpip(["install", "-i", server.url, "-p", target, "-r", requirements.file, "-c", constraints.file]);
    await Promise.all([requirements.written, constraints.written]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await listFiles(target)).filter((file) => !file.includes(".dist-info/")), ["beacon.py", "relay.py", "ticker.py"]);
    assert.equal(await readFile(path.join(target, "ticker.py"), "utf8"), 'V = "1.5"\n');
  });

  test("bash's process substitution: `-r <(grep ...)` installs what the pipe gave", async () => {
    const file = path.join(work.dir, "all-requirements.txt");
    await writeFile(file, "lamp\n# dev only\nrelay==1.0\n");
    const target = freshTarget();
    // Asynchronously: the index server answers from this process.
    const { env, cleanup } = childEnv();
    const result = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
      execFile("bash", ["-c", 'exec "$0" "$1" install -i "$2" -p "$3" -r <(grep -v relay "$4")', process.execPath, BIN, server.url, target, file], { encoding: "utf8", env }, (error, _stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") reject(error);
        else resolve({ status: error === null ? 0 : (error.code as number), stderr });
      });
    }).finally(cleanup);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual((await listFiles(target)).filter((name) => !name.includes(".dist-info/")), ["lamp.py"]);
  });

  test("a FIFO nobody writes to is waited for, and Ctrl-C or SIGTERM still ends the wait: -r, -c and --cert", { skip: process.platform === "linux" ? false : "open files are read from /proc" }, async () => {
    for (const [option, signal, code] of [["-r", "SIGINT", 130], ["-c", "SIGTERM", 143], ["--cert", "SIGINT", 130]] as const) {
      const fifo = path.join(work.dir, `silent-${++counter}`);
      execFileSync("mkfifo", [fifo]);
      const target = freshTarget();
      const running = startMpip(["install", "-i", server.url, "-p", target, ...(option === "-r" ? [] : ["lamp"]), option, fifo]);
      // Once mpip holds the FIFO open, it waits in the event loop, not in a blocked thread.
      const opened = await until(async () => (await readdir(`/proc/${running.pid}/fd`).catch(() => [])).some((fd) => {
        try {
          return readlinkSync(`/proc/${running.pid}/fd/${fd}`) === fifo;
        } catch {
          return false;
        }
      }), running);
      assert.ok(opened, `${option}: mpip ended before it opened the FIFO: ${running.stderr()}`);
      running.child.kill(signal);
      const exit = await running.exited;
      assert.equal(exit.code, code, `${option}: ${exit.stderr}`);
      assert.match(exit.stderr, new RegExp(`^error: interrupted by ${signal} while waiting to read \`${fifo.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\`; nothing was changed$`, "m"), option);
      assert.doesNotMatch(exit.stderr, /bug in mpip/);
      assert.equal(existsSync(target), false, option);
    }
  });

  test("a pipe that gives more than a requirements file may hold is refused, and nothing is installed", async () => {
    const target = freshTarget();
    const error = await failure(["-i", server.url, "-p", target, "-r", "/dev/zero"], 2);
    assert.equal(error.code, "usage");
    assert.match(error.message, /^the requirements file `\/dev\/zero` gave more than .*: more than mpip reads$/);
    assert.deepEqual(await snapshot(target), {});
  });
});

describe("constraints", () => {
  test("-c narrows the version chosen for a dependency found later, and adds nothing it names", async () => {
    const constraints = path.join(work.dir, "pins.txt");
    await writeFile(constraints, "# pins\nticker<1.5\nrelay==1.0\n");
    const target = freshTarget();
    const result = await runMpip(["install", "-i", server.url, "-p", target, "-c", constraints, "beacon"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(target, "ticker.py"), "utf8"), `V = "1.0"\n`);
    assert.equal((await listFiles(target)).some((file) => file.startsWith("relay")), false, "a constraint adds no package");
  });

  test("-c inside a requirements file applies to the packages of every file; an installed version it refuses is replaced", async () => {
    const dir = await writeTree(path.join(work.dir, "cinside"), { "reqs.txt": "-c limits/c.txt\nbeacon\n", "limits/c.txt": "ticker>=1.5,<2\n" });
    const target = freshTarget();
    const first = await runMpip(["install", "-i", server.url, "-p", target, "ticker==2.0"]);
    assert.equal(first.code, 0, first.stderr);
    const result = await runMpip(["install", "-i", server.url, "-p", target, "-r", path.join(dir, "reqs.txt")]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(target, "ticker.py"), "utf8"), `V = "1.5"\n`);
  });

  test("a constraint no version meets is an error naming its file and line; the target is unchanged", async () => {
    const constraints = path.join(work.dir, "impossible.txt");
    await writeFile(constraints, "lamp\nticker>=5\n");
    for (const args of [["beacon"], ["ticker>=1"]]) {
      const target = freshTarget();
      const error = await failure(["-i", server.url, "-p", target, "-c", constraints, ...args], 1);
      assert.equal(error.code, "no-matching-version");
      assert.ok(error.message.includes(`\`${constraints}\` line 2 (constraint \`ticker>=5\`)`), error.message);
      assert.deepEqual(await snapshot(target), {});
    }
  });

  test("a version conflict that a constraint took part in names the constraint, and the hint holds every clause at once", async () => {
    await server.addSdist({ name: "needs-new-ticker", version: "1.0", files: { "needs_new_ticker.py": "" }, requires: ["ticker>=2"] });
    const constraints = path.join(work.dir, "below-two-again.txt");
    await writeFile(constraints, "ticker<2\n");
    const error = await failure(["-i", server.url, "-p", freshTarget(), "-c", constraints, "ticker", "needs-new-ticker"], 1);
    assert.equal(error.code, "version-conflict");
    assert.ok(error.message.includes(`was already chosen for the command line (\`ticker\`), within \`${constraints}\` line 1 (constraint \`ticker<2\`)`), error.message);
    assert.match(error.hint ?? "", /every requirement on `ticker` must hold at once \(`ticker>=2,<2`\)/);
  });

  test("a direct source must meet the constraints on its name; a constraint naming a source is refused", async () => {
    const dists = path.join(work.dir, "dists");
    await mkdir(dists, { recursive: true });
    const archive = path.join(dists, "ticker-2.0.tar.gz");
    await writeFile(archive, await buildSdist({ name: "ticker", version: "2.0", files: { "ticker.py": "" } }));
    const constraints = path.join(work.dir, "below-two.txt");
    await writeFile(constraints, "ticker<2\n");
    const error = await failure(["--no-index", "-p", freshTarget(), "-c", constraints, archive], 1);
    assert.equal(error.code, "version-conflict");
    assert.ok(error.message.includes(`\`${constraints}\` line 1 (constraint \`ticker<2\`)`), error.message);
    await writeFile(constraints, `ticker @ file://${archive}\n`);
    const source = await failure(["-i", server.url, "-p", freshTarget(), "-c", constraints, "lamp"], 2);
    assert.ok(source.message.startsWith(`\`${constraints}\` line 1: `), source.message);
  });
});

describe("hash-checking mode", () => {
  test("every package pinned and hashed installs; the hash verifies a file the index gives none for", async () => {
    const file = path.join(work.dir, "hashed.txt");
    await writeFile(file, [
      `beacon==1.0 --hash=sha256:${"0".repeat(64)} \\`,
      `    --hash=sha256:${served(server, "beacon", "1.0")}`,
      `ticker==1.5 --hash=sha256:${served(server, "ticker", "1.5")}`,
      `bare==1.0 --hash=sha256:${served(server, "bare", "1.0")}`,
      "",
    ].join("\n"));
    const target = freshTarget();
    const result = await runMpip(["install", "--json", "-i", server.url, "-p", target, "-r", file]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { warnings: string[] };
    assert.deepEqual(report.warnings, [], "a --hash leaves no file unverified");
    assert.equal(await readFile(path.join(target, "ticker.py"), "utf8"), `V = "1.5"\n`);
  });

  test("a file that matches none of its hashes fails, whatever the index says, and changes nothing", async () => {
    const target = freshTarget();
    await runMpip(["install", "-i", server.url, "-p", target, "relay==1.0"]);
    const before = await snapshot(target);
    const file = path.join(work.dir, "stale.txt");
    await writeFile(file, `relay==1.0 --hash=sha256:${served(server, "relay", "1.0")}\nlamp==1.0 --hash=sha256:${served(server, "lamp", "1.0")}\n`);
    // The index now serves other bytes for lamp 1.0, and advertises their digest too.
    await server.addSdist({ name: "lamp", version: "1.0", files: { "lamp.py": "L = 'changed'\n" } });
    try {
      const error = await failure(["-i", server.url, "-p", target, "-r", file, "--force-reinstall"], 1);
      assert.equal(error.code, "digest-mismatch");
      assert.match(error.message, /lamp 1\.0/);
      assert.ok(error.message.includes(`\`${file}\` line 2 allows`), error.message);
      assert.deepEqual(await snapshot(target), before);
    } finally {
      await server.addSdist({ name: "lamp", version: "1.0", files: { "lamp.py": "L = 1\n" } });
    }
  });

  test("a requirement with no hash, or not pinned, is listed; so is one on the command line", async () => {
    const file = path.join(work.dir, "partly.txt");
    await writeFile(file, `lamp==1.0 --hash=sha256:${served(server, "lamp", "1.0")}\nrelay==1.0\nticker>=1 --hash=sha256:${served(server, "ticker", "2.0")}\n`);
    const target = freshTarget();
    const error = await failure(["-i", server.url, "-p", target, "-r", file, "bare==1.0"], 1);
    assert.equal(error.code, "hash-required");
    assert.ok(error.message.includes(`hash-checking mode (\`${file}\` line 1 has \`--hash\`)`), error.message);
    assert.ok(error.message.includes(`\`${file}\` line 2: \`relay==1.0\` has no \`--hash\``), error.message);
    assert.ok(error.message.includes(`\`${file}\` line 3: \`ticker>=1\` is not pinned to one version`), error.message);
    assert.ok(error.message.includes("the command line: `bare==1.0` has no `--hash`"), error.message);
    assert.deepEqual(await snapshot(target), {});
  });

  test("a dependency needs a hash too: named in a constraint it passes, else it fails unless --no-deps", async () => {
    const reqs = path.join(work.dir, "top-only.txt");
    await writeFile(reqs, `beacon==1.0 --hash=sha256:${served(server, "beacon", "1.0")}\n`);
    const error = await failure(["-i", server.url, "-p", freshTarget(), "-r", reqs], 1);
    assert.equal(error.code, "hash-required");
    assert.match(error.message, /^`ticker` \(required by `beacon 1\.0`\) is neither pinned with `==` nor given a `--hash`/);

    const noDeps = await runMpip(["install", "-i", server.url, "-p", freshTarget(), "-r", reqs, "--no-deps"]);
    assert.equal(noDeps.code, 0, noDeps.stderr);

    const constraints = path.join(work.dir, "dep-hashes.txt");
    await writeFile(constraints, `ticker==1.0 --hash=sha256:${served(server, "ticker", "1.0")}\n`);
    const target = freshTarget();
    const pinned = await runMpip(["install", "-i", server.url, "-p", target, "-r", reqs, "-c", constraints]);
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.equal(await readFile(path.join(target, "ticker.py"), "utf8"), `V = "1.0"\n`);
  });

  test("--require-hashes in a file turns the mode on with no --hash anywhere", async () => {
    const file = path.join(work.dir, "strict.txt");
    await writeFile(file, "--require-hashes\nlamp==1.0\n");
    const error = await failure(["-i", server.url, "-p", freshTarget(), "-r", file], 1);
    assert.equal(error.code, "hash-required");
    assert.ok(error.message.includes(`(\`${file}\` line 1 has \`--require-hashes\`)`), error.message);
  });

  test("a mip package's --hash is its package document's sha256; a URL needs a hash but no pin; a project folder has none", async () => {
    const documentBytes = mip.tree.get(mip.documentPath("py", "mipled", "0.2"))!;
    const sdistUrl = `${server.origin}/files/relay/1.0/relay-1.0.tar.gz`;
    const file = path.join(work.dir, "mixed.txt");
    await writeFile(file, `mipled==0.2 --hash=sha256:${sha(documentBytes)}\n${sdistUrl} --hash=sha256:${served(server, "relay", "1.0")}\n`);
    const target = freshTarget();
    const result = await runMpip(["install", "-v", "-i", mip.base, "-p", target, "-r", file]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await listFiles(target)).includes("mipled.py"));

    await writeFile(file, `mipled==0.2 --hash=sha256:${"e".repeat(64)}\n`);
    const wrong = await failure(["-i", mip.base, "-p", freshTarget(), "-r", file], 1);
    assert.equal(wrong.code, "digest-mismatch");
    assert.match(wrong.message, /mipled 0\.2/);

    const project = await writeTree(path.join(work.dir, "proj"), { "pyproject.toml": '[project]\nname = "projlamp"\nversion = "1.0"\n', "projlamp.py": "" });
    await writeFile(file, `${project} --hash=sha256:${"f".repeat(64)}\n`);
    const folder = await failure(["--no-index", "-p", freshTarget(), "-r", file], 1);
    assert.equal(folder.code, "hash-required");
    assert.match(folder.message, /project folder/);
  });
});

describe("options and variables in files", () => {
  test("-i in a file replaces the index list, --extra-index-url adds to it, --pre allows pre-releases", async () => {
    const file = path.join(work.dir, "indexes.txt");
    await writeFile(file, `-i ${server.url}\n--extra-index-url ${other.url}\n--pre\nrelay\nfaraway\n`);
    const target = freshTarget();
    // The command line's index answers nothing: the file's list replaces it.
    const result = await runMpip(["install", "--retries", "0", "-i", "http://127.0.0.1:9/nothing/pypi", "-p", target, "-r", file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(path.join(target, "relay.py"), "utf8"), "R = 2\n");
    assert.ok((await listFiles(target)).includes("faraway.py"));
  });

  test("--no-index and -f in a file: the folder relative to the file, and no request at all", async () => {
    const dir = path.join(work.dir, "offline");
    await writeTree(dir, { "reqs.txt": "--no-index\n-f ./dists\nlocal-lamp\n" });
    await mkdir(path.join(dir, "dists"), { recursive: true });
    await writeFile(path.join(dir, "dists", "local-lamp-1.0.tar.gz"), await buildSdist({ name: "local-lamp", version: "1.0", files: { "local_lamp.py": "" } }));
    const before = server.requests.length;
    const target = freshTarget();
    const result = await runMpip(["install", "-i", server.url, "-p", target, "-r", path.join(dir, "reqs.txt")]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await listFiles(target)).includes("local_lamp.py"));
    assert.equal(server.requests.length, before);
  });

  test("`name @ file:///...` lines (as pip freeze writes them) and `path ; marker` lines install the local sdists, with their hash and marker; mpip freeze writes a line that installs them again", async () => {
    const dir = path.join(work.dir, "file urls");
    await mkdir(dir, { recursive: true });
    const archives = { lamp: path.join(dir, "file-lamp-1.0.tar.gz"), torch: path.join(dir, "file_torch-2.0.tar.gz"), skipped: path.join(dir, "file-skipped-1.0.tar.gz") };
    await writeFile(archives.lamp, await buildSdist({ name: "file-lamp", version: "1.0", files: { "file_lamp.py": "" } }));
    await writeFile(archives.torch, await buildSdist({ name: "file_torch", version: "2.0", files: { "file_torch.py": "" } }));
    await writeFile(archives.skipped, await buildSdist({ name: "file-skipped", version: "1.0", files: { "file_skipped.py": "" } }));
    const hash = sha(await readFile(archives.torch));
    await writeFile(path.join(dir, "reqs.txt"), [
      `file-lamp @ ${pathToFileURL(archives.lamp).href}`,
      `${pathToFileURL(archives.torch).href}#sha256=${hash}`,
      `file-skipped @ ${pathToFileURL(archives.skipped).href} ; sys_platform == "win32"`,
      // pip's `path ; marker` and `URL ; marker`: left out on MicroPython, as the line above.
      `${archives.skipped} ; sys_platform == "win32"`,
      `${pathToFileURL(archives.skipped).href} ; os_name == "nt"`,
      "",
    ].join("\n"));
    const before = server.requests.length;
    const target = freshTarget();
    const result = await runMpip(["install", "-i", server.url, "-p", target, "-r", path.join(dir, "reqs.txt")]);
    assert.equal(result.code, 0, result.stderr);
    const files = await listFiles(target);
    assert.ok(files.includes("file_lamp.py") && files.includes("file_torch.py") && !files.includes("file_skipped.py"), files.join(" "));
    assert.equal(server.requests.length, before);
    const frozen = await runMpip(["freeze", "-p", target]);
    assert.equal(frozen.code, 0, frozen.stderr);
    assert.deepEqual(frozen.stdout.trim().split("\n").sort(), [archives.lamp, archives.torch].sort());
    await writeFile(path.join(dir, "frozen.txt"), frozen.stdout);
    const again = freshTarget();
    assert.equal((await runMpip(["install", "--no-index", "-p", again, "-r", path.join(dir, "frozen.txt")])).code, 0);
    assert.deepEqual(await listFiles(again), files);
    // The sdist must be the project named, and match the hash given.
    await writeFile(path.join(dir, "wrong.txt"), `other-lamp @ ${pathToFileURL(archives.lamp).href}\n`);
    const named = await failure(["--no-index", "-p", freshTarget(), "-r", path.join(dir, "wrong.txt")], 2);
    assert.match(named.message, /wrong\.txt` line 1: `other-lamp @ file:.*`: the file `file-lamp-1\.0\.tar\.gz` is an sdist of `file-lamp`, not of `other-lamp`/);
    await writeFile(path.join(dir, "bad-hash.txt"), `${pathToFileURL(archives.lamp).href}#sha256=${hash}\n`);
    const mismatch = await failure(["--no-index", "-p", freshTarget(), "-r", path.join(dir, "bad-hash.txt")], 1);
    assert.match(mismatch.message, /does not match the sha256/);
  });

  test("a requirements file or a lock named without its option: the hint says to give it with -r or --lock", async () => {
    const dir = path.join(work.dir, "forgot-option");
    await writeTree(dir, { "requirements.txt": "lamp\n", "pylock.toml": 'lock-version = "1.0"\ncreated-by = "mpip"\npackages = []\n' });
    for (const [file, option] of [["requirements.txt", "-r"], ["pylock.toml", "--lock"]] as const) {
      const target = freshTarget();
      const error = await failure(["--no-index", "-f", dir, "-p", target, file], 1, { cwd: dir });
      assert.equal(error.code, "not-found");
      // The command offered keeps every other word typed that can go with the option: `-f` cannot go with
      // --lock (the lock says where each file is), so it is left out, and the command offered runs.
      const offered = option === "-r" ? `--json --no-index -f ${dir} -p ${target} -r ${file}` : `--json --no-index -p ${target} --lock ${file}`;
      const left = option === "-r" ? "" : ` (leaving out \`-f ${dir}\`, which cannot be given with --lock: the lock says what to install and where each file is; a folder holding the lock's files is given with \`-i DIR\`)`;
      assert.equal(error.hint, `\`${file}\` is a file in this folder: to install what it lists, give it with ${option}${left}: \`mpip install ${offered}\``);
      if (option === "--lock") {
        const again = await runMpip(["install", ...offered.split(" ")], { cwd: dir });
        assert.equal(again.code, 0, again.stderr);
      }
    }
  });

  test("a source or a version written the way PEP 508 does not read: the same hint on a -r line as typed whole on the command line", async () => {
    const dir = path.join(work.dir, "malformed-sources");
    await writeTree(dir, { "fixtures/.keep": "" });
    const cases: Array<[string, RegExp, string]> = [
      ["mpip-demo-fmt 1.0", /invalid requirement `mpip-demo-fmt 1\.0`: expected a version specifier/, "write name and version as one: `mpip-demo-fmt==1.0` (or mip's `mpip-demo-fmt@1.0`)"],
      ["lamp @ 2.1", /expected a URL after `@`, found `2\.1`/, "write name and version as one: `lamp==2.1` (or mip's `lamp@2.1`)"],
      ["lamp @ fixtures/lamp-1.0.tar.gz", /expected a URL after `@`, found `fixtures\/lamp-1\.0\.tar\.gz`/, "after `@` comes a URL (PEP 508): for a file or folder on this machine write `lamp @ file:fixtures/lamp-1.0.tar.gz` (a relative path, from the current folder), or give the path alone: `fixtures/lamp-1.0.tar.gz`"],
      ["lamp @ file://../fixtures/lamp-1.0.tar.gz", /`file:\/\/\.\.\/fixtures\/lamp-1\.0\.tar\.gz` is not a `file:` URL of a path on this machine: it names the host `\.\.` \(in a `file:\/\/` URL a host comes after the `\/\/`\), so the relative path `\.\.\/fixtures\/lamp-1\.0\.tar\.gz` is not read as one$/, "for a path relative to the current folder write `file:../fixtures/lamp-1.0.tar.gz` (no `//`), or the path itself: `../fixtures/lamp-1.0.tar.gz`; an absolute path is `file:///absolute/path`"],
      ["lamp @ file://fixtures/lamp-1.0.tar.gz", /names the host `fixtures`/, "for a path relative to the current folder write `file:fixtures/lamp-1.0.tar.gz` (no `//`), or the path itself: `fixtures/lamp-1.0.tar.gz`; an absolute path is `file:///absolute/path`"],
      ["lamp @ file://files.example.com/lamp-1.0.tar.gz", /names the host `files\.example\.com` .* another machine, whose files mpip does not read$/, "write a file on this machine as `file:///absolute/path`, or give the path itself"],
    ];
    for (const [line, message, hint] of cases) {
      const file = path.join(dir, `req-${++counter}.txt`);
      await writeFile(file, `${line}\n`);
      const fromFile = await failure(["--no-index", "-f", dir, "-p", freshTarget(), "-r", file], 2, { cwd: dir });
      assert.match(fromFile.message, message, line);
      assert.ok(fromFile.message.startsWith(`\`${file}\` line 1: `), fromFile.message);
      assert.doesNotMatch(fromFile.message, /File URL host must be/);
      assert.equal(fromFile.hint, hint, line);
      const typed = await failure(["--no-index", "-f", dir, "-p", freshTarget(), line], 2, { cwd: dir });
      assert.match(typed.message, message, line);
      assert.equal(typed.hint, hint, line);
    }
  });

  test("a lock named as a package beside other resolving options: the command offered leaves out every one --lock refuses", async () => {
    const dir = path.join(work.dir, "forgot-lock-option");
    await writeTree(dir, { "pylock.toml": 'lock-version = "1.0"\ncreated-by = "mpip"\npackages = []\n', "fixtures/.keep": "", "reqs.txt": "" });
    const target = freshTarget();
    const typed = ["-Uqp", target, "--no-deps", "--pre", "-ffixtures", "--find-links=fixtures", "-r", "reqs.txt", "-c", "reqs.txt", "--no-index", "pylock.toml"];
    const error = await failure(typed, 1, { cwd: dir });
    assert.equal(error.hint, `\`pylock.toml\` is a file in this folder: to install what it lists, give it with --lock (leaving out \`-U\`, \`--no-deps\`, \`--pre\`, \`-f fixtures\`, \`--find-links=fixtures\`, \`-r reqs.txt\`, \`-c reqs.txt\`, which cannot be given with --lock: the lock says what to install and where each file is; a folder holding the lock's files is given with \`-i DIR\`): \`mpip install --json -q -p ${target} --no-index --lock pylock.toml\``);
    const again = await runMpip(["install", "--json", "-q", "-p", target, "--no-index", "--lock", "pylock.toml"], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
  });

  test("${VAR} expands from the environment, credentials included; an unset one is a usage error naming it", async () => {
    const locked = await startIndexServer();
    try {
      await locked.addSdist({ name: "lamp", version: "1.0", files: { "lamp.py": "L = 1\n" } });
      locked.requireAuth("ci", "s3cret-index-token");
      const file = path.join(work.dir, "private.txt");
      await writeFile(file, `-i http://ci:\${INDEX_TOKEN}@${locked.url.replace(/^http:\/\//, "")}\nlamp==\${LAMP_VERSION}\n`);
      const target = freshTarget();
      const result = await runMpip(["install", "-v", "-p", target, "-r", file], { env: { INDEX_TOKEN: "s3cret-index-token", LAMP_VERSION: "1.0" } });
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stdout + result.stderr, /s3cret-index-token/);
      const error = await failure(["-p", freshTarget(), "-r", file], 2, { env: { LAMP_VERSION: "1.0" } });
      assert.ok(error.message.startsWith(`\`${file}\` line 1: the environment variable \`INDEX_TOKEN\``), error.message);
    } finally {
      await locked.close();
    }
  });
});

describe("a requirements file with nothing for MicroPython", () => {
  test("every line left out by its marker: nothing to install, exit 0 (as pip), the target untouched; --json says so", async () => {
    const file = path.join(work.dir, "cpython-only.txt");
    await writeFile(file, `# shared with a CPython project\nbeacon ; implementation_name == 'cpython'\nlamp==1.0 ; sys_platform == 'linux'\n`);
    const target = freshTarget();
    const result = await runMpip(["install", "-p", target, "-i", server.url, "-r", file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /Skipping `beacon ; implementation_name == 'cpython'`/);
    assert.match(result.stdout + result.stderr, /Nothing to install: the marker of every package asked for leaves it out on MicroPython/);
    assert.equal(await readFile(target).catch((error: NodeJS.ErrnoException) => error.code), "ENOENT");
    const json = await runMpip(["install", "--json", "-p", target, "-i", server.url, "-r", file]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { ok: true, target, packages: [], removed: [], warnings: [] });
  });

  test("the marker-skip message names the release markers were evaluated for: --target-version's, --mpy's first, or the default", async () => {
    const file = path.join(work.dir, "by-release.txt");
    await writeFile(file, `beacon ; implementation_version >= '1.24'\n`);
    const cases: Array<[string[], string]> = [
      [[], "MicroPython 1.27.0 (the current release, which markers see unless --target-version or --mpy names another)"],
      [["--target-version", "1.22"], "MicroPython 1.22.0 (--target-version 1.22)"],
      [["--mpy", "6.1"], "MicroPython 1.20.0 (the first release that loads --mpy 6.1)"],
    ];
    for (const [options, firmware] of cases) {
      const result = await runMpip(["install", "--dry-run", "-p", freshTarget(), "-i", server.url, ...options, "-r", file]);
      if (options.length === 0) {
        // 1.27.0 meets the marker: nothing skipped.
        assert.doesNotMatch(result.stderr, /Skipping/);
        continue;
      }
      assert.equal(result.code, 0, result.stderr);
      const escaped = firmware.replace(/[.()]/g, "\\$&");
      assert.match(result.stderr, new RegExp(`^Skipping \`beacon ; implementation_version >= '1\\.24'\` \\(\`.*by-release\\.txt\` line 1\\): its marker does not apply to ${escaped}$`, "m"), options.join(" "));
      assert.match(result.stderr, new RegExp(`^Nothing to install: the marker of every package asked for leaves it out on ${escaped}$`, "m"));
    }
    const never = path.join(work.dir, "never.txt");
    await writeFile(never, `beacon ; sys_platform == 'win32'\n`);
    const plain = await runMpip(["install", "--dry-run", "-p", freshTarget(), "-i", server.url, "-r", never]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /its marker does not apply to MicroPython 1\.27\.0 \(the current release, which markers see unless --target-version or --mpy names another\)$/m);
  });

  test("mpip download of such a file: nothing to download, exit 0, no folder made; --json says so; mpip lock locks nothing", async () => {
    const file = path.join(work.dir, "cpython-only-download.txt");
    await writeFile(file, `beacon ; implementation_name == 'cpython'\n`);
    const dest = path.join(work.dir, `download-${++counter}`);
    const result = await runMpip(["download", "-d", dest, "-i", server.url, "-r", file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /Nothing to download: the marker of every package asked for leaves it out on MicroPython/);
    assert.equal(await readFile(dest).catch((error: NodeJS.ErrnoException) => error.code), "ENOENT");
    const json = await runMpip(["download", "--json", "--mpy", "6", "-d", dest, "-i", server.url, "-r", file]);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { ok: true, dest, flavor: "6", packages: [], written: [], unchanged: [], warnings: [] });
    const folder = path.join(work.dir, `lock-${counter}`);
    await mkdir(folder);
    const locked = await runMpip(["lock", "-i", server.url, "-r", file], { cwd: folder });
    assert.equal(locked.code, 0, locked.stderr);
    assert.match(locked.stdout + locked.stderr, /Locked 0 packages/);
  });

  test("no line at all is still bad usage (exit 2), with a hint about the file", async () => {
    const file = path.join(work.dir, "empty-reqs.txt");
    await writeFile(file, "# nothing yet\n");
    const error = await failure(["-p", freshTarget(), "-i", server.url, "-r", file], 2);
    assert.equal(error.message, "no packages to install");
    assert.match(error.hint ?? "", /the requirements files list no package/);
  });
});
