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
  | "compile-failed"
  | "hash-required"
  | "bad-lock"
  | "lock-outdated"
  | "offline";

export class MpipError extends Error {
  readonly code: ErrorCode;
  /** What to do, as one text (lines joined by newlines); undefined when there is nothing to add. */
  readonly hint: string | undefined;
  /**
   * The hint's lines. The message and each line are shown with every control character escaped, a
   * newline included: a hint that needs several lines (an example file) gives them as an array.
   */
  readonly hintLines: readonly string[];

  constructor(code: ErrorCode, message: string, options: { hint?: string | readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MpipError";
    this.code = code;
    this.hintLines = options.hint === undefined ? [] : typeof options.hint === "string" ? [options.hint] : [...options.hint];
    this.hint = this.hintLines.length === 0 ? undefined : this.hintLines.join("\n");
  }
}

export function isMpipError(error: unknown): error is MpipError {
  return error instanceof MpipError;
}
