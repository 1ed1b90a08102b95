// How many connections mpip keeps open to one origin. Two kinds of server matter:
// - servers that keep connections alive (an index, a CDN, nginx): a level of dependencies is asked for
//   at once, and the connections it opened serve the next level;
// - servers that close after each answer and accept from a short queue (`python -m http.server` speaks
//   HTTP/1.0 and listens with a backlog of 5, the Linux queue then holding 6): every request needs a new
//   connection, and a burst of connection attempts beyond the queue is dropped by the kernel, each
//   dropped attempt waiting for TCP's SYN retry, about a second, in the middle of a level.
// So an origin gets at most 6 connections at once (as browsers allow a host) until it has shown that it
// keeps connections alive: by saying so in an answer (`Connection: keep-alive`, which nginx and Node's
// server send and `python -m http.server`, speaking HTTP/1.0, never does), or by answering more requests
// than mpip opened connections to it (one connection answered twice); from then on, up to 16. A server that closes after each answer never sees more than 6
// connection attempts at once; one that keeps them pays the lower cap only on its first requests. Where
// the server speaks HTTP/2, one connection carries every request and no cap is reached.
// The caps are undici's own (a pool per origin queues what it cannot send yet): requests go through one
// of two agents, the cautious or the open one, chosen by what the origin has shown so far; once it keeps
// connections alive, a request still takes an idle connection of the cautious agent where there is one
// (http.ts send), so that the switch opens no connection the cautious ones could have carried. Connections
// are counted where each origin's pool connects (http.ts), so that a proxy's tunnel to the origin counts
// as the connection to it that it is.

import type { buildConnector } from "undici";

/** Connections to an origin until it has kept one alive: as many as browsers open to a host, and as many as a backlog of 5 queues. */
export const CAUTIOUS_CONNECTIONS = 6;

/** Connections to an origin that keeps them alive. */
export const OPEN_CONNECTIONS = 16;

/** What mpip has seen of one origin. */
interface OriginState {
  /** Connections opened (attempts included). */
  opened: number;
  /** Answers received. */
  answered: number;
  /** It has answered more requests than connections were opened to it: it keeps them alive (for good). */
  keepsAlive: boolean;
}

/** What each origin has shown of its connections, for one HTTP client (see the top of this file). */
export class ConnectionPolicy {
  private readonly origins = new Map<string, OriginState>();

  /** `connector` (undici's), counting the connections it opens to each origin. */
  counting(connector: buildConnector.connector): buildConnector.connector {
    return (options, callback) => {
      this.state(originOf(options)).opened++;
      connector(options, callback);
    };
  }

  /**
   * Counts an answer from `origin` (`https://host:port`, as URL.origin gives it), with its `Connection`
   * header, if any. Said at the first answer, keeping connections alive spares the connections the
   * cautious agent opened and the next ones would replace: a 21-package install on a keep-alive server
   * opened 17 connections for 42 requests when it was learnt only from a connection answering twice.
   */
  answered(origin: string, connection?: string | string[]): void {
    const state = this.state(origin);
    state.answered++;
    if (state.answered > state.opened || saysKeepAlive(connection)) state.keepsAlive = true;
  }

  /** Whether `origin` has ever answered more requests than connections were opened to it: it keeps them alive. */
  keepsAlive(origin: string): boolean {
    return this.origins.get(origin)?.keepsAlive === true;
  }

  private state(origin: string): OriginState {
    let state = this.origins.get(origin);
    if (state === undefined) {
      state = { opened: 0, answered: 0, keepsAlive: false };
      this.origins.set(origin, state);
    }
    return state;
  }
}

/** Whether a `Connection` header (RFC 9110 §7.6.1: comma-separated options, any case) holds `keep-alive` and not `close`. */
function saysKeepAlive(connection: string | string[] | undefined): boolean {
  const options = (Array.isArray(connection) ? connection.join(",") : connection ?? "").split(",").map((option) => option.trim().toLowerCase());
  return options.includes("keep-alive") && !options.includes("close");
}

/** An origin as URL.origin writes it, from what undici gives a connector (default ports left out). */
function originOf(options: buildConnector.Options): string {
  const defaultPort = options.protocol === "https:" ? "443" : "80";
  const port = options.port === "" || options.port === defaultPort ? "" : `:${options.port}`;
  const host = options.hostname.includes(":") && !options.hostname.startsWith("[") ? `[${options.hostname}]` : options.hostname;
  return `${options.protocol}//${host}${port}`;
}
