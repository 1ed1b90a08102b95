// `mpip freeze` through the built CLI: one requirement per recorded package that `mpip install -r`
// installs again (checked by doing it, from a real index, repo and URL server on 127.0.0.1), and the cases
// where a record's source cannot be written back.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { runMpip, tempDir } from "../helpers/cli.js";
import { writeRecordedPackage } from "../helpers/dist-info.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveRepos } from "../helpers/repo-server.js";
import { buildSdist } from "../helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let server: IndexServer;
let env: NodeJS.ProcessEnv;

before(async () => {
  work = await tempDir("mpip-freeze-");
  server = await startIndexServer();
  const repos = serveRepos(server);
  env = { MPIP_GITHUB_URL: repos.hosts.github };
  await server.addSdist({ name: "pinned-lib", version: "1.0", files: { "pinned_lib.py": "VERSION = '1.0'\n" } });
  await server.addSdist({ name: "pinned-lib", version: "2.0", files: { "pinned_lib.py": "VERSION = '2.0'\n" } });
  await server.addSdist({ name: "url-lib", version: "1.5", files: { "url_lib.py": "VERSION = '1.5'\n" } });
  repos.addRepo("github", "org", "repo-app", "v2", {
    "package.json": JSON.stringify({ version: "2.0", urls: [["repo_app.py", "repo_app.py"]] }),
    "repo_app.py": "VERSION = 'v2'\n",
  });
  repos.addRepo("github", "org", "repo-app", "v3", {
    "package.json": JSON.stringify({ version: "3.0", urls: [["repo_app.py", "repo_app.py"]] }),
    "repo_app.py": "VERSION = 'v3'\n",
  });
  await mkdir(path.join(work.dir, "dist"));
  await writeFile(path.join(work.dir, "dist", "local_lib-0.9.tar.gz"), await buildSdist({ name: "local-lib", version: "0.9", files: { "local_lib.py": "VERSION = '0.9'\n" } }));
});
after(async () => {
  await server.close();
  await work.cleanup();
});

describe("mpip freeze", () => {
  test("writes name==version, the direct spec or URL each came from; `mpip install -r` installs the same again", async () => {
    const image = path.join(work.dir, "image");
    await mkdir(image);
    const sdistUrl = `${server.origin}/files/url-lib/1.5/url-lib-1.5.tar.gz`;
    const response = await fetch(sdistUrl);
    assert.equal(response.status, 200);
    const sdistSha = createHash("sha256").update(Buffer.from(await response.arrayBuffer())).digest("hex");
    const localSdist = path.join(work.dir, "dist", "local_lib-0.9.tar.gz");
    await writeRecordedPackage(image, { name: "pinned-lib", version: "1.0", files: { "pinned_lib.py": "VERSION = '1.0'\n" }, installer: "mpip", mpip: { index: server.url, kind: "pypi", artifact: "dist", url: "x", sha256: null } });
    // As pip writes a URL install: direct_url.json only.
    await writeRecordedPackage(image, { name: "url-lib", version: "1.5", files: { "url_lib.py": "VERSION = '1.5'\n" }, directUrl: { url: sdistUrl, archive_info: { hashes: { sha256: sdistSha } } } });
    await writeRecordedPackage(image, { name: "repo-app", version: "2.0", files: { "repo_app.py": "VERSION = 'v2'\n" }, installer: "mpip", mpip: { index: null, kind: "github", artifact: "package-json", url: "x", spec: "github:org/repo-app@v2" } });
    // A path typed relative to a folder since left: direct_url.json's absolute path is written.
    await writeRecordedPackage(image, {
      name: "local-lib",
      version: "0.9",
      files: { "local_lib.py": "VERSION = '0.9'\n" },
      installer: "mpip",
      mpip: { index: null, kind: "path", artifact: "dist", spec: "./dist/local_lib-0.9.tar.gz" },
      directUrl: { url: pathToFileURL(localSdist).href, archive_info: {} },
    });
    const run = await runMpip(["freeze", "-p", image]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.equal(run.stdout, [localSdist, "pinned-lib==1.0", "github:org/repo-app@v2", `${sdistUrl}#sha256=${sdistSha}`, ""].join("\n"));

    const requirements = path.join(work.dir, "requirements.txt");
    await writeFile(requirements, run.stdout);
    const again = path.join(work.dir, "again");
    const install = await runMpip(["install", "-i", server.url, "-p", again, "-r", requirements], { env, cwd: path.join(work.dir, "dist") });
    assert.equal(install.code, 0, install.stderr);
    for (const [file, version] of [["pinned_lib.py", "1.0"], ["url_lib.py", "1.5"], ["repo_app.py", "v2"], ["local_lib.py", "0.9"]]) {
      assert.equal(await readFile(path.join(again, file!), "utf8"), `VERSION = '${version}'\n`);
    }
  });

  test("a URL whose file name does not say the project (a forge's archive) is written as `name @ URL`, which installs it again", async () => {
    const bytes = Buffer.from(await (await fetch(`${server.origin}/files/url-lib/1.5/url-lib-1.5.tar.gz`)).arrayBuffer());
    const sha = createHash("sha256").update(bytes).digest("hex");
    server.routes.unshift({ name: "forge archive", pattern: /^\/forge\/archive\/v1\.5\.tar\.gz$/, handle: () => ({ status: 200, body: bytes }) });
    const url = `${server.origin}/forge/archive/v1.5.tar.gz`;
    const image = path.join(work.dir, "image-forge");
    await mkdir(image);
    // As pip writes it (direct_url.json only), and as a lock with no spec of its own leaves mpip.json.
    await writeRecordedPackage(image, { name: "url-lib", version: "1.5", files: { "url_lib.py": "VERSION = '1.5'\n" }, directUrl: { url, archive_info: { hashes: { sha256: sha } } } });
    const run = await runMpip(["freeze", "-p", image]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `url-lib @ ${url}#sha256=${sha}\n`);
    const image2 = path.join(work.dir, "image-forge-spec");
    await mkdir(image2);
    await writeRecordedPackage(image2, { name: "url-lib", version: "1.5", files: { "url_lib.py": "VERSION = '1.5'\n" }, installer: "mpip", mpip: { index: null, kind: "url", artifact: "dist", spec: url } });
    assert.equal((await runMpip(["freeze", "-p", image2])).stdout, `url-lib @ ${url}\n`);
    const requirements = path.join(work.dir, "forge-requirements.txt");
    await writeFile(requirements, run.stdout);
    const again = path.join(work.dir, "again-forge");
    const install = await runMpip(["install", "-i", server.url, "-p", again, "-r", requirements], { env });
    assert.equal(install.code, 0, install.stderr);
    assert.equal(await readFile(path.join(again, "url_lib.py"), "utf8"), "VERSION = '1.5'\n");
  });

  test("a local sdist whose file name does not say the project, installed as `name @ file:`, is written as `name @ file:///...`, as is a folder whose path is no plain line (` #`); a file named for its project by path; each installs again", async () => {
    const odd = path.join(work.dir, "odd place #1");
    await mkdir(path.join(odd, "proj dir"), { recursive: true });
    await writeFile(path.join(odd, "weird.tar.gz"), await buildSdist({ name: "Weird_Lib", version: "3.1", files: { "weird_lib.py": "W = 31\n" } }));
    await writeFile(path.join(odd, "v2.tar.gz"), await buildSdist({ name: "tag-lib", version: "2.0", files: { "tag_lib.py": "T = 2\n" } }));
    await writeFile(path.join(odd, "proj dir", "pyproject.toml"), '[project]\nname = "folder-proj"\nversion = "0.5"\n');
    await writeFile(path.join(odd, "proj dir", "folder_proj.py"), "F = 5\n");
    const url = (file: string) => pathToFileURL(path.join(odd, file)).href;
    const image = path.join(work.dir, "image-named-file");
    const installed = await runMpip(["install", "--no-index", "-p", image, `Weird_Lib @ ${url("weird.tar.gz")}`, `tag-lib @ ${url("v2.tar.gz")}`, `folder-proj @ ${url("proj dir")}`, `local-lib @ ${pathToFileURL(path.join(work.dir, "dist", "local_lib-0.9.tar.gz")).href}`]);
    assert.equal(installed.code, 0, installed.stderr);
    const run = await runMpip(["freeze", "-p", image]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.deepEqual(run.stdout.split("\n").sort(), ["", `folder-proj @ ${url("proj dir")}`, path.join(work.dir, "dist", "local_lib-0.9.tar.gz"), `Weird_Lib @ ${url("weird.tar.gz")}`, `tag-lib @ ${url("v2.tar.gz")}`].sort());
    const requirements = path.join(work.dir, "named-file-requirements.txt");
    await writeFile(requirements, run.stdout);
    const again = path.join(work.dir, "again-named-file");
    const install = await runMpip(["install", "--no-index", "-p", again, "-r", requirements]);
    assert.equal(install.code, 0, install.stderr);
    for (const [file, text] of [["weird_lib.py", "W = 31\n"], ["tag_lib.py", "T = 2\n"], ["folder_proj.py", "F = 5\n"], ["local_lib.py", "VERSION = '0.9'\n"]]) {
      assert.equal(await readFile(path.join(again, file!), "utf8"), text);
    }
    assert.equal((await runMpip(["freeze", "-p", again])).stdout, run.stdout);
    // Recorded by mpip.json alone (no direct_url.json, as a hand-copied record may be): its `name @ file:` spec, under its own name only.
    const bare = path.join(work.dir, "image-named-file-spec");
    await mkdir(bare);
    await writeRecordedPackage(bare, { name: "tag-lib", version: "2.0", files: { "tag_lib.py": "T = 2\n" }, installer: "mpip", mpip: { index: null, kind: "path", artifact: "dist", spec: `tag-lib @ ${url("v2.tar.gz")}` } });
    assert.equal((await runMpip(["freeze", "-p", bare])).stdout, `tag-lib @ ${url("v2.tar.gz")}\n`);
    const other = path.join(work.dir, "image-named-file-other");
    await mkdir(other);
    await writeRecordedPackage(other, { name: "tag-lib", version: "2.0", files: { "tag_lib.py": "T = 2\n" }, installer: "mpip", mpip: { index: null, kind: "path", artifact: "dist", spec: `other-lib @ ${url("v2.tar.gz")}` } });
    const refused = await runMpip(["freeze", "-p", other]);
    assert.equal(refused.stdout, "tag-lib==2.0\n");
    assert.match(refused.stderr, /which is not one \(or names another project/);
  });

  test("a URL mpip installed is written with the sha256 of the file it installed, as pip writes it: installing the line again takes that file or fails", async () => {
    const sdistUrl = `${server.origin}/files/url-lib/1.5/url-lib-1.5.tar.gz`;
    const bytes = Buffer.from(await (await fetch(sdistUrl)).arrayBuffer());
    const sha = createHash("sha256").update(bytes).digest("hex");
    let served: Buffer = bytes;
    let hashedRuns = 0;
    server.routes.unshift({ name: "moving archive", pattern: /^\/moving\/archive\/latest\.tar\.gz$/, handle: () => ({ status: 200, body: served }) });
    const movingUrl = `${server.origin}/moving/archive/latest.tar.gz`;
    // Two specs freeze to the same line: installing that line again once shows it installs.
    const installedAgain = new Set<string>();
    for (const [spec, frozen] of [[sdistUrl, `${sdistUrl}#sha256=${sha}`], [`url-lib @ ${movingUrl}`, `url-lib @ ${movingUrl}#sha256=${sha}`], [`url-lib@${movingUrl}`, `url-lib @ ${movingUrl}#sha256=${sha}`]] as const) {
      const image = path.join(work.dir, `image-hashed-${++hashedRuns}`);
      const installed = await runMpip(["install", "-i", server.url, "-p", image, spec], { env });
      assert.equal(installed.code, 0, installed.stderr);
      const run = await runMpip(["freeze", "-p", image]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${frozen}\n`);
      if (installedAgain.has(run.stdout)) continue;
      installedAgain.add(run.stdout);
      const requirements = path.join(work.dir, `hashed-${hashedRuns}.txt`);
      await writeFile(requirements, run.stdout);
      const again = await runMpip(["install", "-i", server.url, "-p", path.join(work.dir, `again-hashed-${hashedRuns}`), "-r", requirements], { env });
      assert.equal(again.code, 0, again.stderr);
    }
    // The URL now serves another file: the frozen line refuses it rather than install it.
    served = await buildSdist({ name: "url-lib", version: "1.5", files: { "url_lib.py": "VERSION = 'changed'\n" } });
    const requirements = path.join(work.dir, "hashed-moving.txt");
    await writeFile(requirements, `url-lib @ ${movingUrl}#sha256=${sha}\n`);
    const changed = await runMpip(["install", "-i", server.url, "-p", path.join(work.dir, "again-moving"), "-r", requirements], { env });
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stderr, /sha256/);
  });

  test("a git source or a wheel is written as name==version with a warning; a spec that is not one plain line is not written", async () => {
    const image = path.join(work.dir, "odd");
    await mkdir(image);
    await writeRecordedPackage(image, { name: "git-thing", version: "1.0", files: { "git_thing.py": "" }, directUrl: { url: "https://git.example/org/git-thing.git", vcs_info: { vcs: "git", commit_id: "0123abcd", requested_revision: "main" } } });
    await writeRecordedPackage(image, { name: "wheel-thing", version: "2.0", files: { "wheel_thing.py": "" }, directUrl: { url: "https://files.example/wheel_thing-2.0-py3-none-any.whl", archive_info: {} } });
    await writeRecordedPackage(image, { name: "sneaky", version: "1.0", files: { "sneaky.py": "" }, installer: "mpip", mpip: { index: null, kind: "url", spec: "https://x.example/a.py\nevil-package==6.6.6" } });
    await writeRecordedPackage(image, { name: "custom-ver", version: "2023.1-custom+x_y", files: { "custom_ver.py": "" } });
    await writeFile(path.join(image, "by_hand.py"), "");
    const run = await runMpip(["freeze", "-p", image]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, ["custom-ver===2023.1-custom+x_y", "git-thing==1.0", "sneaky==1.0", "wheel-thing==2.0", ""].join("\n"));
    assert.match(run.stderr, /warning: `git-thing` came from git \(`https:\/\/git\.example\/org\/git-thing\.git`\), which mpip does not fetch from; it is written as `git-thing==1\.0`/);
    assert.match(run.stderr, /warning: `wheel-thing` came from `https:\/\/files\.example\/wheel_thing-2\.0-py3-none-any\.whl`, an archive mpip does not install/);
    // The command to run names the folder itself.
    assert.match(run.stderr, /warning: 1 file is in no package's record: `mpip install -r` will not put it back \(`mpip list --unrecorded -p \S*\/odd` lists it\)/);
  });

  test("a recorded source that is another project, carries options or is not of its kind is written as name==version, with a warning", async () => {
    const image = path.join(work.dir, "forged");
    await mkdir(image);
    const forged: Array<[string, { kind: string; spec?: string }, { url: string; archive_info: object }?]> = [
      ["bare-name", { kind: "url", spec: "evil-package" }],
      ["ranged", { kind: "path", spec: "evil-package>=6" }],
      ["options", { kind: "url", spec: "https://x.example/options.py --index-url=http://evil.example/simple" }],
      ["other-name", { kind: "url", spec: "evil-package @ https://x.example/evil_package-6.6.tar.gz" }],
      ["wrong-forge", { kind: "github", spec: "gitlab:org/repo" }],
      ["file-url", { kind: "path" }, { url: "file:///tmp/x.tar.gz%20--index-url=http://evil.example/", archive_info: {} }],
      ["plain-url", { kind: "unknown" }, { url: "https://x.example/plain.py --index-url=http://evil.example/", archive_info: {} }],
    ];
    for (const [name, origin, directUrl] of forged) {
      await writeRecordedPackage(image, { name, version: "1.0", files: { [`${name.replace("-", "_")}.py`]: "" }, installer: "mpip", mpip: { index: null, ...origin }, ...(directUrl === undefined ? {} : { directUrl }) });
    }
    await writeRecordedPackage(image, { name: "named-url", version: "1.0", files: { "named_url.py": "" }, installer: "mpip", mpip: { index: null, kind: "url", spec: "Named_URL @ https://x.example/named_url-1.0.tar.gz" } });
    const run = await runMpip(["freeze", "-p", image]);
    assert.equal(run.code, 0, run.stderr);
    const expected = [...forged.map(([name]) => `${name}==1.0`), "Named_URL @ https://x.example/named_url-1.0.tar.gz"].sort();
    assert.deepEqual(run.stdout.split("\n").filter((line) => line !== "").sort(), expected);
    for (const name of ["bare-name", "ranged", "options", "other-name", "wrong-forge"]) {
      assert.match(run.stderr, new RegExp(`warning: \`${name}\`: \`${name.replace("-", "_")}-1\\.0\\.dist-info/mpip\\.json\` gives .* which is not one`));
    }
  });
});
