// The little HTML that PEP 503 project pages need: start tags with their attributes, and the text of
// each `<a>`. Index servers write HTML by hand-rolled templates, so this reads it the tolerant way a
// browser does (any attribute quoting, any tag case, entities, comments) in one linear pass: the page
// comes from the network, and no input may make the scanner slow or throw.

export interface HtmlTag {
  /** Lowercase tag name. */
  name: string;
  /** Lowercase attribute names; values with entities decoded; an attribute without a value is "". */
  attributes: Map<string, string>;
  /** For `<a>`: the text up to `</a>` (or the next `<a>`), inner tags removed, entities decoded, trimmed. */
  text: string;
}

const TAG_START = /<(\/?)([A-Za-z][A-Za-z0-9:-]*)/y;
/** Elements whose content is not markup: an `<a>` inside a script is not a link. */
const RAW_TEXT = new Set(["script", "style", "textarea", "title"]);

/** The start tags named in `wanted`, in document order. */
export function scanTags(html: string, wanted: ReadonlySet<string>): HtmlTag[] {
  const tags: HtmlTag[] = [];
  let anchor: { tag: HtmlTag; textStart: number } | undefined;
  const closeAnchor = (at: number): void => {
    if (anchor !== undefined) anchor.tag.text = innerText(html.slice(anchor.textStart, at));
    anchor = undefined;
  };
  let pos = 0;
  while ((pos = html.indexOf("<", pos)) !== -1) {
    if (html.startsWith("<!--", pos)) {
      pos = skipPast(html, "-->", pos + 4);
      continue;
    }
    TAG_START.lastIndex = pos;
    const match = TAG_START.exec(html);
    if (match === null) {
      pos += 1; // a stray `<` is text
      continue;
    }
    const closing = match[1] === "/";
    const name = match[2]!.toLowerCase();
    const { attributes, end } = readAttributes(html, TAG_START.lastIndex);
    if (name === "a") closeAnchor(pos); // `</a>` ends an anchor, and so does a new `<a>` (anchors do not nest)
    if (!closing && wanted.has(name)) {
      const tag: HtmlTag = { name, attributes, text: "" };
      tags.push(tag);
      if (name === "a") anchor = { tag, textStart: end };
    }
    pos = !closing && RAW_TEXT.has(name) ? skipRawText(html, name, end) : end;
  }
  closeAnchor(html.length);
  return tags;
}

const SPACES = /[\t\n\f\r ]*/y;
const SPACES_AND_SLASHES = /[\t\n\f\r /]*/y;
/** An attribute name: its first character may be anything that does not end the tag, even `=`. */
const ATTRIBUTE_NAME = /[^\t\n\f\r />][^\t\n\f\r />=]*/y;
const UNQUOTED_VALUE = /[^\t\n\f\r >]*/y;

/** Where a sticky regex's match starting at `pos` ends; `pos` itself when nothing matches there. */
function skip(pattern: RegExp, html: string, pos: number): number {
  pattern.lastIndex = pos;
  // A failed sticky match resets lastIndex to 0: returning that would loop forever.
  return pattern.exec(html) === null ? pos : pattern.lastIndex;
}

/** Attributes from just after a tag name to its `>`; `end` is the position after the `>`. */
function readAttributes(html: string, start: number): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  let pos = start;
  for (;;) {
    pos = skip(SPACES_AND_SLASHES, html, pos);
    if (pos >= html.length) return { attributes, end: html.length };
    if (html[pos] === ">") return { attributes, end: pos + 1 };
    const nameEnd = skip(ATTRIBUTE_NAME, html, pos);
    const name = html.slice(pos, nameEnd).toLowerCase();
    pos = skip(SPACES, html, nameEnd);
    let value = "";
    if (html[pos] === "=") {
      pos = skip(SPACES, html, pos + 1);
      const quote = html[pos];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, pos + 1);
        const stop = close === -1 ? html.length : close;
        value = html.slice(pos + 1, stop);
        pos = Math.min(stop + 1, html.length);
      } else {
        const stop = skip(UNQUOTED_VALUE, html, pos);
        value = html.slice(pos, stop);
        pos = stop;
      }
    }
    // As in browsers, the first of two same-named attributes wins.
    if (!attributes.has(name)) attributes.set(name, decodeEntities(value, true));
  }
}

function skipPast(html: string, marker: string, from: number): number {
  const at = html.indexOf(marker, from);
  return at === -1 ? html.length : at + marker.length;
}

/** Position of `</name` after a raw-text element's start tag (the end tag itself is scanned normally). */
function skipRawText(html: string, name: string, from: number): number {
  const end = new RegExp(`</${name}[\\t\\n\\f\\r />]`, "ig");
  end.lastIndex = from;
  return end.exec(html)?.index ?? html.length;
}

function innerText(markup: string): string {
  const text = markup.replace(/<!--[\s\S]*?(?:-->|$)/g, "").replace(/<[^>]*(?:>|$)/g, "");
  return decodeEntities(text, false).replace(/[\t\n\f\r ]+/g, " ").trim();
}

const NAMED: Record<string, string> = {
  amp: "&", AMP: "&", lt: "<", LT: "<", gt: ">", GT: ">", quot: '"', QUOT: '"', apos: "'", nbsp: "\u00a0",
};
/** Entities HTML still decodes without their `;` (the legacy ones an index might write). */
const LEGACY = new Set(["amp", "AMP", "lt", "LT", "gt", "GT", "quot", "QUOT"]);
const ENTITY = /&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{0,31}))(;?)/g;

/**
 * `&amp;`, `&#38;`, `&#x26;` and the usual named entities; unknown ones are left as written. In an
 * attribute, `&amp=` without a `;` stays as is, as browsers do, so a query string like `?a=1&lt=2` survives.
 */
export function decodeEntities(text: string, inAttribute = false): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (whole: string, decimal?: string, hex?: string, named?: string, semicolon?: string, offset?: number) => {
    if (named !== undefined) {
      const char = NAMED[named];
      if (char === undefined) return whole;
      if (semicolon === "") {
        const next = text[(offset ?? 0) + whole.length] ?? "";
        if (!LEGACY.has(named) || (inAttribute && next === "=")) return whole;
      }
      return char;
    }
    const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? "", 16);
    const invalid = code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff);
    return invalid ? "\ufffd" : String.fromCodePoint(code);
  });
}
