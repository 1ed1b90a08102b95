// PKG-INFO of an sdist, for `repack` and `check`: its headers, name and version, the egg-info folder
// setuptools names after it, and a requires.txt made from its `Requires-Dist:` headers for an sdist that
// has none. Pure logic. Core metadata is RFC 822-style: headers up to the first empty line, indented
// lines continue the previous header.
// (Owned by the repack/check side; `mpip pack` renders its own egg-info in egg-info-text.ts.)

import { MpipError } from "../errors.js";
import { parseRequiresDist, parseRequiresTxt } from "../spec/requires.js";
import type { Requirement } from "../spec/requirement.js";

/** Every header, by lower-case name, values in order. */
export function readHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { values: string[]; index: number } | undefined;
  for (const line of text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/)) {
    if (line === "") break;
    if (/^[ \t]/.test(line)) {
      if (last !== undefined && line.trim() !== "") last.values[last.index] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // not a header; Python's email parser ignores such lines too
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
    last = { values, index: values.length - 1 };
  }
  return headers;
}

/** `Name:` and `Version:` of a PKG-INFO; `where` names the file in the error. */
export function nameAndVersion(text: string, where: string): { name: string; version: string } {
  const headers = readHeaders(text);
  const name = headers.get("name")?.[0];
  const version = headers.get("version")?.[0];
  if (!name || !version) {
    throw new MpipError("bad-metadata", `${where} has no ${!name ? "`Name:`" : "`Version:`"} header`, {
      hint: "an sdist's PKG-INFO names the project and its version; rebuild the sdist with setuptools or `python -m build`",
    });
  }
  return { name, version };
}

/** setuptools' egg-info folder name: runs of characters other than letters, digits and `.` become `_`. */
export function eggInfoFolder(name: string): string {
  return `${name.replace(/[^A-Za-z0-9.]+/g, "_")}.egg-info`;
}

export interface RequiresTxt {
  /** The requires.txt text, or undefined when no dependency applies. */
  text: string | undefined;
  /** Requires-Dist values left out because their marker does not hold on MicroPython (extras, host-only). */
  omitted: string[];
  /**
   * The requirements (as written) whose marker the firmware's release decided (`implementation_version`):
   * requires.txt holds no markers, so they are written or left out as for MicroPython's current release.
   */
  firmwareDependent: string[];
}

/**
 * requires.txt from `Requires-Dist:` headers. Markers are evaluated for a MicroPython device (as
 * `mpip install` does) and the requirements that apply are written as plain lines, without marker or
 * extras: upip reads each line as a package to install and knows no `[section]` headers.
 */
export function requiresTxtFromPkgInfo(text: string): RequiresTxt {
  const all = readHeaders(text).get("requires-dist") ?? [];
  const firmwareDependent: string[] = [];
  return plainRequiresTxt(parseRequiresDist(text, undefined, firmwareDependent), all, firmwareDependent);
}

/**
 * setuptools' requires.txt has `[extra]` and `[:marker]` sections, which upip reads as package names:
 * rewrite it as plain lines, keeping what applies on MicroPython.
 */
export function requiresTxtFromRequiresTxt(text: string): RequiresTxt {
  const lines = text.split(/\r?\n/).map((line) => line.replace(/(^|\s)#.*$/, "").trim());
  const requirementLines = lines.filter((line) => line !== "" && !line.startsWith("["));
  const firmwareDependent: string[] = [];
  return plainRequiresTxt(parseRequiresTxt(text, undefined, firmwareDependent), requirementLines, firmwareDependent);
}

function plainRequiresTxt(kept: Requirement[], all: string[], firmwareDependent: string[]): RequiresTxt {
  const keptTexts = new Set(kept.map((requirement) => requirement.text));
  const lines = [...new Set(kept.map((r) => (r.url !== undefined ? `${r.name} @ ${r.url}` : `${r.name}${r.specifier}`)))];
  return {
    text: lines.length === 0 ? undefined : lines.map((line) => `${line}\n`).join(""),
    omitted: all.filter((line) => !keptTexts.has(line.trim())),
    firmwareDependent,
  };
}
