// From resolved, staged packages to what the commit does to the target: the files each package owns,
// their records (staged beside them), the files of replaced versions to remove, the RECORDs of kept
// packages to rewrite, and the warnings about files of no package an install overwrites or a `.py`
// that would shadow an `.mpy`. Reads the target's records and looks at the target; changes nothing.

import { lstat, stat } from "node:fs/promises";
import path from "node:path";
import type { Placement } from "../image/commit.js";
import { parentOf } from "../image/commit-plan.js";
import type { FileDigest } from "../image/commit-plan.js";
import { nextTurn } from "../event-loop.js";
import { FILE_JOBS, mapInOrder } from "../pool.js";
import { printable } from "../text.js";
import { MpipError } from "../errors.js";
import { widestFold } from "../image/name-rules.js";
import { isSafeRecordPath, recordedFiles } from "./installed.js";
import { fileStateOnDisk } from "./inventory.js";
import { describeDuplicates, type Distribution, type RecordRow } from "./read.js";
import { planImage, shadowedModules } from "./plan.js";
import { foldedTwins, sameFilesOnDisk } from "./twins.js";
import { childPath, stagedRecordFile, stageRecord, stageRewrittenRecord, type RecordInput, type StagedRecord } from "./write.js";

/** A record's files: each staged file's path, with the size and sha256 the staging knows of it, if any. */
export function recordFiles(dir: string, files: readonly string[], digests?: ReadonlyMap<string, FileDigest>): RecordInput["files"] {
  return files.map((file) => {
    const digest = digests?.get(file);
    return digest === undefined ? { path: file, staged: path.join(dir, file) } : { path: file, staged: path.join(dir, file), digest };
  });
}

export interface IncomingPackage {
  /** PEP 503 normalized name. */
  key: string;
  name: string;
  version: string;
  /** The package's staging folder; `files` are relative to it and to the target. */
  dir: string;
  files: string[];
  /** The size and sha256 of staged files, where known (Staged.digests): their record does not read them. */
  digests?: ReadonlyMap<string, FileDigest>;
  /** The record to write, without its files (they are the ones this package owns); undefined with --no-record. */
  record?: Omit<RecordInput, "files">;
}

/**
 * Records staged while the resolution still runs: a package's record is written as soon as it is
 * prepared, into a folder of its own under `dir`, while the run waits for the network, instead of all
 * of them after the last download. It is taken at the end only if it was staged from exactly the input
 * the end decides (the files the package owns, whether it was requested, and the rest of its record);
 * any other is staged again then, and the one made ahead is left in the staging folder to be removed
 * with it. A record that fails to stage ahead is staged again at the end, where its failure is told.
 */
/**
 * How many records are staged ahead at most. A small image gains the most (its commit follows its last
 * download at once); a wide one, whose records would be staged while hundreds of downloads are held in
 * memory, stages the rest at the end: 200 packages staged ahead raised the peak memory by ~10 MiB.
 */
const RECORDS_AHEAD = 32;

export class RecordsAhead {
  private readonly staged = new Map<string, { input: string; record: Promise<StagedRecord | undefined> }>();

  constructor(private readonly dir: string) {}

  /**
   * Starts staging the record of the package `key` from `input` (once per key, for the first
   * RECORDS_AHEAD keys). A record's files are written in blocking calls (1-5 ms a record where making a
   * file costs 0.2-0.4 ms), which hold back whatever the event loop has to do meanwhile: the requests
   * for the package's dependencies, looked up as it is prepared, wait for their connections, and undici
   * sends a request only once its connection is made. So each record is staged at a turn of its own
   * (event-loop.ts): a connection made meanwhile sends its request before the next record is written,
   * where records staged together held the requests of a level back by 15 ms (timed with undici's
   * diagnostics channels).
   */
  start(key: string, input: RecordInput): void {
    if (this.staged.has(key) || this.staged.size >= RECORDS_AHEAD) return;
    const at = childPath(this.dir, String(this.staged.size));
    const record = nextTurn().then(() => stageRecord(at, input)).catch(() => undefined);
    this.staged.set(key, { input: JSON.stringify(input), record });
  }

  /** The record staged ahead for `key` if it was staged from exactly `input`, else undefined. */
  async take(key: string, input: RecordInput): Promise<StagedRecord | undefined> {
    const ahead = this.staged.get(key);
    return ahead === undefined || ahead.input !== JSON.stringify(input) ? undefined : ahead.record;
  }

  /** Resolves once no record is being staged ahead any more (before the staging folder is removed). */
  async settled(): Promise<void> {
    await Promise.all([...this.staged.values()].map((ahead) => ahead.record));
  }
}

export interface ImageChange {
  placements: Placement[];
  removals: string[];
  /** Recorded distributions replaced, by key: every record of the name (an image may hold several). */
  replaced: Map<string, Distribution[]>;
  /** Recorded distributions that lose files to the install (their RECORD is rewritten). */
  rewritten: Distribution[];
  /** The files of the target that stay a kept package's after the install, with its name. */
  owners: Map<string, string>;
  /**
   * Files of replaced (or removed) distributions that nothing ships again and that were changed since
   * they were installed (their bytes no longer match their RECORD row): kept, as `mpip uninstall` keeps
   * them, and in no record afterwards. `by` is the package replacing `distribution`, none where it goes whole.
   */
  changedKept: Array<{ file: string; distribution: Distribution; by?: IncomingPackage }>;
  /**
   * Replaced (or removed) distributions whose RECORD is missing, unreadable or lists nothing mpip accepts:
   * their record goes, and their files stay where nothing replaces them, in no record.
   */
  recordless: Array<{ distribution: Distribution; by?: IncomingPackage }>;
  warnings: string[];
}

/**
 * Plans the install of `incoming` (in plan order) over the records `installed` in `target`, staging
 * records in `recordsDir` (or taking those staged `ahead` from the same input); the recorded
 * distributions whose keys are in `removing` go whole, as a replaced version goes (`mpip sync`). Throws
 * what the filesystem throws while staging.
 */
export async function stageImageChange(target: string, installed: readonly Distribution[], incoming: readonly IncomingPackage[], recordsDir: string, removing?: ReadonlySet<string>, ahead?: RecordsAhead): Promise<ImageChange> {
  refuseShippedRecords(incoming);
  // A file a record lists that the filesystem takes for one an incoming package ships under another spelling (FAT).
  const twins = sameFilesOnDisk(target, installed.flatMap(recordedFiles), incoming.flatMap((item) => item.files));
  const plan = planImage(installed, incoming, removing, twins);
  const replaced = new Map<string, Distribution[]>();
  for (const item of plan.replaced) replaced.set(item.key, [...(replaced.get(item.key) ?? []), item]);
  // Each placement takes the size and sha256 its record found, so that the commit does not read the file
  // again. The records are staged side by side (record/write.ts), the placements kept in plan order.
  const records = await mapInOrder(incoming, FILE_JOBS, async (item, index) => {
    if (item.record === undefined) return undefined;
    const requested = item.record.requested || replaced.get(item.key)?.some((old) => old.requested) === true;
    const owned = plan.owned.get(item) ?? [];
    const input: RecordInput = { ...item.record, requested, files: recordFiles(item.dir, owned, item.digests) };
    return (await ahead?.take(item.key, input)) ?? stageRecord(path.join(recordsDir, String(index)), input);
  });
  const placements: Placement[] = [];
  for (const [index, item] of incoming.entries()) {
    const owned = plan.owned.get(item) ?? [];
    const record = records[index];
    if (record === undefined) {
      placements.push(...owned.map((file) => ({ from: path.join(item.dir, file), to: file })));
      continue;
    }
    const withDigest = (from: string, to: string): Placement => {
      const digest = record.digests.get(to);
      return digest === undefined ? { from, to } : { from, to, digest };
    };
    placements.push(...owned.map((file) => withDigest(path.join(item.dir, file), file)), ...record.files.map((file) => withDigest(stagedRecordFile(record, file), file)));
  }
  for (const [index, { distribution, rows }] of plan.rewrites.entries()) {
    const staged = await stageRewrittenRecord(path.join(recordsDir, `kept-${index}`), rows.map((row) => ({
      path: row.path,
      ...(row.hash === undefined ? {} : { hash: `${row.hash.algorithm}=${row.hash.digest}` }),
      ...(row.size === undefined ? {} : { size: row.size }),
    })));
    placements.push({ from: staged, to: `${distribution.distInfo}/RECORD` });
  }

  const warnings: string[] = [];
  for (const [key, records] of replaced) {
    if (records.length < 2) continue;
    const by = incoming.find((item) => item.key === key)!;
    warnings.push(`\`${printable(key)}\` is recorded ${records.length} times in \`${target}\`: ${describeDuplicates(records)} (names PEP 503 makes one); all of them are replaced by \`${printable(by.name)}\`${by.version === "" ? "" : ` ${printable(by.version)}`}`);
  }
  const ownerOfIncoming = new Map<string, string>();
  for (const item of incoming) for (const file of plan.owned.get(item) ?? []) ownerOfIncoming.set(file, item.key);
  const keptOwner = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const distribution of installed) {
    if (replaced.has(distribution.key)) continue;
    for (const file of recordedFiles(distribution)) {
      keptOwner.set(file, distribution.key);
      if (!ownerOfIncoming.has(file) && !ownerOfIncoming.has(twins.get(file) ?? "")) owners.set(file, distribution.name);
    }
  }
  const removals = new Set(plan.removals);
  // A file another package keeps (or brings) under another spelling that the filesystem takes for the same (FAT) stays.
  for (const twin of foldedTwins(target, removals, [...keptOwner.keys(), ...ownerOfIncoming.keys()])) removals.delete(twin);
  const byKey = new Map(incoming.map((item) => [item.key, item]));
  const changedKept = await keepChangedFiles(target, plan.replaced, removals, byKey);
  const recordless = plan.replaced.filter((distribution) => distribution.rows.length === 0).map((distribution) => {
    const by = byKey.get(distribution.key);
    return by === undefined ? { distribution } : { distribution, by };
  });
  // Each path of the target is looked at once, all of them side by side (a reinstall asks about every
  // file). A file's folder is looked at first, once for all the names in it: where it is missing (every
  // folder of a fresh image, a new package's `.dist-info`), so is each of them, and no call is made for
  // them (a failing lookup costs a trip to libuv's threads and an error object: ~0.1 ms of CPU each).
  // A folder is looked at as a path through it is resolved, links followed (the target may be one).
  const folders = new Map<string, Promise<boolean>>([["", stat(target).then((info) => info.isDirectory(), () => false)]]);
  const isFolder = (relative: string): Promise<boolean> => {
    let known = folders.get(relative);
    if (known === undefined) {
      known = isFolder(parentOf(relative)).then((inside) => inside && stat(path.join(target, relative)).then((info) => info.isDirectory(), () => false));
      folders.set(relative, known);
    }
    return known;
  };
  const looked = new Map<string, Promise<boolean>>();
  const exists = (file: string) => {
    let known = looked.get(file);
    if (known === undefined) {
      known = isFolder(parentOf(file)).then((inside) => inside && lstat(path.join(target, file)).then((info) => !info.isDirectory(), () => false));
      looked.set(file, known);
    }
    return known;
  };
  const siblingOf = (file: string) => (file.endsWith(".py") ? `${file.slice(0, -3)}.mpy` : `${file.slice(0, -4)}.py`);
  if (incoming.some((item) => item.record !== undefined)) for (const file of plan.unrecorded) void exists(file);
  for (const file of ownerOfIncoming.keys()) {
    if (/\.(py|mpy)$/.test(file) && !ownerOfIncoming.has(siblingOf(file)) && !removals.has(siblingOf(file))) void exists(siblingOf(file));
  }

  if (incoming.some((item) => item.record !== undefined)) {
    for (const file of plan.unrecorded) {
      if (!(await exists(file))) continue;
      const by = incoming.find((item) => plan.owned.get(item)?.includes(file));
      warnings.push(`\`${printable(file)}\` in \`${target}\` belongs to no installed package (copied by hand, or installed by upip or mip); the copy from \`${printable(by?.name ?? "?")}\` replaces it`);
    }
  }

  // The image afterwards, around each incoming module: who owns the `.py` and the `.mpy` of one name.
  const around = new Map<string, string | undefined>();
  for (const file of ownerOfIncoming.keys()) {
    if (!/\.(py|mpy)$/.test(file)) continue;
    const sibling = siblingOf(file);
    around.set(file, ownerOfIncoming.get(file));
    if (ownerOfIncoming.has(sibling)) around.set(sibling, ownerOfIncoming.get(sibling));
    else if (!removals.has(sibling) && (await exists(sibling))) around.set(sibling, keptOwner.get(sibling));
  }
  for (const { source, compiled } of shadowedModules(around)) {
    const whose = (file: string) => {
      const owner = around.get(file);
      return owner === undefined ? "of no installed package" : `of \`${printable(owner)}\``;
    };
    warnings.push(`\`${printable(source)}\` (${whose(source)}) stays beside \`${printable(compiled)}\` (${whose(compiled)}) in \`${target}\`: MicroPython imports the \`.py\`, so the \`.mpy\` is not used; remove one of them`);
  }
  return { placements, removals: [...removals], replaced, rewritten: plan.rewrites.map((item) => item.distribution), owners, changedKept, recordless, warnings };
}

/**
 * `mpip uninstall`'s rule for the files a replaced or removed distribution leaves behind: a file of
 * `removals` that its RECORD lists and that was changed since it was installed (inventory.ts
 * `fileStateOnDisk`: the recorded digest or size differs) is taken out of `removals` (changed in place)
 * and returned, so that a user's edit on a device image is never deleted without a word. Files the
 * install ships again are not in `removals`: they are replaced, as pip replaces them. Throws nothing.
 */
async function keepChangedFiles(target: string, replaced: readonly Distribution[], removals: Set<string>, byKey: ReadonlyMap<string, IncomingPackage>): Promise<ImageChange["changedKept"]> {
  const rows: Array<{ row: RecordRow; distribution: Distribution }> = [];
  const seen = new Set<string>();
  for (const distribution of replaced) {
    const prefix = `${distribution.distInfo}/`;
    for (const row of distribution.rows) {
      if (row.path.startsWith(prefix) || !isSafeRecordPath(row.path) || !removals.has(row.path) || seen.has(row.path)) continue;
      seen.add(row.path);
      rows.push({ row, distribution });
    }
  }
  const states = await mapInOrder(rows, FILE_JOBS, ({ row }) => fileStateOnDisk(target, row));
  const kept: ImageChange["changedKept"] = [];
  for (const [index, { row, distribution }] of rows.entries()) {
    if (states[index] !== "changed") continue;
    removals.delete(row.path);
    const by = byKey.get(distribution.key);
    kept.push(by === undefined ? { file: row.path, distribution } : { file: row.path, distribution, by });
  }
  return kept;
}

/**
 * A `.dist-info` folder at the top of the target is an install record (PEP 376, PEP 627), which only the
 * installer writes: a package that ships one (or a file of that name) would forge records, listing
 * packages never installed, a source it did not come from, or files of the user's that an uninstall
 * then removes. As pip refuses a wheel with a second `.dist-info`, such a package is refused, by the
 * name the widest-folding filesystem reads (`X.DIST-INFO` on FAT).
 * @throws MpipError `unsafe-path`, before anything is changed.
 */
function refuseShippedRecords(incoming: readonly IncomingPackage[]): void {
  for (const item of incoming) {
    const shipped = item.files.find((file) => widestFold(file.split("/", 1)[0]!).endsWith(".dist-info"));
    if (shipped === undefined) continue;
    const label = `${printable(item.name)}${item.version === "" ? "" : ` ${printable(item.version, 80)}`}`;
    throw new MpipError("unsafe-path", `refused to install \`${label}\`: it ships \`${printable(shipped)}\`, and a \`.dist-info\` folder at the top of the target is an install record, which only the installer writes; nothing was changed`, {
      hint: "no package needs such a file: the package is broken or malicious (its author must leave it out)",
    });
  }
}
