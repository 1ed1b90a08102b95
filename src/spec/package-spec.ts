// What a user (or a mip package's `deps`) may name: a requirement resolved through the indexes
// (`name`, `name>=1.2`, mip's `name@1.2`), or a direct source that needs no index: an http(s) URL or a
// local path to an sdist, a `.py`/`.mpy` module, a package.json, a project folder, or a
// `github:`/`gitlab:`/`codeberg:` shorthand with an optional `@ref`. Names follow mip's rules (names.ts
// `isMipName`), as a micropython-lib index may answer them. Classifying is pure: nothing is fetched
// here; the artifact says where the bytes are and the installer fetches them.

import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MpipError } from "../errors.js";
import { redactUrl } from "../http.js";
import { parseArchiveName } from "../sources/find-links.js";
import { mipDocumentLocation } from "../sources/mip-v2.js";
import { checkEntryPath } from "../archive/entry-path.js";
import { declaresProjectMetadata } from "../pack/project-detect.js";
import { printable } from "../text.js";
import { expandShorthand, isShorthand, refFor, shorthandRepo, splitRef, withPackageJson, type GitHosts, type RepoRef } from "../sources/git-hosts.js";
import type { Artifact, Location, UrlDigest } from "../sources/types.js";
import { parseMarker, type Marker } from "./markers.js";
import { isWellFormed, parseUrl, urlFormProblem } from "../url.js";
import { isComparableVersion } from "../versions.js";
import { isMipName, isValidName, MAX_NAME_LENGTH, mipNameFrom, normalizeName } from "./names.js";
import { parseRequirement, type Requirement } from "./requirement.js";

/** A source named directly: it is installed as it is, and its dependencies are resolved as usual. */
export interface DirectSpec {
  /** Deduplicates requests for the same thing: a normalized project name when known, else the URL or path. */
  key: string;
  /** How output names it before its own metadata is read. */
  name: string;
  /**
   * The name is the project's own (an sdist's file name, `name @ URL`), not a guess from a URL or a
   * folder: only then does it answer other requests for that name before it is fetched.
   */
  named?: boolean;
  version?: string;
  /** Where it comes from, safe to print: the spec as written (credentials removed). */
  source: string;
  artifact: Artifact;
  /** A PEP 508 `name @ URL ; marker`'s marker: the request holds only where it does (evaluated by whoever takes the spec). */
  marker?: Marker;
}

export type PackageSpec = { type: "requirement"; requirement: Requirement } | { type: "direct"; direct: DirectSpec };

export interface SpecContext {
  hosts: GitHosts;
  /** Relative paths resolve against it. */
  cwd: string;
  /**
   * The folder of the requirements file the spec is a line of. A relative path there is still relative to
   * `cwd`, as pip reads it; one that names nothing from `cwd` but something from this folder says so.
   */
  fileFolder?: string;
}

const MIP_STYLE = /^(?<name>[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)@(?<version>[^\s@/:;]+)$/;
/** A spec's name is checked by mip's rule (names.ts `isMipName`): a micropython-lib index may answer it. */
const MIP_NAMES = { names: "mip" } as const;
const MODULE_SUFFIX = /\.(py|mpy)$/i;
const SDIST_SUFFIX = /\.tar\.gz$/i;

/**
 * What a spec names. `origin` says where it was written when that is not the command line ("`reqs.txt`
 * line 3"): an error then starts with it. Throws MpipError("bad-spec" or "bad-requirement").
 */
export function parsePackageSpec(input: string, context: SpecContext, origin?: string): PackageSpec {
  if (origin === undefined) return classify(input, context);
  try {
    return classify(input, context);
  } catch (error) {
    if (!(error instanceof MpipError)) throw error;
    throw new MpipError(error.code, `${origin}: ${error.message}`, { cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
  }
}

function classify(input: string, context: SpecContext): PackageSpec {
  const text = input.trim();
  if (isShorthand(text)) return direct(shorthandSpec(text, undefined, context));
  const marked = splitMarker(text, context);
  if (marked !== undefined) return direct(withMarker(directSpec(marked.text, context), marked.marker));
  const mip = MIP_STYLE.exec(text)?.groups;
  if (mip !== undefined) return { type: "requirement", requirement: pinned(mip.name!, mip.version!, text) };
  let requirement: Requirement;
  try {
    requirement = parseRequirement(text, MIP_NAMES);
  } catch (error) {
    const hint = error instanceof MpipError && error.hint === undefined ? requirementHint(text) : undefined;
    if (hint === undefined) throw error;
    throw new MpipError((error as MpipError).code, (error as MpipError).message, { cause: error, hint });
  }
  if (requirement.url !== undefined) return direct(namedUrlSpec(requirement, context));
  return { type: "requirement", requirement };
}

/**
 * The hint for a requirement that does not parse, where its shape says what was meant (the same on the
 * command line, quoted whole, and on a -r file's line):
 * - `name 1.0`, a version after a space: `name==1.0`, or mip's `name@1.0`;
 * - `name @ 1.0`: the same, `@` being PEP 508's URL;
 * - `name @ dist/x.tar.gz`, a path after `@`: a `file:` URL of it, or the path alone.
 * Undefined for any other text.
 */
function requirementHint(text: string): string | undefined {
  const versioned = /^([A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)\s+(?:@\s*)?v?(\d+(?:\.\d+)*(?:[a-z]+\d*)?)$/i.exec(text);
  if (versioned !== null) {
    const [, name, version] = versioned;
    return `write name and version as one: \`${printable(`${name}==${version}`, 120)}\` (or mip's \`${printable(`${name}@${version}`, 120)}\`)`;
  }
  const sourced = /^([A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?(?:\s*\[[^\]]*\])?)\s*@\s*(\S+)(\s*;.*)?$/.exec(text);
  if (sourced !== null && !/^[a-z][a-z0-9+.-]*:/i.test(sourced[2]!)) {
    const [, name, where, marker = ""] = sourced;
    const url = `${name!.trim()} @ file:${where!.startsWith("~") ? path.join(os.homedir(), where!.slice(1)) : where}${marker}`;
    return `after \`@\` comes a URL (PEP 508): for a file or folder on this machine write \`${printable(url, 200)}\` (a relative path, from the current folder), or give the path alone: \`${printable(`${where}${marker}`, 200)}\``;
  }
  return undefined;
}

/**
 * A URL or a local path given alone, with pip's marker after it where there is one (`URL ; marker`, the
 * marker after `; `, as a URL may hold a `;`; `path ; marker`, after the first `;`: pip's
 * `parse_req_from_line`): the text without the marker, and the marker (undefined where it is empty).
 * Undefined for any other text (`name @ URL ; marker` is PEP 508's, read by parseRequirement).
 * @throws MpipError `bad-requirement` for a marker that does not parse.
 */
function splitMarker(text: string, context: SpecContext): { text: string; marker?: Marker } | undefined {
  const url = /^(https?|file):/i.test(text);
  const at = url ? text.indexOf("; ") : text.indexOf(";");
  const bare = (at < 0 ? text : text.slice(0, at)).trim();
  if (!url && !(looksLikePath(bare) && !isProjectNameAlone(bare, context.cwd))) return undefined;
  const markerText = at < 0 ? "" : text.slice(at + 1).trim();
  if (markerText === "") return { text: bare };
  try {
    return { text: bare, marker: parseMarker(markerText) };
  } catch (error) {
    if (!(error instanceof MpipError)) throw error;
    throw new MpipError("bad-requirement", `\`${printable(text, 200)}\`: ${error.message}`, { cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
  }
}

/**
 * A word that looks like a module's or a document's file (`sensor.py`, `discord.py`, `conf.json`: no
 * folder, no `.` or `~` before it) but names nothing here, and is a project name: the project, as pip
 * reads it (only an archive's name, `foo-1.0.tar.gz`, is a path to pip whether it exists or not).
 */
function isProjectNameAlone(text: string, cwd: string): boolean {
  if (text.includes("/") || text.includes(path.sep) || /^[.~]/.test(text) || SDIST_SUFFIX.test(text) || !isValidName(text)) return false;
  return statKind(path.resolve(cwd, text), undefined) === undefined;
}

/** A URL (http, https or file) or a local path, alone. */
function directSpec(text: string, context: SpecContext): DirectSpec {
  if (/^https?:/i.test(text)) return urlSpec(text);
  if (/^file:/i.test(text)) return fileUrlSpec(text, context);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    throw new MpipError("bad-spec", `\`${printable(redactUrl(text))}\` is not an http or https URL`, { hint: "name a package, an https:// URL, a local path, or `github:org/repo`" });
  }
  return pathSpec(text, context);
}

function withMarker(spec: DirectSpec, marker: Marker | undefined): DirectSpec {
  return marker === undefined ? spec : { ...spec, marker };
}

/**
 * A `file:` URL typed by the user (RFC 8089; pip takes them in requirements, and `pip freeze` writes
 * `name @ file:///...` for a package installed from a local archive): the local path it names, read as
 * that path is (pathSpec: an sdist's file name must say its project and version), with a hash fragment
 * (`#sha256=`, `#md5=`, ...: splitHashFragment) checked for an sdist; with pip's `#egg=NAME`, read as
 * `NAME @ URL` (namedLocalSpec). Only on the command line and in requirements files: a package's metadata
 * may not name one (dependencySpec). Throws MpipError("bad-spec").
 */
function fileUrlSpec(text: string, context: SpecContext): DirectSpec {
  const fragment = splitHashFragment(text);
  if (fragment.egg !== undefined) return namedLocalSpec({ name: fragment.egg, extras: [], specifier: "", url: text, text }, context);
  const spec = pathSpec(localPathOf(fragment.url), context, fragment.url);
  if (fragment.sha256 === undefined && fragment.digest === undefined) return spec;
  if (spec.artifact.type !== "dist") throw notForSdist(text);
  return { ...spec, artifact: { ...spec.artifact, file: { ...spec.artifact.file, ...hashesOf(fragment) } } };
}

/**
 * The local path a `file:` URL (no fragment) names. A relative one (`file:../dist/x-1.0.tar.gz`,
 * `file:./pkg`: no `//`, no leading `/`) is its path, percent-decoded, as pip reads it (its `url_to_path`),
 * so relative to the current folder as any relative path is. Throws MpipError("bad-spec") for one that
 * names none on this machine.
 */
function localPathOf(url: string): string {
  const relative = /^file:(?!\/)([^?#]+)$/i.exec(url)?.[1];
  if (relative !== undefined) return decodeURIComponentSafe(relative);
  const problem = urlFormProblem(url);
  if (problem !== undefined) throw new MpipError("bad-spec", `the \`file:\` URL \`${printable(url)}\` ${problem}`, { hint: "give a local file or folder as `file:///absolute/path`, or as its path" });
  try {
    return fileURLToPath(url);
  } catch (error) {
    // `file://../dist/x.tar.gz`, `file://dist/x.tar.gz`: what follows `file://` is a host, so a relative path
    // written there names a machine (`..`, `dist`), which Node's words ("File URL host must be ...") do not say.
    const authority = /^file:\/\/([^/?#]*)(.*)$/is.exec(url);
    if (authority !== null && authority[1] !== "" && authority[1]!.toLowerCase() !== "localhost") {
      const [, host, rest] = authority;
      const relative = `${decodeURIComponentSafe(host!)}${decodeURIComponentSafe(rest!)}`;
      // A relative path: `..`, `.`, or a folder here of the host's name (`file://dist/x.tar.gz`).
      const pathLike = /^\.{1,2}$/.test(host!) || (!host!.includes(".") && statSync(decodeURIComponentSafe(host!), { throwIfNoEntry: false })?.isDirectory() === true);
      const relativeFix = `for a path relative to the current folder write \`file:${printable(relative, 200)}\` (no \`//\`), or the path itself: \`${printable(relative, 200)}\``;
      throw new MpipError("bad-spec", `\`${printable(url)}\` is not a \`file:\` URL of a path on this machine: it names the host \`${printable(host!, 80)}\` (in a \`file://\` URL a host comes after the \`//\`), ${pathLike ? `so the relative path \`${printable(relative, 200)}\` is not read as one` : "another machine, whose files mpip does not read"}`, {
        hint: pathLike
          ? `${relativeFix}; an absolute path is \`file:///absolute/path\``
          : `write a file on this machine as \`file:///absolute/path\`${host!.includes(".") ? ", or give the path itself" : `; ${relativeFix}`}`,
      });
    }
    throw new MpipError("bad-spec", `\`${printable(url)}\` is not a \`file:\` URL of a path on this machine (${(error as Error).message})`, {
      hint: "write it as `file:///absolute/path` (a host other than `localhost` is another machine), or give the path itself",
    });
  }
}

/**
 * One `deps` entry of a mip package document: `[name, version]` where the name may be a URL or a
 * shorthand (then the version is its ref, as mip reads it) and "latest" or "" means any version.
 * `inherited` is the ref the document itself was asked at (with its repo): a shorthand into that same
 * repo with no ref of its own is fetched at it; one into another repo never is (its default branch).
 * Throws MpipError("bad-spec" or "bad-requirement").
 */
export function parseMipDependency(name: string, version: string | undefined, context: SpecContext, inherited?: RepoRef): PackageSpec {
  const wanted = version === undefined || version === "" || version === "latest" ? undefined : version;
  if (!isWellFormed(name) || (wanted !== undefined && !isWellFormed(wanted))) {
    throw new MpipError("bad-spec", `\`${printable(name)}@${printable(wanted ?? "", 80)}\` is not valid Unicode (it holds a lone surrogate)`, { hint: "a dependency is a project name, a URL or a shorthand, with a version or a ref" });
  }
  if (isShorthand(name)) return direct(shorthandSpec(name, refFor(name, wanted, inherited), context));
  if (/^https?:\/\//i.test(name)) return direct(urlSpec(name));
  if (wanted === undefined) return { type: "requirement", requirement: parseRequirement(name, MIP_NAMES) };
  return { type: "requirement", requirement: pinned(name, wanted, `${name}@${wanted}`) };
}

function direct(spec: DirectSpec): PackageSpec {
  return { type: "direct", direct: spec };
}

/**
 * mip's `name@version`: exactly that version, or any for `latest`. A version mpip cannot compare (not PEP
 * 440, or a number too large) is matched as text (`===`), as mip matches it.
 */
function pinned(name: string, version: string, text: string): Requirement {
  if (/^[<>=!~]/.test(version)) {
    const typed = version.replace(/^=(?=[^=])/, "==");
    throw new MpipError("bad-spec", `\`${printable(text, 200)}\`: mip's \`name@version\` takes one version, not a version specifier`, {
      hint: `write the specifier after the name, quoted for the shell: \`'${printable(name)}${printable(typed, 100)}'\``,
    });
  }
  const requirement = parseRequirement(name, MIP_NAMES);
  if (version === "latest") return { ...requirement, text };
  return { ...requirement, specifier: `${isComparableVersion(version) ? "==" : "==="}${version}`, text };
}

function shorthandSpec(text: string, defaultRef: string | undefined, context: SpecContext): DirectSpec {
  const { spec, ref: ownRef } = splitRef(text);
  const ref = ownRef ?? defaultRef;
  const url = expandShorthand(spec, ref, context.hosts);
  const location: Location = { type: "remote", url };
  const source = ref === undefined ? spec : `${spec}@${ref}`;
  const name = displayName(spec.replace(/^[a-z]+:/, "").replace(/\/-(?=\/|$)/, ""), text);
  // Keyed without the ref: one repo asked for at two refs is one package (the first request wins).
  if (MODULE_SUFFIX.test(spec)) return { key: spec, name, source, artifact: { type: "module", location, dest: moduleDest(lastSegment(spec), text) } };
  const repo = ref === undefined ? undefined : shorthandRepo(spec);
  const repoRef: RepoRef | undefined = ref === undefined || repo === undefined ? undefined : { repo, ref };
  const onIndex = indexDocumentSpec(url, source, {}, repoRef);
  if (onIndex !== undefined) return onIndex;
  return { key: spec, name, source, artifact: { type: "package-json", location, ...(repoRef === undefined ? {} : { ref: repoRef }) } };
}

/**
 * `named`: the project name a PEP 508 `name @ URL` gives it (see sdistSpec); pip's `#egg=NAME` gives one
 * too, which must then be the same project.
 */
function urlSpec(text: string, given?: string): DirectSpec {
  const fragment = splitHashFragment(text);
  const { url, egg } = fragment;
  const named = checkedEgg(given, egg, text);
  const parsed = parseUrl(url);
  if (parsed === undefined) {
    const problem = urlFormProblem(url);
    throw new MpipError("bad-spec", `\`${printable(redactUrl(url))}\` is not a valid URL${problem === undefined ? "" : `: it ${problem}`}`, {
      hint: problem === undefined ? "check the URL: it needs a host, a port (if any) from 1 to 65535, and brackets only around an IPv6 address" : "check the URL: an http or https URL is `https://host/path`",
    });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new MpipError("bad-spec", `\`${printable(redactUrl(url))}\` is not an http or https URL`, { hint: "name a package, an https:// URL, a local path, or `github:org/repo`" });
  }
  const file = decodeURIComponentSafe(lastSegment(parsed.pathname));
  const source = redactUrl(url);
  const location: Location = { type: "remote", url };
  const hashes = hashesOf(fragment);
  if (SDIST_SUFFIX.test(file)) return sdistSpec(file, location, source, hashes, named);
  if (egg !== undefined && given === undefined) {
    throw new MpipError("bad-spec", `\`${printable(redactUrl(text), 200)}\`: \`#egg=\` names the project of an sdist (.tar.gz), and this URL is none`, { hint: "remove `#egg=`: a module or a package.json is installed by its URL alone" });
  }
  if (MODULE_SUFFIX.test(file)) return { key: url, name: nameFromFile(stem(file), source), source, artifact: { type: "module", location, dest: moduleDest(file, source), ...hashes } };
  const documentUrl = parsed.pathname.endsWith(".json") ? url : withPackageJson(url);
  const onIndex = indexDocumentSpec(documentUrl, source, hashes);
  if (onIndex !== undefined) return onIndex;
  return { key: documentUrl, name: displayName(parsed.pathname, source), source, artifact: { type: "package-json", location: { type: "remote", url: documentUrl }, ...hashes } };
}

/**
 * The project name of a URL: `name @ URL`'s (`given`), pip's `#egg=NAME`, or both when they are the same
 * project (PEP 503 normalized), as pip requires. @throws MpipError `bad-spec` when they differ.
 */
function checkedEgg(given: string | undefined, egg: string | undefined, text: string): string | undefined {
  if (given === undefined || egg === undefined) return given ?? egg;
  if (normalizeName(given) === normalizeName(egg)) return given;
  throw new MpipError("bad-spec", `\`${printable(given)} @ ${printable(redactUrl(text), 200)}\` names two projects: \`${printable(given)}\` before \`@\` and \`${printable(egg)}\` in \`#egg=\``, {
    hint: "give the project's name once: `NAME @ URL` without `#egg=`",
  });
}

/**
 * A dependency that a package's metadata states (requires.txt, Requires-Dist): by name, or by URL (PEP 508
 * `name @ https://host/name-1.0.tar.gz`), which is then fetched from that URL, as pip does and as the same
 * spec on the command line is, and never taken from an index under its name. Only an http or https URL
 * to an sdist is: a `file:` URL in a package's metadata would read the installing machine's disk. Throws
 * MpipError("bad-spec").
 */
export function dependencySpec(requirement: Requirement): PackageSpec {
  if (requirement.url === undefined) return { type: "requirement", requirement };
  try {
    return direct(namedUrlSpec(requirement));
  } catch (error) {
    if (!(error instanceof MpipError)) throw error;
    // The hint for the same spec typed on the command line says how to retype it; a package's own is not the user's to retype.
    throw new MpipError(error.code, error.message, {
      cause: error,
      hint: "a dependency by URL must be an http or https URL of an sdist (.tar.gz); this one is for the package's authors to fix. To install the package anyway, give --no-deps and name what it needs yourself",
    });
  }
}

/**
 * PEP 508 `name @ https://host/name-1.0.tar.gz`: the sdist at the URL is the project `name`, whatever its
 * file is called (a forge's `archive/v1.0.tar.gz` too), as pip takes it; its own PKG-INFO must say so once
 * it is fetched (prepare/archive.ts).
 */
function namedUrlSpec(requirement: Requirement, localFrom?: SpecContext): DirectSpec {
  // `name @ file:///...` (typed by the user: `localFrom` is the folder it was typed in). From a package's
  // metadata, refused by urlSpec.
  if (localFrom !== undefined && /^file:/i.test(requirement.url!)) return withMarker(namedLocalSpec(requirement, localFrom), requirement.marker);
  const spec = urlSpec(requirement.url!, requirement.name);
  if (spec.artifact.type !== "dist") {
    throw new MpipError("bad-spec", `\`${printable(requirement.text)}\`: a \`name @ URL\` requirement must point at a .tar.gz sdist`, { hint: "give the URL alone to install a module or a package.json from it" });
  }
  return withMarker(spec, requirement.marker);
}

/**
 * `name @ file:///...`, as pip reads it (and `pip freeze` writes it for a local install):
 * - an sdist whose file name says the project `name` (`name-1.0.tar.gz`), the path alone;
 * - an sdist whose file name says no project (`v1.0.tar.gz`): the project `name`, its version from its
 *   PKG-INFO, which must name `name` (prepare/archive.ts), as for `name @ https://...`;
 * - a project folder: packed as its path alone is (prepare/index.ts), its metadata must name `name`.
 * An sdist whose file name says another project, a module or a package.json (which carry no project
 * metadata to hold the name to) are refused. Throws MpipError("bad-spec").
 */
function namedLocalSpec(requirement: Requirement, context: SpecContext): DirectSpec {
  const { text } = requirement;
  const fragment = splitHashFragment(requirement.url!);
  const { url } = fragment;
  const name = checkedEgg(requirement.name, fragment.egg, requirement.url!)!;
  const hashes = hashesOf(fragment);
  const typed = localPathOf(url);
  const full = path.resolve(context.cwd, typed);
  const kind = statKind(full, url, { typed, context });
  const href = pathToFileURL(full).href;
  const file = path.basename(full);
  if (kind === "folder") {
    if (fragment.sha256 !== undefined || fragment.digest !== undefined) throw notForSdist(text);
    if (statKind(path.join(full, "package.json"), undefined) === "file" && !declaresProjectMetadata(full)) {
      throw new MpipError("bad-spec", `\`${printable(text)}\`: the folder holds a package.json and no Python project metadata (pyproject.toml, setup.cfg or setup.py) to say it is \`${printable(name)}\``, {
        hint: "give the folder's path alone to install its package.json",
      });
    }
    return { key: full, name, named: true, source: `${name} @ ${href}`, artifact: { type: "project", path: full, named: name } };
  }
  if (!SDIST_SUFFIX.test(file)) {
    throw new MpipError("bad-spec", `\`${printable(text)}\`: a \`name @ file:\` requirement must point at a .tar.gz sdist or a project folder`, { hint: "give the path alone to install a module or a package.json from it" });
  }
  const location: Location = { type: "local", path: full };
  const parsed = parseArchiveName(file);
  if (parsed === undefined) return sdistSpec(file, location, href, hashes, name);
  if (normalizeName(parsed.name) !== normalizeName(name)) {
    throw new MpipError("bad-spec", `\`${printable(text)}\`: the file \`${printable(file)}\` is an sdist of \`${printable(parsed.name)}\`, not of \`${printable(name)}\``, {
      hint: "give the sdist of the project named, or its path alone",
    });
  }
  // A local file named for its project: its path alone installs it again.
  return sdistSpec(file, location, full, hashes);
}

function notForSdist(text: string): MpipError {
  return new MpipError("bad-spec", `\`${printable(text, 200)}\`: a hash fragment (\`#sha256=\`, \`#md5=\`, ...) is checked for an sdist (.tar.gz) only`, { hint: "remove the fragment: a local module, package.json or folder is read as it is" });
}

/**
 * An sdist given directly: the project and version its file name says (`NAME-VERSION.tar.gz`), or, for a
 * `named` one (`name @ URL`) whose file name says another project or none, the project `named`, at the
 * version its PKG-INFO will give, and whose `source` is the `name @ URL` that installs it again. Either
 * way its PKG-INFO must agree once it is fetched.
 */
function sdistSpec(file: string, location: Location, source: string, hashes: { sha256?: string; digest?: UrlDigest }, named?: string): DirectSpec {
  const parsed = parseArchiveName(file);
  const dist = { filename: file, location, packagetype: "sdist", yanked: false, ...hashes };
  if (named !== undefined && !fileNamesProject(file, named)) {
    // Written back as given (a record for `mpip freeze`, a lock): the URL alone would not say the project.
    return { key: normalizeName(named), name: named, named: true, source: `${named} @ ${source}`, artifact: { type: "dist", file: dist } };
  }
  if (parsed === undefined) {
    throw new MpipError("bad-spec", `cannot tell the project name and version from the file name \`${printable(file)}\``, {
      hint: location.type === "local" ? "sdists are named `NAME-VERSION.tar.gz`, as their PKG-INFO says: rename the file so" : "sdists are named `NAME-VERSION.tar.gz`; for a URL that names no such file, write `NAME @ URL`",
    });
  }
  return { key: normalizeName(parsed.name), name: named ?? parsed.name, named: true, version: parsed.version, source, artifact: { type: "dist", file: dist } };
}

/**
 * A document at `{index}/package/{flavor}/{name}/{version}.json` (mip-v2.ts `mipDocumentLocation`) is
 * the package `name` of the v2 index at `{index}`: it is named so (and answers requests for that name, as
 * an sdist's file name does), and its hash-only files come from that index.
 */
function indexDocumentSpec(url: string, source: string, hashes: { sha256?: string; digest?: UrlDigest }, ref?: RepoRef): DirectSpec | undefined {
  const place = mipDocumentLocation(url);
  if (place === undefined) return undefined;
  const artifact: Artifact = {
    type: "package-json",
    location: { type: "remote", url },
    mip: { base: place.base, flavor: place.flavor },
    ...(ref === undefined ? {} : { ref }),
    ...hashes,
  };
  return { key: normalizeName(place.name), name: place.name, named: true, ...(place.version === undefined ? {} : { version: place.version }), source, artifact };
}

/** A local path (`shown`: what was typed, when it was a `file:` URL). */
function pathSpec(text: string, context: SpecContext, shown = text): DirectSpec {
  const expanded = text === "~" || text.startsWith("~/") ? path.join(os.homedir(), text.slice(1)) : text;
  const full = path.resolve(context.cwd, expanded);
  const kind = statKind(full, shown, { typed: expanded, context });
  const location: Location = { type: "local", path: full };
  const file = path.basename(full);
  if (kind === "folder") {
    if (statKind(path.join(full, "package.json"), undefined) === "file" && !declaresProjectMetadata(full)) {
      return { key: full, name: nameFromFile(file, text), source: full, artifact: { type: "package-json", location: { type: "local", path: path.join(full, "package.json") } } };
    }
    return { key: full, name: nameFromFile(file, text), source: full, artifact: { type: "project", path: full } };
  }
  if (SDIST_SUFFIX.test(file)) return sdistSpec(file, location, full, {});
  if (MODULE_SUFFIX.test(file)) return { key: full, name: nameFromFile(stem(file), text), source: full, artifact: { type: "module", location, dest: file } };
  if (/\.json$/i.test(file)) return { key: full, name: displayName(path.dirname(full), text), source: full, artifact: { type: "package-json", location } };
  throw new MpipError("bad-spec", `\`${printable(text)}\` is not something mpip can install`, {
    hint: "a local path must be a .tar.gz sdist, a .py or .mpy module, a package.json, or a project folder",
  });
}

/**
 * What is at `full`: undefined for nothing when `shown` is undefined; else nothing there is an error
 * naming `shown`, whose hint, for a relative path `typed` on a requirements-file line that names
 * something from the file's folder, says that such a path is relative to the current folder.
 */
function statKind(full: string, shown: string | undefined, from?: { typed: string; context: SpecContext }): "file" | "folder" | undefined {
  try {
    const stat = statSync(full);
    return stat.isDirectory() ? "folder" : "file";
  } catch (error) {
    if (shown === undefined) return undefined;
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const folder = from?.context.fileFolder;
    const besideFile = folder !== undefined && !path.isAbsolute(from!.typed) ? path.resolve(folder, from!.typed) : undefined;
    const hint = besideFile !== undefined && besideFile !== full && statKind(besideFile, undefined) !== undefined
      ? `a relative path in a requirements file is relative to the current folder (\`${printable(from!.context.cwd)}\`), as pip reads it, not to the file's folder; it names \`${printable(besideFile)}\` from there: run mpip in \`${printable(folder!)}\`, or write the path from the current folder or as an absolute path`
      : "check the path; to install from an index, give the package's name";
    throw new MpipError("bad-spec", `\`${printable(shown)}\` looks like a path, but there is nothing at \`${printable(full)}\` (${code})`, { hint });
  }
}

/** Whether a spec names a local path (classify's rule, after shorthands and URLs): touches no file. */
export function looksLikePath(text: string): boolean {
  if (text === "." || text === ".." || text.startsWith("~")) return true;
  // `name @ scheme:...` (`foo @ file:weird.tar.gz`, a relative file: URL with no slash) names its project.
  if (/^[A-Za-z0-9._-]+\s*(\[[^\]]*\]\s*)?@\s*[A-Za-z][A-Za-z0-9+.-]*:/.test(text)) return false;
  // A requirement with a URL (`name @ https://...`, even a malformed one such as `name==1.0 @ URL`) is no path.
  if (text.includes("/") || text.includes(path.sep)) return !/^[A-Za-z0-9._-]+\s*(\[[^\]]*\]\s*)?@/.test(text) && !/^[^\s/]+\s*@\s*[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text);
  return SDIST_SUFFIX.test(text) || MODULE_SUFFIX.test(text) || /\.json$/i.test(text);
}

/** The hex digits of each hash a URL's fragment may give (pip's Link `_SUPPORTED_HASHES`). */
const DIGEST_LENGTHS = { sha256: 64, sha512: 128, sha384: 96, sha224: 56, sha1: 40, md5: 32 } as const;

/** What a URL's fragment said: the hash to check (sha256, or one digest in another algorithm) and pip's `egg=` name. */
interface Fragment {
  /** The URL without its fragment (which is not sent). */
  url: string;
  sha256?: string;
  digest?: UrlDigest;
  /** pip's legacy `#egg=NAME`: the project the URL is, as `NAME @ URL` says it. */
  egg?: string;
}

/**
 * A URL's fragment as pip reads it (its Link): `key=value` parts joined by `&`, each `egg=NAME` or a hash
 * (`sha256=`, `sha512=`, `sha384=`, `sha224=`, `sha1=`, `md5=`, its full hex digest), at most one of each
 * kind. Where pip ignores other parts, mpip refuses them: a misspelt hash (`#sha265=`) would otherwise
 * leave the file unchecked. @throws MpipError `bad-spec`.
 */
function splitHashFragment(text: string): Fragment {
  const at = text.indexOf("#");
  if (at < 0) return { url: text };
  const fragment = text.slice(at + 1);
  const result: Fragment = { url: text.slice(0, at) };
  let hashes = 0;
  for (const part of fragment.split("&")) {
    const [key = "", value = ""] = part.split(/=(.*)/s);
    const lower = key.toLowerCase();
    const shown = `\`#${printable(fragment, 80)}\``;
    if (lower === "egg") {
      if (result.egg !== undefined || !isValidName(value)) {
        throw new MpipError("bad-spec", `the URL fragment ${shown} ${result.egg !== undefined ? "gives `egg=` twice" : `has \`egg=${printable(value, 80)}\`, which is not a project name`}`, { hint: "write `#egg=NAME` once, with the project's name, or `NAME @ URL` instead" });
      }
      result.egg = value;
      continue;
    }
    if (Object.hasOwn(DIGEST_LENGTHS, lower)) {
      const algorithm = lower as keyof typeof DIGEST_LENGTHS;
      const digits = DIGEST_LENGTHS[algorithm];
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(value)) {
        throw new MpipError("bad-spec", `the URL fragment ${shown} is not \`#sha256=<64 hex digits>\` or another hash with its full digest: \`#${algorithm}=\` takes ${digits} hex digits`, { hint: "remove it, or give the file's full digest (`sha256sum FILE` prints its sha256)" });
      }
      if (++hashes > 1) throw new MpipError("bad-spec", `the URL fragment ${shown} gives more than one hash`, { hint: "give one hash, preferably `#sha256=<hex>`" });
      if (algorithm === "sha256") result.sha256 = value.toLowerCase();
      else result.digest = { algorithm, hex: value.toLowerCase() };
      continue;
    }
    throw new MpipError("bad-spec", `the URL fragment ${shown} is not \`#sha256=<64 hex digits>\` nor another part mpip reads${lower === "subdirectory" ? " (mpip installs an archive whole: it has no `subdirectory=`)" : ""}`, {
      hint: "a URL's fragment may give `egg=NAME` and one hash, `sha256=` (or `sha512=`, `sha384=`, `sha224=`, `sha1=`, `md5=`) with the full hex digest, joined by `&`; remove anything else",
    });
  }
  return result;
}

/** The hash fields of a fragment, to spread into an artifact. */
function hashesOf(fragment: Fragment): { sha256?: string; digest?: UrlDigest } {
  return { ...(fragment.sha256 === undefined ? {} : { sha256: fragment.sha256 }), ...(fragment.digest === undefined ? {} : { digest: fragment.digest }) };
}

/** A module is installed under its file name, which comes from a URL: it gets the checks of an archive entry. */
function moduleDest(file: string, shown: string): string {
  const checked = checkEntryPath(file);
  if (!checked.ok || checked.path.includes("/")) {
    throw new MpipError("bad-spec", `\`${printable(shown, 200)}\` names the file \`${printable(file, 100)}\`, which cannot be installed: ${checked.ok ? "it is not a plain file name" : checked.reason}`, {
      hint: "a module URL must end in a plain file name such as `mod.py`",
    });
  }
  return checked.path;
}

/** Whether an sdist's file name (`leaf-1.0.tar.gz`) says the project `name` (PEP 503 normalized). */
function fileNamesProject(file: string, name: string): boolean {
  const parsed = parseArchiveName(file);
  return parsed !== undefined && normalizeName(parsed.name) === normalizeName(name);
}

/**
 * Whether `url` (no fragment) is that of an sdist whose file name does not say the project `name` (a
 * forge's `archive/v1.0.tar.gz`): only `name @ URL` installs it as `name` (see sdistSpec).
 */
export function sdistUrlHidesProject(url: string, name: string): boolean {
  const parsed = parseUrl(url);
  const file = parsed === undefined ? "" : decodeURIComponentSafe(lastSegment(parsed.pathname));
  return SDIST_SUFFIX.test(file) && !fileNamesProject(file, name);
}

function lastSegment(pathname: string): string {
  return pathname.split("/").filter((segment) => segment !== "").pop() ?? "";
}

/** The name without its last suffix (`mod.py` -> `mod`); a leading dot starts no suffix (`.hidden` stays). */
function stem(file: string): string {
  return file.replace(/(?<=.)\.[^.]+$/, "");
}

/**
 * `org/repo/lib/foo/package.json` → `foo`: the folder the package lives in (`a.b.c` whole), or the stem of
 * a module or another JSON document (`lib/foo.py`, `lib/foo.json` → `foo`), as `nameFromFile` makes it a name.
 */
function displayName(pathname: string, shown: string): string {
  const segments = pathname.split(/[/\\]/).filter((segment) => segment !== "" && segment !== "package.json");
  const last = decodeURIComponentSafe(segments.pop() ?? "package");
  return nameFromFile(MODULE_SUFFIX.test(last) || /\.json$/i.test(last) ? stem(last) : last, shown);
}

/**
 * The project name of a package known only by a file or folder name (a module's stem, a package.json's
 * folder, a project folder): what its record's METADATA says and `mpip list` and `uninstall` take. The
 * record reader takes only mip's names (names.ts `isMipName`: `_private`, `foo.bar`), so a base that is
 * one stays as it is, and any other is made one (names.ts `mipNameFrom`: `my mod` -> `my-mod`,
 * `weird@name!` -> `weird-name`). Before, such a name went into the record as it was, and the
 * image's record of the package was then unreadable: listed as unrecorded files, never uninstalled.
 * Throws MpipError("bad-spec") when no ASCII letter or digit is left (`@@.py`, `日本.py`), naming `shown`.
 */
export function nameFromFile(base: string, shown: string): string {
  const name = mipNameFrom(base);
  if (name !== undefined) return name;
  throw new MpipError("bad-spec", `\`${printable(shown, 200)}\`: no project name can be made from \`${printable(base, 100)}\`, which has no ASCII letter or digit to name the package by`, {
    hint: "rename the file or folder to a name with ASCII letters or digits, such as `mymodule.py`",
  });
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
