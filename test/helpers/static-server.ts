// Serves a folder as plain static files on 127.0.0.1, as `python -m http.server` or nginx would: GET of a
// path answers the file, a folder answers its index.html (a folder asked for without its trailing slash
// is redirected to it, as both do), anything else is a 404. The content type comes from the extension.
// No index protocol is spoken: what a client gets is what the folder holds. With `negotiate`, a folder asked
// for with PEP 691's JSON type in Accept answers its index.json as that type, as a host configured by
// content type does (README "Publishing": nginx's `map $http_accept`).
import { createServer, type Server } from "node:http";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".json": "application/json",
  ".gz": "application/gzip",
  ".py": "text/x-python",
  ".mpy": "application/octet-stream",
};

export interface StaticServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** The paths asked for, in order. */
  requests: string[];
  /** The files answered (relative to the folder, `/`-separated), in order. */
  served: string[];
  close(): Promise<void>;
}

const SIMPLE_JSON = "application/vnd.pypi.simple.v1+json";

export async function serveFolder(root: string, options: { negotiate?: boolean } = {}): Promise<StaticServer> {
  const requests: string[] = [];
  const served: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
      requests.push(pathname);
      const file = path.join(root, ...pathname.split("/").filter((segment) => segment !== "" && segment !== "." && segment !== ".."));
      const info = await stat(file).catch(() => undefined);
      if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405).end();
      if (info?.isDirectory() === true && !pathname.endsWith("/")) return void res.writeHead(301, { location: `${pathname}/` }).end();
      const json = options.negotiate === true && info?.isDirectory() === true && (req.headers.accept ?? "").includes(SIMPLE_JSON);
      const target = info?.isDirectory() === true ? path.join(file, json ? "index.json" : "index.html") : file;
      const body = await readFile(target).catch(() => undefined);
      if (body === undefined) return void res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      served.push(path.relative(root, target).split(path.sep).join("/"));
      const type = json ? SIMPLE_JSON : TYPES[path.extname(target)] ?? "application/octet-stream";
      res.writeHead(200, { "content-type": type, "content-length": body.length });
      res.end(req.method === "HEAD" ? undefined : body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    served,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
