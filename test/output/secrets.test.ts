// Credentials never reach the output. An index URL with a password or token, from the command line, an
// MPIP_* variable or a requirement file (`${VAR}` expanded), runs through succeeding and failing installs
// (-v, --json, --dry-run, usage errors that echo a value, errors about indexes, files and specs), and all
// they print, stdout and stderr, is searched for the secret in every form it was given.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXAMPLE_USERINFO, redactSecrets, rememberCredentials } from "../../src/secrets.js";
import { printable } from "../../src/text.js";
import { runMpip, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";

const USER = "builder";
const TOKEN = "tok-9f8e7d6c5b4a-SECRET";
/** The same token as a URL carries it percent-encoded, and a user-only token (GitHub's form). */
const ENCODED = "tok%2D9f8e7d6c5b4a%2DSECRET";
const LONE = "ghp_0123456789abcdefLONE";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
/** The index with credentials: `http://builder:TOKEN@127.0.0.1:PORT/pypi`. */
let authed: string;
const freshTarget = () => path.join(work.dir, `image-${++counter}`);

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-secrets-");
  await server.addSdist({ name: "vault", version: "1.0", files: { "vault.py": "" }, requires: ["hinge"] });
  await server.addSdist({ name: "hinge", version: "1.0", files: { "hinge.py": "" } });
  server.requireAuth(USER, TOKEN);
  authed = server.url.replace("http://", `http://${USER}:${TOKEN}@`);
});
after(async () => {
  await server.close();
  await work.cleanup();
});

/** Runs mpip and fails if anything it printed holds a secret, in any of its forms. */
async function leakFree(args: string[], env: NodeJS.ProcessEnv = {}, expectCode?: number): Promise<string> {
  const result = await runMpip(args, { env, cwd: work.dir });
  const output = `${result.stdout}\n${result.stderr}`;
  for (const secret of [TOKEN, ENCODED, LONE, "9f8e7d6c5b4a"]) assert.ok(!output.includes(secret), `${secret} printed by mpip ${args.join(" ")}:\n${output}`);
  if (expectCode !== undefined) assert.equal(result.code, expectCode, output);
  return output;
}

describe("no output shows a credential", () => {
  test("succeeding installs: -v, --json, --dry-run, from the command line and from the environment", async () => {
    const verbose = await leakFree(["install", "-v", "-i", authed, "-p", freshTarget(), "vault"], {}, 0);
    assert.match(verbose, /\*\*\*@127\.0\.0\.1/);
    const json = await leakFree(["install", "--json", "-p", freshTarget(), "vault"], { MPIP_INDEX_URL: authed }, 0);
    assert.match(json, /"ok": true/);
    await leakFree(["install", "--dry-run", "-v", "-p", freshTarget(), "vault"], { MPIP_INDEX_URL: server.url.replace("http://", `http://${USER}:${ENCODED}@`) }, 0);
    const file = path.join(work.dir, "private.txt");
    await writeFile(file, `-i http://${USER}:\${VAULT_TOKEN}@${server.url.slice("http://".length)}\nvault\n`);
    await leakFree(["install", "-v", "--json", "-p", freshTarget(), "-r", file], { VAULT_TOKEN: TOKEN }, 0);
  });

  test("the hints that show where credentials go show it: an index without a scheme", async () => {
    const output = await leakFree(["install", "-p", freshTarget(), "-i", "example.com/pypi", "vault"], {}, 2);
    assert.match(output, /^hint: for a URL, add the scheme \(e\.g\. `-i https:\/\/user:token@host\/pypi`\)/m);
  });

  test("usage errors that echo a value: a bad MPIP_* value, an unknown option, a bad option value, a URL where a path is taken", async () => {
    const runs: Array<[string[], NodeJS.ProcessEnv]> = [
      [["install", "vault"], { MPIP_INDEX_URL: authed, MPIP_JOBS: "lots" }],
      [["install", "vault"], { MPIP_JOBS: authed }],
      [["install", "vault"], { MPIP_EXTRA_INDEX_URL: `'${authed}`, MPIP_INDEX_URL: authed }],
      [["install", "--json", "vault"], { MPIP_NO_DEPS: authed }],
      [["install", `--index-uri=${authed}`, "vault"], {}],
      [["install", "--timeout", authed, "vault"], {}],
      [["install", "-j", authed, "vault"], { MPIP_JSON: "1" }],
      [["install", "-f", `${authed}/links`, "vault"], {}],
      [["install", "-r", `${authed}/requirements.txt`], {}],
      [["install", "-c", `${authed}/constraints.txt`, "vault"], {}],
      [["install", "--cert", `${authed}/ca.pem`, "vault"], {}],
      [["install", "-p", `http://${LONE}@host.example/mnt`, "vault"], {}],
      [["install", "-i", authed.replace("http://", "ftp://"), "vault"], {}],
      [["instal", authed], {}],
      // A raw `@` inside a password: everything before the host's `@` is the login, and none of it is shown.
      [["install", "-p", `http://${USER}:opening@${TOKEN}@host.example/mnt`, "vault"], {}],
      [["install", "vault"], { HTTP_PROXY: `${USER}:opening@${TOKEN}@proxy.example:3128` }],
      [["install", "vault"], { MPIP_GITHUB_URL: `${USER}:opening@${TOKEN}@raw.example` }],
    ];
    for (const [args, env] of runs) await leakFree(args, env, 2);
  });

  test("failing installs: a wrong password, a missing package, a bad spec or file line, a digest mismatch", async () => {
    const wrong = server.url.replace("http://", `http://${USER}:${TOKEN}-wrong@`);
    await leakFree(["install", "--retries", "0", "-i", wrong, "-p", freshTarget(), "vault"], {}, 1);
    await leakFree(["install", "-v", "-i", authed, "-p", freshTarget(), "no-such-vault"], {}, 1);
    await leakFree(["install", "-p", freshTarget(), `vault @ ftp://${USER}:${TOKEN}@host.example/vault.tar.gz`], {}, 2);
    await leakFree(["install", "-p", freshTarget(), `${authed.replace("/pypi", "")}/files/vault/1.0/vault-1.0.tar.gz#sha256=${"0".repeat(64)}`], {}, 1);
    await leakFree(["install", "-p", freshTarget(), `http://${LONE}@127.0.0.1:9/vault-1.0.tar.gz`, "--retries", "0"], {}, 1);
    const file = path.join(work.dir, "broken.txt");
    await writeFile(file, `vault\n-i http://${USER}:\${VAULT_TOKEN}@${server.url.slice("http://".length)}\nhinge --pre\n`);
    await leakFree(["install", "-p", freshTarget(), "-r", file], { VAULT_TOKEN: TOKEN }, 2);
    await writeFile(file, `-i http://${USER}:\${VAULT_TOKEN}@${server.url.slice("http://".length)}\nmissing-vault-part\n`);
    await leakFree(["install", "--json", "-p", freshTarget(), "-r", file], { VAULT_TOKEN: TOKEN }, 1);
    await writeFile(file, `-i ftp://${USER}:\${VAULT_TOKEN}@host.example/simple\nvault\n`);
    await leakFree(["install", "-p", freshTarget(), "-r", file], { VAULT_TOKEN: TOKEN }, 2);
  });
});

describe("redactSecrets", () => {
  test("the userinfo of every URL in a text, and each remembered credential wherever it stands", () => {
    assert.equal(redactSecrets("GET https://u:p@h/x and simple+https://tok@h2/s, not a@b or https://h/p@1"), "GET https://***@h/x and simple+https://***@h2/s, not a@b or https://h/p@1");
    rememberCredentials("see https://ci:remembered%2Dtoken-1@idx.example/simple and http://short@h/");
    assert.equal(redactSecrets("401 for remembered-token-1 (remembered%2Dtoken-1)"), "401 for *** (***)");
    assert.equal(redactSecrets("short stays"), "short stays", "a credential under 8 characters is only removed from URLs");
    // A raw `@` in a password: the host is after the last `@` (as URL parsers read it), and all before it goes.
    assert.equal(redactSecrets("`https://user:abcdefgh@ijklmnop@example.com/x` is a URL; see https://h/a@b"), "`https://***@example.com/x` is a URL; see https://h/a@b");
    rememberCredentials("https://ci:first-half@second-half@idx.example/simple");
    assert.equal(redactSecrets("401 for first-half@second-half"), "401 for ***");
    // The placeholder of mpip's own examples (EXAMPLE_USERINFO) shows where credentials go; anything else is hidden.
    assert.equal(redactSecrets(`e.g. \`-i https://${EXAMPLE_USERINFO}@host/pypi\``), "e.g. `-i https://user:token@host/pypi`");
    for (const near of ["user:token1", "user:tok", "users:token", "user:token:x", "token", "user"]) {
      assert.equal(redactSecrets(`https://${near}@host/pypi`), "https://***@host/pypi", near);
    }
    // Redacted before a long text is cut, so no cut leaves part of a token.
    const long = `https://user:${"x".repeat(300)}@host/simple`;
    assert.equal(printable(long, 60), "https://***@host/simple");
  });
});
