// `mpip check`: would a small device install this archive as intended? Each check is data (a status and
// the reasons), so the CLI can print it for people or as JSON for CI. The gzip check is exact (the largest
// deflate distance, not zlib's lenient inflate); the tar check is the device reader's view (device-tar.ts);
// the content checks read the tar the correct way (pax and GNU names applied), as `mpip install` does.

import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { MpipError } from "../errors.js";
import { stripEntryPath } from "../archive/entry-path.js";
import { SMALL_WINDOW, scanGzip } from "../archive/gzip-scan.js";
import { TarReader, type TarEntry } from "../archive/tar-reader.js";
import { DEFAULT_LIMITS, formatBytes } from "../limits.js";
import { printable } from "../text.js";
import { deviceTarView } from "./device-tar.js";
import { readHeaders } from "./pkg-info.js";

export type CheckId = "gzip" | "tar" | "top-folder" | "setup-py" | "dependencies";
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
    for (const id of ["tar", "top-folder", "setup-py", "dependencies"] as const) checks.push(result(id, "skip", "not checked: the gzip layer cannot be read"));
  } else {
    const view = deviceTarView(tar);
    checks.push(
      view.problems.length === 0
        ? result("tar", "pass", `plain ustar that a device tar reader reads as intended (${view.headers} entries, short names, regular files and folders)`)
        : result("tar", "fail", `a device tar reader would misread it (${view.problems.length === 1 ? "1 problem" : `${view.problems.length} problems`})`, view.problems),
    );
    checks.push(...contentChecks(tar));
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
  if (scan.end !== data.length) problems.push(`${data.length - scan.end} bytes follow the gzip stream; a device stops at its end`);
  checks.push(
    problems.length === 0
      ? result("gzip", "pass", `inflates with a 4 KiB window (largest back-reference ${scan.maxDistance} bytes)`)
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

/** Reads the tar correctly (pax and GNU records applied), keeping the text of metadata files. */
function readMembers(tar: Buffer): Member[] {
  const reader = new TarReader();
  const members: Member[] = [];
  let chunks: Buffer[] | undefined;
  for (const event of reader.push(tar)) {
    if (event.kind === "entry") {
      const wanted = /(^|\/)(PKG-INFO|requires\.txt)$/.test(event.entry.name);
      members.push({ entry: event.entry });
      chunks = wanted ? [] : undefined;
    } else if (event.kind === "data") chunks?.push(Buffer.from(event.bytes));
    else if (chunks !== undefined) members[members.length - 1]!.data = Buffer.concat(chunks);
  }
  reader.finish();
  return members;
}

function contentChecks(tar: Buffer): CheckResult[] {
  let members: Member[];
  try {
    members = readMembers(tar);
  } catch (error) {
    const why = `not checked: the tar cannot be read (${(error as Error).message})`;
    return [result("top-folder", "fail", why), result("setup-py", "skip", why), result("dependencies", "skip", why)];
  }
  // Raw first components, as upip strips them: `./name-1.0/x` has the top folder `.`, not `name-1.0`.
  const paths = members.map((member) => member.entry.name.split("/"));
  const tops = [...new Set(paths.map((segments) => segments[0]!))];
  const problems: string[] = [];
  if (members.length === 0) problems.push("the tar holds no entries");
  if (tops.length > 1) problems.push(`${tops.length} top-level names: ${tops.slice(0, 10).map((top) => `\`${printable(top)}\``).join(", ")}`);
  if (tops.includes(".")) problems.push("names start with `./`, and upip strips `.` as the top folder, so `name-version/` would be installed too");
  members.forEach((member, i) => {
    const safe = stripEntryPath(member.entry.name);
    if (!safe.ok) problems.push(`\`${printable(member.entry.name)}\`: ${safe.reason}`);
    else if (member.entry.type !== "directory" && paths[i]!.filter((segment) => segment !== "").length < 2) problems.push(`\`${printable(member.entry.name)}\` lies outside the top folder`);
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
  return [topCheck, setupCheck, dependencyCheck(stripped)];
}

function dependencyCheck(stripped: Map<string, Member>): CheckResult {
  const text = (file: string | undefined) => (file === undefined ? undefined : stripped.get(file)?.data?.toString("utf8"));
  const files = [...stripped.keys()];
  const requiresTxt = files.find((file) => /\.egg-info\/requires\.txt$/.test(file));
  const eggPkgInfo = files.find((file) => /^[^/]+\.egg-info\/PKG-INFO$/.test(file));
  const requiresDist = new Set<string>();
  for (const file of [eggPkgInfo, stripped.has("PKG-INFO") ? "PKG-INFO" : undefined]) {
    for (const line of readHeaders(text(file) ?? "").get("requires-dist") ?? []) requiresDist.add(line);
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
  if (eggPkgInfo !== undefined) return result("dependencies", "pass", `no dependencies (\`${eggPkgInfo}\` and no requires.txt, as setuptools writes a package without any)`);
  return result("dependencies", "fail", "no `*.egg-info/PKG-INFO` or `requires.txt`: upip cannot tell its dependencies (or that it has none)");
}
