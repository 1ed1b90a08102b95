// Where mpip keeps what it can make again (compiled .mpy sizes, ...): `MPIP_CACHE_DIR` when set, else the
// user's cache folder as each system names it (XDG on Linux and the BSDs, ~/Library/Caches on macOS,
// %LOCALAPPDATA% on Windows), in a folder `mpip`. Deleting it at any time loses only time.

import os from "node:os";
import path from "node:path";

/** The cache folder for `env` (default: this process's environment); it may not exist yet. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.MPIP_CACHE_DIR !== undefined && env.MPIP_CACHE_DIR !== "") return path.resolve(env.MPIP_CACHE_DIR);
  if (platform === "win32") return path.join(env.LOCALAPPDATA ?? path.join(os.homedir(), "AppData", "Local"), "mpip", "Cache");
  if (platform === "darwin") return path.join(os.homedir(), "Library", "Caches", "mpip");
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache"), "mpip");
}
