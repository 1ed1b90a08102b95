// Paths that a FAT device, macOS or Windows makes one file (fat-names.ts's `fatFold`: case, trailing dots
// and spaces, Unicode normalization), and a path that is a file where another needs a folder. This index
// finds such pairs, so they can be refused (within one archive or package document) or warned about
// (across packages). With `exact` as its fold it finds only the very same path twice, or a path that is
// both a file and a folder: what no filesystem at all can hold.

import { printable } from "../text.js";
import { fatFold, howNamesDiffer } from "./fat-names.js";

export type PathKind = "file" | "folder";

export interface Known<Owner> {
  path: string;
  kind: PathKind;
  owner: Owner;
}

/** `path` (an entry being added, or one of its folders) lands where `other` already is. */
export interface Clash<Owner> {
  path: string;
  kind: PathKind;
  other: Known<Owner>;
  /** True when `path` is the added entry itself, false when it is one of the folders the entry implies. */
  itself: boolean;
}

/** The identity: for an index of exact paths. */
export const exact = (path: string): string => path;

export class CaseIndex<Owner> {
  private readonly known = new Map<string, Known<Owner>>();

  /** `fold` maps a path to the key two paths share when they are one file: FAT's by default. */
  constructor(private readonly fold: (path: string) => string = fatFold) {}

  /**
   * Records an entry (a file, or with `kind` "folder" a folder) and the folders it implies; returns what
   * it clashes with. The same folder twice never clashes; the same file twice does.
   */
  add(entry: string, owner: Owner, kind: PathKind = "file"): Array<Clash<Owner>> {
    const clashes: Array<Clash<Owner>> = [];
    const segments = entry.split("/");
    for (let i = 1; i <= segments.length; i++) {
      const path = segments.slice(0, i).join("/");
      const itself = i === segments.length;
      const pathKind: PathKind = itself ? kind : "folder";
      const key = this.fold(path);
      const other = this.known.get(key);
      if (other === undefined) {
        this.known.set(key, { path, kind: pathKind, owner });
        continue;
      }
      if (pathKind === "folder" && other.kind === "folder" && other.path === path) continue;
      clashes.push({ path, kind: pathKind, other, itself });
    }
    return clashes;
  }
}

const INSENSITIVE = "a case-insensitive filesystem (FAT, as on most devices; macOS; Windows)";

/** How two paths with one FAT key differ ("only by case"), and who makes them one name: a subject for "would make them one file". */
export function sameName(a: string, b: string): { how: string; where: string } {
  switch (howNamesDiffer(a, b)) {
    case "case":
      return { how: "only by case", where: INSENSITIVE };
    case "normalization":
      return { how: "only in Unicode normalization (NFC against NFD)", where: "macOS (and FAT, once the files are copied through a Mac)" };
    case "case and normalization":
      return { how: "only by case and Unicode normalization", where: "FAT (as on most devices), macOS and Windows" };
    case "trailing dots or spaces":
      return { how: "only by trailing dots or spaces", where: "FAT (as on most devices) and Windows" };
  }
}

/** Why an entry is refused, when its clash is within one archive. */
export function describeClash(clash: Clash<unknown>): string {
  const { path, kind, other, itself } = clash;
  const mine = `\`${printable(path, 200)}\``;
  const theirs = `\`${printable(other.path, 200)}\``;
  if (path === other.path) {
    if (kind === "file" && other.kind === "file") return "the archive holds this path twice";
    if (kind === "file") return `it is a file, but the archive also has a folder ${theirs}`;
    return itself ? `it is a folder, and the archive also holds the file ${theirs}` : `its folder ${mine} is also a file in the archive (${theirs})`;
  }
  const { how, where } = sameName(path, other.path);
  if (kind === "file" && other.kind === "file") return `it differs ${how} from ${theirs}: ${where} would make them one file`;
  if (kind === "folder" && other.kind === "folder") return `${itself ? "the folder" : "its folder"} ${mine} differs ${how} from the folder ${theirs}: ${where} would make them one folder`;
  const against = other.kind === "file" ? `the file ${theirs}` : `the folder ${theirs}`;
  const self = kind === "file" ? "it is a file" : itself ? "it is a folder" : undefined;
  return self === undefined
    ? `its folder ${mine} and ${against} differ ${how}: on ${where} they cannot both be written`
    : `${self}, and ${against} differs from it ${how}: on ${where} they cannot both be written`;
}

/** Warnings for paths of different packages that one filesystem makes one (the same path is install.ts's business). */
export function caseClashWarnings(packages: Array<{ name: string; files: string[] }>): string[] {
  const index = new CaseIndex<string>();
  const warnings: string[] = [];
  const said = new Set<string>();
  for (const pkg of packages) {
    for (const file of pkg.files) {
      for (const { path, kind, other } of index.add(file, pkg.name)) {
        if (other.owner === pkg.name || (path === other.path && kind === other.kind)) continue;
        const key = `${fatFold(path)}\0${other.owner}\0${pkg.name}`;
        if (said.has(key)) continue;
        said.add(key);
        const mine = `${kind === "folder" ? "the folder " : ""}\`${printable(path, 200)}\` (from \`${pkg.name}\`)`;
        const theirs = `${other.kind === "folder" ? "the folder " : ""}\`${printable(other.path, 200)}\` (from \`${other.owner}\`)`;
        if (kind !== other.kind && path === other.path) {
          warnings.push(`${theirs} and ${mine} cannot both be installed: one is a file, the other a folder`);
          continue;
        }
        const { how, where } = sameName(path, other.path);
        warnings.push(kind === other.kind
          ? `${theirs} and ${mine} differ ${how}: on ${where} they are one ${kind}, so the image will differ there`
          : `${theirs} and ${mine} cannot both be installed on ${where}: one is a file, the other a folder, and they differ ${how}`);
      }
    }
  }
  return warnings;
}
