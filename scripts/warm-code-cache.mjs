// The last step of `npm run build`: runs the built CLI once, so that the V8 code cache beside the bundle
// (dist/mpip.cjs.<tag>.v8-cache, src/code-cache.ts) is made by an install over HTTP, the path most runs take,
// rather than by whatever runs first after the build (a `--help` makes a cache that leaves an install to
// compile most of its code itself). The install is of a fixture sdist from a server on 127.0.0.1, into
// and with a cache folder that are removed afterwards. A failure here is a warning, not a failed build:
// without the warm-up, the first run makes the cache.
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
  const args = [path.join(root, "bin", "mpip.js"), "install", "-q", "--no-deps", "-p", path.join(scratch, "image"), url];
  const env = { ...process.env, MPIP_CACHE_DIR: path.join(scratch, "cache"), NO_COLOR: "1" };
  const { code, stderr } = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let text = "";
    child.stderr.on("data", (chunk) => (text += chunk));
    child.on("close", (exitCode) => resolve({ code: exitCode, stderr: text }));
  });
  if (code !== 0) process.stderr.write(`warning: the code cache was not warmed (the install exited with ${code}): the first run of mpip will make it\n${stderr}`);
} finally {
  server.close();
  rmSync(scratch, { recursive: true, force: true });
}
