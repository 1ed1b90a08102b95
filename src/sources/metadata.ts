// Index documents come from the internet: parse them with a schema and turn every problem into an
// error that names the document and the field, never a crash deeper in.

import * as v from "valibot";
import { MpipError } from "../errors.js";
import { redactUrl } from "../http.js";

export const MAX_METADATA_BYTES = 16 * 1024 * 1024;

export function parseDocument<TSchema extends v.GenericSchema>(schema: TSchema, body: Buffer, url: string): v.InferOutput<TSchema> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new MpipError("bad-metadata", `\`${redactUrl(url)}\` is not valid JSON (${(error as Error).message})`, {
      cause: error,
      hint: "the index sent something other than package metadata; check the index URL",
    });
  }
  const result = v.safeParse(schema, json);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = issue.path?.map((item: { key: unknown }) => String(item.key)).join(".") || "(document)";
  throw new MpipError("bad-metadata", `\`${redactUrl(url)}\` has invalid metadata: field \`${field}\`: ${issue.message}`, {
    hint: "the index serves malformed metadata; report it to the index's maintainers or use another index",
  });
}

/** A filename from an index must be a plain name: it ends up in paths and messages. */
export const plainFilename = v.pipe(
  v.string(),
  v.nonEmpty("must not be empty"),
  v.check((name) => !/[/\\\0]/.test(name) && name !== "." && name !== "..", "must be a plain file name without path separators"),
);
