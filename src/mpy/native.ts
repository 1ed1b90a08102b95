// A native mpy-cross chosen with `--mpy-cross <path>`: for firmware the WebAssembly one (mpy 6.0)
// cannot serve, such as .mpy 5, or native code for a newer sub-version. We ask it which .mpy version
// it emits before trusting it, and run it without a shell, with a timeout, one temp folder per file.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MpipError } from "../errors.js";
import { childEnvironment, recordChild } from "../image/staging.js";
import { mpyOfRelease, parseReleaseVersion } from "./target.js";
import { makeDirs } from "../image/make-dirs.js";

export interface MpyCrossVersion {
  major: number;
  sub: number | undefined;
  /** The first line of `--version`, for messages. */
  banner: string;
}

const TIMEOUT_MS = 60_000;

/**
 * Reads `mpy-cross --version`. MicroPython 1.12+ print
 * `MicroPython v1.22.0 on 2023-12-27; mpy-cross emitting mpy v6.2` (1.19: `... mpy v6`; CircuitPython
 * starts `CircuitPython 9.0.0`); without that suffix we fall back to the release number.
 */
export function parseMpyCrossVersion(output: string): MpyCrossVersion | undefined {
  const banner = output.split(/\r?\n/).find((line) => line.trim() !== "")?.trim() ?? "";
  const emitted = /mpy-cross emitting mpy v(\d+)(?:\.(\d+))?/.exec(banner);
  if (emitted !== null) {
    return { major: Number(emitted[1]), sub: emitted[2] === undefined ? undefined : Number(emitted[2]), banner };
  }
  const release = /^MicroPython (v?\d+\.\d+(?:\.\d+)?)/.exec(banner);
  const version = release === null ? undefined : parseReleaseVersion(release[1]!);
  const mpy = version === undefined || version.major !== 1 ? undefined : mpyOfRelease(version.minor);
  return mpy === undefined ? undefined : { major: mpy.major, sub: mpy.sub, banner };
}

/** Where a run of the native compiler happens, and what can stop it. */
export interface NativeRunOptions {
  /** The install's scratch folder: the child's pid is recorded there while it runs (see staging.ts). */
  scratchDir?: string;
  /** Aborting it (Ctrl-C, a failed install) kills the child at once. */
  signal?: AbortSignal;
}

/**
 * Runs `file` without a shell. SIGKILL, not SIGTERM, ends it on a timeout or an abort: a compiler that
 * ignores SIGTERM must not keep mpip waiting. While it runs, its pid is recorded in the install's
 * scratch folder, so that if mpip itself is killed the next run stops it.
 */
function run(file: string, args: string[], cwd: string | undefined, options: NativeRunOptions = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let recorded: Promise<(() => Promise<void>) | undefined> = Promise.resolve(undefined);
    // An abort kills with SIGKILL by hand: execFile's own `signal` option sends SIGTERM, which a compiler
    // may ignore, and reports the abort before the child has ended.
    const stop = () => child.kill("SIGKILL");
    const { env, token } = childEnvironment();
    const child = execFile(file, args, { cwd, env, timeout: TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (error, stdout, stderr) => {
      options.signal?.removeEventListener("abort", stop);
      const settle = () => (error === null ? resolve({ stdout, stderr }) : reject(Object.assign(error, { stdout, stderr })));
      void recorded.then((forget) => forget?.()).catch(() => undefined).finally(settle);
    });
    if (options.signal?.aborted === true) stop();
    else options.signal?.addEventListener("abort", stop, { once: true });
    if (options.scratchDir !== undefined && child.pid !== undefined) recorded = recordChild(options.scratchDir, child.pid, token).catch(() => undefined);
  });
}

/** Runs `<file> --version` and checks it emits `expectedMajor`; throws a clear error otherwise. */
export async function probeNativeMpyCross(file: string, expectedMajor: number, options: NativeRunOptions = {}): Promise<MpyCrossVersion> {
  let output: string;
  try {
    const { stdout, stderr } = await run(file, ["--version"], undefined, options);
    output = stdout.trim() === "" ? stderr : stdout;
  } catch (error) {
    options.signal?.throwIfAborted();
    throw new MpipError("usage", `could not run mpy-cross \`${file}\``, {
      cause: error,
      hint: "`--mpy-cross` takes the path of an mpy-cross executable (`mpy-cross --version` must work)",
    });
  }
  const version = parseMpyCrossVersion(output);
  if (version === undefined) {
    throw new MpipError("usage", `\`${file}\` does not look like mpy-cross: \`--version\` printed \`${output.trim().slice(0, 200)}\``, {
      hint: "`--mpy-cross` takes the path of an mpy-cross executable",
    });
  }
  if (version.major !== expectedMajor) {
    throw new MpipError("mpy-incompatible", `\`${file}\` emits mpy ${version.major}, but the target needs mpy ${expectedMajor} (${version.banner})`, {
      hint: `use mpy-cross from the same MicroPython release as the firmware (${expectedMajor === 5 ? "1.12 to 1.18" : "1.19 or later"})`,
    });
  }
  return version;
}

/** Compiles `source` as `fileName` (a relative path, named in tracebacks); resolves the .mpy bytes. */
export async function compileNative(file: string, source: string | Uint8Array, fileName: string, args: string[], scratchDir?: string, signal?: AbortSignal): Promise<Uint8Array> {
  if (scratchDir !== undefined) await makeDirs(scratchDir);
  const work = await mkdtemp(path.join(scratchDir ?? os.tmpdir(), "mpip-mpy-cross-"));
  try {
    // The source sits at its own relative path so mpy-cross's messages name it as the user knows it.
    const input = path.join(work, "src", fileName);
    if (!input.startsWith(path.join(work, "src") + path.sep)) throw new RangeError(`unsafe source name ${fileName}`);
    const output = path.join(work, "out.mpy");
    await makeDirs(path.dirname(input));
    await writeFile(input, source);
    try {
      // `./` keeps a file named like an option (`-march=x.py`) from being read as one.
      await run(file, [...args, "-o", output, "-s", fileName, `./${fileName}`], path.join(work, "src"), {
        ...(scratchDir === undefined ? {} : { scratchDir }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      signal?.throwIfAborted();
      const { stderr = "", stdout = "" } = error as { stderr?: string; stdout?: string };
      throw compileError(fileName, (stderr + stdout).split(/\r?\n/), error);
    }
    return new Uint8Array(await readFile(output));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** mpy-cross's own words (`SyntaxError: invalid syntax` and where) in an MpipError naming the file. */
export function compileError(fileName: string, lines: string[], cause?: unknown): MpipError {
  const text = lines.map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("Traceback ("));
  const where = text.find((line) => line.startsWith("File "))?.match(/line (\d+)/)?.[1];
  const what = text.filter((line) => !line.startsWith("File ")).join("; ");
  const detail = what === "" ? "" : `: ${what}${where === undefined ? "" : ` (line ${where})`}`;
  return new MpipError("compile-failed", `mpy-cross could not compile \`${fileName}\`${detail}`, {
    cause,
    hint: "fix the source, or install without `--compile` to keep it as source",
  });
}
