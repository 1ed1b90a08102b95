// `npm test`'s first step: the build (`npm run build`) and the type-check of everything (`npm run typecheck`)
// side by side, since neither reads what the other writes (the type-check emits nothing and reads no dist/).
// Each is a single-threaded tsc for most of its time: one after the other, they kept one core of two idle
// for about half a minute before the first test could start. Each one's output is printed whole when it
// ends (the build's first), so the two never interleave; the exit code is the first non-zero of the two.
import { spawn } from "node:child_process";

/** Runs `npm run <script>` with its output held back; resolves with the exit code and the output. */
function run(script) {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", script], { stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
    const output = [];
    child.stdout.on("data", (chunk) => output.push({ to: process.stdout, chunk }));
    child.stderr.on("data", (chunk) => output.push({ to: process.stderr, chunk }));
    child.on("error", (error) => resolve({ code: 1, output: [{ to: process.stderr, chunk: `error: cannot run \`npm run ${script}\`: ${error.message}\n` }] }));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), output }));
  });
}

const results = await Promise.all([run("build"), run("typecheck")]);
for (const { output } of results) for (const { to, chunk } of output) to.write(chunk);
process.exitCode = results.find(({ code }) => code !== 0)?.code ?? 0;
