/**
 * The two kinds of failure the service knows about, plus the wrapper that says where a sync stopped.
 *
 * - {@link TransientError}: worth retrying later (429, 5xx, timeouts, a database that is restarting).
 * - {@link TerminalError}: needs a human (revoked consent, a corrupt archive, bad configuration).
 *
 * Code branches on `code`, never on message text. Messages are sentences that say what was seen,
 * what was expected and what to do.
 */
export class PipelineError extends Error {
  /** A stable machine-readable identifier, e.g. `archive_not_zip`. */
  readonly code: string;
  /** Extra facts for logs and run records; never secrets. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

export class TransientError extends PipelineError {
  /** When the remote side told us how long to wait (e.g. `Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown>; retryAfterMs?: number } = {},
  ) {
    super(code, message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class TerminalError extends PipelineError {}

/**
 * The archive itself is unusable or unsafe: not a zip, truncated, a zip bomb, invalid JSON, wrong
 * types, entry names that escape the extraction root. Terminal: retrying the same bytes cannot help.
 */
export class ArchiveError extends TerminalError {}

/** Configuration or command-line input is invalid; the message names the key and the expected form. */
export class ConfigError extends TerminalError {}

/**
 * The work was stopped on purpose, by a signal (SIGTERM, SIGINT) or whoever aborted it; `by` says
 * which. Transient: the same work run again can succeed.
 */
export class InterruptedError extends TransientError {
  readonly by: string;

  constructor(by: string, message = `Interrupted by ${by}.`) {
    super('interrupted', message, { details: { by } });
    this.by = by;
  }
}

/** A stage of a sync failed; wraps the underlying error with the stage name and run id. */
export class StageFailedError extends PipelineError {
  readonly stage: string;
  readonly runId: string | undefined;

  constructor(stage: string, runId: string | undefined, cause: unknown) {
    const inner = coerceError(cause);
    super(inner instanceof PipelineError ? inner.code : 'stage_failed', `${stage}: ${inner.message}`, {
      cause: inner,
      details: { stage, runId },
    });
    this.stage = stage;
    this.runId = runId;
  }
}

/** Turns anything thrown into an Error without losing the original. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(`Non-error thrown: ${JSON.stringify(value)}`);
  } catch {
    return new Error('Non-error thrown (not serializable)');
  }
}
