// The 4-byte header of a compiled MicroPython `.mpy` file: what firmware can load it.
// Layout (py/persistentcode.h): `M`, the major version, a feature byte, the small-int bit count.
// The feature byte carries the native architecture in bits 7..2 (MPY_FEATURE_ENCODE_ARCH, since
// .mpy 4) and, in bits 1..0, the sub-version for .mpy 6 onward; .mpy 4 and 5 kept two feature flags
// there instead (map-lookup caching, unicode strings), which say nothing about compatibility we check.

/** Native architectures in MicroPython's numbering (MP_NATIVE_ARCH_*): the index is the header value. */
export const MPY_ARCHES = [
  "none",
  "x86",
  "x64",
  "armv6",
  "armv6m",
  "armv7m",
  "armv7em",
  "armv7emsp",
  "armv7emdp",
  "xtensa",
  "xtensawin",
  "rv32imc",
  "rv64imc",
] as const;

export interface MpyHeader {
  major: number;
  /** The sub-version (6.x): only .mpy 6 and later have one. */
  sub: number | undefined;
  /** Header value of the native architecture; 0 means the file holds bytecode only. */
  archIndex: number;
  /** Its name (`xtensawin`), `arch#N` for a number newer than mpip knows, undefined for bytecode only. */
  arch: string | undefined;
  smallIntBits: number;
}

export function parseMpyHeader(data: Uint8Array): MpyHeader | undefined {
  if (data.length < 4 || data[0] !== 0x4d) return undefined;
  const major = data[1]!;
  const feature = data[2]!;
  // Before .mpy 4 native code could not be saved, so the byte held only flags.
  const archIndex = major >= 4 ? feature >> 2 : 0;
  return {
    major,
    sub: major >= 6 ? feature & 3 : undefined,
    archIndex,
    arch: archIndex === 0 ? undefined : archName(archIndex),
    smallIntBits: data[3]!,
  };
}

export function archName(index: number): string {
  return MPY_ARCHES[index] ?? `arch#${index}`;
}

/** True for a known native architecture name (not `none`). */
export function isMpyArch(name: string): boolean {
  return name !== "none" && (MPY_ARCHES as readonly string[]).includes(name);
}

/** For messages: `mpy 6.2 (native xtensawin)`, `mpy 6 bytecode` (the sub-version is ignored for bytecode). */
export function describeMpy(header: MpyHeader): string {
  if (header.arch === undefined) return `mpy ${header.major} bytecode`;
  const version = header.sub === undefined ? `${header.major}` : `${header.major}.${header.sub}`;
  return `mpy ${version} (native ${header.arch})`;
}
