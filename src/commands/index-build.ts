// `mpip index build`: from parsed flags to an index build (publish/build.ts) and its report. cli.ts
// declares the command and loads this module only when it runs.

import { MpipError } from "../errors.js";
import { Reporter, type Verbosity } from "../log.js";
import type { InstallFlags } from "./install.js";
import { limitsFrom } from "./install.js";
import { checkOutputFolder } from "./download.js";
import { jsonDocument } from "../render.js";
import { catchSignals } from "../signals.js";
import { printable, quantity, styled, type Text } from "../text.js";
import { checkTypedPaths, EXIT_OK, refuseUrls, reportFailure } from "../usage.js";
import type { IndexBuildReport } from "../publish/build.js";
import { writeStandard } from "../standard-streams.js";

export type IndexBuildFlags = Pick<InstallFlags, "jobs" | "quiet" | "verbose" | "debug" | "json" | "maxUnpackedBytes" | "maxEntries" | "maxRatio" | "maxMetadataBytes" | "maxPathLength"> & { output: string; baseUrl?: string };

/**
 * Runs `mpip index build SOURCE... -o OUT`: checks the paths typed (usage errors, exit 2), builds the index
 * (publish/build.ts), prints the summary (and the `--json` report), and returns the exit code.
 */
export async function indexBuildCommand(sources: string[], flags: IndexBuildFlags): Promise<number> {
  const verbosity: Verbosity = flags.quiet || flags.json ? "quiet" : flags.verbose ? "verbose" : "normal";
  const reporter = new Reporter({ verbosity });
  const signals = catchSignals((message) => reporter.write(message));
  try {
    if (flags.quiet && flags.verbose) throw new MpipError("usage", "give -q (--quiet) or -v (--verbose), not both", { hint: "-q prints only warnings and errors; -v lists every file written" });
    await refuseUrls([flags.output], "folder", "given with --output");
    await checkOutputFolder(flags.output, "--output", "an index");
    // What each path is (an sdist, a project, a package.json folder) is for the build to say; here, that it is there.
    const { stat } = await import("node:fs/promises");
    for (const source of sources) {
      const folder = (await stat(source).catch(() => undefined))?.isDirectory() === true;
      await checkTypedPaths([source], folder ? "folder" : "file", "given to publish");
    }
    const { buildIndex, indexBaseUrl } = await import("../publish/build.js");
    const baseUrl = flags.baseUrl === undefined ? undefined : indexBaseUrl(flags.baseUrl);
    const report = await buildIndex({
      sources,
      output: flags.output,
      ...(baseUrl === undefined ? {} : { baseUrl }),
      jobs: flags.jobs,
      limits: limitsFrom(flags),
      signal: signals.signal,
      reporter,
    });
    if (flags.json) writeStandard("stdout", `${jsonDocument({ ok: true, ...report })}\n`);
    reporter.info(...renderIndexSummary(report, baseUrl));
    if (flags.verbose) for (const file of report.written) reporter.detail(`  wrote ${file}`);
    return EXIT_OK;
  } catch (error) {
    const code = reportFailure(error, reporter, { json: flags.json, debug: flags.debug });
    return signals.exitCode ?? code;
  } finally {
    signals.dispose();
    const { stopWasmWorkers } = await import("../mpy/compile.js");
    await stopWasmWorkers();
  }
}

/** The summary: how many releases, what was written and what was there, and the URLs each face is used with. */
export function renderIndexSummary(report: IndexBuildReport, baseUrl: string | undefined): Text[] {
  const counts = [`${quantity(report.written.length, "file")} written`, ...(report.unchanged.length === 0 ? [] : [`${report.unchanged.length} already there`])];
  const lines: Text[] = [`Published ${quantity(report.releases.length, "release")} into \`${report.output}\` (${counts.join(", ")})`];
  for (const release of report.releases) lines.push([" ", styled("green", "+"), " ", styled("bold", release.name), `==${release.version}`, " ", styled("dim", `(from ${release.source})`)]);
  const url = baseUrl?.replace(/\/+$/, "") ?? "URL";
  lines.push(`Serve the folder as static files at ${baseUrl === undefined ? "a URL" : `\`${url}\``}, then: \`mpremote mip install --index ${url} NAME\`, \`mpip install -i mip+${url} NAME\` (add \`--mpy 6\` for .mpy), \`-i ${url}/pypi\` (PyPI JSON) or \`-i simple+${url}/simple/\``);
  return lines;
}
