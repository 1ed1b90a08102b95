// The certificate authorities mpip trusts. By default Node's own: its bundled roots (or OpenSSL's store,
// with `--use-openssl-ca`) plus NODE_EXTRA_CA_CERTS, which Node reads at start-up. `--cert FILE` adds a PEM
// bundle to those, in one TLS context made for the run, which every connection shares (given to undici
// as a `ca` list instead, it would be parsed again for each connection, and copied whole by each agent):
// - where Node's contexts take added certificates (`addCACert` of a context's native handle, which is
//   how Node's own `tls.createSecureContext({ ca })` adds each one; not part of Node's documented API, so
//   used only where it is there): Node's default context, with NODE_EXTRA_CA_CERTS and then the file
//   added to it. The roots are not parsed again (Node's default store is copied, already parsed), and
//   NODE_EXTRA_CA_CERTS is read as Node reads it: every certificate up to the first that does not parse,
//   `X509 CERTIFICATE` blocks too. It is added again because Node 20 copies the store without it;
// - otherwise the documented way, a `ca` list, which replaces the defaults and so is rebuilt: Node's
//   bundled roots, NODE_EXTRA_CA_CERTS, FILE. That parses the 140-odd roots again (~50 ms of CPU).

import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import type { SecureContext } from "node:tls";
import { MpipError } from "../errors.js";
import { readOnce } from "../read-once.js";
import { printable } from "../text.js";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
/** The largest --cert file read: a bundle of every public root is under 1 MiB. */
export const MAX_CERT_FILE_BYTES = 16 * 1024 * 1024;

/** The certificates of a PEM bundle, each checked to parse; an error names the file if none does. */
export function parsePemBundle(text: string, file: string): string[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new MpipError("usage", `\`${printable(file)}\` holds no PEM certificate (no \`-----BEGIN CERTIFICATE-----\` block)`, {
      hint: "pass a PEM bundle with --cert, e.g. the CA certificate your index's certificate is signed by (a DER file converts with `openssl x509 -inform der -in FILE -out FILE.pem`)",
    });
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new MpipError("usage", `certificate ${index + 1} in \`${printable(file)}\` is not valid (${(error as Error).message})`, {
        cause: error,
        hint: "each `-----BEGIN CERTIFICATE-----` block must hold a whole certificate: check that block, or export the certificate again",
      });
    }
  });
  return blocks;
}

/** The --cert bundles read in this run, by path: the command checks the file and the HTTP client uses it. */
const bundles = new Map<string, Promise<string[]>>();

/**
 * The certificates of the --cert file `file`, read and checked once per run (later calls share the first).
 * @throws MpipError `usage` when it cannot be read, is larger than MAX_CERT_FILE_BYTES, or holds no valid
 * certificate (parsePemBundle); `interrupted` when `signal` aborts the wait on a pipe (readOnce).
 */
export function readCertBundle(file: string, signal?: AbortSignal): Promise<string[]> {
  let bundle = bundles.get(file);
  if (bundle === undefined) {
    bundle = readBundle(file, signal);
    bundles.set(file, bundle);
  }
  return bundle;
}

async function readBundle(file: string, signal: AbortSignal | undefined): Promise<string[]> {
  const unreadable = (reason: string, cause?: unknown) =>
    new MpipError("usage", `cannot read the --cert file \`${printable(file)}\` (${reason})`, {
      ...(cause === undefined ? {} : { cause }),
      hint: "pass the path of a PEM file holding the certificate authority to trust, one that you can read",
    });
  const tooLarge = (size: string) => unreadable(`${size} the ${MAX_CERT_FILE_BYTES / 1024 / 1024} MiB a certificate bundle may be`);
  let text: string;
  try {
    const info = await stat(file);
    // A pipe (`--cert <(cat ca.pem)`, `/dev/stdin`) or a device gives its bytes once, and says no size first.
    if (info.isFIFO() || info.isCharacterDevice()) {
      const bytes = await readOnce(file, MAX_CERT_FILE_BYTES, signal);
      if (bytes === undefined) throw tooLarge("it gave more than");
      text = bytes.toString("utf8");
    } else {
      if (info.size > MAX_CERT_FILE_BYTES) throw tooLarge(`it is ${Math.ceil(info.size / 1024 / 1024)} MiB, more than`);
      text = await readFile(file, "utf8");
    }
  } catch (error) {
    if (error instanceof MpipError) throw error;
    throw unreadable((error as NodeJS.ErrnoException).code ?? (error as Error).message, error);
  }
  return parsePemBundle(text, file);
}

/**
 * The TLS context connections are made with: undefined without `certFile` (Node's defaults), otherwise one
 * that trusts what Node trusts and the PEM bundle `certFile`, made once for the run.
 * @throws MpipError `usage` as readCertBundle.
 */
export async function trustedContext(certFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<SecureContext | undefined> {
  if (certFile === undefined) return undefined;
  const added = await readCertBundle(certFile);
  // node:tls (and node:net behind it) is loaded here, only for --cert: a run over plain HTTP needs neither.
  const tls = await import("node:tls");
  return (await extendedDefaultContext(tls, added, env)) ?? (await listedContext(tls, added, env));
}

/** The native handle of a TLS context, as far as it is used here. */
interface NativeContext {
  addCACert?: (pem: string | Buffer) => void;
}

/**
 * Node's default TLS context (its roots, or OpenSSL's store) with NODE_EXTRA_CA_CERTS (in `env`) and
 * `added` (PEM certificates) trusted too; undefined where this Node's contexts take no added certificate.
 */
export async function extendedDefaultContext(tls: typeof import("node:tls"), added: string[], env: NodeJS.ProcessEnv = process.env): Promise<SecureContext | undefined> {
  const context = tls.createSecureContext();
  const native = (context as SecureContext & { context?: NativeContext }).context;
  if (typeof native?.addCACert !== "function") return undefined;
  // As Node reads it: certificates up to the first that does not parse; an unreadable file adds nothing
  // (Node has warned of it at start-up).
  const extra = await extraCertificates(env);
  if (extra !== undefined && extra.length > 0) native.addCACert(extra);
  for (const pem of added) native.addCACert(pem);
  return context;
}

/** A TLS context from the whole list: Node's bundled roots, NODE_EXTRA_CA_CERTS in `env`, then `added` (PEM certificates). */
export async function listedContext(tls: typeof import("node:tls"), added: string[], env: NodeJS.ProcessEnv = process.env): Promise<SecureContext> {
  const extra = (await extraCertificates(env))?.toString("latin1").match(PEM_BLOCK) ?? [];
  // Node takes the certificates up to the first that does not parse; so does this list.
  const firstBad = extra.findIndex((block) => {
    try {
      new X509Certificate(block);
      return false;
    } catch {
      return true;
    }
  });
  return tls.createSecureContext({ ca: [...tls.rootCertificates, ...(firstBad < 0 ? extra : extra.slice(0, firstBad)), ...added] });
}

/** The bytes of the NODE_EXTRA_CA_CERTS file in `env`; undefined when it is unset or cannot be read. */
async function extraCertificates(env: NodeJS.ProcessEnv): Promise<Buffer | undefined> {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (file === undefined || file === "") return undefined;
  return readFile(file).catch(() => undefined);
}
