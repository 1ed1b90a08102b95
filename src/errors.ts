// The one error type mpip raises on purpose. Anything else that reaches the CLI is a bug.
// `code` is stable (scripts and --json consumers may match on it); `hint` tells the user what to do.

export type ErrorCode =
  | "usage"
  | "bad-target"
  | "bad-spec"
  | "bad-requirement"
  | "not-found"
  | "no-matching-version"
  | "no-sdist"
  | "version-conflict"
  | "network"
  | "tls"
  | "http-status"
  | "bad-metadata"
  | "digest-mismatch"
  | "archive-corrupt"
  | "archive-window"
  | "unsafe-path"
  | "limit-exceeded"
  | "io"
  | "locked"
  | "interrupted"
  | "bad-project"
  | "archive-name"
  | "check-failed"
  | "mpy-incompatible"
  | "compile-failed";

export class MpipError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MpipError";
    this.code = code;
    this.hint = options.hint;
  }
}

export function isMpipError(error: unknown): error is MpipError {
  return error instanceof MpipError;
}
