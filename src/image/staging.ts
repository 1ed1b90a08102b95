// Everything an install writes goes first into a staging folder on the target's filesystem (beside the
// target, or inside it: layout.ts), so the commit is a series of renames; the folder is always removed
// afterwards. It holds a marker naming its target and its process, so that a later run removes a
// staging folder a killed run left (recover.ts), and never a folder of the user's that merely has a
// similar name. Scratch work (a native mpy-cross's temporary files) happens inside it too, and the pid
// of every child process it starts is recorded there, so that nothing a killed run started outlives
// the next run.

import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as v from "valibot";
import { MpipError } from "../errors.js";
import { ioHint } from "./io-error.js";
import type { TargetLayout } from "./layout.js";
import { words, type TargetOperation } from "./operation.js";
import { widestFold } from "./name-rules.js";
import { environmentHolds, isSameProcessRunning, ownIdentity, processStart, type ProcessIdentity } from "./processes.js";
import { makeDirs } from "./make-dirs.js";

export const MARKER = "mpip-staging.json";
/** How every marker starts (see Marker): a cut-short one is a prefix of this, or longer and invalid. */
const MARKER_START = '{"mpip":1,"mode":"';
const CHILDREN = path.join("scratch", "children");

const MarkerSchema = v.object({
  mpip: v.literal(1),
  mode: v.picklist(["beside", "inside"]),
  /** The target folder's name (not its path: a moved tree keeps its names). */
  target: v.string(),
  pid: v.number(),
  start: v.optional(v.string()),
  ns: v.optional(v.string()),
  boot: v.optional(v.string()),
});
type Marker = v.InferOutput<typeof MarkerSchema>;

export class Staging {
  private constructor(readonly dir: string) {}

  /** @throws MpipError `io` naming `operation` (default `install`) when the folder cannot be made. */
  static async create(layout: TargetLayout, operation: TargetOperation = "install"): Promise<Staging> {
    const dir = path.join(layout.home, layout.stagingName(process.pid, randomBytes(4).toString("hex")));
    const marker: Marker = { mpip: 1, mode: layout.mode, target: path.basename(layout.target), ...ownIdentity() };
    try {
      await mkdir(dir);
      await writeFile(path.join(dir, MARKER), `${JSON.stringify(marker)}\n`, { flag: "wx" });
    } catch (error) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      const err = error as NodeJS.ErrnoException;
      throw new MpipError("io", `cannot create a staging folder for \`${layout.target}\` in \`${layout.home}\` (${err.code ?? err.message})`, {
        cause: error,
        hint: ioHint(error, `mpip keeps a staging folder in \`${layout.home}\`, on the target's filesystem, while it ${words(operation).does}: make it writable`, `mpip keeps a staging folder in \`${layout.home}\`, on the target's filesystem, while it ${words(operation).does}`),
      });
    }
    return new Staging(dir);
  }

  /** Where one package is unpacked. */
  packageDir(key: string): string {
    return path.join(this.dir, "packages", key);
  }

  /** Where files the install replaces are kept until the commit has succeeded. */
  get backupDir(): string {
    return path.join(this.dir, "backup");
  }

  /** For temporary files of tools the install runs (removed with the staging folder). */
  get scratchDir(): string {
    return path.join(this.dir, "scratch");
  }

  async remove(): Promise<void> {
    await removeStagingFolder(this.dir);
  }
}

/**
 * Removes a staging folder with its marker last, so that a run killed half-way through leaves a folder
 * the next run still recognizes (marked, or empty): never one with content and no marker.
 */
async function removeStagingFolder(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  // In blocking calls, as the commit's (image/fs-ops.ts `nodeFs`): the folder is mostly the empty folders
  // a commit left, each one short call, which handed to libuv's threads cost more than they take. Each
  // entry (packages, records, backup, scratch) is removed even if another one fails; the first failure is thrown.
  let failure: { error: unknown } | undefined;
  for (const entry of entries) {
    if (entry === MARKER) continue;
    try {
      rmSync(path.join(dir, entry), { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
  rmSync(path.join(dir, MARKER), { force: true });
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * The variable a child process is started with (`childEnvironment`), whose value the record of it
 * holds: a later run stops a recorded process only if its environment holds that same value, which no
 * other process's does (a record can be written by anyone who can write into the target's folder).
 */
const CHILD_TOKEN = "MPIP_STAGING_CHILD";

/**
 * The environment to start a child of the install with, and the token (random hex) its record
 * (`recordChild`) must carry for a later run to stop it.
 */
export function childEnvironment(): { env: NodeJS.ProcessEnv; token: string } {
  const token = randomBytes(16).toString("hex");
  return { env: { ...process.env, [CHILD_TOKEN]: token }, token };
}

/**
 * Records a child process started for the staging folder whose scratch folder is `scratchDir` with the
 * environment `childEnvironment` gave (`token`), until `forget` is called; a later run kills it if this
 * run was killed first.
 */
export async function recordChild(scratchDir: string, pid: number, token: string): Promise<() => Promise<void>> {
  const folder = path.join(path.dirname(scratchDir), CHILDREN);
  const start = processStart(pid);
  const own = ownIdentity();
  const identity: ProcessIdentity & { token: string } = { pid, ...(start === undefined ? {} : { start }), ...(own.ns === undefined ? {} : { ns: own.ns }), ...(own.boot === undefined ? {} : { boot: own.boot }), token };
  const file = path.join(folder, `${pid}.json`);
  await makeDirs(folder);
  await writeFile(file, JSON.stringify(identity));
  return () => rm(file, { force: true });
}

/**
 * Whether `dir` is a staging folder of `layout`'s target left by a run that is gone: its marker names
 * the target and the layout, and its process is not running.
 */
export async function isLeftStaging(dir: string, layout: TargetLayout): Promise<boolean> {
  let marker: Marker;
  try {
    const parsed = v.safeParse(MarkerSchema, JSON.parse(await readFile(path.join(dir, MARKER), "utf8")));
    if (!parsed.success) return isBareStaging(dir);
    marker = parsed.output;
  } catch {
    return isBareStaging(dir);
  }
  if (marker.mode !== layout.mode || widestFold(marker.target) !== widestFold(path.basename(layout.target))) return false;
  if (isSameProcessRunning(marker)) return false;
  // A staging folder a journal names holds the backups that journal's roll-back needs: it stays until then.
  const journal = marker.mode === "inside" ? path.join(path.dirname(dir), ".mpip-journal") : path.join(path.dirname(dir), `.${marker.target}.mpip-journal`);
  const text = await readFile(journal, "utf8").catch(() => undefined);
  if (text === undefined) return true;
  try {
    return (JSON.parse(text) as { staging?: unknown }).staging !== path.basename(dir);
  } catch {
    return false; // a damaged journal may need it: mpip says so when it reads that journal
  }
}

/**
 * A run killed between creating its staging folder and writing the marker leaves the folder empty, or
 * holding only a cut-short marker: such a folder, whose name's pid is no longer running, holds nothing of
 * anyone's and goes too. (Its name was matched exactly by the caller.)
 */
async function isBareStaging(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch(() => undefined);
  if (entries === undefined || entries.some((entry) => entry !== MARKER)) return false;
  // A marker cut short is empty, or the start of what Staging.create writes: never a file of someone else's.
  if (entries.length > 0) {
    const text = await readFile(path.join(dir, MARKER), "utf8").catch(() => undefined);
    if (text === undefined || !MARKER_START.startsWith(text.slice(0, MARKER_START.length))) return false;
  }
  const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(path.basename(dir))?.[1]);
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !isSameProcessRunning({ pid });
}

/** Kills what a killed run's tools left running (recorded by `recordChild`), then removes its staging folder. */
export async function removeLeftStaging(dir: string): Promise<void> {
  const folder = path.join(dir, CHILDREN);
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    try {
      const identity = JSON.parse(await readFile(path.join(folder, name), "utf8")) as ProcessIdentity & { token?: unknown };
      // Only with a start time to compare: a bare pid may belong to an unrelated process by now. And only
      // a process started with the record's token: the record may not be mpip's (anyone who can write
      // into the target's folder can write one naming any process, with its start time from /proc).
      if (typeof identity.pid !== "number" || typeof identity.start !== "string" || identity.pid === process.pid) continue;
      if (typeof identity.token !== "string" || !/^[0-9a-f]{32}$/.test(identity.token)) continue;
      if (isSameProcessRunning(identity) && environmentHolds(identity.pid, `${CHILD_TOKEN}=${identity.token}`)) process.kill(identity.pid, "SIGKILL");
    } catch {
      // A record cut short by the kill names no process we could safely stop.
    }
  }
  await removeStagingFolder(dir);
}
