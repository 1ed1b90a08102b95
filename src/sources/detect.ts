// An index given without a kind and with a URL that tells none is asked once per run (the answer is
// cached per URL): `{url}/index.json` with `"v": 2` is a micropython-lib v2 index; a root page served
// as PEP 691 JSON or as HTML is a simple index; anything else is taken for PyPI's JSON API, which has
// no root document to recognize. A prefix (`mip+`, `simple+`, `pypi+`) skips the question.

import { MpipError } from "../errors.js";
import type { HttpClient } from "../http.js";
import { redactUrl } from "../http.js";
import type { Requirement } from "../spec/requirement.js";
import { INDEX_KINDS, kindFromUrl, type IndexKind, type IndexLocation } from "./index-kind.js";
import { MipV2Source } from "./mip-v2.js";
import { PypiJsonSource } from "./pypi-json.js";
import { SimpleSource } from "./simple.js";
import type { ProjectListing, Source } from "./types.js";

const PROBE_BYTES = 4 * 1024 * 1024;

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

  /** The kind, once settled (for reports); undefined before the first look-up. */
  kind: IndexKind | undefined;

  private async settle(): Promise<Source> {
    const { url } = this.location;
    const given = this.location.kind ?? kindFromUrl(url);
    const kind = given ?? (await detectKind(url, this.http));
    this.kind = kind;
    this.options.log(`\`${this.label}\` is a ${INDEX_KINDS[kind]} (${this.location.kind !== undefined ? "as its prefix says" : given !== undefined ? "from its URL" : "detected"})`);
    const limits = { maxMetadataBytes: this.options.maxMetadataBytes };
    switch (kind) {
      case "mip":
        return new MipV2Source(url, this.http, { flavor: this.options.flavor, ...limits });
      case "simple":
        return new SimpleSource(url, this.http, limits);
      case "pypi":
        return new PypiJsonSource(url, this.http, limits);
    }
  }
}

export async function detectKind(url: string, http: HttpClient): Promise<IndexKind> {
  const index = await probe(`${url}/index.json`, "application/json", http);
  if (index?.status === "ok" && isV2Index(index.body)) return "mip";
  const root = await probe(`${url}/`, "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1", http);
  if (root?.status === "ok" && /application\/vnd\.pypi\.simple\.|text\/html/i.test(root.contentType)) return "simple";
  return "pypi";
}

/** A probe that fails with an HTTP status (403 on a root page, say) tells nothing: the next one is tried. */
async function probe(url: string, accept: string, http: HttpClient) {
  try {
    return await http.get(url, { accept, maxBytes: PROBE_BYTES });
  } catch (error) {
    if (error instanceof MpipError && (error.code === "http-status" || error.code === "limit-exceeded")) return undefined;
    throw error;
  }
}

function isV2Index(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { v?: unknown; packages?: unknown };
    return parsed.v === 2 && Array.isArray(parsed.packages);
  } catch {
    return false;
  }
}
