import { PipelineError, TransientError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import { backoffDelay } from './http.js';

export type RetryPolicy =
  /** Safe to repeat: any transient failure is retried. */
  | 'idempotent'
  /** Repeating may duplicate work: retried only when TikTok answered with a failure (or refused the connection). */
  | 'answered';

/** How long a call waits between its attempts, and how often it tries. */
export interface RetrySettings {
  /** Retries of a transient failure within one call (the caller may retry the call later). */
  retries: number;
  baseMs: number;
  maxMs: number;
  /** A `Retry-After` longer than this is not waited out in the call. */
  maxRetryAfterMs: number;
  random: () => number;
}

/**
 * Runs `attempt` until it succeeds: once more after refreshing the access token when TikTok says
 * `access_token_invalid`, and up to `settings.retries` more times for a transient failure the
 * `policy` allows, with backoff (or TikTok's `Retry-After`). Anything else is thrown as is.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  options: {
    name: string;
    policy: RetryPolicy;
    settings: RetrySettings;
    refreshAccessToken(signal?: AbortSignal): Promise<unknown>;
    clock: Clock;
    logger: Logger;
    signal: AbortSignal | undefined;
  },
): Promise<T> {
  const { settings, signal } = options;
  let refreshed = false;
  let failures = 0;
  for (;;) {
    let error: PipelineError;
    try {
      return await attempt();
    } catch (thrown) {
      if (!(thrown instanceof PipelineError)) throw thrown;
      error = thrown;
    }
    if (error.code === 'access_token_invalid' && !refreshed) {
      refreshed = true;
      await options.refreshAccessToken(signal);
      continue;
    }
    if (!(error instanceof TransientError) || failures >= settings.retries) throw error;
    if (options.policy === 'answered' && !answered(error)) throw error;
    const delay = retryDelay(error, failures, settings);
    if (delay === undefined) throw error;
    failures++;
    options.logger.warn(
      {
        operation: options.name,
        attempt: failures,
        code: error.code,
        delayMs: delay,
        log_id: error.details.log_id,
      },
      'TikTok call failed; retrying',
    );
    await options.clock.sleep(delay, signal);
  }
}

/** How long to wait before retrying, or undefined when the server asks for longer than we wait in-call. */
export function retryDelay(
  error: TransientError,
  failures: number,
  settings: RetrySettings,
): number | undefined {
  if (error.retryAfterMs !== undefined) {
    return error.retryAfterMs > settings.maxRetryAfterMs ? undefined : error.retryAfterMs;
  }
  return backoffDelay(failures, settings.baseMs, settings.maxMs, settings.random);
}

/** True when TikTok answered (so nothing happened on its side), not when the outcome is unknown. */
function answered(error: TransientError): boolean {
  if (error.code === 'tiktok_timeout') return false;
  if (error.code === 'tiktok_network_error') return error.details.networkCode === 'ECONNREFUSED';
  return true;
}
