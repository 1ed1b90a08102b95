// What every source kind answers: plain data about a project's releases and where their bytes are.
// A source never chooses a version; resolve/select.ts does, the same way for every source.

import type { Requirement } from "../spec/requirement.js";

/** Where a file's bytes come from. */
export type Location = { type: "remote"; url: string } | { type: "local"; path: string };

export interface DistFile {
  filename: string;
  location: Location;
  /** "sdist", "bdist_wheel", ... as the index calls it. */
  packagetype: string;
  /** Lowercase hex, when the index gives one. */
  sha256?: string;
  yanked: boolean;
}

export interface ProjectListing {
  /** The project's name as the source spells it. */
  name: string;
  /** Which source answered (an index URL with credentials removed, or a folder). */
  source: string;
  /** Releases by version string, as the source lists them. */
  releases: Map<string, DistFile[]>;
}

export interface Source {
  /** How messages and reports name this source. */
  readonly label: string;
  /** The project's releases, or undefined when this source does not know the project. */
  lookup(requirement: Requirement): Promise<ProjectListing | undefined>;
}
