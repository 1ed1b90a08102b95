// Which entries of an sdist mpip installs, and where. One verdict per entry, in archive order: the name
// rules (entry-path.ts, with FAT's in fat-names.ts), the entry's type, and the shape of the archive as a
// whole: no path twice, no path that is both a file and a folder (whatever the entries' order, and with
// folder entries and skipped files counted: such an archive means two things), and no two installed paths
// that FAT makes one. `mpip install` (unpack.ts) and `mpip check` (pack/check.ts) both ask it, so they
// refuse exactly the same archives. Pure logic.

import { CaseIndex, describeClash, exact, type PathKind } from "./case-fold.js";
import { stripEntryPath } from "./entry-path.js";
import { upipSkips } from "./skip-rules.js";
import type { TarEntry } from "./tar-reader.js";
import { printable } from "../text.js";

export type Admission =
  /** A folder: made for the files inside it, nothing to write. */
  | { ok: true; kind: "folder" }
  /** A file at `path` below the top folder; `skipped` by upip's rules (not installed, maybe read). */
  | { ok: true; kind: "file"; path: string; skipped: boolean }
  /** Refused (error `unsafe-path`): `reason` completes "refused entry `x`: ..."; `hint` for a name FAT cannot hold. */
  | { ok: false; reason: string; hint?: string };

export class ArchiveLayout {
  /** Every entry, skipped or not: the same path twice, or a file where a folder is, is ambiguous whatever is kept. */
  private readonly exact = new CaseIndex<undefined>(exact);
  /** Installed files and folders, by the name FAT gives them. */
  private readonly fat = new CaseIndex<undefined>();

  admit(entry: Pick<TarEntry, "name" | "type" | "typeflag">): Admission {
    const stripped = stripEntryPath(entry.name, { upip: true });
    if (!stripped.ok) return stripped;
    const { type } = entry;
    if (type === "unknown") return { ok: false, reason: `it has an unknown type flag \`${printable(entry.typeflag)}\`; only regular files and folders are installed` };
    if (type !== "file" && type !== "directory") return { ok: false, reason: `it is a ${type} entry; only regular files and folders are installed` };
    const relative = stripped.path;
    if (type === "directory") return relative === "" ? { ok: true, kind: "folder" } : this.place(relative, "folder");
    if (relative === "") return { ok: false, reason: "it is a file outside the archive's top folder" };
    return this.place(relative, "file");
  }

  private place(relative: string, kind: PathKind): Admission {
    const [clash] = this.exact.add(relative, undefined, kind);
    if (clash !== undefined) return { ok: false, reason: describeClash(clash) };
    const skipped = upipSkips(relative);
    if (!skipped) {
      const [fat] = this.fat.add(relative, undefined, kind);
      if (fat !== undefined) return { ok: false, reason: describeClash(fat) };
    }
    return kind === "folder" ? { ok: true, kind } : { ok: true, kind, path: relative, skipped };
  }
}
