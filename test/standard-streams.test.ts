// stdout and stderr written straight to their descriptors where they are pipes, sockets or files
// (src/standard-streams.ts), as the built CLI writes them: the same bytes in the same order as through
// Node's streams, also when the descriptor does not take them at once (a non-blocking pipe whose reader is
// behind: the rest goes to Node's stream, which waits for the reader), and nothing said when the reader
// has gone.

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, runCommand, runMpip, tempDir } from "./helpers/cli.js";

let work: { dir: string; cleanup: () => Promise<void> };

before(async () => {
  work = await tempDir("mpip-standard-streams-");
});
after(async () => {
  await work.cleanup();
});

/**
 * Runs `mpip ARGS` with stdout and stderr on pipes of 4 KiB (the smallest Linux allows) set
 * non-blocking, which nobody reads for a while: a write of more than the pipe holds is not taken whole.
 * Then reads both to the end. Python does it: Node cannot hand a child a pipe set up so.
 */
async function runOnFullPipes(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `
import fcntl, json, os, subprocess, sys, threading, time
F_SETPIPE_SZ = 1031
pipes = []
for _ in range(2):
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    pipes.append((r, w))
child = subprocess.Popen(sys.argv[1:], stdout=pipes[0][1], stderr=pipes[1][1], env={**os.environ, "NO_COLOR": "1"})
for _, w in pipes:
    os.close(w)
time.sleep(0.5)
out = {}
def drain(name, r):
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    out[name] = b"".join(chunks).decode("utf-8")
threads = [threading.Thread(target=drain, args=(name, r)) for name, (r, _) in zip(("stdout", "stderr"), pipes)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"code": child.wait(), **out}))
`;
  const result = await runCommand("python3", ["-c", script, process.execPath, BIN, ...args]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { code: number; stdout: string; stderr: string };
}

/** `mpip install --help` as runMpip captures it: run once, the reference two tests compare with. */
let installHelpRun: ReturnType<typeof runMpip> | undefined;
const installHelp = () => (installHelpRun ??= runMpip(["install", "--help"]));

describe("stdout and stderr", () => {
  test("help larger than a pipe holds, on non-blocking pipes nobody reads yet, arrives whole and in order", async () => {
    const help = await installHelp();
    assert.ok(help.stdout.length > 4096, "the help is larger than the pipe");
    assert.deepEqual(await runOnFullPipes(["install", "--help"]), { code: 0, stdout: help.stdout, stderr: "" });
    // A usage error longer than the pipe holds, on stderr through the whole CLI's reporter, exit 2.
    const long = ["install", `--${"x".repeat(5000)}`];
    const error = await runMpip(long);
    assert.ok(error.stderr.length > 4096, "the error is larger than the pipe");
    assert.deepEqual(await runOnFullPipes(long), { code: 2, stdout: "", stderr: error.stderr });
  });

  test("what list and show write, in several writes each, arrives whole and in order on non-blocking pipes", async () => {
    const target = path.join(work.dir, "image");
    const installed = await runMpip(["install", "-q", "--no-index", "-f", "fixtures", "-p", target, "mpip-demo-app"]);
    assert.equal(installed.code, 0, installed.stderr);
    const listed = await runMpip(["list", "--unrecorded", "-p", target]);
    assert.equal(listed.code, 0, listed.stderr);
    const json = await runMpip(["list", "--json", "-p", target]);
    const onFull = await runOnFullPipes(["show", "--files", "-p", target, "mpip-demo-app", "mpip-demo-fmt", "mpip-demo-ansi"]);
    const show = await runMpip(["show", "--files", "-p", target, "mpip-demo-app", "mpip-demo-fmt", "mpip-demo-ansi"]);
    assert.equal(show.code, 0, show.stderr);
    assert.deepEqual(onFull, { code: 0, stdout: show.stdout, stderr: show.stderr });
    assert.deepEqual(await runOnFullPipes(["list", "--json", "-p", target]), { code: 0, stdout: json.stdout, stderr: json.stderr });
  });

  test("into a regular file, the same bytes as into a pipe", async () => {
    const file = path.join(work.dir, "help.txt");
    const result = await runCommand("sh", ["-c", `"${process.execPath}" "${BIN}" lock --help > "${file}"`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await readFile(file, "utf8"), (await runMpip(["lock", "--help"])).stdout);
  });

  test("a reader that has gone takes nothing from the exit code, and no error is said", async () => {
    for (const args of [["install", "--help"], ["--help"], []]) {
      // The reader closes before mpip writes: every write meets EPIPE.
      const result = await runCommand("bash", ["-c", `exec 3>&1; ("${process.execPath}" "${BIN}" ${args.join(" ")} 2>&1; echo "exit=$?" >&3) | true`]);
      assert.match(result.stdout, new RegExp(`^exit=${args.length === 0 ? 2 : 0}\\n$`), result.stdout + result.stderr);
      assert.equal(result.stderr, "");
    }
  });

  test("a signal while output waits for its reader is handled: at once past what a pipe takes unread, else once the write ends, however short the wait", async () => {
    const big = path.join(work.dir, "big.bin");
    await writeFile(big, Buffer.alloc(100_000, 7));
    // Blocking pipes nobody reads. A large output (bin2res: ~400 KB) goes through Node's stream past the
    // first 16 KiB, so SIGINT ends the run while the reader still reads nothing. The help (~11 KB) into a
    // pipe made to hold 4 KiB waits in its write; SIGINT is handled once the reader drains the pipe,
    // not lost as the run ends (before, such a run went on to exit 0).
    // The signal is sent a second after the pipe is full (mpip's signal handlers are set before it writes
    // anything): a pause counted from the start could end before a loaded machine has started Node, and
    // the signal would kill it. Then, as the pipe fills, with the reader draining it at once: the write
    // waits only microseconds, and the signal was lost in 7 runs of 8 while mpip kept the loop for a
    // signal only after writes that took 10 ms or more. SIGTERM too.
    const script = `
import array, fcntl, json, os, signal, subprocess, sys, termios, time
def queued(r):
    count = array.array("i", [0])
    fcntl.ioctl(r, termios.FIONREAD, count)
    return count[0]
def run(args, small, pause=1.0, sig=signal.SIGINT):
    r, w = os.pipe()
    if small:
        fcntl.fcntl(w, 1031, 4096)
    child = subprocess.Popen([sys.argv[1], sys.argv[2], *args], stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    capacity = fcntl.fcntl(r, 1032)
    deadline = time.monotonic() + 120
    while queued(r) < capacity and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(pause)
    child.send_signal(sig)
    exited_unread = None
    if not small:
        try:
            child.wait(timeout=60)
            exited_unread = True
        except subprocess.TimeoutExpired:
            exited_unread = False
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    return {"code": child.wait(), "stdout": len(data), "stderr": child.stderr.read().decode(), "exitedUnread": exited_unread}
quick = [run(["install", "--help"], True, 0) for _ in range(4)] + [run(["install", "--help"], True, 0, signal.SIGTERM)]
print(json.dumps([run(["bin2res", sys.argv[3]], False), run(["install", "--help"], True), *quick]))
`;
    const result = await runCommand("python3", ["-c", script, process.execPath, BIN, big]);
    assert.equal(result.code, 0, result.stderr);
    const [large, help, ...quick] = JSON.parse(result.stdout) as Array<{ code: number; stdout: number; stderr: string; exitedUnread: boolean | null }>;
    assert.deepEqual({ code: large!.code, exitedUnread: large!.exitedUnread, stderr: large!.stderr }, { code: 130, exitedUnread: true, stderr: "error: interrupted by SIGINT\n" });
    assert.deepEqual({ code: help!.code, stderr: help!.stderr }, { code: 130, stderr: "error: interrupted by SIGINT\n" });
    assert.equal(help!.stdout, Buffer.byteLength((await installHelp()).stdout), "the help was written whole first");
    assert.deepEqual(
      quick.map(({ code, stderr }) => ({ code, stderr })),
      [...Array.from({ length: 4 }, () => ({ code: 130, stderr: "error: interrupted by SIGINT\n" })), { code: 143, stderr: "error: interrupted by SIGTERM\n" }],
    );
  });
});
