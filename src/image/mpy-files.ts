// The `.mpy` files a target already holds, with their headers: an install that adds `.mpy` files of
// another version makes an image no one firmware loads, and that is worth a warning (prepare/firmware.ts).
// Read-only and best effort: links are not followed, mpip's staging folders are not entered, and the
// walk stops quietly after MAX_SCAN_FOLDERS folders (overlap.ts refuses such a target anyway).

import { open, readdir } from "node:fs/promises";
import path from "node:path";
import { MAX_SCAN_FOLDERS } from "./overlap.js";

export interface ExistingMpy {
  /** Relative to the target, `/`-separated. */
  file: string;
  /** The file's first 4 bytes (fewer for a shorter file): all that parseMpyHeader reads. */
  head: Uint8Array;
}

/** A staging folder of this target's inside layout, or of a target nested in it (see layout.ts). */
const STAGING = /mpip-staging-\d+-[0-9a-f]{8}$/i;

/**
 * Every regular `*.mpy` file under `target` (none when it does not exist), in sorted order.
 * Folders that cannot be read are passed over: this only feeds a warning.
 */
export async function existingMpyFiles(target: string, maxFolders = MAX_SCAN_FOLDERS): Promise<ExistingMpy[]> {
  const found: ExistingMpy[] = [];
  const queue = [""];
  for (let visited = 0; queue.length > 0 && visited < maxFolders; visited++) {
    const relative = queue.shift()!;
    const entries = await readdir(path.join(target, ...relative.split("/")), { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const file = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!STAGING.test(entry.name)) queue.push(file);
      } else if (entry.isFile() && entry.name.endsWith(".mpy")) {
        const head = await readMpyHead(path.join(target, ...file.split("/")));
        if (head !== undefined) found.push({ file, head });
      }
    }
  }
  return found;
}

/** A file's first 4 bytes (fewer for a shorter file), or undefined when it cannot be read. */
export async function readMpyHead(file: string): Promise<Uint8Array | undefined> {
  const handle = await open(file, "r").catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const buffer = new Uint8Array(4);
    const { bytesRead } = await handle.read(buffer, 0, 4, 0);
    return buffer.subarray(0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
