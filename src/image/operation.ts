// What a run is doing to its target, so that every message of the code runs share (resolving the
// target, the lock, staging, the commit and its recovery) names that operation and no other: an
// uninstall that is refused says "cannot uninstall from", never "cannot install into". The lock file
// and the commit journal record it too, so that a run waiting for another one, or rolling back one that
// was killed, names what that other run was doing.

export type TargetOperation = "install" | "uninstall" | "sync" | "download" | "index build" | "read";

export const TARGET_OPERATIONS: readonly TargetOperation[] = ["install", "uninstall", "sync", "download", "index build", "read"];

export interface Words {
  /** `install`: what a run does ("cannot install `x`"). */
  verb: string;
  /** `install`, `uninstall`, `run` (not known): the run as a noun ("rolled that install back"). */
  noun: string;
  /** `install into`, `uninstall from`: the verb before the target ("cannot uninstall from `T`"). */
  onTarget: string;
  /** `install into`, `sync of`, `run on`: the noun before the target ("an interrupted install into `T`"). */
  runOn: string;
  /** `installing into`: what another run is doing to a target. */
  doing: string;
  /** `installs`: "while it installs". */
  does: string;
}

const WORDS: Record<TargetOperation, Words> = {
  install: { verb: "install", noun: "install", onTarget: "install into", runOn: "install into", doing: "installing into", does: "installs" },
  uninstall: { verb: "uninstall", noun: "uninstall", onTarget: "uninstall from", runOn: "uninstall from", doing: "uninstalling from", does: "uninstalls" },
  sync: { verb: "sync", noun: "sync", onTarget: "sync", runOn: "sync of", doing: "syncing", does: "syncs" },
  download: { verb: "download", noun: "download", onTarget: "download into", runOn: "download into", doing: "downloading into", does: "downloads" },
  "index build": { verb: "build the index", noun: "index build", onTarget: "build the index in", runOn: "index build in", doing: "building the index in", does: "builds the index" },
  read: { verb: "read", noun: "read", onTarget: "read", runOn: "read of", doing: "reading", does: "reads" },
};


export function words(operation: TargetOperation): Words {
  return WORDS[operation];
}

/**
 * The operation a lock file or a journal records. One that records none (written by an mpip from before
 * they did, when every lock and journal was an install's; or unreadable) is taken for an install.
 */
export function recordedOperation(value: unknown): TargetOperation {
  return TARGET_OPERATIONS.find((operation) => operation === value) ?? "install";
}
