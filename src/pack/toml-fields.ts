// Typed reads of pyproject.toml fields: each value is checked against the kind the field needs, and an
// error names the file and the dotted field, because a typo here would otherwise ship a broken package.

import { badProject } from "./metadata.js";

export const FILE = "pyproject.toml";
export type Table = Record<string, unknown>;

export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export type Kind = "string" | "boolean" | "table" | "array";

export function optional(table: Table, key: string, kind: Kind, field: string): unknown {
  const value = table[key];
  if (value === undefined) return undefined;
  const ok = kind === "table" ? isTable(value) : kind === "array" ? Array.isArray(value) : typeof value === kind;
  if (!ok) throw badProject(FILE, field, `must be ${kind === "array" ? "an array" : `a ${kind}`}, not ${describe(value)}`);
  return value;
}

export function optionalStrings(table: Table, key: string, field: string): string[] | undefined {
  const list = optional(table, key, "array", field) as unknown[] | undefined;
  if (list === undefined) return undefined;
  for (const item of list) if (typeof item !== "string") throw badProject(FILE, field, `must hold strings only, not ${describe(item)}`);
  return list as string[];
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  return `${typeof value === "string" ? "the string" : `the ${typeof value}`} \`${String(value)}\``;
}
