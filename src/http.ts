// The one way mpip talks HTTP: undici with proxies from the environment, bounded redirects that never
// downgrade https to http, timeouts, size limits, and URLs whose credentials never reach a message.

import type { Dispatcher } from "undici";
import { MpipError } from "./errors.js";

export interface HttpOptions {
  timeoutMs?: number;
  maxRedirects?: number;
  userAgent?: string;
}

export type Fetched = { status: "ok"; url: string; body: Buffer; contentType: string } | { status: "not-found"; url: string };

const DEFAULT_TIMEOUT_MS = 30_000;

/** `https://user:token@host/x` → `https://***@host/x`: safe for messages, logs and reports. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "***";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//***@");
  }
}

type Undici = typeof import("undici");

export class HttpClient {
  // undici takes longer to load than the rest of mpip together: load it only when a request is made.
  private client: Promise<{ undici: Undici; dispatcher: Dispatcher }> | undefined;
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly userAgent: string;

  constructor(options: HttpOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRedirects = options.maxRedirects ?? 10;
    this.userAgent = options.userAgent ?? "mpip";
  }

  /** GET a URL; a 404 or 410 is an answer ("not here"), any other failure throws. */
  async get(url: string, options: { accept?: string; maxBytes: number }): Promise<Fetched> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const response = await this.send(current, options.accept);
      const { statusCode, headers } = response;
      if (statusCode >= 300 && statusCode < 400 && headers.location !== undefined) {
        await response.body.dump();
        current = this.redirectTarget(current, String(headers.location), hop);
        continue;
      }
      if (statusCode === 404 || statusCode === 410) {
        await response.body.dump();
        return { status: "not-found", url: current };
      }
      if (statusCode < 200 || statusCode >= 300) {
        await response.body.dump();
        throw new MpipError("http-status", `GET \`${redactUrl(current)}\` answered HTTP ${statusCode}`, {
          hint: statusCode >= 500 ? "the server had a problem; try again later" : "check the index URL and your credentials",
        });
      }
      const body = await this.readBody(current, response.body, declaredLength(headers["content-length"]), options.maxBytes);
      return { status: "ok", url: current, body, contentType: String(headers["content-type"] ?? "") };
    }
  }

  async close(): Promise<void> {
    if (this.client !== undefined) await (await this.client).dispatcher.close();
  }

  private connect() {
    const timeout = this.timeoutMs;
    this.client ??= import("undici").then((undici) => ({
      undici,
      // Proxies come from HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as curl and pip read them.
      dispatcher: new undici.EnvHttpProxyAgent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout }),
    }));
    return this.client;
  }

  private async send(url: string, accept: string | undefined): Promise<Dispatcher.ResponseData> {
    const parsed = new URL(url);
    const headers: Record<string, string> = { "user-agent": this.userAgent };
    if (accept !== undefined) headers.accept = accept;
    if (parsed.username !== "" || parsed.password !== "") {
      // Credentials travel as a header for this host only; a redirect elsewhere carries none.
      const token = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      headers.authorization = `Basic ${Buffer.from(token).toString("base64")}`;
      parsed.username = "";
      parsed.password = "";
    }
    const { undici, dispatcher } = await this.connect();
    try {
      return await undici.request(parsed, { method: "GET", headers, dispatcher });
    } catch (error) {
      throw networkError(url, error);
    }
  }

  private redirectTarget(from: string, location: string, hop: number): string {
    if (hop + 1 > this.maxRedirects) {
      throw new MpipError("network", `too many redirects (more than ${this.maxRedirects}) fetching \`${redactUrl(from)}\``, {
        hint: "the server redirects in a loop; check the index URL",
      });
    }
    const target = new URL(location, from);
    const source = new URL(from);
    if (source.protocol === "https:" && target.protocol !== "https:") {
      throw new MpipError("network", `refused a redirect from \`${redactUrl(from)}\` to \`${redactUrl(target.toString())}\`: it downgrades https to ${target.protocol.slice(0, -1)}`, {
        hint: "use an index that stays on https",
      });
    }
    if (target.host !== source.host) {
      target.username = "";
      target.password = "";
    }
    return target.toString();
  }

  private async readBody(url: string, body: Dispatcher.ResponseData["body"], declared: number | undefined, maxBytes: number): Promise<Buffer> {
    if (declared !== undefined && declared > maxBytes) {
      body.destroy();
      throw tooLarge(url, maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body) {
        total += (chunk as Buffer).length;
        if (total > maxBytes) {
          body.destroy();
          throw tooLarge(url, maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof MpipError) throw error;
      throw networkError(url, error);
    }
    if (declared !== undefined && total !== declared) {
      throw new MpipError("network", `the response from \`${redactUrl(url)}\` was cut short (${total} of ${declared} bytes)`, {
        hint: "the connection dropped; try again",
      });
    }
    return Buffer.concat(chunks, total);
  }
}

function declaredLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function tooLarge(url: string, maxBytes: number): MpipError {
  return new MpipError("network", `the response from \`${redactUrl(url)}\` is larger than ${maxBytes} bytes`, {
    hint: "this is not a MicroPython package or index document; check the URL",
  });
}

function networkError(url: string, cause: unknown): MpipError {
  const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
  return new MpipError("network", `could not fetch \`${redactUrl(url)}\` (${reason})`, {
    cause,
    hint: "check your network connection, proxy settings (HTTPS_PROXY, NO_PROXY) and the index URL",
  });
}
