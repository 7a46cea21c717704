import { coerceError, PipelineError, StageFailedError, TransientError } from '../errors.js';
import { CONSENT_CODES } from '../sync/grant-codes.js';
import { backoffDelay } from '../tiktok/http.js';

export type FailureKind = 'transient' | 'terminal' | 'consent';

export interface Failure {
  kind: FailureKind;
  code: string;
  message: string;
  /** What the remote side asked us to wait (Retry-After), if anything. */
  retryAfterMs: number | undefined;
}

/**
 * Sorts a failure by what to do about it. Transient errors (429, 5xx, timeouts, the database
 * restarting) and anything unexpected are retried with backoff; terminal ones stop the account;
 * grant failures wait for the user. Decided on codes and classes, never on message text.
 */
export function classifyFailure(thrown: unknown): Failure {
  const error = coerceError(thrown);
  const root = error instanceof StageFailedError ? coerceError(error.cause) : error;
  if (root instanceof PipelineError) {
    const kind: FailureKind = CONSENT_CODES.has(root.code)
      ? 'consent'
      : root instanceof TransientError
        ? 'transient'
        : 'terminal';
    return {
      kind,
      code: root.code,
      message: root.message,
      retryAfterMs: root instanceof TransientError ? root.retryAfterMs : undefined,
    };
  }
  // Not one of ours: a dropped database connection, a bug. Retrying with backoff is the safe choice;
  // the error stays visible in status and metrics.
  const code = (root as { code?: unknown }).code;
  return {
    kind: 'transient',
    code: typeof code === 'string' && code !== '' ? `unexpected_${code}` : 'unexpected_error',
    message: root.message,
    retryAfterMs: undefined,
  };
}

/**
 * The wait before attempt `attempts + 1`: exponential with jitter from `initialMs` to `maxMs`, never
 * shorter than what the server asked for with Retry-After.
 */
export function retryDelay(
  attempts: number,
  policy: { initialMs: number; maxMs: number },
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  const backoff = backoffDelay(Math.max(0, attempts - 1), policy.initialMs, policy.maxMs, random);
  return Math.max(backoff, retryAfterMs ?? 0);
}
