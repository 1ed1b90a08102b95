// Requirement files as pip reads them (pip's "Requirements File Format", and its req_file.py): one
// requirement a line; a line ending in `\` goes on with the next; `#` at the start of a line or after
// whitespace starts a comment (comments are stripped after lines are joined); `${NAME}` (upper-case
// letters, digits, `_`) is replaced by that environment variable. A line may be, or end in, options:
// `-r FILE` / `-c FILE` read another requirements or constraints file (its path relative to the folder of
// the file naming it), `-i`, `--extra-index-url`, `-f`, `--no-index`, `--pre` and `--require-hashes` set
// what they set on the command line, and `--hash=sha256:HEX` after a requirement lists the digests its
// file may have. Anything else pip accepts (`-e`, `--global-option`, `--config-settings`, ...) means
// nothing to mpip and is an error naming the file and line, as is an unknown option. What a file can make
// mpip read is bounded (REQUIREMENTS_FILE_LIMITS). Requirements themselves are parsed by the caller
// (package-spec.ts), which puts the origin this module gives in front of any error.

import { constants, type Stats } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { formatBytes } from "../limits.js";
import { readOnce } from "../read-once.js";
import { printable, quantity } from "../text.js";
import { looksLikeUrl } from "../usage.js";
import { expandVariables, parseLine, parseRequirementsFile, type LineOption } from "./requirements-line.js";

export { parseHash, parseRequirementsFile, type RequirementLine } from "./requirements-line.js";

/** Whether a file holds requirements (`-r`) or constraints (`-c`). */
export type RequirementsFileKind = "requirement" | "constraint";

/** A requirement or constraint line: its text without the options, and what they said of it. */
export interface FileRequirement {
  /** The requirement, variables expanded and `--hash` options removed. */
  text: string;
  /** "`reqs.txt` line 3": what messages put in front of an error about it. */
  origin: string;
  /** The file it was read from, as named (on the command line, or joined to the folder of the file naming it). */
  file: string;
  /** The sha256 digests (lowercase hex) its `--hash` options allow; empty when it has none. */
  hashes: string[];
  /** The folder of the file it is in (a relative path on the line is still relative to the current folder, as in pip). */
  folder: string;
}

/** An index option read from a file, in the order read: `-i` replaces the list so far, `--extra-index-url` adds. */
export interface IndexChange {
  type: "index-url" | "extra-index-url";
  url: string;
  origin: string;
}

/** Everything the files given (and the files they name) say, in the order pip reads it. */
export interface RequirementsInput {
  requirements: FileRequirement[];
  constraints: FileRequirement[];
  indexChanges: IndexChange[];
  /** Where `--no-index` was given, if it was. */
  noIndex?: string;
  /** `-f` folders: relative to the file's folder when that path exists there, else as written (pip's rule). */
  findLinks: Array<{ path: string; origin: string }>;
  /** Where `--pre` was given, if it was. */
  pre?: string;
  /** Where `--require-hashes` was given, if it was. */
  requireHashes?: string;
}

/** Bounds on what requirement files can make mpip read. */
export const REQUIREMENTS_FILE_LIMITS = {
  /** The largest file read. */
  maxFileBytes: 1024 * 1024,
  /** How deep `-r`/`-c` may nest below a file given on the command line. */
  maxDepth: 16,
  /** How many files one run reads (a file named twice counts twice). */
  maxFiles: 256,
  /** How many lines all the files together may have. */
  maxLines: 100_000,
};

/** A file to read, as given on the command line (`-r`, `-c`). */
export interface RequirementsFileRequest {
  path: string;
  kind: RequirementsFileKind;
}

/**
 * Reads the files given (in order) and every file they name with `-r`/`-c`, depth first as pip does.
 * `-r` always reads requirements and `-c` constraints, whichever kind of file names them (pip's rule).
 * Credentials in the lines (after expansion) are remembered so that no output shows them (secrets.ts).
 * @throws MpipError `usage`: a file that cannot be read or is not a regular file, a pipe or a device, a cycle of files,
 *   a limit passed, an unset variable, an option mpip does not support or that is misplaced, a bad `--hash`;
 *   `interrupted` when `signal` aborts the wait on a pipe (readOnce).
 */
export async function readRequirementFiles(files: readonly RequirementsFileRequest[], env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<RequirementsInput> {
  const input: RequirementsInput = { requirements: [], constraints: [], indexChanges: [], findLinks: [] };
  const reader = new Reader(input, env, signal);
  for (const file of files) await reader.read(file.path, file.kind, []);
  return input;
}

/** One file in the chain of `-r`/`-c` that led to another, for the cycle and depth errors. */
interface Link {
  real: string;
  shown: string;
  /** The line of this file that names the next one. */
  line?: number;
}

class Reader {
  private files = 0;
  private lines = 0;

  constructor(private readonly input: RequirementsInput, private readonly env: NodeJS.ProcessEnv, private readonly signal: AbortSignal | undefined) {}

  async read(file: string, kind: RequirementsFileKind, chain: Link[]): Promise<void> {
    const namedBy = chain.at(-1);
    // Links resolved, so that a file reached again through a symbolic link is still seen as the same.
    const real = await realpath(file).catch(() => path.resolve(file));
    const looped = chain.findIndex((link) => link.real === real);
    if (looped >= 0) {
      throw new MpipError("usage", `requirement files name each other in a cycle: ${describeChain([...chain.slice(looped), { real, shown: file }])}`, {
        hint: "remove one of these `-r`/`-c` lines; a file read once is enough",
      });
    }
    if (chain.length >= REQUIREMENTS_FILE_LIMITS.maxDepth) {
      throw new MpipError("usage", `requirement files nest more than ${REQUIREMENTS_FILE_LIMITS.maxDepth} deep: ${describeChain([...chain, { real, shown: file }])}`, {
        hint: "name the files from fewer levels, e.g. list them all with -r on the command line",
      });
    }
    const content = await this.load(file, kind, namedBy);
    const lines = parseRequirementsFile(content);
    this.lines += content.split(/\r\n|\r|\n/).length;
    if (this.lines > REQUIREMENTS_FILE_LIMITS.maxLines) {
      throw new MpipError("usage", `requirement files hold more than ${REQUIREMENTS_FILE_LIMITS.maxLines} lines together (reading \`${file}\`): more than mpip reads`, {
        hint: "split the install, or list fewer packages",
      });
    }
    for (const { text, line } of lines) {
      const origin = `\`${file}\` line ${line}`;
      const parsed = parseLine(expandVariables(text, origin, this.env), origin);
      for (const option of parsed.options) await this.apply(option, file, [...chain, { real, shown: file, line }], origin);
      if (parsed.requirement !== undefined) {
        (kind === "constraint" ? this.input.constraints : this.input.requirements).push({ text: parsed.requirement, origin, file, hashes: parsed.hashes, folder: path.dirname(path.resolve(file)) });
      }
    }
  }

  private async apply(option: LineOption, file: string, chain: Link[], origin: string): Promise<void> {
    const { input } = this;
    switch (option.name) {
      case "--requirement":
      case "--constraint":
        await this.read(nestedPath(file, option.value!, option.name, origin), option.name === "--requirement" ? "requirement" : "constraint", chain);
        return;
      case "--index-url":
      case "--extra-index-url":
        input.indexChanges.push({ type: option.name === "--index-url" ? "index-url" : "extra-index-url", url: option.value!, origin });
        return;
      case "--find-links": {
        const relative = path.join(path.dirname(file), option.value!);
        const exists = !path.isAbsolute(option.value!) && (await realpath(relative).then(() => true, () => false));
        input.findLinks.push({ path: exists ? relative : option.value!, origin });
        return;
      }
      case "--no-index":
        input.noIndex ??= origin;
        return;
      case "--pre":
        input.pre ??= origin;
        return;
      case "--require-hashes":
        input.requireHashes ??= origin;
        return;
      default:
        throw new Error(`unhandled requirements-file option ${option.name}`);
    }
  }

  /**
   * The file's text, within the size limit: a regular file (opened without blocking, then checked: a FIFO
   * would hang the open), or a pipe or device read once (`readOnce`).
   */
  private async load(file: string, kind: RequirementsFileKind, namedBy: Link | undefined): Promise<string> {
    this.files += 1;
    if (this.files > REQUIREMENTS_FILE_LIMITS.maxFiles) {
      throw new MpipError("usage", `requirement files name more than ${REQUIREMENTS_FILE_LIMITS.maxFiles} files to read (the last is \`${file}\`${namedBy === undefined ? "" : `, named in \`${namedBy.shown}\` line ${namedBy.line}`})`, {
        hint: "a file named from several others is read each time; name it once",
      });
    }
    const what = kind === "constraint" ? "constraints file" : "requirements file";
    const where = namedBy === undefined ? "" : `, named in \`${namedBy.shown}\` line ${namedBy.line}`;
    const hint = namedBy === undefined
      ? `check the path given to ${kind === "constraint" ? "-c" : "-r"}`
      : `a path in a requirements file is relative to the folder of that file (\`${printable(path.dirname(namedBy.shown))}\`)`;
    const cannot = (error: NodeJS.ErrnoException) =>
      error.code === "ENOENT"
        ? new MpipError("usage", `there is no ${what} \`${file}\`${where}`, { hint })
        : new MpipError("usage", `cannot read the ${what} \`${file}\`${where} (${error.code ?? error.message})`, { cause: error, hint });
    const limit = REQUIREMENTS_FILE_LIMITS.maxFileBytes;
    const tooLarge = (size: string) => new MpipError("usage", `the ${what} \`${file}\`${where} ${size}: more than mpip reads`, { hint: "is it really a requirements file?" });
    // A pipe or device is told by a stat before opening: its writer may have written everything and closed
    // its end already, and then only an open without blocking, which it would need for a regular file, sees
    // the bytes (a blocking open after it would wait for another writer).
    const found = await stat(file).catch((error: NodeJS.ErrnoException) => {
      throw cannot(error);
    });
    if (found.isFIFO() || found.isCharacterDevice()) {
      // `-r <(grep -v dev requirements.txt)`, `-r /dev/stdin`: read once, as pip reads them.
      const bytes = await readOnce(file, limit, this.signal).catch((error: NodeJS.ErrnoException) => {
        throw error instanceof MpipError ? error : cannot(error);
      });
      if (bytes === undefined) throw tooLarge(`gave more than ${formatBytes(limit)}`);
      return decodeText(bytes);
    }
    const notRegular = (stats: Stats) => new MpipError("usage", `the ${what} \`${file}\`${where} is ${stats.isDirectory() ? "a folder" : "not a regular file, a pipe or a device"}`, { hint });
    // A socket cannot even be opened (ENXIO): said as what it is.
    if (!found.isFile()) throw notRegular(found);
    const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
      throw cannot(error);
    });
    try {
      // Checked again on what was opened: the path may have been another thing by then.
      const stats = await handle.stat();
      if (!stats.isFile()) throw notRegular(stats);
      if (stats.size > limit) throw tooLarge(`is larger than ${formatBytes(limit)} (${quantity(stats.size, "byte")})`);
      const buffer = Buffer.alloc(stats.size + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > limit) throw tooLarge(`is larger than ${formatBytes(limit)}`);
      return decodeText(buffer.subarray(0, bytesRead));
    } catch (error) {
      if (error instanceof MpipError) throw error;
      throw cannot(error as NodeJS.ErrnoException);
    } finally {
      await handle.close();
    }
  }
}

/** "`a.txt` line 2 → `b.txt` line 1 → `a.txt`". */
function describeChain(chain: Link[]): string {
  return chain.map((link, index) => (index === chain.length - 1 || link.line === undefined ? `\`${link.shown}\`` : `\`${link.shown}\` line ${link.line}`)).join(" → ");
}

/** `-r`/`-c` in `file`: a path relative to `file`'s folder, as pip joins them. A URL is refused. */
function nestedPath(file: string, value: string, option: string, origin: string): string {
  if (looksLikeUrl(value)) {
    throw new MpipError("usage", `${origin}: \`${printable(value)}\` (${option}) is a URL; mpip reads requirement files from this machine only`, {
      hint: "download the file first and name its path, relative to this file's folder",
    });
  }
  return path.isAbsolute(value) ? value : path.join(path.dirname(file), value);
}

/**
 * A requirements file's text, as pip decodes it (its `auto_decode`): by its byte order mark, UTF-8,
 * UTF-16 little- or big-endian (what Windows PowerShell 5 writes for `pip freeze > requirements.txt`),
 * and UTF-8 without one. The mark itself is not part of the text.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString("utf16le");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return swapped.swap16().toString("utf16le");
  }
  return bytes.toString("utf8").replace(/^\ufeff/, "");
}
