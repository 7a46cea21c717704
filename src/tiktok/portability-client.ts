import { createHash, type Hash, randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PipelineError, TerminalError, TransientError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { type Clock, systemClock } from './clock.js';
import { attemptSignal, backoffDelay, networkFailure, parseRetryAfter, readLimitedText } from './http.js';
import { INT64_TEXT, int64, integerText, parseExactJson, stringifyExactJson } from './json.js';
import { TIKTOK_API_BASE_URL, TIKTOK_AUTH_BASE_URL } from './oauth.js';
import type { Secret } from './secret.js';
import type { Category } from './vocabulary.js';

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

export interface DownloadedArchive {
  path: string;
  bytes: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
  /** HTTP attempts it took (1 when nothing broke). */
  attempts: number;
  /** True when a broken transfer was continued with a Range request rather than restarted. */
  resumed: boolean;
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

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const EOCD_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const GIB = 1024 ** 3;
const MAX_ERROR_BODY = 1024 * 1024;

type RetryPolicy =
  /** Safe to repeat: any transient failure is retried. */
  | 'idempotent'
  /** Repeating may duplicate work: retried only when TikTok answered with a failure (or refused the connection). */
  | 'answered';

interface Operation {
  name: string;
  path: string;
  fields?: readonly string[];
  body: Record<string, unknown>;
  policy: RetryPolicy;
}

interface Envelope {
  data: unknown;
  code: string;
  message: string;
  logId: string | undefined;
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
  readonly #retries: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #download: Required<NonNullable<PortabilityClientOptions['download']>>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;

  constructor(options: PortabilityClientOptions) {
    this.endpoints = {
      apiBaseUrl: (options.endpoints?.apiBaseUrl ?? TIKTOK_ENDPOINTS.apiBaseUrl).replace(/\/+$/, ''),
      authBaseUrl: (options.endpoints?.authBaseUrl ?? TIKTOK_ENDPOINTS.authBaseUrl).replace(/\/+$/, ''),
    };
    this.#tokens = options.tokens;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retries = options.retries ?? 3;
    this.#retryBaseMs = options.retryBaseMs ?? 1_000;
    this.#retryMaxMs = options.retryMaxMs ?? 60_000;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 5 * 60_000;
    this.#download = {
      maxBytes: options.download?.maxBytes ?? 8 * GIB,
      idleTimeoutMs: options.download?.idleTimeoutMs ?? 60_000,
      attempts: options.download?.attempts ?? 5,
      directory: options.download?.directory ?? tmpdir(),
    };
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger();
    this.#random = options.random ?? Math.random;
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
   * SHA-256. A JSON error body in place of a zip becomes the mapped error; a broken transfer is
   * continued with a Range request when the server advertised `Accept-Ranges: bytes`, else restarted.
   * The caller removes the file when done.
   */
  async download(
    requestId: string,
    options: { signal?: AbortSignal; onProgress?: (bytes: number, total: number | undefined) => void } = {},
  ): Promise<DownloadedArchive> {
    const { signal } = options;
    const what = `Download of request \`${requestId}\``;
    const base = path.join(this.#download.directory, `tiktok-${requestId}-${randomBytes(4).toString('hex')}`);
    const partPath = `${base}.zip.part`;
    const finalPath = `${base}.zip`;
    const file: FileHandle = await open(partPath, 'w+');
    let fileClosed = false;
    let offset = 0;
    let hash: Hash = createHash('sha256');
    let acceptRanges = false;
    let resumed = false;
    let rangeBroken = false;
    let refreshed = false;
    let failures = 0;
    let attempts = 0;
    const restart = async () => {
      offset = 0;
      hash = createHash('sha256');
      await file.truncate(0);
    };

    try {
      for (;;) {
        attempts++;
        const ranged = offset > 0 && acceptRanges && !rangeBroken;
        if (offset > 0 && !ranged) await restart();
        try {
          const token = await this.#tokens.accessToken(signal);
          const outcome = await this.#transfer(requestId, token, {
            file,
            offset,
            hash: () => hash,
            ranged,
            signal,
            onProgress: options.onProgress,
            onAcceptRanges: (value) => {
              acceptRanges = value;
            },
            onRestart: restart,
            onBytes: (written) => {
              offset = written;
            },
          });
          if (ranged && outcome.continued) resumed = true;
          fileClosed = true;
          await file.close();
          await rename(partPath, finalPath);
          return { path: finalPath, bytes: offset, sha256: hash.digest('hex'), attempts, resumed };
        } catch (error) {
          if (error instanceof PipelineError && error.code === 'access_token_invalid' && !refreshed) {
            refreshed = true;
            await this.#tokens.refreshAccessToken(signal);
            continue;
          }
          const failure =
            error instanceof PipelineError ? error : networkFailure(error, what, signal, this.#timeoutMs);
          if (!(failure instanceof TransientError) || attempts >= this.#download.attempts) throw failure;
          if (failure.code === 'download_truncated_archive') await restart();
          if (failure.code === 'download_bad_range') rangeBroken = true;
          failures++;
          const delay = this.#retryDelay(failure, failures - 1);
          if (delay === undefined) throw failure;
          this.#logger.warn(
            {
              requestId,
              attempt: attempts,
              bytesSoFar: offset,
              code: failure.code,
              delayMs: delay,
              acceptRanges,
            },
            'download broke off; retrying',
          );
          await this.#clock.sleep(delay, signal);
        }
      }
    } catch (error) {
      if (!fileClosed) await file.close().catch(() => {});
      await rm(partPath, { force: true });
      throw error;
    }
  }

  /** One HTTP attempt of a download; throws on anything but a complete archive. */
  async #transfer(
    requestId: string,
    token: Secret,
    state: {
      file: FileHandle;
      offset: number;
      /** The running hash; a restart replaces it, so it is fetched per chunk. */
      hash: () => Hash;
      ranged: boolean;
      signal: AbortSignal | undefined;
      onProgress: ((bytes: number, total: number | undefined) => void) | undefined;
      onAcceptRanges(value: boolean): void;
      onRestart(): Promise<void>;
      onBytes(written: number): void;
    },
  ): Promise<{ continued: boolean }> {
    const what = `Download of request \`${requestId}\``;
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(new DOMException('idle', 'TimeoutError')), this.#timeoutMs);
    const bump = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => idle.abort(new DOMException('idle', 'TimeoutError')),
        this.#download.idleTimeoutMs,
      );
    };
    const signal = state.signal ? AbortSignal.any([state.signal, idle.signal]) : idle.signal;
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token.reveal()}`,
        'content-type': 'application/json',
      };
      if (state.ranged) headers.range = `bytes=${state.offset}-`;
      let response: Response;
      try {
        response = await fetch(`${this.endpoints.apiBaseUrl}/v2/user/data/download/`, {
          method: 'POST',
          headers,
          body: stringifyExactJson({ request_id: int64(requestId) }),
          signal,
          redirect: 'follow',
        });
      } catch (error) {
        throw networkFailure(error, what, state.signal, this.#timeoutMs);
      }
      state.onAcceptRanges(/\bbytes\b/i.test(response.headers.get('accept-ranges') ?? ''));

      const contentType = response.headers.get('content-type') ?? '';
      if (!response.ok || /json/i.test(contentType)) {
        const text = await readLimitedText(response);
        throw this.#errorFromBody(what, response, text, 'download_not_zip');
      }

      let written = state.offset;
      let total: number | undefined;
      let continued = false;
      if (response.status === 206 && state.ranged) {
        const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
        if (range && Number(range[1]) === state.offset) {
          continued = true;
          total = range[3] === '*' ? undefined : Number(range[3]);
        } else {
          await response.body?.cancel().catch(() => {});
          throw new TransientError(
            'download_bad_range',
            `${what}: the server answered the Range request with \`${response.headers.get('content-range') ?? 'no Content-Range'}\`; restarting from the first byte.`,
          );
        }
      } else {
        if (state.offset > 0) {
          await state.onRestart();
          written = 0;
        }
        const length = response.headers.get('content-length');
        total = length && /^\d+$/.test(length) ? Number(length) : undefined;
      }
      if (total !== undefined && total > this.#download.maxBytes) {
        await response.body?.cancel().catch(() => {});
        throw this.#tooLarge(what, total);
      }
      if (!response.body)
        throw new TransientError('download_empty', `${what}: TikTok answered with an empty body.`);

      // Bytes are held back until the first four are known: a JSON error body must not land in the file.
      let head: Buffer | undefined = written === 0 ? Buffer.alloc(0) : undefined;
      let notZip = false;
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          bump();
          let buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          if (head !== undefined) {
            head = Buffer.concat([head, buffer]);
            if (notZip) {
              if (head.length > MAX_ERROR_BODY) break;
              continue;
            }
            if (head.length < ZIP_MAGIC.length) continue;
            if (!head.subarray(0, 4).equals(ZIP_MAGIC)) {
              notZip = true;
              continue;
            }
            buffer = head;
            head = undefined;
          }
          if (written + buffer.length > this.#download.maxBytes)
            throw this.#tooLarge(what, written + buffer.length);
          await state.file.write(buffer, 0, buffer.length, written);
          state.hash().update(buffer);
          written += buffer.length;
          state.onBytes(written);
          state.onProgress?.(written, total);
        }
      } catch (error) {
        if (error instanceof PipelineError) throw error;
        if (notZip)
          throw this.#errorFromBody(what, response, head?.toString('utf8') ?? '', 'download_not_zip');
        throw networkFailure(
          error,
          `${what} (after ${written} bytes)`,
          state.signal,
          this.#download.idleTimeoutMs,
        );
      }
      if (notZip) await response.body.cancel().catch(() => {});
      if (head !== undefined) {
        throw this.#errorFromBody(what, response, head.toString('utf8'), 'download_not_zip');
      }
      if (total !== undefined && written < total) {
        throw new TransientError(
          'download_incomplete',
          `${what} ended after ${written} of ${total} bytes; it will be retried.`,
          { details: { bytes: written, total } },
        );
      }
      if (!(await hasEndOfCentralDirectory(state.file, written))) {
        throw new TransientError(
          'download_truncated_archive',
          `${what} ended after ${written} bytes without the zip's end record (a truncated transfer); it will be downloaded again.`,
          { details: { bytes: written } },
        );
      }
      return { continued };
    } finally {
      clearTimeout(timer);
    }
  }

  #tooLarge(what: string, bytes: number): TerminalError {
    return new TerminalError(
      'archive_too_large',
      `${what}: the archive is at least ${bytes} bytes, above the limit of ${this.#download.maxBytes}; raise the download size limit if this is expected.`,
      { details: { bytes, maxBytes: this.#download.maxBytes } },
    );
  }

  async #call(operation: Operation, signal: AbortSignal | undefined): Promise<Envelope> {
    let refreshed = false;
    let failures = 0;
    for (;;) {
      let error: PipelineError;
      try {
        return await this.#attempt(operation, signal);
      } catch (thrown) {
        if (!(thrown instanceof PipelineError)) throw thrown;
        error = thrown;
      }
      if (error.code === 'access_token_invalid' && !refreshed) {
        refreshed = true;
        await this.#tokens.refreshAccessToken(signal);
        continue;
      }
      if (!(error instanceof TransientError) || failures >= this.#retries) throw error;
      if (operation.policy === 'answered' && !answered(error)) throw error;
      const delay = this.#retryDelay(error, failures);
      if (delay === undefined) throw error;
      failures++;
      this.#logger.warn(
        {
          operation: operation.name,
          attempt: failures,
          code: error.code,
          delayMs: delay,
          log_id: error.details.log_id,
        },
        'TikTok call failed; retrying',
      );
      await this.#clock.sleep(delay, signal);
    }
  }

  /** How long to wait before retrying, or undefined when the server asks for longer than we wait in-call. */
  #retryDelay(error: TransientError, failures: number): number | undefined {
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs > this.#maxRetryAfterMs ? undefined : error.retryAfterMs;
    }
    return backoffDelay(failures, this.#retryBaseMs, this.#retryMaxMs, this.#random);
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
    throw this.#errorFromBody(operation.name, response, text, 'tiktok_unexpected_response');
  }

  /** Maps a failed reply (the v2 envelope, or whatever came instead) to a PipelineError. */
  #errorFromBody(what: string, response: Response, text: string, fallbackCode: string): PipelineError {
    const envelope = parseEnvelope(text);
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.#clock.now());
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
}

/** True when TikTok answered (so nothing happened on its side), not when the outcome is unknown. */
function answered(error: TransientError): boolean {
  if (error.code === 'tiktok_timeout') return false;
  if (error.code === 'tiktok_network_error') return error.details.networkCode === 'ECONNREFUSED';
  return true;
}

function parseEnvelope(text: string): Envelope | undefined {
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

function field(value: unknown, key: string): unknown {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '.');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** Whether the last 64 KiB + 22 bytes hold a zip end-of-central-directory record. */
async function hasEndOfCentralDirectory(file: FileHandle, size: number): Promise<boolean> {
  const span = Math.min(size, 65_535 + 22);
  if (span < 22) return false;
  const buffer = Buffer.alloc(span);
  await file.read(buffer, 0, span, size - span);
  for (let i = span - 22; i >= 0; i--) {
    if (buffer[i] === 0x50 && buffer.subarray(i, i + 4).equals(EOCD_MAGIC)) return true;
  }
  return false;
}
