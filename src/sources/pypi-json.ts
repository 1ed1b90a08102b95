// PyPI's JSON API (and micropython.org/pi, which speaks it): `{index}/{name}/json`, falling back to
// `{index}/{name}/{version}/json` when the deprecated `releases` key is missing.

import * as v from "valibot";
import type { HttpClient } from "../http.js";
import { redactUrl } from "../http.js";
import type { Requirement } from "../spec/requirement.js";
import { MAX_METADATA_BYTES, parseDocument, plainFilename } from "./metadata.js";
import type { DistFile, ProjectListing, Source } from "./types.js";

const FileSchema = v.object({
  filename: plainFilename,
  url: v.pipe(v.string(), v.nonEmpty()),
  packagetype: v.optional(v.string(), "sdist"),
  digests: v.optional(v.nullable(v.object({ sha256: v.optional(v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")))) }))),
  yanked: v.optional(v.nullable(v.boolean()), false),
});

const ProjectSchema = v.object({
  info: v.object({ name: v.optional(v.string()), version: v.pipe(v.string(), v.nonEmpty()) }),
  releases: v.optional(v.record(v.string(), v.array(FileSchema))),
  urls: v.optional(v.array(FileSchema), []),
});

type FileEntry = v.InferOutput<typeof FileSchema>;

export class PypiJsonSource implements Source {
  readonly label: string;
  private readonly base: string;

  constructor(indexUrl: string, private readonly http: HttpClient) {
    this.base = indexUrl.replace(/\/+$/, "");
    this.label = redactUrl(this.base);
  }

  async lookup(requirement: Requirement): Promise<ProjectListing | undefined> {
    const name = encodeURIComponent(requirement.name);
    const project = await this.fetchDocument(`${this.base}/${name}/json`);
    if (project === undefined) return undefined;
    const releases = new Map<string, DistFile[]>();
    const displayName = project.doc.info.name ?? requirement.name;
    if (project.doc.releases !== undefined) {
      for (const [version, files] of Object.entries(project.doc.releases)) releases.set(version, files.map((file) => toDistFile(file, project.url)));
      return { name: displayName, source: this.label, releases };
    }
    // Without `releases` only the versions we ask for by name are known: a pinned one, else the latest.
    const pinned = /^\s*===?\s*([^,*\s]+)\s*$/.exec(requirement.specifier)?.[1];
    const version = pinned ?? project.doc.info.version;
    const release = await this.fetchDocument(`${this.base}/${name}/${encodeURIComponent(version)}/json`);
    if (release !== undefined) releases.set(version, release.doc.urls.map((file) => toDistFile(file, release.url)));
    return { name: displayName, source: this.label, releases };
  }

  private async fetchDocument(url: string) {
    const response = await this.http.get(url, { accept: "application/json", maxBytes: MAX_METADATA_BYTES });
    if (response.status === "not-found") return undefined;
    return { url: response.url, doc: parseDocument(ProjectSchema, response.body, response.url) };
  }
}

function toDistFile(file: FileEntry, documentUrl: string): DistFile {
  const sha256 = file.digests?.sha256 ?? undefined;
  return {
    filename: file.filename,
    location: { type: "remote", url: new URL(file.url, documentUrl).toString() },
    packagetype: file.packagetype,
    ...(sha256 ? { sha256: sha256.toLowerCase() } : {}),
    yanked: file.yanked === true,
  };
}
