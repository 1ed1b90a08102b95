// Splitting a line into words as a POSIX shell does, for the values pip splits with Python's `shlex.split`:
// a repeatable option's `MPIP_*` variable (cli-options.ts) and the options of a requirements file's line;
// and writing a word so that a shell reads it back, for the commands mpip's hints offer.

import { printable } from "./text.js";

/**
 * `word` as a shell reads it back: as it is when it holds nothing the shell treats specially, else in
 * single quotes; a word with a character output would escape (a newline, an escape, a zero-width or
 * bidi character: text.ts printable) in bash's `$'...'` (`\n`, `\xHH`, `\uHHHH`),
 * so that the text shown holds no control character and still names the same word (single quotes would
 * keep the character itself, which output escapes into text that names another).
 */
export function shellWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  const chars = [...word];
  // What output would escape (text.ts printable: controls, bidi and zero-width characters, separators).
  const escaped = (char: string) => /[\u0000-\u001f\u007f]/.test(char) || printable(char) !== char;
  if (!chars.some(escaped)) return `'${word.replace(/'/g, "'\\''")}'`;
  const written = chars.map((char) => {
    const code = char.codePointAt(0)!;
    if (char === "\\" || char === "'") return `\\${char}`;
    if (char === "\n") return "\\n";
    if (char === "\t") return "\\t";
    if (!escaped(char)) return char;
    if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
    return code <= 0xffff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\U${code.toString(16).padStart(8, "0")}`;
  });
  return `$'${written.join("")}'`;
}

/**
 * Words as a POSIX shell (and Python's `shlex.split`) splits them: runs of whitespace separate, `'…'` is
 * taken as written, `"…"` and a backslash escape the next character. Undefined when a quote is not closed.
 */
export function splitWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'") {
      const end = text.indexOf("'", at + 1);
      if (end < 0) return undefined;
      word = (word ?? "") + text.slice(at + 1, end);
      at = end;
    } else if (char === '"') {
      let quoted = "";
      for (at++; at < text.length && text[at] !== '"'; at++) {
        // Inside double quotes a backslash escapes only what the shell lets it: \ " $ `.
        if (text[at] === "\\" && /[\\"$`]/.test(text[at + 1] ?? "")) at++;
        quoted += text[at];
      }
      if (at >= text.length) return undefined;
      word = (word ?? "") + quoted;
    } else if (char === "\\" && at + 1 < text.length) {
      word = (word ?? "") + text[++at];
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
