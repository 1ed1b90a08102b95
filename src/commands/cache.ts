// `mpip cache dir|info|clean`: from parsed flags to the cache folder's figures (cache/maintenance.ts),
// printed on stdout (`cache dir`'s path alone on its line, for `$(mpip cache dir)`), escaped like all output.

import path from "node:path";
import { cacheDir } from "../cache-dir.js";
import { CACHE_PARTS } from "../cache/cache.js";
import { formatDuration } from "../cache/duration.js";
import { cacheInfo, cleanCache, type CachePart, type Tally } from "../cache/maintenance.js";
import { formatBytes } from "../limits.js";
import { Reporter } from "../log.js";
import { jsonDocument } from "../render.js";
import { quantity } from "../text.js";
import { EXIT_OK, refuseUrls, reportFailure } from "../usage.js";
import { stdoutReporter, table } from "./image-output.js";
import { writeStandard } from "../standard-streams.js";

export interface CacheFlags {
  cacheDir?: string;
  json?: boolean;
  debug?: boolean;
}

export interface CleanFlags extends CacheFlags {
  /** Milliseconds, parsed from `--older-than`. */
  olderThan?: number;
  quiet?: boolean;
}

const PART_NAMES: Record<CachePart, string> = {
  content: "downloaded files (by sha256)",
  http: "index documents (by URL)",
  mpy: "compiled sizes (list --size)",
  tmp: "being written, or left by a killed run",
};

/** `mpip cache dir`: prints the folder; returns the exit code. */
export function cacheDirCommand(flags: CacheFlags): Promise<number> {
  return guarded(flags, async () => {
    // The path alone, for scripts (`du -sh "$(mpip cache dir)"`), as `pip cache dir` prints it.
    stdoutReporter().write(await chosenDir(flags));
    return EXIT_OK;
  });
}

/** `mpip cache info`: a table of each part's entries and bytes (or `--json`); returns the exit code. */
export function cacheInfoCommand(flags: CacheFlags): Promise<number> {
  return guarded(flags, async () => {
    const info = await cacheInfo(await chosenDir(flags));
    if (flags.json === true) {
      writeStandard("stdout", `${jsonDocument({ ok: true, ...info })}\n`);
      return EXIT_OK;
    }
    const out = stdoutReporter();
    out.write(`Cache: \`${info.dir}\`${info.exists ? "" : " (does not exist yet: nothing was cached)"}`);
    const rows = (Object.keys(CACHE_PARTS) as CachePart[])
      .filter((part) => part !== "tmp" || info.parts.tmp.entries > 0)
      .map((part) => [`${CACHE_PARTS[part]}/`, PART_NAMES[part], ...cells(info.parts[part])]);
    out.write(...table([["folder", "holds", "entries", "size"], ...rows, ["", "total", ...cells(info.total)]], new Set([2, 3])));
    return EXIT_OK;
  });
}

/** `mpip cache clean [--older-than]`: removes entries and says how many; returns the exit code. */
export function cacheCleanCommand(flags: CleanFlags): Promise<number> {
  return guarded(flags, async (reporter) => {
    const result = await cleanCache(await chosenDir(flags), flags.olderThan === undefined ? {} : { olderThanMs: flags.olderThan });
    for (const entry of result.kept) reporter.warn(`could not remove ${entry}; it is left in the cache`);
    if (flags.json === true) {
      writeStandard("stdout", `${jsonDocument({ ok: true, ...result, warnings: reporter.warnings })}\n`);
      return EXIT_OK;
    }
    const which = flags.olderThan === undefined ? "" : ` not used for longer than ${formatDuration(flags.olderThan)}`;
    reporter.info(`Removed ${quantity(result.total.entries, "entry", "entries")}${which} (${formatBytes(result.total.bytes)}) from \`${result.dir}\``);
    return EXIT_OK;
  });
}

/** `--cache-dir`, else MPIP_CACHE_DIR, else the user's cache folder: the one install uses. */
async function chosenDir(flags: CacheFlags): Promise<string> {
  if (flags.cacheDir === undefined) return cacheDir();
  await refuseUrls([flags.cacheDir], "folder", "given with --cache-dir");
  return path.resolve(flags.cacheDir);
}

function cells(tally: Tally): [string, string] {
  return [String(tally.entries), formatBytes(tally.bytes)];
}

async function guarded(flags: CleanFlags, body: (reporter: Reporter) => Promise<number>): Promise<number> {
  const reporter = new Reporter({ verbosity: flags.quiet === true || flags.json === true ? "quiet" : "normal" });
  try {
    return await body(reporter);
  } catch (error) {
    return reportFailure(error, reporter, { json: flags.json === true, debug: flags.debug === true });
  }
}
