// PyPI's JSON API (and micropython.org/pi, which speaks it): `{index}/{name}/json`, falling back to
// `{index}/{name}/{version}/json` when the deprecated `releases` key is missing.

import * as v from "valibot";
import type { HttpClient } from "../http.js";
import { redactUrl } from "../http.js";
import { isValidName, normalizeName } from "../spec/names.js";
import type { Requirement } from "../spec/requirement.js";
import { printable } from "../text.js";
import { encodeSegment, joinUrlPath, trimPathSlashes } from "../url.js";
import { isPep440Version } from "../versions.js";
import { isFileUrl } from "../http/file-url.js";
import { badField, outsideLocalIndexHint, downloadUrl, jsonObject, MAX_METADATA_BYTES, parseDocument, plainFilename, projectName, resolveLink, tooLarge, type DocumentOrigin, isTooLarge } from "./metadata.js";
import { yankReason, type Artifact, type DistFile, type LookupOptions, type ProjectListing, type Source } from "./types.js";

const FileSchema = jsonObject(v.object({
  filename: plainFilename,
  url: downloadUrl,
  packagetype: v.optional(v.pipe(v.string(), v.maxLength(64, "must be at most 64 characters")), "sdist"),
  digests: v.optional(v.nullable(jsonObject(v.object({ sha256: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")))) })))),
  yanked: v.optional(v.nullable(v.boolean()), false),
  // PEP 592 (PyPI's JSON API): why the file was yanked; null or missing when not yanked or not said.
  yanked_reason: v.optional(v.nullable(v.string())),
}));

const ProjectSchema = jsonObject(v.object({
  // `version` is needed only without `releases`, and checked there.
  info: jsonObject(v.object({ name: v.optional(v.nullable(projectName)), version: v.optional(v.nullable(v.string())) })),
  releases: v.optional(jsonObject(v.record(v.string(), v.array(FileSchema)))),
  urls: v.optional(v.array(FileSchema), []),
}));

type FileEntry = v.InferOutput<typeof FileSchema>;
type Document = { origin: DocumentOrigin; doc: v.InferOutput<typeof ProjectSchema> };

export interface PypiJsonOptions {
  /** Bytes one metadata document may have (`--max-metadata-bytes`). */
  maxMetadataBytes?: number;
}

export class PypiJsonSource implements Source {
  readonly label: string;
  private readonly base: string;
  private readonly maxBytes: number;

  constructor(indexUrl: string, private readonly http: HttpClient, options: PypiJsonOptions = {}) {
    this.base = trimPathSlashes(indexUrl);
    this.label = redactUrl(this.base);
    this.maxBytes = options.maxMetadataBytes ?? MAX_METADATA_BYTES;
  }

  async lookup(requirement: Requirement, options: LookupOptions = {}): Promise<ProjectListing | undefined> {
    // PyPI's names are PEP 508's: one that only a micropython-lib index can have (`__future__`) is not asked.
    if (!isValidName(requirement.name)) return undefined;
    // Asked as typed (a static index, such as `mpip index build` writes, has the spellings its releases
    // use), then, if that is not there, by the PEP 503 name (PyPI answers any spelling; a static index
    // always has that one), so that `Foo_Bar` finds the project `foo-bar` wherever it is served.
    let name = encodeSegment(requirement.name);
    let project = await this.fetchDocument(joinUrlPath(this.base, `${name}/json`), options.signal);
    const normalized = encodeSegment(normalizeName(requirement.name));
    if (project === undefined && normalized !== name) {
      name = normalized;
      project = await this.fetchDocument(joinUrlPath(this.base, `${name}/json`), options.signal);
    }
    if (project === undefined) return undefined;
    const releases = new Map<string, Artifact[]>();
    const displayName = project.doc.info.name ?? requirement.name;
    // An index that answers for one project with another (a hostile one, or a misconfigured mirror) would
    // have that project installed and recorded in its place, and the one asked for never.
    if (normalizeName(displayName) !== normalizeName(requirement.name)) throw badField(project.origin, "info.name", `names the project \`${printable(displayName, 100)}\`, not \`${printable(requirement.name, 100)}\` that was asked for`);
    if (project.doc.releases !== undefined) {
      const versions = Object.keys(project.doc.releases);
      // Like pip, skip versions that are not PEP 440 (old PyPI uploads have some); none at all is an error.
      if (versions.length > 0 && !versions.some((version) => isPep440Version(version))) {
        throw badField(project.origin, "releases", `lists no valid version (PEP 440), only ${versions.slice(0, 3).map((version) => `\`${printable(version, 40)}\``).join(", ")}`);
      }
      for (const [version, files] of Object.entries(project.doc.releases)) {
        if (isPep440Version(version)) releases.set(version, files.map((file, index) => dist(toDistFile(file, project.origin, `releases[${JSON.stringify(version)}][${index}]`))));
      }
      return { name: displayName, source: this.label, releases };
    }
    // Without `releases` only the versions we ask for by name are known: a pinned one, else the latest.
    const pinned = requirement.specifier.split(",").map((clause) => /^\s*===?\s*([^*\s]+)\s*$/.exec(clause)?.[1]).find((version) => version !== undefined);
    const version = pinned ?? project.doc.info.version;
    if (version === undefined || version === null) throw badField(project.origin, "info.version", "is missing, and there is no `releases` to choose from");
    if (!isPep440Version(version)) throw badField(project.origin, "info.version", `is not a valid version (PEP 440): \`${printable(version, 60)}\``);
    const release = await this.fetchDocument(joinUrlPath(this.base, `${name}/${encodeSegment(version)}/json`), options.signal);
    if (release !== undefined) releases.set(version, release.doc.urls.map((file, index) => dist(toDistFile(file, release.origin, `urls[${index}]`))));
    return { name: displayName, source: this.label, releases };
  }

  private async fetchDocument(url: string, signal: AbortSignal | undefined): Promise<Document | undefined> {
    const response = await this.http.get(url, { accept: "application/json", maxBytes: this.maxBytes, ...(signal === undefined ? {} : { signal }) }).catch((error: unknown) => {
      throw isTooLarge(error, this.maxBytes) ? tooLarge({ url, index: this.label }, this.maxBytes) : error;
    });
    if (response.status === "not-found") return undefined;
    // A local index's documents may link to files inside its folder (metadata.ts resolveLink).
    const origin = { url: response.url, index: this.label, ...(isFileUrl(this.base) ? { root: this.base } : {}) };
    return { origin, doc: parseDocument(ProjectSchema, response.body, origin) };
  }
}


function withReason(reason: string | undefined): { yankedReason?: string } {
  return reason === undefined ? {} : { yankedReason: reason };
}

function dist(file: DistFile): Artifact {
  return { type: "dist", file };
}

function toDistFile(file: FileEntry, origin: DocumentOrigin, field: string): DistFile {
  const url = resolveLink(file.url, origin.url, origin.root);
  if (url === undefined) {
    const problem = origin.root === undefined ? "must be an http or https URL" : `must be an http or https URL, or name a file inside the local index \`${printable(origin.index)}\`, not \`${printable(file.url, 80)}\``;
    throw badField(origin, `${field}.url`, problem, outsideLocalIndexHint(origin, file.url, origin.url));
  }
  const sha256 = file.digests?.sha256 ?? undefined;
  return {
    filename: file.filename,
    location: { type: "remote", url },
    packagetype: file.packagetype,
    ...(sha256 ? { sha256: sha256.toLowerCase() } : {}),
    yanked: file.yanked === true,
    ...withReason(file.yanked === true ? yankReason(file.yanked_reason) : undefined),
  };
}
