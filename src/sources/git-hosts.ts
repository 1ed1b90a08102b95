// mip's forge shorthands: `github:org/repo[/path][@ref]`, `gitlab:...`, `codeberg:...` become raw-file
// URLs exactly as mip's `_rewrite_url` builds them (FORMATS.md section 4), with the forge hosts
// overridable (mirrors, enterprise installs, tests). Org, repo and path segments are user or document
// input that ends up in a URL: each is checked and percent-encoded, so none can climb out of the repo.

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
  "write `github:org/repo`, `github:org/repo/path/to/folder`, `github:org/repo/module.py` or `github:org/repo/package.json`, optionally followed by `@ref` (a branch, tag or commit); `gitlab:` and `codeberg:` work the same way";

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
  return redacted === value ? value.replace(/^[^/@]*@/, "***@") : redacted;
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
  return shorthandUrl(parsed.forge, parsed.org, parsed.repo, folderToPackageJson(parsed.path), checkRef(ref, spec), hosts);
}

/**
 * The URL of one file a shorthand names, with no `/package.json` rule: for `urls` entries of a package
 * document, which may name any file (mip's `_rewrite_url`).
 */
export function rewriteShorthand(spec: string, ref: string | undefined, hosts: GitHosts): string {
  const parsed = parseShorthand(spec);
  if (parsed.path.length === 0 || parsed.path.at(-1) === "") throw badSpec(spec, "it names a folder, not a file");
  return shorthandUrl(parsed.forge, parsed.org, parsed.repo, parsed.path, checkRef(ref, spec), hosts);
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
  org: string;
  repo: string;
  /** Path segments inside the repo; a last "" means the path ended in `/`. */
  path: string[];
}

function parseShorthand(spec: string): Shorthand {
  const match = /^(github|gitlab|codeberg):(.*)$/s.exec(spec);
  if (match === null) throw badSpec(spec, "it does not start with `github:`, `gitlab:` or `codeberg:`");
  const [org, repo, ...path] = match[2]!.split("/");
  if (org === undefined || org === "" || repo === undefined || repo === "") throw badSpec(spec, "it does not name both an org (or user) and a repo");
  for (const [index, segment] of [org, repo, ...path].entries()) {
    // A single trailing `/` is allowed: mip adds one before `package.json` anyway.
    if (segment === "" && index === path.length + 1 && index > 1) continue;
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw badSpec(spec, problem);
  }
  return { forge: match[1] as Forge, org, repo, path };
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

function shorthandUrl(forge: Forge, org: string, repo: string, path: string[], ref: string, hosts: GitHosts): string {
  const owner = `${encodeSegment(org)}/${encodeSegment(repo)}`;
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
