// The limits that stop decompression bombs and oversized input before they cost memory or disk.
// Each has a default sized for MicroPython packages (kilobytes) with a wide margin, and a CLI option to
// raise it for the rare package that needs more.

export interface Limits {
  /** Bytes an archive may unpack to (the size of its uncompressed tar). */
  maxUnpackedBytes: number;
  /** Members (files, folders, links, ...) in one archive; pax and GNU long-name records are not counted. */
  maxEntries: number;
  /** Unpacked size over compressed size, checked only for archives unpacking to more than RATIO_FLOOR_BYTES. */
  maxRatio: number;
  /** Bytes of one index metadata document. */
  maxMetadataBytes: number;
  /** UTF-8 bytes of an installed file's path relative to the target. */
  maxPathLength: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxUnpackedBytes: 64 * MiB,
  maxEntries: 10_000,
  // Text and tar headers compress 3:1 to 20:1, and even a tar of empty files (512-byte headers, mostly
  // zeros) stays under 100:1; deflate's ceiling is about 1032:1, which only crafted input reaches.
  maxRatio: 200,
  maxMetadataBytes: 16 * MiB,
  // FAT (long names) and littlefs (LFS_NAME_MAX) both stop at 255 per name; most device ports also cap
  // a whole path near there, so a longer path could not be copied onto the device.
  maxPathLength: 255,
});

/**
 * The longest file or folder name, in UTF-8 bytes, that mpip writes: what ext4, XFS, Btrfs, tmpfs, APFS
 * and littlefs (LFS_NAME_MAX) take. Unlike --max-path-length, no option raises it: no target could hold a
 * longer name.
 */
export const NAME_MAX = 255;

/** The hint for a name over NAME_MAX. */
export const NAME_MAX_HINT = "ext4, XFS, Btrfs, APFS and littlefs take names of at most 255 bytes, whatever --max-path-length says: no target can hold it as it is named";

/** The first `/`-separated name of `relative` longer than NAME_MAX bytes, with its length; undefined if none is. */
export function nameTooLong(relative: string): { name: string; bytes: number } | undefined {
  for (const name of relative.split("/")) {
    const bytes = Buffer.byteLength(name);
    if (bytes > NAME_MAX) return { name, bytes };
  }
  return undefined;
}

/**
 * Below this unpacked size the ratio is not checked: a small package of highly repetitive text (or a
 * tar of a few tiny files, padded with zeros to 10 KiB) can exceed any sane ratio and harms no one.
 */
export const RATIO_FLOOR_BYTES = 1 * MiB;

const UNITS: Record<string, number> = { "": 1, b: 1, k: KiB, kib: KiB, m: MiB, mib: MiB, g: GiB, gib: GiB };

/** "4096", "512KiB", "64 MiB", "1g" → bytes (binary units only: K = KiB). Undefined when not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[match?.[2]?.toLowerCase() ?? "?"];
  if (match === null || unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** 67108864 → "64 MiB", 1536 → "1.5 KiB", 100 → "100 bytes". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["GiB", GiB], ["MiB", MiB], ["KiB", KiB]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} byte${bytes === 1 ? "" : "s"}`;
}
