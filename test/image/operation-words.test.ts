// Every message of the code that runs share (resolving the target, the lock, staging, the commit and
// its roll-back) names the operation actually running: an uninstall refused, waited for or rolled back
// says "uninstall", never "install"; a command that only reads (`list`, `show`, `freeze`) says "read".
// The built CLI against a real index on 127.0.0.1, and the shared parts in-process.

import assert from "node:assert/strict";
import { existsSync, realpathSync } from "node:fs";
import { readFile, rename, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MpipError } from "../../src/errors.js";
import { besideLayout } from "../../src/image/layout.js";
import { TargetLock } from "../../src/image/lock.js";
import { Staging } from "../../src/image/staging.js";
import { resolveTarget } from "../../src/image/target-path.js";
import { runMpip, snapshot, tempDir } from "../helpers/cli.js";
import { startIndexServer, type IndexServer } from "../helpers/index-server.js";
import { startMpip, until } from "../helpers/process.js";

let server: IndexServer;
let work: { dir: string; cleanup: () => Promise<void> };
let counter = 0;
const fresh = () => path.join(realpathSync(work.dir), `image-${++counter}`);

before(async () => {
  server = await startIndexServer();
  work = await tempDir("mpip-operation-words-");
  await server.addSdist({ name: "webby", version: "1.0", files: { "webby/__init__.py": "W = 1\n", "webby/views/home.py": "H = 1\n" } });
  await server.addSdist({ name: "other", version: "1.0", files: { "other.py": "O = 1\n" } });
});
after(async () => {
  await server.close();
  await work.cleanup();
});

const install = (target: string, ...args: string[]) => runMpip(["install", "-i", server.url, "-p", target, ...args]);
const errorLine = (stderr: string) => stderr.split("\n").find((line) => line.startsWith("error: ")) ?? "";

describe("messages name the operation running", () => {
  test("uninstall through a folder replaced by a link refuses, as an uninstall; nothing behind the link is touched", async () => {
    const target = fresh();
    assert.equal((await install(target, "webby")).code, 0);
    const elsewhere = path.join(work.dir, `moved-${counter}`);
    await rename(path.join(target, "webby"), elsewhere);
    await symlink(elsewhere, path.join(target, "webby"));
    const before = await snapshot(elsewhere);
    const result = await runMpip(["uninstall", "-y", "-p", target, "webby"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(errorLine(result.stderr), /^error: cannot uninstall from `.*image-\d+`: `webby\/.*\.py`, which it would remove, lies behind `webby`, a symbolic link, not the folder it was installed in; nothing was changed$/);
    assert.match(result.stderr, /^hint: mpip removes nothing through a link/m);
    assert.doesNotMatch(result.stderr, /\binstall(ing)? into\b|cannot install/);
    assert.deepEqual(await snapshot(elsewhere), before);
    // An upgrade through the same link is refused as an install.
    const over = await install(target, "--force-reinstall", "webby");
    assert.equal(over.code, 1, over.stderr);
    assert.match(errorLine(over.stderr), /^error: cannot install `webby\/.*`: `webby` in `.*` is a symbolic link, where a folder is needed/);
  });

  test("a target that is a file, or a link to nothing: `cannot uninstall from`, `cannot read`, `cannot install into`", async () => {
    const file = path.join(work.dir, `a-file-${++counter}`);
    await writeFile(file, "not a folder\n");
    const dangling = path.join(work.dir, `dangling-${++counter}`);
    await symlink(path.join(work.dir, "no-such-card"), dangling);
    for (const target of [file, dangling]) {
      const removed = await runMpip(["uninstall", "-y", "-p", target, "webby"]);
      assert.equal(removed.code, 1, removed.stderr);
      assert.match(errorLine(removed.stderr), /^error: cannot uninstall from `/);
      for (const command of [["list"], ["show", "webby"], ["freeze"]]) {
        const read = await runMpip([...command, "-p", target]);
        assert.equal(read.code, 1, read.stderr);
        assert.match(errorLine(read.stderr), /^error: cannot read `/, `${command[0]}: ${read.stderr}`);
      }
      const installed = await install(target, "webby");
      assert.match(errorLine(installed.stderr), /^error: cannot install into `/);
    }
    assert.equal(await readFile(file, "utf8"), "not a folder\n");
  });

  test("a run that finds an uninstall holding the target says it is uninstalling (waiting, or with --no-wait)", async () => {
    const target = fresh();
    assert.equal((await install(target, "webby", "other")).code, 0);
    const gate = path.join(work.dir, `gate-${counter}`);
    const journal = path.join(path.dirname(target), `.${path.basename(target)}.mpip-journal`);
    const removing = startMpip(["uninstall", "-y", "-p", target, "webby"], { env: { MPIP_TEST_COMMIT_GATE: gate } });
    try {
      assert.ok(await until(() => existsSync(journal), removing), removing.stderr());
      const refused = await install(target, "--no-wait", "other");
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(errorLine(refused.stderr), new RegExp(`^error: another mpip \\(pid ${removing.pid}, since .*\\) is uninstalling from \`${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\`$`));
      const waiting = startMpip(["install", "-i", server.url, "-p", target, "other"]);
      assert.ok(await until(() => /Waiting for another mpip/.test(waiting.stderr()), waiting), waiting.stderr());
      assert.match(waiting.stderr(), new RegExp(`^Waiting for another mpip \\(pid ${removing.pid}\\) uninstalling from \``, "m"));
      await writeFile(gate, "");
      const [removed, installed] = await Promise.all([removing.exited, waiting.exited]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(installed.code, 0, installed.stderr);
    } finally {
      await writeFile(gate, "").catch(() => undefined);
      removing.child.kill("SIGKILL");
    }
  });

  test("the shared parts in-process: resolving the target, the lock's and the staging folder's hints", async () => {
    const file = path.join(work.dir, `plain-${++counter}`);
    await writeFile(file, "x");
    for (const [operation, words] of [["uninstall", "cannot uninstall from"], ["install", "cannot install into"], ["read", "cannot read"]] as const) {
      const error = await resolveTarget(path.join(file, "img"), operation).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof MpipError && error.message.startsWith(`${words} \``), String(error));
    }
    // A lock or staging folder whose home is a file: the hint says what mpip does while it holds them.
    const layout = besideLayout(path.join(file, "img"));
    const staging = await Staging.create(layout, "uninstall").then(() => undefined, (e: unknown) => e);
    assert.ok(staging instanceof MpipError, String(staging));
    assert.match(staging.hint ?? "", /while it uninstalls/);
    const lock = await TargetLock.acquire(layout, { wait: false, operation: "uninstall" }).then(() => undefined, (e: unknown) => e);
    assert.ok(lock instanceof MpipError, String(lock));
    assert.match(lock.hint ?? "", /while it uninstalls/);
  });
});
