// Reading a small file from a folder mpip did not make (a project folder, a cloned repo, an image): it may
// be a link to a device (`/dev/zero` never ends), a FIFO (opening it waits for a writer forever) or
// simply huge. Only a regular file within a size limit is read; everything else is said, never tried.

import { constants, open, type FileHandle } from "node:fs/promises";

/** What reading gave: the text, or why there is none. */
export type SmallFile =
  | { kind: "text"; text: string }
  | { kind: "missing" }
  /** A device, FIFO or socket, or a link to one. */
  | { kind: "not-regular" }
  | { kind: "too-large"; size: number }
  | { kind: "unreadable"; error: NodeJS.ErrnoException };

/**
 * Reads `file` as UTF-8 when it is a regular file of at most `maxBytes` bytes. Opens without blocking (a
 * FIFO cannot hang the open) and checks what was opened, so a link swapped in between is judged too.
 * Never throws.
 */
export async function readSmallFile(file: string, maxBytes: number): Promise<SmallFile> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? { kind: "missing" } : { kind: "unreadable", error: error as NodeJS.ErrnoException };
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { kind: "not-regular" };
    if (stats.size > maxBytes) return { kind: "too-large", size: stats.size };
    const data = await handle.readFile();
    // It may have grown between the stat and the read.
    if (data.length > maxBytes) return { kind: "too-large", size: data.length };
    return { kind: "text", text: data.toString("utf8") };
  } catch (error) {
    return { kind: "unreadable", error: error as NodeJS.ErrnoException };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
