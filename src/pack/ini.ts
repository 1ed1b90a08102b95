// A reader for setup.cfg with the rules of Python's configparser, as setuptools reads it: `[section]`,
// `key = value` or `key: value`, whole-line `#` and `;` comments, and values continued on following
// lines indented deeper than their key (how `install_requires` and `packages` list one item a line).
// npm's INI packages follow the Windows INI rules instead and lose those continued lines.

export interface IniError {
  line: number;
  text: string;
}

/** Sections by name, each a map of lower-case keys (`-` read as `_`) to values (continued lines joined by "\n"). */
export type Ini = Map<string, Map<string, string>>;

export function parseIni(text: string): Ini | IniError {
  const sections: Ini = new Map();
  let section: Map<string, string> | undefined;
  let key: string | undefined;
  let keyIndent = 0;
  let lines: string[] = [];

  const finish = (): void => {
    if (section !== undefined && key !== undefined) {
      while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
      section.set(key, lines.join("\n"));
    }
    key = undefined;
    lines = [];
  };

  const all = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  for (let index = 0; index < all.length; index++) {
    const raw = all[index]!;
    const trimmed = raw.trim();
    if (trimmed === "") {
      if (key !== undefined) lines.push("");
      continue;
    }
    if (trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    const indent = raw.length - raw.trimStart().length;
    if (key !== undefined && indent > keyIndent) {
      lines.push(trimmed);
      continue;
    }
    finish();
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header !== null) {
      const name = header[1]!.trim();
      section = sections.get(name) ?? new Map();
      sections.set(name, section);
      continue;
    }
    const separator = /[=:]/.exec(trimmed);
    if (section === undefined || separator === null || separator.index === 0) return { line: index + 1, text: raw };
    key = trimmed.slice(0, separator.index).trim().toLowerCase().replace(/-/g, "_");
    keyIndent = indent;
    const first = trimmed.slice(separator.index + 1).trim();
    lines = [first];
  }
  finish();
  // A value that starts on the next line (`install_requires =` then items) begins with an empty line.
  for (const values of sections.values()) for (const [name, value] of values) values.set(name, value.replace(/^\n+/, ""));
  return sections;
}

/** setuptools' list rule: one item a line when the value spans lines, else split on `separator`. */
export function parseList(value: string, separator = ","): string[] {
  const items = value.includes("\n") ? value.split("\n") : value.split(separator);
  return items.map((item) => item.trim()).filter((item) => item !== "");
}

/** setuptools' dict rule: `key = value` per line (or per `,`-separated item); keys and values trimmed. */
export function parseDict(value: string): Array<[string, string]> | string {
  const entries: Array<[string, string]> = [];
  for (const item of parseList(value)) {
    const at = item.indexOf("=");
    if (at < 0) return item;
    entries.push([item.slice(0, at).trim(), item.slice(at + 1).trim()]);
  }
  return entries;
}
