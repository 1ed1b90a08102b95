// Writing a lock file whole or not at all: the text goes to a temporary file beside it (same folder, so
// same filesystem), is flushed to disk, and is renamed over the lock, which is atomic. A failure, a full
// disk or Ctrl-C leaves the old lock (or none) and no half file; only a kill between the write and the
// rename can leave the temporary file, whose name says what it is.

import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { ioHint } from "../image/io-error.js";
import { makeDirs } from "../image/make-dirs.js";
import { printable } from "../text.js";

/**
 * Replaces `file` with `text` atomically (see above), creating its folder if need be.
 * @throws MpipError `io` naming the file, with the old file (if any) unchanged.
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const temporary = path.join(dir, `.${path.basename(file)}.mpip-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  try {
    await makeDirs(dir);
    const handle = await open(temporary, "wx", 0o644);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    const err = error as NodeJS.ErrnoException;
    throw new MpipError("io", `cannot write the lock file \`${printable(file)}\` (${err.code ?? err.message}); it was left as it was`, { cause: error, hint: ioHint(error, `check that \`${printable(dir)}\` exists and is writable`) });
  }
  // The rename is on disk once its folder is; a folder cannot be opened for that everywhere (Windows).
  await open(dir, "r").then(async (handle) => {
    await handle.sync().catch(() => undefined);
    await handle.close();
  }, () => undefined);
}
