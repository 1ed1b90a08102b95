// What `mpip index build` publishes from each of its inputs: one release (name, version, metadata), its
// upip-compatible sdist, and the files and dependencies of its micropython-lib v2 package. Every input is
// read by install's own code (spec parsing, `prepareRelease`): a project folder is packed as `mpip pack`
// packs it, an sdist is unpacked with install's checks and rules, a package.json and its files are read
// with the checks a local package.json gets. What the v2 package holds is what `mpip install` of the
// input writes; the sdist the PyPI and simple faces serve installs the same files.

import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RunScope } from "../cancel.js";
import { MpipError } from "../errors.js";
import { resolveAndPrepare } from "../install.js";
import type { Reporter } from "../log.js";
import { checkArchive } from "../pack/check.js";
import { Pool } from "../pool.js";
import { eggInfoName, renderPkgInfo, renderRequiresTxt } from "../pack/egg-info-text.js";
import type { ProjectMetadata } from "../pack/metadata.js";
import { readHeaders } from "../pack/pkg-info.js";
import { readSdist } from "../pack/read-sdist.js";
import { planMetadata } from "../pack/repack.js";
import { DEFAULT_MTIME, writeSdist } from "../pack/writer.js";
import type { PrepareContext, Staged } from "../prepare/context.js";
import { requestFor, type ResolvedPackage } from "../resolve/resolve.js";
import { upipSkips } from "../archive/skip-rules.js";
import { evaluateMarker } from "../spec/markers.js";
import { isMipName, normalizeName } from "../spec/names.js";
import { parsePackageSpec, type PackageSpec, type SpecContext } from "../spec/package-spec.js";
import { printable } from "../text.js";
import { looksLikeUrl } from "../usage.js";
import { compareVersions, versionProblem } from "../versions.js";
import { sha256Hex } from "../image/fs-ops.js";

/** One release to publish, read from one input. */
export interface PublishedRelease {
  /** As the package declares it (PKG-INFO `Name:`, pyproject's `name`, a package.json's folder name). */
  name: string;
  version: string;
  /** The input as given on the command line, for messages. */
  source: string;
  /** One line each, "" when unknown: index.json's `description`, `license` and `author`, and PyPI's `info`. */
  summary: string;
  license: string;
  author: string;
  /** The sdist the PyPI and simple faces serve: plain ustar, inflating with a 4 KiB window. */
  sdist: { filename: string; data: Buffer; sha256: string; requiresDist: string[] };
  /** The v2 package's files as `mpip install` of the input writes them, staged: `dest` below the target. */
  files: Array<{ dest: string; file: string; sha256: string }>;
  /** The v2 document's `deps`: `[name, version]`, "" for the latest. */
  deps: Array<[string, string]>;
  warnings: string[];
}

/** What reading the inputs shares with the run: its scope, how to prepare a release, and where specs resolve. */
export interface InputRun {
  scope: RunScope;
  /** A prepare context per input, each staging below a folder of its own (two inputs may be one project). */
  contextFor(index: number, onArchive: NonNullable<PrepareContext["onArchive"]>): PrepareContext;
  spec: SpecContext;
  jobs: number;
  reporter: Reporter;
}

/**
 * Classifies an input: a path (relative to `context.cwd`, also when written as a bare name such as `mylib`)
 * to a `.tar.gz` sdist, a project folder, or a folder holding a package.json (or that package.json). A URL
 * or a single module is a usage error, since an index publishes releases with a name and version of their own;
 * so is a folder of sdists with no project metadata (`dist/`): its sdists are the inputs, and the error says so.
 * @throws MpipError `usage`, or the spec's own `bad-spec` (nothing at the path).
 */
export function classifyInput(text: string, context: SpecContext): PackageSpec & { type: "direct" } {
  const hint = "give a .tar.gz sdist, a project folder (pyproject.toml or setup.cfg) or a folder with a package.json, on this machine";
  if (looksLikeUrl(text)) throw new MpipError("usage", `\`${printable(text)}\` is a URL; an index is built from files on this machine`, { hint: `download it first; ${hint}` });
  const spec = parsePackageSpec(path.resolve(context.cwd, text), context);
  if (spec.type !== "direct") throw new Error(`the path ${text} was not read as a path`);
  switch (spec.direct.artifact.type) {
    case "project": {
      const sdists = sdistsOfFolder(spec.direct.artifact.path);
      if (sdists.length === 0) return spec;
      const shown = sdists.slice(0, 3).map((name) => `\`${printable(name)}\``).join(", ") + (sdists.length > 3 ? ", ..." : "");
      throw new MpipError("usage", `\`${printable(text)}\` is a folder of sdists (${shown}), not a project: it has no pyproject.toml or setup.cfg`, {
        hint: `give the sdists themselves in its place: \`mpip index build ${printable(path.join(text, "*.tar.gz"))} -o OUT\`, with any other inputs`,
      });
    }
    case "dist":
    case "package-json":
      return spec;
    case "module":
      throw new MpipError("usage", `\`${printable(text)}\` is a single module, which has no version to publish`, { hint: "put the module in a project folder (pyproject.toml) or beside a package.json with a `version`, and give that folder" });
    case "installed":
      throw new Error(`the path ${text} was read as an installed package`);
  }
}

/** The `.tar.gz` files of a folder that holds no project metadata (none when it has some, or cannot be read). */
function sdistsOfFolder(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return []; // reading the project reports it
  }
  if (names.includes("pyproject.toml") || names.includes("setup.cfg")) return [];
  return names.filter((name) => name.endsWith(".tar.gz")).sort();
}

/**
 * Reads every input (see the module comment), each on its own: two inputs may be two versions of one
 * project. Returns the releases in input order.
 * @throws MpipError what install throws for a bad input; `bad-metadata` for one with no usable version
 *   or a dependency no index can name; `version-conflict` for two inputs of the same release.
 */
export async function readInputs(inputs: ReadonlyArray<PackageSpec & { type: "direct" }>, run: InputRun): Promise<PublishedRelease[]> {
  // At most `jobs` inputs at once: each holds its archive in memory until it is read.
  const pool = new Pool(run.jobs, run.scope.signal);
  const releases = await run.scope.all(inputs.map((spec, index) => () => pool.run(async () => {
    const archives: Array<{ data: Buffer; sha256: string; filename: string }> = [];
    const context = run.contextFor(index, async (_release, archive) => {
      archives.push({ ...archive, data: Buffer.from(archive.data) });
    });
    const [node] = await resolveAndPrepare({ requests: [requestFor(spec, "the command line")], jobs: run.jobs, pre: true, noDeps: true, reporter: run.reporter }, { sources: [], scope: run.scope, context });
    if (node === undefined) throw new Error(`nothing was prepared for ${spec.direct.source}`);
    return releaseOf(node, archives[0], spec.direct.source);
  })));
  for (const [index, release] of releases.entries()) {
    // The same PEP 440 version however spelled (`1.0`, `1.0.0`): one release.
    const other = releases.slice(0, index).find((earlier) => normalizeName(earlier.name) === normalizeName(release.name) && compareVersions(earlier.version, release.version) === 0);
    if (other !== undefined) {
      throw new MpipError("version-conflict", `\`${printable(other.source)}\` and \`${printable(release.source)}\` are both \`${printable(release.name)} ${printable(release.version)}\`; an index publishes a release once`, {
        hint: "give each release once, or bump the version of the one that changed",
      });
    }
  }
  return releases;
}

async function releaseOf(node: ResolvedPackage<Staged>, archive: { data: Buffer; sha256: string; filename: string } | undefined, source: string): Promise<PublishedRelease> {
  const { prepared } = node;
  const label = `\`${printable(source)}\``;
  // A version mpip cannot compare (a number past 2^53 − 1) would sort anywhere, equal to every other such.
  const problem = versionProblem(node.version);
  if (problem !== undefined) {
    throw new MpipError("bad-metadata", `${label} declares ${node.version === "" ? "no version" : `the version \`${printable(node.version, 60)}\`, which ${problem}`}; an index lists each release by its version, in PEP 440 order`, {
      hint: node.artifact.type === "package-json" ? "give its package.json a `\"version\"` such as `\"1.0.0\"`" : "give the project a PEP 440 version such as `1.0.0`",
    });
  }
  if (!isMipName(node.name)) {
    throw new MpipError("bad-metadata", `${label} is named \`${printable(node.name)}\`, which mip cannot ask an index for (letters, digits, \`.\`, \`_\`, \`-\`)`, { hint: "rename the package (or the folder that holds its package.json)" });
  }
  // An archive a device cannot inflate is published recompressed (upipSdist), not "installed anyway".
  const warnings = prepared.warnings.filter((warning) => prepared.smallWindow || !warning.includes("inflate window"));
  const files = await Promise.all(prepared.files.map(async (dest) => {
    const file = path.join(prepared.dir, ...dest.split("/"));
    return { dest, file, sha256: sha256Hex(await readFile(file)) };
  }));
  const deps = mipDeps(node.dependencies, label, warnings);
  const sdist = archive === undefined
    ? packageJsonSdist(node, files, await Promise.all(files.map((file) => readFile(file.file))), label, warnings)
    : upipSdist(archive, label, node.artifact.type === "project");
  warnings.push(...sdist.notes);
  const headers = readHeaders(sdist.pkgInfo);
  const first = (key: string) => (headers.get(key)?.[0] ?? "").replace(/\s+/g, " ").trim();
  return {
    name: node.name,
    version: node.version,
    source,
    summary: first("summary") === "UNKNOWN" ? "" : first("summary"),
    license: first("license") === "UNKNOWN" ? "" : first("license"),
    author: first("author") || first("author-email"),
    sdist: { filename: sdist.filename, data: sdist.data, sha256: sha256Hex(sdist.data), requiresDist: headers.get("requires-dist") ?? [] },
    files,
    deps,
    warnings,
  };
}

/**
 * The sdist as given, when upip on a device installs it as it is: `mpip check`'s gzip and tar checks pass
 * and its dependencies are in a requires.txt upip reads. Otherwise, and always for a project packed here
 * (`packed`, whose entries carry SOURCE_DATE_EPOCH as their mtime), the same files written as plain ustar
 * with a 4 KiB window (writer.ts) and a fixed mtime, with the egg-info upip reads made as `repack` makes it
 * (a requires.txt from `Requires-Dist`, or without `[section]` headers). Only egg-info files, which no
 * install writes, can differ: what installs is unchanged, and building again anywhere gives the same bytes.
 */
function upipSdist(archive: { data: Buffer; filename: string }, label: string, packed: boolean): { filename: string; data: Buffer; pkgInfo: string; notes: string[] } {
  const contents = readSdist(archive.data, label);
  const checks = checkArchive(archive.data, archive.filename).checks;
  const failed = checks.filter((check) => (check.id === "gzip" || check.id === "tar" ? check.status === "fail" : check.id === "dependencies" && (check.status === "fail" || check.status === "warn")));
  const files = new Map(contents.files.map((file) => [file.path, file.data as Uint8Array]));
  if (failed.some((check) => check.id === "dependencies")) planMetadata(contents, files);
  const data = failed.length === 0 && !packed ? archive.data : writeSdist([...files].map(([file, bytes]) => ({ path: `${contents.top}/${file}`, data: bytes })), { mtime: DEFAULT_MTIME });
  const notes = packed || failed.length === 0 ? [] : [`${label} is not an sdist upip installs as it is (${failed.map((check) => check.message).join("; ")}): it is published rewritten as plain ustar with a 4 KiB window and the egg-info upip reads, the files it installs unchanged`];
  // Core metadata: the top-level PKG-INFO (a modern sdist's, complete), else the egg-info's.
  const pkgInfo = contents.files.find((file) => file.path === "PKG-INFO") ?? contents.files.find((file) => /^[^/]+\.egg-info\/PKG-INFO$/.test(file.path));
  return { filename: archive.filename, data, pkgInfo: pkgInfo === undefined ? "" : pkgInfo.data.toString("utf8"), notes };
}

/**
 * A package.json package as an sdist upip installs the same files from: its files below `name-version/`,
 * and the egg-info (PKG-INFO, requires.txt) made from its version and `deps`.
 * @throws MpipError `bad-metadata` for a dependency by URL or shorthand, which requires.txt cannot name.
 */
function packageJsonSdist(node: ResolvedPackage<Staged>, files: PublishedRelease["files"], data: Buffer[], label: string, warnings: string[]): { filename: string; data: Buffer; pkgInfo: string; notes: string[] } {
  const dependencies = node.dependencies.map((spec) => {
    if (spec.type === "requirement") return `${spec.requirement.name}${spec.requirement.specifier}`;
    throw new MpipError("bad-metadata", `${label} depends on \`${printable(spec.direct.source)}\`, a URL or repository that an sdist's requires.txt (the PyPI and simple faces) cannot name`, {
      hint: "publish that package in the same index and name it in `deps` by its name and version",
    });
  });
  const skipped = files.filter((file) => upipSkips(file.dest)).map((file) => `\`${printable(file.dest)}\``);
  if (skipped.length > 0) warnings.push(`${label} lists ${skipped.join(", ")}, which upip and mpip skip when installing an sdist: the PyPI and simple faces leave ${skipped.length === 1 ? "it" : "them"} out`);
  const metadata: ProjectMetadata = { name: node.name, version: node.version, authors: [], maintainers: [], keywords: [], classifiers: [], urls: [], dependencies, optionalDependencies: [] };
  const top = `${node.name}-${node.version}`;
  const egg = eggInfoName(node.name);
  const pkgInfo = renderPkgInfo(metadata);
  const requires = renderRequiresTxt(metadata);
  const entries = [
    ...files.map((file, index) => ({ path: `${top}/${file.dest}`, data: data[index]! })),
    { path: `${top}/${egg}/PKG-INFO`, data: Buffer.from(pkgInfo) },
    ...(requires === undefined ? [] : [{ path: `${top}/${egg}/requires.txt`, data: Buffer.from(requires) }]),
  ];
  return { filename: `${top}.tar.gz`, data: writeSdist(entries, { mtime: DEFAULT_MTIME }), pkgInfo, notes: [] };
}

/**
 * The v2 document's `deps` from what the release declares: a requirement as `[name, version]` when it
 * pins one (`==`), else `[name, ""]` (mip installs the latest: said as a warning when the requirement
 * asks for a range); one whose marker does not hold on MicroPython is left out, as install leaves it
 * out; a URL or shorthand stays as written, as mip follows it.
 */
function mipDeps(dependencies: PackageSpec[], label: string, warnings: string[]): Array<[string, string]> {
  const deps: Array<[string, string]> = [];
  for (const spec of dependencies) {
    if (spec.type === "direct") {
      deps.push([spec.direct.source, spec.direct.version ?? ""]);
      continue;
    }
    const { requirement } = spec;
    if (requirement.marker !== undefined && !evaluateMarker(requirement.marker)) continue;
    const pinned = /^===?([^,*]+)$/.exec(requirement.specifier.trim())?.[1];
    if (pinned === undefined && requirement.specifier !== "") {
      warnings.push(`${label} needs \`${printable(requirement.text)}\`, which the v2 index (mip's) can only list as \`${printable(requirement.name)}\` at its latest version`);
    }
    deps.push([requirement.name, pinned ?? ""]);
  }
  return deps;
}
