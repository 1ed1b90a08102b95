// `mpip lock` then `mpip install --lock` through the built CLI, against a real index server: the locked
// install gives the image a plain install gives, byte for byte, records included, for sources, for
// .mpy 6 and compiled with --compile; it asks no index anything (only the files the lock pins); the lock
// is the same bytes every time; it is refused for another firmware or build; it is made from a project
// folder's pyproject.toml when no package is named; and it never holds a credential.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parse as parseToml } from "smol-toml";
import { runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type Route } from "../helpers/index-server.js";
import { image, leftovers, lockAndInstall, metadataRequests, serveGraph, type Graph } from "./graph.js";

let graph: Graph;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = (name = "image") => path.join(work.dir, `${name}-${++counter}`);

/**
 * The lock of the graph's specs for sources, and a plain install of them: many tests start from these,
 * so each is made once per file (the sources test checks both runs' own results); a test that changes
 * the lock works on a copy (`lockCopy`).
 */
let sourcesLock: Promise<{ lockFile: string; locked: RunResult }> | undefined;
let sourcesPlain: Promise<{ target: string; installed: RunResult }> | undefined;
function sharedLock(): Promise<{ lockFile: string; locked: RunResult }> {
  sourcesLock ??= (async () => {
    const lockFile = path.join(work.dir, "shared-lock", "pylock.toml");
    await writeTree(path.dirname(lockFile), {});
    return { lockFile, locked: await lockAndInstall.lock(graph, lockFile) };
  })();
  return sourcesLock;
}
function sharedPlain(): Promise<{ target: string; installed: RunResult }> {
  sourcesPlain ??= (async () => {
    const target = path.join(work.dir, "shared-plain");
    return { target, installed: await lockAndInstall.install(graph, target) };
  })();
  return sourcesPlain;
}
/** The shared sources lock, copied to `lockFile` (its folder is made). */
async function lockCopy(lockFile: string): Promise<void> {
  const { lockFile: shared, locked } = await sharedLock();
  assert.equal(locked.code, 0, locked.stderr);
  await mkdir(path.dirname(lockFile), { recursive: true });
  await cp(shared, lockFile);
}

before(async () => {
  graph = await serveGraph({ mpy: true });
  work = await tempDir("mpip-lock-");
});
after(async () => {
  await graph.server.close();
  await work.cleanup();
});

describe("lock, then install --lock", () => {
  for (const build of [[], ["--mpy", "6"], ["--compile"]]) {
    test(`gives the image a plain install gives, byte for byte, records included (${build.length === 0 ? "sources" : build.join(" ")}); only the locked files are fetched`, async () => {
      // For sources, the file's shared lock and plain install (made here if this test runs first).
      let lockFile: string;
      let locked: RunResult;
      let plain: string;
      let direct: RunResult;
      if (build.length === 0) {
        ({ lockFile, locked } = await sharedLock());
        ({ target: plain, installed: direct } = await sharedPlain());
      } else {
        lockFile = path.join(fresh("locks"), "pylock.toml");
        await writeTree(path.dirname(lockFile), {});
        locked = await lockAndInstall.lock(graph, lockFile, ...build);
        plain = fresh();
        direct = await lockAndInstall.install(graph, plain, ...build);
      }
      assert.equal(locked.code, 0, locked.stderr);
      assert.match(locked.stderr, /^Locked 4 packages into `.*pylock\.toml`/m);
      assert.equal(direct.code, 0, direct.stderr);
      graph.server.requests.length = 0;
      const target = fresh();
      const installed = await lockAndInstall.installLocked(lockFile, target, ...build);
      assert.equal(installed.code, 0, installed.stderr);
      assert.deepEqual(await image(target), await image(plain));
      assert.ok(Object.keys(await image(target)).some((file) => file.endsWith(".dist-info/RECORD")), "the records are part of the comparison");
      // No index was asked anything: one request per locked file (documents of mip packages are files too).
      assert.deepEqual(metadataRequests(graph.server), []);
      // An sdist is one file; a mip package its document and each of its files.
      const lock = parseToml(await readFile(lockFile, "utf8")) as { packages: Array<{ tool: { mpip: { document?: unknown; files?: unknown[] } } }> };
      const pinned = lock.packages.reduce((count, item) => count + (item.tool.mpip.document === undefined ? 1 : 1 + item.tool.mpip.files!.length), 0);
      assert.equal(graph.server.requests.length, pinned, graph.server.requests.join("\n"));
      assert.ok(graph.server.requests.every((request) => request.startsWith("GET ")));
      assert.deepEqual(await leftovers(path.dirname(target)), []);
    });
  }

  test("each package's record is staged while the other locked files are still being fetched, and the image is a plain install's", async () => {
    const lockFile = path.join(fresh("locks"), "pylock.toml");
    await lockCopy(lockFile);
    const { target: plain, installed } = await sharedPlain();
    assert.equal(installed.code, 0, installed.stderr);
    // Helper_Lib's sdist is answered only once a record is staged beside the target (or after 20 s: a
    // locked install that stages every record at the end stages none while a file is still coming).
    const target = fresh();
    const files = graph.server.routes.find((route) => route.name === "file")!;
    let answered: "record staged" | "timeout" | undefined;
    const held: Route = {
      name: "held",
      pattern: /^\/files\/helper-lib\//,
      async handle(context) {
        const deadline = Date.now() + 20_000;
        while (answered === undefined) {
          if (await recordStagedBeside(target)) answered = "record staged";
          else if (Date.now() > deadline) answered = "timeout";
          else await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return files.handle({ ...context, match: files.pattern.exec(context.path)! });
      },
    };
    graph.server.routes.unshift(held);
    try {
      const installed = await lockAndInstall.installLocked(lockFile, target);
      assert.equal(installed.code, 0, installed.stderr);
      assert.equal(answered, "record staged");
    } finally {
      graph.server.routes.splice(graph.server.routes.indexOf(held), 1);
    }
    assert.deepEqual(await image(target), await image(plain));
    assert.deepEqual(await leftovers(path.dirname(target)), []);
  });

  test("the lock pins every file of a v2 package with its full sha256 (the index gives 8 hex digits), and the package document too", async () => {
    const { lockFile, locked } = await sharedLock();
    assert.equal(locked.code, 0, locked.stderr);
    const lock = parseToml(await readFile(lockFile, "utf8")) as unknown as { packages: Array<{ name: string; index?: string; tool: { mpip: Record<string, unknown> } }> };
    const blinker = lock.packages.find((item) => item.name === "blinker")!;
    assert.equal(blinker.index, graph.mip.base);
    const files = blinker.tool.mpip.files as Array<{ dest: string; url: string; hashes: { sha256: string } }>;
    assert.deepEqual(files.map((file) => file.dest), ["blinker/__init__.py", "blinker/led.py"]);
    for (const file of files) {
      const short = graph.mip.hashOf("py", "blinker", file.dest);
      assert.equal(short.length, 8);
      assert.match(file.hashes.sha256, /^[0-9a-f]{64}$/);
      assert.ok(file.hashes.sha256.startsWith(short));
      assert.equal(file.url, graph.mip.fileUrl(short));
    }
    const document = blinker.tool.mpip.document as { url: string; hashes: { sha256: string } };
    assert.equal(document.url, `${graph.mip.base}/package/py/blinker/0.3.json`);
    assert.match(document.hashes.sha256, /^[0-9a-f]{64}$/);
    assert.equal(blinker.tool.mpip.kind, "mip");
    const sensor = lock.packages.find((item) => item.name === "sensor-lib") as unknown as { sdist: { url: string; size: number; hashes: { sha256: string } }; dependencies: Array<{ name: string }> };
    assert.deepEqual(sensor.dependencies.map((dependency) => dependency.name), ["helper-lib"]);
    assert.match(sensor.sdist.url, /\/files\/sensor-lib\/1\.0\/sensor-lib-1\.0\.tar\.gz$/);
  });

  test("a second lock gives the same bytes, whatever order the index answers in, and so does one from another folder", async () => {
    const dir = path.join(work.dir, "again");
    await writeTree(dir, {});
    graph.server.delayFor = (requestPath) => (requestPath.includes("sensor") || requestPath.includes("ticker") ? 40 : 0);
    const first = await lockAndInstall.lock(graph, path.join(dir, "pylock.toml"));
    graph.server.delayFor = (requestPath) => (requestPath.includes("helper") || requestPath.includes("blinker") ? 40 : 0);
    const second = await runMpip(["lock", "-o", "pylock.again.toml", ...graph.indexes, ...graph.specs], { cwd: dir });
    graph.server.delayFor = undefined;
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    const one = await readFile(path.join(dir, "pylock.toml"));
    assert.ok(one.equals(await readFile(path.join(dir, "pylock.again.toml"))));
    assert.doesNotMatch(one.toString(), /\d{4}-\d\d-\d\dT/, "no timestamps");
  });

  test("a lock made for one firmware or build is refused for another, before anything is created; the same firmware said otherwise is accepted", async () => {
    const dir = path.join(work.dir, "firmware");
    await writeTree(dir, {});
    const forMpy = path.join(dir, "pylock.mpy.toml");
    const forSources = path.join(dir, "pylock.toml");
    assert.equal((await lockAndInstall.lock(graph, forMpy, "--target-version", "1.22")).code, 0);
    await lockCopy(forSources);
    const cases: Array<[string, string[], RegExp]> = [
      [forMpy, [], /was locked for \.mpy 6\.2, but this install is for sources \(no --mpy or --target-version\)/],
      [forMpy, ["--mpy", "6"], /was locked for \.mpy 6\.2, but this install is for \.mpy 6$/m],
      [forSources, ["--mpy", "6"], /was locked for sources \(no --mpy or --target-version\), but this install is for \.mpy 6/],
      [forSources, ["--compile"], /was locked for sources \(no --mpy or --target-version\), but this install is for sources \(no --mpy or --target-version\), compiled to \.mpy \(--compile\)/],
    ];
    for (const [lockFile, args, message] of cases) {
      const target = fresh();
      const result = await lockAndInstall.installLocked(lockFile, target, ...args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /^hint: give the options the lock was made with/m);
      assert.equal(existsSync(target), false);
      // The .mpy lock installed with no option: the hint names the options to give.
      if (lockFile === forMpy && args.length === 0) assert.match(result.stderr, /hint: give the options the lock was made with \(`--mpy 6\.2`\)/);
    }
    const same = await lockAndInstall.installLocked(forMpy, fresh(), "--mpy", "6.2");
    assert.equal(same.code, 0, same.stderr);
  });

  test("with no package named, the project in the current folder is locked: its pyproject.toml's dependencies", async () => {
    const project = await writeTree(path.join(work.dir, "project"), {
      "pyproject.toml": '[project]\nname = "weather-station"\nversion = "0.1"\ndependencies = ["sensor-lib>=1.0", "blinker", "desktop-only; sys_platform == \'win32\'"]\n',
      "weather_station/__init__.py": "",
    });
    const result = await runMpip(["lock", ...graph.indexes], { cwd: project });
    assert.equal(result.code, 0, result.stderr);
    const lock = parseToml(await readFile(path.join(project, "pylock.toml"), "utf8")) as { packages: Array<{ name: string }>; tool: { mpip: { requirements: string[] } } };
    assert.deepEqual(lock.packages.map((item) => item.name), ["blinker", "helper-lib", "sensor-lib", "ticker"]);
    assert.deepEqual(lock.tool.mpip.requirements, ["sensor-lib>=1.0", "blinker"]);
    assert.match(result.stderr, /^Skipping `desktop-only; sys_platform == "win32"` \(`pyproject\.toml`\): its marker does not apply to MicroPython 1\.27\.0 \(the current release, which markers see unless --target-version or --mpy names another\)$/m);
    const empty = await writeTree(path.join(work.dir, "nothing"), { "README.md": "no project here\n" });
    const none = await runMpip(["lock", ...graph.indexes], { cwd: empty });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^error: nothing to lock$/m);
    assert.equal(existsSync(path.join(empty, "pylock.toml")), false);
  });

  test("--check with nothing named says what the lock was made from, as a command that checks it, or why the lock cannot say", async () => {
    const dir = await writeTree(path.join(work.dir, "check-bare"), { "README.md": "no project here\n" });
    const made = await runMpip(["lock", "-q", ...graph.indexes, "--pre", "--compile", "--mpy", "6", "sensor-lib>=1.0", "blinker"], { cwd: dir });
    assert.equal(made.code, 0, made.stderr);
    const before = await readFile(path.join(dir, "pylock.toml"));
    const bare = await runMpip(["lock", "--check"], { cwd: dir });
    assert.equal(bare.code, 2, bare.stderr);
    assert.match(bare.stderr, /^error: nothing to check the lock against: --check compares the lock with what the command line asks for$/m);
    const command = /^hint: `pylock\.toml` was made from `sensor-lib>=1\.0`, `blinker`: give them again, as in `(mpip lock --check [^`]+)`$/m.exec(bare.stderr)?.[1];
    assert.ok(command !== undefined, bare.stderr);
    // The command, read back as a shell reads it, checks the lock: up to date. The build options are in
    // it (without them the lock would differ), and the requirements come after `--`.
    const words = command.split(" ").slice(1).map((word) => word.replace(/^'(.*)'$/, "$1"));
    assert.deepEqual(words.slice(0, 2), ["lock", "--check"]);
    assert.deepEqual(words.slice(-3), ["--", "sensor-lib>=1.0", "blinker"]);
    for (const option of ["--pre", "--compile"]) assert.ok(words.includes(option), command);
    assert.match(command, / --mpy 6 /);
    const again = await runMpip(words, { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^`pylock\.toml` is up to date \(\d+ packages\)$/m);
    assert.deepEqual(await readFile(path.join(dir, "pylock.toml")), before);
    // Named with -o, and with --json.
    await writeFile(path.join(dir, "pylock.dev.toml"), before);
    const named = await runMpip(["lock", "--check", "-o", "pylock.dev.toml", "--json"], { cwd: dir });
    assert.equal(named.code, 2);
    const document = JSON.parse(named.stdout) as { error: { code: string; hint: string } };
    assert.equal(document.error.code, "usage");
    assert.match(document.error.hint, /^`pylock\.dev\.toml` was made from .*`mpip lock --check -o pylock\.dev\.toml .* -- 'sensor-lib>=1\.0' blinker`$/);
    // A requirement the terminal could not show as it is, or too many to write out: no command, and the
    // hint says where the lock lists them.
    const text = before.toString("utf8");
    let manyStderr = "";
    for (const [name, requirements] of [["pylock.odd.toml", '["blinker\\u001b[31m"]'], ["pylock.many.toml", JSON.stringify(Array.from({ length: 60 }, (_, i) => `package-number-${i}`))]] as const) {
      await writeFile(path.join(dir, name), text.replace(/^requirements = .*$/m, `requirements = ${requirements}`));
      const odd = await runMpip(["lock", "--check", "-o", name], { cwd: dir });
      assert.equal(odd.code, 2, odd.stderr);
      const them = name === "pylock.many.toml" ? ["them", "them all"] : ["it", "it"];
      assert.match(odd.stderr, new RegExp(`: give ${them[0]} again; the lock lists ${them[1]} in \`\\[tool\\.mpip\\]\`, with the indexes and options it was made with$`, "m"), name);
      assert.doesNotMatch(odd.stderr, /mpip lock --check|\u001b/, name);
      if (name === "pylock.many.toml") manyStderr = odd.stderr;
    }
    assert.match(manyStderr, /`package-number-7` and 52 more requirements: give them again/);
    // One requirement: "give it again".
    await writeFile(path.join(dir, "pylock.one.toml"), text.replace(/^requirements = .*$/m, 'requirements = ["blinker"]'));
    assert.match((await runMpip(["lock", "--check", "-o", "pylock.one.toml"], { cwd: dir })).stderr, /^hint: `pylock\.one\.toml` was made from `blinker`: give it again, as in `mpip lock --check /m);
    // A lock that is not there, that cannot be read, or that does not say what it was made from: the
    // refusal says so, and not "nothing to lock" (before: it did, as if --check had not been given).
    await writeFile(path.join(dir, "pylock.bad.toml"), "not toml [");
    await writeFile(path.join(dir, "pylock.other.toml"), text.replace(/^\[tool\.mpip\][\s\S]*?(?=^\[|(?![\s\S]))/m, ""));
    await mkdir(path.join(dir, "pylock.folder.toml"));
    await symlink(path.join(dir, "nowhere.toml"), path.join(dir, "pylock.link.toml"));
    const hints: Array<[string, RegExp]> = [
      ["pylock.none.toml", /^hint: there is no `pylock\.none\.toml` either: make the lock first, `mpip lock NAME\.\.\.` or `mpip lock -r FILE`, then check it with the same requirements$/m],
      ["pylock.bad.toml", /^hint: mpip cannot read what `pylock\.bad\.toml` was made from \(`pylock\.bad\.toml` is not valid TOML: line 1, column \d+: .+\); name the packages or -r files it was made from$/m],
      ["pylock.folder.toml", /^hint: mpip cannot read what `pylock\.folder\.toml` was made from \(.*not a regular file.*\); name the packages or -r files it was made from$/m],
      ["pylock.link.toml", /^hint: there is no `pylock\.link\.toml` either: make the lock first/m],
      ["pylock.other.toml", /^hint: `pylock\.other\.toml` does not say what it was made from \(mpip records it under `\[tool\.mpip\]`\); name the packages or -r files it was made from$/m],
    ];
    for (const [file, hint] of hints) {
      const plain = await runMpip(["lock", "--check", "-o", file], { cwd: dir });
      assert.equal(plain.code, 2, plain.stderr);
      assert.match(plain.stderr, /^error: nothing to check the lock against: --check compares the lock with what the command line asks for$/m, file);
      assert.match(plain.stderr, hint, file);
    }
    assert.equal(existsSync(path.join(dir, "pylock.none.toml")), false, "--check writes no lock");
  });

  test("the lock is replaced whole or not at all: a run that fails keeps the old lock, byte for byte, and leaves no temporary file", async () => {
    const dir = path.join(work.dir, "atomic");
    const lockFile = path.join(dir, "pylock.toml");
    await lockCopy(lockFile);
    const before = await readFile(lockFile);
    const failed = await runMpip(["lock", "-o", lockFile, ...graph.indexes, "sensor-lib", "no-such-lib"]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /package `no-such-lib` was not found/);
    const tampered = graph.server.fault((request) => request.path.endsWith("/sensor-lib-1.0.tar.gz"), { type: "truncate", sendBytes: 10 });
    try {
      const cut = await runMpip(["lock", "-o", lockFile, "--retries", "0", ...graph.indexes, ...graph.specs]);
      assert.equal(cut.code, 1, cut.stderr);
    } finally {
      tampered.remove();
    }
    assert.ok(before.equals(await readFile(lockFile)));
    assert.deepEqual((await readdir(dir)).sort(), ["pylock.toml"]);
  });

  test("a lock file name other than pylock.toml or pylock.NAME.toml is a usage error; nothing is written", async () => {
    for (const name of ["lock.toml", "pylock.a.b.toml", "requirements.txt"]) {
      const result = await runMpip(["lock", "-o", path.join(work.dir, name), ...graph.indexes, "sensor-lib"]);
      assert.equal(result.code, 2, name);
      assert.match(result.stderr, /is not a lock file name: PEP 751 names a lock `pylock\.toml` or `pylock\.NAME\.toml`/);
      assert.equal(existsSync(path.join(work.dir, name)), false);
    }
  });

  test("credentials in a URL given directly never reach the lock, neither its packages nor its requirements (not even as ***)", async () => {
    const server = await startIndexServer();
    try {
      server.requireAuth("ci-bot", "s3cret-token");
      await server.addSdist({ name: "private-lib", version: "2.0", files: { "private_lib.py": "P = 2\n" } });
      const url = `${server.origin.replace("http://", "http://ci-bot:s3cret-token@")}/files/private-lib/2.0/private-lib-2.0.tar.gz`;
      for (const spec of [url, `private-lib @ ${url}`]) {
        const dir = await writeTree(path.join(work.dir, `private-direct-${spec.length}`), {});
        const lockFile = path.join(dir, "pylock.toml");
        const locked = await runMpip(["lock", "-o", lockFile, spec]);
        assert.equal(locked.code, 0, locked.stderr);
        const text = await readFile(lockFile, "utf8");
        assert.doesNotMatch(text, /s3cret|ci-bot|\*\*\*/, spec);
        assert.match(text, /^requirements = \[".*http:\/\/127\.0\.0\.1:\d+\/files\/private-lib\/2\.0\/private-lib-2\.0\.tar\.gz"\]$/m, spec);
      }
    } finally {
      await server.close();
    }
  });

  test("credentials in an index URL never reach the lock; a locked install sends them again when the same index is given", async () => {
    const server = await startIndexServer();
    try {
      server.requireAuth("ci-bot", "s3cret-token");
      await server.addSdist({ name: "private-lib", version: "2.0", files: { "private_lib.py": "P = 2\n" } });
      const index = server.url.replace("http://", "http://ci-bot:s3cret-token@");
      const dir = await writeTree(path.join(work.dir, "private"), {});
      const lockFile = path.join(dir, "pylock.toml");
      const locked = await runMpip(["lock", "-o", lockFile, "-i", index, "private-lib"]);
      assert.equal(locked.code, 0, locked.stderr);
      const text = await readFile(lockFile, "utf8");
      assert.doesNotMatch(text, /s3cret|ci-bot|\*\*\*/);
      assert.match(text, new RegExp(`index = "${server.url.replace(/[.]/g, "\\.")}"`));
      const plain = fresh();
      assert.equal((await runMpip(["install", "-p", plain, "-i", index, "private-lib"])).code, 0);
      const withLogin = fresh();
      const installed = await runMpip(["install", "--lock", lockFile, "-p", withLogin, "-i", index]);
      assert.equal(installed.code, 0, installed.stderr);
      assert.doesNotMatch(installed.stderr, /s3cret/);
      assert.deepEqual(await image(withLogin), await image(plain));
      const without = await runMpip(["install", "--lock", lockFile, "-p", fresh()]);
      assert.equal(without.code, 1);
      assert.match(without.stderr, /401/);
    } finally {
      await server.close();
    }
  });

  test("what resolves an install has no place beside --lock: packages, -r, -c, -U, --no-deps, --pre, -f are usage errors; their MPIP_* variables are passed over", async () => {
    const lockFile = path.join(work.dir, "usage", "pylock.toml");
    await writeTree(path.dirname(lockFile), { "reqs.txt": "sensor-lib\n", "constraints.txt": "sensor-lib<1\n" });
    await writeFile(lockFile, 'lock-version = "1.0"\ncreated-by = "mpip"\npackages = []\n');
    const reqs = path.join(path.dirname(lockFile), "reqs.txt");
    const constraints = path.join(path.dirname(lockFile), "constraints.txt");
    for (const [args, clash] of [[["sensor-lib"], "packages to install"], [["-r", reqs], "-r"], [["-c", constraints], "-c"], [["-U"], "-U (--upgrade)"], [["--no-deps"], "--no-deps"], [["--pre"], "--pre"], [["-f", work.dir], "-f (--find-links)"]] as const) {
      const result = await lockAndInstall.installLocked(lockFile, fresh(), ...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.ok(result.stderr.includes(`error: ${clash} cannot be given with --lock: the lock says what to install`), result.stderr);
    }
    // A CI job sets its variables for every step: a locked install has no use for these, and installs the lock.
    const env = { MPIP_REQUIREMENT: reqs, MPIP_CONSTRAINT: constraints, MPIP_UPGRADE: "1", MPIP_NO_DEPS: "1", MPIP_PRE: "1", MPIP_FIND_LINKS: work.dir };
    for (const command of [["install", "--lock", lockFile], ["sync", lockFile]]) {
      const result = await runMpip([...command, "-p", fresh()], { env });
      assert.equal(result.code, 0, `${command[0]}: ${result.stderr}`);
    }
    // MPIP_LOCK gives way to packages or -r typed on the command line (the command line is over the environment).
    const typed = await runMpip(["install", "--no-index", "-f", work.dir, "-p", fresh(), "-r", reqs], { env: { MPIP_LOCK: lockFile } });
    assert.equal(typed.code, 1, typed.stderr);
    assert.match(typed.stderr, /^error: package `sensor-lib` \(given in `.*reqs\.txt` line 1\) was not found/m);
    // sync takes no -c at all: it is no option of sync's.
    const sync = await runMpip(["sync", lockFile, "-p", fresh(), "-c", constraints]);
    assert.equal(sync.code, 2, sync.stderr);
    assert.match(sync.stderr, /unknown option '-c'/);
    const missing = await lockAndInstall.installLocked(path.join(work.dir, "usage", "pylock.nothere.toml"), fresh());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /pylock\.nothere\.toml` \(given with --lock\): there is nothing at that path/);
  });
});

/** Whether a record (its RECORD file) has been staged ahead in a staging folder of `target`, beside it. */
async function recordStagedBeside(target: string): Promise<boolean> {
  const parent = path.dirname(target);
  for (const staging of (await readdir(parent)).filter((name) => name.startsWith(`.${path.basename(target)}.mpip-staging`))) {
    const ahead = path.join(parent, staging, "records-ahead");
    const staged = await readdir(ahead).catch(() => [] as string[]);
    if (staged.some((entry) => existsSync(path.join(ahead, entry, "RECORD")))) return true;
  }
  return false;
}
