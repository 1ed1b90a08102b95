// mip's forge shorthands: `github:org/repo[/path][@ref]`, `gitlab:...`, `codeberg:...` become raw-file
// URLs exactly as mip's `_rewrite_url` builds them (micropython-lib's mip/mip/__init__.py), with the forge hosts
// overridable (mirrors, enterprise installs, tests). Org, repo and path segments are user or document
// input that ends up in a URL: each is checked and percent-encoded, so none can climb out of the repo.
// One form is mpip's own: a GitLab project inside subgroups, `gitlab:group/subgroup/project/-/path`,
// which mip's two-segment rule cannot name; `/-/` is where GitLab's own URLs end a project's path.

import { MpipError } from "../errors.js";
import { redactUrl } from "../http.js";
import { printable } from "../text.js";
import { encodeSegment, isWellFormed, parseUrl } from "../url.js";

/** Base URLs of the forges behind the shorthands. */
export interface GitHosts {
  github: string;
  gitlab: string;
  codeberg: string;
}

export type Forge = keyof GitHosts;

export const DEFAULT_GIT_HOSTS: Readonly<GitHosts> = Object.freeze({
  github: "https://raw.githubusercontent.com",
  gitlab: "https://gitlab.com",
  codeberg: "https://codeberg.org",
});

const ENV_NAMES: Record<Forge, string> = { github: "MPIP_GITHUB_URL", gitlab: "MPIP_GITLAB_URL", codeberg: "MPIP_CODEBERG_URL" };

const FORMS_HINT =
  "write `github:org/repo`, `github:org/repo/path/to/folder`, `github:org/repo/module.py` or `github:org/repo/package.json`, optionally followed by `@ref` (a branch, tag or commit); `gitlab:` and `codeberg:` work the same way, and a GitLab project inside subgroups is `gitlab:group/subgroup/project/-/path`";

/** GitLab ends a project's path with this segment in its URLs; in a `gitlab:` shorthand it does the same. */
const PROJECT_END = "-";

/** The forge hosts, with overrides from MPIP_GITHUB_URL, MPIP_GITLAB_URL and MPIP_CODEBERG_URL. */
export function gitHostsFromEnv(env: NodeJS.ProcessEnv = process.env): GitHosts {
  const hosts: GitHosts = { ...DEFAULT_GIT_HOSTS };
  for (const forge of Object.keys(ENV_NAMES) as Forge[]) {
    const value = env[ENV_NAMES[forge]];
    if (value === undefined || value === "") continue;
    hosts[forge] = checkHostUrl(forge, value);
  }
  return hosts;
}

function checkHostUrl(forge: Forge, value: string): string {
  const variable = ENV_NAMES[forge];
  const parsed = parseUrl(value);
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.search !== "" || parsed.hash !== "") {
    throw new MpipError("usage", `the environment variable \`${variable}\` is \`${printable(redactCredentials(value), 120)}\`, not an http or https base URL`, {
      hint: `set it to a base URL such as \`${DEFAULT_GIT_HOSTS[forge]}\` (without a query or fragment), or unset it`,
    });
  }
  return value.replace(/\/+$/, "");
}

/** A host URL may carry a user and password: never print them, even from a value that is no URL. */
function redactCredentials(value: string): string {
  const redacted = redactUrl(value);
  // Up to the last `@` before the path, as a URL parser splits a login from the host (`user:pa@ss@host`).
  return redacted === value ? value.replace(/^[^/]*@/, "***@") : redacted;
}

/** Whether `text` is a `github:`, `gitlab:` or `codeberg:` shorthand. */
export function isShorthand(text: string): boolean {
  return /^(github|gitlab|codeberg):/.test(text);
}

/**
 * Splits the `@ref` off a shorthand: the text after the last `@` that follows `org/repo`. Refs may
 * contain `/` (`feature/x`); an `@` inside the org or repo is no ref (and fails validation later).
 * Anything that is not a shorthand comes back whole: plain URLs carry no ref.
 */
export function splitRef(text: string): { spec: string; ref?: string } {
  if (!isShorthand(text)) return { spec: text };
  const colon = text.indexOf(":");
  const slash = text.indexOf("/", colon + 1);
  const at = text.lastIndexOf("@");
  if (slash < 0 || at < slash) return { spec: text };
  return { spec: text.slice(0, at), ref: text.slice(at + 1) };
}

/**
 * The URL of what a package spec names: as mip does, a path that does not end in `.py`, `.mpy` or
 * `.json` is a folder, whose `package.json` is meant.
 */
export function expandShorthand(spec: string, ref: string | undefined, hosts: GitHosts): string {
  const parsed = parseShorthand(spec);
  return shorthandUrl(parsed.forge, parsed.project, folderToPackageJson(parsed.path), checkRef(ref, spec), hosts);
}

/**
 * The URL of one file a shorthand names, with no `/package.json` rule: for `urls` entries of a package
 * document, which may name any file (mip's `_rewrite_url`).
 */
export function rewriteShorthand(spec: string, ref: string | undefined, hosts: GitHosts): string {
  const parsed = parseShorthand(spec);
  if (parsed.path.length === 0 || parsed.path.at(-1) === "") throw badSpec(spec, "it names a folder, not a file");
  return shorthandUrl(parsed.forge, parsed.project, parsed.path, checkRef(ref, spec), hosts);
}

/** A git ref and the repo it was asked for in: a spec's `@ref` applies to that repo only. */
export interface RepoRef {
  /** The repo, as `shorthandRepo` names it (`github:org/repo`). */
  repo: string;
  ref: string;
}

/**
 * The repo a shorthand names, as `forge:org/repo` (for GitLab, `gitlab:group/subgroup/project`),
 * lowercased since the forges match org and repo names without regard to case; undefined for text that
 * is no valid shorthand. Two shorthands name the same repo exactly when their `shorthandRepo` is equal.
 */
export function shorthandRepo(spec: string): string | undefined {
  try {
    const parsed = parseShorthand(splitRef(spec).spec);
    return `${parsed.forge}:${parsed.project.join("/").toLowerCase()}`;
  } catch (error) {
    if (error instanceof MpipError) return undefined;
    throw error;
  }
}

/**
 * The ref a shorthand is fetched at: its own `@ref`, else `inherited`'s ref when it names the same repo
 * (a spec's `@ref` reaches the files and dependencies of its own repo), else undefined (the default branch).
 */
export function refFor(spec: string, ownRef: string | undefined, inherited: RepoRef | undefined): string | undefined {
  if (ownRef !== undefined) return ownRef;
  return inherited !== undefined && shorthandRepo(spec) === inherited.repo ? inherited.ref : undefined;
}

/**
 * The error for a shorthand whose file answered 404 (`url`: where it was looked for): it says which file
 * was missing in which repo at which ref, and the hint shows the forms that name another place: a
 * subfolder, a ref, a single module, and for GitLab a project inside subgroups (with its raw URL).
 * `spec` is the shorthand without its ref; throws nothing itself, and an invalid `spec` gets a plain message.
 */
export function shorthandNotFound(spec: string, ref: string | undefined, url: string, hosts: GitHosts): MpipError {
  const shown = `\`${printable(ref === undefined ? spec : `${spec}@${ref}`, 200)}\``;
  const answered = `\`${printable(redactUrl(url), 300)}\` answered 404`;
  let parsed: Shorthand;
  try {
    parsed = parseShorthand(spec);
  } catch {
    return new MpipError("not-found", `${shown}: ${answered}`, { hint: FORMS_HINT });
  }
  const { forge, project, path } = parsed;
  const file = folderToPackageJson(path);
  const named = path.length > 0 && path.at(-1) !== ""; // a file named in the spec, not a folder's package.json
  const where = file.length === 1 ? `at the top of \`${printable(project.join("/"), 200)}\`` : `in \`${printable(project.join("/"), 200)}\``;
  const at = ref === undefined ? "on its default branch" : `at \`${printable(ref, 100)}\``;
  const repo = printable(`${forge}:${project.join("/")}`, 200);
  const hint = [
    "the repo, the ref or the file does not exist (or the repo is private); check them on the forge",
    named && /\.(py|mpy)$/.test(path.at(-1)!)
      ? `check the module's path in the repo (\`${repo}/path/to/module.py\`); at a branch, tag or commit, add \`@ref\` (\`${repo}/module.py@v1.0\`)`
      : `a package in a subfolder is \`${repo}/path/to/folder\`; at a branch, tag or commit, add \`@ref\` (\`${repo}@v1.0\`); a single module is \`${repo}/module.py\``,
  ];
  if (forge === "gitlab") hint.push(subgroupHint(project, path, ref, hosts));
  return new MpipError("not-found", `${shown}: there is no \`${printable(file.join("/"), 200)}\` ${where} ${at} (${answered})`, { hint });
}

/** GitLab projects may sit inside subgroups, which `gitlab:org/repo/...` reads as a repo and a path. */
function subgroupHint(project: string[], path: string[], ref: string | undefined, hosts: GitHosts): string {
  const generic = "a GitLab project inside subgroups is `gitlab:group/subgroup/project/-/path` (mip's `gitlab:` cannot name one)";
  const segments = path.at(-1) === "" ? path.slice(0, -1) : path;
  if (project.length > 2 || segments.length === 0) return generic;
  // Read the first path segment as the project, one subgroup deeper.
  const deeper = [...project, segments[0]!];
  const rest = segments.slice(1);
  const form = `gitlab:${deeper.join("/")}/-${rest.length === 0 ? "" : `/${rest.join("/")}`}${ref === undefined ? "" : `@${ref}`}`;
  const raw = shorthandUrl("gitlab", deeper, folderToPackageJson(rest), ref ?? "HEAD", hosts);
  return `if \`${printable(project.join("/"), 200)}\` is a group and a subgroup, write \`${printable(form, 300)}\`, or give the raw URL \`${printable(redactUrl(raw), 300)}\`; ${generic}`;
}

/** mip's rule for a plain URL: one that does not end in `.py`, `.mpy` or `.json` is a folder holding a `package.json`. */
export function withPackageJson(url: string): string {
  const parsed = parseUrl(url);
  // Not a URL: left as it is, for the request to fail with a message that names it.
  if (parsed === undefined || /\.(py|mpy|json)$/.test(parsed.pathname)) return url;
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/package.json`;
  return parsed.toString();
}

interface Shorthand {
  forge: Forge;
  /** The project's path: `[org, repo]`, or for GitLab `[group, subgroup..., project]`. */
  project: string[];
  /** Path segments inside the repo; a last "" means the path ended in `/`. */
  path: string[];
}

function parseShorthand(spec: string): Shorthand {
  const match = /^(github|gitlab|codeberg):(.*)$/s.exec(spec);
  if (match === null) throw badSpec(spec, "it does not start with `github:`, `gitlab:` or `codeberg:`");
  const forge = match[1] as Forge;
  const segments = match[2]!.split("/");
  const [org, repo] = segments;
  if (org === undefined || org === "" || repo === undefined || repo === "") throw badSpec(spec, "it does not name both an org (or user) and a repo");
  const end = forge === "gitlab" ? segments.indexOf(PROJECT_END) : -1;
  if (end >= 0 && end < 2) throw badSpec(spec, "its `/-/` (which ends a GitLab project's path) needs a group and a project before it");
  const project = end < 0 ? [org, repo] : segments.slice(0, end);
  const path = segments.slice(end < 0 ? 2 : end + 1);
  const all = [...project, ...path];
  for (const [index, segment] of all.entries()) {
    // A single trailing `/` is allowed: mip adds one before `package.json` anyway.
    if (segment === "" && index === all.length - 1 && index >= project.length) continue;
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw badSpec(spec, problem);
  }
  return { forge, project, path };
}

function segmentProblem(segment: string): string | undefined {
  if (segment === "") return "it has an empty path segment (`//`)";
  if (segment === "." || segment === "..") return `it has a \`${segment}\` path segment`;
  if (segment.includes("\\")) return "it contains a backslash";
  if (/[\0-\x1f\x7f-\x9f]/.test(segment)) return "it contains a control character";
  if (segment.includes("@")) return "it contains `@` outside a trailing `@ref`";
  if (!isWellFormed(segment)) return "it is not valid Unicode (a lone surrogate)";
  return undefined;
}

/** A folder path (nothing, a trailing `/`, or no .py/.mpy/.json suffix) gets `package.json`. */
function folderToPackageJson(path: string[]): string[] {
  const segments = path.at(-1) === "" ? path.slice(0, -1) : path;
  const last = segments.at(-1);
  return last !== undefined && /\.(py|mpy|json)$/.test(last) ? segments : [...segments, "package.json"];
}

function checkRef(ref: string | undefined, spec: string): string {
  if (ref === undefined) return "HEAD";
  const shown = `${spec}@${ref}`;
  if (ref === "") throw badSpec(shown, "`@` is not followed by a ref");
  // git's own rules forbid these in ref names, and each would change the URL's meaning.
  if (/[\0-\x20\x7f-\x9f\\?#~^:*[]/.test(ref) || !isWellFormed(ref)) throw badSpec(shown, "its ref contains a character git does not allow in ref names");
  if (ref.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) throw badSpec(shown, "its ref has an empty, `.` or `..` segment");
  return ref;
}

function shorthandUrl(forge: Forge, project: string[], path: string[], ref: string, hosts: GitHosts): string {
  const owner = project.map(encodeSegment).join("/");
  const file = path.map(encodeSegment).join("/");
  const refPath = ref.split("/").map(encodeSegment).join("/");
  const base = hosts[forge].replace(/\/+$/, "");
  switch (forge) {
    case "github":
      return `${base}/${owner}/${refPath}/${file}`;
    case "gitlab":
      return `${base}/${owner}/-/raw/${refPath}/${file}`;
    case "codeberg":
      return `${base}/api/v1/repos/${owner}/raw/${file}?ref=${encodeSegment(ref)}`;
    default:
      return exhaustive(forge);
  }
}

function badSpec(spec: string, problem: string): MpipError {
  return new MpipError("bad-spec", `\`${printable(spec, 200)}\` is not a valid repository shorthand: ${problem}`, { hint: FORMS_HINT });
}

function exhaustive(value: never): never {
  throw new Error(`unhandled forge ${String(value)}`);
}
