// Reading a response body into a sink (memory, or a file), within a size limit, drawing on the
// download's budgets as bytes arrive (a declared Content-Length is drawn at once, before any byte is
// read), and never taking a cut-short body for a whole one: fewer bytes than Content-Length, or a
// connection that drops mid-body (which is also how an unfinished chunked encoding shows), is a
// BodyCutShort; a stall is left to the caller to name.

import type { Dispatcher } from "undici";
import type { Draw } from "../budget.js";
import { MpipError } from "../errors.js";
import type { BodySink } from "../sink.js";
import { BodyCutShort } from "./failures.js";
import { quantity } from "../text.js";

export function declaredLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

export interface BodyLimits {
  maxBytes: number;
  /** This attempt's pull on the download's quota and memory lease. */
  draw?: Draw;
}

/** `url` is used in messages only: pass it redacted. Errors of the sink and the budgets pass through as they are. */
export async function readBody<T>(body: Dispatcher.ResponseData["body"], declared: number | undefined, limits: BodyLimits, url: string, sink: BodySink<T>): Promise<T> {
  const { maxBytes, draw } = limits;
  // Until the body is read to its end, dropping it must abort the response, whatever stopped the read.
  let finished = false;
  try {
    if (declared !== undefined && declared > maxBytes) throw tooLarge(url, maxBytes);
    if (declared !== undefined) await draw?.cover(declared);
    await sink.begin(declared);
    let total = 0;
    const chunks = body[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await chunks.next();
      } catch (error) {
        // A body timeout is named by the caller; anything else that ends the stream early cut it short.
        if ((error as { code?: unknown }).code === "UND_ERR_BODY_TIMEOUT") throw error;
        throw new BodyCutShort(total, declared, error);
      }
      if (next.done === true) break;
      const chunk = next.value as Buffer;
      total += chunk.length;
      if (total > maxBytes) throw tooLarge(url, maxBytes);
      await draw?.cover(total);
      await sink.write(chunk);
    }
    finished = true;
    if (declared !== undefined && total !== declared) throw new BodyCutShort(total, declared);
    return await sink.end();
  } finally {
    if (!finished) discard(body);
  }
}

/** Drop a body we will not read: undici reports the abort as an 'error' event, which must not go unhandled. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => undefined);
  body.destroy();
}

/** The error for a body over `maxBytes` (`url` redacted); callers recognize it by its wording (isTooLarge). */
export function tooLarge(url: string, maxBytes: number): MpipError {
  return new MpipError("network", `the response from \`${url}\` is larger than ${quantity(maxBytes, "byte")}`, {
    hint: "this is not a MicroPython package or index document; check the URL",
  });
}
