// `mpip check`: would a small device install this archive as intended? Each check is data (a status and
// the reasons), so the CLI can print it for people or as JSON for CI. The gzip check is exact (the largest
// deflate distance, not zlib's lenient inflate); the tar check is the device reader's view (device-tar.ts)
// and the strict reader's (tar-reader.ts: records that tar readers apply differently); the content checks
// read the tar the correct way (pax and GNU names applied), and judge its names with the very rules of
// `mpip install` (archive/layout.ts: FAT's names, no path both a file and a folder).

import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { MpipError } from "../errors.js";
import { SMALL_WINDOW, scanGzip } from "../archive/gzip-scan.js";
import { ArchiveLayout } from "../archive/layout.js";
import { TarFormatError, TarReader, type TarEntry } from "../archive/tar-reader.js";
import { DEFAULT_LIMITS, formatBytes } from "../limits.js";
import { printable, quantity } from "../text.js";
import { deviceTarView } from "./device-tar.js";
import { parseRequiresDist } from "../spec/requires.js";
import { readHeaders } from "./pkg-info.js";
import path from "node:path";
import { isPkgInfo } from "../archive/skip-rules.js";
import { parseArchiveName } from "../sources/find-links.js";
import { identityFields, ownFileName, pkgInfoMismatch } from "../spec/identity.js";

export type CheckId = "gzip" | "tar" | "top-folder" | "names" | "setup-py" | "dependencies" | "identity";
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
  id: CheckId;
  status: CheckStatus;
  message: string;
  details: string[];
}

export interface ArchiveReport {
  archive: string;
  ok: boolean;
  checks: CheckResult[];
}

const result = (id: CheckId, status: CheckStatus, message: string, details: string[] = []): CheckResult => ({ id, status, message, details });

export async function checkArchiveFile(file: string): Promise<ArchiveReport> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    throw new MpipError("io", `cannot read \`${file}\` (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error, hint: "pass the path of a .tar.gz archive" });
  }
  return checkArchive(data, file);
}

/** Pure: every check on the archive's bytes. `ok` is false when any check fails (warnings pass). */
export function checkArchive(data: Buffer, archive: string): ArchiveReport {
  const checks: CheckResult[] = [];
  const tar = checkGzip(data, checks);
  if (tar === undefined) {
    for (const id of ["tar", "top-folder", "names", "setup-py", "dependencies", "identity"] as const) checks.push(result(id, "skip", "not checked: the gzip layer cannot be read"));
  } else {
    const view = deviceTarView(tar);
    const read = readMembers(tar);
    const problems = [...("refused" in read ? [`mpip install refuses it: ${read.refused}`] : []), ...view.problems];
    checks.push(
      problems.length === 0
        ? result("tar", "pass", `plain ustar that a device tar reader reads as intended (${quantity(view.headers, "entry", "entries")}, short names, regular files and folders)`)
        : view.problems.length === 0
          ? result("tar", "fail", "tar readers do not agree on what it holds, so mpip install refuses it", problems)
          : result("tar", "fail", `a device tar reader would misread it (${view.problems.length === 1 ? "1 problem" : `${view.problems.length} problems`})`, problems),
    );
    if ("members" in read) checks.push(...contentChecks(read.members, archive));
    else for (const id of ["top-folder", "names", "setup-py", "dependencies", "identity"] as const) checks.push(result(id, "skip", "not checked: the tar cannot be read (see the tar check)"));
  }
  return { archive, ok: checks.every((check) => check.status !== "fail"), checks };
}

/** The gzip check; returns the tar when the archive can be inflated at all (at any window). */
function checkGzip(data: Buffer, checks: CheckResult[]): Buffer | undefined {
  let scan;
  try {
    scan = scanGzip(data);
  } catch (error) {
    checks.push(result("gzip", "fail", `not a valid gzip stream: ${(error as Error).message}`));
    return undefined;
  }
  if (scan.uncompressedSize > DEFAULT_LIMITS.maxUnpackedBytes) {
    checks.push(result("gzip", "fail", `it unpacks to ${scan.uncompressedSize} bytes, more than ${formatBytes(DEFAULT_LIMITS.maxUnpackedBytes)}; mpip does not check it further`));
    return undefined;
  }
  const problems: string[] = [];
  if (scan.maxDistance > SMALL_WINDOW) {
    problems.push(`a back-reference reaches ${scan.maxDistance} bytes back, beyond the 4096 a device inflating with wbits=12 keeps ("invalid distance too far back")`);
  }
  if (scan.end !== data.length) problems.push(`${quantity(data.length - scan.end, "byte")} ${data.length - scan.end === 1 ? "follows" : "follow"} the gzip stream; a device stops at its end`);
  checks.push(
    problems.length === 0
      ? result("gzip", "pass", `inflates with a 4 KiB window (largest back-reference ${quantity(scan.maxDistance, "byte")})`)
      : result("gzip", "fail", scan.maxDistance > SMALL_WINDOW ? "needs a 32 KiB inflate window; a small device cannot unpack it" : "the gzip layer is not a single stream", problems),
  );
  try {
    return gunzipSync(data.subarray(0, scan.end), { windowBits: 15 });
  } catch (error) {
    checks[checks.length - 1] = result("gzip", "fail", `the gzip layer does not inflate: ${(error as Error).message}`);
    return undefined;
  }
}

interface Member {
  entry: TarEntry;
  data?: Buffer;
}

/** Reads the tar correctly (pax and GNU records applied), keeping the text of metadata files; or why the strict reader refuses it. */
function readMembers(tar: Buffer): { members: Member[] } | { refused: string } {
  const reader = new TarReader();
  const members: Member[] = [];
  let chunks: Buffer[] | undefined;
  try {
    for (const event of reader.push(tar)) {
      if (event.kind === "entry") {
        const wanted = /(^|\/)(PKG-INFO|requires\.txt)$/.test(event.entry.name);
        members.push({ entry: event.entry });
        chunks = wanted ? [] : undefined;
      } else if (event.kind === "data") chunks?.push(Buffer.from(event.bytes));
      else if (chunks !== undefined) members[members.length - 1]!.data = Buffer.concat(chunks);
    }
    reader.finish();
  } catch (error) {
    if (error instanceof TarFormatError) return { refused: error.message };
    throw error;
  }
  return { members };
}

function contentChecks(members: Member[], archive: string): CheckResult[] {
  // Raw first components, as upip strips them: `./name-1.0/x` has the top folder `.`, not `name-1.0`.
  const paths = members.map((member) => member.entry.name.split("/"));
  const tops = [...new Set(paths.map((segments) => segments[0]!))];
  const problems: string[] = [];
  if (members.length === 0) problems.push("the tar holds no entries");
  if (tops.length > 1) problems.push(`${tops.length} top-level names: ${tops.slice(0, 10).map((top) => `\`${printable(top)}\``).join(", ")}`);
  if (tops.includes(".")) problems.push("names start with `./`, and upip strips `.` as the top folder, so `name-version/` would be installed too");
  members.forEach((member, i) => {
    if (member.entry.type !== "directory" && paths[i]!.filter((segment) => segment !== "").length < 2) problems.push(`\`${printable(member.entry.name)}\` lies outside the top folder`);
  });
  const topCheck =
    problems.length === 0
      ? result("top-folder", "pass", `one top folder, \`${printable(tops[0]!)}/\``)
      : result("top-folder", "fail", "the entries do not all lie in one top folder (upip strips the first path component of every entry)", problems.slice(0, 20));

  const stripped = new Map<string, Member>();
  members.forEach((member, i) => stripped.set(paths[i]!.slice(1).filter((segment) => segment !== "").join("/"), member));
  const setupCheck = stripped.has("setup.py")
    ? result("setup-py", "fail", "it holds `setup.py`, which a MicroPython package must not ship (sdist_upip drops it)")
    : result("setup-py", "pass", "no `setup.py`");
  return [topCheck, namesCheck(members), setupCheck, dependencyCheck(stripped), identityCheck(stripped, archive)];
}

/**
 * Whether `mpip install` (and pip) take the archive for the package its file name says: every PKG-INFO it
 * holds names that package, and that version where it gives one (spec/identity.ts). Skipped for an
 * archive with no PKG-INFO, or whose file name is no `NAME-VERSION.tar.gz` (an index's listing names it then).
 */
function identityCheck(stripped: Map<string, Member>, archive: string): CheckResult {
  // The top-level PKG-INFO first, as `mpip install` reads them (archive/unpack.ts `pkgInfos`).
  const pkgInfos = [...stripped].filter(([file]) => isPkgInfo(file)).sort(([a], [b]) => Number(b === "PKG-INFO") - Number(a === "PKG-INFO")).map(([, member]) => member.data?.toString("utf8") ?? "");
  if (pkgInfos.length === 0) return result("identity", "skip", "no PKG-INFO says which package it is");
  const file = path.basename(archive);
  const named = parseArchiveName(file);
  if (named === undefined || named.packagetype !== "sdist") return result("identity", "skip", `its file name \`${printable(file)}\` is not NAME-VERSION.tar.gz, so only an index's listing or a \`name @ URL\` can say which package it is`);
  const problem = pkgInfoMismatch(pkgInfos, { name: named.name, version: named.version });
  const rename = ownFileName(pkgInfos);
  if (problem !== undefined) return result("identity", "fail", `\`mpip install\` refuses it by its file name, \`${printable(file)}\`: its PKG-INFO ${problem}${rename === undefined ? "" : `; name it \`${printable(rename)}\``}`);
  const own = identityFields(pkgInfos[0]!);
  return result("identity", "pass", `its PKG-INFO names \`${printable(own.name ?? named.name)}${own.version === undefined ? "" : ` ${printable(own.version)}`}\`, as its file name does`);
}

/** The names `mpip install` refuses, by its own rules; links and devices are the tar check's to report. */
function namesCheck(members: Member[]): CheckResult {
  const layout = new ArchiveLayout();
  const problems: string[] = [];
  for (const { entry } of members) {
    if (entry.type !== "file" && entry.type !== "directory") continue;
    const admitted = layout.admit(entry);
    if (!admitted.ok) problems.push(`\`${printable(entry.name)}\`: ${admitted.reason}`);
  }
  if (problems.length === 0) return result("names", "pass", "every name installs as written, on FAT too: no reserved or forbidden name, no two paths one file, none both a file and a folder");
  const count = problems.length === 1 ? "1 entry" : `${problems.length} entries`;
  const shown = problems.length <= 20 ? problems : [...problems.slice(0, 20), `... and ${problems.length - 20} more`];
  return result("names", "fail", `mpip install refuses ${count} for ${problems.length === 1 ? "its name" : "their names"}: names FAT or Windows cannot hold, paths FAT makes one, a path that is both a file and a folder, or one that escapes`, shown);
}

function dependencyCheck(stripped: Map<string, Member>): CheckResult {
  const text = (file: string | undefined) => (file === undefined ? undefined : stripped.get(file)?.data?.toString("utf8"));
  const files = [...stripped.keys()];
  const requiresTxt = files.find((file) => /\.egg-info\/requires\.txt$/.test(file));
  const eggPkgInfo = files.find((file) => /^[^/]+\.egg-info\/PKG-INFO$/.test(file));
  // Only runtime dependencies need a requires.txt: a Requires-Dist for an extra, or with a marker that does
  // not hold on MicroPython, is not one (mpip pack and repack leave those out of requires.txt, as install does).
  const requiresDist = new Set<string>();
  const notRuntime = new Set<string>();
  for (const file of [eggPkgInfo, stripped.has("PKG-INFO") ? "PKG-INFO" : undefined]) {
    const pkgInfo = text(file) ?? "";
    const runtime = runtimeRequiresDist(pkgInfo);
    for (const line of readHeaders(pkgInfo).get("requires-dist") ?? []) (runtime === undefined || runtime.has(line.trim()) ? requiresDist : notRuntime).add(line);
  }
  if (requiresTxt !== undefined) {
    const lines = (text(requiresTxt) ?? "").split(/\r\n|\r|\n/).map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
    const sections = lines.filter((line) => line.startsWith("["));
    const count = lines.length - sections.length;
    const message = `\`${requiresTxt}\` lists ${count === 1 ? "1 requirement" : `${count} requirements`}`;
    if (sections.length === 0) return result("dependencies", "pass", message);
    return result("dependencies", "warn", `${message} with \`[section]\` headers, which upip takes for package names (mpip reads them)`, sections.map((line) => `\`${printable(line)}\``));
  }
  if (requiresDist.size > 0) {
    return result("dependencies", "fail", `its ${requiresDist.size === 1 ? "dependency is" : `${requiresDist.size} dependencies are`} declared only as \`Requires-Dist\` in PKG-INFO; upip reads only \`*.egg-info/requires.txt\``, [...requiresDist].map((line) => `Requires-Dist: ${printable(line)}`));
  }
  if (eggPkgInfo !== undefined && notRuntime.size > 0) {
    const count = notRuntime.size === 1 ? "its 1 `Requires-Dist` is" : `its ${notRuntime.size} \`Requires-Dist\` are`;
    return result("dependencies", "pass", `no runtime dependencies (\`${eggPkgInfo}\` and no requires.txt): ${count} for extras or other platforms, which a device never installs`, [...notRuntime].map((line) => `Requires-Dist: ${printable(line)}`));
  }
  if (eggPkgInfo !== undefined) return result("dependencies", "pass", `no dependencies (\`${eggPkgInfo}\` and no requires.txt, as setuptools writes a package without any)`);
  return result("dependencies", "fail", "no `*.egg-info/PKG-INFO` or `requires.txt`: upip cannot tell its dependencies (or that it has none)");
}

/**
 * The `Requires-Dist` values of a PKG-INFO that a MicroPython device installs (markers evaluated as
 * `mpip install` evaluates them; extras never), or undefined when one of them cannot be parsed (then
 * every line counts, and the check stays strict).
 */
function runtimeRequiresDist(pkgInfo: string): Set<string> | undefined {
  try {
    return new Set(parseRequiresDist(pkgInfo).map((requirement) => requirement.text.trim()));
  } catch (error) {
    if (error instanceof MpipError) return undefined;
    throw error;
  }
}
