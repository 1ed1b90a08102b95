// The bytes of one distribution file, from the network or disk, verified against the index's sha256.
// Archives are held in memory (MicroPython packages are kilobytes, capped below): the exact gzip
// window check parses the whole deflate stream, and nothing is unpacked before the digest matches.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { MpipError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { redactUrl } from "./http.js";
import type { DistFile } from "./sources/types.js";

export const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

export interface Fetched {
  data: Buffer;
  sha256: string;
  /** Where the bytes came from, safe to print. */
  origin: string;
}

export async function fetchFile(file: DistFile, http: HttpClient, label: string): Promise<Fetched> {
  const location = file.location;
  let data: Buffer;
  let origin: string;
  if (location.type === "local") {
    origin = location.path;
    data = await readFile(location.path).catch((error: NodeJS.ErrnoException) => {
      throw new MpipError("io", `cannot read ${label} from \`${location.path}\` (${error.code ?? error.message})`, { cause: error });
    });
  } else {
    origin = redactUrl(location.url);
    const response = await http.get(location.url, { maxBytes: MAX_ARCHIVE_BYTES });
    if (response.status === "not-found") {
      throw new MpipError("not-found", `the index lists ${label} at \`${origin}\`, but that URL answered 404`, {
        hint: "the index is out of date or broken; try again later or use another index",
      });
    }
    data = response.body;
  }
  const sha256 = createHash("sha256").update(data).digest("hex");
  if (file.sha256 !== undefined && file.sha256 !== sha256) {
    throw new MpipError("digest-mismatch", `${label} from \`${origin}\` does not match the index's sha256 (expected ${file.sha256}, got ${sha256}); nothing of it was written`, {
      hint: "the download was altered or the index is wrong; try again, and report it to the index if it persists",
    });
  }
  return { data, sha256, origin };
}
