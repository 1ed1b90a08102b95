// Credentials in a URL's query string (`?private_token=`, a presigned URL's `X-Amz-Signature=`, an Azure
// SAS `sig=`) are written `***` wherever a URL is printed: errors and hints, -v lines, the install summary,
// --json reports and install records; whether the URL came from the command line or from a redirect the
// server sent. A lock keeps them (it must stay installable), and installs from them.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { redactSecrets } from "../../src/secrets.js";
import { redactUrl } from "../../src/http.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { runMpip, tempDir } from "../helpers/cli.js";

const SIGNATURE = "5f3a9c0e7d1b2a4c6e8f0a1b3c5d7e9f";
const CREDENTIAL = "AKIAEXAMPLEKEY0001";
const TOKEN = "glpat-Zq81xYw72vUt";
const SIGNED = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${CREDENTIAL}%2F20250101&X-Amz-Signature=${SIGNATURE}`;

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
let file: string;

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-query-");
  await server.addSdist({ name: "tool", version: "1.0", files: { "tool.py": "X = 1\n" } });
  file = `${server.origin}/files/tool/1.0/tool-1.0.tar.gz`;
  // A release asset served through a presigned URL, as GitHub's and many CDNs' downloads are: the
  // signature is in the redirect, never in what mpip was given.
  server.routes.unshift({
    name: "presigned",
    pattern: /^\/assets\/(.+)$/,
    handle: ({ match }) => ({ status: 302, headers: { Location: `/files/tool/1.0/${match[1]}?${SIGNED}` } }),
  });
  // An index whose documents are served the same way, one of them broken.
  server.routes.unshift({ name: "signed-index", pattern: /^\/signed\/([^/]+)\/json$/, handle: ({ match }) => ({ status: 302, headers: { Location: `/store/${match[1]}.json?${SIGNED}` } }) });
  server.routes.unshift({ name: "store", pattern: /^\/store\/([^/]+)\.json$/, handle: () => ({ status: 200, headers: { "Content-Type": "application/json" }, body: Buffer.from('{"info": {"name": 7}}') }) });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

async function run(args: string[], code: number): Promise<string> {
  const result = await runMpip(args, { cwd: work.dir });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.code, code, output);
  for (const secret of [SIGNATURE, CREDENTIAL, TOKEN]) assert.ok(!output.includes(secret), `${secret} printed by mpip ${args.join(" ")}:\n${output}`);
  return output;
}

async function treeText(dir: string): Promise<string> {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(names.filter((entry) => entry.isFile()).map((entry) => readFile(path.join(entry.parentPath, entry.name), "latin1")));
  return texts.join("\n");
}

describe("credentials in a URL's query string", () => {
  test("which names carry a credential: tokens, keys, signatures; other parameters are kept", () => {
    assert.equal(redactUrl(`https://u:p@h/x.tar.gz?private_token=${TOKEN}&ref=main`), "https://***@h/x.tar.gz?private_token=***&ref=main");
    assert.equal(redactSecrets(`got \`https://b.s3.example/f?X-Amz-Credential=${CREDENTIAL}&X-Amz-Signature=${SIGNATURE}&X-Amz-Expires=60\`.`), "got `https://b.s3.example/f?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=60`.");
    for (const name of ["token", "access_token", "job_token", "api-key", "sig", "Signature", "X-Goog-Signature", "x-amz-security-token", "password", "client_secret"]) {
      assert.equal(redactSecrets(`https://h/f?${name}=${TOKEN}#sha256=ab`), `https://h/f?${name}=***#sha256=ab`, name);
    }
    for (const text of ["https://h/f?ref=main&v=2", "https://h/f?monkey=1&keyboard=2", "a=b and key words"]) assert.equal(redactSecrets(text), text);
    // A name percent-encoded is the same name to the server.
    for (const name of ["%74oken", "access%5Ftoken", "%73ig", "X-Amz-Signatur%65"]) {
      assert.equal(redactSecrets(`https://h/f?${name}=${TOKEN}&ref=main`), `https://h/f?${name}=***&ref=main`, name);
    }
    assert.equal(redactSecrets("https://h/f?%zz=1&%6Donkey=2"), "https://h/f?%zz=1&%6Donkey=2");
  });

  test("a URL given on the command line: -v, the summary, --json and the install record never show it", async () => {
    const target = path.join(work.dir, `t${++counter}`);
    const url = `${file}?private_token=${TOKEN}`;
    const verbose = await run(["install", "-v", "-p", target, url], 0);
    assert.match(verbose, /private_token=\*\*\*/);
    const json = await run(["install", "--json", "--force-reinstall", "-p", target, url], 0);
    assert.match(json, /"url": "[^"]*private_token=\*\*\*/);
    assert.ok(!(await treeText(target)).includes(TOKEN), "the install record holds the token");
  });

  test("a presigned URL a redirect leads to: the install, and the error naming a broken document there", async () => {
    const target = path.join(work.dir, `t${++counter}`);
    await run(["install", "-v", "--json", "-p", target, `${server.origin}/assets/tool-1.0.tar.gz`], 0);
    assert.deepEqual((await readdir(target)).filter((name) => name.endsWith(".py")), ["tool.py"]);
    assert.ok(!(await treeText(target)).includes(SIGNATURE));
    const broken = await run(["install", "-v", "-p", path.join(work.dir, `t${++counter}`), "-i", `pypi+${server.origin}/signed`, "tool"], 1);
    assert.match(broken, /store\/tool\.json\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\*\*\*&X-Amz-Signature=\*\*\*/);
    const json = await run(["install", "--json", "-p", path.join(work.dir, `t${++counter}`), "-i", `pypi+${server.origin}/signed`, "tool"], 1);
    assert.match(json, /X-Amz-Signature=\*\*\*/);
  });

  test("a lock keeps the token, so that it installs, and says so; installing from it shows none", async () => {
    const lock = path.join(work.dir, "pylock.toml");
    const output = await run(["lock", "-o", lock, `${file}?access_token=${TOKEN}`], 0);
    assert.match(await readFile(lock, "utf8"), new RegExp(`access_token=${TOKEN}`));
    assert.match(output, /warning: `.*pylock\.toml` holds credentials carried in URLs' query strings .*anyone who can read the lock can use them/);
    const plain = path.join(work.dir, "pylock.plain.toml");
    assert.doesNotMatch(await run(["lock", "-o", plain, `${file}?ref=main`], 0), /holds credentials/);
    const target = path.join(work.dir, `t${++counter}`);
    await run(["install", "-v", "--lock", lock, "-p", target], 0);
    assert.equal(await readFile(path.join(target, "tool.py"), "utf8"), "X = 1\n");
  });
});
