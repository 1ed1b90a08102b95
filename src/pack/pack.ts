// `mpip pack`: a project folder → `dist/<name>-<version>.tar.gz`, a MicroPython distribution package as
// sdist_upip makes it: the modules and packages with their data files, `<name>.egg-info/PKG-INFO` and
// `requires.txt`, and `pkg/R.py` for each package with data files. The bytes depend only on the project's
// file contents and paths below it (and SOURCE_DATE_EPOCH): never on mtimes, modes, umask, owner,
// checkout path or directory order.

import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../errors.js";
import { ioHint } from "../image/io-error.js";
import { eggInfoName, firmwareDependentLines, firmwareMarkerWarning, renderPkgInfo, renderRequiresTxt, upipUnreadable } from "./egg-info-text.js";
import type { MetadataFile } from "./metadata.js";
import { readProject } from "./project.js";
import { renderResourceModule } from "./r-py.js";
import { packageFolders, resourcesByPackage } from "./sdist-rules.js";
import { selectFiles } from "./select.js";
import { writeSdist, type ArchiveFile } from "./writer.js";
import { makeDirs } from "../image/make-dirs.js";
import { sha256Hex } from "../image/fs-ops.js";

export interface PackOptions {
  /** Where the archive goes (relative to the current folder); default `<dir>/dist`. */
  outDir?: string;
  /** Seconds since the epoch for every entry; default SOURCE_DATE_EPOCH, else the writer's fixed value. */
  mtime?: number;
}

export interface PackResult {
  name: string;
  version: string;
  metadataFile: MetadataFile;
  filename: string;
  /** The archive written. */
  path: string;
  sha256: string;
  size: number;
  /** Every file in the archive, below its top folder, sorted. */
  files: string[];
  /** The generated `pkg/R.py` files. */
  resourceModules: string[];
  warnings: string[];
}

/** The archive `mpip pack` writes, in memory (`mpip install ./project` installs it without writing it). */
export interface PackedArchive extends Omit<PackResult, "path"> {
  archive: Buffer;
  project: { dir: string };
}

export async function packProject(dir: string, options: PackOptions = {}): Promise<PackResult> {
  const packed = await packArchive(dir, options);
  const outDir = options.outDir === undefined ? path.join(packed.project.dir, "dist") : path.resolve(options.outDir);
  const output = path.join(outDir, packed.filename);
  await writeAtomically(output, packed.archive);
  const { archive: _archive, project: _project, ...result } = packed;
  return { ...result, path: output };
}

export async function packArchive(dir: string, options: Pick<PackOptions, "mtime"> = {}): Promise<PackedArchive> {
  const project = await readProject(dir);
  const { metadata, settings } = project;
  const selection = await selectFiles(project);
  const warnings = [...selection.warnings];

  const contents = new Map<string, Uint8Array>();
  for (const file of selection.files) contents.set(file.path, await readSource(file.source));

  const resourceModules: string[] = [];
  if (settings.resources) {
    const files = [...contents].map(([filePath, data]) => ({ path: filePath, data }));
    for (const [pkg, resources] of resourcesByPackage(files, packageFolders(contents.keys()))) {
      const modulePath = `${pkg}/R.py`;
      if (contents.has(modulePath)) {
        throw new MpipError("bad-project", `\`${path.join(settings.sourceRoot, modulePath)}\` exists, and \`mpip pack\` would replace it with the resource module it generates from the data files of \`${pkg}\``, {
          hint: "rename your module, or set `resources = false` under `[tool.mpip]` in pyproject.toml to keep it and generate none",
        });
      }
      contents.set(modulePath, Buffer.from(renderResourceModule(resources), "utf8"));
      resourceModules.push(modulePath);
    }
  }

  const egg = eggInfoName(metadata.name);
  contents.set(`${egg}/PKG-INFO`, Buffer.from(renderPkgInfo(metadata), "utf8"));
  const requires = renderRequiresTxt(metadata);
  if (requires !== undefined) contents.set(`${egg}/requires.txt`, Buffer.from(requires, "utf8"));
  for (const { line, omitted } of firmwareDependentLines(metadata)) warnings.push(firmwareMarkerWarning(line, omitted));
  for (const line of upipUnreadable(metadata)) {
    warnings.push(`dependency \`${line}\` installs with mpip, but upip reads each line of requires.txt as \`name\` or \`name==version\` and cannot follow it`);
  }

  const top = `${metadata.name}-${metadata.version}`;
  const archiveFiles: ArchiveFile[] = [...contents].map(([filePath, data]) => ({ path: `${top}/${filePath}`, data }));
  const archive = writeSdist(archiveFiles, options.mtime === undefined ? {} : { mtime: options.mtime });

  const filename = `${top}.tar.gz`;
  return {
    archive,
    project: { dir: project.dir },
    name: metadata.name,
    version: metadata.version,
    metadataFile: project.metadataFile,
    filename,
    sha256: sha256Hex(archive),
    size: archive.length,
    files: [...contents.keys()].sort(),
    resourceModules,
    warnings,
  };
}

async function readSource(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new MpipError("io", `cannot read \`${file}\` (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
}

/** A temporary file renamed into place: a reader never sees half an archive, and a failure leaves none. */
async function writeAtomically(output: string, data: Buffer): Promise<void> {
  const temporary = `${output}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await makeDirs(path.dirname(output));
    await writeFile(temporary, data);
    await rename(temporary, output);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined); // through a file (ENOTDIR) there is none to remove
    throw new MpipError("io", `cannot write \`${output}\` (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error, hint: ioHint(error, "check that the output folder is writable, or choose another with `-o DIR`") });
  }
}
