// The errors of a commit's plan (commit-plan.ts) when something of the target stands in the way: each
// names the operation running, the path in the way, and what to do about it (for a file a package's
// record lists, that package).

import path from "node:path";
import { MpipError } from "../errors.js";
import { printable } from "../text.js";
import type { PlanContext } from "./commit-plan.js";
import { words } from "./operation.js";

/**
 * Something of the target stands where the change needs a folder: the target itself, or a folder on
 * the way to a file it places (`place`) or removes (`remove`).
 */
export function inTheWay(context: PlanContext, file: string, folder: string, what: string, purpose: "place" | "remove"): MpipError {
  const { layout, operation } = context;
  const said = words(operation);
  if (folder === "") {
    return new MpipError("io", `cannot ${said.onTarget} \`${layout.target}\`: it is ${what}, not a folder; nothing was changed`, {
      hint: "choose a folder with -p, or move that file away",
    });
  }
  if (purpose === "remove") {
    return new MpipError("io", `cannot ${said.onTarget} \`${layout.target}\`: \`${printable(file)}\`, which it would remove, lies behind \`${printable(folder)}\`, ${what}, not the folder it was installed in; nothing was changed`, {
      hint: `mpip removes nothing through a link: put the folder \`${printable(folder)}\` back in place of the link (or remove the link), then run mpip again`,
    });
  }
  const owner = context.owners.get(folder);
  return new MpipError("io", `cannot ${said.verb} \`${printable(file)}\`: \`${printable(folder)}\` in \`${layout.target}\` is ${what}, where a folder is needed; nothing was changed`, {
    hint: what !== "a file" ? "mpip does not install through links; replace the link with a folder, then run mpip again"
      : owner !== undefined ? `\`${printable(folder)}\` is a file of \`${printable(owner)}\` (by its record): uninstall \`${printable(owner)}\` first, or ${said.verb} into another target`
      : "remove or rename that file, then run mpip again",
  });
}

/** A folder where the file `file` goes still holds `blocker`, which this change does not remove. */
export function folderInTheWay(context: PlanContext, file: string, blocker: string): MpipError {
  const { layout, operation } = context;
  const said = words(operation);
  const owner = context.owners.get(blocker);
  const whose = owner === undefined ? "a file of no package's record" : `a file of \`${printable(owner)}\``;
  return new MpipError("io", `cannot ${said.verb} \`${printable(file)}\`: the folder \`${printable(file)}\` in \`${layout.target}\` still holds \`${printable(blocker)}\` (${whose}), which this ${said.noun} does not remove; nothing was changed`, {
    hint: owner === undefined
      ? `move \`${printable(blocker)}\` out of \`${printable(file)}\` (or remove it), then run mpip again`
      : `uninstall \`${printable(owner)}\` first, or ${said.verb} into another target`,
  });
}

/** A folder (or file) of the target on another filesystem than the staging folder: a rename there would not be atomic. */
export function otherFilesystem(context: PlanContext, file: string, where: string, purpose: "place" | "remove"): MpipError {
  const { layout, operation } = context;
  const said = words(operation);
  const place = where === "" ? `\`${layout.target}\`` : `\`${printable(where)}\` in \`${layout.target}\``;
  const full = where === "" ? layout.target : path.join(layout.target, where);
  const what = purpose === "place" ? `cannot ${said.verb} \`${printable(file)}\`` : `cannot ${said.onTarget} \`${layout.target}\`: \`${printable(file)}\`, which it would remove, cannot be moved out`;
  return new MpipError("io", `${what}: ${place} is on another filesystem (a mount point) than mpip's staging folder in \`${layout.home}\`, so files cannot be moved ${purpose === "place" ? "into" : "out of"} it all or none; nothing was changed`, {
    hint: `${said.onTarget} \`${printable(full)}\` with its own \`-p\`, or unmount what is mounted there`,
  });
}
