// Throughput of scanGzip on realistic input (node_modules JavaScript, gzipped as upip archives are),
// next to zlib's own inflate (gunzipSync, which also writes the bytes) as a yardstick; then the same for
// small archives in a process just started, as an install meets them. Nothing is asserted.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { scanGzip } from "../src/archive/gzip-scan.js";

const TARGET = 16 * 1024 * 1024; // bytes of source text, about 4 MB once compressed

function collectJs(dir: string, parts: Buffer[], total = { size: 0 }): number {
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (total.size >= TARGET) break;
    const path = join(dir, ent.name);
    if (ent.isDirectory()) collectJs(path, parts, total);
    else if (ent.isFile() && /\.(c|m)?js$/.test(ent.name)) {
      const buf = readFileSync(path);
      parts.push(buf);
      total.size += buf.length;
    }
  }
  return total.size;
}

function bestMBps(label: string, bytes: number, run: () => void): number {
  run(); // warm up the JIT
  let best = Infinity;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  const mbps = bytes / 1e6 / (best / 1000);
  const ms = best.toFixed(1).padStart(7);
  console.log(`${label.padEnd(28)} ${ms} ms  ${mbps.toFixed(0).padStart(5)} MB/s of compressed input`);
  return mbps;
}

const parts: Buffer[] = [];
const size = collectJs(join(import.meta.dirname, "..", "node_modules"), parts);
const raw = Buffer.concat(parts, size);
// windowBits 12 is what upip archives use; a 32 KiB archive fails zlib at 12 bits, so it gets 15 there.
for (const windowBits of [12, 15]) {
  const gz = gzipSync(raw, { level: 9, windowBits, memLevel: 8 });
  const scan = scanGzip(gz);
  if (scan.uncompressedSize !== raw.length) throw new Error("scanGzip got the size wrong");
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  console.log(`\narchive made at windowBits ${windowBits}: ${mb(raw.length)} MB -> ${mb(gz.length)} MB`);
  const ours = bestMBps("scanGzip", gz.length, () => scanGzip(gz));
  const theirs = bestMBps(`zlib.gunzipSync windowBits ${windowBits}`, gz.length, () => gunzipSync(gz, { windowBits }));
  console.log(`ratio scanGzip / zlib: ${(ours / theirs).toFixed(2)}`);
}

// The figure an install pays: a few dozen small archives, each scanned once in a process that has just
// started, where V8 has not optimised the scanner and most of it runs in the interpreter (table building
// counts for more than decoding there). Each sample is a fresh process scanning 21 package-sized
// archives (a module of a few KiB in a tar, gzipped at windowBits 12), then inflating the same ones with
// zlib as the yardstick; the medians of 15 processes.
const small = Array.from({ length: 21 }, (_, i) => {
  const body = `# pkg${i}\n` + Array.from({ length: 80 }, (_, f) => `def f${f}(x):\n    return x * ${f} + ${i}\n`).join("");
  return gzipSync(tarOf(`pkg${i}-1.0/pkg${i}.py`, Buffer.from(body)), { level: 9, windowBits: 12 });
});
const probe = `
const { scanGzip } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, "..", "dist", "archive", "gzip-scan.js")).href)});
const { gunzipSync } = await import("node:zlib");
const archives = JSON.parse(process.argv[1]).map((b) => Buffer.from(b, "base64"));
let t = performance.now();
for (const gz of archives) scanGzip(gz);
const scan = performance.now() - t;
t = performance.now();
for (const gz of archives) gunzipSync(gz, { windowBits: 12 });
console.log(JSON.stringify({ scan, zlib: performance.now() - t }));`;
const samples = Array.from({ length: 15 }, () => {
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", probe, JSON.stringify(small.map((b) => b.toString("base64")))], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`the cold scan probe failed (is dist/ built? npm run build): ${run.stderr}`);
  return JSON.parse(run.stdout) as { scan: number; zlib: number };
});
const middle = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1]!;
const coldScan = middle(samples.map((s) => s.scan));
const coldZlib = middle(samples.map((s) => s.zlib));
console.log(`\n21 package-sized archives (${small.reduce((n, b) => n + b.length, 0)} bytes), each once, in a process just started (median of 15 processes):`);
console.log(`scanGzip ${coldScan.toFixed(2).padStart(6)} ms, zlib.gunzipSync ${coldZlib.toFixed(2).padStart(6)} ms; ratio scanGzip / zlib: ${(coldScan / coldZlib).toFixed(2)}`);

/** A ustar archive of one regular file, padded as tar pads (to 10240 bytes). */
function tarOf(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, "utf8");
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\0" + "00", 257, "latin1");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(body);
  const used = 512 + body.length;
  return Buffer.concat([header, body, Buffer.alloc(Math.ceil((used + 1024) / 10240) * 10240 - used)]);
}
