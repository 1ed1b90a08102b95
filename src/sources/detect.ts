// An index given without a kind and with a URL that tells none is asked once per run (the answer is
// cached per URL): `{url}/index.json` with `"v": 2` (or 1, its format before 2024) is a micropython-lib
// index; a root page served as PEP 691 JSON or as HTML is a simple index; anything else is taken for
// PyPI's JSON API, which has no root document to recognize. A prefix (`mip+`, `simple+`, `pypi+`)
// skips the question.
// A local folder is asked the same two questions (through the same client: http/file-url.ts), and then,
// since a folder can be listed where a server cannot, is looked into: `package/` is a v2 index without
// index.json (mip never reads it), `NAME/json` the JSON API's layout, `NAME/index.html` (or a PEP 691
// page) a simple index. The sdists lying at its top (`NAME-VERSION.tar.gz`) are found in it too, as `-f`
// finds them: a folder that `mpip download` filled holds a v2 index and sdists, and is one index. A folder
// with none of these is an error that says what was looked for.

import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import type { HttpClient } from "../http.js";
import { redactUrl } from "../http.js";
import { INDEX_PAGES } from "../http/file-url.js";
import type { SourceKind } from "../record/format.js";
import type { Requirement } from "../spec/requirement.js";
import { printable } from "../text.js";
import { joinUrlPath } from "../url.js";
import { FindLinksSource, parseArchiveName } from "./find-links.js";
import { isTooLarge } from "./metadata.js";
import { INDEX_KINDS, kindFromUrl, type IndexKind, type IndexLocation } from "./index-kind.js";
import { MIP_INDEX_FORMATS, MipV2Source } from "./mip-v2.js";
import { PypiJsonSource } from "./pypi-json.js";
import { SIMPLE_ACCEPT, SimpleSource } from "./simple.js";
import type { LookupOptions, ProjectListing, Source } from "./types.js";

const ROOT_PROBE_BYTES = 1024 * 1024;

export interface IndexSourceOptions {
  /** Which folder of a v2 index to read: "py", or an .mpy major such as "6". */
  flavor: string;
  maxMetadataBytes: number;
  /** Says how a kind was found (for -v). */
  log(message: string): void;
}

/** An index of any kind; its kind is settled on the first look-up and remembered for the run. */
export class IndexSource implements Source {
  readonly label: string;
  private source: Promise<Source> | undefined;

  constructor(private readonly location: IndexLocation, private readonly http: HttpClient, private readonly options: IndexSourceOptions) {
    this.label = redactUrl(location.url);
    // Only files inside a local index's own folder are ever read through its `file:` URLs.
    if (location.folder !== undefined) http.allowFolder(location.url);
  }

  lookup(requirement: Requirement, options?: LookupOptions): Promise<ProjectListing | undefined> {
    // Settling the kind is shared by every look-up: it never takes one look-up's signal.
    this.source ??= this.settle();
    // What it found is in `found` or `missing` before the look-up settles.
    return this.source.then((source) => source.lookup(requirement, options)).then((listing) => {
      (listing === undefined ? this.missing : this.found).add(requirement.name);
      return listing;
    });
  }

  /** The names whose look-ups found their project here this run: the index answered as an index does. */
  private readonly found = new Set<string>();
  /** The names looked up here and not found. */
  private readonly missing = new Set<string>();

  /**
   * Why this index's URL looks wrong, when no look-up found anything here: a simple index whose root
   * page (the project list PEP 503 requires) answers 404; a v2 index with neither `index.json` nor a
   * root page; a JSON API index (which has no root document) whose root page answers 404 too, when its
   * kind was guessed by asking (nothing it was asked answered) or two names or more were all missing.
   * A folder, an index that found anything, and an index that was not asked are never doubted.
   * Undefined when nothing says the URL is wrong; never throws (a probe that fails tells nothing).
   * Only the look-ups of the names `counted` takes count: the resolution counts those its levels made,
   * once all have settled (resolve.ts notFound), and not those made ahead for a dependency, which start
   * whenever the package that needs it has been read. So the answer does not depend on which answer came
   * back first (one found: no doubt; two missing: doubt); the names it lists are sorted, not in the order
   * their answers came.
   */
  async doubtWhenMissing(counted: (name: string) => boolean): Promise<string | undefined> {
    const missing = [...this.missing].filter(counted);
    if (this.location.folder !== undefined || [...this.found].some(counted) || missing.length === 0 || this.kind === undefined) return undefined;
    const url = this.location.url;
    const missed = (where: string, accept: string) => this.http.get(where, { accept, maxBytes: ROOT_PROBE_BYTES }).then((answer) => answer.status === "not-found", () => false);
    // Sorted: the order the look-ups came back in is the network's, and must not show.
    const names = missing.sort().slice(0, 3).map((name) => `\`${printable(name)}\``).join(", ");
    const asked = `${missing.length === 1 ? "the package" : "every package"} asked for (${names}${missing.length > 3 ? ", ..." : ""}) was missing`;
    switch (this.kind) {
      case "simple":
        return (await missed(joinUrlPath(url, ""), SIMPLE_ACCEPT)) ? `its root page \`${joinUrlPath(this.label, "")}\`, where a simple index lists its projects, answered 404, and ${asked}` : undefined;
      case "mip":
        return (await missed(joinUrlPath(url, "index.json"), "application/json")) && (await missed(joinUrlPath(url, ""), "text/html, */*")) ? `it has no \`index.json\` and no root page (both answered 404), and ${asked}` : undefined;
      case "pypi":
        if (!this.detected && missing.length < 2) return undefined;
        return (await missed(joinUrlPath(url, ""), "application/json, text/html;q=0.5")) ? `${this.detected ? "it has no `index.json` (v2 index) and no root page (simple index), " : "its root page answered 404, "}and ${asked}` : undefined;
    }
  }

  /**
   * The index's kind, settling it (by asking the index) if no look-up has yet; undefined for a local
   * folder that holds only sdists.
   */
  async settledKind(): Promise<IndexKind | undefined> {
    this.source ??= this.settle();
    await this.source;
    return this.kind;
  }

  /**
   * What each label this index answers under is, for install records: its own label and kind once
   * settled, and for a local folder with sdists at its top, the folder's path as a `find-links` folder.
   */
  kinds(): Array<[string, SourceKind]> {
    const kinds: Array<[string, SourceKind]> = [];
    if (this.kind !== undefined) kinds.push([this.label, this.kind]);
    if (this.sdists !== undefined) kinds.push([this.sdists.label, "find-links"]);
    return kinds;
  }

  /** A local folder's sdists at its top, once settled (see FolderIndex). */
  private sdists: FindLinksSource | undefined;

  get url(): string {
    return this.location.url;
  }

  /** The kind, once settled (for reports); undefined before the first look-up. */
  kind: IndexKind | undefined;
  private detected = false;

  /**
   * When a name is not found: what the index's own source says (such as a name it has spelled another
   * way), and that a detected kind may be the wrong one, with the prefix that overrides it.
   */
  async hintWhenMissing(requirement: Requirement): Promise<string | undefined> {
    const source = await this.source?.catch(() => undefined);
    const notes = [await source?.hintWhenMissing?.(requirement)];
    if (this.detected && this.kind !== undefined) {
      const others = (Object.keys(INDEX_KINDS) as IndexKind[]).filter((kind) => kind !== this.kind).map((kind) => `\`${kind}+${this.label}\``).join(" or ");
      notes.push(`\`${this.label}\` was taken for a ${INDEX_KINDS[this.kind]} by asking it; if it is another kind, say so: ${others}`);
    }
    const said = notes.filter((note) => note !== undefined);
    return said.length === 0 ? undefined : said.join("; ");
  }

  private async settle(): Promise<Source> {
    const { folder, kind, url } = this.location;
    if (folder === undefined) {
      const given = kind ?? kindFromUrl(url);
      return this.indexOf(given === undefined ? await detectKind(url, this.http, this.options.maxMetadataBytes) : { kind: given }, given === undefined);
    }
    // A folder's kind is what it holds, not what it is called; the sdists at its top are found too.
    this.sdists = (await holdsSdists(folder)) ? new FindLinksSource(folder) : undefined;
    const detected = kind !== undefined ? { kind } : await detectFolderKind(url, this.http, this.options.maxMetadataBytes, folder);
    if (detected === undefined) {
      if (this.sdists === undefined) throw noIndexIn(folder);
      this.options.log(`\`${this.label}\` holds only sdists: read as a folder of sdists, as \`-f\` reads one`);
      return this.sdists;
    }
    const index = this.indexOf(detected, kind === undefined);
    if (this.sdists === undefined) return index;
    this.options.log(`\`${this.label}\` also holds sdists at its top: found there after its index, as \`-f\` finds them`);
    return new FolderIndex(index, this.sdists);
  }

  /** The source of the index's kind, given (by a prefix or the URL) or `detected`. */
  private indexOf(found: Detected, detected: boolean): Source {
    const { url } = this.location;
    const { kind } = found;
    this.kind = kind;
    this.detected = detected;
    this.options.log(`\`${this.label}\` is a ${INDEX_KINDS[kind]} (${this.location.kind !== undefined ? "as its prefix says" : detected ? "detected" : "from its URL"})`);
    const limits = { maxMetadataBytes: this.options.maxMetadataBytes };
    switch (kind) {
      case "mip":
        return new MipV2Source(url, this.http, { flavor: this.options.flavor, ...limits, ...(found.indexJson === undefined ? {} : { indexJson: found.indexJson }) });
      case "simple":
        return new SimpleSource(url, this.http, limits);
      case "pypi":
        return new PypiJsonSource(url, this.http, limits);
    }
  }
}

export interface Detected {
  kind: IndexKind;
  /** The v2 index's index.json, read while detecting: its source uses it rather than fetching it again. */
  indexJson?: { url: string; body: Buffer };
}

/** The kind of the index at `url`, by asking it (see the module comment). @throws what the probes throw. */
export async function detectKind(url: string, http: HttpClient, maxMetadataBytes: number): Promise<Detected> {
  return (await probeKind(url, http, maxMetadataBytes)) ?? { kind: "pypi" };
}

/**
 * The kind of the local index at `url` (the `file:` URL of `folder`): its documents, asked as a server's
 * are, then what the folder holds (layoutKind); undefined when nothing tells. @throws what the probes throw.
 */
export async function detectFolderKind(url: string, http: HttpClient, maxMetadataBytes: number, folder: string): Promise<Detected | undefined> {
  const asked = await probeKind(url, http, maxMetadataBytes);
  if (asked !== undefined) return asked;
  const kind = await layoutKind(folder);
  return kind === undefined ? undefined : { kind };
}

/** What the index's own documents tell: `index.json` of a v2 index, or a simple index's root page. */
async function probeKind(url: string, http: HttpClient, maxMetadataBytes: number): Promise<Detected | undefined> {
  // index.json is read whole, as the v2 source would read it (a document over the limit is an error there too).
  const index = await probe(joinUrlPath(url, "index.json"), "application/json", http, maxMetadataBytes);
  // Too large to read: most likely a big v2 index; its source reads it again and says it is over the limit.
  if (index === "too-large") return { kind: "mip" };
  if (index?.status === "ok" && isMipIndex(index.body)) return { kind: "mip", indexJson: { url: index.url, body: index.body } };
  const root = await probe(joinUrlPath(url, ""), SIMPLE_ACCEPT, http, ROOT_PROBE_BYTES);
  // A root page too large to read is a list of every project: PyPI's own simple index is tens of MiB.
  if (root === "too-large") return { kind: "simple" };
  if (root?.status === "ok" && looksLikeSimpleRoot(root.contentType, root.body)) return { kind: "simple" };
  return undefined;
}

/** A local index: its index (v2, JSON API or simple), then the sdists lying at its top. */
class FolderIndex implements Source {
  readonly label: string;

  constructor(private readonly index: Source, private readonly sdists: FindLinksSource) {
    this.label = index.label;
  }

  async lookup(requirement: Requirement, options?: LookupOptions): Promise<ProjectListing | undefined> {
    return (await this.index.lookup(requirement, options)) ?? this.sdists.lookup(requirement);
  }

  hintWhenMissing(requirement: Requirement): Promise<string | undefined> {
    return this.index.hintWhenMissing?.(requirement) ?? Promise.resolve(undefined);
  }
}

/** Folders below a local index looked into for a project's page before its kind is settled. */
const MAX_PROJECT_FOLDERS = 64;

/**
 * What a folder's layout says it is: `package/{py|N}/` a v2 index, `NAME/json` the JSON API, a
 * `NAME/` index page a simple index (projects looked at in name order; the first that tells decides).
 * Undefined when nothing tells. Throws nothing: what cannot be read tells nothing.
 */
async function layoutKind(folder: string): Promise<IndexKind | undefined> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const folders = entries.filter((entry) => entry.isDirectory() || entry.isSymbolicLink()).map((entry) => entry.name).sort();
  if (folders.includes("package")) {
    const flavors = await readdir(path.join(folder, "package")).catch(() => []);
    if (flavors.some((flavor) => /^(py|[0-9]{1,3})$/.test(flavor))) return "mip";
  }
  for (const name of folders.filter((entry) => entry !== "package" && entry !== "file").slice(0, MAX_PROJECT_FOLDERS)) {
    if (await isFile(path.join(folder, name, "json"))) return "pypi";
    for (const page of INDEX_PAGES) if (await isFile(path.join(folder, name, page))) return "simple";
  }
  return undefined;
}

/** Whether `NAME-VERSION.tar.gz` sdists lie at the folder's top. Throws nothing. */
async function holdsSdists(folder: string): Promise<boolean> {
  const names = await readdir(folder).catch(() => []);
  return names.some((name) => /\.tar\.gz$/i.test(name) && parseArchiveName(name) !== undefined);
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((info) => info.isFile(), () => false);
}

function noIndexIn(folder: string): MpipError {
  return new MpipError("usage", `\`${printable(folder, 300)}\` (given with -i) is not an index of any kind: it holds no \`index.json\` or \`package/\` (micropython-lib v2 index), no \`index.html\` or \`NAME/index.html\` (simple API), no \`NAME/json\` (PyPI JSON API), and no \`NAME-VERSION.tar.gz\` sdists`, {
    hint: "give the folder that holds the index's files; `mpip download -d DIR` makes such a folder",
  });
}

/**
 * PEP 691 JSON (by its media type, or an `application/json` body with `meta.api-version` and
 * `projects`), or an HTML page that is a project list: PEP 629's version meta, or links. A landing page
 * or a login form in front of a JSON API has neither, and is not taken for a simple index.
 */
function looksLikeSimpleRoot(contentType: string, body: Buffer): boolean {
  if (/application\/vnd\.pypi\.simple\.v\d+\+json/i.test(contentType)) return true;
  if (/application\/json/i.test(contentType)) return isSimpleRootJson(body);
  if (!/text\/html|application\/vnd\.pypi\.simple\.v\d+\+html/i.test(contentType)) return false;
  const html = body.toString("utf8");
  return /<meta\s[^>]*pypi:repository-version/i.test(html) || /<a\s[^>]*href\s*=\s*["']?[^"'>\s]+\/["'\s>]/i.test(html);
}

/**
 * A probe refused outright (401, 403, 405, 406: a root page nobody may list) tells nothing, and the next
 * one is tried; a failing server (5xx, 429, once retries are spent) is an error, not an answer.
 */
async function probe(url: string, accept: string, http: HttpClient, maxBytes: number) {
  try {
    return await http.get(url, { accept, maxBytes });
  } catch (error) {
    if (error instanceof MpipError && error.code === "http-status" && [401, 403, 405, 406].includes(httpStatus(error))) return undefined;
    if (isTooLarge(error, maxBytes)) return "too-large" as const;
    throw error;
  }
}

/** The status of the HTTP client's status error (it says `answered HTTP 503`). */
function httpStatus(error: MpipError): number {
  return Number(/answered HTTP (\d{3})/.exec(error.message)?.[1] ?? 0);
}

/** A PEP 691 root page served as plain JSON (as a file on disk is). */
function isSimpleRootJson(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { meta?: { "api-version"?: unknown }; projects?: unknown };
    return typeof parsed.meta?.["api-version"] === "string" && Array.isArray(parsed.projects);
  } catch {
    return false;
  }
}

/** An index.json of a format mip-v2.ts reads (1 or 2; see MIP_INDEX_FORMATS), with its `packages` list. */
function isMipIndex(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { v?: unknown; packages?: unknown };
    return MIP_INDEX_FORMATS.includes(parsed.v) && Array.isArray(parsed.packages);
  } catch {
    return false;
  }
}
