import { type PipelineError, TerminalError, TransientError } from '../errors.js';
import { parseRetryAfter } from './http.js';
import { parseExactJson } from './json.js';

/** The v2 reply envelope (docs/tiktok-api.md §1): `data`, and `error` with `code`, `message`, `log_id`. */
export interface Envelope {
  data: unknown;
  code: string;
  message: string;
  logId: string | undefined;
}

/** The envelope of a reply body, or undefined when the body is not one. */
export function parseEnvelope(text: string): Envelope | undefined {
  let json: unknown;
  try {
    json = parseExactJson(text);
  } catch {
    return undefined;
  }
  const error = field(json, 'error');
  const code = field(error, 'code');
  if (typeof code !== 'string') return undefined;
  const message = field(error, 'message');
  const logId = field(error, 'log_id');
  return {
    data: field(json, 'data'),
    code,
    message: typeof message === 'string' ? message : '',
    logId: typeof logId === 'string' ? logId : undefined,
  };
}

/**
 * Maps a failed reply (the v2 envelope, or whatever came instead) to a PipelineError: by `code` and
 * HTTP status, never by message text (docs/tiktok-api.md §1). 429 and 5xx are transient, with the
 * `Retry-After` read against `nowMs`; `fallbackCode` names a reply that carries no envelope.
 */
export function errorFromBody(
  what: string,
  response: Response,
  text: string,
  fallbackCode: string,
  nowMs: number,
): PipelineError {
  const envelope = parseEnvelope(text);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), nowMs);
  const status = response.status;
  if (!envelope || envelope.code === 'ok') {
    const seen = response.ok
      ? `a body that is neither a zip nor a TikTok error (starts with \`${printable(text.slice(0, 40))}\`)`
      : `HTTP ${status} without TikTok's error envelope`;
    if (status === 429 || status >= 500) {
      return new TransientError(
        status === 429 ? 'rate_limit_exceeded' : 'internal_error',
        `${what}: TikTok answered ${seen}; it will be retried.`,
        { details: { httpStatus: status }, retryAfterMs },
      );
    }
    return new TerminalError(fallbackCode, `${what}: TikTok answered ${seen}.`, {
      details: { httpStatus: status },
    });
  }
  const details = { httpStatus: status, log_id: envelope.logId, tiktokMessage: envelope.message };
  const seen = `${what}: TikTok answered HTTP ${status} \`${envelope.code}\`${envelope.message ? ` (${printable(envelope.message)})` : ''}`;
  const logId = `; log id ${envelope.logId ?? 'none'}`;
  switch (envelope.code) {
    case 'rate_limit_exceeded':
      return new TransientError(envelope.code, `${seen}; waiting before retrying${logId}.`, {
        details,
        retryAfterMs,
      });
    case 'internal_error':
      return new TransientError(envelope.code, `${seen}; it will be retried${logId}.`, {
        details,
        retryAfterMs,
      });
    case 'access_token_invalid':
      return new TerminalError(
        envelope.code,
        `${seen}; the token stayed invalid after a refresh, so the user must connect the account again${logId}.`,
        { details },
      );
    case 'scope_not_authorized':
    case 'scope_permission_missed':
      return new TerminalError(
        envelope.code,
        `${seen}; the user did not grant (or already used up) the scope this needs: ask them to connect the account again with the portability scopes${logId}.`,
        { details },
      );
    case 'invalid_params':
      return new TerminalError(envelope.code, `${seen}; the request was refused as invalid${logId}.`, {
        details,
      });
    default:
      if (status === 429 || status >= 500) {
        return new TransientError(envelope.code, `${seen}; it will be retried${logId}.`, {
          details,
          retryAfterMs,
        });
      }
      return new TerminalError(envelope.code, `${seen}${logId}.`, { details });
  }
}

/** `value[key]` when `value` is a plain object, else undefined. */
export function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '.');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
