// The output boundary cannot be bypassed by accident: outside the Reporter (src/log.ts), the only writes to
// stdout and stderr in mpip's sources are JSON documents (which escape their values), R.py from bin2res
// (Python's repr has escaped it), freeze's requirement lines and manifest's manifest.py (both checked or escaped), commander's help (mpip's own text), and the fixed message of a signal that
// stops mpip while it starts (src/signals.ts). A new message written straight
// to a stream, or a console.log, fails here and belongs in a Reporter call instead.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { ROOT } from "../helpers/cli.js";

const ALLOWED = [
  /process\.stdout\.write\(`\$\{(jsonReport|jsonFailure|jsonDocument|checkJson)\(/,
  /process\.stdout\.write\(await bin2res\(/,
  // `mpip freeze`'s requirements file (each line checked to be one plain line, record/read.ts) and `mpip
  // manifest`'s manifest.py (names as Python string literals, comments with controls escaped).
  /process\.stdout\.write\(lines\.map\(\(line\) => `\$\{line\}\\n`\)\.join\(""\)\);$/,
  /if \(flags\.output === undefined\) process\.stdout\.write\(text\);$/,
  /process\.stderr\.write\(program\.helpInformation\(\)\)/,
  // A signal while mpip starts, before the Reporter's modules are loaded: fixed text naming the signal.
  /process\.stdout\.write\(`\$\{JSON\.stringify\(\{ ok: false, error: \{ code: "interrupted", message \} \}, null, 2\)\}\\n`\)/,
  /process\.stderr\.write\(`error: \$\{message\}\\n`\);$/,
];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return Promise.resolve(entry.name.endsWith(".ts") ? [full] : []);
  }));
  return nested.flat();
}

test("every write to stdout or stderr outside the Reporter is a JSON document, R.py or commander's help", async () => {
  const offences: string[] = [];
  let writes = 0;
  for (const file of await sources(path.join(ROOT, "src"))) {
    if (path.relative(ROOT, file) === path.join("src", "log.ts")) continue;
    const lines = (await readFile(file, "utf8")).split("\n");
    lines.forEach((line, index) => {
      if (!/process\.(stdout|stderr)\.write|console\.(log|error|warn|info|debug)/.test(line)) return;
      writes++;
      if (!ALLOWED.some((pattern) => pattern.test(line))) offences.push(`${path.relative(ROOT, file)}:${index + 1}: ${line.trim()}`);
    });
  }
  assert.ok(writes > 0, "the scan found the known writes");
  assert.deepEqual(offences, []);
});
