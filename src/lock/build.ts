// What a lock is for: the firmware (`--mpy`, `--target-version`, `--arch`) and the build (`--compile`,
// `--keep-sources`). A lock resolved for `.mpy` 6 names micropython-lib's `.mpy` documents, one for sources
// names the `.py` ones: installing it for another firmware would give an image no one asked for, so a
// locked install must be asked for what the lock was made for, and is refused otherwise.

import { MpipError } from "../errors.js";
import { targetFromMpy, type MpyTarget } from "../mpy/target.js";
import { printable } from "../text.js";
import type { LockBuild } from "./format.js";

/** The build a command line asks for, as a lock states it (`--target-version 1.22` is `.mpy` 6.2, as `--mpy 6.2` is). */
export function lockBuildOf(firmware: MpyTarget | undefined, compile: { keepSources: boolean } | undefined): LockBuild {
  const compiled: LockBuild["compile"] = compile === undefined ? "no" : compile.keepSources ? "mpy+sources" : "mpy";
  if (firmware === undefined) return { compile: compiled };
  const mpy = firmware.sub === undefined ? String(firmware.major) : `${firmware.major}.${firmware.sub}`;
  return { compile: compiled, firmware: { mpy, ...(firmware.arch === undefined ? {} : { arch: firmware.arch }) } };
}

/**
 * Refuses a locked install asked for another build than its lock states. A lock without mpip's
 * `[tool.mpip]` (another tool's) states none: it holds sdists, which any build installs.
 * @throws MpipError `usage`, naming both and the options that would match.
 */
export function checkLockBuild(locked: LockBuild | undefined, asked: LockBuild, lockFile: string): void {
  if (locked === undefined || sameBuild(locked, asked)) return;
  throw new MpipError("usage", `\`${printable(lockFile)}\` was locked for ${describeBuild(locked)}, but this install is for ${describeBuild(asked)}`, {
    hint: `give the options the lock was made with (${flagsFor(locked)}), or lock again for this firmware`,
  });
}

/**
 * The firmware `mpip download --lock` lays the folder out for: the lock's own (its micropython-lib
 * documents are that flavor's), unless the command line names one, which must then be the same. The
 * build (`--compile`) is not the download's business: the install from the folder does it. A lock without
 * mpip's `[tool.mpip]` (another tool's) states none, and holds sdists, which any firmware takes.
 * @throws MpipError `usage` (another firmware asked for), `bad-lock` (a firmware mpip does not know).
 */
export function lockedFirmware(locked: LockBuild | undefined, asked: MpyTarget | undefined, lockFile: string): MpyTarget | undefined {
  if (asked !== undefined) {
    if (locked !== undefined && !sameBuild({ compile: "no", ...pick(locked) }, lockBuildOf(asked, undefined))) {
      throw new MpipError("usage", `\`${printable(lockFile)}\` was locked for ${describeBuild({ compile: "no", ...pick(locked) })}, but this download is for ${describeBuild(lockBuildOf(asked, undefined))}`, {
        hint: "leave the firmware options out (a download of a lock takes the lock's), or lock again for this firmware",
      });
    }
    return asked;
  }
  const firmware = locked?.firmware;
  if (firmware === undefined) return undefined;
  try {
    return targetFromMpy(firmware.mpy, firmware.arch);
  } catch (error) {
    if (!(error instanceof MpipError)) throw error;
    throw new MpipError("bad-lock", `\`${printable(lockFile)}\`: \`tool.mpip.mpy\` or \`tool.mpip.arch\` names no firmware mpip knows: ${error.message}`, { cause: error, hint: "lock again with `mpip lock`" });
  }
}

function pick(build: LockBuild): Pick<LockBuild, "firmware"> {
  return build.firmware === undefined ? {} : { firmware: build.firmware };
}

function sameBuild(a: LockBuild, b: LockBuild): boolean {
  return a.compile === b.compile && a.firmware?.mpy === b.firmware?.mpy && a.firmware?.arch === b.firmware?.arch;
}

/** "sources", ".mpy 6.2 (xtensawin)", "sources compiled to .mpy": how messages name a build. */
export function describeBuild(build: LockBuild): string {
  const firmware = build.firmware === undefined ? "sources (no --mpy or --target-version)" : `.mpy ${printable(build.firmware.mpy, 20)}${build.firmware.arch === undefined ? "" : ` (${printable(build.firmware.arch, 20)})`}`;
  const compiled = build.compile === "no" ? "" : build.compile === "mpy" ? ", compiled to .mpy (--compile)" : ", compiled to .mpy keeping the sources (--compile --keep-sources)";
  return `${firmware}${compiled}`;
}

/** The options that ask for `build`: `--mpy 6.2 --arch xtensawin --compile`, or "no firmware options". */
function flagsFor(build: LockBuild): string {
  const flags = buildArguments(build);
  return flags.length === 0 ? "no --mpy, --target-version or --compile" : `\`${printable(flags.join(" "), 80)}\``;
}

/** The command-line words that ask for `build`: `["--mpy", "6.2", "--arch", "xtensawin", "--compile", "--keep-sources"]`, or none for sources. */
export function buildArguments(build: LockBuild): string[] {
  return [
    ...(build.firmware === undefined ? [] : ["--mpy", build.firmware.mpy, ...(build.firmware.arch === undefined ? [] : ["--arch", build.firmware.arch])]),
    ...(build.compile === "no" ? [] : ["--compile"]),
    ...(build.compile === "mpy+sources" ? ["--keep-sources"] : []),
  ];
}
