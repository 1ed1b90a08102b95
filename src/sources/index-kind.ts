// Which protocol an index speaks. `-i` takes a URL with an optional kind prefix (`mip+`, `pypi+`,
// `simple+`); without one the kind is guessed from the URL's last path segment (`.../pypi`,
// `.../simple`, `.../v2`) and otherwise detected by asking the index once per run (detect.ts).

import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { redactUrl } from "../http.js";
import { parseUrl } from "../url.js";

export type IndexKind = "mip" | "pypi" | "simple";

export const INDEX_KINDS: Record<IndexKind, string> = {
  mip: "micropython-lib v2 index (mip)",
  pypi: "PyPI JSON API",
  simple: "simple repository API (PEP 503/691)",
};

export interface IndexLocation {
  /** The index's base URL, without the kind prefix or a trailing slash. */
  url: string;
  /** Given with a prefix; otherwise guessed or detected. */
  kind?: IndexKind;
}

const PREFIX = /^(mip|pypi|simple)\+(?=https?:)/i;

/** `simple+https://host/simple/` → { url: "https://host/simple", kind: "simple" }. Throws "usage". */
export function parseIndexLocation(text: string): IndexLocation {
  const prefix = PREFIX.exec(text)?.[1]?.toLowerCase() as IndexKind | undefined;
  const url = (prefix === undefined ? text : text.slice(prefix.length + 1)).replace(/\/+$/, "");
  const protocol = parseUrl(url)?.protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    const shown = printable(redactUrl(text).replace(/^[^/]*@/, "***@"));
    throw new MpipError("usage", `\`${shown}\` is not an http or https URL; an index URL looks like \`https://host/pypi\`, optionally with a kind: \`mip+URL\`, \`pypi+URL\`, \`simple+URL\``, {
      hint: "add the scheme, e.g. `-i https://user:token@host/pypi`",
    });
  }
  return prefix === undefined ? { url } : { url, kind: prefix };
}

/** The kind a URL's shape tells, without asking: PyPI's `/pypi`, pip's `/simple`, micropython-lib's `/v2`. */
export function kindFromUrl(url: string): IndexKind | undefined {
  const last = (parseUrl(url)?.pathname ?? "").replace(/\/+$/, "").split("/").pop()?.toLowerCase() ?? "";
  if (last === "pypi") return "pypi";
  if (last === "simple" || last === "+simple") return "simple";
  if (last === "v2") return "mip";
  return undefined;
}
