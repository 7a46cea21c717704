import { tmpdir } from 'node:os';
import { TerminalError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { type Clock, systemClock } from './clock.js';
import { type DownloadedArchive, type DownloadSettings, downloadArchive } from './download.js';
import { type Envelope, errorFromBody, field, parseEnvelope } from './envelope.js';
import { attemptSignal, networkFailure, readLimitedText } from './http.js';
import { INT64_TEXT, int64, integerText, stringifyExactJson } from './json.js';
import { TIKTOK_API_BASE_URL, TIKTOK_AUTH_BASE_URL } from './oauth.js';
import { type RetryPolicy, type RetrySettings, withRetries } from './retry.js';
import type { Secret } from './secret.js';
import type { Category } from './vocabulary.js';

export type { DownloadedArchive } from './download.js';

export type DataFormat = 'json' | 'text';
export { CATEGORIES, type Category } from './vocabulary.js';
/** Check's statuses; `downloading` means READY to download (docs/tiktok-api.md §1.3). */
export const REQUEST_STATUSES = ['pending', 'downloading', 'expired', 'cancelled'] as const;
export type RemoteStatus = (typeof REQUEST_STATUSES)[number];
export const CHECK_FIELDS = [
  'request_id',
  'apply_time',
  'collect_time',
  'status',
  'data_format',
  'category_selection_list',
] as const;
export type CheckField = (typeof CHECK_FIELDS)[number];

/** Where TikTok lives; point both at the sandbox in tests and demos. */
export interface TikTokEndpoints {
  /** `https://open.tiktokapis.com`: token, revoke and the portability endpoints. */
  apiBaseUrl: string;
  /** `https://www.tiktok.com`: the consent page. */
  authBaseUrl: string;
}
export const TIKTOK_ENDPOINTS: Readonly<TikTokEndpoints> = Object.freeze({
  apiBaseUrl: TIKTOK_API_BASE_URL,
  authBaseUrl: TIKTOK_AUTH_BASE_URL,
});

/** Supplies the user access token; {@link TokenStore.forAccount} is the real one. */
export interface AccessTokenSource {
  accessToken(signal?: AbortSignal): Promise<Secret>;
  /** Called once when TikTok says `access_token_invalid`; returns a fresh token or throws. */
  refreshAccessToken(signal?: AbortSignal): Promise<Secret>;
}

export interface DataRequestStatus {
  /** int64 as a decimal string, exact. */
  requestId: string | undefined;
  status: RemoteStatus | undefined;
  /** Unix seconds (UTC). */
  applyTime: number | undefined;
  collectTime: number | undefined;
  dataFormat: string | undefined;
  categories: string[] | undefined;
  logId: string | undefined;
}

export interface PortabilityClientOptions {
  tokens: AccessTokenSource;
  endpoints?: Partial<TikTokEndpoints>;
  /** Per HTTP attempt, for the JSON endpoints and for a download's first byte. */
  timeoutMs?: number;
  /** Retries of a transient failure within one call (the caller may retry the call later). */
  retries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A `Retry-After` longer than this is not waited out here: the call fails with `retryAfterMs` set. */
  maxRetryAfterMs?: number;
  download?: {
    /** Refuse archives larger than this (default 8 GiB). */
    maxBytes?: number;
    /** Abort a transfer that delivers no byte for this long (default 60 s). */
    idleTimeoutMs?: number;
    /** HTTP attempts for one download, counting resumes (default 5). */
    attempts?: number;
    /** Where the archive is written (default the OS temp directory). */
    directory?: string;
  };
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
}

const GIB = 1024 ** 3;

interface Operation {
  name: string;
  path: string;
  fields?: readonly string[];
  body: Record<string, unknown>;
  policy: RetryPolicy;
}

/**
 * The four Data Portability endpoints (docs/tiktok-api.md §1): Add, Check, Cancel and Download. Replies
 * are parsed with exact int64s, ids are sent as bare JSON numbers, failures become
 * {@link TransientError} (429, 5xx, timeouts, resets) or {@link TerminalError} (scopes, parameters,
 * a token that stays invalid after a refresh), with TikTok's `log_id` in `details`.
 */
export class PortabilityClient {
  readonly endpoints: TikTokEndpoints;
  readonly #tokens: AccessTokenSource;
  readonly #timeoutMs: number;
  readonly #retry: RetrySettings;
  readonly #download: DownloadSettings;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(options: PortabilityClientOptions) {
    this.endpoints = {
      apiBaseUrl: (options.endpoints?.apiBaseUrl ?? TIKTOK_ENDPOINTS.apiBaseUrl).replace(/\/+$/, ''),
      authBaseUrl: (options.endpoints?.authBaseUrl ?? TIKTOK_ENDPOINTS.authBaseUrl).replace(/\/+$/, ''),
    };
    this.#tokens = options.tokens;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retry = {
      retries: options.retries ?? 3,
      baseMs: options.retryBaseMs ?? 1_000,
      maxMs: options.retryMaxMs ?? 60_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 5 * 60_000,
      random: options.random ?? Math.random,
    };
    this.#download = {
      maxBytes: options.download?.maxBytes ?? 8 * GIB,
      idleTimeoutMs: options.download?.idleTimeoutMs ?? 60_000,
      attempts: options.download?.attempts ?? 5,
      directory: options.download?.directory ?? tmpdir(),
    };
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger();
  }

  /** Add: asks TikTok to prepare an archive. Returns the new request id (int64, exact). */
  async addRequest(
    request: { dataFormat: DataFormat; categories: readonly Category[] },
    signal?: AbortSignal,
  ): Promise<{ requestId: string; logId: string | undefined }> {
    const envelope = await this.#call(
      {
        name: 'Add data request',
        path: '/v2/user/data/add/',
        fields: ['request_id'],
        body: { data_format: request.dataFormat, category_selection_list: [...request.categories] },
        policy: 'answered',
      },
      signal,
    );
    const requestId = integerText(field(envelope.data, 'request_id'));
    if (!requestId || !INT64_TEXT.test(requestId)) {
      throw new TerminalError(
        'tiktok_unexpected_response',
        `Add data request: TikTok's reply has no valid \`data.request_id\` (expected an int64 number); log id ${envelope.logId ?? 'none'}.`,
        { details: { log_id: envelope.logId } },
      );
    }
    return { requestId, logId: envelope.logId };
  }

  /** Check: the request's status and times (only the fields asked for are filled). */
  async checkStatus(
    requestId: string,
    options: { fields?: readonly CheckField[]; signal?: AbortSignal } = {},
  ): Promise<DataRequestStatus> {
    const envelope = await this.#call(
      {
        name: `Check status of request \`${requestId}\``,
        path: '/v2/user/data/check/',
        fields: options.fields ?? CHECK_FIELDS,
        body: { request_id: int64(requestId) },
        policy: 'idempotent',
      },
      options.signal,
    );
    const data = envelope.data;
    const status = field(data, 'status');
    if (status !== undefined && !REQUEST_STATUSES.includes(status as RemoteStatus)) {
      throw new TerminalError(
        'tiktok_unexpected_status',
        `Check status of request \`${requestId}\`: TikTok reported status \`${String(status)}\`; expected one of ${REQUEST_STATUSES.join(', ')}. Log id ${envelope.logId ?? 'none'}.`,
        { details: { log_id: envelope.logId, status } },
      );
    }
    const categories = field(data, 'category_selection_list');
    const seconds = (value: unknown) => {
      const text = integerText(value);
      return text === undefined ? undefined : Number(text);
    };
    const format = field(data, 'data_format');
    return {
      requestId: integerText(field(data, 'request_id')),
      status: status as RemoteStatus | undefined,
      applyTime: seconds(field(data, 'apply_time')),
      collectTime: seconds(field(data, 'collect_time')),
      dataFormat: typeof format === 'string' ? format : undefined,
      categories: Array.isArray(categories)
        ? categories.filter((c): c is string => typeof c === 'string')
        : undefined,
      logId: envelope.logId,
    };
  }

  /** Cancel: stops a request (an ongoing grant may then make a new one). */
  async cancelRequest(requestId: string, signal?: AbortSignal): Promise<{ logId: string | undefined }> {
    const envelope = await this.#call(
      {
        name: `Cancel request \`${requestId}\``,
        path: '/v2/user/data/cancel/',
        body: { request_id: int64(requestId) },
        policy: 'idempotent',
      },
      signal,
    );
    return { logId: envelope.logId };
  }

  /**
   * Download: streams the archive to a file in the download directory, with its byte count and
   * SHA-256; see {@link downloadArchive}. The caller removes the file when done.
   */
  download(
    requestId: string,
    options: { signal?: AbortSignal; onProgress?: (bytes: number, total: number | undefined) => void } = {},
  ): Promise<DownloadedArchive> {
    return downloadArchive(requestId, options, {
      apiBaseUrl: this.endpoints.apiBaseUrl,
      tokens: this.#tokens,
      timeoutMs: this.#timeoutMs,
      download: this.#download,
      retry: this.#retry,
      clock: this.#clock,
      logger: this.#logger,
    });
  }

  #call(operation: Operation, signal: AbortSignal | undefined): Promise<Envelope> {
    return withRetries(() => this.#attempt(operation, signal), {
      name: operation.name,
      policy: operation.policy,
      settings: this.#retry,
      refreshAccessToken: (s) => this.#tokens.refreshAccessToken(s),
      clock: this.#clock,
      logger: this.#logger,
      signal,
    });
  }

  async #attempt(operation: Operation, signal: AbortSignal | undefined): Promise<Envelope> {
    const token = await this.#tokens.accessToken(signal);
    const url = new URL(operation.path, `${this.endpoints.apiBaseUrl}/`);
    if (operation.fields) url.searchParams.set('fields', operation.fields.join(','));
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.reveal()}`, 'content-type': 'application/json' },
        body: stringifyExactJson(operation.body),
        signal: attemptSignal(signal, this.#timeoutMs),
        redirect: 'error',
      });
      text = await readLimitedText(response);
    } catch (error) {
      throw networkFailure(error, operation.name, signal, this.#timeoutMs);
    }
    const envelope = parseEnvelope(text);
    if (response.ok && envelope && envelope.code === 'ok') return envelope;
    throw errorFromBody(operation.name, response, text, 'tiktok_unexpected_response', this.#clock.now());
  }
}
