// `mpip download`: from parsed flags to a download and its report. The flags are install's (cli-options.ts
// groups), less those about a target image; cli.ts declares them and loads this module only when it runs.

import path from "node:path";
import { download, type DownloadReport } from "../download.js";
import { MpipError } from "../errors.js";
import { versionNotFoundHint } from "../spec/shell-split.js";
import { Reporter, type Verbosity } from "../log.js";
import { jsonDocument, stopwatch } from "../render.js";
import { catchSignals } from "../signals.js";
import { printable, quantity, styled, type Text } from "../text.js";
import { checkTypedPaths, EXIT_OK, refuseUrls, reportFailure } from "../usage.js";
import { checkBuildFlags, fetchOptions, gatherRequests, resolutionOptions, withRelease, type Gathered, type InstallFlags } from "./install.js";
import { writeStandard } from "../standard-streams.js";
import { mipFlavor } from "../mpy/target.js";
import { lockClash } from "./sync.js";

/** Install's flags that download takes, and its own `-d`. */
export type DownloadFlags = Omit<InstallFlags, "target" | "wait" | "record" | "dryRun" | "maxSize" | "upgrade" | "forceReinstall" | "compile" | "keepSources" | "mpyCross"> & { dest: string };

export async function downloadCommand(specs: string[], flags: DownloadFlags): Promise<number> {
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  const elapsed = stopwatch();
  const signals = catchSignals((message) => reporter.write(message));
  // Until the download starts, a malformed spec is the command line's (or a -r file's) fault.
  let typed = true;
  try {
    if (flags.quiet && flags.verbose) throw new MpipError("usage", "give -q (--quiet) or -v (--verbose), not both", { hint: "-q prints only warnings and errors; -v adds where each package came from" });
    await refuseUrls([flags.dest], "folder", "given with --dest");
    await checkOutputFolder(flags.dest, "--dest", "a download");
    if (flags.lock !== undefined) await checkLockFlags(specs, flags, flags.lock);
    // The inputs: specs and -r files, resolved; or a pylock.toml given with --lock, which says what to fetch.
    const gathered = flags.lock !== undefined ? NOTHING_GATHERED : await gatherRequests(specs, flags, reporter, undefined, signals.signal);
    if (gathered.requests.length === 0 && gathered.skipped > 0) {
      // As install: every request is for another platform (a requirements file shared with CPython), so
      // there is nothing to download and the folder is not made or changed.
      if (flags.json) {
        const flavor = mipFlavor(await checkBuildFlags({ ...flags, compile: false, keepSources: false }, signals.signal));
        const report: DownloadReport = { dest: path.resolve(flags.dest), flavor, packages: [], written: [], unchanged: [], warnings: [] };
        writeStandard("stdout", `${jsonDocument({ ok: true, ...report })}\n`);
      }
      reporter.info(`Nothing to download: the marker of every package asked for leaves it out on ${gathered.markersFor}`);
      return EXIT_OK;
    }
    if (gathered.requests.length === 0 && flags.lock === undefined) {
      throw new MpipError("usage", "no packages to download", { hint: "name packages (`mpip download -d DIR NAME`), a requirements file (`-r FILE`) or a lock (`--lock pylock.toml`)" });
    }
    // Beside a lock, the indexes given are asked nothing (there is no default list): see download.ts.
    const resolution = await resolutionOptions(gathered, flags, flags.lock === undefined ? undefined : [...(flags.indexUrl ?? []), ...flags.extraIndexUrl]);
    if (flags.cacheDir !== undefined) await refuseUrls([flags.cacheDir], "folder", "given with --cache-dir");
    const firmware = await checkBuildFlags({ ...flags, compile: false, keepSources: false }, signals.signal);
    typed = false;
    const report = await download({
      dest: flags.dest,
      ...resolution,
      ...(flags.lock === undefined ? {} : { lockFile: flags.lock }),
      ...fetchOptions(flags),
      ...(firmware === undefined ? {} : { firmware }),
      ...withRelease(flags),
      signal: signals.signal,
      reporter,
    });
    if (flags.json) writeStandard("stdout", `${jsonDocument({ ok: true, ...report })}\n`);
    // A lock's download is for the lock's firmware, given or not: the install from the folder needs it.
    const firmwareOption = flags.lock !== undefined && report.flavor !== "py" && firmwareFlag(flags) === "" ? ` --mpy ${report.flavor}` : firmwareFlag(flags);
    reporter.info(...renderDownloadSummary(report, elapsed(), firmwareOption));
    return EXIT_OK;
  } catch (error) {
    const code = reportFailure(versionNotFoundHint(error, specs), reporter, { json: flags.json, debug: flags.debug, typed });
    return signals.exitCode ?? code;
  } finally {
    signals.dispose();
  }
}

/** What a download of a lock gathers from the command line: nothing, the lock says what to fetch. */
const NOTHING_GATHERED: Gathered = { requests: [], constraints: [], input: { requirements: [], constraints: [], indexChanges: [], findLinks: [] }, skipped: 0, markersFor: "MicroPython" };

/**
 * Beside `--lock`, what would resolve a download (packages, -r, -c, --no-deps, --pre, -f) typed on the
 * command line is a usage error rather than silently ignored (sync.ts `lockClash`); the lock must be a file.
 * @throws MpipError `usage`.
 */
async function checkLockFlags(specs: string[], flags: DownloadFlags, lockFile: string): Promise<void> {
  const clash = lockClash(specs.length > 0 ? "packages to download" : undefined, flags);
  if (clash !== undefined) {
    throw new MpipError("usage", `${clash} cannot be given with --lock: the lock says what to download`, {
      hint: "download the lock alone (`mpip download -d DIR --lock pylock.toml`), or change what is locked with `mpip lock` and download that",
    });
  }
  await (await import("./sync.js")).checkLockPath(lockFile, "given with --lock");
}

/**
 * An output folder option (`-d`, `-o`) may name a folder, or nothing yet (it is created); anything else is
 * a usage error naming the option and what is written there.
 * @throws MpipError `usage`.
 */
export async function checkOutputFolder(folder: string, option: string, what: string): Promise<void> {
  const { stat } = await import("node:fs/promises");
  const info = await stat(folder).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) {
    throw new MpipError("usage", `\`${printable(folder)}\` (given with ${option}) is ${info.isFile() ? "a file" : "not a folder"}; ${what} is written into a folder`, { hint: "name a folder, or one that does not exist yet (it is created)" });
  }
}

/** The firmware option as given, to repeat in the install that uses the folder. */
function firmwareFlag(flags: DownloadFlags): string {
  if (flags.targetVersion !== undefined) return ` --target-version ${flags.targetVersion}`;
  return flags.mpy === undefined ? "" : ` --mpy ${flags.mpy}`;
}

/**
 * The summary: how many packages, what was written and what was there already, each package with where it
 * came from and where it is now, and the command that installs from the folder.
 */
export function renderDownloadSummary(report: DownloadReport, seconds: number, firmware: string): Text[] {
  const counts = [`${quantity(report.written.length, "file")} written`, ...(report.unchanged.length === 0 ? [] : [`${report.unchanged.length} already there`])];
  const lines: Text[] = [`Downloaded ${quantity(report.packages.length, "package")} into \`${report.dest}\` in ${seconds.toFixed(2)}s (${counts.join(", ")})`];
  for (const pkg of report.packages) {
    const [first = "", ...rest] = pkg.files;
    const where = pkg.kind === "sdist" ? first : `${first}${rest.length === 0 ? "" : ` and ${quantity(rest.length, "file")}`}`;
    lines.push([" ", styled("green", "+"), " ", styled("bold", pkg.name), pkg.version === "" ? "" : `==${pkg.version}`, " ", styled("dim", `(from ${pkg.source})`), ` as ${where}`]);
  }
  const sdistsOnly = report.packages.every((pkg) => pkg.kind === "sdist");
  lines.push(`Install from it with no network: \`mpip install -i ${report.dest}${firmware} ...\`${sdistsOnly ? ` or \`mpip install --no-index -f ${report.dest} ...\`` : ""}`);
  // A dependency by URL (`leaf @ https://...` in a package's metadata) is fetched from its URL by every
  // install, never taken from a folder under its name (spec/package-spec.ts dependencySpec).
  const byUrl = report.packages.filter((pkg) => pkg.source === pkg.url && !pkg.requestedBy.includes("the command line"));
  if (byUrl.length > 0) {
    const names = byUrl.map((pkg) => `\`${pkg.name}\``).join(", ");
    lines.push(`except ${names}: ${byUrl.length === 1 ? "a dependency" : "dependencies"} by URL, which an install fetches from ${byUrl.length === 1 ? "its URL" : "their URLs"} again, or with --offline from the download cache this run filled`);
  }
  return lines;
}
