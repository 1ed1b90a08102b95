// What is wrong with a TOML document smol-toml refused, said in one line that names where: the parser's
// own message carries a multi-line drawing of the line with a caret under the column, which mpip's error
// output (one escaped line per message) would show as `\x0a` and a repeat of the message.

import { TomlError } from "smol-toml";

/**
 * `line L, column C: <the parser's reason>` for a TomlError (lines and columns from 1), else the first
 * line of the error's message. Throws nothing.
 */
export function tomlSyntaxProblem(error: unknown): string {
  if (error instanceof TomlError) {
    const reason = error.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
    return `line ${error.line}, column ${error.column}: ${reason}`;
  }
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}
