// Errors that point at the right thing (issue 10, item 13): a name only a package asked for is not the
// user's typo, so its error says which package required it; a failure to reach something a dependency
// led to (DNS, an index) says which dependency; a name from a -r file names the file and line; a spec the
// shell split gets a hint to quote it whole; a URL where a path is taken says so; options that contradict
// each other are usage errors (exit 2) before any work.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, runCommand, runMpip, tempDir, type RunResult } from "../helpers/cli.js";
import { writeTree } from "../helpers/expect.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "../helpers/mip-index.js";
import { buildSdist, sdistFilename } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let server: IndexServer;
let mip: MipIndex;
/** A --find-links folder holding `loner 1.0`, which requires `gone-dep`, found in no source. */
let links: string;

/** No proxy or netrc from the environment; retries wait 1 ms. */
const ENV: NodeJS.ProcessEnv = { HTTP_PROXY: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined, NETRC: undefined, MPIP_RETRY_BASE_MS: "1" };

before(async () => {
  work = await tempDir("mpip-point-");
  server = await startIndexServer();
  mip = serveMipIndex(server);
  await server.addSdist({ name: "weather-app", version: "1.0", files: { "weather_app.py": "" }, requires: ["sensor-drivr>=1.0"] });
  await server.addSdist({ name: "clock-app", version: "2.1", files: { "clock_app.py": "" }, requires: ["sensor-drivr"] });
  await server.addSdist({ name: "real-lib", version: "1.0", files: { "real_lib.py": "" } });
  await mip.publish({ name: "blinker", version: "0.3", files: { "blinker.py": "" }, deps: [["ledd-core", "latest"]], mpy: false });
  links = path.join(work.dir, "links");
  const loner = { name: "loner", version: "1.0", files: { "loner.py": "" }, requires: ["gone-dep"] };
  await writeTree(links, { [sdistFilename(loner)]: await buildSdist(loner) });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

function target(name: string): string {
  return path.join(work.dir, "targets", name);
}

/** Exit `code`, an `error:` and a `hint:`, no stack, and the JSON failure document when `--json` was given. */
function failure(result: RunResult, code: number): { code: string; message: string; hint?: string } {
  assert.equal(result.code, code, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, /^error: /m);
  assert.match(result.stderr, /^hint: /m);
  assert.doesNotMatch(result.stderr, /\n\s+at |This is a bug/);
  return (JSON.parse(result.stdout) as { error: { code: string; message: string; hint?: string } }).error;
}

describe("a missing dependency names the package that required it", () => {
  test("a PyPI-style sdist's requires.txt names a package no index has", async () => {
    const result = await runMpip(["install", "--json", "-p", target("pypi-dep"), "-i", server.url, "weather-app"], { env: ENV });
    const error = failure(result, 1);
    assert.equal(error.code, "not-found");
    assert.match(error.message, /^`weather-app 1\.0` requires `sensor-drivr>=1\.0`, but package `sensor-drivr` was not found in `http:\/\/127\.0\.0\.1:\d+\/pypi`$/);
    assert.doesNotMatch(error.hint ?? "", /spelling/, "not the user's typo");
    assert.match(error.hint ?? "", /^the name comes from that package's metadata, not from you: add the index that has it/);
    assert.match(error.hint ?? "", /--no-deps/);
  });

  test("two packages requiring the same missing name are both named", async () => {
    const result = await runMpip(["install", "--json", "-p", target("two-dep"), "-i", server.url, "weather-app", "clock-app"], { env: ENV });
    const error = failure(result, 1);
    assert.match(error.message, /^`weather-app 1\.0` and `clock-app 2\.1` require `sensor-drivr`, but package `sensor-drivr` was not found/);
    assert.match(error.hint ?? "", /^the name comes from those packages' metadata, not from you/);
  });

  test("a v2 package document's `deps` name a package the index lacks", async () => {
    const result = await runMpip(["install", "--json", "-p", target("mip-dep"), "-i", mip.base, "blinker"], { env: ENV });
    const error = failure(result, 1);
    assert.match(error.message, /^`blinker 0\.3` requires `ledd-core`, but package `ledd-core` was not found in `http:\/\/127\.0\.0\.1:\d+\/mip\/v2`$/);
    assert.doesNotMatch(error.hint ?? "", /spelling/);
  });

  test("a --find-links package's dependency, with no index at all", async () => {
    const result = await runMpip(["install", "--json", "-p", target("links-dep"), "--no-index", "-f", links, "loner"], { env: ENV });
    const error = failure(result, 1);
    assert.match(error.message, /^`loner 1\.0` requires `gone-dep`, but package `gone-dep` was not found in `/);
    // `-i` would be ignored beside --no-index: the way out is a folder, or dropping --no-index.
    assert.match(error.hint ?? "", /add a folder of sdists that has it with `-f DIR`, or drop --no-index so that the indexes are asked/);
    assert.doesNotMatch(error.hint ?? "", /-i URL/);
  });

  test("a package.json's dependency with --no-index and no -f folder: the error says nothing was there to ask", async () => {
    const app = path.join(work.dir, "no-where-app");
    await writeTree(app, { "package.json": JSON.stringify({ version: "1.0", urls: [["app.py", "app.py"]], deps: [["helper", "latest"]] }), "app.py": "" });
    const error = failure(await runMpip(["install", "--json", "-p", target("no-where"), "--no-index", path.join(app, "package.json")], { env: ENV }), 1);
    assert.match(error.message, /but package `helper` was not found in any index or folder: --no-index leaves none and no `-f` folder is given$/);
    assert.doesNotMatch(error.message, /\(no index\)/);
  });

  test("a name the user typed keeps the spelling hint; one from a -r file names the file and line", async () => {
    const typed = failure(await runMpip(["install", "--json", "-p", target("typo"), "-i", server.url, "real-lib", "sensor-drivr"], { env: ENV }), 1);
    assert.match(typed.message, /^package `sensor-drivr` was not found in /);
    assert.match(typed.hint ?? "", /check the spelling/);
    const file = path.join(work.dir, "needs.txt");
    await writeFile(file, "# what the board needs\nreal-lib\n\nsensor-drivr\n");
    const listed = failure(await runMpip(["install", "--json", "-p", target("typo-r"), "-i", server.url, "-r", file], { env: ENV }), 1);
    assert.equal(listed.message.startsWith(`package \`sensor-drivr\` (given in \`${file}\` line 4) was not found in `), true, listed.message);
    assert.match(listed.hint ?? "", /check the spelling/);
  });

  test("a URL line of a -r file that cannot be fetched names the file and line", async () => {
    const file = path.join(work.dir, "urls.txt");
    await writeFile(file, `real-lib\n${server.origin}/files/nowhere/nowhere-1.0.tar.gz\n`);
    const error = failure(await runMpip(["install", "--json", "-p", target("url-r"), "-i", server.url, "-r", file], { env: ENV }), 1);
    assert.equal(error.message.startsWith(`\`${file}\` line 2: `), true, error.message);
    assert.match(error.message, /nowhere-1\.0\.tar\.gz/);
  });
});

describe("a failure to reach what a dependency led to names that dependency", () => {
  test("a DNS failure on the index asked only for a dependency", async () => {
    const result = await runMpip(["install", "--json", "-p", target("dns-index"), "-f", links, "-i", "pypi+http://mpip-no-such-host.invalid/pypi", "loner"], { env: ENV });
    const error = failure(result, 1);
    assert.equal(error.code, "network");
    assert.match(error.message, /^while getting `gone-dep` \(required by `loner 1\.0`\): could not fetch `http:\/\/mpip-no-such-host\.invalid\/pypi\/gone-dep\/json`/);
  });

  test("a DNS failure on a `github:` dependency's host", async () => {
    const app = path.join(work.dir, "field-app");
    await writeTree(app, {
      "package.json": JSON.stringify({ version: "0.5", urls: [["field_app.py", "field_app.py"]], deps: [["github:other/helpers/h.py", "main"]] }),
      "field_app.py": "",
    });
    const result = await runMpip(["install", "--json", "-p", target("dns-github"), "--no-index", path.join(app, "package.json")], { env: { ...ENV, MPIP_GITHUB_URL: "http://mpip-no-such-host.invalid" } });
    const error = failure(result, 1);
    assert.equal(error.code, "network");
    assert.match(error.message, /^while getting `github:other\/helpers\/h\.py@main` \(required by `field-app 0\.5`\): could not fetch `http:\/\/mpip-no-such-host\.invalid\//);
    // No index is involved: the hint speaks of the URL's host, not of an index URL.
    assert.match(error.hint ?? "", /check the host name in the URL and your network connection \(DNS\)/);
    // And the ways to install with no network at all.
    assert.match(error.hint ?? "", /with no network, install what the download cache holds \(--offline\) or from a folder \(`mpip download` makes one; install with `-i DIR`\)/);
    assert.doesNotMatch(error.hint ?? "", /index URL/);
  });

  test("a failure on a package the user named is not given a dependency's words", async () => {
    const result = await runMpip(["install", "--json", "-p", target("dns-root"), "-i", "pypi+http://mpip-no-such-host.invalid/pypi", "real-lib"], { env: ENV });
    const error = failure(result, 1);
    assert.match(error.message, /^could not fetch `http:\/\/mpip-no-such-host\.invalid\/pypi\/real-lib\/json`/);
  });
});

describe("a spec split by the shell", () => {
  const cases: Array<{ args: string[]; piece: string; whole: string }> = [
    { args: ["fmt", ">=1.0"], piece: ">=1.0", whole: "fmt>=1.0" },
    { args: ["fmt", ">=", "1.0"], piece: ">=", whole: "fmt>=1.0" },
    { args: ["fmt", "==2.0.1"], piece: "==2.0.1", whole: "fmt==2.0.1" },
    { args: ["fmt>=1.0,", "<2"], piece: "<2", whole: "fmt>=1.0,<2" },
    { args: ["fmt", "@1.2"], piece: "@1.2", whole: "fmt@1.2" },
    { args: ["real-lib", "fmt", "~=1.4"], piece: "~=1.4", whole: "fmt~=1.4" },
    { args: ["fmt", "[extra]"], piece: "[extra]", whole: "fmt[extra]" },
    { args: ["fmt", "[", "extra", "]"], piece: "[", whole: "fmt[extra]" },
    { args: ["fmt", "==1.0;", 'python_version>"3"'], piece: "==1.0;", whole: 'fmt==1.0;python_version>"3"' },
    { args: ["fmt", "==1.0", ";", 'python_version>"3"'], piece: "==1.0", whole: 'fmt==1.0;python_version>"3"' },
  ];
  for (const { args, piece, whole } of cases) {
    test(`${args.join(" ")}: exit 2, a hint to quote \`${whole}\` whole`, async () => {
      const result = await runMpip(["install", "--json", "-p", target("split"), "-i", server.url, ...args], { env: ENV });
      const error = failure(result, 2);
      assert.equal(error.message, `\`${piece}\` is not a package spec: it is the version or marker part of one, without the package's name`);
      // The command offered back is the one typed, with the spec quoted whole and every other word kept.
      const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      assert.match(error.hint ?? "", new RegExp(`quote the whole spec as one, \`mpip install --json -p ${esc(target("split"))} -i ${esc(server.url)} ${args[0] === "real-lib" ? "real-lib " : ""}'${esc(whole)}'\`$`));
    });
  }

  test("a version on its own after a name, and a piece with no name before it", async () => {
    const version = failure(await runMpip(["install", "--json", "-p", target("split"), "-i", server.url, "fmt", "1.0"], { env: ENV }), 2);
    assert.equal(version.message, "`1.0` looks like a version, not a package name");
    assert.ok((version.hint ?? "").includes(`\`mpip install --json -p ${target("split")} -i ${server.url} 'fmt==1.0'\` (or mip's \`fmt@1.0\`)`), version.hint);
    const alone = failure(await runMpip(["install", "--json", "-p", target("split"), "-i", server.url, ">=1.0"], { env: ENV }), 2);
    assert.ok((alone.hint ?? "").endsWith(`a spec starts with the package's name, all in one argument: \`mpip install --json -p ${target("split")} -i ${server.url} 'NAME>=1.0'\``), alone.hint);
    assert.equal(existsSync(target("split")), false, "nothing created");
  });
});

describe("`fmt>=1.0` typed unquoted, which the shell reads as a redirect to a file named `=1.0`", () => {
  const linux = process.platform === "linux" ? false : "the file stdout goes to is read from /proc/self/fd";
  const shell = (dir: string, line: string) => runCommand("/bin/sh", ["-c", `exec "${process.execPath}" "${BIN}" ${line}`], { cwd: dir, env: ENV });

  test("is a usage error naming the file, with the spec quoted whole in the hint; nothing is installed", { skip: linux }, async () => {
    const { dir, cleanup } = await tempDir("mpip-redirect-");
    try {
      const result = await shell(dir, `install -p image -i ${server.url} real-lib >=1.0`);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^error: the output goes to a file named `=1\.0` \(in `.+`\): the shell took `>=1\.0` for a redirect, so the version part of a spec never reached mpip$/m);
      assert.ok(result.stderr.includes(`\nhint: quote the whole spec as one argument, \`mpip install -p image -i ${server.url} 'real-lib>=1.0'\`, and remove the empty file the shell made\n`), result.stderr);
      assert.equal(existsSync(path.join(dir, "image")), false, "nothing installed");
      // `>=1.0,<2` unquoted: the shell reads `<2` from a file `2`, so one must be there for mpip to start.
      await writeFile(path.join(dir, "2"), "");
      const range = await shell(dir, `install -p image -i ${server.url} real-lib >=1.0,<2`);
      assert.equal(range.code, 2, range.stderr);
      assert.match(range.stderr, /file named `=1\.0,`/);
    } finally {
      await cleanup();
    }
  });

  test("`fmt>1.0` (a file named as a bare version) is said so too, and with several names the hint retypes the command with the spec after the last", { skip: linux }, async () => {
    const { dir, cleanup } = await tempDir("mpip-redirect-");
    try {
      for (const version of ["1.0", "2", "1.0rc1", "v3"]) {
        const result = await shell(dir, `install -p image -i ${server.url} real-lib >${version}`);
        assert.equal(result.code, 2, result.stderr);
        assert.ok(result.stderr.includes(`error: the output goes to a file named \`${version}\``), `${version}: ${result.stderr}`);
        assert.ok(result.stderr.includes(`\nhint: quote the whole spec as one argument, \`mpip install -p image -i ${server.url} 'real-lib>${version}'\`, and remove the empty file the shell made\n`), `${version}: ${result.stderr}`);
        assert.equal(existsSync(path.join(dir, "image")), false, "nothing installed");
      }
      const two = await shell(dir, `install -p image real-lib fmt>=1.0 -i ${server.url}`);
      assert.equal(two.code, 2, two.stderr);
      assert.ok(two.stderr.includes(`\`mpip install -p image real-lib 'fmt>=1.0' -i ${server.url}\` (shown after \`fmt\`, the last name typed: put it after the name it belongs to)`), two.stderr);
      // With no spec typed (only -r), a report sent to a file named like a version is the user's choice.
      await writeFile(path.join(dir, "reqs.txt"), "real-lib\n");
      const report = await shell(dir, `install --json -p image -i ${server.url} -r reqs.txt >1.0`);
      assert.equal(report.code, 0, report.stderr);
      assert.equal((JSON.parse(await readFile(path.join(dir, "1.0"), "utf8")) as { packages: Array<{ name: string }> }).packages[0]?.name, "real-lib");
    } finally {
      await cleanup();
    }
  });

  test("`fmt >= 1.0` with spaces, which leaves a file named `=` and `1.0` as an argument of its own: said so, not taken for `fmt==1.0`", { skip: linux }, async () => {
    const { dir, cleanup } = await tempDir("mpip-redirect-");
    try {
      for (const [line, file] of [["real-lib >= 1.0", "="], ["real-lib >== 2.0", "=="]] as const) {
        const result = await shell(dir, `install -p image -i ${server.url} ${line}`);
        assert.equal(result.code, 2, result.stderr);
        const version = line.split(" ").at(-1)!;
        assert.match(result.stderr, new RegExp(`^error: the output goes to a file named \`${file}\` \\(in \`.+\`\\) and \`${version.replace(".", "\\.")}\` came as a package of its own: the shell took \`>${file}\` for a redirect, splitting the spec$`, "m"), line);
        assert.ok(result.stderr.includes(`\nhint: quote the whole spec as one argument, \`mpip install -p image -i ${server.url} 'real-lib>${file}${version}'\`, and remove the empty file the shell made\n`), `${line}\n${result.stderr}`);
        assert.doesNotMatch(result.stderr, /real-lib==/, line);
        assert.equal(existsSync(path.join(dir, "image")), false, "nothing installed");
      }
    } finally {
      await cleanup();
    }
  });

  test("`fmt >= 1` with a version of one number, or any other spelling, is said so too: the file `=` settles it", { skip: linux }, async () => {
    const { dir, cleanup } = await tempDir("mpip-redirect-");
    try {
      // One number, a `v`, an epoch, a post-release, a pre-release (`1.0rc1` was a second pre-release,
      // taking the same branch as `3rc1` with the same message).
      for (const version of ["1", "v2", "1!2", "2.0.post1", "3rc1"]) {
        const result = await shell(dir, `install -p image -i ${server.url} real-lib >= '${version}'`);
        assert.equal(result.code, 2, result.stderr);
        assert.ok(result.stderr.includes(`and \`${version}\` came as a package of its own: the shell took \`>=\` for a redirect`), `${version}: ${result.stderr}`);
        assert.ok(result.stderr.includes(`\`mpip install -p image -i ${server.url} 'real-lib>=${version}'\``), `${version}: ${result.stderr}`);
        assert.equal(existsSync(path.join(dir, "image")), false, "nothing installed");
      }
    } finally {
      await cleanup();
    }
  });

  test("`fmt 1` without the redirect: `1` may be a project, so it is asked for; when no index has it, the hint says it looks like a version", async () => {
    for (const version of ["1", "v2", "3rc1"]) {
      const image = target(`one-number-${version}`);
      const result = await runMpip(["install", "--json", "-p", image, "-i", server.url, "real-lib", version], { env: ENV });
      const error = failure(result, 1);
      assert.equal(error.code, "not-found");
      assert.match(error.message, new RegExp(`package \`${version}\` was not found`));
      // The command as typed, with the two words made one spec.
      assert.ok(error.hint?.includes(`\`${version}\` looks like a version: to ask for \`real-lib\` at that version, write name and version as one argument: \`mpip install --json -p ${image} -i ${server.url} 'real-lib==${version.replace(/^v/, "")}'\``), error.hint);
    }
    // A project whose name is one number is installed when an index has it.
    await server.addSdist({ name: "7", version: "1.0", files: { "seven.py": "" } });
    const seven = await runMpip(["install", "-p", target("seven"), "-i", server.url, "real-lib", "7"], { env: ENV });
    assert.equal(seven.code, 0, seven.stderr);
    assert.match(seven.stderr, /\+ 7==1\.0/);
  });

  test("a report redirected to a file of any other name installs as usual", { skip: linux }, async () => {
    const { dir, cleanup } = await tempDir("mpip-redirect-");
    try {
      const result = await shell(dir, `install --json -p image -i ${server.url} real-lib >report.json`);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(await readFile(path.join(dir, "report.json"), "utf8")) as { ok: boolean }).ok, true);
    } finally {
      await cleanup();
    }
  });
});

describe("a URL where a local path is taken", () => {
  const cases: Array<{ args: string[]; given: string; kind: string; hint: RegExp }> = [
    { args: ["install", "-p", "IMAGE", "-f", "http://host.example/sdists/", "fmt"], given: "given with --find-links", kind: "folder", hint: /-i URL/ },
    { args: ["install", "-p", "IMAGE", "-f", "https://host.example/sdists/", "--no-index", "fmt"], given: "given with --find-links", kind: "folder", hint: /--extra-index-url URL/ },
    { args: ["install", "-p", "IMAGE", "-r", "https://host.example/requirements.txt"], given: "given with --requirement", kind: "file", hint: /download the file first/ },
    { args: ["install", "-p", "http://board.local/lib", "fmt"], given: "given with --target", kind: "folder", hint: /mount it/ },
    { args: ["install", "-p", "IMAGE", "--cert", "https://host.example/ca.pem", "fmt"], given: "given with --cert", kind: "file", hint: /PEM bundle/ },
    { args: ["check", "https://host.example/fmt-1.0.tar.gz"], given: "given to check", kind: "file", hint: /download it first/ },
    { args: ["repack", "http://host.example/fmt-1.0.tar.gz"], given: "given to repack", kind: "file", hint: /download it first/ },
    { args: ["install", "-p", "IMAGE", "-f", "file:///srv/sdists", "fmt"], given: "given with --find-links", kind: "folder", hint: /give the path itself: `\/srv\/sdists`/ },
  ];
  for (const { args, given, kind, hint } of cases) {
    test(`${args.join(" ")}: says the option takes a ${kind}, exit 2`, async () => {
      const { dir, cleanup } = await tempDir("mpip-url-path-");
      try {
        const line = args.map((arg) => (arg === "IMAGE" ? path.join(dir, "image") : arg));
        const result = await runMpip([...line, "--json"], { cwd: dir, env: ENV });
        const error = failure(result, 2);
        assert.match(error.message, new RegExp(`\\(${given}\\) is a URL, but this takes a ${kind} on this machine$`));
        assert.match(error.hint ?? "", hint);
        assert.deepEqual(await readdir(dir), [], "nothing created (no `http:` folder)");
      } finally {
        await cleanup();
      }
    });
  }
});

describe("a file where a folder is taken", () => {
  test("-f given an sdist says it is a file, and how to install that one sdist; exit 2", async () => {
    const sdist = path.join(links, "loner-1.0.tar.gz");
    const error = failure(await runMpip(["install", "--json", "-p", target("file-for-folder"), "--no-index", "-f", sdist, "loner"], { env: ENV }), 2);
    assert.equal(error.message, `\`${sdist}\` (given with --find-links) is a file, where a folder is needed`);
    assert.equal(error.hint, "name the folder that holds it; one sdist is installed by giving its path as a spec");
    assert.equal(existsSync(target("file-for-folder")), false);
  });
});

describe("options that contradict each other are usage errors, before any work", () => {
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ["--mpy", "5", "--compile"], message: /^--compile and --mpy 5 contradict each other: mpy-cross \(WebAssembly, MicroPython 1\.19\) emits mpy 6, but the target is mpy 5/ },
    { args: ["--target-version", "1.18", "--compile"], message: /^--compile and --target-version 1\.18 contradict each other/ },
    { args: ["-q", "-v"], message: /^give -q \(--quiet\) or -v \(--verbose\), not both$/ },
  ];
  for (const { args, message } of cases) {
    test(`${args.join(" ")}: exit 2, nothing created`, async () => {
      const { dir, cleanup } = await tempDir("mpip-clash-");
      try {
        const result = await runMpip(["install", "--json", "-p", path.join(dir, "image"), "-f", links, ...args, "loner"], { cwd: dir, env: ENV });
        const error = failure(result, 2);
        assert.equal(error.code, "usage");
        assert.match(error.message, message);
        assert.deepEqual(await readdir(dir), []);
      } finally {
        await cleanup();
      }
    });
  }

  test("--mpy 5 --compile with a native mpy-cross is no clash: only the built-in one emits mpy 6", async () => {
    const result = await runMpip(["install", "--json", "-p", target("native"), "--no-index", "-f", links, "--mpy", "5", "--compile", "--mpy-cross", path.join(work.dir, "no-such-mpy-cross"), "loner"], { env: ENV });
    const error = failure(result, 2);
    assert.match(error.message, /no-such-mpy-cross.*given with --mpy-cross/);
  });
});
