// Files that come with no hash to check them against. Every download is verified when its source gives
// a sha256 (the index, a package document's `hashes`, a URL's `#sha256=`); one that gives none would be
// installed on trust alone. That is said, once per file, as a warning the install reports in plan order;
// with --require-hashes (pip's name) it is an error instead, raised before the file is fetched.
// Local files (a --find-links folder, a local index's, a path, a project folder, a local package.json's
// files) are the user's own and cross no network: they need no hash. Index metadata itself (a PyPI JSON
// or simple page, a v2 index's package document) is what gives hashes, and is not a file installed.

import { MpipError } from "../errors.js";
import { redactUrl } from "../http.js";
import { isFileUrl } from "../http/file-url.js";
import type { Location, UrlDigest } from "../sources/types.js";

/** The digests other than sha256 that verify a file as surely (pip's STRONG_HASHES). */
const STRONG_DIGESTS: ReadonlySet<UrlDigest["algorithm"]> = new Set(["sha384", "sha512"]);
import type { PrepareContext } from "./context.js";

/** Why a file has no hash, and what would give it one. */
export interface MissingHash {
  /** Who should have given it, as a clause: "the index `URL` gives no sha256 for it". */
  reason: string;
  /** What to do under --require-hashes. */
  hint: string;
}

/**
 * Nothing for a local file or one with a hash; otherwise the warning to report for it, or, with
 * `context.requireHashes`, throws MpipError("hash-required"). `label` names the package and file.
 */
export function missingHashWarnings(file: { location: Location; sha256?: string | undefined; digest?: UrlDigest | undefined }, label: string, missing: MissingHash, context: Pick<PrepareContext, "requireHashes">): string[] {
  // A local index's files (`file:` URLs) are local files too.
  if (file.location.type === "local" || isFileUrl(file.location.url) || (file.sha256 !== undefined && file.sha256 !== "")) return [];
  // A URL's `#sha384=` or `#sha512=` verifies it as surely (pip's hash-checking mode takes both).
  if (file.digest !== undefined && STRONG_DIGESTS.has(file.digest.algorithm)) return [];
  const where = `${label} from \`${redactUrl(file.location.url)}\``;
  if (file.digest !== undefined) {
    // `#md5=`, `#sha1=`, `#sha224=`: checked (fetch.ts), but not a hash pip's hash-checking mode accepts.
    const weak = `its URL gives only \`#${file.digest.algorithm}=\`, which is checked but is not a hash --require-hashes accepts (sha256, sha384 or sha512, as pip)`;
    if (context.requireHashes === true) {
      throw new MpipError("hash-required", `${where} cannot be verified: ${weak}, and --require-hashes is set; nothing was installed`, { hint: "give the file's sha256 instead: `URL#sha256=<hex>` (`sha256sum FILE` prints it)" });
    }
    return [`${where} is verified only by ${weak.slice("its URL gives only ".length)}`];
  }
  if (context.requireHashes === true) {
    throw new MpipError("hash-required", `${where} cannot be verified: ${missing.reason}, and --require-hashes is set; nothing was installed`, { hint: missing.hint });
  }
  return [`${where} is not verified: ${missing.reason} (--require-hashes refuses such a file)`];
}

/** A file an index lists without a sha256 (PyPI JSON without `digests.sha256`, a simple-API link without `#sha256=`). */
export function fromIndex(index: string): MissingHash {
  return {
    reason: `the index \`${index}\` gives no sha256 for it`,
    hint: "use an index that publishes sha256 digests, or name the file with its hash: `NAME @ URL#sha256=<hex>`",
  };
}

/** A file named directly by URL (or a `github:` shorthand, which has no place for a hash). */
export function fromSpec(source: string, shorthand: boolean): MissingHash {
  if (shorthand) {
    return {
      reason: `\`${source}\` is a repository shorthand, which carries no hash`,
      hint: "give the file's raw URL with its hash instead of the shorthand: `https://.../package.json#sha256=<hex>`",
    };
  }
  return {
    reason: "its URL carries no `#sha256=`",
    hint: "add the file's sha256 to the URL: `URL#sha256=<hex>` (`sha256sum FILE` prints it)",
  };
}

/** A package document's `urls` entry with no `hashes` entry for the same destination. */
export function fromDocument(document: string): MissingHash {
  return {
    reason: `the package document \`${document}\` lists it in \`urls\` with no hash in \`hashes\``,
    hint: "the package's author can list every file's sha256 in `hashes`; until then, install it without --require-hashes",
  };
}
