// Where a recorded distribution came from: PEP 610's `direct_url.json` (a URL, a local folder or a VCS
// checkout, as pip writes it) and mpip's own `mpip.json` (the index and kind of source, and the spec typed
// for a direct source). Both are hostile input: parsed field by field, and anything else is the reason it
// is refused, never an exception. Pure logic.

/** PEP 610 `direct_url.json`: where a distribution installed from a URL or a path came from. */
export interface DirectUrl {
  url: string;
  info:
    | { type: "archive"; hashes: Record<string, string> }
    | { type: "dir"; editable: boolean }
    | { type: "vcs"; vcs: string; commitId: string; requestedRevision?: string };
}

/** mpip's `mpip.json`: the index (if any) and the kind of source a distribution came from. All optional but `kind`. */
export interface MpipOrigin {
  index: string | null;
  /** `pypi`, `simple`, `mip`, `find-links`, `url`, `path`, `github`, `gitlab`, `codeberg`, ... */
  kind: string;
  /** `dist`, `package-json`, `module`, `project`. */
  artifact?: string;
  url?: string;
  sha256?: string | null;
  /** The user's spec, for a direct source: what `freeze` writes back. */
  spec?: string;
  /** How its files were built (compiled to .mpy or not, for which .mpy version), when mpip.json says. */
  build?: { compile: "no" | "mpy" | "mpy+sources"; mpy: string | null };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shortString(value: unknown, max = 8192): value is string {
  return typeof value === "string" && value !== "" && value.length <= max;
}

/** PEP 610's three shapes; anything else is the reason it is refused. */
export function parseDirectUrl(value: unknown): DirectUrl | string {
  if (!isObject(value)) return "it is not a JSON object";
  if (!shortString(value.url)) return "it has no `url`";
  const url = value.url;
  if (isObject(value.archive_info)) {
    const hashes: Record<string, string> = {};
    if (isObject(value.archive_info.hashes)) {
      for (const [algorithm, digest] of Object.entries(value.archive_info.hashes)) if (typeof digest === "string" && /^[0-9a-f]{32,128}$/i.test(digest)) hashes[algorithm] = digest.toLowerCase();
    }
    // The older single `hash` field: `sha256=<hex>`.
    const legacy = typeof value.archive_info.hash === "string" ? /^(\w+)=([0-9a-f]{32,128})$/i.exec(value.archive_info.hash) : null;
    if (legacy !== null && hashes[legacy[1]!] === undefined) hashes[legacy[1]!] = legacy[2]!.toLowerCase();
    return { url, info: { type: "archive", hashes } };
  }
  if (isObject(value.dir_info)) return { url, info: { type: "dir", editable: value.dir_info.editable === true } };
  if (isObject(value.vcs_info)) {
    const { vcs, commit_id: commitId, requested_revision: revision } = value.vcs_info;
    if (!shortString(vcs, 20) || !shortString(commitId, 200)) return "its `vcs_info` needs `vcs` and `commit_id`";
    return { url, info: { type: "vcs", vcs, commitId, ...(shortString(revision, 200) ? { requestedRevision: revision } : {}) } };
  }
  return "it has none of `archive_info`, `dir_info`, `vcs_info`";
}

/** mpip.json: `kind` is needed; the other fields are kept when they have the right type. */
export function parseOrigin(value: unknown): MpipOrigin | string {
  if (!isObject(value)) return "it is not a JSON object";
  if (!shortString(value.kind, 40)) return "it has no `kind`";
  const origin: MpipOrigin = { kind: value.kind, index: shortString(value.index) ? value.index : null };
  if (shortString(value.artifact, 40)) origin.artifact = value.artifact;
  if (shortString(value.url)) origin.url = value.url;
  if (typeof value.sha256 === "string" && /^[0-9a-f]{64}$/i.test(value.sha256)) origin.sha256 = value.sha256.toLowerCase();
  else if (value.sha256 === null) origin.sha256 = null;
  if (shortString(value.spec)) origin.spec = value.spec;
  if (isObject(value.build) && (value.build.compile === "no" || value.build.compile === "mpy" || value.build.compile === "mpy+sources")) {
    const mpy = value.build.mpy;
    if (mpy === null || mpy === undefined || shortString(mpy, 40)) origin.build = { compile: value.build.compile, mpy: mpy ?? null };
  }
  return origin;
}
