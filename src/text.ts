// Text that reaches a terminal. Names and values from archives, indexes, files and the network are
// hostile input: shown with control characters and text-direction overrides escaped (`printable`, which
// also cuts them to a readable length). Output itself is data (`Text`): strings are always escaped when
// rendered, and only mpip's own styles, kept apart from the strings, become escape sequences. So no
// string can clear the screen, retitle the window, move the cursor or forge a line, however it was built.
// Both also remove credentials (secrets.ts): no URL's password or token is ever shown.

import { redactSecrets } from "./secrets.js";

// C0 (newline and tab included), DEL, C1, the Arabic letter mark, zero-width and direction marks, line and
// paragraph separators, embeddings and overrides, word joiners and isolates, and the byte-order mark.
const INVISIBLE = /[\0-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every invisible or controlling character written as `\xHH` or `\u{HHHH}`; nothing cut. */
export function escapeControls(text: string): string {
  return text.replace(LONE_SURROGATE, (char) => `\\u{${char.charCodeAt(0).toString(16)}}`).replace(INVISIBLE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}

/**
 * `text` with credentials removed (see secrets.ts), escaped (see escapeControls) and, over `max`
 * characters, cut in the middle with its length said (after the redaction, so no cut leaves half a token).
 */
export function printable(input: string, max = 200): string {
  const text = redactSecrets(input);
  const cut = text.length > max ? `${text.slice(0, max - 40)}…${text.slice(-30)} (${text.length} characters)` : text;
  return escapeControls(cut);
}

/** Damerau-Levenshtein distance (optimal string alignment): a swap of two neighbours counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The names among `names` a slip of the keyboard away from `wanted`, for a "did you mean" hint: at most
 * one edit from a name of up to 4 characters, two from a longer one (a swap of neighbours is one edit;
 * `distance` measures, editDistanceWithin by default), never `wanted` itself; the closest 3 at most, closest
 * first, then by name.
 */
export function closeNames(wanted: string, names: readonly string[], distance: (name: string) => number = (name) => editDistanceWithin(wanted, name, 2)): string[] {
  const most = wanted.length <= 4 ? 1 : 2;
  return [...new Set(names)]
    .map((name) => ({ name, distance: distance(name) }))
    .filter((entry) => entry.distance > 0 && entry.distance <= most)
    .sort((a, b) => a.distance - b.distance || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, 3)
    .map((entry) => entry.name);
}

/** The hint that `where` (a source's label) has names close to the one asked for, or undefined for none. */
export function closeNamesNote(where: string, near: readonly string[]): string | undefined {
  if (near.length === 0) return undefined;
  return `\`${printable(where)}\` has ${near.length === 1 ? "a name close to it" : "names close to it"}: ${near.map((name) => `\`${printable(name)}\``).join(", ")}`;
}

/**
 * editDistance(a, b) where it is at most `bound`, else a number above `bound`: names whose lengths differ
 * by more are not measured (no edit distance is less than that difference), so a folder of thousands of
 * names is compared in a moment.
 */
export function editDistanceWithin(a: string, b: string, bound: number): number {
  return Math.abs(a.length - b.length) > bound ? bound + 1 : editDistance(a, b);
}

/**
 * A count with its noun, agreeing in number: `quantity(1, "file")` → "1 file", `quantity(0, "file")` →
 * "0 files", `quantity(2, "entry", "entries")` → "2 entries". Every count mpip prints goes through it.
 */
export function quantity(count: number, noun: string, plural = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : plural}`;
}

/** mpip's own styles: SGR codes to open and close each. */
const STYLES = { bold: [1, 22], red: [31, 39], yellow: [33, 39], green: [32, 39], cyan: [36, 39], dim: [2, 22] } as const;
export type Style = keyof typeof STYLES;

/**
 * One line (or part of one) of output: plain strings, which are escaped when shown (a newline in one
 * is shown as `\x0a`, not obeyed), styled pieces, and sequences of both. Lines are separate values:
 * only the renderer puts newlines between them.
 */
export type Text = string | number | Styled | readonly Text[];

export class Styled {
  constructor(readonly style: Style, readonly text: Text) {}

  /** A styled piece cannot be pasted into a string: it would lose its escaping. Use it as a Text. */
  toString(): never {
    throw new Error("a Styled piece was turned into a string; pass it to the Reporter as Text instead");
  }
}

export function styled(style: Style, text: Text): Styled {
  return new Styled(style, text);
}

/** A line for the terminal: strings with credentials removed and escaped, styles as SGR codes when `color`, else dropped. */
export function renderText(text: Text, color: boolean): string {
  if (typeof text === "string") return escapeControls(redactSecrets(text));
  if (typeof text === "number") return String(text);
  if (text instanceof Styled) {
    const inner = renderText(text.text, color);
    if (!color) return inner;
    const [open, close] = STYLES[text.style];
    return `\u001b[${open}m${inner}\u001b[${close}m`;
  }
  return (text as readonly Text[]).map((piece) => renderText(piece, color)).join("");
}

/** The same text unstyled and unescaped, for documents that escape it themselves (the --json report). */
export function plainText(text: Text): string {
  if (typeof text === "string") return text;
  if (typeof text === "number") return String(text);
  if (text instanceof Styled) return plainText(text.text);
  return (text as readonly Text[]).map(plainText).join("");
}

/**
 * For names asked for that no install record has (`show`, `uninstall`): the recorded names a slip of the
 * keyboard away from each (closeNames, compared after PEP 503 normalization by `normalize`), as a hint
 * line (`` `fmtt`: did you mean `fmt`? ``), or undefined when none is close.
 */
export function closeRecordedNames(missing: readonly string[], recorded: readonly string[], normalize: (name: string) => string): string | undefined {
  const notes = missing.flatMap((name) => {
    const wanted = normalize(name);
    const near = closeNames(wanted, recorded, (candidate) => editDistanceWithin(wanted, normalize(candidate), 2));
    return near.length === 0 ? [] : [`\`${printable(name, 80)}\`: did you mean ${near.map((candidate) => `\`${printable(candidate, 80)}\``).join(" or ")}?`];
  });
  return notes.length === 0 ? undefined : notes.join("; ");
}
