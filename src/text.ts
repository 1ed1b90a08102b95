// Names and values from archives and indexes are hostile input that ends up in messages on a terminal:
// show them with control characters and text-direction overrides escaped, and cut to a readable length.

const INVISIBLE = /[\0-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function printable(text: string, max = 200): string {
  const cut = text.length > max ? `${text.slice(0, max - 40)}…${text.slice(-30)} (${text.length} characters)` : text;
  return cut.replace(LONE_SURROGATE, (char) => `\\u{${char.charCodeAt(0).toString(16)}}`).replace(INVISIBLE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}
