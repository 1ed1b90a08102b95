// What changed between the lock on disk and the one its inputs give now, for `mpip lock --check`: the
// packages added, removed, and changed (version, source, or the hash of any file), then the settings
// (`[tool.mpip]`: requirements, constraints, indexes, firmware and build) when they differ. Pure.

import { normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { compareText, packageSource, sortedPackages, type Lock, type LockedArtifact, type LockedPackage, type PinnedFile } from "./format.js";

/** One line of the difference, as `mpip lock --check` prints it: `+ name 1.0`, `- name 1.0`, `~ name 1.0 → 1.1`. */
export type LockChange = { type: "added" | "removed" | "changed" | "settings"; name: string; text: string };

/** How `old` differs from `now`; [] when they lock the same packages from the same files with the same settings. */
export function diffLocks(old: Lock, now: Lock): LockChange[] {
  const before = new Map(sortedPackages(old.packages).map((item) => [normalizeName(item.name), item]));
  const after = new Map(sortedPackages(now.packages).map((item) => [normalizeName(item.name), item]));
  const changes: LockChange[] = [];
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort(compareText)) {
    const was = before.get(name);
    const is = after.get(name);
    if (was === undefined) changes.push({ type: "added", name, text: `+ ${shown(is!)}` });
    else if (is === undefined) changes.push({ type: "removed", name, text: `- ${shown(was)}` });
    else {
      const what = packageChanges(was, is);
      if (what.length > 0) changes.push({ type: "changed", name, text: `~ ${printable(name)}: ${what.join(", ")}` });
    }
  }
  return [...changes, ...settingsChanges(old, now)];
}

/** The `[tool.mpip]` fields that say where a resolution looks. */
export const SOURCE_SETTINGS: readonly string[] = ["index-urls", "find-links"];

/** How `old`'s `[tool.mpip]` (what it was made from and for) differs from `now`'s, a line per field; [] when alike. */
export function settingsChanges(old: Pick<Lock, "build" | "inputs">, now: Pick<Lock, "build" | "inputs">): LockChange[] {
  return settings(old, now).flatMap(([field, was, is]): LockChange[] => (was === is ? [] : [{ type: "settings", name: field, text: `~ [tool.mpip] ${field}: ${was} → ${is}` }]));
}

function shown(item: LockedPackage): string {
  return `${printable(item.name)}${item.version === "" ? "" : ` ${printable(item.version, 60)}`}`;
}

function packageChanges(was: LockedPackage, is: LockedPackage): string[] {
  const what: string[] = [];
  if (was.version !== is.version) what.push(`version ${printable(was.version || "(none)", 60)} → ${printable(is.version || "(none)", 60)}`);
  const from = packageSource;
  if (from(was) !== from(is)) what.push(`source \`${printable(from(was))}\` → \`${printable(from(is))}\``);
  if (was.artifact.type !== is.artifact.type) what.push(`now a ${is.artifact.type}, was a ${was.artifact.type}`);
  else {
    const oldFiles = files(was.artifact);
    const newFiles = files(is.artifact);
    for (const [label, file] of newFiles) {
      const before = oldFiles.get(label);
      if (before === undefined) what.push(`file ${quoted(label)} added`);
      else if (before.sha256 !== file.sha256) what.push(`sha256 of ${quoted(label)} ${before.sha256.slice(0, 12)}… → ${file.sha256.slice(0, 12)}…`);
      else if (where(before) !== where(file)) what.push(`${quoted(label)} moved to \`${printable(where(file))}\``);
    }
    for (const label of oldFiles.keys()) if (!newFiles.has(label)) what.push(`file ${quoted(label)} removed`);
  }
  if (was.requested !== is.requested) what.push(is.requested ? "now asked for by name" : "now only a dependency");
  return what;
}

/** A destination in backticks; "the sdist" and "the package document" as they are. */
function quoted(label: string): string {
  return label.startsWith("the ") ? label : `\`${printable(label)}\``;
}

/** A package's pinned files by what messages call them: the sdist, the document, each destination. */
function files(artifact: LockedArtifact): Map<string, PinnedFile> {
  switch (artifact.type) {
    case "dist":
      return new Map([["the sdist", artifact.file]]);
    case "project":
      return new Map();
    case "module":
      return new Map([[artifact.file.dest, artifact.file]]);
    case "package-json":
      return new Map<string, PinnedFile>([["the package document", artifact.document], ...artifact.files.map((file) => [file.dest, file] as [string, PinnedFile])]);
  }
}

function where(file: PinnedFile): string {
  return file.location.type === "remote" ? file.location.url : file.location.path;
}

/** `[tool.mpip]`'s fields, as text to compare and show. */
function settings(old: Pick<Lock, "build" | "inputs">, now: Pick<Lock, "build" | "inputs">): Array<[string, string, string]> {
  const list = (items: readonly string[] | undefined) => (items === undefined ? "(none)" : `[${items.map((item) => `"${printable(item, 120)}"`).join(", ")}]`);
  const text = (value: string | boolean | undefined) => (value === undefined ? "(none)" : `${typeof value === "string" ? `"${printable(value, 60)}"` : value}`);
  return [
    ["requirements", list(old.inputs?.requirements), list(now.inputs?.requirements)],
    ["constraints", list(old.inputs?.constraints), list(now.inputs?.constraints)],
    ["constraint-files", list(old.inputs?.constraintFiles), list(now.inputs?.constraintFiles)],
    ["index-urls", list(old.inputs?.indexUrls), list(now.inputs?.indexUrls)],
    ["find-links", list(old.inputs?.findLinks), list(now.inputs?.findLinks)],
    ["pre", text(old.inputs?.pre), text(now.inputs?.pre)],
    ["no-deps", text(old.inputs?.noDeps), text(now.inputs?.noDeps)],
    ["mpy", text(old.build?.firmware?.mpy), text(now.build?.firmware?.mpy)],
    ["arch", text(old.build?.firmware?.arch), text(now.build?.firmware?.arch)],
    ["compile", text(old.build?.compile), text(now.build?.compile)],
  ];
}
