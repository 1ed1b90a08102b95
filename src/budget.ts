// Byte budgets for downloads, drawn as bytes arrive (or at once, for a size the server declares):
// - a `Quota` is a hard limit that the downloads of one package share (a package document's files
//   together within --max-unpacked-bytes): concurrent files draw from one count, so none can take the
//   whole remainder for itself, and going over is an error at once;
// - a `MemoryBudget` bounds what downloads held in memory take together, across a whole install: a
//   download that would go over waits until others give their bytes back (see `memoryCapacity`).
// A `Draw` is one attempt's pull on both; a failed attempt gives back what it drew before a retry.

import type { Limits } from "./limits.js";

/** A hard limit on bytes, shared by several downloads. */
export class Quota {
  private taken = 0;

  /** `exceeded` makes the error thrown when a draw would go over `limit`. */
  constructor(readonly limit: number, private readonly exceeded: () => Error) {}

  get used(): number {
    return this.taken;
  }

  /** Counts `bytes` more; throws the quota's error, counting nothing, when they would go over the limit. */
  take(bytes: number): void {
    if (this.taken + bytes > this.limit) throw this.exceeded();
    this.taken += bytes;
  }

  /** Gives back bytes a download took in an attempt that is started over or dropped. */
  give(bytes: number): void {
    this.taken = Math.max(0, this.taken - bytes);
  }
}

/**
 * The most bytes one download may hold in memory, for these limits: an archive (held whole for the exact
 * gzip window scan; see archiveDownloadLimit) or an index or package document (--max-metadata-bytes).
 * Package document files and modules are written to disk as they arrive and hold no such memory.
 */
export function largestInMemory(limits: Pick<Limits, "maxUnpackedBytes" | "maxMetadataBytes">): number {
  return Math.max(archiveDownloadLimit(limits.maxUnpackedBytes), limits.maxMetadataBytes);
}

/**
 * The capacity of an install's MemoryBudget: the largest download alone. Since the oldest lease may
 * always grow (that is what keeps the budget free of deadlock), downloads in memory hold at most
 * twice this at once: 2 × max(archive download limit, --max-metadata-bytes).
 */
export function memoryCapacity(limits: Pick<Limits, "maxUnpackedBytes" | "maxMetadataBytes">): number {
  return largestInMemory(limits);
}

/**
 * The most bytes an archive's download may have: what it may unpack to (--max-unpacked-bytes), plus what
 * gzip may add to data that does not compress (deflate's stored blocks add 5 bytes per 64 KiB, zlib's
 * bound is under 1/2048 more) and room for the gzip header's optional fields. A larger download cannot
 * unpack within the limit, so it is cut off before it fills memory.
 */
export function archiveDownloadLimit(maxUnpackedBytes: number): number {
  return maxUnpackedBytes + Math.ceil(maxUnpackedBytes / 1024) + 64 * 1024;
}

interface Waiter {
  lease: Lease;
  bytes: number;
  grant(): void;
  reject(reason: unknown): void;
}

/**
 * A bound on the bytes downloads hold in memory at once. Each download (or archive, kept while it is
 * unpacked) holds a `Lease` that grows as bytes arrive and is released when done. A lease grows at once
 * while the total stays within `capacity`, and otherwise waits in line (first come, first served), with
 * one exception: the oldest lease holding bytes always grows at once. Without it, leases that each hold
 * part of the budget and wait for more would wait for each other forever; with it, the oldest finishes,
 * gives its bytes back and the next becomes the oldest. The price is the bound: what is held at once is
 * at most `capacity` plus the oldest lease's bytes, which is at most one download's own limit.
 */
export class MemoryBudget {
  private used = 0;
  /** Leases holding bytes or waiting for them, oldest first (a Set keeps insertion order). */
  private readonly active = new Set<Lease>();
  private readonly queue: Waiter[] = [];
  private peakBytes = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`a memory budget needs a positive capacity, got ${capacity}`);
  }

  /** Bytes held now, and the most ever held at once (for tests and -v). */
  get held(): number {
    return this.used;
  }

  get peak(): number {
    return this.peakBytes;
  }

  lease(): Lease {
    return new Lease(this);
  }

  /** @internal Lease.grow */
  request(lease: Lease, bytes: number, signal: AbortSignal | undefined): Promise<void> | undefined {
    this.active.add(lease);
    if (this.isOldest(lease) || (this.queue.length === 0 && this.used + bytes <= this.capacity)) {
      this.grant(lease, bytes);
      return undefined;
    }
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        lease,
        bytes,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          this.grant(lease, bytes);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        if (lease.bytes === 0) this.active.delete(lease);
        reject(signal!.reason);
        this.pump();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** @internal Lease.shrinkTo and Lease.release */
  giveBack(lease: Lease, bytes: number): void {
    this.used -= bytes;
    if (lease.bytes === 0 && !this.queue.some((waiter) => waiter.lease === lease)) this.active.delete(lease);
    this.pump();
  }

  private grant(lease: Lease, bytes: number): void {
    lease.bytes += bytes;
    this.used += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.used);
  }

  private isOldest(lease: Lease): boolean {
    return this.active.values().next().value === lease;
  }

  /** Lets waiters through: the oldest lease wherever it waits, then the line in order while it fits. */
  private pump(): void {
    const oldest = this.queue.findIndex((waiter) => this.isOldest(waiter.lease));
    if (oldest >= 0) this.queue.splice(oldest, 1)[0]!.grant();
    while (this.queue.length > 0 && this.used + this.queue[0]!.bytes <= this.capacity) this.queue.shift()!.grant();
  }
}

/** One download's hold on a MemoryBudget. Not for concurrent use: one download grows it at a time. */
export class Lease {
  /** @internal Bytes held; changed by the budget. */
  bytes = 0;

  constructor(private readonly budget: MemoryBudget) {}

  get held(): number {
    return this.bytes;
  }

  /** Holds `bytes` more, waiting while the budget is full; rejects with the signal's reason if it aborts first. */
  async grow(bytes: number, signal?: AbortSignal): Promise<void> {
    if (bytes <= 0) return;
    await this.budget.request(this, bytes, signal);
  }

  /** Gives back what was held beyond `bytes` (an attempt that failed gives back what it drew). */
  shrinkTo(bytes: number): void {
    if (bytes >= this.bytes) return;
    const freed = this.bytes - bytes;
    this.bytes = bytes;
    this.budget.giveBack(this, freed);
  }

  release(): void {
    this.shrinkTo(0);
  }
}

/**
 * One attempt's pull on a download's budgets: `cover(total)` makes sure the first `total` bytes are
 * counted (the quota's error if they do not fit; waiting for memory if need be), and `refund()` gives
 * everything this attempt drew back, for a retry or a failure.
 */
export class Draw {
  private covered = 0;
  private readonly leaseStart: number;

  constructor(private readonly budgets: { quota?: Quota | undefined; lease?: Lease | undefined; signal?: AbortSignal | undefined }) {
    this.leaseStart = budgets.lease?.held ?? 0;
  }

  async cover(total: number): Promise<void> {
    if (total <= this.covered) return;
    const more = total - this.covered;
    this.budgets.quota?.take(more);
    this.covered = total;
    await this.budgets.lease?.grow(more, this.budgets.signal);
  }

  refund(): void {
    this.budgets.quota?.give(this.covered);
    this.budgets.lease?.shrinkTo(this.leaseStart);
    this.covered = 0;
  }
}
