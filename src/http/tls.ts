// The certificate authorities mpip trusts. By default Node's own: its bundled roots plus
// NODE_EXTRA_CA_CERTS, which Node reads at start-up. `--cert FILE` adds a PEM bundle to those; since
// giving a `ca` list replaces the defaults, the list is rebuilt: roots, NODE_EXTRA_CA_CERTS, FILE.
//
// That list is parsed into one TLS context for the run, which every connection shares. Parsing it takes
// ~50 ms of CPU for Node's 140-odd roots, as much again for a system bundle in NODE_EXTRA_CA_CERTS: given
// to undici as a `ca` list instead, it would be parsed again for each connection, and copied whole by
// each undici agent made with it.

import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { SecureContext } from "node:tls";
import { MpipError } from "../errors.js";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, each checked to parse; an error names the file if none does. */
export function parsePemBundle(text: string, file: string): string[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new MpipError("usage", `\`${file}\` holds no PEM certificate (no \`-----BEGIN CERTIFICATE-----\` block)`, {
      hint: "pass a PEM bundle with --cert, e.g. the CA certificate your index's certificate is signed by",
    });
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new MpipError("usage", `certificate ${index + 1} in \`${file}\` is not valid (${(error as Error).message})`, { cause: error });
    }
  });
  return blocks;
}

/**
 * The TLS context connections are made with: undefined without `certFile` (Node's defaults), otherwise one
 * that trusts Node's roots, NODE_EXTRA_CA_CERTS and the PEM bundle `certFile`, made once for the run.
 * @throws MpipError `usage` when `certFile` cannot be read or holds no valid certificate.
 */
export async function trustedContext(certFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<SecureContext | undefined> {
  if (certFile === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(certFile, "utf8");
  } catch (error) {
    throw new MpipError("usage", `cannot read the --cert file \`${certFile}\` (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      cause: error,
      hint: "pass the path of a PEM file holding the certificate authority to trust",
    });
  }
  const added = parsePemBundle(text, certFile);
  // node:tls (and node:net behind it) is loaded here, only for --cert: a run over plain HTTP needs neither.
  return listedContext(await import("node:tls"), added, env);
}

/** A TLS context from the whole list: Node's roots, NODE_EXTRA_CA_CERTS in `env`, then `added` (PEM certificates). */
export async function listedContext(tls: typeof import("node:tls"), added: string[], env: NodeJS.ProcessEnv = process.env): Promise<SecureContext> {
  const extra = env.NODE_EXTRA_CA_CERTS;
  // Node has already warned at start-up if this file is unreadable or holds a certificate it refused; it is
  // optional here too, and only what Node could parse is taken.
  const fromEnv = extra ? ((await readFile(extra, "utf8").catch(() => "")).match(PEM_BLOCK) ?? []) : [];
  try {
    return tls.createSecureContext({ ca: [...tls.rootCertificates, ...fromEnv, ...added] });
  } catch {
    // A block of NODE_EXTRA_CA_CERTS that does not parse (the --cert file's were each checked): without it.
    const parsed = fromEnv.filter((block) => {
      try {
        new X509Certificate(block);
        return true;
      } catch {
        return false;
      }
    });
    return tls.createSecureContext({ ca: [...tls.rootCertificates, ...parsed, ...added] });
  }
}
