// Reading a response body whole, within a size limit, and never taking a cut-short body for a whole
// one: fewer bytes than Content-Length, or a connection that drops mid-body (which is also how an
// unfinished chunked encoding shows), is a BodyCutShort; a stall is left to the caller to name.

import type { Dispatcher } from "undici";
import { MpipError } from "../errors.js";
import { BodyCutShort } from "./failures.js";

export function declaredLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** `url` is used in messages only: pass it redacted. */
export async function readBody(body: Dispatcher.ResponseData["body"], declared: number | undefined, maxBytes: number, url: string): Promise<Buffer> {
  if (declared !== undefined && declared > maxBytes) {
    discard(body);
    throw tooLarge(url, maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        discard(body);
        throw tooLarge(url, maxBytes);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof MpipError) throw error;
    if ((error as { code?: unknown }).code === "UND_ERR_BODY_TIMEOUT") throw error;
    throw new BodyCutShort(total, declared, error);
  }
  if (declared !== undefined && total !== declared) throw new BodyCutShort(total, declared);
  return Buffer.concat(chunks, total);
}

/** Drop a body we will not read: undici reports the abort as an 'error' event, which must not go unhandled. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => undefined);
  body.destroy();
}

function tooLarge(url: string, maxBytes: number): MpipError {
  return new MpipError("network", `the response from \`${url}\` is larger than ${maxBytes} bytes`, {
    hint: "this is not a MicroPython package or index document; check the URL",
  });
}
