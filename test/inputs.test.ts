// Untrusted text where it once reached a library call that throws, through the built CLI: versions of 22
// or more digits compared with `<` or `>` (in a requires.txt or PKG-INFO, in an index's releases, in a
// --find-links file name, in a marker) made the PEP 440 library throw, malformed URLs (`http://[`,
// `https://`, a port above 65535) made `new URL` throw, a lone surrogate in a document made
// encodeURIComponent throw, and a long marker overflowed the stack: each was "This is a bug". Each must
// now end in an error that names the input and where it came from, or in an install that leaves the
// version out. A malformed redirect or proxy variable gave an error that named neither; now it does.

import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listFiles, runMpip, tempDir, type RunResult } from "./helpers/cli.js";
import { startIndexServer, type IndexServer } from "./helpers/index-server.js";
import { serveMipIndex, type MipIndex } from "./helpers/mip-index.js";
import { buildSdist } from "./helpers/sdist.js";
import { serveSimple } from "./helpers/simple-index.js";

/** 23 digits: past 10^21, where the PEP 440 library's numbers print as `1e+22` and `<`/`>` threw. */
const HUGE = "10000000000000000000000";
/** 17 digits: past 2^53, where numbers silently lost precision. */
const ABOVE_SAFE = "90071992547409931";

let server: IndexServer;
let mip: MipIndex;
let simpleUrl: string;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;

before(async () => {
  server = await startIndexServer();
  mip = serveMipIndex(server);
  simpleUrl = serveSimple(server);
  work = await tempDir("mpip-inputs-");
  await server.addSdist({ name: "lib", version: "1.0", files: { "lib.py": "LIB = 1\n" } });
  for (const version of ["1.0", HUGE]) await server.addSdist({ name: "big", version, files: { "big.py": `V = "${version}"\n` } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const target = () => path.join(work.dir, `target-${++counter}`);

/** Exit 1 (or 2, for what was typed: see usageRefused) with an `error:` line holding every fragment, and no sign of a crash. */
function assertRefused(result: RunResult, ...fragments: string[]): void {
  refusedWith(1, result, fragments);
}

/** A malformed spec on the command line or in a -r file is bad usage: exit 2 (README, "Exit codes"). */
function usageRefused(result: RunResult, ...fragments: string[]): void {
  refusedWith(2, result, fragments);
}

function refusedWith(code: number, result: RunResult, fragments: string[]): void {
  assert.equal(result.code, code, result.stderr);
  assert.match(result.stderr, /^(warning: .*\n)*error: /);
  assert.doesNotMatch(result.stderr, /This is a bug|unexpected failure|\n\s+at .*:\d+:\d+/);
  for (const fragment of fragments) assert.ok(result.stderr.includes(fragment), `${JSON.stringify(fragment)} not in:\n${result.stderr}`);
}

describe("versions of 22 or more digits compared with < or >", () => {
  const lines = [`lib<${HUGE}`, `lib>${HUGE}`, `lib>=1,<1.${HUGE}`, `lib>0.${ABOVE_SAFE}`, `lib; python_version < "${HUGE}"`, `lib; python_version > "3.${HUGE}"`];

  test("in a requires.txt: refused, naming the package, the line and the number", async () => {
    for (const [index, line] of lines.entries()) {
      const name = `req-app-${index}`;
      await server.addSdist({ name, version: "1.0", requires: ["lib", line], files: { [`req_app_${index}.py`]: "" } });
      const number = line.includes(HUGE) ? HUGE : ABOVE_SAFE;
      const result = await runMpip(["install", "-i", server.url, "-p", target(), name]);
      assertRefused(result, `\`${name} 1.0\``, "requires.txt line 2", number, "larger than 9007199254740991");
    }
  });

  test("in Requires-Dist of a PKG-INFO: refused the same way", async () => {
    for (const [index, line] of lines.entries()) {
      const name = `dist-app-${index}`;
      await server.addSdist({ name, version: "1.0", requiresDist: [line], files: { [`dist_app_${index}.py`]: "" } });
      const result = await runMpip(["install", "-i", server.url, "-p", target(), name]);
      assertRefused(result, `\`${name} 1.0\``, "PKG-INFO line", line.includes(HUGE) ? HUGE : ABOVE_SAFE);
    }
  });

  test("in an index's releases (PyPI JSON, simple, v2): the version is left out, and named when nothing else matches", async () => {
    await mip.publish({ name: "big", version: "1.0", files: { "big.py": "V = 1\n" }, mpy: false });
    const index = mip.index();
    index.packages[0]!.versions.py = ["1.0", HUGE, `2.${ABOVE_SAFE}`];
    mip.setRaw("index.json", index);
    for (const indexUrl of [server.url, `simple+${simpleUrl}`, `mip+${mip.base}`]) {
      const into = target();
      const installed = await runMpip(["install", "--no-record", "-i", indexUrl, "-p", into, "big<2", "big>0.5"]);
      assert.equal(installed.code, 0, `${indexUrl}: ${installed.stderr}`);
      assert.match(installed.stderr, /\+ big==1\.0 /);
      assert.deepEqual(await listFiles(into), ["big.py"]);
      const refused = await runMpip(["install", "-i", indexUrl, "-p", target(), "big>1"]);
      assertRefused(refused, "no version of `big` matches `big>1`", `left out: \`${HUGE}\` is larger than 9007199254740991`);
    }
  });

  test("in --find-links file names: the version is left out, and named when nothing else matches", async () => {
    const links = path.join(work.dir, "links");
    await mkdir(links, { recursive: true });
    for (const version of ["1.0", HUGE, `1.0.post${HUGE}`]) {
      await writeFile(path.join(links, `fl-big-${version}.tar.gz`), await buildSdist({ name: "fl-big", version, files: { "fl_big.py": "" } }));
    }
    const installed = await runMpip(["install", "--no-index", "-f", links, "-p", target(), "fl-big<2", "fl-big>0.1"]);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stderr, /\+ fl-big==1\.0 /);
    const refused = await runMpip(["install", "--no-index", "-f", links, "-p", target(), `fl-big>1`]);
    assertRefused(refused, "no version of `fl-big` matches `fl-big>1`", `\`${HUGE}\` is larger than 9007199254740991`, `\`1.0.post${HUGE}\` holds the number ${HUGE}`);
  });

  test("in a spec: refused before anything is fetched, naming the number", async () => {
    for (const spec of [`big<${HUGE}`, `big>${HUGE}`, `big~=1.${HUGE}`, `big==${HUGE}.*`, `big!=${ABOVE_SAFE}`]) {
      const result = await runMpip(["install", "-i", server.url, "-p", target(), spec]);
      usageRefused(result, "invalid requirement", spec.includes(HUGE) ? HUGE : ABOVE_SAFE, "larger than 9007199254740991");
    }
    assert.ok(!server.requests.some((request) => request.includes(HUGE) && request.includes("/json")), "nothing was fetched for them");
  });
});

describe("malformed URLs", () => {
  const urls = ["http://[", "https://", "http://host:70000/x.tar.gz", "https://[::1/mod.py", "http://999.999.999.999.999/x.py"];

  test("as a spec: refused, naming the URL", async () => {
    for (const url of urls) {
      for (const spec of [url, `foo @ ${url}`]) {
        const result = await runMpip(["install", "-i", server.url, "-p", target(), spec]);
        usageRefused(result, `\`${url}\` is not a valid URL`);
      }
    }
  });

  test("in a -r file: refused, naming the file, the line and the URL", async () => {
    for (const [index, url] of urls.entries()) {
      const file = path.join(work.dir, `reqs-${index}.txt`);
      await writeFile(file, `# a comment\nlib\n${url}\n`);
      const result = await runMpip(["install", "-i", server.url, "-p", target(), "-r", file]);
      usageRefused(result, `\`${file}\` line 3: \`${url}\` is not a valid URL`);
    }
  });

  test("as a redirect's Location: refused, naming it", async () => {
    server.routes.unshift({ name: "bad-redirect", pattern: /^\/pypi\/redirected\/json$/, handle: () => ({ status: 302, headers: { Location: "http://[oops" } }) });
    const result = await runMpip(["install", "--retries", "0", "-i", server.url, "-p", target(), "redirected"]);
    assertRefused(result, "redirects to `http://[oops`, which is not a valid URL");
  });

  test("as a proxy variable: refused, naming the variable and hiding its login", async () => {
    for (const [variable, value, shown] of [["HTTP_PROXY", "http://[", "http://["], ["https_proxy", "proxy.example:3128", "proxy.example:3128"], ["HTTP_PROXY", "http://user:p%zz@127.0.0.1:9", "http://***@127.0.0.1:9/"]] as const) {
      const env: NodeJS.ProcessEnv = { HTTP_PROXY: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined, [variable]: value };
      const result = await runMpip(["install", "--retries", "0", "-i", server.url.replace("http:", variable.toLowerCase() === "https_proxy" ? "https:" : "http:"), "-p", target(), "lib"], { env });
      assert.equal(result.code, 2, result.stderr);
      assert.ok(result.stderr.includes(`the environment variable \`${variable}\` is \`${shown}\``), result.stderr);
      assert.doesNotMatch(result.stderr, /This is a bug|p%zz/);
    }
  });
});

describe("document text that once crashed mpip", () => {
  test("a lone surrogate in a package document's dependency is bad metadata naming the field", async () => {
    // A small self-hosted v2 index without index.json: documents only.
    const loose = serveMipIndex(server, { prefix: "/loose/v2" });
    loose.removeIndex();
    const base = `${loose.base}/package/py`;
    for (const [index, dep] of [["github:org\ud800/repo", ""], ["lib", "\ud800"], ["lib", "1.0\udc00"]].entries()) {
      const name = `surrogate-${index}`;
      loose.setRaw(`package/py/${name}/latest.json`, { v: 1, hashes: [], urls: [], deps: [dep], version: "1.0" });
      const result = await runMpip(["install", "--retries", "0", "-i", `mip+${loose.base}`, "-p", target(), name]);
      assertRefused(result, `${base}/${name}/`, "deps[0]");
    }
  });

  test("a requirement line too long, or a marker nested too deep, is refused naming the line", async () => {
    // 30000 `and`s: evaluating the marker once overflowed the stack; the others gave odd or slow answers.
    const terms = Array.from({ length: 30_000 }, () => 'os_name == "x"').join(" and ");
    for (const [index, line] of [`lib; ${terms}`, `lib; ${"(".repeat(3000)}os_name == "x"${")".repeat(3000)}`, `lib>=1${",>=1".repeat(5000)}`].entries()) {
      const name = `long-app-${index}`;
      await server.addSdist({ name, version: "1.0", requires: [line], files: { [`long_app_${index}.py`]: "" } });
      const result = await runMpip(["install", "-i", server.url, "-p", target(), name]);
      assertRefused(result, `\`${name} 1.0\``, "requires.txt line 1", index === 1 ? "nest more than 32 deep" : "characters long");
    }
  });
});
