// Credentials from a netrc file (`$NETRC`, else `~/.netrc`), as curl, pip and git read them:
// `machine HOST login USER password SECRET`, a `default` entry for any other host, and `macdef`
// blocks skipped. Parsing is pure; reading the file is one small function beside it.

import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface NetrcLogin {
  login: string;
  password: string;
}

export interface Netrc {
  /** By lower-case host name; the first entry for a host wins, as in curl. */
  machines: Map<string, NetrcLogin>;
  default?: NetrcLogin;
}

/** Tokens separated by white space; `"..."` quotes a token with spaces; `#` starts a comment line. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (/^\s*#/.test(line)) continue;
    if (/^\s*macdef\b/.test(line)) {
      // A macro runs to the next blank line; its body is not netrc syntax.
      while (index + 1 < lines.length && lines[index + 1]!.trim() !== "") index++;
      continue;
    }
    for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
      tokens.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2]!);
    }
  }
  return tokens;
}

export function parseNetrc(text: string): Netrc {
  const netrc: Netrc = { machines: new Map() };
  const tokens = tokenize(text);
  let current: { host: string | undefined; login: NetrcLogin } | undefined;
  const finish = () => {
    if (current === undefined) return;
    if (current.host === undefined) netrc.default ??= current.login;
    else if (!netrc.machines.has(current.host)) netrc.machines.set(current.host, current.login);
    current = undefined;
  };
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    switch (token) {
      case "machine":
        finish();
        current = { host: (tokens[++index] ?? "").toLowerCase(), login: { login: "", password: "" } };
        break;
      case "default":
        finish();
        current = { host: undefined, login: { login: "", password: "" } };
        break;
      case "login":
      case "password":
        if (current !== undefined) current.login[token] = tokens[++index] ?? "";
        else index++;
        break;
      case "account":
        index++;
        break;
      default:
        break; // unknown tokens are ignored, as curl does
    }
  }
  finish();
  return netrc;
}

/** The login for a host: its `machine` entry, else (when allowed) the `default` entry. */
export function netrcLogin(netrc: Netrc, host: string, useDefault: boolean): NetrcLogin | undefined {
  return netrc.machines.get(host.toLowerCase()) ?? (useDefault ? netrc.default : undefined);
}

export function netrcPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NETRC !== undefined && env.NETRC !== "") return env.NETRC;
  return path.join(env.HOME ?? os.homedir(), ".netrc");
}

/** The parsed netrc file, or undefined when there is none (or it cannot be read: `onProblem` is told why). */
export async function readNetrc(file: string, onProblem: (message: string) => void = () => {}): Promise<Netrc | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") onProblem(`ignoring \`${file}\`: cannot read it (${code ?? (error as Error).message})`);
    return undefined;
  }
  return parseNetrc(text);
}
