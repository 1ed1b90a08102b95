// What went wrong on the wire, in words a person can act on: each low-level error from undici or
// Node (timeouts, resets, refused connections, certificate problems) becomes an MpipError that says
// what failed, on which URL (credentials redacted), what to do, and whether trying again may help.

import { MpipError } from "../errors.js";
import { EXAMPLE_USERINFO } from "../secrets.js";
import { isRetryableStatus, parseRetryAfter, seconds, type Attempt } from "./retry.js";
import { printable, quantity } from "../text.js";
import { hideLogin, proxySetting } from "./proxy-env.js";
import { maxHeaderSize } from "./undici.js";

/** The body ended (or the connection dropped) before all the bytes the response declared had come. */
export class BodyCutShort extends Error {
  constructor(readonly received: number, readonly declared: number | undefined, cause?: unknown) {
    super(declared === undefined ? `cut short after ${quantity(received, "byte")}` : `cut short: ${received} of ${quantity(declared, "byte")}`, { cause });
  }
}

export interface FailureContext {
  /** The URL being fetched, already redacted. */
  url: string;
  timeoutMs: number;
  /** The --cert file, when one was given. */
  certFile?: string;
  /** Where the proxy variables are read (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
}

type Failure = Extract<Attempt<never>, { ok: false }>;

const RETRY_HINT = "try again later, or raise --retries";

export function statusFailure(status: number, retryAfter: string | undefined, context: FailureContext): Failure {
  const retryable = isRetryableStatus(status);
  const hint =
    status === 401 || status === 403
      ? `check your credentials: in the index URL (\`https://${EXAMPLE_USERINFO}@host/...\`) or in ~/.netrc`
      : retryable
        ? `the server is overloaded or failing; ${RETRY_HINT}`
        : "check the index URL";
  const error = new MpipError("http-status", `GET \`${context.url}\` answered HTTP ${status}`, { hint });
  const retryAfterMs = retryable ? parseRetryAfter(retryAfter) : undefined;
  return { ok: false, error, retryable, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

const CERTIFICATE_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ISSUER/;
/** The certificate errors that say no trusted authority signed the certificate. */
const UNKNOWN_SIGNER_CODES = /SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ISSUER/;
const PASSING_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ENETRESET", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

/** Any error thrown while sending a request or reading its body. MpipErrors pass through (not retried). */
export function thrownFailure(thrown: unknown, context: FailureContext): Failure {
  if (thrown instanceof MpipError) return { ok: false, error: thrown, retryable: false };
  const { url, timeoutMs } = context;
  const fail = (message: string, hint: string, retryable: boolean, code: "network" | "tls" = "network"): Failure => ({
    ok: false,
    error: new MpipError(code, message, { hint, cause: thrown }),
    retryable,
  });
  if (thrown instanceof BodyCutShort) {
    const why = describeCause(thrown.cause);
    return fail(`the response from \`${url}\` was ${thrown.message}${why === "" ? "" : ` (${why})`}`, `the connection dropped; ${RETRY_HINT}`, true);
  }
  const code = errorCode(thrown);
  const reason = describeCause(thrown);
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return fail(`could not connect to fetch \`${url}\` within ${seconds(timeoutMs)}`, "check your network and proxy settings (HTTPS_PROXY, NO_PROXY), or raise --timeout", true);
    case "UND_ERR_HEADERS_TIMEOUT":
      return fail(`\`${url}\` sent no answer within ${seconds(timeoutMs)}`, "the server is slow or stuck; try again later, or raise --timeout", true);
    case "UND_ERR_BODY_TIMEOUT":
      return fail(`the download of \`${url}\` stalled: no data for ${seconds(timeoutMs)}`, "the server or the network stalled; try again later, or raise --timeout on a slow link", true);
    case "ECONNREFUSED":
      return fail(`could not connect to fetch \`${url}\`: connection refused`, "check the URL's host and port, and HTTP_PROXY / HTTPS_PROXY if you use a proxy", false);
    case "UND_ERR_HEADERS_OVERFLOW":
      return fail(
        `the answer from \`${url}\` has headers larger than ${quantity(maxHeaderSize(), "byte")}, the most Node's HTTP client accepts`,
        "if the server is meant to send such headers, raise the limit with NODE_OPTIONS=--max-http-header-size=BYTES",
        false,
      );
    case "ENOTFOUND":
      return fail(`could not fetch \`${url}\`: host not found`, "check the host name in the URL and your network connection (DNS); with no network, install what the download cache holds (--offline) or from a folder (`mpip download` makes one; install with `-i DIR`)", false);
    default:
      break;
  }
  if (code !== undefined && CERTIFICATE_CODES.test(code)) {
    // Only a certificate whose signer is unknown is a matter of what mpip trusts; an expired one, or one
    // for another host, is the server's to fix.
    const trust = !UNKNOWN_SIGNER_CODES.test(code)
      ? "the certificate itself is wrong (expired, not yet valid, or made for another host name): the server's operator must fix it, trusting another authority will not help"
      : context.certFile === undefined
        ? "if the index uses a private certificate authority, pass its certificate with `--cert FILE` (PEM) or set NODE_EXTRA_CA_CERTS"
        : `neither Node's certificate authorities nor those in \`${printable(context.certFile)}\` (--cert) signed it: add the certificate of the authority that did to that file`;
    const proxy = httpsProxyFor(url, context.env ?? process.env);
    return fail(
      `could not verify the TLS certificate of \`${url}\` (${reason})`,
      proxy === undefined
        ? trust
        : `${trust}. The request went through the proxy \`${proxy.value}\` (${proxy.name}) unless NO_PROXY names the host: a proxy that inspects TLS signs with an authority of its own${proxy.value.startsWith("https:") ? ", and a proxy reached over https must have a certificate mpip trusts too" : ""}`,
      false,
      "tls",
    );
  }
  if (code === "EPROTO" || code?.startsWith("ERR_SSL") === true || code?.startsWith("ERR_TLS") === true) {
    return fail(`the TLS handshake with \`${url}\` failed (${reason})`, "check that the URL's scheme (http or https) matches the server", false, "tls");
  }
  const retryable = code !== undefined && PASSING_CODES.has(code);
  return fail(
    `could not fetch \`${url}\` (${reason})`,
    retryable ? `the connection dropped; ${RETRY_HINT}` : "check your network connection, proxy settings (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) and the URL",
    retryable,
  );
}

/** The proxy (`https_proxy`, else `HTTPS_PROXY`, as undici reads them) an https URL is sent through, shown without its login; undefined for none. */
function httpsProxyFor(url: string, env: NodeJS.ProcessEnv): { name: string; value: string } | undefined {
  const setting = url.startsWith("https:") ? proxySetting("https", env) : undefined;
  return setting === undefined ? undefined : { name: setting.name, value: printable(hideLogin(setting.value), 120) };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function describeCause(error: unknown): string {
  if (error === undefined || error === null) return "";
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  if (code === "ECONNRESET") return "connection reset";
  if (code === "UND_ERR_SOCKET") return "the server closed the connection";
  if (code === undefined || error.message.includes(code)) return error.message;
  return `${code}: ${error.message}`;
}
