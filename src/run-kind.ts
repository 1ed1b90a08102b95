// Which kind of work a run of the command line did, as bin/mpip.js asks at exit for its code cache
// (src/code-cache.ts): bin/mpip.js chooses the cache a run loads from the words typed, before anything
// parses them, and a run can turn out to be of another kind (`install -p --lock pkg` installs `pkg` into
// a folder named `--lock`; MPIP_LOCK makes `install` with no packages typed an install from a lock).

let lockedInstall = false;

/** Called when an install from a lock begins (`install --lock`, MPIP_LOCK, `sync`). */
export function markLockedInstall(): void {
  lockedInstall = true;
}

/** Whether this run began an install from a lock. */
export function ranLockedInstall(): boolean {
  return lockedInstall;
}
