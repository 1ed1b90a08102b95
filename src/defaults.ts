// Defaults the command line shows in its help and the commands use, in a module of their own so that
// printing the help loads nothing else.

import os from "node:os";
import path from "node:path";

/** micropython-lib's v2 index first (what mip reads), then PyPI's JSON API (what upip reads). */
export const DEFAULT_INDEXES = ["https://micropython.org/pi/v2", "https://pypi.org/pypi"];
export const DEFAULT_JOBS = 16;
/** PEP 751's name for a lock file: what `mpip lock` writes and `mpip sync` reads unless told another. */
export const DEFAULT_LOCK_FILE = "pylock.toml";

/**
 * The target when `-p` is not given: `MPIP_TARGET` (the variable of install's `-p`, which every command
 * that reads or changes a target takes too, so that one CI setting names the image for all of them);
 * else where upip installs, `sys.path[1]`: on the Unix port the first `MICROPYPATH` entry when it is set,
 * else `~/.micropython/lib`. `.frozen` and empty entries name no folder and are passed over; an empty
 * variable counts as unset.
 */
export function defaultTarget(env: NodeJS.ProcessEnv): string {
  if (env.MPIP_TARGET !== undefined && env.MPIP_TARGET.trim() !== "") return env.MPIP_TARGET;
  const entry = (env.MICROPYPATH ?? "").split(path.delimiter).find((item) => item !== "" && item !== ".frozen");
  if (entry === undefined) return path.join(os.homedir(), ".micropython", "lib");
  return entry === "~" || entry.startsWith("~/") ? path.join(os.homedir(), entry.slice(1)) : entry;
}
