// Which gzip implementation mpip uses for the 4 KiB-window layer: node:zlib against pako, measured in
// the same run on the same data, and checked to behave the same (identical output both ways).
//
//   node --import tsx bench/inflate.ts

import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import * as pako from "pako";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function corpus(limit: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (size >= limit) return;
      const file = path.join(dir, name);
      const stat = statSync(file);
      if (stat.isDirectory()) walk(file);
      else if (/\.(js|ts|py)$/.test(name)) {
        const data = readFileSync(file);
        parts.push(data);
        size += data.length;
      }
    }
  };
  walk(path.join(root, "node_modules", "typescript", "lib"));
  return Buffer.concat(parts).subarray(0, limit);
}

function rate(bytes: number, run: () => void): number {
  run();
  let iterations = 0;
  const started = performance.now();
  while (performance.now() - started < 1500) {
    run();
    iterations++;
  }
  return (bytes * iterations) / ((performance.now() - started) / 1000) / 1e6;
}

const data = corpus(8 * 1024 * 1024);
const options = { level: 9, windowBits: 12, memLevel: 8 } as const;
const viaZlib = zlib.gzipSync(data, options);
const viaPako = Buffer.from(pako.gzip(data, options));

// Behaves the same: each inflates the other's output to the original, at windowBits 12.
const same =
  zlib.gunzipSync(viaPako, { windowBits: 12 }).equals(data) &&
  Buffer.from(pako.inflate(viaZlib, { windowBits: 16 + 12 })).equals(data) &&
  viaZlib.subarray(10).equals(viaPako.subarray(10));

const inflateZlib = rate(data.length, () => zlib.gunzipSync(viaZlib, { windowBits: 12 }));
const inflatePako = rate(data.length, () => pako.inflate(viaZlib, { windowBits: 16 + 12 }));
const deflateZlib = rate(data.length, () => zlib.gzipSync(data, options));
const deflatePako = rate(data.length, () => pako.gzip(data, options));

console.log(`gzip at a 4 KiB window (wbits 12), ${(data.length / 1e6).toFixed(1)} MB of source text`);
console.log(`  same deflate stream from both, each inflates the other's: ${same ? "yes" : "NO"}`);
console.log(`  inflate: node:zlib ${inflateZlib.toFixed(0)} MB/s, pako ${inflatePako.toFixed(0)} MB/s, node:zlib ${(inflateZlib / inflatePako).toFixed(2)}x faster`);
console.log(`  deflate: node:zlib ${deflateZlib.toFixed(1)} MB/s, pako ${deflatePako.toFixed(1)} MB/s, node:zlib ${(deflateZlib / deflatePako).toFixed(2)}x faster`);
