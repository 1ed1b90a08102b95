// The firmware an image is built for (`--target-version 1.22`, `--mpy 6.2`, `--arch xtensawin`), and
// the rule for whether a `.mpy` file loads on it (docs/reference/mpyfiles.rst): the major version must
// match; a file with native code must also match the sub-version and the architecture.

import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { describeMpy, isMpyArch, MPY_ARCHES, parseMpyHeader, type MpyHeader } from "./header.js";

export type MpyTarget = {
  major: number;
  sub?: number;
  arch?: string;
  label: string;
  /** Set when no firmware was given and `--compile` implies the target (see targetOfCompiler). */
  impliedByCompile?: true;
};

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
      hint: "leave out `--target-version`: micropython-lib packages then come as sources, which work on any firmware (a package that ships only .mpy files needs firmware they load on)",
    });
  }
  return withArch(mpy, arch, `MicroPython ${release.text}`);
}

/**
 * The MicroPython release environment markers see as `implementation_version` (spec/markers.ts
 * `markerEnvironment`) for `--target-version version`, in `sys.implementation.version`'s three numbers
 * (`1.22` → `1.22.0`, `v1.22.2` → `1.22.2`); undefined for a version targetFromVersion refuses.
 */
export function releaseOfTargetVersion(version: string): string | undefined {
  const release = parseReleaseVersion(version);
  if (release === undefined) return undefined;
  const [major, minor, patch = "0"] = release.text.split(".");
  return `${major}.${minor}.${patch}`;
}

/**
 * The lowest MicroPython release that loads .mpy `major`(.`sub`), the inverse of mpyOfRelease, which
 * markers see as `implementation_version` for `--mpy`: 5 is 1.12.0; 6 and 6.0 are 1.19.0; 6.1 is 1.20.0;
 * 6.2 is 1.22.0; 6.3 is 1.23.0. The lowest, because that is all `--mpy` promises of the firmware: a
 * marker such as `implementation_version >= "1.24"` (a dependency for newer firmware only) then does not
 * hold, and `implementation_version < "1.20"` (a backport for older firmware) does, so what is installed
 * works on every release of the range.
 */
export function releaseOfMpy(major: number, sub?: number): string {
  if (major === 5) return "1.12.0";
  return ["1.19.0", "1.20.0", "1.22.0", "1.23.0"][sub ?? 0] ?? "1.19.0";
}

/** `--mpy 6` or `--mpy 6.2`. */
export function targetFromMpy(spec: string, arch?: string): MpyTarget {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(spec.trim());
  const major = match === null ? NaN : Number(match[1]);
  if (major !== 5 && major !== 6) {
    throw new MpipError("usage", `\`--mpy\` expects an .mpy version mpip supports (\`5\`, \`6\` or \`6.0\` to \`6.3\`), got \`${spec}\``, {
      hint: "give the firmware's .mpy version: `sys.implementation._mpy & 0xff` on the device (6 for MicroPython 1.19 and later, 5 for 1.12 to 1.18), or its release with `--target-version`",
    });
  }
  if (match?.[2] === undefined) return withArch({ major }, arch);
  const sub = Number(match[2]);
  // The sub-version is two bits of the header, and .mpy 5 has none.
  if (major === 5 || sub > 3) {
    const why = major === 5 ? ".mpy 5 has no sub-versions (write `5`)" : ".mpy 6's sub-versions are 6.0 (MicroPython 1.19), 6.1 (1.20, 1.21), 6.2 (1.22) and 6.3 (1.23 and later)";
    throw new MpipError("usage", `there is no .mpy version ${printable(spec, 20)}: ${why}`, {
      hint: "give the firmware's .mpy version: `sys.implementation._mpy & 0xff` on the device (6 for MicroPython 1.19 and later, 5 for 1.12 to 1.18), or its release with `--target-version`",
    });
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
 * The target `--compile` sets when no firmware is given: the .mpy major version the compiler writes,
 * checked as `--mpy <major>` would be (so native code, which needs the exact sub-version, is refused).
 */
export function targetOfCompiler(major: number): MpyTarget {
  return { major, label: `mpy ${major}, what \`--compile\` writes`, impliedByCompile: true };
}

/**
 * The firmware a `.mpy` file loads on, for messages: `MicroPython 1.12 to 1.18`, `MicroPython 1.22 on
 * xtensawin`. Follows mpyOfRelease (docs/reference/mpyfiles.rst): bytecode needs the major version only.
 */
export function firmwareFor(header: MpyHeader): string {
  const board = header.arch === undefined ? "" : ` on ${header.arch}`;
  if (header.major === 6) {
    if (header.arch === undefined || header.sub === undefined) return "MicroPython 1.19 or later";
    return `${["MicroPython 1.19", "MicroPython 1.20 or 1.21", "MicroPython 1.22", "MicroPython 1.23 or later"][header.sub]}${board}`;
  }
  if (header.major === 5) return `MicroPython 1.12 to 1.18${board}`;
  if (header.major < 5) return "MicroPython older than 1.12";
  return `MicroPython newer than mpip knows (.mpy ${header.major})`;
}

/** Whether firmware `target` loads a file with this header: checkMpyFile's rule, as a yes or no. */
export function loadsOn(header: MpyHeader, target: MpyTarget): boolean {
  if (header.major !== target.major) return false;
  return header.arch === undefined || (header.sub === target.sub && header.arch === target.arch);
}

/**
 * Where an `.mpy` being checked comes from, so the hint says what can really be done about it:
 * - `compiled`: written by mpy-cross during this install (`--compile`);
 * - `shipped`: a file a package ships. `source` is the `.py` the same package ships for that module
 *   (what `--compile` would compile in its place), `compiling` whether this install compiles, and
 *   `mipIndex` the v2 index that served it from its `.mpy` folder (whose `py` folder may hold sources).
 */
export type MpyOrigin =
  | { type: "compiled" }
  | { type: "shipped"; package: string; source?: string; compiling: boolean; mipIndex?: string };

/**
 * Throws `mpy-incompatible` unless `data` is an .mpy file the target firmware loads. Architectures
 * must be equal: newer Thumb firmware also loads older Thumb code (MPY_FEATURE_ARCH_TEST), but not
 * every release does, and being strict can never install a file the device refuses.
 * `origin` picks the hint (see MpyOrigin); without it the hint is about the target alone.
 */
export function checkMpyFile(data: Uint8Array, relPath: string, target: MpyTarget, origin?: MpyOrigin): void {
  const header = parseMpyHeader(data);
  const shipped = origin?.type === "shipped" ? origin : undefined;
  // What the package itself offers instead: its own source (with --compile), or the index's sources.
  const instead = shipped === undefined ? undefined
    : shipped.source !== undefined && !shipped.compiling
      ? `add \`--compile\`: \`${printable(shipped.package)}\` also ships \`${printable(shipped.source)}\`, which is then compiled for the target in its place`
      : shipped.mipIndex !== undefined
        ? `leave out \`--target-version\` and \`--mpy\` to install the package's sources from \`${printable(shipped.mipIndex)}\`, which work on any firmware`
        : undefined;
  if (header === undefined) {
    throw new MpipError("mpy-incompatible", `\`${relPath}\` is not a compiled .mpy file (it has no \`M\` header)`, {
      hint: instead ?? (shipped === undefined
        ? "the package ships a broken .mpy file; install it from sources instead"
        : `\`${printable(shipped.package)}\` ships a broken .mpy file and no source for it: no firmware loads it; ask its author for a fixed release`),
    });
  }
  const file = describeMpy(header);
  const fail = (why: string, hint: string): never => {
    throw new MpipError("mpy-incompatible", `\`${relPath}\` is ${file}, but the target is ${target.label}${why}`, { hint });
  };
  // A shipped file with nothing to replace it: only another release, or other firmware, can help.
  const noSource = (need: string) => shipped === undefined ? undefined
    : `\`${printable(shipped.package)}\` ships no source for it, so it cannot be compiled or installed as source: install a release of it built for ${need}`;
  if (header.major !== target.major) {
    const needs = `it loads on ${firmwareFor(header)}`;
    if (target.impliedByCompile === true) {
      fail("", `${needs}; ${instead ?? noSource(`mpy ${target.major}`) ?? "install a build for the target"}; or, if the board runs that firmware, give its version with \`--target-version\` and compile with a native mpy-cross of that release (\`--mpy-cross <path>\`)`);
    }
    fail("", `${needs}; ${instead ?? noSource(target.label) ?? "install a build for the target"}, or check that the target is the board's firmware (\`--target-version\` takes its MicroPython version)`);
  }
  if (header.arch === undefined) return;
  if (header.sub !== undefined && target.sub === undefined) {
    fail(": native code needs the exact sub-version", "give the firmware's version with `--target-version` (for example `1.22`) or `--mpy 6.x`");
  }
  if (header.sub !== target.sub) {
    fail(": native code needs the same sub-version", `it loads on ${firmwareFor(header)}; ${origin?.type === "compiled"
      ? "compile with mpy-cross from the firmware's own release (`--mpy-cross <path>`)"
      : instead ?? noSource(target.label) ?? "install a build for your firmware"}`);
  }
  if (target.arch === undefined) {
    fail(": the target's architecture is not known", `give the board's architecture with \`--arch\` (this file needs \`--arch ${header.arch}\`)`);
  }
  if (header.arch !== target.arch) {
    fail(": native code needs the same architecture", `it loads on ${firmwareFor(header)}; ${instead ?? noSource(target.label) ?? "install a build for your board"}`);
  }
}
