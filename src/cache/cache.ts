// mpip's download cache, under the cache folder (src/cache-dir.ts; `--cache-dir`): what was downloaded,
// by content (`content/`, store.ts), and what index documents and hashless files said, by URL with their
// HTTP validators (`http/`, documents.ts). New entries are written in `tmp/` and renamed into place. The
// compiled sizes of `mpip list --size` live beside them, in `mpy/`. Deleting any of it loses only time.
//
// The cache is an optimisation and never a reason for an install to fail: an entry that cannot be read is
// fetched again, and a cache that cannot be written is said once (a warning) and then left alone.

import { mkdir } from "node:fs/promises";
import path from "node:path";
import { cacheWriteWarning } from "./warning.js";
import { DocumentCache } from "./documents.js";
import { ContentStore } from "./store.js";

/** The folders of the cache, by what they hold (`mpip cache info` reports them in this order). */
export const CACHE_PARTS = {
  content: "content",
  http: "http",
  mpy: "mpy",
  tmp: "tmp",
} as const;

export interface CacheEvents {
  /** Details for -v: an entry dropped and fetched again. */
  note?: (message: string) => void;
  /** Said once, when the cache cannot be written. */
  warn?: (message: string) => void;
}

export class Cache {
  readonly store: ContentStore;
  readonly documents: DocumentCache;

  /** `dir`: the cache folder (created when first written, private to the user). */
  constructor(readonly dir: string, events: CacheEvents = {}) {
    const note = events.note ?? (() => {});
    const warn = events.warn ?? (() => {});
    // Each part says once what it cannot keep: the other may still be written (a file where `http/` should
    // be leaves downloaded files cached). The bodies of index answers are kept in the store: when it cannot
    // be written, they are not cached either (only 404s are).
    const partEvents = (what: string) => {
      let warned = false;
      return {
        note,
        cannotWrite: (error: unknown) => {
          if (warned) return;
          warned = true;
          warn(cacheWriteWarning(dir, error, what));
        },
      };
    };
    this.store = new ContentStore(path.join(dir, CACHE_PARTS.content), path.join(dir, CACHE_PARTS.tmp), partEvents("downloaded files, and the index answers whose bodies the cache keeps with them,"));
    this.documents = new DocumentCache(path.join(dir, CACHE_PARTS.http), partEvents("index answers"));
  }

  /** Creates the cache folder, readable by its owner only, if it is missing; a failure is for the first write to tell. */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch(() => undefined);
  }
}
