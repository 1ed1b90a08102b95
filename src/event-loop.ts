// Blocking work and the event loop. mpip makes many short filesystem calls in blocking form, where a
// trip to libuv's threads costs more than the call (README, "Developing"); while they run, nothing else
// does. The work that finds a package's dependencies (unpacking its archive) and the work that can wait
// (staging its record ahead) both come in bursts: a level's answers arrive together. Run back to back,
// such pieces hold back what the requests they have just made need from the event loop: undici sends a
// request only once its connection is made, and learns that only when the loop next polls for I/O. So
// each piece takes a turn, and turns are given one at a time, each once the loop has polled again.

/** Resolves in the event loop's next check phase (`setImmediate`): what is ready to run before it runs first. */
export function nextCheck(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves after the event loop has polled for I/O once more: a `setImmediate` runs before the next
 * poll, so the one it schedules runs after it (Node's event loop: timers, poll, check).
 */
export function afterPendingIo(): Promise<void> {
  return nextCheck().then(nextCheck);
}

let lastTurn: Promise<void> = Promise.resolve();

/**
 * Resolves at the caller's turn to run a piece of blocking work: turns are given in the order asked,
 * each after the previous one has begun and the event loop has then polled for I/O (`afterPendingIo`).
 * A turn holds nothing: work that awaits I/O lets the next turn come meanwhile.
 */
export function nextTurn(): Promise<void> {
  const turn = lastTurn.then(afterPendingIo);
  lastTurn = turn;
  return turn;
}
