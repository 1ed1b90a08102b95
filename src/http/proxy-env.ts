// The proxy variables undici reads (`http_proxy` / `HTTP_PROXY`, `https_proxy` / `HTTPS_PROXY`; the
// lower-case name wins, and an empty value means no proxy), checked before the first request: a malformed
// one would otherwise fail every request with undici's "Invalid URL", naming neither the variable nor
// its value.

import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { parseUrl } from "../url.js";

const PAIRS = [
  ["http_proxy", "HTTP_PROXY"],
  ["https_proxy", "HTTPS_PROXY"],
] as const;

/** The schemes undici's proxy agent takes. */
const PROXY_SCHEMES = new Set(["http:", "https:", "socks:", "socks5:"]);

/**
 * The proxy variable undici reads for URLs of `scheme` (the lower-case name wins) and its value; undefined
 * when it is unset or empty (no proxy).
 */
export function proxySetting(scheme: "http" | "https", env: NodeJS.ProcessEnv = process.env): { name: string; value: string } | undefined {
  const [lower, upper] = PAIRS[scheme === "http" ? 0 : 1];
  const name = env[lower] !== undefined ? lower : upper;
  const value = env[name];
  return value === undefined || value === "" ? undefined : { name, value };
}

/** Throws MpipError("usage") naming the first proxy variable undici could not use. */
export function checkProxyEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const scheme of ["http", "https"] as const) {
    const setting = proxySetting(scheme, env);
    if (setting === undefined) continue;
    const { name, value } = setting;
    const problem = proxyProblem(value);
    if (problem === undefined) continue;
    throw new MpipError("usage", `the environment variable \`${name}\` is \`${printable(hideLogin(value), 120)}\`, which ${problem}`, {
      hint: `set it to a proxy URL with its scheme, such as \`http://proxy.example:3128\`, or unset it`,
    });
  }
}

function proxyProblem(value: string): string | undefined {
  const url = parseUrl(value);
  if (url === undefined) return "is not a valid URL";
  if (!PROXY_SCHEMES.has(url.protocol)) return "is not an http, https or socks5 URL";
  // undici decodes the login of a proxy URL with decodeURIComponent, which throws on a malformed escape.
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    return "has a user name or password with a malformed percent-escape";
  }
  return undefined;
}

/** A proxy URL with its login (`user:password@`) shown as `***@`: never printed, even from a value that is no URL. */
export function hideLogin(value: string): string {
  const url = parseUrl(value);
  if (url !== undefined && (url.username !== "" || url.password !== "")) {
    url.username = "***";
    url.password = "";
    return url.toString();
  }
  // Up to the last `@` before the path, as a URL parser splits a login from the host (`user:pa@ss@proxy`).
  return value.replace(/^([^/]*\/\/)?[^/]*@/, "$1***@");
}
