// Network faults the test index server can inject per route: each is a different way a real server or
// network lets a client down. `applyFault` writes one faulty response in place of the normal reply.
import type { IncomingMessage, ServerResponse } from "node:http";

export type Fault =
  /** Answer this status instead (with an optional `Retry-After`: seconds or an HTTP date). */
  | { type: "status"; status: number; retryAfter?: string }
  /** Wait, then send the normal reply (longer than the client's timeout: no headers in time). */
  | { type: "delay"; ms: number }
  /** Send part of the body, then end the socket: Content-Length declares more, or chunked encoding is left unfinished. */
  | { type: "truncate"; sendBytes?: number; chunked?: boolean }
  /** Reset the connection (TCP RST) before any header, or after the headers and part of the body. */
  | { type: "reset"; when: "before-headers" | "after-headers" }
  /** Serve bytes that differ from the advertised sha256 (same length, one byte flipped). */
  | { type: "wrong-digest" }
  /** Redirect to the very same URL, forever. */
  | { type: "redirect-loop" }
  /** Redirect elsewhere: a fixed URL, or one computed from the request path. */
  | { type: "redirect"; to: string | ((path: string) => string); status?: number }
  /** Send the body a few bytes at a time. */
  | { type: "trickle"; chunkBytes: number; intervalMs: number }
  /** Send the headers, then nothing: the body never comes (until the server closes). */
  | { type: "stall" };

export type FaultType = Fault["type"];

export interface FaultRequest {
  /** The matched route's name ("project", "version", "file"), undefined when no route matched. */
  route: string | undefined;
  path: string;
  req: IncomingMessage;
}

export type FaultMatcher = string | ((request: FaultRequest) => boolean);

export interface FaultHandle {
  /** How many responses this fault has spoiled so far. */
  readonly hits: number;
  remove(): void;
}

export interface FaultRule {
  match: FaultMatcher;
  fault: Fault;
  /** How many more times it applies; Infinity when not limited. */
  remaining: number;
  hits: number;
}

export interface FaultReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface FaultTools {
  sleep(ms: number): Promise<void>;
  /** Sends a reply normally (used after a delay). */
  send(res: ServerResponse, reply: FaultReply): Promise<void>;
}

/** The first rule that matches and still has uses left; it is consumed. */
export function takeFault(rules: FaultRule[], request: FaultRequest): Fault | undefined {
  for (const rule of rules) {
    if (rule.remaining <= 0) continue;
    const matches = typeof rule.match === "string" ? rule.match === request.route : rule.match(request);
    if (!matches) continue;
    rule.remaining -= 1;
    rule.hits += 1;
    return rule.fault;
  }
  return undefined;
}

export async function applyFault(req: IncomingMessage, res: ServerResponse, reply: FaultReply, fault: Fault, tools: FaultTools): Promise<void> {
  const socket = res.socket;
  switch (fault.type) {
    case "status": {
      const headers: Record<string, string> = { "Content-Type": "text/plain" };
      if (fault.retryAfter !== undefined) headers["Retry-After"] = fault.retryAfter;
      return tools.send(res, { status: fault.status, headers, body: Buffer.from(`fault: HTTP ${fault.status}\n`) });
    }
    case "delay":
      await tools.sleep(fault.ms);
      return tools.send(res, reply);
    case "truncate": {
      const sent = Math.min(fault.sendBytes ?? Math.floor(reply.body.length / 2), Math.max(reply.body.length - 1, 0));
      if (fault.chunked) res.writeHead(reply.status, reply.headers);
      else res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(reply.body.length) });
      res.write(reply.body.subarray(0, sent));
      // Let the partial body leave, then close our side: the response is never completed.
      await tools.sleep(20);
      socket?.end();
      return;
    }
    case "reset":
      if (fault.when === "after-headers") {
        res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(reply.body.length) });
        res.write(reply.body.subarray(0, Math.floor(reply.body.length / 2)));
        await tools.sleep(20);
      }
      socket?.resetAndDestroy();
      return;
    case "wrong-digest": {
      const body = Buffer.from(reply.body);
      if (body.length > 0) body[Math.floor(body.length / 2)]! ^= 0xff;
      return tools.send(res, { ...reply, body });
    }
    case "redirect-loop":
      return tools.send(res, { status: 302, headers: { Location: req.url ?? "/" }, body: Buffer.alloc(0) });
    case "redirect": {
      const location = typeof fault.to === "string" ? fault.to : fault.to((req.url ?? "/").split("?")[0]!);
      return tools.send(res, { status: fault.status ?? 302, headers: { Location: location }, body: Buffer.alloc(0) });
    }
    case "trickle": {
      res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(reply.body.length) });
      for (let offset = 0; offset < reply.body.length && !res.destroyed; offset += fault.chunkBytes) {
        res.write(reply.body.subarray(offset, offset + fault.chunkBytes));
        await tools.sleep(fault.intervalMs);
      }
      res.end();
      return;
    }
    case "stall":
      res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(reply.body.length) });
      res.flushHeaders();
      return; // the server's close() ends the connection
    default: {
      const never: never = fault;
      throw new Error(`unknown fault ${JSON.stringify(never)}`);
    }
  }
}
