// The one way mpip talks HTTP: undici with proxies from the environment, extra CA certificates,
// timeouts, retries with backoff, bounded redirects that never downgrade https to http, size limits,
// credentials sent only to their own origin, and URLs whose credentials never reach a message.
// The parts live in src/http/: auth (who gets which credentials), body (reading a body whole and
// never mistaking a cut-short one for complete), failures (errors in words), retry (when and how long),
// file-url (a local index's `file:` URLs, answered from its folder as a server would answer).
// Bodies go into a sink (sink.ts): memory, drawing on the install's MemoryBudget as bytes arrive, or a
// file. Once the client's signal aborts, every request, retry wait and wait for memory ends at once, and
// the signal's reason is what is thrown. Closing the client ends the requests still in flight too (a
// dependency looked up ahead that its level never asked for): no request outlives its operation.

import { setMaxListeners } from "node:events";
import { setTimeout as abortableSleep } from "node:timers/promises";
import type { Dispatcher, Pool } from "undici";
import { Draw, MemoryBudget, type Lease, type Quota } from "./budget.js";
import { MpipError } from "./errors.js";
import { redactQuery } from "./secrets.js";
import { Credentials } from "./http/auth.js";
import { declaredLength, readBody, tooLarge } from "./http/body.js";
import { statusFailure, thrownFailure } from "./http/failures.js";
import { isFileUrl, LocalIndexFiles } from "./http/file-url.js";
import { nextCheck } from "./event-loop.js";
import { errnoCode } from "./image/io-error.js";
import { CAUTIOUS_CONNECTIONS, ConnectionPolicy, OPEN_CONNECTIONS } from "./http/connections.js";
import { checkProxyEnvironment } from "./http/proxy-env.js";
import { DEFAULT_RETRIES, DEFAULT_RETRY_BASE_MS, withRetries, type Attempt, type RetryNotice } from "./http/retry.js";
import { trustedContext } from "./http/tls.js";
import { loadUndici, maxHeaderSize, type UndiciParts } from "./http/undici.js";
import type { Cache } from "./cache/cache.js";
import { conditionalHeaders, forbidsStoring, storedUrl, validatorsOf, type CachedAnswer } from "./cache/documents.js";
import { offlineMiss } from "./cache/offline.js";
import { TeeSink } from "./cache/store.js";
import { MemorySink, type BodySink } from "./sink.js";
import { printable } from "./text.js";
import { parseUrl } from "./url.js";

export interface HttpOptions {
  /** For connecting, for the response headers, and for each pause in a body. */
  timeoutMs?: number;
  maxRedirects?: number;
  userAgent?: string;
  /** Retries after a first failed attempt, for temporary failures only (429, 5xx, resets, cut-short bodies, timeouts). */
  retries?: number;
  /** The first retry's backoff; default MPIP_RETRY_BASE_MS (meant for tests) or 500 ms. */
  retryBaseMs?: number;
  /** A PEM bundle of certificate authorities to trust besides the default ones. */
  certFile?: string;
  /** Details worth a line at -v: each retry, an ignored netrc file. */
  log?: (message: string) => void;
  /**
   * Told, whatever the verbosity, when a request is about to be tried again (`retrying` says which
   * attempt comes and why) and, with `undefined`, when that request has ended: for the progress line.
   * `key` tells concurrent requests apart.
   */
  onRetrying?: (key: string, retrying: RetryNotice | undefined) => void;
  /** Aborting it ends every request and retry wait at once (SIGINT, SIGTERM). */
  signal?: AbortSignal;
  /** The hosts the user named (index URLs): the only ones netrc's `default` login is sent to. */
  trustedHosts?: string[];
  /** What bodies read into memory may hold at once (default: no bound). */
  memory?: MemoryBudget;
  /**
   * The download cache: answers are remembered by URL with their validators and asked for again with a
   * conditional request (see cache/documents.ts), unless a request says `cacheByUrl: false`.
   */
  cache?: Cache;
  /** Never use the network (`--offline`): answers come from `cache` as they are, and a request it cannot answer fails. */
  offline?: boolean;
}

/** An answer: the body as the sink made it, or "not here" (404, 410). */
export type Answer<T> = { status: "ok"; url: string; body: T; contentType: string } | { status: "not-found"; url: string };
export type Fetched = Answer<Buffer>;

export interface GetOptions {
  accept?: string;
  /** The most bytes the body may have; over it, the error ends in "is larger than {maxBytes} bytes". */
  maxBytes: number;
  /** A limit shared with other downloads (a package's files together): its error is thrown when over. */
  quota?: Quota;
  /**
   * Remember the answer by URL in the cache and revalidate it next time (default true): documents and
   * files with no full sha256. A file with one is cached by its hash instead (fetch.ts), and says false.
   */
  cacheByUrl?: boolean;
  /**
   * Ends this request alone, as the client's signal ends them all: a look-up made ahead that its level
   * no longer wants (resolve/lookups.ts). Its reason is what is thrown.
   */
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * `https://user:token@host/x?private_token=t&v=1` → `https://***@host/x?private_token=***&v=1`: the
 * userinfo, and the value of every query parameter that holds a credential (secrets.ts SECRET_QUERY_NAME),
 * written `***`; safe for messages, logs, reports and install records. Never throws.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return redactQuery(url);
    parsed.username = "***";
    parsed.password = "";
    return redactQuery(parsed.toString());
  } catch {
    return redactQuery(url.replace(/\/\/[^/]*@/, "//***@"));
  }
}

export class HttpClient {
  // undici takes longer to load than the rest of mpip together: load it only when a request is made.
  private client: Promise<{ undici: UndiciParts; cautious: Dispatcher; cautiousPools: ReadonlyMap<string, Pool>; open: Dispatcher }> | undefined;
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly userAgent: string;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly certFile: string | undefined;
  private readonly log: (message: string) => void;
  private readonly onRetrying: (key: string, retrying: RetryNotice | undefined) => void;
  /** How many connections each origin may have (http/connections.ts). */
  private readonly connections = new ConnectionPolicy();
  /** Numbers the requests, for `onRetrying`'s keys. */
  private requests = 0;
  private readonly credentials: Credentials;
  /** Aborting it ends every request of this client, and every wait for memory. */
  readonly signal: AbortSignal | undefined;
  /**
   * What every request, retry wait and body of this client listens to: aborted with `signal`'s reason
   * when `signal` aborts, or by `close()`, which ends the requests no one waits for any more.
   */
  private readonly ending = new AbortController();
  private readonly forwardAbort = () => this.ending.abort(this.signal!.reason);
  /** The bound on bodies held in memory, shared by every request of this client. */
  readonly memory: MemoryBudget;
  /** `file:` URLs: the local index folders that may be read, and their reading (http/file-url.ts). */
  private readonly files = new LocalIndexFiles();
  /** The download cache, if there is one (not with --no-cache). */
  readonly cache: Cache | undefined;
  /** `--offline`: no request ever leaves; answers come from the cache or not at all. */
  readonly offline: boolean;

  constructor(options: HttpOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRedirects = options.maxRedirects ?? 10;
    this.userAgent = options.userAgent ?? "mpip";
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.retryBaseMs = options.retryBaseMs ?? retryBaseFromEnv() ?? DEFAULT_RETRY_BASE_MS;
    this.certFile = options.certFile;
    this.log = options.log ?? (() => {});
    this.onRetrying = options.onRetrying ?? (() => {});
    this.credentials = new Credentials(this.log, options.trustedHosts ?? []);
    this.signal = options.signal;
    // Every request in flight listens to it: dozens at once are expected, not a leak.
    setMaxListeners(0, this.ending.signal);
    if (this.signal?.aborted === true) this.forwardAbort();
    else this.signal?.addEventListener("abort", this.forwardAbort, { once: true });
    this.memory = options.memory ?? new MemoryBudget(Number.POSITIVE_INFINITY);
    this.cache = options.cache;
    this.offline = options.offline ?? false;
  }

  /**
   * GET a URL into memory; a 404 or 410 is an answer ("not here"), any other failure throws once retries
   * are spent. The body draws on `lease` (kept by the caller, who releases it when done with the bytes),
   * or on a lease of its own that is released on return, when the caller parses the body at once.
   */
  async get(url: string, options: GetOptions & { lease?: Lease }): Promise<Fetched> {
    const lease = options.lease ?? this.memory.lease();
    try {
      return await this.getInto(url, options, new MemorySink(), lease);
    } finally {
      if (options.lease === undefined) lease.release();
    }
  }

  /**
   * GET a URL into `sink`, as `get` does otherwise. A sink that keeps the bytes in memory draws on
   * `lease`; one that writes them to a file needs none.
   */
  async getInto<T>(url: string, options: GetOptions, sink: BodySink<T>, lease?: Lease): Promise<Answer<T>> {
    // A local index's documents and files answer as a server would, without the network (http/file-url.ts).
    const signal = options.signal === undefined ? this.ending.signal : eitherSignal(this.ending.signal, options.signal);
    if (isFileUrl(url)) return this.files.getInto(url, options, sink, lease, signal);
    let start: URL;
    try {
      start = this.credentials.take(new URL(url));
    } catch (error) {
      throw new MpipError("network", `\`${redactUrl(url)}\` is not a valid URL`, { cause: error, hint: "check the index URL" });
    }
    const documents = options.cacheByUrl === false ? undefined : this.cache?.documents;
    const cacheKey = documents?.keyFor(start, options.accept);
    const revalidation: Revalidation | undefined = cacheKey === undefined ? undefined : { key: cacheKey, cached: await documents!.lookup(cacheKey, start) };
    if (this.offline) return this.answerOffline(start, options, sink, lease, revalidation, signal);
    // Whether the request was sent again on another connection (sendFresh): once for all its attempts.
    const resend = { spent: false };
    const attempt = async () => {
      signal.throwIfAborted();
      const result = await this.attempt(start, options, sink, lease, signal, resend, revalidation);
      // A try the run itself ended (another part of it failed, an interrupt) failed for that alone: it is
      // neither retried nor told as a failure of the server's (a body "cut short", "retry 1 of 3").
      if (!result.ok) signal.throwIfAborted();
      return result;
    };
    const sleep = { sleep: (ms: number) => abortableSleep(ms, undefined, { signal }) };
    const key = `${++this.requests}`;
    let retried = false;
    const onRetry = (message: string, notice: RetryNotice) => {
      this.log(message);
      retried = true;
      this.onRetrying(key, notice);
    };
    try {
      return await withRetries(attempt, { retries: this.retries, baseDelayMs: this.retryBaseMs }, { onRetry, ...sleep });
    } catch (error) {
      // Aborted: whatever the abort did to the request, the reason is what the caller must see.
      if (signal.aborted) throw signal.reason;
      throw error;
    } finally {
      if (retried) this.onRetrying(key, undefined);
    }
  }

  /**
   * Lets `get` and `getInto` read `file:` URLs inside this folder (a local index given with `-i`, as a
   * `file:` URL): only files inside a folder allowed so are ever read.
   */
  allowFolder(folderUrl: string): void {
    this.files.allow(folderUrl);
  }

  /** Drops what the cache remembers of `url` (asked with `accept`), so that the next request for it is made whole. */
  async forgetAnswer(url: string, accept?: string): Promise<void> {
    const parsed = parseUrl(url);
    if (this.cache === undefined || parsed === undefined) return;
    // The answer may still be being remembered behind its caller: forgotten after that, not before.
    await Promise.all([...this.storing]);
    await this.cache.documents.forget(this.cache.documents.keyFor(parsed, accept));
  }

  /**
   * Ends the client: requests still in flight (or waiting to retry) are aborted, their callers getting
   * a `network` MpipError that says the client was closed (or the signal's reason, if it aborted first),
   * and the connections are closed. Whoever closes it has every answer it waits for, so what is still
   * running is wanted by no one: a look-up made ahead (resolve/lookups.ts) that its level never asked
   * for must neither hold the operation's end until its server answers or times out, nor keep the
   * process alive.
   */
  async close(): Promise<void> {
    this.signal?.removeEventListener("abort", this.forwardAbort);
    this.ending.abort(new MpipError("network", "the request was still running when mpip closed its connections", { hint: "this is a bug in mpip if it is ever shown; please report it" }));
    // A client that never came up (an unreadable --cert file) has already reported why.
    const client = await this.client?.catch(() => undefined);
    // Nothing is in flight any more (aborted above): the connections are ended at once, each with one error
    // made without a stack. Node reads the stack of the error a socket is destroyed with, and undici's own
    // (one per connection) would each have V8 find the lines of the whole bundle to place its frames.
    const closing = withoutStack(() => new Error("mpip closed its connections"));
    await Promise.all([...this.storing, client?.cautious.destroy(closing), client?.open.destroy(closing)]);
  }

  /**
   * Answers being written into the cache after their callers got them: a request does not wait for the
   * disk (the entry's rename, the document beside it), `close()` does. Their failures are the cache's
   * to tell (StoreEvents) and never reject.
   */
  private readonly storing = new Set<Promise<unknown>>();

  /** Lets `close()` wait for `work`, a write into the cache that no caller waits for (see `storing`). */
  storeBehind(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.storing.delete(tracked));
    this.storing.add(tracked);
  }

  /**
   * `--offline`: the remembered answer, as it is, or an error naming the URL. A remembered body the
   * store has lost (or that no longer hashes to its name) is as good as none.
   */
  private async answerOffline<T>(start: URL, options: GetOptions, sink: BodySink<T>, lease: Lease | undefined, revalidation: Revalidation | undefined, signal: AbortSignal): Promise<Answer<T>> {
    signal.throwIfAborted();
    const cached = revalidation?.cached;
    if (cached !== undefined) {
      const draw = new Draw({ quota: options.quota, lease, signal });
      try {
        const answer = await this.fromCache(cached, options, sink, draw);
        if (answer !== undefined) return answer;
        draw.refund();
      } catch (error) {
        draw.refund();
        throw error;
      }
    }
    const url = redactUrl(start.toString());
    throw offlineMiss(`\`${url}\``, url, this.cache?.dir);
  }

  /** A remembered answer, its body read from the store into `sink`; undefined when the store no longer has it. */
  private async fromCache<T>(cached: CachedAnswer, options: GetOptions, sink: BodySink<T>, draw: Draw): Promise<Answer<T> | undefined> {
    if (cached.status === "not-found") return { status: "not-found", url: cached.url };
    const body = await this.cache!.store.readInto(cached.sha256, sink, { maxBytes: options.maxBytes, draw, tooLarge: () => tooLarge(redactUrl(cached.url), options.maxBytes) });
    return body === undefined ? undefined : { status: "ok", url: cached.url, body, contentType: cached.contentType };
  }

  /**
   * One try: follow redirects, read the body. `start` carries no credentials; neither does any URL
   * returned. What the try drew on the quota and the lease is given back if it fails. With
   * `revalidation`, the request for the URL a remembered answer came from is conditional, a 304 is
   * answered from the cache, and what the server answers is remembered (unless it says `no-store`).
   */
  private async attempt<T>(start: URL, options: GetOptions, sink: BodySink<T>, lease: Lease | undefined, signal: AbortSignal, resend: { spent: boolean }, revalidation?: Revalidation): Promise<Attempt<Answer<T>>> {
    let current = start;
    const context = () => ({ url: current.toString(), timeoutMs: this.timeoutMs, ...(this.certFile === undefined ? {} : { certFile: this.certFile }) });
    const draw = new Draw({ quota: options.quota, lease, signal });
    let tee: TeeSink<T> | undefined;
    try {
      for (let hop = 0; ; hop++) {
        const cached = revalidation?.cached;
        // The cache writes a URL without credentials in its query (cache/documents.ts storedUrl): compared so.
        const validators = cached !== undefined && storedUrl(cached.url) === storedUrl(current) ? conditionalHeaders(cached) : undefined;
        const response = await this.sendFresh(current, options.accept, signal, hop > 0, resend, validators);
        const { statusCode, headers } = response;
        this.connections.answered(current.origin, headers.connection);
        if (statusCode === 304 && validators !== undefined) {
          await response.body.dump();
          const answer = await this.fromCache({ ...cached!, url: current.toString() }, options, sink, draw);
          if (answer !== undefined) return { ok: true, value: answer };
          // The store lost the body since: forget the answer and ask again, unconditionally.
          draw.refund();
          revalidation!.cached = undefined;
          await this.cache!.documents.forget(revalidation!.key);
          current = start;
          hop = -1;
          continue;
        }
        if (statusCode >= 300 && statusCode < 400 && headers.location !== undefined) {
          await response.body.dump();
          current = this.redirectTarget(current, String(headers.location), hop);
          continue;
        }
        if (statusCode === 404 || statusCode === 410) {
          await response.body.dump();
          const value: Answer<T> = { status: "not-found", url: current.toString() };
          if (revalidation !== undefined) this.storeBehind(this.remember(start, revalidation, headers, value, undefined));
          return { ok: true, value };
        }
        if (statusCode < 200 || statusCode >= 300) {
          await response.body.dump();
          const retryAfter = headers["retry-after"];
          return statusFailure(statusCode, typeof retryAfter === "string" ? retryAfter : undefined, context());
        }
        tee = revalidation !== undefined && !forbidsStoring(headers) ? new TeeSink(sink, this.cache!.store.writer()) : undefined;
        const body = await readBody(response.body, declaredLength(headers["content-length"]), { maxBytes: options.maxBytes, draw }, current.toString(), tee ?? sink);
        const value: Answer<T> = { status: "ok", url: current.toString(), body, contentType: String(headers["content-type"] ?? "") };
        // The answer is the caller's now; the cache takes it behind (see storeBehind), holding what it
        // remembers of it, not its body.
        if (revalidation !== undefined) {
          const stored = tee?.commit() ?? Promise.resolve(undefined);
          const remembered: Answer<undefined> = { status: "ok", url: value.url, body: undefined, contentType: value.contentType };
          this.storeBehind(stored.then((entry) => this.remember(start, revalidation, headers, remembered, entry)));
        }
        tee = undefined;
        return { ok: true, value };
      }
    } catch (error) {
      draw.refund();
      await tee?.discard();
      return thrownFailure(error, context());
    }
  }

  /**
   * Remembers an answer by the URL asked for (with its body's hash in the store, for a 200), unless the
   * server said `no-store` or the body could not be stored: then any earlier answer is forgotten.
   */
  private async remember<T>(start: URL, revalidation: Revalidation, headers: Record<string, string | string[] | undefined>, answer: Answer<T>, stored: { sha256: string; bytes: number } | undefined): Promise<void> {
    const documents = this.cache!.documents;
    const validators = validatorsOf(headers);
    const entry: CachedAnswer | undefined = forbidsStoring(headers) ? undefined
      : answer.status === "not-found" ? { status: "not-found", url: answer.url, ...validators }
        : stored === undefined ? undefined
          : { status: "ok", url: answer.url, contentType: answer.contentType, sha256: stored.sha256, size: stored.bytes, ...validators };
    if (entry !== undefined) await documents.remember(revalidation.key, start, entry);
    else if (revalidation.cached !== undefined) await documents.forget(revalidation.key);
  }

  private connect() {
    this.client ??= Promise.all([loadUndici(), trustedContext(this.certFile)]).then(([undici, secureContext]) => {
      checkProxyEnvironment();
      const timeout = this.timeoutMs;
      const tls = { timeout, ...(secureContext === undefined ? {} : { secureContext }) };
      // Proxies come from HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as curl and pip read them. A proxy's own
      // connection and the TLS tunnelled through it get the same timeout and certificates. HTTP/2 is used
      // where the server offers it (ALPN), one connection then carrying many requests. Connections are
      // kept alive and capped per origin: 6 until the origin has kept one alive, then 16 (http/connections.ts).
      const connect = undici.buildConnector({ ...tls, allowH2: true });
      // The TLS inside a proxy's tunnel offers HTTP/2 as a direct connection does (undici's proxy agent
      // builds that connector from `requestTls` alone): without it, a server that speaks only HTTP/2 is
      // refused through a proxy, and one that speaks both gets HTTP/1.1.
      const tunnelledTls = { ...tls, allowH2: true };
      // Given, so that undici need not load node:http to read Node's (http/undici.ts).
      const headerBytes = maxHeaderSize();
      // The connections are counted where each origin's pool is made, with the connector it is given:
      // ours, or, through a proxy, the proxy agent's own, which opens a tunnel per connection (undici's
      // proxy agent replaces the `connect` option, so counting in it would count nothing proxied).
      // The cautious agent's pools are kept by origin: once the origin has kept a connection alive, a
      // request still goes through them while one of their connections is idle (see send).
      const factory = (pools?: Map<string, Pool>) => (origin: string | URL, options: object) => {
        const given: Pool.Options = { maxHeaderSize: headerBytes, ...(options as Pool.Options) };
        const counted: Pool.Options = typeof given.connect === "function" ? { ...given, connect: this.connections.counting(given.connect) } : given;
        if (given.connections === 1) return new undici.Client(origin, counted);
        const pool = new undici.Pool(origin, counted);
        pools?.set(typeof origin === "string" ? new URL(origin).origin : origin.origin, pool);
        return pool;
      };
      // The pool to a proxy itself (which carries the CONNECT requests) is made by undici's ProxyAgent with
      // a factory of its own: given Node's limit here too, or undici would load node:http to read it.
      const clientFactory = (origin: URL, options: object) => new undici.Pool(origin, { maxHeaderSize: headerBytes, ...(options as Pool.Options) });
      const agent = (connections: number, pools?: Map<string, Pool>) =>
        new undici.EnvHttpProxyAgent({ connect, factory: factory(pools), clientFactory, connections, proxyTls: tls, requestTls: tunnelledTls, headersTimeout: timeout, bodyTimeout: timeout, allowH2: true });
      const cautiousPools = new Map<string, Pool>();
      return { undici, cautious: agent(CAUTIOUS_CONNECTIONS, cautiousPools), cautiousPools, open: agent(OPEN_CONNECTIONS) };
    });
    return this.client;
  }

  /**
   * `send`, once more on another connection where the one it took was closed before any answer came, if
   * the origin keeps connections alive: a connection that lay idle while mpip was busy (a slow disk, a
   * long unpack) may have been closed by the server's keep-alive timeout before mpip read that it was,
   * and the request sent on it fails for that alone. A GET is safe to send again, and this is no failure
   * of the server's: the second sending is not one of `--retries` (as curl sends again on a reused
   * connection that died), and it is made once for all the attempts of one request (`resend`), so that
   * a server that drops every request is not asked twice as often. Anything else it throws is `send`'s.
   */
  private async sendFresh(url: URL, accept: string | undefined, signal: AbortSignal, isRedirect: boolean, resend: { spent: boolean }, validators?: Record<string, string>): Promise<Dispatcher.ResponseData> {
    try {
      return await this.send(url, accept, signal, isRedirect, validators);
    } catch (error) {
      const code = errnoCode(error);
      const closed = code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE";
      if (!closed || resend.spent || signal.aborted || !this.connections.keepsAlive(url.origin)) throw error;
      resend.spent = true;
      this.log(`a connection to \`${redactUrl(url.origin)}\` kept alive was closed before it answered; sending the request for \`${redactUrl(url.toString())}\` again`);
      return this.send(url, accept, signal, isRedirect, validators);
    }
  }

  private async send(url: URL, accept: string | undefined, signal: AbortSignal, isRedirect: boolean, validators?: Record<string, string>): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { "user-agent": this.userAgent, ...validators };
    if (accept !== undefined) headers.accept = accept;
    const authorization = await this.credentials.authorization(url, isRedirect);
    if (authorization !== undefined) headers.authorization = authorization;
    const { undici, cautious, cautiousPools, open } = await this.connect();
    // An origin that keeps connections alive is asked through the open agent, but first through the
    // connections the cautious one has left idle: a request takes one of them while there is one, rather
    // than a new connection beside them, each of which costs a round trip, and another one or two for
    // TLS. undici takes a connection back only one turn of the event loop after its answer ended (it
    // waits for a server that closes although it said it would not), and the request that answer leads
    // to is made in that very turn: where the cautious pool has such a connection, the request waits for
    // that turn. Then the agent is chosen and the request sent in one go, so that requests made together
    // each see the connections the ones before them took (a pool's count of free connections drops as it
    // sends). A 21-package install on a keep-alive server opened 15 connections for 42 requests; 10 now.
    if (!this.connections.keepsAlive(url.origin)) return undici.request(url, { method: "GET", headers, dispatcher: cautious, signal });
    const pool = cautiousPools.get(url.origin);
    if (pool !== undefined && pool.stats.free === 0 && pool.stats.connected > pool.stats.running) await nextCheck();
    const dispatcher = pool !== undefined && pool.stats.free > 0 ? cautious : open;
    return undici.request(url, { method: "GET", headers, dispatcher, signal });
  }

  private redirectTarget(from: URL, location: string, hop: number): URL {
    if (hop + 1 > this.maxRedirects) {
      throw new MpipError("network", `too many redirects (more than ${this.maxRedirects}) fetching \`${from}\``, {
        hint: "the server redirects in a loop; check the index URL",
      });
    }
    const target = parseUrl(location, from);
    if (target === undefined) throw new MpipError("network", `\`${redactUrl(from.toString())}\` redirects to \`${printable(redactUrl(location), 120)}\`, which is not a valid URL`, { hint: "the server sent a malformed redirect; report it to its maintainers" });
    if (from.protocol === "https:" && target.protocol !== "https:") {
      throw new MpipError("network", `refused a redirect from \`${from}\` to \`${redactUrl(target.toString())}\`: it downgrades https to ${target.protocol.slice(0, -1)}`, {
        hint: "use an index that stays on https",
      });
    }
    // Credentials in a Location header belong to the host it names; take them out of the URL.
    return this.credentials.take(target);
  }
}

/** A request's entry in the cache by URL: its key, and the answer remembered (cleared when it proved unusable). */
interface Revalidation {
  key: string;
  cached: CachedAnswer | undefined;
}

/** What `make` returns, made with no stack trace (`Error.stackTraceLimit` 0 meanwhile). */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function retryBaseFromEnv(): number | undefined {
  const value = process.env.MPIP_RETRY_BASE_MS;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * A signal that aborts when either does, with its reason: AbortSignal.any (Node 20.3+), or on an older
 * Node 20 listeners that stay on `first` as long as it lives (one per request given a signal of its own:
 * the look-ups made ahead, a few per package).
 */
function eitherSignal(first: AbortSignal, second: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === "function") return AbortSignal.any([first, second]);
  const controller = new AbortController();
  for (const signal of [first, second]) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}
