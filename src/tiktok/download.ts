import { createHash, type Hash, randomBytes } from 'node:crypto';
import { type FileHandle, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError, TerminalError, TransientError } from '../errors.js';
import type { Logger } from '../logger.js';
import { openPrivateFile } from '../private-files.js';
import type { Clock } from './clock.js';
import { errorFromBody } from './envelope.js';
import { networkFailure, readLimitedText } from './http.js';
import { int64, stringifyExactJson } from './json.js';
import type { AccessTokenSource } from './portability-client.js';
import { type RetrySettings, retryDelay } from './retry.js';
import type { Secret } from './secret.js';

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const EOCD_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const MAX_ERROR_BODY = 1024 * 1024;

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

export interface DownloadSettings {
  /** Refuse archives larger than this. */
  maxBytes: number;
  /** Abort a transfer that delivers no byte for this long. */
  idleTimeoutMs: number;
  /** HTTP attempts for one download, counting resumes. */
  attempts: number;
  /** Where the archive is written. */
  directory: string;
}

/** What a download needs from the client that starts it. */
export interface DownloadDeps {
  apiBaseUrl: string;
  tokens: AccessTokenSource;
  /** Per HTTP attempt, until the first byte. */
  timeoutMs: number;
  download: DownloadSettings;
  retry: RetrySettings;
  clock: Clock;
  logger: Logger;
}

/**
 * Download (docs/tiktok-api.md §1.5): streams the archive to a file in the download directory, with
 * its byte count and SHA-256. A JSON error body in place of a zip becomes the mapped error; a broken
 * transfer is continued with a Range request when the server advertised `Accept-Ranges: bytes`, else
 * restarted. The caller removes the file when done.
 */
export async function downloadArchive(
  requestId: string,
  options: { signal?: AbortSignal; onProgress?: (bytes: number, total: number | undefined) => void },
  deps: DownloadDeps,
): Promise<DownloadedArchive> {
  const { signal } = options;
  const what = `Download of request \`${requestId}\``;
  const base = path.join(deps.download.directory, `tiktok-${requestId}-${randomBytes(4).toString('hex')}`);
  const partPath = `${base}.zip.part`;
  const finalPath = `${base}.zip`;
  // Owner-only from the first byte: it is someone's whole export (src/private-files.ts).
  const file: FileHandle = await openPrivateFile(partPath, 'w+');
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
        const token = await deps.tokens.accessToken(signal);
        const outcome = await transfer(requestId, token, deps, {
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
          await deps.tokens.refreshAccessToken(signal);
          continue;
        }
        const failure =
          error instanceof PipelineError ? error : networkFailure(error, what, signal, deps.timeoutMs);
        if (!(failure instanceof TransientError) || attempts >= deps.download.attempts) throw failure;
        if (failure.code === 'download_truncated_archive') await restart();
        if (failure.code === 'download_bad_range') rangeBroken = true;
        failures++;
        const delay = retryDelay(failure, failures - 1, deps.retry);
        if (delay === undefined) throw failure;
        deps.logger.warn(
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
        await deps.clock.sleep(delay, signal);
      }
    }
  } catch (error) {
    if (!fileClosed) await file.close().catch(() => {});
    await rm(partPath, { force: true });
    throw error;
  }
}

/** One HTTP attempt of a download; throws on anything but a complete archive. */
async function transfer(
  requestId: string,
  token: Secret,
  deps: DownloadDeps,
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
  let timer = setTimeout(() => idle.abort(new DOMException('idle', 'TimeoutError')), deps.timeoutMs);
  const bump = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => idle.abort(new DOMException('idle', 'TimeoutError')),
      deps.download.idleTimeoutMs,
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
      response = await fetch(`${deps.apiBaseUrl}/v2/user/data/download/`, {
        method: 'POST',
        headers,
        body: stringifyExactJson({ request_id: int64(requestId) }),
        signal,
        redirect: 'follow',
      });
    } catch (error) {
      throw networkFailure(error, what, state.signal, deps.timeoutMs);
    }
    state.onAcceptRanges(/\bbytes\b/i.test(response.headers.get('accept-ranges') ?? ''));

    const contentType = response.headers.get('content-type') ?? '';
    if (!response.ok || /json/i.test(contentType)) {
      const text = await readLimitedText(response);
      throw errorFromBody(what, response, text, 'download_not_zip', deps.clock.now());
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
    if (total !== undefined && total > deps.download.maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(what, total, deps.download.maxBytes);
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
        if (written + buffer.length > deps.download.maxBytes)
          throw tooLarge(what, written + buffer.length, deps.download.maxBytes);
        await state.file.write(buffer, 0, buffer.length, written);
        state.hash().update(buffer);
        written += buffer.length;
        state.onBytes(written);
        state.onProgress?.(written, total);
      }
    } catch (error) {
      if (error instanceof PipelineError) throw error;
      if (notZip)
        throw errorFromBody(
          what,
          response,
          head?.toString('utf8') ?? '',
          'download_not_zip',
          deps.clock.now(),
        );
      throw networkFailure(
        error,
        `${what} (after ${written} bytes)`,
        state.signal,
        deps.download.idleTimeoutMs,
      );
    }
    if (notZip) await response.body.cancel().catch(() => {});
    if (head !== undefined) {
      throw errorFromBody(what, response, head.toString('utf8'), 'download_not_zip', deps.clock.now());
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

function tooLarge(what: string, bytes: number, maxBytes: number): TerminalError {
  return new TerminalError(
    'archive_too_large',
    `${what}: the archive is at least ${bytes} bytes, above the limit of ${maxBytes}; raise the download size limit if this is expected.`,
    { details: { bytes, maxBytes } },
  );
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
