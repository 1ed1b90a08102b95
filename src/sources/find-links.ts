// pip's `-f DIR`: a local folder of sdists named `{name}-{version}.tar.gz`, so mpip works offline.

import { readdir } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { closeNames, closeNamesNote, editDistanceWithin, printable } from "../text.js";
import { isValidName, normalizeName } from "../spec/names.js";
import type { Requirement } from "../spec/requirement.js";
import { isPep440Version } from "../versions.js";
import type { Artifact, DistFile, ProjectListing, Source } from "./types.js";

const ARCHIVE = /^(?<stem>.+)\.(?<ext>tar\.gz|zip|whl)$/i;

/** `micropython-foo-1.0.tar.gz` → name `micropython-foo`, version `1.0`: the last `-` followed by a valid version. */
export function parseArchiveName(filename: string): { name: string; version: string; packagetype: string } | undefined {
  const match = ARCHIVE.exec(filename);
  if (match?.groups === undefined) return undefined;
  const { stem = "", ext = "" } = match.groups;
  const packagetype = ext.toLowerCase() === "whl" ? "bdist_wheel" : "sdist";
  const parts = packagetype === "bdist_wheel" ? stem.split("-").slice(0, 2) : undefined;
  if (parts !== undefined) return parts.length === 2 && isPep440Version(parts[1]!) ? { name: parts[0]!, version: parts[1]!, packagetype } : undefined;
  for (let at = stem.lastIndexOf("-"); at > 0; at = stem.lastIndexOf("-", at - 1)) {
    const version = stem.slice(at + 1);
    if (isPep440Version(version)) return { name: stem.slice(0, at), version, packagetype };
  }
  return undefined;
}

export class FindLinksSource implements Source {
  readonly label: string;
  readonly local = true;
  private listing: Promise<string[]> | undefined;

  constructor(private readonly folder: string) {
    this.label = folder;
  }

  async lookup(requirement: Requirement): Promise<ProjectListing | undefined> {
    // sdists are named by PEP 508's rule: `__future__` (a name only a micropython-lib index has) is none of these.
    if (!isValidName(requirement.name)) return undefined;
    const wanted = normalizeName(requirement.name);
    const releases = new Map<string, Artifact[]>();
    let name: string | undefined;
    for (const filename of await this.files()) {
      const parsed = parseArchiveName(filename);
      if (parsed === undefined || normalizeName(parsed.name) !== wanted) continue;
      name ??= parsed.name;
      const file: DistFile = { filename, location: { type: "local", path: path.join(this.folder, filename) }, packagetype: parsed.packagetype, yanked: false };
      releases.set(parsed.version, [...(releases.get(parsed.version) ?? []), { type: "dist", file }]);
    }
    return name === undefined ? undefined : { name, source: this.label, releases };
  }

  /**
   * A slip of the keyboard: the names of the folder's sdists close to the one asked for (text.ts
   * closeNames). And a folder `mpip download` wrote is also a micropython-lib v2 index: `-f` reads its
   * sdists only, so a mip package it holds is found with `-i DIR`, and the hint says so.
   */
  async hintWhenMissing(requirement?: Requirement): Promise<string | undefined> {
    const files = await this.files().catch((): string[] => []);
    const notes: string[] = [];
    if (requirement !== undefined) {
      const wanted = normalizeName(requirement.name);
      // One spelling of each project (the first in file order), and only names a project can have.
      const spellings = new Map<string, string>();
      for (const filename of files) {
        const name = parseArchiveName(filename)?.name;
        if (name !== undefined && isValidName(name) && !spellings.has(normalizeName(name))) spellings.set(normalizeName(name), name);
      }
      const near = closeNamesNote(this.folder, closeNames(wanted, [...spellings.values()], (name) => editDistanceWithin(wanted, normalizeName(name), 2)));
      if (near !== undefined) notes.push(near);
    }
    if (files.includes("index.json")) {
      const folder = printable(this.folder);
      notes.push(`\`${folder}\` is also a micropython-lib (v2) index (it holds index.json, as \`mpip download\` writes): \`-f\` reads only its sdists; install its mip packages with \`-i ${folder}\``);
    }
    return notes.length === 0 ? undefined : notes.join("; ");
  }

  private files(): Promise<string[]> {
    this.listing ??= readdir(this.folder).then(
      (names) => names.sort(),
      (error: NodeJS.ErrnoException) => {
        throw new MpipError("io", `cannot read the --find-links folder \`${this.folder}\` (${error.code ?? error.message})`, {
          cause: error,
          hint: "pass a folder that holds .tar.gz sdists",
        });
      },
    );
    return this.listing;
  }
}
