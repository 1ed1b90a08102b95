// Serves the test index's projects through the simple repository API as well (PEP 503 HTML, PEP 691
// JSON, chosen by the Accept header), from the same releases the PyPI JSON routes serve; downloads go
// to index-server.ts's own `file` route through relative hrefs, so clients must resolve them against
// the page's final URL. IndexFile.sha256 works here too: a string is advertised instead of the real
// hash, null advertises none.
import { createHash } from "node:crypto";
import { compareVersions, normalizeName, notFound, type IndexFile, type IndexServer, type ProjectState, type Reply } from "./index-server.js";

export const SIMPLE_JSON_TYPE = "application/vnd.pypi.simple.v1+json";
export const SIMPLE_HTML_TYPE = "text/html; charset=utf-8";

export interface SimpleIndexOptions {
  /** Where the index lives on the server; default "/simple". */
  prefix?: string;
  /** Answer HTML even when the client asks for JSON (an index that only speaks PEP 503). */
  html?: boolean;
}

/** Adds the routes "simple-root" and "simple-project"; returns the index URL (`${origin}${prefix}`). */
export function serveSimple(server: IndexServer, options: SimpleIndexOptions = {}): string {
  const prefix = (options.prefix ?? "/simple").replace(/\/+$/, "");
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const json = (accept: string | undefined) => options.html !== true && prefersJson(accept);
  server.routes.push(
    {
      name: "simple-root",
      pattern: new RegExp(`^${escaped}/?$`),
      handle: ({ req }) => (json(req.headers.accept) ? rootJson(server) : rootHtml(server)),
    },
    {
      name: "simple-project",
      pattern: new RegExp(`^${escaped}/([^/]+)(/?)$`),
      handle({ req, match }) {
        const raw = decodeURIComponent(match[1]!);
        const key = normalizeName(raw);
        const project = server.projects.get(key);
        if (project === undefined) return notFound();
        // As PyPI does: one canonical URL per project, with its trailing slash.
        if (raw !== key || match[2] !== "/") return { status: 301, headers: { Location: `${server.origin}${prefix}/${key}/` } };
        // From `{prefix}/{name}/` back up to the server's root, where the `file` route lives.
        const up = "../".repeat(prefix.split("/").filter(Boolean).length + 1);
        return json(req.headers.accept) ? projectJson(project, up) : projectHtml(project, up);
      },
    },
  );
  return `${server.origin}${prefix}`;
}

/** PEP 691 negotiation: JSON when the client rates it at least as high as any HTML it accepts. */
export function prefersJson(accept: string | undefined): boolean {
  let jsonQ = 0;
  let htmlQ = accept === undefined ? 1 : 0;
  for (const entry of (accept ?? "").split(",")) {
    const [type = "", ...params] = entry.split(";").map((part) => part.trim().toLowerCase());
    const q = Number(params.find((param) => param.startsWith("q="))?.slice(2) ?? "1");
    const weight = Number.isFinite(q) ? q : 0;
    if (type === SIMPLE_JSON_TYPE || type === "application/vnd.pypi.simple.latest+json") jsonQ = Math.max(jsonQ, weight);
    else if (type.includes("html") || type === "*/*" || type === "text/*") htmlQ = Math.max(htmlQ, weight);
  }
  return jsonQ > 0 && jsonQ >= htmlQ;
}

interface Listed {
  version: string;
  file: IndexFile;
  /** Relative to the project page. */
  href: string;
  sha256: string | undefined;
}

function listed(project: ProjectState, up: string): Listed[] {
  const key = normalizeName(project.name);
  return [...project.releases.keys()].sort(compareVersions).flatMap((version) =>
    project.releases.get(version)!.map((file) => ({
      version,
      file,
      // A query with `&` so that HTML clients must decode `&amp;`; the file route ignores it.
      href: `${up}files/${key}/${encodeURIComponent(version)}/${encodeURIComponent(file.filename)}?via=simple&v=1`,
      sha256: file.sha256 === null ? undefined : (file.sha256 ?? createHash("sha256").update(file.body).digest("hex")),
    })),
  );
}

function projectJson(project: ProjectState, up: string): Reply {
  const files = listed(project, up).map(({ file, href, sha256 }) => ({
    filename: file.filename,
    url: href,
    hashes: { md5: createHash("md5").update(file.body).digest("hex"), ...(sha256 === undefined ? {} : { sha256 }) },
    "requires-python": null,
    size: file.body.length,
    yanked: file.yanked === true ? (file.yankedReason ?? "yanked for a test") : false,
  }));
  const versions = [...project.releases.keys()].sort(compareVersions);
  const body = { meta: { "api-version": "1.1" }, name: normalizeName(project.name), files, versions };
  return { status: 200, headers: { "Content-Type": SIMPLE_JSON_TYPE, Vary: "Accept" }, body: Buffer.from(JSON.stringify(body)) };
}

function projectHtml(project: ProjectState, up: string): Reply {
  const anchors = listed(project, up).map(({ file, href, sha256 }) => {
    const fragment = sha256 === undefined ? "" : `#sha256=${sha256}`;
    const yanked = file.yanked === true ? ` data-yanked="${escapeHtml(file.yankedReason ?? "yanked for a test")}"` : "";
    return `    <a href="${escapeHtml(href + fragment)}" data-requires-python="&gt;=3.4"${yanked}>${escapeHtml(file.filename)}</a><br />`;
  });
  return htmlReply(`Links for ${project.name}`, anchors);
}

function rootJson(server: IndexServer): Reply {
  const projects = [...server.projects.values()].map((project) => ({ name: project.name }));
  const body = { meta: { "api-version": "1.1" }, projects };
  return { status: 200, headers: { "Content-Type": SIMPLE_JSON_TYPE, Vary: "Accept" }, body: Buffer.from(JSON.stringify(body)) };
}

function rootHtml(server: IndexServer): Reply {
  const anchors = [...server.projects.entries()].map(([key, project]) => `    <a href="${escapeHtml(key)}/">${escapeHtml(project.name)}</a>`);
  return htmlReply("Simple index", anchors);
}

function htmlReply(title: string, lines: string[]): Reply {
  const html = [
    "<!DOCTYPE html>",
    "<html>",
    "  <head>",
    '    <meta name="pypi:repository-version" content="1.1">',
    `    <title>${escapeHtml(title)}</title>`,
    "  </head>",
    "  <body>",
    `    <h1>${escapeHtml(title)}</h1>`,
    ...lines,
    "  </body>",
    "</html>",
    "",
  ].join("\n");
  return { status: 200, headers: { "Content-Type": SIMPLE_HTML_TYPE, Vary: "Accept" }, body: Buffer.from(html) };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
