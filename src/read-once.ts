// Files that give their bytes once: a named pipe (`-r <(grep -v dev requirements.txt)` and `--cert
// <(cat ca.pem)` give `/dev/fd/63`) or a character device (`/dev/stdin`). They say no size before they are
// read and cannot be read again, so they are read whole, once, up to a cap.

import { open } from "node:fs/promises";

/**
 * The bytes the pipe or device `file` gives until its end, read once, through a blocking open (a pipe opened
 * without blocking answers EAGAIN until its writer has written); undefined when more than `maxBytes` come
 * (reading stops there: a device such as /dev/zero never ends).
 * @throws what opening or reading throws (NodeJS.ErrnoException).
 */
export async function readOnce(file: string, maxBytes: number): Promise<Buffer | undefined> {
  const handle = await open(file, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      total += bytesRead;
      if (total > maxBytes) return undefined;
      chunks.push(chunk.subarray(0, bytesRead));
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}
