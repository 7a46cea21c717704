import { PipelineError, TerminalError, TransientError } from '../errors.js';

/** Socket-level failures worth another try: the server may be fine on the next connection. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Combines the caller's signal with a per-attempt timeout. */
export function attemptSignal(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** The first `code` found on an error or its causes (undici nests the socket error in `cause`). */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns a failed fetch or body read into a {@link PipelineError}. An abort by the caller is passed
 * through unchanged (the caller asked to stop; that is not a failure to retry).
 */
export function networkFailure(
  error: unknown,
  what: string,
  callerSignal: AbortSignal | undefined,
  timeoutMs: number,
): Error {
  if (error instanceof PipelineError) return error;
  if (callerSignal?.aborted)
    return callerSignal.reason instanceof Error ? callerSignal.reason : (error as Error);
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new TransientError(
      'tiktok_timeout',
      `${what} got no answer within ${timeoutMs} ms; it will be retried.`,
      {
        cause: error,
        details: { timeoutMs },
      },
    );
  }
  const code = errorCode(error);
  const reason = code ?? (error as Error | undefined)?.message ?? 'unknown error';
  // fetch reports any socket failure as TypeError('fetch failed' | 'terminated'); treat those as network trouble.
  if ((code && TRANSIENT_NETWORK_CODES.has(code)) || error instanceof TypeError) {
    return new TransientError(
      'tiktok_network_error',
      `${what} failed on the network (${reason}); it will be retried.`,
      { cause: error, details: { networkCode: code } },
    );
  }
  return new TerminalError('tiktok_network_error', `${what} failed (${reason}).`, {
    cause: error,
    details: { networkCode: code },
  });
}

/**
 * `Retry-After` as milliseconds from now: either delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Exponential backoff with full jitter: a random delay in [base·2^attempt / 2, base·2^attempt], capped. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Reads at most `limit` bytes of a response body as text (error bodies are small; a huge one is not JSON). */
export async function readLimitedText(response: Response, limit = 1024 * 1024): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        break;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks).toString('utf8');
}
