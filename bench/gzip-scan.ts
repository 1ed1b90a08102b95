// Throughput of scanGzip on realistic input (node_modules JavaScript, gzipped as upip archives are),
// next to zlib's own inflate (gunzipSync, which also writes the bytes) as a yardstick. Nothing is asserted.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
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
