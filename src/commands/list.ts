// `mpip list`: the packages a target's records name (version, source), and the files no record lists,
// so an image made by upip, mip or by hand shows what it holds too. `--size` adds each package's bytes
// and the bytecode freezing it would add (record/size.ts). cli.ts loads this module only when it runs.

import { cacheDir } from "../cache-dir.js";
import { formatBytes } from "../limits.js";
import type { Reporter, Text } from "../log.js";
import { describeSource } from "../record/describe.js";
import { ownedFiles, takeInventory, type Inventory } from "../record/inventory.js";
import type { Distribution } from "../record/read.js";
import { addEstimates, estimateSizes, type SizeEstimate } from "../record/size.js";
import { jsonDocument } from "../render.js";
import { EXIT_OK } from "../usage.js";
import { guardedRead, stdoutReporter, table, targetOf, type ReadFlags } from "./image-output.js";
import { writeStandard } from "../standard-streams.js";

export interface ListFlags extends ReadFlags {
  unrecorded: boolean;
  size: boolean;
}

const UNRECORDED = Symbol("unrecorded");
type SizeKey = Distribution | typeof UNRECORDED;

export function listCommand(flags: ListFlags): Promise<number> {
  return guardedRead(flags, async (reporter) => {
    const inventory = await takeInventory(targetOf(flags));
    for (const warning of inventory.warnings) reporter.warn(warning);
    const sizes = flags.size ? await sizesOf(inventory, reporter) : undefined;
    if (flags.json) writeStandard("stdout", `${jsonDocument(listJson(inventory, sizes))}\n`);
    else stdoutReporter().write(...renderList(inventory, sizes, flags.unrecorded));
    return EXIT_OK;
  });
}

/** Each package's owned files and the unrecorded ones, sized (see record/size.ts). */
export async function sizesOf(inventory: Inventory, reporter: Reporter, only?: readonly Distribution[]): Promise<Map<SizeKey, SizeEstimate>> {
  const groups = new Map<SizeKey, string[]>();
  for (const distribution of only ?? inventory.distributions) groups.set(distribution, ownedFiles(inventory, distribution));
  if (only === undefined && inventory.unrecorded.length > 0) groups.set(UNRECORDED, inventory.unrecorded);
  const sizes = await estimateSizes(inventory, groups, { cacheDir: cacheDir(), warn: (message) => reporter.warn(message) });
  for (const { path, reason } of addEstimates(sizes.values()).notCompiled) reporter.warn(`\`${path}\` does not compile, so its frozen size is not counted: ${reason}`);
  const { stopWasmWorkers } = await import("../mpy/compile.js");
  await stopWasmWorkers();
  return sizes;
}

function renderList(inventory: Inventory, sizes: Map<SizeKey, SizeEstimate> | undefined, listUnrecorded: boolean): Text[] {
  const lines: Text[] = [];
  const { distributions, unrecorded } = inventory;
  if (distributions.length === 0) lines.push(`No package is recorded in \`${inventory.target}\`.`);
  else {
    const header = ["Package", "Version", "Source"];
    if (sizes !== undefined) header.push("Size", "Frozen");
    const rows = [header];
    const sizeCells = (estimate: SizeEstimate | undefined) => (estimate === undefined ? [] : [formatBytes(estimate.bytes), formatBytes(estimate.frozenBytes)]);
    for (const distribution of distributions) {
      rows.push([distribution.name, distribution.version, describeSource(distribution), ...sizeCells(sizes?.get(distribution))]);
    }
    if (sizes !== undefined) {
      if (sizes.has(UNRECORDED)) rows.push(["(in no record)", "", `${unrecorded.length} file${unrecorded.length === 1 ? "" : "s"}`, ...sizeCells(sizes.get(UNRECORDED))]);
      rows.push(["Total", "", "", ...sizeCells(addEstimates(sizes.values()))]);
    }
    lines.push(...table(rows, new Set([3, 4])));
  }
  if (unrecorded.length === 0) return lines;
  const count = `${unrecorded.length} file${unrecorded.length === 1 ? "" : "s"}`;
  lines.push("", listUnrecorded ? `In no record (${count}):` : `In no record (${count}; \`--unrecorded\` lists each):`);
  if (listUnrecorded) for (const file of unrecorded) lines.push(`  ${file}`);
  else for (const [top, files] of groupByTop(unrecorded)) lines.push(files === 1 && !top.endsWith("/") ? `  ${top}` : `  ${top} (${files} file${files === 1 ? "" : "s"})`);
  return lines;
}

/** `a/b.py`, `a/c.py`, `d.py` → `a/`: 2, `d.py`: 1. */
function groupByTop(files: readonly string[]): Map<string, number> {
  const groups = new Map<string, number>();
  for (const file of files) {
    const slash = file.indexOf("/");
    const top = slash < 0 ? file : `${file.slice(0, slash)}/`;
    groups.set(top, (groups.get(top) ?? 0) + 1);
  }
  return groups;
}

function sizeJson(estimate: SizeEstimate | undefined) {
  return estimate === undefined ? {} : { size: { bytes: estimate.bytes, frozenBytes: estimate.frozenBytes, notCompiled: estimate.notCompiled } };
}

function listJson(inventory: Inventory, sizes: Map<SizeKey, SizeEstimate> | undefined) {
  return {
    ok: true,
    target: inventory.target,
    packages: inventory.distributions.map((distribution) => ({
      ...distributionJson(distribution),
      files: ownedFiles(inventory, distribution).length,
      ...sizeJson(sizes?.get(distribution)),
    })),
    unrecorded: inventory.unrecorded.map((file) => ({ path: file, size: inventory.files.get(file)!.size })),
    ...(sizes === undefined ? {} : { unrecordedSize: sizeJson(sizes.get(UNRECORDED) ?? { bytes: 0, frozenBytes: 0, notCompiled: [] }).size, total: sizeJson(addEstimates(sizes.values())).size }),
    warnings: inventory.warnings,
  };
}

/** The fields `list --json` and `show --json` share. */
export function distributionJson(distribution: Distribution) {
  return {
    name: distribution.name,
    version: distribution.version,
    ...(distribution.summary === undefined ? {} : { summary: distribution.summary }),
    source: describeSource(distribution),
    ...(distribution.origin === undefined ? {} : { origin: distribution.origin }),
    ...(distribution.directUrl === undefined ? {} : { directUrl: distribution.directUrl }),
    installer: distribution.installer ?? null,
    requested: distribution.requested,
    distInfo: distribution.distInfo,
  };
}
