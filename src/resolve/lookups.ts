// The index look-ups of one resolution. The walk goes level by level (resolve.ts), yet a package's
// dependencies are known as soon as its archive has been read, while the rest of its level may still be
// downloading: `lookAhead` asks the indexes about them at once, once per name. The level that then needs a
// name takes the answer looked up ahead only if it asks for the same requirement (the same specifiers,
// constraints included), so the choice and the plan are those of the plain level-by-level walk whatever
// the network's timing; otherwise that answer is dropped and the look-up made as asked. A look-up ahead
// that fails says nothing until (and unless) its level asks; "not found" is worded by the level, which
// knows who asked. A look-up ahead that its level does not take (the name turned out to be a project
// folder's, or is asked for in other words) is ended as soon as that is known: its requests are aborted,
// or never sent if it still waits for its turn, so it holds no slot of the pool and no connection. So is
// every look-up made ahead for what its fetched document named (a v2 index's `deps`), and for what
// theirs named, unless a level has taken it already.

import type { ProjectListing } from "../sources/types.js";
import { formatRequirement, type Requirement } from "../spec/requirement.js";

/**
 * Starts one look-up of a project (`requirement` carries every specifier on the name): its listing, or
 * undefined where no source knows it. `signal` ends it (a look-up made ahead that is no longer wanted).
 */
export type StartLookup = (requirement: Requirement, signal?: AbortSignal) => Promise<ProjectListing | undefined>;

/** A look-up started ahead of its level. */
interface Ahead {
  /** The requirement asked for, as formatRequirement writes it. */
  words: string;
  listing: Promise<ProjectListing | undefined>;
  /** Ends it when no level will take it. */
  controller: AbortController;
  /** The level meant to take it: the next one, or one further for a dependency of a dependency looked up ahead. */
  forLevel: number;
  /** The look-up ahead whose document named this one's project (`AheadLookup.signal`), if any. */
  parent?: AbortSignal;
  /** The keys of the look-ups made ahead for what this one's document names: ended with this one. */
  children: Set<string>;
}

/**
 * Why a look-up made ahead was ended (its signal's reason). `reworded`: its level asks for the name in
 * other words, and looks it up again; the document fetched for the release it would have chosen may
 * still be the one the level chooses (resolve.ts WarmsKept).
 */
export class LookAheadEnded extends Error {
  constructor(readonly key: string, readonly reworded: boolean) {
    super(`the look-up of \`${key}\` made ahead is no longer wanted`);
  }
}

/** A look-up made ahead, as `lookAhead` returns it. */
export interface AheadLookup {
  key: string;
  listing: Promise<ProjectListing | undefined>;
  /** Aborted when no level will take it. */
  signal: AbortSignal;
  /** The level meant to take it. */
  forLevel: number;
}

export class Lookups {
  /** The look-up each key's level made (or took from those ahead). */
  private readonly byKey = new Map<string, Promise<ProjectListing | undefined>>();
  /** Look-ups started ahead of their level and not yet taken, by key. */
  private readonly ahead = new Map<string, Ahead>();
  /** The level the walk is in: 0 before the first one begins. */
  private level = 0;

  constructor(private readonly start: StartLookup) {}

  /**
   * The keys the levels have looked up so far (each level's look-ups start as it begins, those taken from
   * ahead included), and a promise of all those look-ups settling; not the look-ups made ahead and not
   * yet taken, which start whenever the package that names them has been read.
   */
  asked(): { keys: ReadonlySet<string>; settled: Promise<unknown> } {
    return { keys: new Set(this.byKey.keys()), settled: Promise.allSettled([...this.byKey.values()]) };
  }

  /** The listing for `key` as its level asks for it: the one looked up ahead for the same requirement, or a new look-up. */
  listing(key: string, requirement: Requirement): Promise<ProjectListing | undefined> {
    let listing = this.byKey.get(key);
    if (listing === undefined) {
      const ahead = this.ahead.get(key);
      if (ahead !== undefined && ahead.words === formatRequirement(requirement)) {
        this.ahead.delete(key);
        listing = ahead.listing;
      } else {
        this.drop(key, true);
        listing = this.start(requirement);
      }
      this.byKey.set(key, listing);
    }
    return listing;
  }

  /**
   * Starts the look-up that `key`'s level will most likely make, unless one was made or started for the
   * key: returns it (its listing's failure is the level's to say; its signal ends it when no level will
   * take it), or undefined. Any level may take it that asks for the same requirement first. Without
   * `parent`, it is meant for the next level. With `parent`, the look-up made ahead whose fetched
   * document names this dependency, it is meant for the level after the parent's, and is ended with
   * the parent if the parent is ended before a level takes it: what a document no level takes names,
   * no level will want either (and it must hold no turn of `--jobs`).
   */
  lookAhead(key: string, requirement: Requirement, parent?: AheadLookup): AheadLookup | undefined {
    if (this.byKey.has(key) || this.ahead.has(key) || parent?.signal.aborted === true) return undefined;
    const controller = new AbortController();
    const listing = this.start(requirement, controller.signal);
    listing.catch(() => {});
    const forLevel = parent === undefined ? this.level + 1 : parent.forLevel + 1;
    this.ahead.set(key, { words: formatRequirement(requirement), listing, controller, forLevel, children: new Set(), ...(parent === undefined ? {} : { parent: parent.signal }) });
    // Linked while the parent is still ahead; once a level has taken it, its children stand on their own.
    const parentEntry = parent === undefined ? undefined : this.ahead.get(parent.key);
    if (parentEntry !== undefined && parentEntry.controller.signal === parent!.signal) parentEntry.children.add(key);
    return { key, listing, signal: controller.signal, forLevel };
  }

  /**
   * A level begins and will ask for (at most) the names `keys`: the look-ups made ahead for it (or for an
   * earlier one) for any other name are ended; those meant for a later level are kept.
   */
  beginLevel(keys: { has(key: string): boolean }): void {
    this.level++;
    for (const [key, ahead] of [...this.ahead]) if (ahead.forLevel <= this.level && !keys.has(key)) this.drop(key);
  }

  /**
   * The level is done: the look-ups made ahead for it that it did not take (the target already held the
   * name, or a direct source answered it) are ended; those meant for a later level are kept.
   */
  endLevel(): void {
    for (const [key, ahead] of [...this.ahead]) if (ahead.forLevel <= this.level) this.drop(key);
  }

  /** The resolution is over (or has failed): every look-up made ahead and not taken is ended. */
  endAll(): void {
    for (const key of [...this.ahead.keys()]) this.drop(key);
  }

  /** Ends the look-up made ahead for `key`, and those made for what its document named; `reworded`: its level asks for the name in other words. */
  private drop(key: string, reworded = false): void {
    const ahead = this.ahead.get(key);
    if (ahead === undefined) return;
    this.ahead.delete(key);
    ahead.controller.abort(new LookAheadEnded(key, reworded));
    for (const child of ahead.children) if (this.ahead.get(child)?.parent === ahead.controller.signal) this.drop(child);
  }
}
