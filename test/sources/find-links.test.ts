import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { FindLinksSource, parseArchiveName } from "../../src/sources/find-links.js";
import { parseRequirement } from "../../src/spec/requirement.js";
import { runMpip } from "../helpers/cli.js";
import { buildSdist } from "../helpers/sdist.js";
import { parseRequirementsFile } from "../../src/spec/requirements-file.js";

test("archive names split at the last `-` that starts a valid version", () => {
  assert.deepEqual(parseArchiveName("micropython-foo-1.0.tar.gz"), { name: "micropython-foo", version: "1.0", packagetype: "sdist" });
  assert.deepEqual(parseArchiveName("foo-bar-2.0rc1.tar.gz"), { name: "foo-bar", version: "2.0rc1", packagetype: "sdist" });
  assert.deepEqual(parseArchiveName("foo_bar-0.1-py3-none-any.whl"), { name: "foo_bar", version: "0.1", packagetype: "bdist_wheel" });
  assert.equal(parseArchiveName("notes.txt"), undefined);
  assert.equal(parseArchiveName("noversion.tar.gz"), undefined);
});

test("requirements files drop comments and blank lines and keep line numbers", () => {
  assert.deepEqual(parseRequirementsFile("# image\nfoo\n\n  bar==1.0  # pinned\r\nbaz>=1#not-a-comment\n"), [
    { text: "foo", line: 2 },
    { text: "bar==1.0", line: 4 },
    { text: "baz>=1#not-a-comment", line: 5 },
  ]);
});

test("a name a letter or two off one of the folder's sdists gets that name in the hint; a far one gets none", async (t) => {
  const folder = await mkdtemp(path.join(os.tmpdir(), "mpip-find-links-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  for (const file of ["umqtt.simple-1.4.tar.gz", "umqtt.simple-1.3.tar.gz", "umqtt.robust-1.0.tar.gz", "umqtt.simply-0.1.tar.gz", "Aioble-0.4.tar.gz", "notes.txt"]) await writeFile(path.join(folder, file), "");
  const source = new FindLinksSource(folder);
  const hint = (asked: string) => source.hintWhenMissing(parseRequirement(asked));
  assert.equal(await source.lookup(parseRequirement("aiobel")), undefined);
  assert.equal(await hint("aiobel"), `\`${folder}\` has a name close to it: \`Aioble\``);
  assert.equal(await hint("umqtt-simpel"), `\`${folder}\` has names close to it: \`umqtt.simple\`, \`umqtt.simply\``, "compared as PEP 503 names, named as the folder spells them");
  assert.equal(await hint("umqtt.rbust"), `\`${folder}\` has a name close to it: \`umqtt.robust\``);
  assert.equal(await hint("umqtt.simplx"), `\`${folder}\` has names close to it: \`umqtt.simple\`, \`umqtt.simply\``);
  assert.equal(await hint("umqtt"), undefined);
  assert.equal(await hint("notes"), undefined, "only sdists' names");
  const result = await runMpip(["install", "--no-index", "-f", folder, "-p", path.join(folder, "image"), "aiobel"]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^hint: check the spelling of the name, .*; `[^`]+` has a name close to it: `Aioble`$/m);
  // One spelling a project (the first in the folder's order), and no name a project cannot have.
  const odd = await mkdtemp(path.join(os.tmpdir(), "mpip-find-links-odd-"));
  t.after(() => rm(odd, { recursive: true, force: true }));
  for (const name of ["alphb", "Alphb", "ALPHB", "alp`a", "alp\x1ba", "alp a"]) await writeFile(path.join(odd, `${name}-1.0.tar.gz`), "");
  assert.equal(await new FindLinksSource(odd).hintWhenMissing(parseRequirement("alpha")), `\`${odd}\` has a name close to it: \`ALPHB\``);
  // The --json report names a file of a -f folder given relative to the current folder by its file: URL, as list --json does.
  await writeFile(path.join(folder, "umqtt.simple-1.4.tar.gz"), await buildSdist({ name: "umqtt.simple", version: "1.4", files: { "umqtt/simple.py": "S = 1\n" } }));
  const image = path.join(folder, "json-image");
  const json = await runMpip(["install", "--json", "--no-record", "--no-index", "-f", ".", "-p", image, "umqtt.simple==1.4"], { cwd: folder });
  assert.equal(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { packages: Array<{ url: string }> }).packages[0]!.url, pathToFileURL(path.join(folder, "umqtt.simple-1.4.tar.gz")).href);
  // A folder `mpip download` wrote says that too.
  await writeFile(path.join(folder, "index.json"), "{}");
  assert.match((await new FindLinksSource(folder).hintWhenMissing(parseRequirement("aiobel"))) ?? "", /has a name close to it: `Aioble`; `[^`]+` is also a micropython-lib \(v2\) index/);
});
