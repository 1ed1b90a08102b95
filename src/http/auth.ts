// Who gets which credentials. Credentials written in a URL (`https://user:token@host/...`) belong to
// that URL's origin (scheme, host and port) and are sent to it on every request, as pip does, so the
// files of a private index download with the index's login. A netrc `machine` entry belongs to its
// host. Nothing is ever sent to another origin: a redirect elsewhere goes without, and netrc's
// `default` entry is used only for the hosts the user named (the index URLs), never for a host that an
// index document or a redirect names. Credentials remembered for an origin are never replaced by ones a
// document or a redirect carries.

import { netrcLogin, netrcPath, readNetrc, type Netrc } from "../netrc.js";
import { decodePercent } from "../url.js";

export class Credentials {
  private readonly byOrigin = new Map<string, string>();
  private netrc: Promise<Netrc | undefined> | undefined;

  constructor(
    private readonly onProblem: (message: string) => void = () => {},
    private readonly trustedHosts: readonly string[] = [],
  ) {}

  /** A copy of `url` without user and password; those are remembered for its origin. */
  take(url: URL): URL {
    const bare = new URL(url);
    if (url.username === "" && url.password === "") return bare;
    const login = `${decodePercent(url.username)}:${decodePercent(url.password)}`;
    if (!this.byOrigin.has(bare.origin)) this.byOrigin.set(bare.origin, basic(login));
    bare.username = "";
    bare.password = "";
    return bare;
  }

  /** The Authorization header for a URL without credentials, if any belongs to its origin. */
  async authorization(url: URL, isRedirect: boolean): Promise<string | undefined> {
    const remembered = this.byOrigin.get(url.origin);
    if (remembered !== undefined) return remembered;
    this.netrc ??= readNetrc(netrcPath(), this.onProblem);
    const netrc = await this.netrc;
    if (netrc === undefined) return undefined;
    const login = netrcLogin(netrc, url.hostname, !isRedirect && this.trustedHosts.includes(url.hostname));
    return login === undefined ? undefined : basic(`${login.login}:${login.password}`);
  }
}

function basic(login: string): string {
  return `Basic ${Buffer.from(login).toString("base64")}`;
}
