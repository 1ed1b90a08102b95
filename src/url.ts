// URLs from users (specs, -r files, options, MPIP_*_URL, proxies) and from documents (index pages,
// package documents, redirects) go through these few functions, which never throw: `new URL` throws a
// TypeError on `http://[`, `https://` or a port above 65535, and the URI functions throw a URIError on a
// malformed percent-escape or a lone surrogate (which JSON's `\ud800` can put in any string). Callers
// turn `undefined` into an MpipError that names the input and where it came from.

/** The URL `text` names (a relative one resolved against `base`), or undefined when it is none. */
export function parseUrl(text: string, base?: string | URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

/** The http(s) URL `text` names (a relative one resolved against `base`), or undefined for anything else. */
export function parseHttpUrl(text: string, base?: string | URL): URL | undefined {
  const url = parseUrl(text, base);
  return url !== undefined && (url.protocol === "http:" || url.protocol === "https:") ? url : undefined;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `text` is well-formed Unicode: no lone surrogate, which no URL or file name can carry. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** encodeURIComponent for one path segment or query value; a lone surrogate becomes U+FFFD instead of throwing. */
export function encodeSegment(text: string): string {
  return encodeURIComponent(isWellFormed(text) ? text : text.replace(new RegExp(LONE_SURROGATE.source, "g"), "\ufffd"));
}

/**
 * Percent-escapes decoded as Python's `urllib.parse.unquote` decodes them (what pip does with the user and
 * password of an index URL): valid `%XX` runs become their UTF-8 text (bytes that are not UTF-8 become
 * U+FFFD), anything else (`%zz`, a lone `%`) stays as written.
 */
export function decodePercent(text: string): string {
  const utf8 = new TextDecoder("utf-8");
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => utf8.decode(Buffer.from(run.replace(/%/g, ""), "hex")));
}
