// The last step of `npm run build`: runs the built CLI so that the V8 code caches beside the bundles
// (src/code-cache.ts) are there from the first run:
// - the full one of the whole CLI (dist/mpip.cjs.<tag>.v8-cache), made by one process that runs the
//   paths most runs take, one after another (scripts/warm-runs.cjs): an install with dependencies from a
//   micropython-lib v2 index and a PyPI JSON index (mpip's two default kinds), `mpip lock`, an install
//   from that lock with a warm download cache (a locked install that bin/mpip.js does not tell apart, as
//   one MPIP_LOCK asks for, reads this cache), and an install of an sdist by its URL. V8 keeps a cache it
//   takes for good, and one made by a single command holds only that command's functions: every other
//   command then compiles its own at every run (a locked install from an install's cache compiled 408 of
//   the bundle's functions at every run, ~15 ms);
// - the locked runs' full one (dist/mpip.cjs.<tag>.locked.v8-cache), made by an install from that lock
//   with a warm download cache;
// - its partial one (dist/mpip.cjs.<tag>.partial.v8-cache), which the runs that do little read (`list`,
//   a usage error), made by `mpip list`;
// - the help bundle's (dist/mpip-help.cjs.<tag>.partial.v8-cache), made by `mpip --help`.
// The packages are the fixtures (PyPI's JSON API and the files) and two made here (the v2 index), served
// on 127.0.0.1; the images, the lock and the download cache are made in a temporary folder removed
// afterwards. A failure here is a warning, not a failed build: without the warm-up, the first run of each
// kind makes its cache.
//
// The npm package does not carry the cache (V8 takes a cache only from its own version and flags): there,
// the first run makes it.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The fixtures by file name (NAME-VERSION.tar.gz), and a PyPI JSON document per project listing its files.
const files = new Map(readdirSync(path.join(root, "fixtures")).filter((name) => name.endsWith(".tar.gz")).map((name) => [name, readFileSync(path.join(root, "fixtures", name))]));
// A micropython-lib v2 index (the first of mpip's default indexes) with two packages of one module each,
// the first requiring the second: `package/py/NAME/latest.json`, and each file by its short hash.
const v2Files = new Map();
const v2Documents = new Map();
for (const [name, dep] of [["mpip-warm-v2", "mpip-warm-v2-dep"], ["mpip-warm-v2-dep", undefined]]) {
  const source = Buffer.from(`# ${name}\n__version__ = "1.0"\n`);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 8);
  v2Files.set(`/v2/file/${hash.slice(0, 2)}/${hash}`, source);
  v2Documents.set(`/v2/package/py/${name}/latest.json`, JSON.stringify({ v: 1, hashes: [[`${name.replaceAll("-", "_")}.py`, hash]], ...(dep === undefined ? {} : { deps: [[dep, "latest"]] }), version: "1.0" }));
}
const server = createServer((request, response) => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const file = /^\/files\/([^/]+)$/.exec(request.url ?? "")?.[1];
  const project = /^\/pypi\/([^/]+)\/json$/.exec(request.url ?? "")?.[1];
  if (file !== undefined && files.has(file)) return response.end(files.get(file));
  if (v2Files.has(request.url)) return response.end(v2Files.get(request.url));
  if (v2Documents.has(request.url)) return response.end(v2Documents.get(request.url));
  const releases = {};
  for (const [name, data] of files) {
    const [, own, version] = /^(.+)-([^-]+)\.tar\.gz$/.exec(name) ?? [];
    if (own !== project) continue;
    releases[version] = [{ filename: name, url: `${base}/files/${name}`, packagetype: "sdist", digests: { sha256: createHash("sha256").update(data).digest("hex") } }];
  }
  if (Object.keys(releases).length === 0) return response.writeHead(404).end();
  response.setHeader("content-type", "application/json");
  response.end(JSON.stringify({ info: { name: project }, releases }));
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const scratch = mkdtempSync(path.join(os.tmpdir(), "mpip-warm-"));
try {
  const base = `http://127.0.0.1:${server.address().port}`;
  const env = { ...process.env, MPIP_CACHE_DIR: path.join(scratch, "cache"), NO_COLOR: "1" };
  const lockFile = path.join(scratch, "pylock.toml");
  const working = [
    // As by default: the v2 index first, which has the one package, then PyPI's JSON API for the other.
    ["install", "-q", "-i", `${base}/v2`, "-i", `${base}/pypi`, "-p", path.join(scratch, "image"), "mpip-warm-v2", "mpip-demo-app"],
    ["lock", "-q", "-i", `${base}/pypi`, "-o", lockFile, "mpip-demo-app"],
    ["install", "-q", "--lock", lockFile, "-p", path.join(scratch, "locked-full")],
    ["install", "-q", "--no-deps", "-p", path.join(scratch, "direct"), `${base}/files/mpip-demo-fmt-1.0.tar.gz`],
  ];
  const locked = [["install", "-q", "--lock", lockFile, "-p", path.join(scratch, "locked-own")]];
  const runs = [
    { command: [path.join(root, "scripts", "warm-runs.cjs"), "full", JSON.stringify(working)], what: "the installs and the lock", first: "install" },
    { command: [path.join(root, "scripts", "warm-runs.cjs"), "locked", JSON.stringify(locked)], what: "the locked install", first: "locked install" },
    { command: [path.join(root, "bin", "mpip.js"), "list", "-p", path.join(scratch, "image")], what: "`mpip list`", first: "`mpip list` or usage error" },
    { command: [path.join(root, "bin", "mpip.js"), "--help"], what: "`mpip --help`", first: "run for help" },
  ];
  for (const { command, what, first } of runs) {
    const { code, stderr } = await new Promise((resolve) => {
      const child = spawn(process.execPath, command, { env, stdio: ["ignore", "ignore", "pipe"] });
      let text = "";
      child.stderr.on("data", (chunk) => (text += chunk));
      child.on("close", (exitCode) => resolve({ code: exitCode, stderr: text }));
    });
    if (code !== 0) process.stderr.write(`warning: a code cache was not warmed (${what} exited with ${code}): the first ${first} will make it\n${stderr}`);
  }
} finally {
  server.close();
  rmSync(scratch, { recursive: true, force: true });
}
