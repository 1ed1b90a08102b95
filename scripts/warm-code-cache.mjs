// The last step of `npm run build`: runs the built CLI three times, so that the V8 code caches beside the
// bundles (src/code-cache.ts) are there from the first run: the full one of the whole CLI
// (dist/mpip.cjs.<tag>.v8-cache) made by an install over HTTP, the path most runs take; its partial one
// (dist/mpip.cjs.<tag>.partial.v8-cache), which the runs that do little read (`list`, a usage error), made
// by `mpip list`; and the help bundle's (dist/mpip-help.cjs.<tag>.partial.v8-cache), made by `mpip --help`. The install is of a fixture sdist from a
// server on 127.0.0.1, into and with a cache folder that are removed afterwards. A failure here is a
// warning, not a failed build: without the warm-up, the first run of each kind makes its cache.
//
// The npm package does not carry the cache (V8 takes a cache only from its own version and flags): there,
// the first run makes it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixture = "mpip-demo-fmt-1.0.tar.gz";
const archive = readFileSync(path.join(root, "fixtures", fixture));
const server = createServer((request, response) => {
  if (request.url === `/${fixture}`) response.end(archive);
  else response.writeHead(404).end();
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const scratch = mkdtempSync(path.join(os.tmpdir(), "mpip-warm-"));
try {
  const url = `http://127.0.0.1:${server.address().port}/${fixture}`;
  const env = { ...process.env, MPIP_CACHE_DIR: path.join(scratch, "cache"), NO_COLOR: "1" };
  const runs = [
    { args: ["install", "-q", "--no-deps", "-p", path.join(scratch, "image"), url], what: "the install", first: "install" },
    { args: ["list", "-p", path.join(scratch, "image")], what: "`mpip list`", first: "`mpip list` or usage error" },
    { args: ["--help"], what: "`mpip --help`", first: "run for help" },
  ];
  for (const { args, what, first } of runs) {
    const { code, stderr } = await new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(root, "bin", "mpip.js"), ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
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
