// Sdists as modern tools make them, for repack tests: pax format (Python's tarfile default), a 32 KiB
// window, a top-level PKG-INFO with Requires-Dist, extra files; with or without setuptools' egg-info.

import { buildSdistTar, gzipReproducible, type ExtraEntry, type SdistSpec, type TarFormat } from "../helpers/sdist.js";

const BLOCK = 512;

/** Removes members whose name matches (with any pax/GNU records before them) from an uncompressed tar. */
export function dropMembers(tar: Buffer, drop: (name: string) => boolean): Buffer {
  const kept: Buffer[] = [];
  let pending: Buffer[] = [];
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const size = parseInt(header.toString("latin1", 124, 136).replace(/\0.*$/s, "").trim() || "0", 8);
    const span = tar.subarray(at, at + BLOCK + Math.ceil(size / BLOCK) * BLOCK);
    at += span.length;
    const typeflag = String.fromCharCode(header[156]!);
    if ("xgLK".includes(typeflag)) {
      pending.push(span);
      continue;
    }
    const name = header.toString("utf8", 0, 100).replace(/\0.*$/s, "");
    if (!drop(name)) kept.push(...pending, span);
    pending = [];
  }
  return Buffer.concat([...kept, Buffer.alloc(2 * BLOCK)]);
}

export interface ModernOptions {
  format?: TarFormat;
  /** Keep setuptools' `<name>.egg-info/` (PKG-INFO only, as the helper writes it); default false. */
  eggInfo?: boolean;
  extraEntries?: ExtraEntry[];
}

export function modernSdist(spec: SdistSpec, options: ModernOptions = {}): Buffer {
  let tar = buildSdistTar(spec, { format: options.format ?? "pax", ...(options.extraEntries ? { extraEntries: options.extraEntries } : {}) });
  if (options.eggInfo !== true) tar = dropMembers(tar, (name) => name.includes(".egg-info"));
  return gzipReproducible(tar, 9, 15);
}
