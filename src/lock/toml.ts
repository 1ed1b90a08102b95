// A small TOML writer whose output is fully decided by its input: keys in the order given, strings as
// basic strings with every control character escaped, arrays of tables one entry a line. smol-toml's
// `stringify` chooses between inline tables and `[section]` headers by itself; a lock file must look the
// same byte for byte from one run to the next, and read well in a review diff, so mpip writes its own.
// (TOML 1.0: https://toml.io/en/v1.0.0. What is written is parsed back with smol-toml before it is kept.)

import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { isWellFormed } from "../url.js";

/** A value mpip writes: a string, an integer, a boolean, an array, or an inline table (keys in order). */
export type TomlValue = string | number | boolean | TomlValue[] | TomlInline;
export interface TomlInline {
  [key: string]: TomlValue | undefined;
}

/**
 * `key = value`, one line (an array holding tables spans one line per table); inside inline tables,
 * undefined values are left out. Throws MpipError `bad-metadata` for a string that is not valid Unicode.
 */
export function keyValue(key: string, value: TomlValue): string {
  return `${formatKey(key)} = ${formatValue(value, true)}`;
}

/** The lines of a table's body: each defined entry in order. */
export function tableBody(table: TomlInline): string[] {
  return Object.entries(table).flatMap(([key, value]) => (value === undefined ? [] : [keyValue(key, value)]));
}

/** A key as TOML spells it: bare when it is only letters, digits, `-` and `_`, else a basic string. */
export function formatKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : quote(key);
}

function formatValue(value: TomlValue, topLevel: boolean): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`a lock holds whole numbers only, not ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    // A list of tables reads (and diffs) best one table a line; a list of strings fits on one.
    if (topLevel && value.some((item) => typeof item === "object")) return `[\n${value.map((item) => `    ${formatValue(item, false)},\n`).join("")}]`;
    return `[${value.map((item) => formatValue(item, false)).join(", ")}]`;
  }
  const entries = Object.entries(value).filter((entry): entry is [string, TomlValue] => entry[1] !== undefined);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([key, item]) => `${formatKey(key)} = ${formatValue(item, false)}`).join(", ")} }`;
}

/**
 * A TOML basic string: `"` and `\` escaped, control characters (C0, DEL) as `\uXXXX` or their short forms.
 * TOML holds Unicode text only: a lone surrogate (from a JSON `\ud800` in a package document) cannot be
 * written, and is an error rather than a U+FFFD that would not read back as what was locked.
 */
function quote(text: string): string {
  if (!isWellFormed(text)) throw new MpipError("bad-metadata", `\`${printable(text, 80)}\` is not valid Unicode (it holds a lone surrogate), so it cannot be written to a lock file`, { hint: "the package's metadata is broken; report it to its author" });
  const escaped = text.replace(/[\\"\u0000-\u001f\u007f]/g, (char) => {
    switch (char) {
      case "\\":
        return "\\\\";
      case '"':
        return '\\"';
      case "\b":
        return "\\b";
      case "\t":
        return "\\t";
      case "\n":
        return "\\n";
      case "\f":
        return "\\f";
      case "\r":
        return "\\r";
      default:
        return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
  return `"${escaped}"`;
}
