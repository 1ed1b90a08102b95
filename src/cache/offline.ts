// What `--offline` says when the cache cannot answer: which document or file is missing, where it would
// have come from, and how to get it into the cache.

import { MpipError } from "../errors.js";
import { printable } from "../text.js";

/**
 * `what` (a document's URL, or a file's label), which `url` would give, is not in the cache (`cacheDir`;
 * undefined with --no-cache) and `--offline` forbids asking for it. `url` must already be redacted.
 */
export function offlineMiss(what: string, url: string, cacheDir: string | undefined, sha256?: string): MpipError {
  const from = what === `\`${url}\`` ? what : `${what} (from \`${url}\`)`;
  if (cacheDir === undefined) {
    return new MpipError("offline", `${from} cannot be fetched: --offline forbids the network, and --no-cache leaves no cache to answer from`, {
      hint: "drop --no-cache to use what earlier runs downloaded, or install from local files (`--no-index -f DIR`)",
    });
  }
  return new MpipError("offline", `${from} is not in the cache \`${printable(cacheDir)}\`${sha256 === undefined ? "" : ` (sha256 ${sha256})`}, and --offline forbids fetching it`, {
    hint: "run the same command once with the network to fill the cache (or give --cache-dir the cache that has it), or fetch what the install needs beforehand with `mpip download`",
  });
}

export function isOfflineMiss(error: unknown): error is MpipError {
  return error instanceof MpipError && error.code === "offline";
}

/** A file a run needs from the network: how messages name it, its URL (already redacted) and full sha256. */
export interface MissingFile {
  what: string;
  url: string;
  sha256: string;
}

/** How many missing files one error lists; the rest are counted. */
const LISTED = 10;

/**
 * `--offline`, for a run that knows every file it needs before fetching any (a lock): the `missing`
 * ones of the `total` files that `whose` pins (e.g. "the lock `pylock.toml`"), all named in one error,
 * each with its URL and sha256, since the cache holds files by their sha256 alone.
 */
export function offlineMissingFiles(missing: readonly MissingFile[], total: number, whose: string, cacheDir: string | undefined): MpipError {
  const listed = missing.slice(0, LISTED).map((file) => `${file.what} (from \`${printable(file.url)}\`, sha256 ${file.sha256})`);
  const more = missing.length > LISTED ? `; and ${missing.length - LISTED} more` : "";
  const count = `${missing.length} of the ${total === 1 ? "file" : `${total} files`} ${whose} pins`;
  if (cacheDir === undefined) {
    return new MpipError("offline", `${count} cannot be fetched: --offline forbids the network, and --no-cache leaves no cache to answer from: ${listed.join("; ")}${more}; nothing was changed`, {
      hint: "drop --no-cache to use what earlier runs downloaded, or install from local files (`--no-index -f DIR`)",
    });
  }
  return new MpipError("offline", `${count} ${missing.length === 1 ? "is" : "are"} not in the cache \`${printable(cacheDir)}\`, and --offline forbids fetching ${missing.length === 1 ? "it" : "them"}: ${listed.join("; ")}${more}; nothing was changed`, {
    hint: "run the same command once with the network to fill the cache (or give --cache-dir the cache that has them), or fetch everything beforehand with `mpip download -d DIR --lock` and install from DIR",
  });
}
