// PEP 592's reason for a yank, as each index kind gives it (PyPI JSON `yanked_reason`, PEP 691 JSON
// `"yanked": "reason"`, PEP 503 HTML `data-yanked="reason"`), is shown where mpip warns about a pinned
// yanked release and where a hint lists yanked versions, escaped for the terminal like other index text.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { serveSimple } from "../helpers/simple-index.js";
import { runMpip, tempDir } from "../helpers/cli.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let json: string;
let html: string;
let counter = 0;

before(async () => {
  server = await startIndexServer();
  work = await tempDir();
  json = `simple+${serveSimple(server)}`;
  html = `simple+${serveSimple(server, { prefix: "/html", html: true })}`;
  await server.addSdist({ name: "tool", version: "1.0", files: { "tool.py": "" } });
  await server.addSdist({ name: "tool", version: "2.0", files: { "tool.py": "" } }, { yanked: true, yankedReason: "breaks <boot.py> & \x1b[31mred\x1b[0m\non ESP32" });
  await server.addSdist({ name: "tool", version: "3.0", files: { "tool.py": "" } }, { yanked: true, yankedReason: "" });
});

after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (index: string, spec: string) => runMpip(["install", "--no-record", "-p", path.join(work.dir, `t${++counter}`), "-i", index, spec]);
const SHOWN = "`breaks <boot.py> & \\x1b[31mred\\x1b[0m\\x0aon ESP32`";
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("the reason a release was yanked", () => {
  for (const [label, index] of [["PyPI JSON", () => server.url], ["simple JSON", () => json], ["simple HTML", () => html]] as const) {
    test(`${label}: the warning for a pinned yanked release gives the reason, escaped`, async () => {
      const result = await install(index(), "tool==2.0");
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`^warning: \`tool 2\\.0\` \\(\`tool-2\\.0\\.tar\\.gz\`\\) was yanked by \`[^\`]+\` \\(reason: ${escape(SHOWN)}\\); it is taken because it is pinned`, "m"));
      assert.doesNotMatch(result.stderr, /\x1b/);
    });

    test(`${label}: an empty reason says none; the hint lists each yanked version with its reason`, async () => {
      const pinned = await install(index(), "tool==3.0");
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.match(pinned.stderr, /^warning: `tool 3\.0` \(`tool-3\.0\.tar\.gz`\) was yanked by `[^`]+`; it is taken/m);
      const above = await install(index(), "tool>=2");
      assert.equal(above.code, 1, above.stderr);
      assert.match(above.stderr, new RegExp(`^hint: available versions: 1\\.0; yanked \\(taken only when pinned with \`==\`\\): 2\\.0 \\(reason: ${escape(SHOWN)}\\), 3\\.0$`, "m"));
    });
  }
});
