// `mpip repack`: turns any sdist into a MicroPython distribution package by sdist_upip's rules, keeping
// only the packages and modules the distribution installs (sdist-rules.ts), with `pkg/R.py` generated for each package that has data files, and the egg-info
// metadata upip reads (`PKG-INFO`, `requires.txt`) made from the top-level PKG-INFO when the sdist has none
// (`python -m build` sdists carry only that). Written by writer.ts: plain ustar, 4 KiB window, reproducible.

import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { ioHint } from "../image/io-error.js";
import { printable } from "../text.js";
import { eggInfoFolder, nameAndVersion, requiresTxtFromPkgInfo, requiresTxtFromRequiresTxt } from "./pkg-info.js";
import { firmwareMarkerWarning } from "./egg-info-text.js";
import { renderResourceModule } from "./r-py.js";
import { readSdist, type SdistContents, type SdistFile } from "./read-sdist.js";
import { packageLayout, repackVerdict, resourcesByPackage, topLevelTxtPath, type PackageLayout, type Rule } from "./sdist-rules.js";
import { writeSdist, type ArchiveFile, type WriteOptions } from "./writer.js";
import { makeDirs } from "../image/make-dirs.js";

export interface RepackPlan {
  name: string;
  version: string;
  /** The top folder, kept from the input: `name-version`. */
  top: string;
  /** What goes into the archive, paths including the top folder. */
  files: ArchiveFile[];
  /** The packages and modules kept, and whether `top_level.txt` or the files decided them. */
  layout: PackageLayout;
  kept: Array<{ path: string; rule: Rule }>;
  dropped: Array<{ path: string; rule: Rule }>;
  /** Paths (below the top folder) that mpip wrote: `R.py` modules and egg-info metadata. */
  generated: string[];
  /** Requires-Dist lines left out of a generated requires.txt (their marker does not hold on MicroPython). */
  omittedRequirements: string[];
  warnings: string[];
  /** The input's largest deflate distance (above 4096 it needed more than a device's window). */
  inputMaxDistance: number;
}

export interface RepackResult extends RepackPlan {
  output: string;
  bytes: number;
}

/** Pure: what the repacked archive holds. */
export function planRepack(contents: SdistContents): RepackPlan {
  const topLevelPath = topLevelTxtPath(contents.files.map((file) => file.path));
  const topLevelData = contents.files.find((file) => file.path === topLevelPath)?.data;
  const layout = packageLayout(
    contents.files.map((file) => file.path),
    topLevelPath === undefined || topLevelData === undefined ? undefined : { path: topLevelPath, text: Buffer.from(topLevelData).toString("utf8") },
  );
  const kept: RepackPlan["kept"] = [];
  const dropped: RepackPlan["dropped"] = [];
  const keptFiles: SdistFile[] = [];
  for (const file of contents.files) {
    const verdict = repackVerdict(file.path, layout);
    (verdict.keep ? kept : dropped).push({ path: file.path, rule: verdict.rule });
    if (verdict.keep) keptFiles.push(file);
  }
  const output = new Map<string, Uint8Array>(keptFiles.map((file) => [file.path, file.data]));
  const generated: string[] = [];
  const warnings: string[] = [];
  if (layout.missing.length > 0) {
    const names = layout.missing.map((name) => `\`${printable(name, 80)}\``).join(", ");
    warnings.push(layout.from === undefined
      ? `\`${printable(topLevelPath ?? "top_level.txt")}\` lists ${names}, and the sdist holds none of its names: the packages and modules were found from the files instead`
      : `\`${printable(layout.from)}\` lists ${names}, which the sdist does not hold`);
  }
  if (layout.packages.length + layout.modules.length === 0) {
    warnings.push("found no package or module to keep: the sdist holds no Python outside `docs`, `tests`, `examples` and the like");
  }

  for (const [pkg, resources] of resourcesByPackage(keptFiles, layout.packages)) {
    const rPath = `${pkg}/R.py`;
    const text = Buffer.from(renderResourceModule(resources), "utf8");
    const existing = output.get(rPath);
    if (existing !== undefined && !Buffer.from(existing).equals(text)) warnings.push(`replaced the sdist's own \`${rPath}\` with one generated from the package's ${resources.length} data files`);
    output.set(rPath, text);
    generated.push(rPath);
  }

  const metadata = planMetadata(contents, output);
  generated.push(...metadata.generated);
  for (const line of metadata.firmwareDependent) warnings.push(firmwareMarkerWarning(line, metadata.omitted.some((omitted) => omitted.trim() === line)));
  if ([...output.keys()].some((file) => file.startsWith("src/"))) {
    warnings.push("the sdist uses a `src/` layout: its packages would install under `src/`, where MicroPython does not import them; build the sdist with the packages at the top, or use `mpip pack`");
  }
  return {
    name: metadata.name,
    version: metadata.version,
    top: contents.top,
    layout,
    files: [...output].map(([file, data]) => ({ path: `${contents.top}/${file}`, data })),
    kept,
    dropped,
    generated,
    omittedRequirements: metadata.omitted,
    warnings,
    inputMaxDistance: contents.maxDistance,
  };
}

/**
 * Finds name and version, and makes the egg-info upip reads in `output` (paths below the top folder): adds
 * PKG-INFO and requires.txt when the sdist lacks them (requires.txt from PKG-INFO's `Requires-Dist`), and
 * rewrites a requires.txt with `[section]` headers as plain lines. Only egg-info files change.
 * @throws MpipError `bad-metadata` when the sdist has no PKG-INFO, or one without Name or Version.
 */
export function planMetadata(contents: SdistContents, output: Map<string, Uint8Array>) {
  const text = (file: string) => {
    const data = contents.files.find((candidate) => candidate.path === file)?.data;
    return data === undefined ? undefined : Buffer.from(data).toString("utf8");
  };
  const eggPkgInfo = [...output.keys()].find((file) => /^[^/]+\.egg-info\/PKG-INFO$/.test(file));
  const topPkgInfo = text("PKG-INFO");
  const source = topPkgInfo !== undefined ? "PKG-INFO" : eggPkgInfo;
  if (source === undefined) {
    throw new MpipError("bad-metadata", `the sdist \`${printable(contents.top)}\` has no PKG-INFO, so its name, version and dependencies are unknown`, {
      hint: "every sdist made by setuptools or `python -m build` has one; for a project folder, use `mpip pack`",
    });
  }
  const metadataText = text(source)!;
  const { name, version } = nameAndVersion(metadataText, `\`${printable(contents.top)}/${source}\``);
  const generated: string[] = [];
  const eggFolder = eggPkgInfo !== undefined ? eggPkgInfo.slice(0, -"/PKG-INFO".length) : eggInfoFolder(name);
  if (eggPkgInfo === undefined) {
    output.set(`${eggFolder}/PKG-INFO`, Buffer.from(metadataText, "utf8"));
    generated.push(`${eggFolder}/PKG-INFO`);
  }
  let omitted: string[] = [];
  let firmwareDependent: string[] = [];
  const existingRequiresTxt = [...output.keys()].find((file) => /\.egg-info\/requires\.txt$/.test(file));
  if (existingRequiresTxt !== undefined) {
    const requires = requiresTxtFromRequiresTxt(Buffer.from(output.get(existingRequiresTxt)!).toString("utf8"));
    omitted = requires.omitted;
    firmwareDependent = requires.firmwareDependent;
    if (requires.text === undefined) output.delete(existingRequiresTxt);
    else output.set(existingRequiresTxt, Buffer.from(requires.text, "utf8"));
  } else {
    const requires = requiresTxtFromPkgInfo(metadataText);
    omitted = requires.omitted;
    firmwareDependent = requires.firmwareDependent;
    if (requires.text !== undefined) {
      output.set(`${eggFolder}/requires.txt`, Buffer.from(requires.text, "utf8"));
      generated.push(`${eggFolder}/requires.txt`);
    }
  }
  return { name, version, generated, omitted, firmwareDependent };
}

/**
 * Reads `input`, writes `<outDir>/<top>.tar.gz` (atomically: a temporary file renamed into place), and
 * returns the plan with the output's path. Refuses to overwrite the input itself.
 */
export async function repack(input: string, outDir: string, options: WriteOptions = {}): Promise<RepackResult> {
  const label = `\`${input}\``;
  let data: Buffer;
  try {
    data = await readFile(input);
  } catch (error) {
    throw new MpipError("io", `cannot read ${label} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error, hint: "pass the path of an sdist (.tar.gz)" });
  }
  const plan = planRepack(readSdist(data, label));
  const archive = writeSdist(plan.files, options);
  const output = path.join(outDir, `${plan.top}.tar.gz`);
  if (path.resolve(output) === path.resolve(input)) {
    throw new MpipError("usage", `repacking ${label} into \`${outDir}\` would overwrite the input`, { hint: "choose another output folder with `-o DIR`" });
  }
  const temporary = path.join(outDir, `.${plan.top}.tar.gz.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await makeDirs(outDir);
    await writeFile(temporary, archive);
    await rename(temporary, output);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined); // through a file (ENOTDIR) there is none to remove
    throw new MpipError("io", `cannot write \`${output}\` (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error, hint: ioHint(error, "check that the output folder is writable") });
  }
  return { ...plan, output, bytes: archive.length };
}
