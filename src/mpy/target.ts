// The firmware an image is built for (`--target-version 1.22`, `--mpy 6.2`, `--arch xtensawin`), and
// the rule for whether a `.mpy` file loads on it (docs/reference/mpyfiles.rst): the major version must
// match; a file with native code must also match the sub-version and the architecture.

import { MpipError } from "../errors.js";
import { describeMpy, isMpyArch, MPY_ARCHES, parseMpyHeader } from "./header.js";

export type MpyTarget = { major: number; sub?: number; arch?: string; label: string };

/** The .mpy version MicroPython 1.<minor> loads; undefined before 1.12 (.mpy 4 and older, unsupported). */
export function mpyOfRelease(minor: number): { major: number; sub?: number } | undefined {
  if (minor >= 23) return { major: 6, sub: 3 };
  if (minor === 22) return { major: 6, sub: 2 };
  if (minor >= 20) return { major: 6, sub: 1 };
  if (minor === 19) return { major: 6, sub: 0 };
  if (minor >= 12) return { major: 5 };
  return undefined;
}

/** `1.22`, `1.22.2`, `v1.22.0`, `1.23.0-preview.45.gabc` → [major, minor]; undefined if it is not a version. */
export function parseReleaseVersion(text: string): { major: number; minor: number; text: string } | undefined {
  const match = /^v?(\d+)\.(\d+)((?:\.\d+)?)(?:[-+][0-9A-Za-z.+-]*)?$/.exec(text.trim());
  if (match === null) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), text: `${match[1]}.${match[2]}${match[3]}` };
}

export function targetFromVersion(version: string, arch?: string): MpyTarget {
  const release = parseReleaseVersion(version);
  if (release === undefined) {
    throw new MpipError("usage", `\`--target-version\` expects a MicroPython version such as \`1.22\`, got \`${version}\``);
  }
  if (release.major !== 1) {
    throw new MpipError("usage", `mpip does not know which .mpy version MicroPython ${release.text} loads`, {
      hint: "give the .mpy version with `--mpy <major>` (see `sys.implementation._mpy & 0xff` on the device)",
    });
  }
  const mpy = mpyOfRelease(release.minor);
  if (mpy === undefined) {
    throw new MpipError("usage", `MicroPython ${release.text} is too old: mpip supports MicroPython 1.12 and later (.mpy 5 and 6)`, {
      hint: "leave out `--target-version` to install sources, which work on any firmware",
    });
  }
  return withArch(mpy, arch, `MicroPython ${release.text}`);
}

/** `--mpy 6` or `--mpy 6.2`. */
export function targetFromMpy(spec: string, arch?: string): MpyTarget {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(spec.trim());
  const major = match === null ? NaN : Number(match[1]);
  if (major !== 5 && major !== 6) {
    throw new MpipError("usage", `\`--mpy\` expects an .mpy version mpip supports (\`5\`, \`6\` or \`6.0\` to \`6.3\`), got \`${spec}\``);
  }
  if (match?.[2] === undefined) return withArch({ major }, arch);
  const sub = Number(match[2]);
  // The sub-version is two bits of the header, and .mpy 5 has none.
  if (major === 5 || sub > 3) {
    throw new MpipError("usage", `there is no .mpy version ${spec}: only .mpy 6 has sub-versions, 6.0 to 6.3`);
  }
  return withArch({ major, sub }, arch);
}

function withArch(mpy: { major: number; sub?: number }, arch: string | undefined, release?: string): MpyTarget {
  const version = mpy.sub === undefined ? `mpy ${mpy.major}` : `mpy ${mpy.major}.${mpy.sub}`;
  const target: MpyTarget = { ...mpy, label: "" };
  if (arch !== undefined) {
    const name = arch.trim().toLowerCase();
    if (!isMpyArch(name)) {
      throw new MpipError("usage", `unknown native architecture \`${arch}\``, {
        hint: `\`--arch\` takes one of ${MPY_ARCHES.slice(1).join(", ")}`,
      });
    }
    target.arch = name;
  }
  const details = target.arch === undefined ? version : `${version}, ${target.arch}`;
  target.label = release === undefined ? details : `${release} (${details})`;
  return target;
}

/** Which folder of a micropython-lib v2 index to read: sources, or the .mpy major version. */
export function mipFlavor(target: MpyTarget | undefined): string {
  return target === undefined ? "py" : String(target.major);
}

/**
 * Throws `mpy-incompatible` unless `data` is an .mpy file the target firmware loads. Architectures
 * must be equal: newer Thumb firmware also loads older Thumb code (MPY_FEATURE_ARCH_TEST), but not
 * every release does, and being strict can never install a file the device refuses.
 */
export function checkMpyFile(data: Uint8Array, relPath: string, target: MpyTarget): void {
  const header = parseMpyHeader(data);
  if (header === undefined) {
    throw new MpipError("mpy-incompatible", `\`${relPath}\` is not a compiled .mpy file (it has no \`M\` header)`, {
      hint: "the package ships a broken .mpy file; install it from sources instead",
    });
  }
  const file = describeMpy(header);
  const fail = (why: string, hint: string): never => {
    throw new MpipError("mpy-incompatible", `\`${relPath}\` is ${file}, but the target is ${target.label}${why}`, { hint });
  };
  if (header.major !== target.major) {
    fail("", "choose the firmware's version with `--target-version`, or leave it out to install sources, which work on any firmware");
  }
  if (header.arch === undefined) return;
  if (header.sub !== undefined && target.sub === undefined) {
    fail(": native code needs the exact sub-version", "give the firmware's version with `--target-version` (for example `1.22`) or `--mpy 6.x`");
  }
  if (header.sub !== target.sub) {
    fail(": native code needs the same sub-version", "this file was built for other firmware; install a build for your firmware, or sources");
  }
  if (target.arch === undefined) {
    fail(": the target's architecture is not known", `give the board's architecture with \`--arch\` (this file needs \`--arch ${header.arch}\`)`);
  }
  if (header.arch !== target.arch) {
    fail(": native code needs the same architecture", "this file was built for another CPU; install a build for your board, or sources");
  }
}
