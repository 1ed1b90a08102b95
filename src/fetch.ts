// The bytes of one distribution file, from the network or disk, verified against the index's sha256.
// Archives are held in memory (MicroPython packages are kilobytes, capped below): the exact gzip
// window check parses the whole deflate stream, and nothing is unpacked before the digest matches.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { MpipError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { redactUrl } from "./http.js";
import type { Location } from "./sources/types.js";

/** What to fetch: a location, and the sha256 (or, for mip's short hashes, a prefix of it) it must have. */
export interface Expected {
  location: Location;
  sha256?: string;
}

export interface FetchOptions {
  maxBytes?: number;
  /** Who vouches for the hash and the URL, for messages: "the index" (default), "the package document". */
  authority?: string;
  /** Named by the user (a URL or path given as a spec): a 404 is then a wrong URL, not a broken index. */
  direct?: boolean;
}

export const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

export interface Fetched {
  data: Buffer;
  sha256: string;
  /** Where the bytes came from, safe to print. */
  origin: string;
}

export async function fetchFile(file: Expected, http: HttpClient, label: string, options: FetchOptions = {}): Promise<Fetched> {
  const location = file.location;
  const authority = options.authority ?? "the index";
  let data: Buffer;
  let origin: string;
  if (location.type === "local") {
    origin = location.path;
    data = await readFile(location.path).catch((error: NodeJS.ErrnoException) => {
      throw new MpipError("io", `cannot read ${label} from \`${location.path}\` (${error.code ?? error.message})`, { cause: error });
    });
  } else {
    origin = redactUrl(location.url);
    const response = await http.get(location.url, { maxBytes: options.maxBytes ?? MAX_ARCHIVE_BYTES });
    if (response.status === "not-found" && options.direct === true) {
      throw new MpipError("not-found", `${label}: \`${origin}\` answered 404 (not found)`, { hint: "check the URL" });
    }
    if (response.status === "not-found") {
      throw new MpipError("not-found", `${authority} lists ${label} at \`${origin}\`, but that URL answered 404`, {
        hint: `${authority} is out of date or broken; try again later, or tell its maintainers`,
      });
    }
    data = response.body;
  }
  const sha256 = createHash("sha256").update(data).digest("hex");
  const expected = file.sha256?.toLowerCase();
  // mip's package documents give only the first hex digits of the sha256: check as many as there are.
  if (expected !== undefined && (expected.length < 64 ? !sha256.startsWith(expected) : expected !== sha256)) {
    const whose = authority === "the index" ? "the index's sha256" : `the sha256 in ${authority}`;
    throw new MpipError("digest-mismatch", `${label} from \`${origin}\` does not match ${whose} (expected ${expected}${expected.length < 64 ? "…" : ""}, got ${sha256}); nothing of it was written`, {
      hint: options.direct === true
        ? "the file at that URL is not the one the hash was taken from; check the hash, or that the URL serves what you expect"
        : "the download was altered or the index is wrong; try again, and report it to the index if it persists",
    });
  }
  return { data, sha256, origin };
}
