// Index documents come from the internet: parse them with a schema and turn every problem into an
// error that names the index, the document and the field, never a crash deeper in. Values from the
// document are quoted escaped and shortened, since they end up on a terminal.

import * as v from "valibot";
import { MpipError } from "../errors.js";
import { redactUrl } from "../http.js";
import { DEFAULT_LIMITS, formatBytes } from "../limits.js";
import { isInsideFolder } from "../http/file-url.js";
import { printable, quantity } from "../text.js";
import { parseHttpUrl, parseUrl } from "../url.js";

export const MAX_METADATA_BYTES = DEFAULT_LIMITS.maxMetadataBytes;

/** Where a document came from: its URL and the index (as the user named it) that pointed there. */
export interface DocumentOrigin {
  url: string;
  index: string;
  /** A package document named directly (`github:`, a URL, a path): not index metadata. */
  kind?: "package document";
  /**
   * A document of a local index: the index folder's `file:` URL. Its links may name files inside that
   * folder (see resolveLink); a document without it may name http(s) URLs only.
   */
  root?: string;
}

export function describeDocument(origin: DocumentOrigin): string {
  if (origin.kind === "package document") return `the package document \`${printable(redactUrl(origin.url))}\` (for \`${printable(origin.index)}\`)`;
  return `the metadata \`${printable(redactUrl(origin.url))}\` from the index \`${printable(origin.index)}\``;
}

export function parseDocument<TSchema extends v.GenericSchema>(schema: TSchema, body: Buffer, origin: DocumentOrigin): v.InferOutput<TSchema> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8").replace(/^\ufeff/, ""));
  } catch (error) {
    throw new MpipError("bad-metadata", `${describeDocument(origin)} is not valid JSON (${printable((error as Error).message)})`, {
      hint: origin.kind === "package document"
        ? "that URL or file is not a package.json; check it, or tell the author of the package that names it"
        : "the index sent something other than package metadata; check the index URL",
    });
  }
  const result = v.safeParse(schema, json, { abortEarly: true });
  if (result.success) return result.output;
  const [issue] = result.issues;
  throw badField(origin, fieldPath(issue.path ?? []), problem(issue));
}

/**
 * An error about one field of a document, for checks the schema cannot make (they need context). `hint`
 * replaces the default one (which blames the document's author) where the cause is known to be another.
 */
export function badField(origin: DocumentOrigin, field: string, problem: string, hint?: string): MpipError {
  return new MpipError("bad-metadata", `${describeDocument(origin)} is invalid: field \`${field}\` ${problem}`, {
    hint: hint ?? (origin.kind === "package document"
      ? "the package document is malformed; tell the package's author (or fix it, if it is yours)"
      : "the index serves malformed metadata; report it to the index's maintainers or use another index"),
  });
}

/**
 * The hint for a link of a local index's document (`origin.root` set) that resolves to a `file:` URL outside
 * the index's folder, which resolveLink refuses: undefined for any other link. Such a folder is most often
 * the user's own, given one level too deep (the `pypi/` or `simple/` face of a folder `mpip index build`
 * wrote, whose links lead to `../../sdist/`), so the hint says which folder to give, or to serve it.
 * README: "Indexes on disk" (what a local index may not do).
 */
export function outsideLocalIndexHint(origin: DocumentOrigin, href: string, base: string): string | undefined {
  if (origin.root === undefined || parseUrl(href, base)?.protocol !== "file:") return undefined;
  return (
    `a local index may name only files inside its own folder (\`${printable(origin.index)}\`), and this link leads out of it; nothing was fetched or written. ` +
    "If the files are yours, give -i a folder that holds them too (for a folder `mpip index build` wrote: that whole folder, read as its v2 face), " +
    "or serve the folder over HTTP (`python3 -m http.server -d FOLDER`) and give its URL"
  );
}

/** The metadata size limit, as an error that says how to raise it. */
export function tooLarge(origin: DocumentOrigin, limit: number): MpipError {
  return new MpipError("limit-exceeded", `${describeDocument(origin)} is larger than the limit of ${formatBytes(limit)}`, {
    hint: origin.kind === "package document"
      ? "package documents of MicroPython packages are a few KiB; if you trust this package, raise the limit with --max-metadata-bytes"
      : "index documents of MicroPython packages are a few KiB; if you trust this index, raise the limit with --max-metadata-bytes",
  });
}

/** `releases["1.0"][0].url`: keys that are not identifiers are quoted, array positions bracketed. */
export function fieldPath(path: ReadonlyArray<{ key: unknown }>): string {
  if (path.length === 0) return "(the whole document)";
  return path
    .map(({ key }, index) => {
      if (typeof key === "number") return `[${key}]`;
      const text = String(key);
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return index === 0 ? text : `.${text}`;
      return `[${printable(JSON.stringify(text), 80)}]`;
    })
    .join("");
}

function problem(issue: v.BaseIssue<unknown>): string {
  if (issue.input === undefined) return "is missing";
  if (issue.kind === "schema") return `must be ${issue.expected ?? "something else"}, not ${describeValue(issue.input)}`;
  return issue.message; // the schemas' own checks give short messages without the value
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${printable(JSON.stringify(value), 60)}`;
    case "number":
    case "boolean":
      return `${typeof value === "number" ? "the number " : ""}${printable(String(value), 40)}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

/** `v.object` and `v.record` also take arrays (as JavaScript does): a JSON object is neither an array nor null. */
export function jsonObject<TSchema extends v.GenericSchema>(schema: TSchema) {
  return v.pipe(
    v.unknown(),
    v.check((input) => typeof input !== "object" || input === null || !Array.isArray(input), "must be an object, not an array"),
    schema,
  );
}

/** A filename from an index must be a plain name: it ends up in paths and messages. */
export const plainFilename = v.pipe(
  v.string(),
  v.nonEmpty("must not be empty"),
  v.maxLength(255, "must be at most 255 characters"),
  v.check((name) => !/[/\\\0]/.test(name) && name !== "." && name !== "..", "must be a plain file name without path separators"),
  v.check((name) => !/[\x01-\x1f\x7f-\x9f]/.test(name), "must not contain control characters"),
);

/**
 * A URL to download from, absolute or relative to the document; checked again once resolved against the
 * document (resolveLink), where an absolute `file:` URL is taken only from a local index's document.
 */
export const downloadUrl = v.pipe(
  v.string(),
  v.nonEmpty("must not be empty"),
  v.maxLength(8192, "must be at most 8192 characters"),
  v.check((url) => resolveHttpUrl(url, "https://index.invalid/") !== undefined || /^file:/i.test(url), "must be an http or https URL"),
);

/** The absolute http(s) URL `url` points to from `base`, or undefined. */
export function resolveHttpUrl(url: string, base: string): string | undefined {
  return parseHttpUrl(url, base)?.toString();
}

/**
 * Where a link in a document points, as a browser resolves it: `href` against `base` (the document's final
 * URL, or its `<base href>`). An http(s) URL is taken from any document; a `file:` URL only from a local
 * index's document (`base` a `file:` URL, and `root` the index folder's: see DocumentOrigin), and only
 * when it names a file inside that folder (compared on the decoded paths; symbolic links are checked when
 * it is read, by http/file-url.ts). So a relative link in a folder's page works as on a server, a remote document can
 * never name a file on this machine, and a local one never a file outside its index. Undefined otherwise.
 */
export function resolveLink(href: string, base: string, root: string | undefined): string | undefined {
  const url = parseUrl(href, base);
  if (url === undefined) return undefined;
  if (url.protocol === "http:" || url.protocol === "https:") return url.toString();
  return url.protocol === "file:" && root !== undefined && /^file:/i.test(base) && isInsideFolder(url, root) ? url.toString() : undefined;
}

/** A PEP 508 project name. */
export const projectName = v.pipe(
  v.string(),
  v.regex(/^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]{0,198}[A-Za-z0-9])$/, "must be a project name (letters, digits, `.`, `_`, `-`)"),
);

/** The HTTP client's size-limit error (it has no code of its own: see http/body.ts). */
export function isTooLarge(error: unknown, maxBytes: number): boolean {
  return error instanceof MpipError && error.message.endsWith(`is larger than ${quantity(maxBytes, "byte")}`);
}
