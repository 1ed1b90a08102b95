// The `mpip cache` command and its subcommands (`dir`, `info`, `clean`): options and help. cli.ts adds it
// with one call; the work (commands/cache.ts, cache/maintenance.ts) is loaded only when it runs.

import { InvalidArgumentError, type Command } from "commander";
import { addInstallOptions } from "../cli-options.js";
import { parseDuration } from "../cache/duration.js";
import type { CacheFlags, CleanFlags } from "./cache.js";

type Run = (action: () => Promise<number>) => void;

const CACHE_EXAMPLES = `
Examples:
  $ mpip cache dir                                     where the cache is
  $ mpip cache info                                    what it holds, part by part
  $ mpip cache clean --older-than 30d                  drop what no run used for 30 days
  $ MPIP_CACHE_DIR=.mpip-cache mpip install -p image -r requirements.txt    a cache CI keeps between jobs`;

/** Adds `mpip cache` with `dir`, `info` and `clean` to `program`; `run` runs a subcommand's action. */
export function addCacheCommand(program: Command, run: Run): void {
  const cache = program
    .command("cache")
    .summary("show or clean the download cache")
    .description(
      "The download cache: every file mpip downloads, by its sha256, and every index document and hashless file, by URL with its HTTP validators, " +
        "so that the next install asks only whether they changed and a file whose sha256 is known is not asked for at all. " +
        "It is in --cache-dir, else MPIP_CACHE_DIR, else the user's cache folder ($XDG_CACHE_HOME/mpip, ~/.cache/mpip, on Linux). Deleting it loses only time.",
    )
    .addHelpText("after", CACHE_EXAMPLES);

  const cacheDirOnly = (command: Command) => addInstallOptions(command, ["cache"], ["--no-cache", "--offline"]);

  cacheDirOnly(cache.command("dir").summary("print the cache folder").description("Print the cache folder's path (it may not exist yet)."))
    .action((flags: CacheFlags) => run(async () => (await import("./cache.js")).cacheDirCommand(flags)));

  cacheDirOnly(cache.command("info").summary("say what the cache holds").description("Say how many entries and bytes each part of the cache holds: downloaded files (by sha256), index documents (by URL), compiled sizes (for `mpip list --size`)."))
    .option("--json", "print the figures as JSON on stdout", false)
    .option("--debug", "print stack traces with errors", false)
    .action((flags: CacheFlags) => run(async () => (await import("./cache.js")).cacheInfoCommand(flags)));

  cacheDirOnly(
    cache
      .command("clean")
      .summary("remove cache entries")
      .description("Remove every entry of the cache, or with --older-than those no run has used for that long. Safe while another mpip uses the cache: it fetches again what it no longer finds."),
  )
    .option("--older-than <duration>", "remove only entries not used for longer than this: a number and a unit, s, m, h, d or w (`30d`, `12h`)", durationOption)
    .option("-q, --quiet", "print only warnings and errors", false)
    .option("--json", "print what was removed as JSON on stdout", false)
    .option("--debug", "print stack traces with errors", false)
    .action((flags: CleanFlags) => run(async () => (await import("./cache.js")).cacheCleanCommand(flags)));
}

function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError("--older-than must be a number above 0 and a unit: s, m, h, d or w (`30d`, `12h`).");
  return ms;
}
