// A certificate authority made at test time with `openssl`, and a server certificate it signed for
// 127.0.0.1 and localhost: an https index that only a client trusting this CA accepts.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestPki {
  /** The CA certificate (PEM), and the file holding it. */
  caPem: string;
  caFile: string;
  /** The server's key and certificate (PEM). */
  key: string;
  cert: string;
}

/** Writes a CA and a server certificate into `dir` (EC P-256 keys: quick to make). */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl("req", "-x509", ...ecKey, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=mpip test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  await openssl("req", "-new", ...ecKey, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1");
  await writeFile(file("server.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl("x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-out", file("server.pem"), "-days", "2", "-extfile", file("server.ext"));
  return {
    caPem: await readFile(file("ca.pem"), "utf8"),
    caFile: file("ca.pem"),
    key: await readFile(file("server.key"), "utf8"),
    cert: await readFile(file("server.pem"), "utf8"),
  };
}
