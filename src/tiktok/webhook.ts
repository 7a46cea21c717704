import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TerminalError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { type Clock, systemClock } from './clock.js';
import { integerText, parseExactJson, plainJson } from './json.js';
import { Secret } from './secret.js';

export const SIGNATURE_HEADER = 'tiktok-signature';
/** TikTok gives no number; 5 minutes is the common choice (docs/tiktok-api.md §3). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureFailure = 'missing_header' | 'malformed_header' | 'bad_signature' | 'stale_timestamp';

export class WebhookSignatureError extends TerminalError {
  readonly reason: SignatureFailure;

  constructor(reason: SignatureFailure, message: string) {
    super(`webhook_${reason}`, message);
    this.reason = reason;
  }
}

/** A verified webhook event (docs/tiktok-api.md §3). */
export interface WebhookEvent {
  clientKey: string | undefined;
  event: string;
  /** Unix seconds (UTC). */
  createTime: number | undefined;
  /** Missing in TikTok's own example of `portability.download.ready`. */
  userOpenId: string | undefined;
  /** `content` as received: a JSON document in a string. */
  rawContent: string;
  /** `content` parsed; int64s beyond 2^53 are decimal strings. */
  content: Record<string, unknown>;
  /** For portability events: `content.request_id`, exact. */
  requestId: string | undefined;
  /** The header's `t`. */
  signedAt: number;
  rawBody: Buffer;
}

/**
 * Checks `TikTok-Signature: t=…,s=…`: `s` must be the hex HMAC-SHA256 of `t + "." + rawBody` keyed
 * with the client secret (compared in constant time), and `t` within `toleranceSeconds` of now.
 * Returns `t`; throws {@link WebhookSignatureError}.
 */
export function verifySignature(options: {
  header: string | string[] | undefined;
  rawBody: Buffer | string;
  clientSecret: Secret | string;
  nowMs: number;
  toleranceSeconds?: number;
}): number {
  const header = Array.isArray(options.header) ? options.header[0] : options.header;
  if (!header)
    throw new WebhookSignatureError(
      'missing_header',
      'The webhook request has no TikTok-Signature header; it was refused.',
    );
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 's') signatures.push(value);
  }
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) {
    throw new WebhookSignatureError(
      'malformed_header',
      'The TikTok-Signature header is not of the form `t=<unix seconds>,s=<hex>`; the request was refused.',
    );
  }
  const secret = Secret.of(options.clientSecret).reveal();
  const body = typeof options.rawBody === 'string' ? Buffer.from(options.rawBody, 'utf8') : options.rawBody;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  const matches = signatures.some((signature) => {
    if (!/^[0-9a-fA-F]{64}$/.test(signature)) return false;
    return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
  });
  if (!matches) {
    throw new WebhookSignatureError(
      'bad_signature',
      'The webhook signature does not match the body and our client secret; the request was refused.',
    );
  }
  const signedAt = Number(timestamp);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const skew = Math.abs(options.nowMs / 1000 - signedAt);
  if (skew > tolerance) {
    throw new WebhookSignatureError(
      'stale_timestamp',
      `The webhook was signed at ${signedAt}, ${Math.round(skew)} s away from now (tolerance ${tolerance} s): a replay or a wrong clock; it was refused.`,
    );
  }
  return signedAt;
}

/** Computes a `TikTok-Signature` header value (for the sandbox and tests). */
export function signatureHeader(
  rawBody: Buffer | string,
  clientSecret: Secret | string,
  timestampSeconds: number,
): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const s = createHmac('sha256', Secret.of(clientSecret).reveal())
    .update(`${timestampSeconds}.`)
    .update(body)
    .digest('hex');
  return `t=${timestampSeconds},s=${s}`;
}

/** Parses a verified body; `content` (a JSON string) is parsed again with exact int64s. */
export function parseWebhookEvent(rawBody: Buffer, signedAt: number): WebhookEvent {
  const invalid = (what: string) =>
    new TerminalError(
      'webhook_invalid_body',
      `The webhook body is signed correctly but ${what}; it was ignored.`,
    );
  let json: unknown;
  try {
    json = parseExactJson(rawBody.toString('utf8'));
  } catch {
    throw invalid('is not JSON');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw invalid('is not a JSON object');
  const body = json as Record<string, unknown>;
  if (typeof body.event !== 'string' || body.event === '') throw invalid('has no `event`');
  const rawContent = typeof body.content === 'string' ? body.content : '';
  let content: Record<string, unknown> = {};
  let requestId: string | undefined;
  if (rawContent !== '') {
    let parsed: unknown;
    try {
      parsed = parseExactJson(rawContent);
    } catch {
      throw invalid('has a `content` that is not JSON');
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      requestId = integerText((parsed as Record<string, unknown>).request_id);
      content = plainJson(parsed) as Record<string, unknown>;
    }
  }
  const createTime = integerText(body.create_time);
  return {
    clientKey: typeof body.client_key === 'string' ? body.client_key : undefined,
    event: body.event,
    createTime: createTime === undefined ? undefined : Number(createTime),
    userOpenId:
      typeof body.user_openid === 'string' && body.user_openid !== '' ? body.user_openid : undefined,
    rawContent,
    content,
    requestId,
    signedAt,
    rawBody,
  };
}

export interface WebhookHandlerOptions {
  clientSecret: Secret | string;
  /** Events for another app are answered 200 and dropped. */
  clientKey?: string;
  /** Receives each verified event after the 200 went out; its failures are logged, never answered. */
  onEvent(event: WebhookEvent): Promise<void> | void;
  clock?: Clock;
  logger?: Logger;
  toleranceSeconds?: number;
  maxBodyBytes?: number;
}

/**
 * A node:http handler for TikTok's webhook POSTs: reads the raw body, verifies the signature,
 * answers 200 at once (TikTok retries anything slower or non-200 for up to 72 h) and then hands
 * the event to `onEvent`. Forged, stale or malformed requests get 401/400 and never reach it.
 */
export function createWebhookHandler(options: WebhookHandlerOptions) {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger();
  const maxBody = options.maxBodyBytes ?? 256 * 1024;
  return (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method !== 'POST') {
      reply(response, 405, 'method not allowed');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('error', (error) => logger.warn({ err: error }, 'webhook request broke off'));
    request.on('end', () => {
      if (tooLarge) {
        reply(response, 413, 'body too large');
        return;
      }
      const rawBody = Buffer.concat(chunks);
      let event: WebhookEvent;
      try {
        const signedAt = verifySignature({
          header: request.headers[SIGNATURE_HEADER],
          rawBody,
          clientSecret: options.clientSecret,
          nowMs: clock.now(),
          toleranceSeconds: options.toleranceSeconds,
        });
        event = parseWebhookEvent(rawBody, signedAt);
      } catch (error) {
        const refused = error instanceof WebhookSignatureError;
        logger.warn(
          { code: (error as TerminalError).code, remote: request.socket.remoteAddress },
          (error as Error).message,
        );
        reply(response, refused ? 401 : 400, refused ? 'invalid signature' : 'invalid body');
        return;
      }
      reply(response, 200, 'ok');
      if (options.clientKey && event.clientKey && event.clientKey !== options.clientKey) {
        logger.warn({ event: event.event }, 'webhook event for another client key ignored');
        return;
      }
      void (async () => {
        try {
          await options.onEvent(event);
        } catch (error) {
          logger.error(
            { err: error, event: event.event, requestId: event.requestId },
            'handling a webhook event failed',
          );
        }
      })();
    });
  };
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text);
}

/**
 * Lets a waiting sync return as soon as the webhook for its request arrives. In-process only; a
 * notification that comes before anyone waits is remembered (bounded) so it is not lost.
 */
export class RequestNotifier {
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #early = new Set<string>();
  readonly #maxRemembered: number;

  constructor(maxRemembered = 10_000) {
    this.#maxRemembered = maxRemembered;
  }

  notify(requestId: string): void {
    const waiters = this.#waiters.get(requestId);
    if (waiters && waiters.size > 0) {
      for (const wake of waiters) wake();
      this.#waiters.delete(requestId);
      return;
    }
    this.#early.add(requestId);
    if (this.#early.size > this.#maxRemembered) {
      const oldest = this.#early.values().next().value;
      if (oldest !== undefined) this.#early.delete(oldest);
    }
  }

  /** Resolves when `notify(requestId)` is (or was) called; rejects with the signal's reason on abort. */
  wait(requestId: string, signal?: AbortSignal): Promise<void> {
    if (this.#early.delete(requestId)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const set = this.#waiters.get(requestId) ?? new Set<() => void>();
      this.#waiters.set(requestId, set);
      const onAbort = () => {
        set.delete(wake);
        if (set.size === 0) this.#waiters.delete(requestId);
        reject(signal?.reason);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      set.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
