// One line of a requirements file as pip reads it (pip's req_file.py): the file's text split into logical
// lines (continuations joined, comments removed), `${NAME}` expanded from the environment, and each line
// broken into the requirement and its options, checked against what mpip takes. No I/O; the files
// themselves are read by requirements-file.ts.

import { MpipError } from "../errors.js";
import { rememberCredentials } from "../secrets.js";
import { splitWords } from "../shell-words.js";
import { printable } from "../text.js";

export interface RequirementLine {
  text: string;
  /** The number of its first line in the file, from 1. */
  line: number;
}

const VARIABLE = /\$\{([A-Z0-9_]+)\}/g;

/**
 * pip's preprocessing of a file's text: lines ending in `\` joined to the next (a comment line ends a
 * run), comments removed, blank lines dropped. Each line keeps the number of its first physical line.
 * Pure: variables are expanded and options read by readRequirementFiles.
 */
export function parseRequirementsFile(content: string): RequirementLine[] {
  const lines: RequirementLine[] = [];
  let joined: string[] = [];
  let first = 0;
  const finish = (text: string, line: number) => {
    const stripped = withoutComment(text).trim();
    if (stripped !== "") lines.push({ text: stripped, line });
  };
  content.split(/\r\n|\r|\n/).forEach((raw, index) => {
    // pip's `COMMENT_RE.match`: only a line that is all comment stops a run of continuations; a `\` after
    // a trailing comment (`foo  # note \`) still joins, and the comment then takes the next line with it.
    const isComment = /^\s*#/.test(raw);
    if (raw.endsWith("\\") && !isComment) {
      if (joined.length === 0) first = index + 1;
      joined.push(raw.slice(0, -1));
      return;
    }
    if (joined.length > 0) {
      // A comment line after a continuation ends it; a space keeps `#` a comment once joined.
      finish(joined.join("") + (isComment ? ` ${raw}` : raw), first);
      joined = [];
    } else {
      finish(raw, index + 1);
    }
  });
  if (joined.length > 0) finish(joined.join(""), first);
  return lines;
}

/**
 * `text` up to its comment: pip's `(^|\s+)#.*$`, the first `#` at the start or after white space, found
 * in one pass (that regular expression takes time quadratic in a run of spaces with no `#` after it, and
 * a continued line, or one line of a 1 MiB file, can be hundreds of thousands of spaces).
 */
export function withoutComment(text: string): string {
  for (let at = text.indexOf("#"); at >= 0; at = text.indexOf("#", at + 1)) {
    if (at === 0 || /\s/.test(text[at - 1]!)) return text.slice(0, at);
  }
  return text;
}

/**
 * `${NAME}` replaced by the variable's value, as pip expands it (only that form, with upper-case letters,
 * digits and `_`; `$NAME` and `${lower}` stay as written). Unlike pip, which leaves the text as it is, a
 * variable that is unset or empty is an error: a token missing in CI should not become a broken URL.
 * @throws MpipError `usage`.
 */
export function expandVariables(text: string, origin: string, env: NodeJS.ProcessEnv): string {
  const expanded = text.replace(VARIABLE, (_match, name: string) => {
    const value = env[name];
    if (value === undefined || value === "") {
      throw new MpipError("usage", `${origin}: the environment variable \`${name}\` (written \`\${${name}}\`) is ${value === undefined ? "not set" : "empty"}`, {
        hint: `set \`${name}\` in the environment mpip runs in, or write the value into the file`,
      });
    }
    return value;
  });
  rememberCredentials(expanded);
  return expanded;
}

/** One option of a line: its long name, and its value for those that take one. */
export interface LineOption {
  name: string;
  value?: string;
}

/** The options each line can hold, by every spelling pip's optparse takes (long names, and short ones). */
const OPTIONS: Record<string, { long: string; value: boolean; alone: boolean }> = {
  "-r": { long: "--requirement", value: true, alone: true },
  "--requirement": { long: "--requirement", value: true, alone: true },
  "-c": { long: "--constraint", value: true, alone: true },
  "--constraint": { long: "--constraint", value: true, alone: true },
  "-i": { long: "--index-url", value: true, alone: true },
  "--index-url": { long: "--index-url", value: true, alone: true },
  "--extra-index-url": { long: "--extra-index-url", value: true, alone: true },
  "-f": { long: "--find-links", value: true, alone: true },
  "--find-links": { long: "--find-links", value: true, alone: true },
  "--no-index": { long: "--no-index", value: false, alone: true },
  "--pre": { long: "--pre", value: false, alone: true },
  "--require-hashes": { long: "--require-hashes", value: false, alone: true },
  "--hash": { long: "--hash", value: true, alone: false },
};

/** Options pip takes in a requirements file that have no meaning for mpip, and why. */
const UNSUPPORTED: Record<string, string> = {
  "-e": "editable installs (`-e`) link a project into a Python environment; mpip copies files into a folder for a device",
  "--editable": "editable installs (`-e`) link a project into a Python environment; mpip copies files into a folder for a device",
  "--global-option": "`--global-option` passes options to setup.py, which mpip never runs",
  "--config-settings": "`--config-settings` passes settings to a build backend, which mpip never runs",
  "--trusted-host": "`--trusted-host` turns off TLS checks, which mpip never does",
  "--no-binary": "mpip installs sdists only: there are no binaries to choose",
  "--only-binary": "mpip installs sdists only: there are no binaries to choose",
  "--prefer-binary": "mpip installs sdists only: there are no binaries to choose",
  "--use-feature": "`--use-feature` turns on pip's own features",
  "--no-deps-for": "`--no-deps-for` is not supported; use --no-deps for the whole install",
};

/** The hint for an unsupported option: what to do instead. */
function unsupportedHint(name: string): string {
  if (name === "-e" || name === "--editable") return "give the project's folder as a line of its own (mpip packs it as `mpip pack` would), or its URL";
  return "remove the option; mpip reads `-r`, `-c`, `-i`, `--extra-index-url`, `-f`, `--no-index`, `--pre`, `--require-hashes` and `--hash` in requirement files";
}

/**
 * One logical line, as pip breaks it: the words before the first one that starts with `-` are the
 * requirement (never split further: a marker may hold anything), the rest are options, split as a shell
 * splits words.
 * @throws MpipError `usage`.
 */
export function parseLine(text: string, origin: string): { requirement?: string; options: LineOption[]; hashes: string[] } {
  const words = text.split(/[ \t]+/);
  const first = words.findIndex((word) => word.startsWith("-"));
  const requirement = (first < 0 ? words : words.slice(0, first)).join(" ").trim();
  const rest = first < 0 ? "" : words.slice(first).join(" ");
  const tokens = splitWords(rest);
  if (tokens === undefined) throw new MpipError("usage", `${origin}: a quote in the options is not closed (\`${printable(rest, 120)}\`)`, { hint: "close the quote" });
  const options: LineOption[] = [];
  const hashes: string[] = [];
  for (let at = 0; at < tokens.length; at++) {
    const token = tokens[at]!;
    const { name, attached } = splitOption(token);
    const known = OPTIONS[name];
    if (known === undefined) {
      const why = UNSUPPORTED[name];
      if (why !== undefined) throw new MpipError("usage", `${origin}: \`${name}\` is not supported: ${why}`, { hint: unsupportedHint(name) });
      const what = token.startsWith("-") ? `\`${printable(name, 60)}\` is not an option mpip reads in a requirements file` : `\`${printable(token, 80)}\` stands after the options, where only an option can`;
      throw new MpipError("usage", `${origin}: ${what}`, { hint: unsupportedHint(name) });
    }
    let value: string | undefined;
    if (known.value) {
      value = attached ?? tokens[++at];
      if (value === undefined || value === "") throw new MpipError("usage", `${origin}: \`${name}\` needs a value`, { hint: name === "--hash" ? "write `--hash=sha256:HEX`" : `write \`${known.long} VALUE\`` });
    } else if (attached !== undefined) {
      throw new MpipError("usage", `${origin}: \`${known.long}\` takes no value`, { hint: `write \`${known.long}\` alone` });
    }
    if (known.long === "--hash") {
      hashes.push(parseHash(value!, origin));
      continue;
    }
    if (requirement !== "" && known.alone) {
      throw new MpipError("usage", `${origin}: \`${known.long}\` must be on a line of its own, not after a requirement`, {
        hint: "only `--hash` may follow a requirement on its line; move the option to a line of its own",
      });
    }
    options.push({ name: known.long, ...(value === undefined ? {} : { value }) });
  }
  if (requirement === "" && hashes.length > 0) {
    throw new MpipError("usage", `${origin}: \`--hash\` with no requirement before it on its line`, { hint: "write the requirement and its hashes on one line: `name==1.0 --hash=sha256:HEX` (a `\\` at the end of a line goes on with the next)" });
  }
  return { ...(requirement === "" ? {} : { requirement }), options, hashes };
}

/** `--index-url=URL` → name and attached value; `-rFILE` (optparse's short form) too. */
function splitOption(token: string): { name: string; attached?: string } {
  if (token.startsWith("--")) {
    const equals = token.indexOf("=");
    return equals < 0 ? { name: token } : { name: token.slice(0, equals), attached: token.slice(equals + 1) };
  }
  const short = token.slice(0, 2);
  if (token.length > 2 && (OPTIONS[short]?.value === true || short === "-e")) return { name: short, attached: token.slice(2) };
  return { name: token };
}

/**
 * `sha256:HEX` (pip's `--hash` value) → the lowercase hex digest. pip also takes sha384 and sha512; mpip
 * computes and checks sha256 only, so another algorithm is an error.
 * @throws MpipError `usage`.
 */
export function parseHash(value: string, origin: string): string {
  const match = /^([A-Za-z0-9]+):(.*)$/.exec(value);
  if (match === null) throw new MpipError("usage", `${origin}: \`--hash=${printable(value, 100)}\` is not \`ALGORITHM:HEX\``, { hint: "write `--hash=sha256:HEX` (`sha256sum FILE` prints HEX)" });
  const [, algorithm, digest] = match;
  if (algorithm!.toLowerCase() !== "sha256") {
    throw new MpipError("usage", `${origin}: \`--hash\` uses ${printable(algorithm!, 20)}; mpip checks sha256 digests only`, { hint: "give the file's sha256 instead: `--hash=sha256:HEX` (`sha256sum FILE` prints it)" });
  }
  if (!/^[0-9a-fA-F]{64}$/.test(digest!)) {
    throw new MpipError("usage", `${origin}: \`--hash=sha256:${printable(digest!, 100)}\` is not a sha256 digest (64 hexadecimal digits)`, { hint: "copy the whole digest (`sha256sum FILE` prints it)" });
  }
  return digest!.toLowerCase();
}
