// `mpip freeze`: the recorded packages as a requirements file, one line each, that `mpip install -r`
// installs again (record/describe.ts `freezeLine`). Lines on stdout; warnings (files in no record, a
// source mpip cannot fetch from) on stderr. cli.ts loads this module only when it runs.

import { freezeLine } from "../record/describe.js";
import { printable } from "../text.js";
import { shellWord } from "../shell-words.js";
import { takeInventory } from "../record/inventory.js";
import { EXIT_OK } from "../usage.js";
import { guardedRead, targetOf, type ReadFlags } from "./image-output.js";
import { writeStandard } from "../standard-streams.js";

export function freezeCommand(flags: ReadFlags): Promise<number> {
  return guardedRead(flags, async (reporter) => {
    const inventory = await takeInventory(targetOf(flags));
    for (const warning of inventory.warnings) reporter.warn(warning);
    const lines: string[] = [];
    const written = new Map<string, string>();
    for (const distribution of inventory.distributions) {
      const earlier = written.get(distribution.key);
      if (earlier !== undefined) {
        // The reader's warning says the name is recorded more than once; a requirements file names it once.
        reporter.warn(`\`${printable(distribution.key)}\`: only \`${printable(earlier)}\` is written, not \`${printable(distribution.distInfo)}\` (a requirements file names a package once)`);
        continue;
      }
      const line = freezeLine(distribution);
      if (!line.ok) {
        reporter.warn(`${line.reason}; it is left out`);
        continue;
      }
      if (line.note !== undefined) reporter.warn(line.note);
      written.set(distribution.key, distribution.distInfo);
      lines.push(line.line);
    }
    const count = inventory.unrecorded.length;
    if (count > 0) reporter.warn(`${count} file${count === 1 ? " is" : "s are"} in no package's record: \`mpip install -r\` will not put ${count === 1 ? "it" : "them"} back (\`mpip list --unrecorded -p ${printable(shellWord(inventory.target))}\` lists ${count === 1 ? "it" : "them"})`);
    // Requirement lines are data for a file, not messages: each was checked to be one plain line.
    writeStandard("stdout", lines.map((line) => `${line}\n`).join(""));
    return EXIT_OK;
  });
}
