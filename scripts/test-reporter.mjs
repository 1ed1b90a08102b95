// The test suite's reporter for node:test (`--test-reporter`), made for a CI log on a small shared
// machine: one line per test file as it ends, with its duration; every failure with its test's full
// name, error and location; and, when a file runs out of time, which test was running in it and for
// how long (node's own reporters name only the file). A file that timed out or was cancelled counts as
// failed in the summary, which ends with the slowest files.

// Plain JavaScript: node loads reporters before any --import hook, so it cannot be TypeScript.

import path from "node:path";
const root = process.cwd();
const short = (file) => (file === undefined ? "?" : path.relative(root, file) || file);
function describeError(error) {
    const cause = error.cause;
    const text = typeof cause === "string" ? cause : cause?.stack ?? cause?.message ?? error.message ?? "failed";
    return text.split("\n").slice(0, 30).map((line) => `      ${line}`).join("\n");
}
export default async function* reporter(source) {
    const files = new Map();
    const ended = [];
    const state = (file) => {
        let found = files.get(file);
        if (found === undefined) {
            found = { started: performance.now(), stack: [], passed: 0, failed: [], skipped: 0, output: [] };
            files.set(file, found);
        }
        return found;
    };
    let totals = { passed: 0, failed: 0, skipped: 0 };
    for await (const event of source) {
        const { data } = event;
        const file = data.file;
        const isFileLevel = file !== undefined && data.name === file;
        switch (event.type) {
            case "test:dequeue": {
                if (file === undefined || isFileLevel) {
                    if (isFileLevel)
                        state(file).started = performance.now();
                    break;
                }
                const entry = state(file);
                const nesting = data.nesting ?? 0;
                entry.stack.length = nesting;
                entry.stack[nesting] = { name: data.name ?? "?", since: performance.now() };
                break;
            }
            case "test:stdout":
            case "test:stderr":
                if (file !== undefined && data.message !== undefined)
                    state(file).output.push(data.message);
                break;
            case "test:diagnostic":
                if (file !== undefined && data.message !== undefined && (data.nesting ?? 0) > 0)
                    state(file).output.push(`# ${data.message}\n`);
                break;
            case "test:complete":
            case "test:pass":
            case "test:fail": {
                if (file === undefined)
                    break;
                // A test file's own end comes as test:complete (and, only when it failed, also test:fail);
                // a test's own as test:pass or test:fail (and test:complete, not in order).
                if (isFileLevel !== (event.type === "test:complete"))
                    break;
                const entry = state(file);
                const failed = isFileLevel ? data.details?.passed === false || data.details?.error !== undefined : event.type === "test:fail";
                if (!isFileLevel) {
                    const nesting = data.nesting ?? 0;
                    const fullName = [...entry.stack.slice(0, nesting).map((item) => item.name), data.name].join(" > ");
                    entry.stack.length = nesting;
                    const skipped = data.skip !== undefined;
                    // A suite whose tests failed fails too: count tests, not suites (leaves have no running children).
                    const error = data.details?.error;
                    if (failed && error?.failureType !== "subtestsFailed") {
                        entry.failed.push(`    FAIL ${fullName}${data.location === undefined ? "" : ` (${short(data.location)})`}\n${error === undefined ? "" : describeError(error)}\n`);
                    }
                    else if (!failed && !skipped && data.details?.type !== "suite")
                        entry.passed++;
                    else if (skipped)
                        entry.skipped++;
                    break;
                }
                const seconds = (data.details?.duration_ms ?? performance.now() - entry.started) / 1000;
                const error = data.details?.error;
                if (failed && error?.failureType === "testTimeoutFailure") {
                    const now = performance.now();
                    const running = entry.stack.map((item) => item.name).join(" > ");
                    const since = entry.stack.at(-1);
                    entry.failed.push(`    TIMEOUT ${error.message ?? "timed out"}; ${running === "" ? "no test had started yet (loading the file took the time)" : `still running: ${running} (for ${((now - (since?.since ?? now)) / 1000).toFixed(1)} s)`}\n`);
                }
                else if (failed && error?.failureType !== "subtestsFailed" && entry.failed.length === 0) {
                    entry.failed.push(`    FAIL the file itself\n${error === undefined ? "" : describeError(error)}\n`);
                }
                const ok = !failed && entry.failed.length === 0;
                totals = { passed: totals.passed + entry.passed, failed: totals.failed + entry.failed.length, skipped: totals.skipped + entry.skipped };
                ended.push({ file: short(file), seconds, ok });
                const counts = `${entry.passed} passed${entry.failed.length > 0 ? `, ${entry.failed.length} failed` : ""}${entry.skipped > 0 ? `, ${entry.skipped} skipped` : ""}`;
                yield `${ok ? "PASS" : "FAIL"} ${short(file)}  ${counts}  (${seconds.toFixed(1)} s)\n`;
                if (!ok) {
                    yield entry.failed.join("");
                    const output = entry.output.join("").trimEnd().split("\n").slice(-60);
                    if (output.length > 0 && output[0] !== "")
                        yield `    output of ${short(file)} (last ${output.length} lines):\n${output.map((line) => `      | ${line}`).join("\n")}\n`;
                }
                files.delete(file);
                break;
            }
            default:
                break;
        }
    }
    const failedFiles = ended.filter((item) => !item.ok);
    const slowest = [...ended].sort((a, b) => b.seconds - a.seconds).slice(0, 8);
    yield `\n${ended.length} test files: ${totals.passed} tests passed, ${totals.failed} failed, ${totals.skipped} skipped\n`;
    if (ended.length === 0)
        yield "FAIL no test file ran: check the file list given to the runner\n";
    yield `slowest files: ${slowest.map((item) => `${item.file} ${item.seconds.toFixed(1)} s`).join(", ")}\n`;
    if (failedFiles.length > 0)
        yield `FAILED: ${failedFiles.map((item) => item.file).join(", ")}\n`;
}
