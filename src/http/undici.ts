// The parts of undici that mpip uses, loaded one module each: the proxy-aware agent, the connection
// pools it makes for each origin (Pool, and Client for one connection), the connector and the request API. undici's index loads all of undici (fetch, WebSocket, cookies, caches, mocks), and
// its web modules wake Node's own copy of undici too: about 70 ms before the first request on a fast
// machine, against about 20 ms for these parts. Should a later undici 7 move them, the whole package is
// loaded instead, which behaves the same.

import type { Client, Dispatcher, EnvHttpProxyAgent, Pool, buildConnector } from "undici";

export interface UndiciParts {
  EnvHttpProxyAgent: typeof EnvHttpProxyAgent;
  buildConnector: typeof buildConnector;
  /** What an agent makes for each origin: a Pool, or a Client where one connection is allowed. */
  Pool: typeof Pool;
  Client: typeof Client;
  /** undici's `request(url, options)`: a GET through `dispatcher`, answered with status, headers and a body stream. */
  request(url: URL, options: Omit<Dispatcher.RequestOptions, "origin" | "path"> & { dispatcher: Dispatcher }): Promise<Dispatcher.ResponseData>;
}

/** undici is CommonJS: a module's exports are the namespace's `default`. */
const exportsOf = <T>(loaded: { default: T }): T => loaded.default;

async function loadParts(): Promise<UndiciParts> {
  // The agent loads the pool and the client itself: importing them costs nothing more.
  const [agent, connector, dispatcher, api, pool, client] = await Promise.all([
    import("undici/lib/dispatcher/env-http-proxy-agent.js").then(exportsOf),
    import("undici/lib/core/connect.js").then(exportsOf),
    import("undici/lib/dispatcher/dispatcher.js").then(exportsOf),
    import("undici/lib/api/index.js").then(exportsOf),
    import("undici/lib/dispatcher/pool.js").then(exportsOf),
    import("undici/lib/dispatcher/client.js").then(exportsOf),
  ]);
  if ([agent, connector, dispatcher, pool, client].some((part) => typeof part !== "function") || typeof api?.request !== "function") throw new Error("undici's modules have moved");
  // What undici's index does before anything else: every dispatcher gets request(), connect() (which a
  // proxy's tunnel uses) and the rest of the API.
  Object.assign(dispatcher.prototype, api);
  return {
    EnvHttpProxyAgent: agent,
    buildConnector: connector,
    Pool: pool,
    Client: client,
    // As undici's own `request(url, options)` does it: the URL becomes an origin and a path.
    request: (url, { dispatcher: through, ...options }) => through.request({ ...options, origin: url.origin, path: `${url.pathname}${url.search}` }),
  };
}

async function loadWhole(): Promise<UndiciParts> {
  const loaded = (await import("undici")) as typeof import("undici") & { default?: typeof import("undici") };
  const undici = loaded.default ?? loaded;
  return { EnvHttpProxyAgent: undici.EnvHttpProxyAgent, buildConnector: undici.buildConnector, Pool: undici.Pool, Client: undici.Client, request: (url, options) => undici.request(url, options) };
}

let parts: Promise<UndiciParts> | undefined;

/** undici's agent, connector and request, loaded once per process on first use. */
export function loadUndici(): Promise<UndiciParts> {
  parts ??= loadParts().catch(loadWhole);
  return parts;
}

/** Node's default for `--max-http-header-size`: 16 KiB. */
const NODE_MAX_HEADER_BYTES = 16 * 1024;

/**
 * The most bytes an answer's head (status line and headers) may take, as Node's own HTTP client allows:
 * the last `--max-http-header-size` Node was given (on its command line, `execArgv`, or in
 * `NODE_OPTIONS`), else Node's default, 16 KiB. undici reads it from node:http, which mpip's requests
 * otherwise never load (scripts/bundle.mjs): mpip gives it to undici instead, so it reads the options as
 * Node does: `NODE_OPTIONS` split at spaces outside double quotes, and an option's name with `_` for `-`
 * (`--max_http_header_size`). A value that is not a positive integer is passed over, as Node itself would
 * refuse to start with it.
 */
export function maxHeaderSize(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ""): number {
  const words = [...nodeOptionsWords(nodeOptions), ...execArgv];
  let size = NODE_MAX_HEADER_BYTES;
  for (const [at, word] of words.entries()) {
    const equals = word.indexOf("=");
    const name = (equals < 0 ? word : word.slice(0, equals)).replaceAll("_", "-");
    if (name !== "--max-http-header-size") continue;
    const value = equals < 0 ? words[at + 1] : word.slice(equals + 1);
    if (value !== undefined && /^[1-9]\d*$/.test(value)) size = Number(value);
  }
  return size;
}

/** The words of `NODE_OPTIONS` as Node splits them: at spaces, but not inside double quotes, where `\` escapes. */
function nodeOptionsWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (quoted && char === "\\" && at + 1 < text.length) word = (word ?? "") + text[++at];
    else if (char === '"') {
      quoted = !quoted;
      word ??= "";
    } else if (/\s/.test(char) && !quoted) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? "") + char;
  }
  if (word !== undefined) words.push(word);
  return words;
}
