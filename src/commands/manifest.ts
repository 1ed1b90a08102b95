// `mpip manifest`: writes a MicroPython manifest.py that freezes the target as installed
// (record/manifest.ts), to `-o FILE` (replaced whole, never half-written) or stdout. cli.ts loads this
// module only when it runs.

import { randomBytes } from "node:crypto";
import { mkdir, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { takeInventory } from "../record/inventory.js";
import { planManifest, renderManifest } from "../record/manifest.js";
import { ioError } from "../image/io-error.js";
import { printable } from "../text.js";
import { checkTypedPaths, EXIT_OK } from "../usage.js";
import { guardedRead, targetOf, type ReadFlags } from "./image-output.js";
import { writeStandard } from "../standard-streams.js";

export interface ManifestFlags extends ReadFlags {
  output?: string;
  include: string[];
}

export function manifestCommand(flags: ManifestFlags): Promise<number> {
  return guardedRead(flags, async (reporter) => {
    // A path with a manifest variable (`$(PORT_DIR)/...`) is for the firmware build to resolve; any other is
    // checked now and written absolute, since manifestfile.py reads a relative one from the manifest's folder.
    const local = flags.include.filter((include) => !include.includes("$("));
    await checkTypedPaths(local, "file", "given with --include");
    const includes = flags.include.map((include) => (include.includes("$(") ? include : path.resolve(include)));
    const inventory = await takeInventory(targetOf(flags));
    for (const warning of inventory.warnings) reporter.warn(warning);
    const plan = planManifest(inventory);
    const text = renderManifest(plan, {
      basePath: inventory.target,
      includes,
      header: [`Made by \`mpip manifest\`: freezes ${inventory.target} as installed.`, "Build with: make BOARD=... FROZEN_MANIFEST=<this file>"],
    });
    if (flags.output === undefined) writeStandard("stdout", text);
    else await writeWhole(flags.output, text);
    const count = plan.packages.length + plan.modules.length + plan.frozenMpy.length;
    reporter.info(`${flags.output === undefined ? "Printed" : `Wrote \`${flags.output}\`:`} ${plan.packages.length} package${plan.packages.length === 1 ? "" : "s"}, ${plan.modules.length + plan.frozenMpy.length} module${plan.modules.length + plan.frozenMpy.length === 1 ? "" : "s"}${count === 0 ? " (the target holds nothing to freeze)" : ""}`);
    for (const { path: file, reason } of plan.left) reporter.info(`  not frozen: ${file} (${reason})`);
    return EXIT_OK;
  });
}

async function writeWhole(file: string, text: string): Promise<void> {
  const temporary = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  try {
    // The folder of -o is created if need be, as `mpip lock -o` creates its own.
    await mkdir(path.dirname(temporary), { recursive: true });
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw ioError(`cannot write \`${printable(file)}\``, error, "check that its folder exists and is writable");
  }
}
