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
