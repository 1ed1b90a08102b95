// The PyPI-style faces of an index build, as data and bytes (pure): the PyPI JSON API (docs.pypi.org,
// "JSON API": `pypi/{name}/json` with `info`, `releases` and `urls`, and `pypi/{name}/{version}/json` with that
// version's `urls`), which upip and `mpip -i URL/pypi` read, and the simple repository API: PEP 503 HTML
// (`simple/index.html`, `simple/{name}/index.html`, each link with `#sha256=`) and the same pages in PEP
// 691's JSON form (`index.json` beside each, for hosts that choose a file by the request's Accept header).
// Every document is written with sorted versions and fixed key order, so a build of the same releases
// writes the same bytes. File URLs are relative to the document, or absolute below `--base-url`.

import { normalizeName } from "../spec/names.js";
import { latestVersion } from "../download/layout.js";
import { compareVersions } from "../versions.js";

/** Where the sdists of an index build live, below its root. */
export const SDIST_FOLDER = "sdist";

/** One sdist as the faces list it. */
export interface ListedFile {
  filename: string;
  sha256: string;
  size: number;
}

/** One release as the PyPI face describes it. */
export interface ListedRelease {
  version: string;
  /** The release's `info` fields. */
  info: ReleaseInfo;
  file: ListedFile;
}

export interface ReleaseInfo {
  name: string;
  version: string;
  summary: string;
  license: string;
  author: string;
  requires_dist: string[] | null;
}

/** A PyPI JSON `urls` / `releases` entry. */
export interface PypiFile {
  filename: string;
  url: string;
  packagetype: "sdist";
  python_version: "source";
  digests: { sha256: string };
  size: number;
  yanked: false;
}

/**
 * The URL of an sdist as a document at `documentPath` (below the index's root, `/`-separated, the path
 * the document is served at) names it: relative, or absolute below `baseUrl` when given.
 */
export function sdistUrl(filename: string, documentPath: string, baseUrl: string | undefined): string {
  const relative = `${SDIST_FOLDER}/${encodeURIComponent(filename)}`;
  if (baseUrl !== undefined) return `${baseUrl.replace(/\/+$/, "")}/${relative}`;
  const depth = documentPath.split("/").length - 1;
  return `${"../".repeat(depth)}${relative}`;
}

/** The PEP 503 name the simple face and the PyPI face's pages are written under. */
export function projectFolder(name: string): string {
  return normalizeName(name);
}

/**
 * The spellings a PyPI JSON page is written under: the PEP 503 name, and the name as given when it is
 * spelled otherwise, even by case alone (`Tiny-Util`): PEP 503 names are the same project whatever their
 * case, PyPI redirects any spelling to its page, and upip and mpip ask for `{name}/json` as typed, which a
 * static host (case-sensitive: nginx, S3, GitHub Pages) answers only from a folder of that exact name.
 */
export function pypiSpellings(name: string): string[] {
  const normalized = normalizeName(name);
  return name === normalized ? [normalized] : [normalized, name];
}

function pypiFile(file: ListedFile, documentPath: string, baseUrl: string | undefined): PypiFile {
  return { filename: file.filename, url: sdistUrl(file.filename, documentPath, baseUrl), packagetype: "sdist", python_version: "source", digests: { sha256: file.sha256 }, size: file.size, yanked: false };
}

/** `pypi/{spelling}/{version}/json`: the release's `info` and its one sdist in `urls`. */
export function pypiVersionDocument(release: ListedRelease, documentPath: string, baseUrl: string | undefined): Buffer {
  return json({ info: release.info, urls: [pypiFile(release.file, documentPath, baseUrl)] });
}

/**
 * `pypi/{spelling}/json`: the latest release's `info` and its file in `urls`, every release in `releases`
 * (PEP 440 order). The latest is PyPI's: the highest final release, a pre-release only when all are
 * (latestVersion), since upip installs `info.version`.
 */
export function pypiProjectDocument(releases: ListedRelease[], documentPath: string, baseUrl: string | undefined): Buffer {
  const sorted = [...releases].sort((a, b) => compareVersions(a.version, b.version));
  const chosen = latestVersion(sorted.map((release) => release.version));
  const latest = [...sorted].reverse().find((release) => release.version === chosen) ?? sorted.at(-1)!;
  return json({
    info: latest.info,
    releases: Object.fromEntries(sorted.map((release) => [release.version, [pypiFile(release.file, documentPath, baseUrl)]])),
    urls: [pypiFile(latest.file, documentPath, baseUrl)],
  });
}

/** `simple/index.html` (PEP 503): one link per project, to its folder. */
export function simpleRootHtml(names: string[]): Buffer {
  const links = [...new Set(names.map(projectFolder))].sort().map((name) => `    <a href="${escapeHtml(encodeURIComponent(name))}/">${escapeHtml(name)}</a><br/>\n`);
  return Buffer.from(`<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n    <title>Simple index</title>\n  </head>\n  <body>\n${links.join("")}  </body>\n</html>\n`);
}

/** `simple/index.json` (PEP 691). */
export function simpleRootJson(names: string[]): Buffer {
  return json({ meta: { "api-version": "1.1" }, projects: [...new Set(names.map(projectFolder))].sort().map((name) => ({ name })) });
}

/** `simple/{name}/index.html` (PEP 503): one link per sdist, with its sha256 in the fragment. */
export function simpleProjectHtml(name: string, releases: ListedRelease[], baseUrl: string | undefined): Buffer {
  const folder = projectFolder(name);
  const documentPath = `simple/${folder}/index.html`;
  const links = sortedFiles(releases).map((file) => `    <a href="${escapeHtml(sdistUrl(file.filename, documentPath, baseUrl))}#sha256=${file.sha256}">${escapeHtml(file.filename)}</a><br/>\n`);
  return Buffer.from(`<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n    <title>Links for ${escapeHtml(folder)}</title>\n  </head>\n  <body>\n    <h1>Links for ${escapeHtml(folder)}</h1>\n${links.join("")}  </body>\n</html>\n`);
}

/** `simple/{name}/index.json` (PEP 691, with PEP 700's `versions` and `size`). */
export function simpleProjectJson(name: string, releases: ListedRelease[], baseUrl: string | undefined): Buffer {
  const folder = projectFolder(name);
  const documentPath = `simple/${folder}/index.json`;
  return json({
    meta: { "api-version": "1.1" },
    name: folder,
    versions: [...releases].sort((a, b) => compareVersions(a.version, b.version)).map((release) => release.version),
    files: sortedFiles(releases).map((file) => ({ filename: file.filename, url: sdistUrl(file.filename, documentPath, baseUrl), hashes: { sha256: file.sha256 }, size: file.size })),
  });
}

function sortedFiles(releases: ListedRelease[]): ListedFile[] {
  return [...releases].sort((a, b) => compareVersions(a.version, b.version)).map((release) => release.file);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Indented by 2 and a newline, as index.json is. */
function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}
