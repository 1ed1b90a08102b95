// Reading small files from folders mpip did not make (src/local-file.ts): whole within the limit, refused
// beyond it, and never with room for the limit when the file is far smaller; the blocking readers answer
// as the others do, for every kind of path.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync } from "node:fs";
import { appendFile, mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { openRegularFile, openRegularFileSync, outOfDescriptors, readSmallFile, readSmallFileSync, type SmallFile } from "../src/local-file.js";
import { tempDir } from "./helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  work = await tempDir("mpip-local-file-");
});
after(() => work.cleanup());

async function fileOf(name: string, data: string | Uint8Array): Promise<string> {
  const file = path.join(work.dir, name);
  await writeFile(file, data);
  return file;
}

describe("readSmallFile", () => {
  test("reads files of every size up to the limit whole, and refuses one byte more", async () => {
    const limit = 300_000;
    for (const size of [0, 1, 4095, 4096, 65_537, limit - 1, limit]) {
      const data = Buffer.alloc(size, size % 251);
      const read = await readSmallFile(await fileOf(`f-${size}`, data), limit);
      assert.equal(read.kind, "read", `${size} bytes`);
      assert.ok(read.kind === "read" && read.data.equals(data), `${size} bytes read whole`);
    }
    assert.deepEqual(await readSmallFile(await fileOf("over", Buffer.alloc(limit + 1)), limit), { kind: "too-large", size: limit + 1 });
  });

  test("takes room for the file's size, not for the limit: a 1 KiB file under a 1 GiB limit", async () => {
    // Before: room for the limit, zeroed, for every read (16 MiB for each RECORD of an image).
    const read = await readSmallFile(await fileOf("small", "x".repeat(1024)), 1024 ** 3);
    assert.equal(read.kind, "read");
    assert.ok(read.kind === "read" && read.data.toString() === "x".repeat(1024));
    assert.ok(read.kind === "read" && read.data.buffer.byteLength < 1024 * 1024, `the bytes read sit in ${read.kind === "read" ? read.data.buffer.byteLength : 0} bytes`);
  });

  test("a file that grows while it is read is read on to its end, or refused once past the limit", async () => {
    // The file grows between each read of a size and the read of its bytes: run many times, both orders occur.
    const file = await fileOf("growing", "a".repeat(10_000));
    for (let round = 0; round < 40; round++) {
      const [read] = await Promise.all([readSmallFile(file, 30_000), appendFile(file, "b".repeat(500))]);
      if (read.kind === "too-large") {
        assert.ok(read.size > 30_000);
        continue;
      }
      assert.equal(read.kind, "read");
      const text = read.kind === "read" ? read.data.toString() : "";
      assert.match(text, /^a{10000}b*$/, "a prefix of the file as it grew, never bytes it did not hold");
    }
  });
});

describe("readSmallFileSync and openRegularFileSync", () => {
  let regularFile: string;
  before(async () => {
    regularFile = await fileOf("plain", "plain\n");
  });

  test("give the answers readSmallFile and openRegularFile give, for every kind of path, without blocking on a FIFO or a device", async () => {
    const dir = path.join(work.dir, "kinds");
    await mkdir(dir);
    const regular = await fileOf("kinds/regular", "hello\n");
    await fileOf("kinds/large", Buffer.alloc(2000, 1));
    await mkdir(path.join(dir, "folder"));
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    await symlink(regular, path.join(dir, "link"));
    await symlink("/dev/zero", path.join(dir, "device"));
    await symlink(path.join(dir, "nowhere"), path.join(dir, "dangling"));
    const names = ["regular", "large", "folder", "fifo", "link", "device", "dangling", "missing", "regular/below"];
    for (const follow of [true, false]) {
      for (const name of names) {
        const file = path.join(dir, name);
        const label = `${name}, follow ${follow}`;
        const [read, readSync] = [await readSmallFile(file, 1000, { follow }), readSmallFileSync(file, 1000, { follow })];
        assert.deepEqual(summary(readSync), summary(read), label);
        const opened = await openRegularFile(file, { follow });
        const openedSync = openRegularFileSync(file, { follow });
        assert.equal(openedSync.kind, opened.kind, label);
        if (opened.kind === "opened") await opened.handle.close();
        if (openedSync.kind === "opened") closeSync(openedSync.fd);
      }
    }
    assert.equal(summary(readSmallFileSync(regular, 1000)), "read hello\n");
    assert.equal(summary(readSmallFileSync(path.join(dir, "large"), 1000)), "too-large 2000");
  });

  test("out of file descriptors, openRegularFileSync says so at once (EMFILE), for a caller that can wait to try openRegularFile", async () => {
    // A process that holds every descriptor its limit allows but one, under `ulimit -n 40`.
    const script = `
      import { openSync } from "node:fs";
      import { openRegularFileSync, outOfDescriptors } from ${JSON.stringify(path.resolve("src/local-file.ts"))};
      const held = [];
      try { for (;;) held.push(openSync(${JSON.stringify(regularFile)}, "r")); } catch (error) { if (error.code !== "EMFILE") throw error; }
      const answer = openRegularFileSync(${JSON.stringify(regularFile)}, { follow: true });
      console.log(answer.kind, answer.kind === "unreadable" ? answer.error.code + " " + outOfDescriptors(answer.error) : "");
    `;
    const output = execFileSync("bash", ["-c", `ulimit -n 40 && exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, script], { encoding: "utf8" });
    assert.equal(output.trim(), "unreadable EMFILE true");
    assert.equal(outOfDescriptors(Object.assign(new Error("x"), { code: "ENFILE" })), true);
    assert.equal(outOfDescriptors(Object.assign(new Error("x"), { code: "EACCES" })), false);
  });
});

/** What a read gave, comparable across the two readers (the stats object differs). */
function summary(read: SmallFile): string {
  switch (read.kind) {
    case "read":
      return `read ${read.data.toString()}`;
    case "too-large":
      return `too-large ${read.size}`;
    case "unreadable":
      return `unreadable ${read.error.code}`;
    default:
      return read.kind;
  }
}
