// A real HTTP server on 127.0.0.1 that serves packages through PyPI's JSON API (see FORMATS.md section 4).
// Routing is a small, mutable table (`routes`): each route turns a request into a `Reply`, and one function
// (`send`) writes every reply, so per-route faults can later be added by wrapping a route's handler or `send`.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pep440 from "@renovatebot/pep440";
import { buildSdist, sdistFilename, type SdistOptions, type SdistSpec } from "./sdist.js";

export interface IndexFile {
  filename: string;
  body: Buffer;
  packagetype?: "sdist" | "bdist_wheel";
  yanked?: boolean;
  /** Override the advertised sha256; null: serve the file without any `digests`. */
  sha256?: string | null;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface RouteContext {
  req: IncomingMessage;
  /** The path without the query string, percent-decoded per segment by the route's own pattern groups. */
  path: string;
  match: RegExpExecArray;
}

export interface Route {
  /** "project" | "version" | "file", or anything a later change adds. */
  name: string;
  pattern: RegExp;
  handle(ctx: RouteContext): Reply | Promise<Reply>;
}

export interface ProjectState {
  name: string; // display name, as first published
  releases: Map<string, IndexFile[]>;
  infoVersion?: string;
  omitReleases: boolean;
}

export interface IndexServer {
  /** Base URL of the JSON API, e.g. http://127.0.0.1:PORT/pypi (metadata is `${url}/${name}/json`). */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  addSdist(spec: SdistSpec, options?: SdistOptions & { yanked?: boolean }): Promise<void>;
  addFile(project: string, version: string, file: IndexFile): void;
  setInfoVersion(project: string, version: string): void;
  omitReleases(project: string): void;
  /** "GET /pypi/foo/json" etc, in arrival order. */
  requests: string[];
  /** Per-response delay in ms, settable at any time. */
  delayMs: number;
  /** An extra delay chosen per request path (e.g. random, to shuffle response order); none when unset. */
  delayFor?: (path: string) => number;
  /** Mutable route table, tried in order; unmatched paths get 404. */
  routes: Route[];
  /** Projects by normalized name. */
  projects: Map<string, ProjectState>;
  /** Writes a reply (after delayMs); all responses go through here. */
  send(res: ServerResponse, reply: Reply): Promise<void>;
  server: Server;
  close(): Promise<void>;
}

/** PEP 503 normalization. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** PEP 440 order; versions that do not parse sort first, by string. */
export function compareVersions(a: string, b: string): number {
  const va = pep440.valid(a) !== null;
  const vb = pep440.valid(b) !== null;
  if (va && vb) return pep440.compare(a, b);
  if (va !== vb) return va ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const UPLOAD_TIME = "2023-11-14T22:13:20.000000Z";

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { "Content-Type": "application/json", ...headers }, body: Buffer.from(JSON.stringify(value)) };
}

export const notFound = (): Reply => jsonReply(404, { message: "Not Found" });

export async function startIndexServer(): Promise<IndexServer> {
  const projects = new Map<string, ProjectState>();
  const timers = new Set<NodeJS.Timeout>();
  let origin = "";

  const project = (name: string): ProjectState => {
    const key = normalizeName(name);
    let p = projects.get(key);
    if (!p) {
      p = { name, releases: new Map(), omitReleases: false };
      projects.set(key, p);
    }
    return p;
  };

  const fileUrl = (p: ProjectState, version: string, f: IndexFile): string =>
    `${origin}/files/${normalizeName(p.name)}/${encodeURIComponent(version)}/${encodeURIComponent(f.filename)}`;

  const fileJson = (p: ProjectState, version: string, f: IndexFile): Record<string, unknown> => {
    const md5 = createHash("md5").update(f.body).digest("hex");
    const out: Record<string, unknown> = {
      comment_text: "",
      filename: f.filename,
      has_sig: false,
      md5_digest: md5,
      packagetype: f.packagetype ?? (f.filename.endsWith(".whl") ? "bdist_wheel" : "sdist"),
      python_version: f.filename.endsWith(".whl") ? "py3" : "source",
      requires_python: null,
      size: f.body.length,
      upload_time: UPLOAD_TIME.slice(0, 19),
      upload_time_iso_8601: UPLOAD_TIME,
      url: fileUrl(p, version, f),
      yanked: f.yanked ?? false,
      yanked_reason: f.yanked ? "yanked for a test" : null,
    };
    if (f.sha256 !== null) {
      out.digests = { md5, sha256: f.sha256 ?? createHash("sha256").update(f.body).digest("hex") };
    }
    return out;
  };

  const infoVersion = (p: ProjectState): string | undefined => {
    if (p.infoVersion !== undefined) return p.infoVersion;
    const all = [...p.releases.keys()].sort(compareVersions);
    // Like PyPI (warehouse's latest_version): non-yanked first, final releases before pre-releases.
    const live = all.filter((v) => (p.releases.get(v) ?? []).some((f) => !f.yanked));
    const final = live.filter((v) => pep440.explain(v)?.is_prerelease === false);
    return final.at(-1) ?? live.at(-1) ?? all.at(-1);
  };

  const projectJson = (p: ProjectState, version: string | undefined): Record<string, unknown> => {
    const info = { name: p.name, version: infoVersion(p) ?? null, summary: `${p.name} (test package)`, requires_dist: null };
    const urls = version === undefined ? [] : (p.releases.get(version) ?? []).map((f) => fileJson(p, version, f));
    const body: Record<string, unknown> = { info, last_serial: 1 };
    if (!p.omitReleases) {
      const releases: Record<string, unknown[]> = {};
      for (const v of [...p.releases.keys()].sort(compareVersions)) releases[v] = p.releases.get(v)!.map((f) => fileJson(p, v, f));
      body.releases = releases;
    }
    body.urls = urls;
    body.vulnerabilities = [];
    return body;
  };

  /** 404 for unknown projects, 301 to the normalized name, else the project. */
  const lookup = (rawName: string, rest: string): ProjectState | Reply => {
    const key = normalizeName(rawName);
    const p = projects.get(key);
    if (!p) return notFound();
    if (rawName !== key) return jsonReply(301, { message: "Moved Permanently" }, { Location: `${origin}/pypi/${key}/${rest}` });
    return p;
  };

  const routes: Route[] = [
    {
      name: "project",
      pattern: /^\/pypi\/([^/]+)\/json\/?$/,
      handle({ match }) {
        const p = lookup(decodeURIComponent(match[1]!), "json");
        if ("status" in p) return p;
        return jsonReply(200, projectJson(p, infoVersion(p)));
      },
    },
    {
      name: "version",
      pattern: /^\/pypi\/([^/]+)\/([^/]+)\/json\/?$/,
      handle({ match }) {
        const version = decodeURIComponent(match[2]!);
        const p = lookup(decodeURIComponent(match[1]!), `${match[2]}/json`);
        if ("status" in p) return p;
        if (!p.releases.has(version)) return notFound();
        const body = projectJson(p, version);
        delete body.releases; // PyPI's per-version endpoint carries no `releases`
        return jsonReply(200, body);
      },
    },
    {
      name: "file",
      pattern: /^\/files\/([^/]+)\/([^/]+)\/([^/]+)$/,
      handle({ match }) {
        const p = projects.get(decodeURIComponent(match[1]!));
        const files = p?.releases.get(decodeURIComponent(match[2]!));
        const f = files?.find((x) => x.filename === decodeURIComponent(match[3]!));
        if (!f) return notFound();
        return { status: 200, headers: { "Content-Type": "application/octet-stream" }, body: f.body };
      },
    },
  ];

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const send = async (res: ServerResponse, reply: Reply): Promise<void> => {
    if (state.delayMs > 0) await sleep(state.delayMs);
    if (res.destroyed) return;
    const body = reply.body ?? Buffer.alloc(0);
    res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(body.length) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? "/";
    state.requests.push(`${req.method} ${url}`);
    if (req.method !== "GET") return send(res, { ...jsonReply(405, { message: "Method Not Allowed" }), headers: { Allow: "GET", "Content-Type": "application/json" } });
    const path = url.split("?")[0]!;
    const extra = state.delayFor?.(path) ?? 0;
    if (extra > 0) await sleep(extra);
    for (const route of state.routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      let reply: Reply;
      try {
        reply = await route.handle({ req, path, match });
      } catch {
        reply = notFound(); // e.g. a malformed percent-escape
      }
      return send(res, reply);
    }
    return send(res, notFound());
  };

  const server = createServer((req, res) => {
    req.resume();
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const state: IndexServer = {
    url: `${origin}/pypi`,
    origin,
    requests: [],
    delayMs: 0,
    routes,
    projects,
    send,
    server,
    async addSdist(spec, options = {}) {
      const body = await buildSdist(spec, options);
      state.addFile(spec.name, spec.version, { filename: sdistFilename(spec), body, packagetype: "sdist", yanked: options.yanked ?? false });
    },
    addFile(name, version, file) {
      const p = project(name);
      const files = p.releases.get(version) ?? [];
      p.releases.set(version, [...files.filter((f) => f.filename !== file.filename), file]);
    },
    setInfoVersion(name, version) {
      project(name).infoVersion = version;
    },
    omitReleases(name) {
      project(name).omitReleases = true;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return state;
}
