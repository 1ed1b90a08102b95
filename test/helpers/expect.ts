// Small assertions shared by the unit tests: an MpipError with a given code and words, and a folder
// written from a description.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { MpipError } from "../../src/errors.js";

function checkError(error: unknown, code: string, fragments: string[]): MpipError {
  assert.ok(error instanceof MpipError, String(error));
  assert.equal(error.code, code, error.message);
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${JSON.stringify(fragment)} not in: ${error.message}`);
  return error;
}

/** `fn()` throws an MpipError with this code whose message holds every fragment. */
export function throwsMpip(fn: () => unknown, code: string, ...fragments: string[]): MpipError {
  try {
    fn();
  } catch (error) {
    return checkError(error, code, fragments);
  }
  assert.fail("expected an error");
}

/** The promise rejects with an MpipError with this code whose message holds every fragment. */
export async function rejectsMpip(promise: Promise<unknown>, code: string, ...fragments: string[]): Promise<MpipError> {
  try {
    await promise;
  } catch (error) {
    return checkError(error, code, fragments);
  }
  assert.fail("expected an error");
}

/** Writes `files` (relative path → content) below `dir`, creating folders; returns `dir`. */
export async function writeTree(dir: string, files: Record<string, string | Uint8Array>): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}
