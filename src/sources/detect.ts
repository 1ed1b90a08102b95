// An index given without a kind and with a URL that tells none is asked once per run (the answer is
// cached per URL): `{url}/index.json` with `"v": 2` (or 1, its format before 2024) is a micropython-lib
// index; a root page served as PEP 691 JSON or as HTML is a simple index; anything else is taken for
// PyPI's JSON API, which has no root document to recognize. A prefix (`mip+`, `simple+`, `pypi+`)
// skips the question.

import { MpipError } from "../errors.js";
import type { HttpClient } from "../http.js";
import { redactUrl } from "../http.js";
import type { Requirement } from "../spec/requirement.js";
import { isTooLarge } from "./metadata.js";
import { INDEX_KINDS, kindFromUrl, type IndexKind, type IndexLocation } from "./index-kind.js";
import { MIP_INDEX_FORMATS, MipV2Source } from "./mip-v2.js";
import { PypiJsonSource } from "./pypi-json.js";
import { SIMPLE_ACCEPT, SimpleSource } from "./simple.js";
import type { ProjectListing, Source } from "./types.js";

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
  }

  lookup(requirement: Requirement): Promise<ProjectListing | undefined> {
    this.source ??= this.settle();
    return this.source.then((source) => source.lookup(requirement));
  }

  /** The index's kind, settling it (by asking the index) if no look-up has yet. */
  async settledKind(): Promise<IndexKind> {
    this.source ??= this.settle();
    await this.source;
    return this.kind!;
  }

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
    const { url } = this.location;
    const given = this.location.kind ?? kindFromUrl(url);
    const detected = given === undefined ? await detectKind(url, this.http, this.options.maxMetadataBytes) : { kind: given };
    const { kind } = detected;
    this.kind = kind;
    this.detected = given === undefined;
    this.options.log(`\`${this.label}\` is a ${INDEX_KINDS[kind]} (${this.location.kind !== undefined ? "as its prefix says" : given !== undefined ? "from its URL" : "detected"})`);
    const limits = { maxMetadataBytes: this.options.maxMetadataBytes };
    switch (kind) {
      case "mip":
        return new MipV2Source(url, this.http, { flavor: this.options.flavor, ...limits, ...(detected.indexJson === undefined ? {} : { indexJson: detected.indexJson }) });
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

export async function detectKind(url: string, http: HttpClient, maxMetadataBytes: number): Promise<Detected> {
  // index.json is read whole, as the v2 source would read it (a document over the limit is an error there too).
  const index = await probe(`${url}/index.json`, "application/json", http, maxMetadataBytes);
  // Too large to read: most likely a big v2 index; its source reads it again and says it is over the limit.
  if (index === "too-large") return { kind: "mip" };
  if (index?.status === "ok" && isMipIndex(index.body)) return { kind: "mip", indexJson: { url: index.url, body: index.body } };
  const root = await probe(`${url}/`, SIMPLE_ACCEPT, http, ROOT_PROBE_BYTES);
  // A root page too large to read is a list of every project: PyPI's own simple index is tens of MiB.
  if (root === "too-large") return { kind: "simple" };
  if (root?.status === "ok" && looksLikeSimpleRoot(root.contentType, root.body)) return { kind: "simple" };
  return { kind: "pypi" };
}

/**
 * PEP 691 JSON, or an HTML page that is a project list: PEP 629's version meta, or links. A landing page
 * or a login form in front of a JSON API has neither, and is not taken for a simple index.
 */
function looksLikeSimpleRoot(contentType: string, body: Buffer): boolean {
  if (/application\/vnd\.pypi\.simple\.v\d+\+json/i.test(contentType)) return true;
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

/** An index.json of a format mip-v2.ts reads (1 or 2; see MIP_INDEX_FORMATS), with its `packages` list. */
function isMipIndex(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { v?: unknown; packages?: unknown };
    return MIP_INDEX_FORMATS.includes(parsed.v) && Array.isArray(parsed.packages);
  } catch {
    return false;
  }
}
