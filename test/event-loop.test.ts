// Turns for blocking work (src/event-loop.ts): the pieces of blocking work that come in bursts (a level's
// archives unpacked, records staged ahead) run one per turn, with the event loop's I/O between, so that a
// connection made meanwhile (undici sends a request only once connected) is not held back by them all.

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { connect, createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { DEFAULT_LIMITS } from "../src/limits.js";
import { nextTurn } from "../src/event-loop.js";
import { prepareArchive } from "../src/prepare/archive.js";
import type { PrepareContext } from "../src/prepare/context.js";
import { tempDir } from "./helpers/cli.js";
import { buildSdist } from "./helpers/sdist.js";

let work: { dir: string; cleanup: () => Promise<void> };
let port: number;
const listener = createServer((socket) => socket.destroy());

before(async () => {
  work = await tempDir("mpip-event-loop-");
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  port = (listener.address() as AddressInfo).port;
});
after(async () => {
  listener.close();
  await work.cleanup();
});

/** Connects to the local listener; resolves, once connected, to what `seen()` says then. */
function seenWhenConnected<T>(seen: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(seen());
    });
    socket.on("error", reject);
  });
}

describe("turns for blocking work", () => {
  test("are given in the order asked, one at a time, with a connection made meanwhile seen between two of them", async () => {
    const order: number[] = [];
    const turns = Array.from({ length: 6 }, (_, at) => nextTurn().then(() => order.push(at)));
    const takenWhenConnected = await seenWhenConnected(() => order.length);
    await Promise.all(turns);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    assert.ok(takenWhenConnected < 6, `${takenWhenConnected} of 6 turns were taken before the connection was seen to be made`);
  });

  test("a turn holds nothing: work that waits for I/O at its turn lets the next turns come", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = nextTurn().then(() => held);
    const later = await Promise.race([nextTurn().then(() => "came"), new Promise((resolve) => setTimeout(() => resolve("waited"), 5_000).unref())]);
    release();
    await first;
    assert.equal(later, "came");
  });

  test("archives of a level prepared together are unpacked at turns of their own: a connection made meanwhile is seen before they are all unpacked", async () => {
    const context = { limits: DEFAULT_LIMITS, strictWindow: false } as unknown as PrepareContext;
    const into = path.join(work.dir, "staged");
    await mkdir(into, { recursive: true });
    const names = Array.from({ length: 6 }, (_, at) => `turn-${at}`);
    const archives = await Promise.all(names.map((name) => buildSdist({ name, version: "1.0", files: { [`${name.replace("-", "_")}.py`]: `N = ${JSON.stringify(name)}\n` }, requires: ["dep"] })));
    const prepared = names.map((name, at) => prepareArchive(path.join(into, name), { data: archives[at]!, sha256: "0".repeat(64), origin: `https://example.invalid/${name}-1.0.tar.gz`, filename: `${name}-1.0.tar.gz` }, `\`${name} 1.0\``, context));
    const unpackedWhenConnected = await seenWhenConnected(() => (existsSync(into) ? readdirSync(into).length : 0));
    const results = await Promise.all(prepared);
    assert.ok(unpackedWhenConnected < names.length, `${unpackedWhenConnected} of ${names.length} archives were unpacked before the connection was seen to be made`);
    assert.deepEqual(results.map((result) => result.dependencies.map((spec) => (spec.type === "requirement" ? spec.requirement.name : spec.type))), names.map(() => ["dep"]));
    assert.equal(readdirSync(into).length, names.length);
  });
});
