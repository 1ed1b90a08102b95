// The target folder as the user typed it, made into a real place before anything is written: every
// component looked at once, links followed, and anything that is not a folder (or a link to nothing)
// refused with a message that names it. Nothing here creates or changes anything, so a target that
// cannot be used leaves no trace: no lock, no staging folder, no journal.
//
// This is what keeps odd paths from looping: a target behind a dangling link (`~/.micropython/lib`
// pointing at an SD card that is not mounted), below one (`/media/card/img`), below a file, or on a
// filesystem that refuses new folders (`/proc/x`) is an error here, not a retry loop further on.

import { lstat, mkdir, readlink, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import { errnoCode, ioError, ioHint } from "./io-error.js";
import { words, type TargetOperation } from "./operation.js";

export interface ResolvedTarget {
  /** Absolute, with every link that exists resolved; missing trailing components appended as typed. */
  path: string;
  /** Whether the target folder exists already. */
  exists: boolean;
}

/**
 * Resolves `input` (relative to the current folder) component by component, for `operation` (named in
 * the errors: "cannot uninstall from ...").
 * @throws MpipError `usage` for an empty path; `bad-target` for a component that is a file, a link to
 *   nothing or a loop of links; `io` when a component cannot be looked at.
 */
export async function resolveTarget(input: string, operation: TargetOperation = "install"): Promise<ResolvedTarget> {
  const said = words(operation);
  if (input === "") {
    throw new MpipError("usage", "the target folder is an empty string", {
      hint: "give a folder with -p (an unset variable in a script, as in `-p \"$IMAGE\"`, gives an empty one)",
    });
  }
  if (input.includes("\0")) throw new MpipError("usage", `the target folder \`${printable(input)}\` contains a NUL byte`);
  const absolute = path.resolve(input);
  const { root } = path.parse(absolute);
  const components = absolute.slice(root.length).split(path.sep).filter((part) => part !== "");
  let current = root;
  for (let index = 0; index < components.length; index++) {
    const next = path.join(current, components[index]!);
    const info = await look(next, input);
    if (info === undefined) return { path: path.join(current, ...components.slice(index)), exists: false };
    if (info.isSymbolicLink()) {
      current = await followLink(next, input, said.onTarget, operation);
      continue;
    }
    if (!info.isDirectory()) throw notAFolder(said.onTarget, input, next, index === components.length - 1, undefined, operation);
    current = next;
  }
  return { path: current, exists: true };
}

async function look(file: string, input: string) {
  try {
    return await lstat(file);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(`cannot look at \`${printable(file)}\`, on the way to the target \`${printable(input)}\``, error, "check the permissions of the folders on that path");
  }
}

/** The real folder behind the link `file`; a link to nothing, to a file or in a loop is an error. */
/** The option that names the folder, by operation: `download -d`, `index build -o`, `-p` for the others. */
const FOLDER_OPTION: Partial<Record<TargetOperation, string>> = { download: "-d", "index build": "-o" };

/** What a refusal adds: a run that only reads changes nothing whatever happens, so it is said only of one that writes. */
function unchanged(operation: TargetOperation): string {
  return operation === "read" ? "" : "; nothing was changed";
}

async function followLink(file: string, input: string, onTarget: string, operation: TargetOperation): Promise<string> {
  let real: string;
  try {
    real = await realpath(file);
  } catch (error) {
    const destination = await readlink(file).catch(() => "?");
    if (errnoCode(error) === "ENOENT") {
      throw new MpipError("bad-target", `cannot ${onTarget} \`${printable(input)}\`: \`${printable(file)}\` is a symbolic link to \`${printable(destination)}\`, which does not exist${unchanged(operation)}`, {
        hint: "if it leads to a card, a board or a network drive, connect and mount it first; otherwise fix or remove the link",
      });
    }
    if (errnoCode(error) === "ELOOP") {
      throw new MpipError("bad-target", `cannot ${onTarget} \`${printable(input)}\`: \`${printable(file)}\` is a symbolic link that leads back to itself${unchanged(operation)}`, {
        hint: "fix the link so that it leads to a folder",
      });
    }
    throw ioError(`cannot follow the symbolic link \`${printable(file)}\` to the target \`${printable(input)}\``, error, "check the permissions of the folders it leads through");
  }
  const info = await stat(real).catch((error: unknown) => {
    throw ioError(`cannot look at \`${printable(real)}\``, error, "check its permissions");
  });
  if (!info.isDirectory()) throw notAFolder(onTarget, input, file, false, real, operation);
  return real;
}

function notAFolder(onTarget: string, input: string, file: string, isTarget: boolean, real: string | undefined, operation: TargetOperation): MpipError {
  const what = real === undefined ? "a file" : `a symbolic link to the file \`${printable(real)}\``;
  const flag = FOLDER_OPTION[operation] ?? "-p";
  if (isTarget) {
    return new MpipError("bad-target", `cannot ${onTarget} \`${printable(input)}\`: it is ${what}, not a folder${unchanged(operation)}`, {
      // A read needs a folder packages were installed into; only a run that writes would put one where the file is.
      hint: operation === "read" ? `give the folder packages were installed into with ${flag} (\`mpip install -p DIR\` writes one)` : `choose a folder with ${flag}, or move that file away`,
    });
  }
  return new MpipError("bad-target", `cannot ${onTarget} \`${printable(input)}\`: \`${printable(file)}\` on its path is ${what}, not a folder${unchanged(operation)}`, {
    hint: `check the path given with ${flag}: a folder on it is a file`,
  });
}

/**
 * Creates `dir` and its missing parents (as `mkdir -p`), reporting the real reason a level cannot be
 * made; returns the topmost folder created, if any. A filesystem that answers ENOENT for a folder
 * whose parent exists (`/proc`, `/sys`) does not take new folders: that is said, not retried.
 */
export async function createFolders(dir: string, purpose: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const exists = await lstat(current).then(() => true, (error: unknown) => {
      if (errnoCode(error) === "ENOENT") return false;
      throw ioError(`cannot look at \`${printable(current)}\``, error, "check its permissions");
    });
    if (exists || path.dirname(current) === current) break;
    missing.unshift(current);
  }
  for (const level of missing) {
    try {
      await mkdir(level);
    } catch (error) {
      if (errnoCode(error) === "EEXIST") {
        const info = await stat(level).catch(() => undefined);
        if (info?.isDirectory() === true) continue;
      }
      const parent = path.dirname(level);
      const hint = errnoCode(error) === "ENOENT" || errnoCode(error) === "EEXIST"
        ? `\`${printable(parent)}\` does not take new folders (a virtual filesystem such as /proc, or a link to nothing): choose another folder with -p`
        : ioHint(error, `make \`${printable(parent)}\` writable, or choose another folder with -p`);
      throw new MpipError("io", `cannot create \`${printable(level)}\`, ${purpose} (${errnoCode(error) ?? String(error)})`, { cause: error, hint });
    }
  }
  return missing[0];
}
