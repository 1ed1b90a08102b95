// Module hooks (node:module `register`, run on the loader's own thread): each module loaded from a file
// is appended to MPIP_TEST_LOADED_MODULES_FILE as its file: URL, then loaded as usual.
import { appendFileSync } from "node:fs";

export async function load(url, context, nextLoad) {
  if (url.startsWith("file:")) appendFileSync(process.env.MPIP_TEST_LOADED_MODULES_FILE, `${url}\n`);
  return nextLoad(url, context);
}
