// The certificate authorities mpip trusts. By default Node's own (its bundled roots plus
// NODE_EXTRA_CA_CERTS, which Node reads at start-up). `--cert FILE` adds a PEM bundle to those; since
// giving undici a `ca` list replaces the defaults, the list is rebuilt: roots, NODE_EXTRA_CA_CERTS, FILE.

import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
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

/** undefined: keep Node's defaults. Otherwise the full list to trust. */
export async function trustedCertificates(certFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string[] | undefined> {
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
  const extra = env.NODE_EXTRA_CA_CERTS;
  // Node has already warned at start-up if this file is unreadable; it is optional here too.
  const fromEnv = extra ? ((await readFile(extra, "utf8").catch(() => "")).match(PEM_BLOCK) ?? []) : [];
  // node:tls (and node:net behind it) is loaded here, only for --cert: a run over plain HTTP needs neither.
  const { rootCertificates } = await import("node:tls");
  return [...rootCertificates, ...fromEnv, ...parsePemBundle(text, certFile)];
}
