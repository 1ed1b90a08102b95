// micropython-lib's v2 index (what `mip` reads: micropython-lib's tools/build.py writes it): `index.json` lists every package
// with its versions per flavor ("py" for sources, an .mpy major such as "6"); each release is a package
// document at `package/{flavor}/{name}/{version}.json` whose files live at `file/{h[:2]}/{h}`. This
// source only says which documents exist; package-json.ts reads them and the installer fetches the files.
// mip itself never reads index.json and small self-hosted indexes often lack it: without one, the
// package's `latest.json` (or the pinned `{version}.json`) is the only release known. index.json of
// format 1 (micropython-lib's until 2024) is read as format 2: it lacks only `path`, which mpip ignores.

import * as v from "valibot";
import { MpipError } from "../errors.js";
import type { HttpClient } from "../http.js";
import { redactUrl } from "../http.js";
import { isMipName, normalizeName } from "../spec/names.js";
import type { Requirement } from "../spec/requirement.js";
import { closeNames, closeNamesNote, editDistanceWithin, printable } from "../text.js";
import { encodeSegment, joinUrlPath, parseUrl, trimPathSlashes } from "../url.js";
import { isPep440Version } from "../versions.js";
import { badField, describeDocument, jsonObject, MAX_METADATA_BYTES, parseDocument, tooLarge, type DocumentOrigin, isTooLarge } from "./metadata.js";
import type { Artifact, LookupOptions, ProjectListing, Source } from "./types.js";

/**
 * How an unversioned package document (build.py writes `"version": ""` for a manifest without one) is
 * listed: as version 0, so it installs unpinned as mip would install it, `==0` pins it, and any real
 * version outranks it.
 */
export const UNVERSIONED = "0";

/** What micropython-lib's packages were called on PyPI before its v2 index dropped it (`micropython-foo` → `foo`). */
const MIP_PREFIX = "micropython-";

const IndexSchema = jsonObject(v.object({
  // Checked after parsing, for a message that says which format this is (see checkFormat).
  v: v.optional(v.unknown()),
  packages: v.array(jsonObject(v.object({
    name: v.pipe(v.string(), v.maxLength(256, "must be at most 256 characters")),
    version: v.optional(v.string()),
    versions: v.optional(jsonObject(v.record(v.string(), v.array(v.string()))), {}),
  }))),
}));

// Only `version` matters here; the rest of the document is package-json.ts's to check.
const DocumentVersionSchema = jsonObject(v.object({ version: v.optional(v.nullable(v.string())) }));

type IndexPackage = v.InferOutput<typeof IndexSchema>["packages"][number];
type Index = { status: "listed"; origin: DocumentOrigin; packages: IndexPackage[] } | { status: "absent" };

export interface MipV2Options {
  /** "py" for sources, or an .mpy major version such as "6". */
  flavor: string;
  /** Bytes one metadata document may have (`--max-metadata-bytes`). */
  maxMetadataBytes?: number;
  /** `index.json` as already fetched (detecting the index's kind reads it): not fetched twice in a run. */
  indexJson?: { url: string; body: Buffer };
}

export class MipV2Source implements Source {
  readonly label: string;
  private readonly base: string;
  private readonly flavor: string;
  private readonly maxBytes: number;
  private index: Promise<Index> | undefined;
  private readonly prefetched: { url: string; body: Buffer } | undefined;

  constructor(baseUrl: string, private readonly http: HttpClient, options: MipV2Options) {
    this.prefetched = options.indexJson;
    if (!/^(py|[0-9]{1,3})$/.test(options.flavor)) {
      throw new MpipError("usage", `\`${printable(options.flavor, 40)}\` is not a micropython-lib index flavor`, { hint: "use `py` for sources or an .mpy major version such as `6`" });
    }
    this.base = trimPathSlashes(baseUrl);
    this.label = redactUrl(this.base);
    this.flavor = options.flavor;
    this.maxBytes = options.maxMetadataBytes ?? MAX_METADATA_BYTES;
  }

  async lookup(requirement: Requirement, options: LookupOptions = {}): Promise<ProjectListing | undefined> {
    this.index ??= this.fetchIndex();
    const index = await this.index;
    if (index.status === "absent") return this.lookupWithoutIndex(requirement, options.signal);
    const wanted = normalizeName(requirement.name);
    const position = index.packages.findIndex((entry) => normalizeName(entry.name) === wanted);
    const entry = index.packages[position];
    if (entry === undefined) return undefined;
    const versions = entry.versions[this.flavor] ?? [];
    if (versions.length === 0) {
      const flavors = Object.keys(entry.versions).filter((flavor) => (entry.versions[flavor] ?? []).length > 0);
      // build.py lists no versions for a manifest without one; its latest.json still installs, as with mip.
      if (flavors.length === 0) return this.lookupWithoutIndex({ ...requirement, name: entry.name }, options.signal);
      throw this.wrongFlavor(entry.name, flavors);
    }
    if (!versions.some((version) => isPep440Version(version))) {
      const shown = versions.slice(0, 3).map((version) => `\`${printable(version, 40)}\``).join(", ");
      throw badField(index.origin, `packages[${position}].versions[${JSON.stringify(this.flavor)}]`, `lists no valid version (PEP 440), only ${shown}`);
    }
    // Like pip, versions that are not PEP 440 are skipped, as long as some are.
    const releases = new Map<string, Artifact[]>();
    for (const version of versions) {
      if (isPep440Version(version)) releases.set(version, [this.artifact(entry.name, version)]);
    }
    return { name: entry.name, source: this.label, releases };
  }

  /**
   * micropython-lib's packages were `micropython-foo` on PyPI and are `foo` on its v2 index: when a name is
   * missing but the index has it spelled the other way (with or without the prefix), say so. Without
   * index.json, that spelling's latest.json is asked for. Never throws: a hint that cannot be had is none.
   */
  async hintWhenMissing(requirement: Requirement): Promise<string | undefined> {
    const wanted = normalizeName(requirement.name);
    const other = wanted.startsWith(MIP_PREFIX) ? wanted.slice(MIP_PREFIX.length) : `${MIP_PREFIX}${wanted}`;
    if (other === "") return undefined;
    try {
      this.index ??= this.fetchIndex();
      const index = await this.index;
      const found = index.status === "listed"
        ? index.packages.find((entry) => normalizeName(entry.name) === other)?.name
        : (await this.fetchVersion(other, "latest")) === undefined ? undefined : other;
      if (found === undefined) return index.status === "listed" ? this.nearNames(wanted, other, index.packages) : undefined;
      const shown = `\`${printable(found)}\``;
      return wanted.startsWith(MIP_PREFIX)
        ? `\`${this.label}\` has ${shown}: micropython-lib's v2 index names its packages without the \`micropython-\` prefix they had on PyPI; ask for ${shown}`
        : `\`${this.label}\` has ${shown}, with the \`micropython-\` prefix; ask for ${shown}`;
    } catch {
      return undefined;
    }
  }

  /**
   * A slip of the keyboard (`aiobel`, `umqtt.simpel`): the names index.json lists a letter or two away
   * from the one asked for, in either spelling of the `micropython-` prefix; the closest few, or none.
   */
  private nearNames(wanted: string, other: string, packages: ReadonlyArray<{ name: string }>): string | undefined {
    const bare = wanted.startsWith(MIP_PREFIX) ? other : wanted;
    if (bare === "") return undefined;
    const near = closeNames(bare, packages.map((entry) => entry.name), (name) => Math.min(editDistanceWithin(bare, normalizeName(name), 2), editDistanceWithin(`${MIP_PREFIX}${bare}`, normalizeName(name), 2)));
    return closeNamesNote(this.label, near);
  }

  private async fetchIndex(): Promise<Index> {
    const url = joinUrlPath(this.base, "index.json");
    const response = this.prefetched === undefined ? await this.get(url) : { status: "ok" as const, ...this.prefetched };
    if (response.status === "not-found") return { status: "absent" };
    const origin = { url: response.url, index: this.label };
    const doc = parseDocument(IndexSchema, response.body, origin);
    checkFormat(doc.v, origin);
    return { status: "listed", origin, packages: doc.packages };
  }

  /** Without index.json only the documents asked for by name are known: latest.json, and a pinned version's. */
  private async lookupWithoutIndex(requirement: Requirement, signal: AbortSignal | undefined): Promise<ProjectListing | undefined> {
    // mip asks for the name as typed; micropython-lib's own names are normalized, so try that spelling too
    // (unless normalizing leaves no name: `__future__` is not `-future-`).
    const spellings = [...new Set([requirement.name, normalizeName(requirement.name)])].filter((name) => isMipName(name));
    for (const name of spellings) {
      const latest = await this.fetchVersion(name, "latest", signal);
      if (latest === undefined) continue;
      const releases = new Map<string, Artifact[]>([[latest.version, [this.artifact(name, "latest")]]]);
      const pinned = pinnedVersion(requirement.specifier);
      if (pinned !== undefined && pinned !== latest.version && (await this.fetchVersion(name, pinned, signal)) !== undefined) {
        releases.set(pinned, [this.artifact(name, pinned)]);
      }
      return { name, source: this.label, releases };
    }
    return undefined;
  }

  /** The version a package document declares (UNVERSIONED when it has none), or undefined on a 404. */
  private async fetchVersion(name: string, version: string, signal?: AbortSignal): Promise<{ version: string } | undefined> {
    const response = await this.get(this.documentUrl(name, version), signal);
    if (response.status === "not-found") return undefined;
    const origin = { url: response.url, index: this.label };
    const declared = parseDocument(DocumentVersionSchema, response.body, origin).version;
    if (version !== "latest") return { version };
    return { version: declared !== undefined && declared !== null && isPep440Version(declared) ? declared : UNVERSIONED };
  }

  private get(url: string, signal?: AbortSignal) {
    return this.http.get(url, { accept: "application/json", maxBytes: this.maxBytes, ...(signal === undefined ? {} : { signal }) }).catch((error: unknown) => {
      throw isTooLarge(error, this.maxBytes) ? tooLarge({ url, index: this.label }, this.maxBytes) : error;
    });
  }

  private documentUrl(name: string, version: string): string {
    return joinUrlPath(this.base, `package/${this.flavor}/${encodeSegment(name)}/${encodeSegment(version)}.json`);
  }

  private artifact(name: string, version: string): Artifact {
    return { type: "package-json", location: { type: "remote", url: this.documentUrl(name, version) }, mip: { base: this.base, flavor: this.flavor } };
  }

  private wrongFlavor(name: string, flavors: string[]): MpipError {
    const has = flavors.map(describeFlavor).join(", ");
    const hint = this.flavor === "py"
      ? `choose a target it is built for with \`--mpy ${printable(flavors.find((flavor) => flavor !== "py") ?? "6", 40)}\` or \`--target-version <micropython version>\``
      : flavors.includes("py")
        ? "leave out `--mpy` and `--target-version` to install its sources, which work on any firmware, or choose another target"
        : "choose another target with `--mpy` or `--target-version`";
    return new MpipError("not-found", `\`${printable(name)}\` is on the index \`${this.label}\`, but not as ${describeFlavor(this.flavor)}: it has only ${has}`, { hint });
  }
}

/** What a package document's place on a v2 index tells (see mipDocumentLocation). */
export interface MipDocumentLocation {
  /** The index's base URL (credentials kept, for fetching): its hashed files are `{base}/file/{h[:2]}/{h}`. */
  base: string;
  /** `py`, or an .mpy major version such as `6`. */
  flavor: string;
  /** The package's name on that index, as the path spells it (percent-decoded). */
  name: string;
  /** The version the document is for; undefined for `latest.json`. */
  version?: string;
}

/**
 * A URL of the shape `{base}/package/{flavor}/{name}/{version}.json` (as mip builds it in
 * `_install_package`) is a package document of the v2 index at `{base}`: a dependency or a spec
 * that names it directly is that index's package `name`, and the document's hash-only files are fetched
 * from that index, not from another one configured. Undefined for any other URL, and for one with a query
 * (a forge's raw-file API, whose files are not under `{base}`). The name must be a mip name (names.ts).
 */
export function mipDocumentLocation(url: string): MipDocumentLocation | undefined {
  const parsed = parseUrl(url);
  if (parsed === undefined || parsed.search !== "" || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) return undefined;
  const match = /^(?<prefix>.*)\/package\/(?<flavor>py|[0-9]{1,3})\/(?<name>[^/]+)\/(?<version>[^/]+)\.json$/.exec(parsed.pathname);
  if (match?.groups === undefined) return undefined;
  const name = decodeSegment(match.groups.name!);
  const version = decodeSegment(match.groups.version!);
  if (name === undefined || version === undefined || !isMipName(name) || version === "") return undefined;
  const index = new URL(parsed.href);
  index.pathname = match.groups.prefix!;
  index.hash = "";
  return { base: index.href.replace(/\/+$/, ""), flavor: match.groups.flavor!, name, ...(version === "latest" ? {} : { version }) };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** `{base}/file/{h[:2]}/{h}`: where a v2 index keeps the file whose sha256 starts with `shortHash`. */
export function hashedFileUrl(base: string, shortHash: string): string {
  if (!/^[0-9a-f]{4,64}$/.test(shortHash)) {
    throw new MpipError("bad-metadata", `\`${printable(shortHash, 80)}\` is not a file hash of a micropython-lib index (4 to 64 lowercase hex digits)`, {
      hint: "the package document is malformed; report it to the index's maintainers or use another index",
    });
  }
  return joinUrlPath(base, `file/${shortHash.slice(0, 2)}/${shortHash}`);
}

function describeFlavor(flavor: string): string {
  const shown = printable(flavor, 40);
  return flavor === "py" ? "sources (`py`)" : `.mpy version ${shown} (\`${shown}\`)`;
}

/**
 * The formats of index.json that mpip reads (micropython-lib `tools/build.py`, `_JSON_VERSION_INDEX`):
 * 2 since 2024, and 1 before it, which lacks only each package's `path` (mpip reads no `path`). mip
 * itself never reads index.json, so both serve the same documents and files.
 */
export const MIP_INDEX_FORMATS: readonly unknown[] = [1, 2];

function checkFormat(version: unknown, origin: DocumentOrigin): void {
  if (MIP_INDEX_FORMATS.includes(version)) return;
  const shown = version === undefined ? "it is missing" : `not ${printable(JSON.stringify(version) ?? String(version), 40)}`;
  throw new MpipError("bad-metadata", `${describeDocument(origin)} is invalid: field \`v\` must be 1 or 2 (the micropython-lib index formats mpip reads), ${shown}`, {
    hint: "this is not a micropython-lib index; mip's default index is https://micropython.org/pi/v2",
  });
}

/** `==1.2` or `===1.2` anywhere in the specifier: the one version worth asking for by name. */
function pinnedVersion(specifier: string): string | undefined {
  return specifier.split(",").map((clause) => /^\s*===?\s*([^*\s]+)\s*$/.exec(clause)?.[1]).find((version) => version !== undefined);
}

