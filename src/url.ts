// URLs from users (specs, -r files, options, MPIP_*_URL, proxies) and from documents (index pages,
// package documents, redirects) go through these few functions, which never throw: `new URL` throws a
// TypeError on `http://[`, `https://` or a port above 65535, and the URI functions throw a URIError on a
// malformed percent-escape or a lone surrogate (which JSON's `\ud800` can put in any string). Callers
// turn `undefined` into an MpipError that names the input and where it came from.

/**
 * The URL `text` names (a relative one resolved against `base`), or undefined when it is none. Without a
 * base, an http, https or `file:` URL that urlFormProblem finds fault with is none either: WHATWG's
 * parser would read `http:///x` as the host `x` and `file:` as `/`, where pip refuses them.
 */
export function parseUrl(text: string, base?: string | URL): URL | undefined {
  if (base === undefined && urlFormProblem(text) !== undefined) return undefined;
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

/**
 * Why `text`, an absolute http, https or `file:` URL as typed (fragment and query allowed), does not say
 * what WHATWG's URL parser would make of it, as a phrase to follow the URL in a message ("has no host
 * …"), or undefined when it is fine (and for any other text: other schemes, relative references). The
 * parser mends what pip (Python's urllib) reads as written: an http(s) URL needs `//` and a host after
 * it (`http:///x`, `http:x` and `https:/x` are not the host `x`); a `file:` URL needs an absolute path
 * (`file:`, `file://` and `file://host` name none; `file:x` is relative, to nothing), and has no query
 * (pip would drop it silently, reading another file than the URL says).
 */
export function urlFormProblem(text: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  const rest = text.slice((scheme?.length ?? 0) + 1).replace(/[?#][\s\S]*$/, "");
  if (scheme === "http" || scheme === "https") {
    if (!rest.startsWith("//")) return `has no \`//\` and host after \`${scheme}:\` (write \`${scheme}://host/...\`)`;
    const authority = /^[^/\\]*/.exec(rest.slice(2))![0];
    const host = authority.slice(authority.lastIndexOf("@") + 1).replace(/^(\[[^\]]*\]|[^:]*)(:.*)?$/, "$1");
    if (host === "") return `has no host between \`//\` and the path (write \`${scheme}://host/...\`)`;
    return undefined;
  }
  if (scheme === "file") {
    const pathPart = rest.startsWith("//") ? rest.slice(2).replace(/^[^/\\]*/, "") : rest;
    if (pathPart === "") return "names no path (write `file:///absolute/path`)";
    // pip's url_to_path drops a query: the file read would not be the one the URL says. Refused, not dropped.
    if (/^[^#]*\?/.test(text)) return "has a query (`?...`), which names no file on this machine (remove `?` and what follows)";
    if (!/^[/\\]/.test(pathPart)) return "names a relative path, relative to nothing (write `file:///absolute/path`, or the path itself)";
    return undefined;
  }
  return undefined;
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

/**
 * `base` (a URL as given: an index's, a folder's) with `path` (path segments, already percent-encoded,
 * `/`-separated: `foo/json`, `foo/`, `index.json`) appended to its path, its query kept after them, and
 * its fragment dropped (none is sent): `http://h/pypi?token=X` + `foo/json` is `http://h/pypi/foo/json?token=X`,
 * where text joined after the query would have asked `/pypi` with the query `token=X/foo/json`. Slashes
 * at the end of the base's path are one. Works on the text (no parse): what was written is sent as it was.
 */
export function joinUrlPath(base: string, path: string): string {
  const end = base.search(/[?#]/);
  const head = end < 0 ? base : base.slice(0, end);
  const query = end < 0 ? "" : /^\?[^#]*/.exec(base.slice(end))?.[0] ?? "";
  return `${head.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}${query}`;
}

/** `url` without the slashes that end its path (before any query or fragment): `http://h/simple/?t=1` is `http://h/simple?t=1`. */
export function trimPathSlashes(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url.replace(/\/+$/, "") : `${url.slice(0, end).replace(/\/+$/, "")}${url.slice(end)}`;
}
