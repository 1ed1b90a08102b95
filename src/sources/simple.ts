// The simple repository API that private indexes speak (devpi, Artifactory, Nexus, pypiserver, GitLab):
// `GET {index}/{normalized-name}/`, asking for PEP 691 JSON and taking PEP 503 HTML when that is what
// comes back. Either form lists files by URL (relative ones resolve against the page's final URL) with
// a sha256 that the download is later checked against; the version comes from each file's name.

import * as v from "valibot";
import { MpipError } from "../errors.js";
import type { HttpClient } from "../http.js";
import { redactUrl } from "../http.js";
import { isValidName, normalizeName } from "../spec/names.js";
import type { Requirement } from "../spec/requirement.js";
import { printable } from "../text.js";
import { encodeSegment, joinUrlPath, parseUrl, trimPathSlashes } from "../url.js";
import { parseArchiveName } from "./find-links.js";
import { isFileUrl } from "../http/file-url.js";
import { badField, outsideLocalIndexHint, describeDocument, downloadUrl, jsonObject, MAX_METADATA_BYTES, parseDocument, plainFilename, projectName, resolveLink, tooLarge, type DocumentOrigin, isTooLarge } from "./metadata.js";
import { scanTags } from "./simple-html.js";
import { yankReason, type Artifact, type DistFile, type LookupOptions, type ProjectListing, type Source } from "./types.js";

/** PEP 691 content negotiation: JSON preferred, HTML (either media type) accepted. */
export const SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";

/** One file a project page lists, its URL absolute and without the hash fragment. */
export interface SimpleFile {
  filename: string;
  url: string;
  /** Lowercase hex. */
  sha256?: string;
  yanked: boolean;
  /** PEP 592: why, when the page says (`data-yanked="reason"`, or `"yanked": "reason"`). */
  yankedReason?: string;
}

export interface SimplePage {
  /** The project's name as the page gives it (only the JSON form does). */
  name?: string;
  files: SimpleFile[];
}

const SHA256 = /^[0-9a-fA-F]{64}$/;

const MetaSchema = jsonObject(v.object({ meta: jsonObject(v.object({ "api-version": v.string() })) }));

const FileSchema = jsonObject(v.object({
  filename: plainFilename,
  url: downloadUrl,
  // Other hash kinds (md5, blake2b) are ignored: mpip checks sha256 only.
  hashes: v.optional(jsonObject(v.object({ sha256: v.optional(v.pipe(v.string(), v.regex(SHA256, "must be 64 hex digits"))) })), {}),
  // PEP 691: a string (the reason, possibly empty) also means yanked.
  yanked: v.optional(v.nullable(v.union([v.boolean(), v.string()])), false),
}));

const PageSchema = jsonObject(v.object({ name: projectName, files: v.array(FileSchema) }));

/** A PEP 691 project page. `origin.url` is the page's final URL, which relative file URLs resolve against. */
export function parseSimpleJson(body: Buffer, origin: DocumentOrigin): SimplePage {
  // The version is checked before the rest, so that a future format fails with a clear error, not an odd field.
  checkApiVersion(parseDocument(MetaSchema, body, origin).meta["api-version"], origin, "meta.api-version");
  const page = parseDocument(PageSchema, body, origin);
  const files = page.files.map((file, index): SimpleFile => {
    const link = fileLink(file.url, origin.url, origin, `files[${index}].url`);
    const sha256 = file.hashes.sha256?.toLowerCase() ?? link.sha256;
    const reason = yankReason(file.yanked);
    return { filename: file.filename, url: link.url, ...(sha256 === undefined ? {} : { sha256 }), yanked: file.yanked === true || typeof file.yanked === "string", ...(reason === undefined ? {} : { yankedReason: reason }) };
  });
  return { name: page.name, files };
}

/**
 * A PEP 503 project page: every `<a href>` whose file name is usable. The name is the anchor's text
 * when that is an archive's file name, else the URL's last path segment; an anchor with neither is not
 * a file and is skipped. Fields in errors are named `a[i].href`, `i` counting the page's anchors from 0.
 */
export function parseSimpleHtml(html: Buffer | string, origin: DocumentOrigin): SimplePage {
  const tags = scanTags(typeof html === "string" ? html : html.toString("utf8"), new Set(["a", "base", "meta"]));
  const version = tags.find((tag) => tag.name === "meta" && tag.attributes.get("name")?.toLowerCase() === "pypi:repository-version");
  if (version !== undefined) checkApiVersion(version.attributes.get("content") ?? "", origin, "<meta name=\"pypi:repository-version\">");
  const baseHref = tags.find((tag) => tag.name === "base" && tag.attributes.has("href"))?.attributes.get("href");
  const base = (baseHref === undefined ? undefined : resolveLink(baseHref, origin.url, origin.root)) ?? origin.url;
  const files: SimpleFile[] = [];
  tags.filter((tag) => tag.name === "a").forEach((anchor, index) => {
    const href = anchor.attributes.get("href");
    if (href === undefined) return;
    const link = fileLink(href, base, origin, `a[${index}].href`);
    const filename = anchorFilename(anchor.text, link.url);
    if (filename === undefined) return;
    const yanked = anchor.attributes.has("data-yanked"); // any value, even none, means yanked
    const reason = yankReason(anchor.attributes.get("data-yanked"));
    files.push({ filename, url: link.url, ...(link.sha256 === undefined ? {} : { sha256: link.sha256 }), yanked, ...(reason === undefined ? {} : { yankedReason: reason }) });
  });
  return { files };
}

/** Either form, by the response's media type; without a usable one, by the first character. */
export function parseSimplePage(body: Buffer, contentType: string, origin: DocumentOrigin): SimplePage {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  const json = type.endsWith("+json") || type === "application/json" || (!type.includes("html") && /^\ufeff?\s*\{/.test(body.subarray(0, 64).toString("utf8")));
  return json ? parseSimpleJson(body, origin) : parseSimpleHtml(body, origin);
}

export interface SimpleOptions {
  /** Bytes one project page may have (`--max-metadata-bytes`). */
  maxMetadataBytes?: number;
}

export class SimpleSource implements Source {
  readonly label: string;
  private readonly base: string;
  private readonly maxBytes: number;

  constructor(indexUrl: string, private readonly http: HttpClient, options: SimpleOptions = {}) {
    this.base = trimPathSlashes(indexUrl);
    this.label = redactUrl(this.base);
    this.maxBytes = options.maxMetadataBytes ?? MAX_METADATA_BYTES;
  }

  async lookup(requirement: Requirement, options: LookupOptions = {}): Promise<ProjectListing | undefined> {
    // PEP 503 names are PEP 508's: one that only a micropython-lib index can have (`__future__`) is not asked.
    if (!isValidName(requirement.name)) return undefined;
    const url = joinUrlPath(this.base, `${encodeSegment(normalizeName(requirement.name))}/`);
    const response = await this.http.get(url, { accept: SIMPLE_ACCEPT, maxBytes: this.maxBytes, ...(options.signal === undefined ? {} : { signal: options.signal }) }).catch((error: unknown) => {
      throw isTooLarge(error, this.maxBytes) ? tooLarge({ url, index: this.label }, this.maxBytes) : error;
    });
    if (response.status === "not-found") return undefined;
    // A local index's pages may link to files inside its folder (metadata.ts resolveLink).
    const page = parseSimplePage(response.body, response.contentType, { url: response.url, index: this.label, ...(isFileUrl(this.base) ? { root: this.base } : {}) });
    return listing(page, requirement, this.label);
  }
}

/** Releases of the requested project; files of other projects, and names without a version, are left out. */
function listing(page: SimplePage, requirement: Requirement, source: string): ProjectListing {
  const wanted = normalizeName(requirement.name);
  const releases = new Map<string, Artifact[]>();
  let firstName: string | undefined;
  for (const file of page.files) {
    const parsed = parseArchiveName(file.filename);
    if (parsed === undefined || normalizeName(parsed.name) !== wanted) continue;
    firstName ??= parsed.name;
    const dist: DistFile = {
      filename: file.filename,
      location: { type: "remote", url: file.url },
      packagetype: parsed.packagetype,
      ...(file.sha256 === undefined ? {} : { sha256: file.sha256 }),
      yanked: file.yanked,
      ...(file.yankedReason === undefined ? {} : { yankedReason: file.yankedReason }),
    };
    releases.set(parsed.version, [...(releases.get(parsed.version) ?? []), { type: "dist", file: dist }]);
  }
  return { name: page.name ?? firstName ?? requirement.name, source, releases };
}

/**
 * An absolute http(s) URL (or, on a local index's page, a `file:` URL inside its folder: resolveLink)
 * without its fragment, and the sha256 the fragment gives (`#sha256=...`).
 */
function fileLink(href: string, base: string, origin: DocumentOrigin, field: string): { url: string; sha256?: string } {
  const resolved = href.length > 8192 ? undefined : resolveLink(href, base, origin.root);
  const url = resolved === undefined ? undefined : parseUrl(resolved);
  if (url === undefined) {
    const inside = origin.root === undefined ? "" : `, or name a file inside the local index \`${printable(origin.index)}\``;
    throw badField(origin, field, `must be an http or https URL of at most 8192 characters${inside}, not \`${printable(href, 80)}\``, outsideLocalIndexHint(origin, href, base));
  }
  const fragment = url.hash.slice(1);
  url.hash = "";
  let sha256: string | undefined;
  for (const part of fragment.split("&")) {
    const [kind = "", value = ""] = part.split("=", 2);
    if (kind.toLowerCase() !== "sha256") continue; // md5 and others are not checked
    if (!SHA256.test(value)) throw badField(origin, field, `has a malformed sha256 (must be 64 hex digits): \`${printable(value, 80)}\``);
    sha256 = value.toLowerCase();
  }
  return { url: url.toString(), ...(sha256 === undefined ? {} : { sha256 }) };
}

function anchorFilename(text: string, url: string): string | undefined {
  if (v.is(plainFilename, text) && parseArchiveName(text) !== undefined) return text;
  const segment = parseUrl(url)?.pathname.split("/").at(-1) ?? "";
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return undefined; // a malformed percent-escape names no file
  }
  return v.is(plainFilename, decoded) ? decoded : undefined;
}

/** PEP 629: a client must refuse a major version it does not know; a newer minor version is fine. */
function checkApiVersion(version: string, origin: DocumentOrigin, field: string): void {
  const match = /^\s*(\d+)\.(\d+)\s*$/.exec(version);
  if (match === null) throw badField(origin, field, `must be a version such as \`1.0\`, not \`${printable(version, 40)}\``);
  if (Number(match[1]) === 1) return;
  throw new MpipError("bad-metadata", `${describeDocument(origin)} uses version ${printable(version.trim(), 40)} of the simple repository API; mpip reads version 1`, {
    hint: "the index speaks a newer protocol than this mpip knows; upgrade mpip, or use the index's PyPI JSON API if it has one",
  });
}

