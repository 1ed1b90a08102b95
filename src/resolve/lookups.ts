// The index look-ups of one resolution. The walk goes level by level (resolve.ts), yet a package's
// dependencies are known as soon as its archive has been read, while the rest of its level may still be
// downloading: `lookAhead` asks the indexes about them at once, once per name. The level that then needs a
// name takes the answer looked up ahead only if it asks for the same requirement (the same specifiers,
// constraints included), so the choice and the plan are those of the plain level-by-level walk whatever
// the network's timing; otherwise that answer is dropped and the look-up made as asked. A look-up ahead
// that fails says nothing until (and unless) its level asks; "not found" is worded by the level, which
// knows who asked.

import type { ProjectListing } from "../sources/types.js";
import { formatRequirement, type Requirement } from "../spec/requirement.js";

/** Starts one look-up of a project (`requirement` carries every specifier on the name): its listing, or undefined where no source knows it. */
export type StartLookup = (requirement: Requirement) => Promise<ProjectListing | undefined>;

export class Lookups {
  /** The look-up each key's level made (or took from those ahead). */
  private readonly byKey = new Map<string, Promise<ProjectListing | undefined>>();
  /** Look-ups started ahead of their level: by key, the requirement asked for and its answer. */
  private readonly ahead = new Map<string, { words: string; listing: Promise<ProjectListing | undefined> }>();

  constructor(private readonly start: StartLookup) {}

  /** The listing for `key` as its level asks for it: the one looked up ahead for the same requirement, or a new look-up. */
  listing(key: string, requirement: Requirement): Promise<ProjectListing | undefined> {
    let listing = this.byKey.get(key);
    if (listing === undefined) {
      const ahead = this.ahead.get(key);
      listing = ahead !== undefined && ahead.words === formatRequirement(requirement) ? ahead.listing : this.start(requirement);
      this.byKey.set(key, listing);
    }
    return listing;
  }

  /** Starts the look-up that `key`'s level will most likely make, unless one was made or started for the key. */
  lookAhead(key: string, requirement: Requirement): void {
    if (this.byKey.has(key) || this.ahead.has(key)) return;
    const listing = this.start(requirement);
    listing.catch(() => {});
    this.ahead.set(key, { words: formatRequirement(requirement), listing });
  }
}
