// A real HTTP server on 127.0.0.1 that serves packages through PyPI's JSON API (docs.pypi.org, "JSON API").
// Routing is a small, mutable table (`routes`): each route turns a request into a `Reply`, and one function
// (`send`) writes every reply. `fault()` spoils chosen responses (see faults.ts); `tls` serves https.
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import pep440 from "@renovatebot/pep440";
import { applyFault, takeFault, type Fault, type FaultHandle, type FaultMatcher, type FaultRule } from "./faults.js";
import { buildSdist, sdistFilename, type SdistOptions, type SdistSpec } from "./sdist.js";

export type { Fault, FaultHandle, FaultMatcher, FaultRequest } from "./faults.js";

export interface IndexFile {
  filename: string;
  body: Buffer;
  packagetype?: "sdist" | "bdist_wheel";
  yanked?: boolean;
  /** Why it was yanked (PEP 592), as the index says; default "yanked for a test"; "" says none. */
  yankedReason?: string;
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
  addSdist(spec: SdistSpec, options?: SdistOptions & { yanked?: boolean; yankedReason?: string }): Promise<void>;
  addFile(project: string, version: string, file: IndexFile): void;
  setInfoVersion(project: string, version: string): void;
  omitReleases(project: string): void;
  /** "GET /pypi/foo/json" etc, in arrival order. */
  requests: string[];
  /**
   * Every request with its headers (e.g. to check who received an Authorization header), in arrival order;
   * `conditional`: it carried If-None-Match or If-Modified-Since.
   */
  received: Array<{ method: string; url: string; headers: IncomingHttpHeaders; conditional: boolean }>;
  /** "GET /pypi/foo/json" for each request that was not conditional, in arrival order. */
  unconditional(): string[];
  /** How many requests were answered 304 Not Modified. */
  notModified: number;
  /**
   * The HTTP validators sent with every 200 answer, and honoured in conditional requests with a 304
   * (RFC 9110 §13): an ETag (a digest of the body), a Last-Modified date (a fixed date per body, later
   * for each new body at the same path), both (the default), or none.
   */
  validators: "both" | "etag" | "last-modified" | "none";
  /** Extra headers for the answers to chosen paths (e.g. `Cache-Control: no-store`). */
  headersFor?: (path: string) => Record<string, string> | undefined;
  /**
   * Spoil the responses of a route (by name: "project", "version", "file") or of the requests a predicate
   * picks, `times` times (default: always). Rules are tried in the order they were added.
   */
  fault(match: FaultMatcher, fault: Fault, options?: { times?: number }): FaultHandle;
  clearFaults(): void;
  /** Answer 401 unless requests carry this Basic authorization. */
  requireAuth(user: string, password: string): void;
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

export interface IndexServerOptions {
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Close the connection after each answer (`Connection: close`), as `python -m http.server` does (it
   * speaks HTTP/1.0): every request then needs a connection of its own. Default: keep connections alive.
   */
  closeEachAnswer?: boolean;
  /**
   * The listen backlog: how many connections the kernel queues before the server accepts them (Linux
   * keeps backlog + 1). `python -m http.server` listens with 5; a burst of connection attempts beyond
   * the queue is dropped, and each dropped one waits for TCP's SYN retry (about a second). Default: Node's 511.
   */
  backlog?: number;
}

export async function startIndexServer(options: IndexServerOptions = {}): Promise<IndexServer> {
  const projects = new Map<string, ProjectState>();
  const timers = new Set<NodeJS.Timeout>();
  const faults: FaultRule[] = [];
  let requiredAuth: string | undefined;
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
      yanked_reason: f.yanked ? (f.yankedReason ?? "yanked for a test") : null,
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
    res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(body.length), ...(options.closeEachAnswer === true ? { Connection: "close" } : {}) });
    res.end(body);
  };

  /** Per path, the Last-Modified date of each body served there (by its ETag), the first one oldest. */
  const modified = new Map<string, Map<string, string>>();
  const lastModifiedOf = (path: string, etag: string): string => {
    const bodies = modified.get(path) ?? new Map<string, string>();
    modified.set(path, bodies);
    let date = bodies.get(etag);
    if (date === undefined) {
      date = new Date(Date.parse(UPLOAD_TIME) + bodies.size * 60_000).toUTCString();
      bodies.set(etag, date);
    }
    return date;
  };

  /** A 200 with its validators, or a 304 when the request's validators match them. */
  const withValidators = (req: IncomingMessage, path: string, reply: Reply): Reply => {
    const extra = state.headersFor?.(path) ?? {};
    if (reply.status !== 200 || state.validators === "none") return Object.keys(extra).length === 0 ? reply : { ...reply, headers: { ...reply.headers, ...extra } };
    const etag = `"${createHash("sha256").update(reply.body ?? Buffer.alloc(0)).digest("hex").slice(0, 32)}"`;
    const lastModified = lastModifiedOf(path, etag);
    const validators = {
      ...(state.validators === "last-modified" ? {} : { ETag: etag }),
      ...(state.validators === "etag" ? {} : { "Last-Modified": lastModified }),
    };
    const ifNoneMatch = req.headers["if-none-match"];
    const ifModifiedSince = req.headers["if-modified-since"];
    // RFC 9110 §13.2.2: If-None-Match is evaluated first, and If-Modified-Since only without it.
    const fresh = ifNoneMatch !== undefined
      ? state.validators !== "last-modified" && ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)
      : ifModifiedSince !== undefined && state.validators !== "etag" && Date.parse(ifModifiedSince) >= Date.parse(lastModified);
    if (fresh) {
      state.notModified++;
      return { status: 304, headers: { ...validators, ...extra } };
    }
    return { ...reply, headers: { ...reply.headers, ...validators, ...extra } };
  };

  /** Sends the reply, or the fault a rule has for this request instead. */
  const respond = async (req: IncomingMessage, res: ServerResponse, route: string | undefined, path: string, answer: Reply): Promise<void> => {
    const reply = withValidators(req, path, answer);
    const fault = takeFault(faults, { route, path, req });
    if (fault === undefined) return send(res, reply);
    const full = { status: reply.status, headers: reply.headers ?? {}, body: reply.body ?? Buffer.alloc(0) };
    return applyFault(req, res, full, fault, { sleep, send });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? "/";
    state.requests.push(`${req.method} ${url}`);
    const conditional = req.headers["if-none-match"] !== undefined || req.headers["if-modified-since"] !== undefined;
    state.received.push({ method: req.method ?? "", url, headers: req.headers, conditional });
    if (req.method !== "GET") return send(res, { ...jsonReply(405, { message: "Method Not Allowed" }), headers: { Allow: "GET", "Content-Type": "application/json" } });
    const path = url.split("?")[0]!;
    const extra = state.delayFor?.(path) ?? 0;
    if (extra > 0) await sleep(extra);
    if (requiredAuth !== undefined && req.headers.authorization !== requiredAuth) {
      return send(res, jsonReply(401, { message: "Unauthorized" }, { "WWW-Authenticate": 'Basic realm="test index"' }));
    }
    for (const route of state.routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      let reply: Reply;
      try {
        reply = await route.handle({ req, path, match });
      } catch {
        reply = notFound(); // e.g. a malformed percent-escape
      }
      return respond(req, res, route.name, path, reply);
    }
    return respond(req, res, undefined, path, notFound());
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    handle(req, res).catch(() => res.destroy());
  };
  const server: Server = options.tls === undefined ? createServer(listener) : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", ...(options.backlog === undefined ? {} : { backlog: options.backlog }) }, () => resolve());
  });
  origin = `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const state: IndexServer = {
    url: `${origin}/pypi`,
    origin,
    requests: [],
    received: [],
    unconditional: () => state.received.filter((request) => !request.conditional).map((request) => `${request.method} ${request.url}`),
    notModified: 0,
    validators: "both",
    delayMs: 0,
    routes,
    projects,
    send,
    server,
    async addSdist(spec, options = {}) {
      const body = await buildSdist(spec, options);
      state.addFile(spec.name, spec.version, { filename: sdistFilename(spec), body, packagetype: "sdist", yanked: options.yanked ?? false, ...(options.yankedReason === undefined ? {} : { yankedReason: options.yankedReason }) });
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
    fault(match, fault, { times = Infinity } = {}) {
      const rule: FaultRule = { match, fault, remaining: times, hits: 0 };
      faults.push(rule);
      return {
        get hits() {
          return rule.hits;
        },
        remove() {
          const at = faults.indexOf(rule);
          if (at >= 0) faults.splice(at, 1);
        },
      };
    },
    clearFaults() {
      faults.length = 0;
    },
    requireAuth(user, password) {
      requiredAuth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
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
