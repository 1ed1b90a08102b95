// Paths that differ only by case are one file on a case-insensitive filesystem: FAT/exFAT (the SD cards
// and flash of most devices), macOS and Windows. This index finds such pairs, and a file where another
// path needs a folder, so they can be refused (within one archive) or warned about (across packages).

export type PathKind = "file" | "folder";

export interface Known<Owner> {
  path: string;
  kind: PathKind;
  owner: Owner;
}

/** `path` (a file being added, or one of its folders) lands where `other` already is. */
export interface Clash<Owner> {
  path: string;
  kind: PathKind;
  other: Known<Owner>;
}

/** Unicode NFC, then lowercase: close to what FAT, APFS and NTFS treat as the same name. */
export function foldCase(text: string): string {
  return text.normalize("NFC").toLowerCase();
}

export class CaseIndex<Owner> {
  private readonly known = new Map<string, Known<Owner>>();

  /** Records a file and the folders it implies; returns what it clashes with (identical folders never clash). */
  add(file: string, owner: Owner): Array<Clash<Owner>> {
    const clashes: Array<Clash<Owner>> = [];
    const segments = file.split("/");
    for (let i = 1; i <= segments.length; i++) {
      const path = segments.slice(0, i).join("/");
      const kind: PathKind = i === segments.length ? "file" : "folder";
      const key = foldCase(path);
      const other = this.known.get(key);
      if (other === undefined) {
        this.known.set(key, { path, kind, owner });
        continue;
      }
      if (kind === "folder" && other.kind === "folder" && other.path === path) continue;
      clashes.push({ path, kind, other });
    }
    return clashes;
  }
}

const INSENSITIVE = "a case-insensitive filesystem (FAT, as on most devices; macOS; Windows)";

/** Why an entry is refused, when its clash is within one archive. */
export function describeClash(clash: Clash<unknown>): string {
  const { path, kind, other } = clash;
  const sameCase = path === other.path;
  if (kind === "file" && other.kind === "file") return `it differs only by case from \`${other.path}\`: ${INSENSITIVE} would make them one file`;
  if (kind === "folder" && other.kind === "folder") return `its folder \`${path}\` differs only by case from the folder \`${other.path}\`: ${INSENSITIVE} would make them one folder`;
  const where = sameCase ? "" : ` on ${INSENSITIVE}`;
  return kind === "file" ? `it is a file where other entries need the folder \`${other.path}\`${where}` : `its folder \`${path}\` is also a file in the archive (\`${other.path}\`)${where}`;
}

/** Warnings for paths of different packages that differ only by case (the same path is install.ts's business). */
export function caseClashWarnings(packages: Array<{ name: string; files: string[] }>): string[] {
  const index = new CaseIndex<string>();
  const warnings: string[] = [];
  const said = new Set<string>();
  for (const pkg of packages) {
    for (const file of pkg.files) {
      for (const { path, kind, other } of index.add(file, pkg.name)) {
        if (other.owner === pkg.name || (path === other.path && kind === other.kind)) continue;
        const key = `${foldCase(path)}\0${other.owner}\0${pkg.name}`;
        if (said.has(key)) continue;
        said.add(key);
        const mine = `${kind === "folder" ? "the folder " : ""}\`${path}\` (from \`${pkg.name}\`)`;
        const theirs = `${other.kind === "folder" ? "the folder " : ""}\`${other.path}\` (from \`${other.owner}\`)`;
        warnings.push(kind === other.kind
          ? `${theirs} and ${mine} differ only by case: on ${INSENSITIVE} they are one ${kind}, so the image will differ there`
          : `${theirs} and ${mine} cannot both be installed: one is a file, the other a folder${path === other.path ? "" : ` on ${INSENSITIVE}`}`);
      }
    }
  }
  return warnings;
}
