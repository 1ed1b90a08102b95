// Reading a `pylock.toml` (PEP 751; packaging.python.org "pylock.toml Specification", section
// "Installation"), mpip's own or another tool's (`uv export --format pylock.toml`, `pip lock`), into the
// packages to install on a MicroPython device. Pure: no I/O (the caller reads the file).
//
// As the specification's installation steps say: an unknown major `lock-version` is an error (a newer
// minor is read, with a warning for each key mpip does not know); `environments` must hold one marker
// that is true for MicroPython (evaluated as requirement markers are: spec/markers.ts); a package whose
// `marker` is false is skipped; the packages left must name each project once. Each package installs
// from, in the specification's order, its `directory`, `archive` or `sdist` (mpip builds only sdists
// and project folders; a wheel is a CPython build), or from mpip's `[packages.tool.mpip]` (a mip package
// document, a module). A package mpip cannot install (`vcs`, wheels only, an archive that is no sdist) is
// one error naming every such package. `requires-python` is not checked: MicroPython is not the CPython
// version it speaks of, and mpip ignores Requires-Python wherever it meets it.

import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { tomlSyntaxProblem } from "../toml-syntax.js";
import { MpipError } from "../errors.js";
import { fileUrlPath, folderFileUrl, isFileUrl } from "../http/file-url.js";
import type { SourceKind } from "../record/format.js";
import { gitHostsFromEnv } from "../sources/git-hosts.js";
import { kindFromUrl } from "../sources/index-kind.js";
import { evaluateMarker, parseMarker } from "../spec/markers.js";
import { isMipName, isValidName, normalizeName } from "../spec/names.js";
import { printable } from "../text.js";
import { parseUrl } from "../url.js";
import type { LockBuild, LockedArtifact, LockedOrigin, LockedPackage, LockInputs, Lock, PinnedDest, PinnedFile } from "./format.js";
import { absoluteInput, specFromLock, TOOL } from "./format.js";
import { destProblem, normalizedDest, fileNameProblem, firmwareProblem, indexEntryProblem, pathProblem, specProblem, subdirectoryProblem, urlProblem, versionValueProblem } from "./values.js";

type Table = Record<string, unknown>;

export interface ReadLock extends Lock {
  /** Packages whose `marker` is false on MicroPython: not installed. */
  skipped: Array<{ name: string; marker: string }>;
  /** Keys a newer minor `lock-version` has that mpip does not know. */
  warnings: string[];
}

const ARTIFACTS: readonly string[] = ["dist", "project", "package-json", "module"];
/** Shorthands are checked for their shape only, which does not depend on the hosts they expand to. */
const DEFAULT_HOSTS = gitHostsFromEnv({});
const SOURCE_KINDS: readonly SourceKind[] = ["pypi", "simple", "mip", "find-links", "url", "path", "github", "gitlab", "codeberg"];
const TOP_KEYS = ["lock-version", "environments", "requires-python", "extras", "dependency-groups", "default-groups", "created-by", "packages", "tool"];
const PACKAGE_KEYS = ["name", "version", "marker", "requires-python", "dependencies", "vcs", "directory", "archive", "index", "sdist", "wheels", "attestation-identities", "tool"];

/**
 * The lock in `text`, read from the file `file` (relative paths in it are relative to its folder).
 * @throws MpipError `bad-lock` naming the file, the package and the field: not TOML, an unknown major
 *   `lock-version`, a field of the wrong type, an `environments` list MicroPython is in none of, a name
 *   listed twice for this environment, or packages mpip cannot install (every one of them named).
 */
export function parseLock(text: string, file: string): ReadLock {
  const reader = new LockReader(file);
  let document: Table;
  try {
    document = parseToml(text) as Table;
  } catch (error) {
    throw new MpipError("bad-lock", `\`${printable(file)}\` is not valid TOML: ${tomlSyntaxProblem(error)}`, { hint: "give the pylock.toml that `mpip lock` (or another tool) wrote, unedited" });
  }
  const warnings: string[] = [];
  const minor = reader.lockVersion(document["lock-version"]);
  if (minor > 0) for (const key of Object.keys(document)) if (!TOP_KEYS.includes(key)) warnings.push(`\`${printable(file)}\`: \`${printable(key)}\` is not a key of lock-version 1.0; mpip ignores it`);
  const sets = { extras: [] as string[], dependency_groups: reader.strings(document["default-groups"], "default-groups") ?? [] };
  reader.environments(reader.strings(document.environments, "environments"), sets);
  const entries = document.packages;
  if (!Array.isArray(entries)) throw reader.fail("", "`packages` is missing or not an array of tables", "every lock lists its packages under `[[packages]]`");
  const chosen: Array<{ item: LockedPackage; at: number }> = [];
  const skipped: ReadLock["skipped"] = [];
  const refused: string[] = [];
  entries.forEach((entry, at) => {
    if (!isTable(entry)) throw reader.fail(`packages[${at}]`, "is not a table");
    const where = reader.packageWhere(entry, at);
    if (minor > 0) for (const key of Object.keys(entry)) if (!PACKAGE_KEYS.includes(key)) warnings.push(`\`${printable(file)}\`: ${where}: \`${printable(key)}\` is not a key of lock-version 1.0; mpip ignores it`);
    const marker = reader.string(entry.marker, `${where}: \`marker\``);
    if (marker !== undefined && !reader.markerHolds(marker, where, sets)) {
      skipped.push({ name: String(entry.name), marker });
      return;
    }
    const read = reader.lockedPackage(entry, where);
    if (typeof read === "string") refused.push(read);
    else chosen.push({ item: { ...read, ...(marker === undefined ? {} : { marker }) }, at });
  });
  if (refused.length > 0) {
    throw new MpipError("bad-lock", `\`${printable(file)}\` has ${refused.length === 1 ? "a package" : `${refused.length} packages`} mpip cannot install on MicroPython: ${refused.join("; ")}`, {
      hint: "mpip installs sdists, project folders and mip packages: lock with an sdist for each (`uv export --format pylock.toml --no-binary`, or `mpip lock`), or install those packages another way",
    });
  }
  checkUnique(chosen, reader);
  const tool = toolTable(document, reader);
  const packages = inInstallOrder(chosen.map((entry) => entry.item), tool?.order);
  return { packages, ...(tool === undefined ? {} : { build: tool.build, inputs: tool.inputs }), skipped, warnings };
}

/** Field checks that name the file, the package and the field in every error. */
class LockReader {
  readonly lockDir: string;
  constructor(readonly file: string) {
    this.lockDir = path.dirname(path.resolve(file));
  }

  /** A path the lock gives: relative to the lock's folder, `/`-separated (PEP 751), unless it is absolute. */
  localPath(given: string): string {
    return path.isAbsolute(given) ? path.resolve(given) : path.resolve(this.lockDir, ...given.split("/"));
  }

  fail(where: string, problem: string, hint = "the lock is damaged or was edited by hand: lock again (`mpip lock`) or fix it"): MpipError {
    return new MpipError("bad-lock", `\`${printable(this.file)}\`${where === "" ? "" : `, ${where}`}: ${problem}`, { hint });
  }

  /** Throws `bad-lock` naming `key` and its value when `problem` (values.ts) says the value is not one mpip may act on. */
  check(problem: string | undefined, where: string, key: string, value: string): void {
    if (problem !== undefined) throw this.fail(where, `\`${key}\` (\`${printable(value, 120)}\`) ${problem}`);
  }

  /** The minor version of a `1.x` lock. */
  lockVersion(value: unknown): number {
    if (typeof value !== "string") throw this.fail("", "`lock-version` is missing or not a string", "a pylock.toml starts with `lock-version = \"1.0\"`");
    const match = /^(\d+)\.(\d+)$/.exec(value);
    if (match === null) throw this.fail("", `\`lock-version\` is \`${printable(value, 40)}\`, not a version such as \`1.0\``);
    if (match[1] !== "1") {
      throw new MpipError("bad-lock", `\`${printable(this.file)}\` is a lock of version ${printable(value, 40)}; mpip reads lock-version 1.x (PEP 751)`, { hint: "lock again with a tool that writes lock-version 1.0 (`mpip lock`), or update mpip" });
    }
    return Number(match[2]);
  }

  string(value: unknown, field: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw this.fail("", `${field} must be a string`);
    return value;
  }

  strings(value: unknown, field: string): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) throw this.fail("", `\`${field}\` must be an array of strings`);
    return value as string[];
  }

  /** PEP 751: at least one of `environments` must hold for the environment installed for. */
  environments(environments: string[] | undefined, sets: { extras: string[]; dependency_groups: string[] }): void {
    if (environments === undefined || environments.length === 0) return;
    if (environments.some((marker) => this.markerHolds(marker, "`environments`", sets))) return;
    throw new MpipError("bad-lock", `\`${printable(this.file)}\` is for ${environments.map((marker) => `\`${printable(marker, 120)}\``).join(" or ")}, and MicroPython is none of them`, {
      hint: "lock for MicroPython (`mpip lock`), or export the lock without `environments` limits",
    });
  }

  markerHolds(marker: string, where: string, sets: { extras: string[]; dependency_groups: string[] }): boolean {
    try {
      return evaluateMarker(parseMarker(marker, { lockFile: true }), undefined, sets);
    } catch (error) {
      if (error instanceof MpipError) throw this.fail(where, `the marker \`${printable(marker, 120)}\` cannot be read: ${error.message}`);
      throw error;
    }
  }

  packageWhere(entry: Table, at: number): string {
    const name = entry.name;
    if (typeof name !== "string" || name === "") throw this.fail(`packages[${at}]`, "has no `name`");
    // A name is written into the install record and named in every message: a PEP 508 name, or one
    // micropython-lib gives its packages (`__future__`), as a plain install takes.
    if (!isValidName(name) && !isMipName(name)) throw this.fail(`packages[${at}]`, `has the name \`${printable(name, 100)}\`, which is no package name (PEP 508's, or micropython-lib's)`);
    return `package \`${printable(name, 100)}\` (packages[${at}])`;
  }

  /** The package, or why mpip cannot install it (for the one error that names them all). */
  lockedPackage(entry: Table, where: string): LockedPackage | string {
    const name = entry.name as string;
    const version = this.string(entry.version, `${where}: \`version\``) ?? "";
    const index = this.string(entry.index, `${where}: \`index\``);
    if (index !== undefined) this.check(urlProblem(index, { file: true }), where, "index", index);
    const toolSection = entry.tool === undefined ? undefined : this.table(entry.tool, where, "tool");
    const tool = toolSection?.[TOOL] === undefined ? undefined : this.table(toolSection[TOOL], where, `tool.${TOOL}`);
    const sources = ["vcs", "directory", "archive", "sdist"].filter((key) => entry[key] !== undefined);
    const shown = `\`${printable(name, 100)}${version === "" ? "" : ` ${printable(version, 40)}`}\``;
    if (sources.includes("vcs")) return `${shown} comes from version control (\`vcs\`)`;
    if (sources.filter((key) => key !== "sdist").length > 1 || (sources.includes("sdist") && sources.length > 1)) {
      throw this.fail(where, `names more than one source (${sources.map((key) => `\`${key}\``).join(", ")}); PEP 751 allows one`);
    }
    const displayName = this.string(tool?.name, `${where}: \`tool.mpip.name\``) ?? name;
    if (normalizeName(displayName) !== normalizeName(name)) throw this.fail(where, `\`tool.mpip.name\` (\`${printable(displayName)}\`) is another name than \`name\``);
    const requested = tool?.requested === undefined ? true : this.boolean(tool.requested, where, "tool.mpip.requested");
    const artifact = this.artifact(entry, tool, where, shown);
    if (typeof artifact === "string") return artifact;
    this.check(versionValueProblem(version, artifact.type), where, "version", version);
    return {
      name: displayName,
      version: artifact.type === "project" ? "" : version,
      origin: this.origin(entry, tool, artifact, where, index),
      requested,
      dependencies: [],
      artifact,
    };
  }

  private artifact(entry: Table, tool: Table | undefined, where: string, shown: string): LockedArtifact | string {
    const declared = this.string(tool?.artifact, `${where}: \`tool.mpip.artifact\``);
    if (declared !== undefined && !ARTIFACTS.includes(declared)) throw this.fail(where, `\`tool.mpip.artifact\` is \`${printable(declared, 40)}\`, not one of ${ARTIFACTS.join(", ")}`);
    if (entry.directory !== undefined) {
      const directory = this.table(entry.directory, where, "directory");
      const folder = this.string(directory.path, `${where}: \`directory.path\``);
      if (folder === undefined) throw this.fail(where, "`directory.path` is missing");
      this.check(pathProblem(folder), where, "directory.path", folder);
      const subdirectory = this.string(directory.subdirectory, `${where}: \`directory.subdirectory\``);
      if (subdirectory !== undefined) this.check(subdirectoryProblem(subdirectory), where, "directory.subdirectory", subdirectory);
      return { type: "project", path: path.resolve(this.localPath(folder), ...(subdirectory ?? ".").split("/")) };
    }
    if (entry.archive !== undefined) {
      const archive = this.table(entry.archive, where, "archive");
      if (archive.subdirectory !== undefined) return `${shown} is an archive with a \`subdirectory\`, which mpip does not build`;
      const file = this.pinned(archive, where, "archive");
      const filename = fileName(file);
      if (/\.whl$/i.test(filename)) return `${shown} has only a wheel (\`${printable(filename)}\`)`;
      if (!/\.tar\.gz$/i.test(filename)) return `${shown} is an archive (\`${printable(filename)}\`) that is not a .tar.gz sdist`;
      this.check(fileNameProblem(filename), where, file.location.type === "remote" ? "archive.url" : "archive.path", filename);
      return { type: "dist", filename, file };
    }
    if (entry.sdist !== undefined) {
      const sdist = this.table(entry.sdist, where, "sdist");
      const file = this.pinned(sdist, where, "sdist");
      const filename = this.string(sdist.name, `${where}: \`sdist.name\``) ?? fileName(file);
      this.check(fileNameProblem(filename), where, "sdist.name", filename);
      if (!/\.tar\.gz$/i.test(filename)) return `${shown} has an sdist (\`${printable(filename)}\`) that is not a .tar.gz, which mpip does not unpack`;
      return { type: "dist", filename, file };
    }
    const kind = this.string(tool?.artifact, `${where}: \`tool.mpip.artifact\``);
    if (tool !== undefined && (kind === "package-json" || kind === "module")) {
      const files = tool.files;
      if (!Array.isArray(files)) throw this.fail(where, "`tool.mpip.files` is missing or not an array");
      const pinnedFiles = files.map((item, at) => this.pinnedDest(item, where, `tool.mpip.files[${at}]`));
      // One file per destination: two would leave which one is installed to the order they are written in.
      const seen = new Map<string, number>();
      pinnedFiles.forEach((file, at) => {
        const dest = normalizedDest(file.dest);
        const first = seen.get(dest);
        if (first !== undefined) throw this.fail(where, `\`tool.mpip.files[${first}]\` and \`tool.mpip.files[${at}]\` both go to \`${printable(dest, 200)}\``);
        seen.set(dest, at);
      });
      if (kind === "module") {
        if (pinnedFiles.length !== 1) throw this.fail(where, "`tool.mpip.files` of a module must list exactly one file");
        return { type: "module", file: pinnedFiles[0]! };
      }
      if (tool.document === undefined) throw this.fail(where, "`tool.mpip.document` is missing");
      return { type: "package-json", document: this.pinned(this.table(tool.document, where, "tool.mpip.document"), where, "tool.mpip.document"), files: pinnedFiles };
    }
    if (entry.wheels !== undefined) return `${shown} has only wheels`;
    throw this.fail(where, "names no file to install (no `sdist`, `archive`, `directory` or `wheels`)");
  }

  private origin(entry: Table, tool: Table | undefined, artifact: LockedArtifact, where: string, index: string | undefined): LockedOrigin {
    const spec = this.string(tool?.spec, `${where}: \`tool.mpip.spec\``);
    const ref = this.string(tool?.ref, `${where}: \`tool.mpip.ref\``);
    const findLinks = this.string(tool?.["find-links"], `${where}: \`tool.mpip.find-links\``);
    const folder = this.string(tool?.folder, `${where}: \`tool.mpip.folder\``);
    if (spec !== undefined) {
      const problem = specProblem(spec, ref, DEFAULT_HOSTS);
      if (problem !== undefined) this.check(problem.problem, where, `tool.mpip.${problem.key}`, problem.key === "ref" ? ref! : spec);
    } else if (ref !== undefined) {
      throw this.fail(where, "`tool.mpip.ref` is given without `tool.mpip.spec`: a ref belongs to a `github:`, `gitlab:` or `codeberg:` spec");
    }
    if (findLinks !== undefined) this.check(pathProblem(findLinks), where, "tool.mpip.find-links", findLinks);
    if (folder !== undefined) this.check(pathProblem(folder), where, "tool.mpip.folder", folder);
    const kindText = this.string(tool?.kind, `${where}: \`tool.mpip.kind\``);
    if (kindText !== undefined && !SOURCE_KINDS.includes(kindText as SourceKind)) throw this.fail(where, `\`tool.mpip.kind\` is \`${printable(kindText, 40)}\`, not one of ${SOURCE_KINDS.join(", ")}`);
    const direct = spec !== undefined || entry.archive !== undefined || entry.directory !== undefined;
    if (!direct) {
      // A local index's folder, relative to the lock: named as the index named it, by `file:` URL (a folder of sdists: by path).
      if (folder !== undefined) {
        if (kindText === undefined) throw this.fail(where, "`tool.mpip.folder` is given without `tool.mpip.kind`");
        const absolute = this.localPath(folder);
        return { type: "index", index: kindText === "find-links" ? absolute : folderFileUrl(absolute), kind: kindText as SourceKind, local: true };
      }
      if (findLinks !== undefined) return { type: "index", index: findLinks, kind: "find-links" };
      if (index !== undefined) return { type: "index", index, kind: (kindText as SourceKind | undefined) ?? kindFromUrl(index) ?? "simple" };
    }
    // Named directly: by a URL or shorthand, or by a local path (relative to the lock). Another tool's
    // lock names no spec: the file's URL or path is what a plain install would have been given.
    if (spec !== undefined) return { type: "direct", spec: specFromLock(spec, this.lockDir), ...(ref === undefined ? {} : { ref }) };
    const location = artifact.type === "dist" ? artifact.file.location : artifact.type === "package-json" ? artifact.document.location : artifact.type === "module" ? artifact.file.location : undefined;
    const given = artifact.type === "project" ? artifact.path : location === undefined ? "" : location.type === "remote" ? location.url : location.path;
    return { type: "direct", spec: given, ...(ref === undefined ? {} : { ref }) };
  }

  private table(value: unknown, where: string, field: string): Table {
    if (!isTable(value)) throw this.fail(where, `\`${field}\` must be a table`);
    return value;
  }

  private boolean(value: unknown, where: string, field: string): boolean {
    if (typeof value !== "boolean") throw this.fail(where, `\`${field}\` must be true or false`);
    return value;
  }

  /**
   * A file PEP 751's way: `url` (http or https) or `path` (relative to the lock), `size`, `hashes.sha256`.
   * A `file:` URL (pip lock writes one for a `--find-links` file) is that file's path.
   */
  private pinned(table: Table, where: string, field: string): PinnedFile {
    const url = this.string(table.url, `${where}: \`${field}.url\``);
    const file = this.string(table.path, `${where}: \`${field}.path\``);
    if ((url === undefined) === (file === undefined)) throw this.fail(where, `\`${field}\` must give either \`url\` or \`path\``);
    if (file !== undefined) this.check(pathProblem(file), where, `${field}.path`, file);
    const local = url !== undefined && isFileUrl(url) ? fileUrlPath(url) : undefined;
    if (url !== undefined && local === undefined) {
      const protocol = parseUrl(url)?.protocol;
      if (protocol !== "http:" && protocol !== "https:") throw this.fail(where, `\`${field}.url\` (\`${printable(url, 120)}\`) is not an http or https URL, nor a \`file:\` URL of a file on this machine`);
    }
    if (url !== undefined) this.check(urlProblem(url, { file: true }), where, `${field}.url`, url);
    const size = table.size;
    if (size !== undefined && !(typeof size === "number" && Number.isSafeInteger(size) && size >= 0)) throw this.fail(where, `\`${field}.size\` must be a whole number of bytes`);
    const hashes = table.hashes === undefined ? undefined : this.table(table.hashes, where, `${field}.hashes`);
    const sha256 = hashes?.sha256;
    if (typeof sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
      const others = hashes === undefined ? [] : Object.keys(hashes).filter((key) => key !== "sha256");
      throw this.fail(where, `\`${field}.hashes\` gives no sha256 (64 hex digits)${others.length === 0 ? "" : `, only ${others.map((key) => `\`${printable(key, 20)}\``).join(", ")}`}: mpip checks every file against its sha256`, "lock again with sha256 hashes (every tool that writes pylock.toml can)");
    }
    const location: PinnedFile["location"] = local !== undefined ? { type: "local", path: local } : url !== undefined ? { type: "remote", url } : { type: "local", path: this.localPath(file!) };
    return { location, sha256: sha256.toLowerCase(), ...(size === undefined ? {} : { size }) };
  }

  private pinnedDest(value: unknown, where: string, field: string): PinnedDest {
    const table = this.table(value, where, field);
    const dest = this.string(table.dest, `${where}: \`${field}.dest\``);
    if (dest === undefined || dest === "") throw this.fail(where, `\`${field}.dest\` is missing`);
    // A destination out of the target is what install refuses in a package document: unsafe-path, as there.
    const unsafe = destProblem(dest);
    if (unsafe !== undefined) {
      throw new MpipError("unsafe-path", `\`${printable(this.file)}\`, ${where}: \`${field}.dest\` (\`${printable(dest, 120)}\`) is refused: ${unsafe}`, { hint: "the lock is broken or malicious (edited by hand or in a pull request); nothing was written to the target" });
    }
    return { dest, ...this.pinned(table, where, field) };
  }
}

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The last part of a file's URL (decoded) or path. */
function fileName(file: PinnedFile): string {
  if (file.location.type === "local") return path.basename(file.location.path);
  const last = (parseUrl(file.location.url)?.pathname ?? "").split("/").pop() ?? "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** PEP 751: every package to install must narrow down to one entry. */
function checkUnique(chosen: Array<{ item: LockedPackage; at: number }>, reader: LockReader): void {
  const seen = new Map<string, number>();
  for (const { item, at } of chosen) {
    const key = normalizeName(item.name);
    const first = seen.get(key);
    if (first !== undefined) {
      throw reader.fail("", `\`${printable(item.name)}\` is listed twice for MicroPython (packages[${first}] and packages[${at}]), and mpip cannot tell which one to install`, "give the entries markers that tell them apart, or lock again");
    }
    seen.set(key, at);
  }
}

/** mpip's `[tool.mpip]`: how the image is built, what the lock was made from, the install order. */
function toolTable(document: Table, reader: LockReader): { build: LockBuild; inputs: LockInputs; order?: string[] } | undefined {
  const tool = document.tool;
  if (!isTable(tool) || tool[TOOL] === undefined) return undefined;
  const table = tool[TOOL];
  if (!isTable(table)) throw reader.fail("", `\`tool.${TOOL}\` must be a table`);
  const field = (key: string) => `\`tool.${TOOL}.${key}\``;
  const compile = reader.string(table.compile, field("compile")) ?? "no";
  if (compile !== "no" && compile !== "mpy" && compile !== "mpy+sources") throw reader.fail("", `${field("compile")} is \`${printable(compile, 40)}\`, not \`no\`, \`mpy\` or \`mpy+sources\``);
  const mpy = reader.string(table.mpy, field("mpy"));
  const arch = reader.string(table.arch, field("arch"));
  const firmware = firmwareProblem(mpy, arch);
  if (firmware !== undefined) reader.check(firmware.problem, "", `tool.${TOOL}.${firmware.key}`, (firmware.key === "mpy" ? mpy : arch) ?? "");
  const flag = (key: string): boolean => {
    const value = table[key];
    if (value === undefined) return false;
    if (typeof value !== "boolean") throw reader.fail("", `${field(key)} must be true or false`);
    return value;
  };
  const order = reader.strings(table["install-order"], `tool.${TOOL}.install-order`);
  for (const name of order ?? []) if (!isValidName(name) && !isMipName(name)) reader.check("is no package name", "", `tool.${TOOL}.install-order`, name);
  // Each entry of a list, checked; the list as read.
  const entries = (key: string, problem: (entry: string) => string | undefined): string[] => {
    const list = reader.strings(table[key], `tool.${TOOL}.${key}`) ?? [];
    for (const entry of list) reader.check(problem(entry), "", `tool.${TOOL}.${key}`, entry);
    return list;
  };
  return {
    build: { compile, ...(mpy === undefined ? {} : { firmware: { mpy, ...(arch === undefined ? {} : { arch }) } }) },
    inputs: {
      requirements: reader.strings(table.requirements, `tool.${TOOL}.requirements`) ?? [],
      // Absent in a lock made without constraints, and in one written before mpip recorded them.
      constraints: reader.strings(table.constraints, `tool.${TOOL}.constraints`) ?? [],
      constraintFiles: entries("constraint-files", pathProblem).map((entry) => absoluteInput(entry, "file", reader.lockDir)),
      // Folders relative to the lock (format.ts `relativeInput`), kept absolute.
      indexUrls: entries("index-urls", indexEntryProblem).map((entry) => absoluteInput(entry, "index", reader.lockDir)),
      findLinks: entries("find-links", pathProblem).map((entry) => absoluteInput(entry, "find-links", reader.lockDir)),
      pre: flag("pre"),
      noDeps: flag("no-deps"),
    },
    ...(order === undefined ? {} : { order }),
  };
}

/**
 * The packages in the order they install: `install-order` (the resolution's, which decides who owns a
 * file two packages ship), then any it does not name, in file order.
 */
function inInstallOrder(packages: LockedPackage[], order: string[] | undefined): LockedPackage[] {
  if (order === undefined) return packages;
  const rank = new Map(order.map((name, at) => [normalizeName(name), at] as const));
  const ranked = packages.map((item, at) => ({ item, at, rank: rank.get(normalizeName(item.name)) ?? order.length + at }));
  return ranked.sort((a, b) => a.rank - b.rank).map((entry) => entry.item);
}
