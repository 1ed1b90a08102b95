// `-r FILE`: one requirement per line, `#` comments and blank lines ignored, as upip and pip read them.

import { readFile } from "node:fs/promises";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";

export interface RequirementLine {
  text: string;
  line: number;
}

export function parseRequirementsFile(content: string): RequirementLine[] {
  const lines: RequirementLine[] = [];
  content.split(/\r?\n/).forEach((raw, index) => {
    const text = raw.replace(/(^|\s)#.*$/, "").trim();
    if (text !== "") lines.push({ text, line: index + 1 });
  });
  return lines;
}

export async function readRequirementsFile(file: string): Promise<RequirementLine[]> {
  let content: string;
  try {
    content = await readFile(file, "utf8");
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    throw new MpipError("usage", `cannot read the requirements file \`${file}\` (${err.code ?? err.message})`, {
      cause: error,
      hint: "check the path given to -r",
    });
  }
  const lines = parseRequirementsFile(content);
  const option = lines.find((line) => line.text.startsWith("-"));
  if (option !== undefined) {
    throw new MpipError("usage", `\`${file}\` line ${option.line}: options in requirements files are not supported (\`${printable(option.text, 80)}\`)`, {
      hint: "pass index and other options on the command line instead",
    });
  }
  return lines;
}
