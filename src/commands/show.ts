// `mpip show NAME...`: one recorded package in detail, as `pip show` gives it: version, source,
// requires, required-by, its files (with `--files`, each checked against its recorded hash) and sizes
// (with `--size`). cli.ts loads this module only when it runs.

import { formatBytes } from "../limits.js";
import { MpipError } from "../errors.js";
import type { Text } from "../log.js";
import { describeSource, requiredBy, requirementsOf } from "../record/describe.js";
import { fileState, missingFiles, onDiskPath, ownedFiles, takeInventory, type FileState, type Inventory } from "../record/inventory.js";
import type { Distribution } from "../record/read.js";
import type { SizeEstimate } from "../record/size.js";
import { jsonDocument, renderError } from "../render.js";
import { normalizeName } from "../spec/names.js";
import { closeRecordedNames, printable } from "../text.js";
import { shellWord } from "../shell-words.js";
import { EXIT_FAILED, EXIT_OK } from "../usage.js";
import { guardedRead, stdoutReporter, targetOf, type ReadFlags } from "./image-output.js";
import { distributionJson, sizesOf } from "./list.js";
import { writeStandard } from "../standard-streams.js";

export interface ShowFlags extends ReadFlags {
  files: boolean;
  size: boolean;
}

interface FileLine {
  path: string;
  size: number | null;
  /** `owned-by-other`: a later package's record lists it too, and the file is that package's. */
  state: FileState | "owned-by-other";
  owner?: string;
}

export function showCommand(names: string[], flags: ShowFlags): Promise<number> {
  return guardedRead(flags, async (reporter) => {
    const inventory = await takeInventory(targetOf(flags));
    const { chosen, missing } = pick(inventory, names);
    for (const warning of inventory.warnings) reporter.warn(warning);
    // `Requires:` lists what it can read: a line it cannot is said, not dropped without a word.
    for (const distribution of chosen) {
      for (const line of requirementsOf(distribution).unreadable) {
        reporter.warn(`\`${printable(distribution.distInfo)}/METADATA\`: \`Requires-Dist: ${printable(line, 120)}\` is not a requirement mpip can read; it is not shown under Requires`);
      }
    }
    const sizes = flags.size ? await sizesOf(inventory, reporter, chosen) : undefined;
    const details = await Promise.all(chosen.map(async (distribution) => ({
      distribution,
      files: flags.files ? await fileLines(inventory, distribution) : undefined,
      size: sizes?.get(distribution),
    })));
    // As pip: the packages found are shown, and the names not found are an error after them (exit 1).
    const failure = missing === undefined ? undefined : { code: missing.code, message: missing.message, ...(missing.hint === undefined ? {} : { hint: missing.hint }) };
    if (flags.json) {
      writeStandard("stdout", `${jsonDocument({ ok: failure === undefined, ...(failure === undefined ? {} : { error: failure }), target: inventory.target, packages: details.map((detail) => showJson(inventory, detail)), warnings: inventory.warnings })}\n`);
    } else {
      const out = stdoutReporter();
      details.forEach((detail, index) => out.write(...(index === 0 ? [] : ["---"]), ...renderShow(inventory, detail)));
    }
    if (missing !== undefined) {
      reporter.write(...renderError(missing, flags.debug === true));
      return EXIT_FAILED;
    }
    return EXIT_OK;
  });
}

/**
 * The distributions named, in the order given (each once), and for names with no record the error naming
 * all such (with the recorded names close to them); thrown when no name has a record.
 * @throws MpipError `not-found`.
 */
function pick(inventory: Inventory, names: readonly string[]): { chosen: Distribution[]; missing?: MpipError } {
  const chosen: Distribution[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const matches = inventory.distributions.filter((distribution) => distribution.key === normalizeName(name));
    if (matches.length === 0) unknown.push(name);
    for (const match of matches) if (!chosen.includes(match)) chosen.push(match);
  }
  if (unknown.length === 0) return { chosen };
  const what = unknown.map((name) => `\`${printable(name, 80)}\``).join(", ");
  const near = closeRecordedNames(unknown, inventory.distributions.map((distribution) => distribution.name), normalizeName);
  const missing = new MpipError("not-found", `no package ${what} is recorded in \`${printable(inventory.target)}\``, {
    hint: [...(near === undefined ? [] : [near]), `${inventory.distributions.length === 0 ? "nothing there has a record: " : ""}\`mpip list -p ${printable(shellWord(inventory.target))}\` shows ${inventory.distributions.length === 0 ? "the files it holds" : "the recorded packages"}`],
  });
  if (chosen.length === 0) throw missing;
  return { chosen, missing };
}

/** Every file the record lists, and every file of the dist-info folder, with its state. */
async function fileLines(inventory: Inventory, distribution: Distribution): Promise<FileLine[]> {
  const lines = new Map<string, FileLine>();
  for (const row of distribution.rows) {
    // Where the filesystem folds names (FAT), as the disk spells it.
    const at = onDiskPath(inventory, row.path);
    const owner = inventory.owners.get(at);
    const file = inventory.files.get(at);
    const state = owner !== undefined && owner !== distribution ? "owned-by-other" : await fileState(inventory, row);
    lines.set(at, { path: at, size: file?.size ?? null, state, ...(state === "owned-by-other" ? { owner: owner!.name } : {}) });
  }
  for (const file of ownedFiles(inventory, distribution)) {
    if (!lines.has(file)) lines.set(file, { path: file, size: inventory.files.get(file)!.size, state: "unchecked" });
  }
  return [...lines.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function renderShow(inventory: Inventory, detail: { distribution: Distribution; files: FileLine[] | undefined; size: SizeEstimate | undefined }): Text[] {
  const { distribution, files, size } = detail;
  const { requirements } = requirementsOf(distribution);
  const owned = ownedFiles(inventory, distribution);
  const bytes = owned.reduce((sum, file) => sum + inventory.files.get(file)!.size, 0);
  const lines: Text[] = [
    `Name: ${distribution.name}`,
    `Version: ${distribution.version}`,
    `Summary: ${distribution.summary ?? ""}`,
    `Source: ${describeSource(distribution)}`,
    `Installer: ${distribution.installer ?? ""}`,
    `Requested: ${distribution.requested ? "yes" : "no (installed as a dependency, or not said)"}`,
    `Requires: ${requirements.map((requirement) => requirement.name).join(", ")}`,
    `Required-by: ${requiredBy(distribution, inventory.distributions).join(", ")}`,
    `Location: ${inventory.target}`,
    `Record: ${distribution.distInfo}`,
    `Size: ${owned.length} file${owned.length === 1 ? "" : "s"}, ${formatBytes(bytes)}${size === undefined ? "" : `; ${formatBytes(size.frozenBytes)} frozen (bytecode)`}`,
  ];
  const missing = missingFiles(inventory, distribution);
  if (missing.length > 0 && files === undefined) lines.push(`Missing: ${missing.length} recorded file${missing.length === 1 ? "" : "s"} not in the target (\`--files\` lists them)`);
  if (files !== undefined) {
    lines.push("Files:");
    // Sizes in one column: each path padded to the longest one with a size.
    const width = Math.max(0, ...files.filter((file) => file.size !== null).map((file) => [...file.path].length));
    for (const file of files) {
      const note = file.state === "changed" ? " (changed since install)" : file.state === "missing" ? " (missing)" : file.state === "owned-by-other" ? ` (now ${file.owner}'s)` : "";
      lines.push(`  ${file.path}${file.size === null ? "" : `${" ".repeat(width - [...file.path].length)}  ${formatBytes(file.size)}`}${note}`);
    }
  }
  return lines;
}

function showJson(inventory: Inventory, detail: { distribution: Distribution; files: FileLine[] | undefined; size: SizeEstimate | undefined }) {
  const { distribution, files, size } = detail;
  const owned = ownedFiles(inventory, distribution);
  return {
    ...distributionJson(distribution),
    requires: requirementsOf(distribution).requirements.map((requirement) => requirement.text),
    requiresDist: distribution.requiresDist,
    requiredBy: requiredBy(distribution, inventory.distributions),
    location: inventory.target,
    fileCount: owned.length,
    bytes: owned.reduce((sum, file) => sum + inventory.files.get(file)!.size, 0),
    missing: missingFiles(inventory, distribution),
    ...(size === undefined ? {} : { size: { bytes: size.bytes, frozenBytes: size.frozenBytes, notCompiled: size.notCompiled } }),
    ...(files === undefined ? {} : { files }),
  };
}
