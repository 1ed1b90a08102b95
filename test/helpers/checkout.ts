// The checkout's root folder, for tests and scripts that name its files (bin/, dist/, fixtures/).
// Found by walking up from a module to the folder holding bin/mpip.js, not by a fixed number of `..`: the
// suite runs these modules compiled, from a copy laid out as the checkout below `.test-build/`
// (scripts/compile-tests.ts), and from there a fixed path would name the copy, which holds no bin/,
// dist/ or fixtures/.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout that holds the module at `moduleUrl` (its `import.meta.url`). Throws when there is none. */
export function checkoutRoot(moduleUrl: string): string {
  const start = path.dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "bin", "mpip.js"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no folder above \`${start}\` holds bin/mpip.js: is this mpip's checkout?`);
  }
}
