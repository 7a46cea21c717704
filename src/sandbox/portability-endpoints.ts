import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { isLosslessNumber, type LosslessNumber } from 'lossless-json';
import { writeExport } from '../synthetic/index.js';
import { MINUTE, type SandboxContext, SECOND } from './context.js';
import { apiError, envelope, send, sendJsonText } from './replies.js';
import {
  CATEGORY_TYPE,
  type Grant,
  requestState,
  type SandboxRequest,
  scopesToConsume,
  userForNewRequest,
} from './state.js';
import { sendEvent } from './webhooks.js';

const CHECK_FIELDS = [
  'request_id',
  'apply_time',
  'collect_time',
  'status',
  'data_format',
  'category_selection_list',
];
const DATA_FORMATS = ['json', 'text'];

/** The grant behind the request's bearer token, or undefined after answering 401 (docs/tiktok-api.md §1). */
export function authenticate(
  ctx: SandboxContext,
  request: IncomingMessage,
  response: ServerResponse,
): Grant | undefined {
  const now = ctx.clock.now();
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const issued = match ? ctx.state.accessTokens.get(match[1]!) : undefined;
  if (!issued || issued.grant.revoked || issued.expiresAt <= now) {
    apiError(
      response,
      now,
      401,
      'access_token_invalid',
      'The access token is invalid or not found in the request.',
    );
    return undefined;
  }
  const portability = [...issued.grant.scopes].some((scope) => scope.startsWith('portability.'));
  if (!portability) {
    apiError(
      response,
      now,
      401,
      'scope_not_authorized',
      'The user did not authorize the scope required for completing this request.',
    );
    return undefined;
  }
  return issued.grant;
}

/** Add (docs/tiktok-api.md §1.2): validates, uses up `.single` scopes and starts a request. */
export function add(
  ctx: SandboxContext,
  url: URL,
  body: Record<string, unknown>,
  grant: Grant,
  response: ServerResponse,
): void {
  const { settings, state, clock } = ctx;
  const fields = url.searchParams.get('fields');
  if (!fields?.split(',').includes('request_id')) {
    apiError(
      response,
      clock.now(),
      400,
      'invalid_params',
      'The query parameter `fields` is required and must be `request_id`.',
    );
    return;
  }
  if (!DATA_FORMATS.includes(body.data_format as string)) {
    apiError(response, clock.now(), 400, 'invalid_params', '`data_format` must be one of json, text.');
    return;
  }
  const list = body.category_selection_list;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((c) => typeof c !== 'string' || !(c in CATEGORY_TYPE))
  ) {
    apiError(
      response,
      clock.now(),
      400,
      'invalid_params',
      '`category_selection_list` must be a non-empty list of all_data, video, profile, activity, direct_message.',
    );
    return;
  }
  const categories = list.includes('all_data') ? ['all_data'] : (list as string[]);
  const consume = scopesToConsume(categories, grant);
  if (!consume) {
    apiError(
      response,
      clock.now(),
      401,
      'scope_not_authorized',
      'The user did not authorize the scope required for the requested categories.',
    );
    return;
  }
  if (settings.oneRequestAtATime) {
    for (const other of state.requests.values()) {
      if (other.account === grant.account && requestState(other, clock.now()) === 'pending') {
        apiError(
          response,
          clock.now(),
          400,
          'invalid_params',
          'A data request of this user is still being prepared; wait for it or cancel it.',
        );
        return;
      }
    }
  }
  for (const scope of consume) grant.consumed.add(scope);
  const id = state.nextRequestId;
  state.nextRequestId += 7919n;
  const now = clock.now();
  const readyDelayMs = ctx.faults.takePreparationDelay() ?? settings.readyDelayMs;
  const request: SandboxRequest = {
    id,
    account: grant.account,
    grant,
    dataFormat: body.data_format as 'json' | 'text',
    categories: list,
    applyTime: Math.floor(now / SECOND),
    collectAt: now + Math.min(readyDelayMs / 2, MINUTE),
    readyAt: now + readyDelayMs,
    expireAt: now + readyDelayMs + settings.expiryMs,
    cancelled: false,
    user: userForNewRequest(grant.account, now),
    archive: undefined,
  };
  state.requests.set(id.toString(), request);
  scheduleReady(ctx, request);
  sendJsonText(response, 200, envelope(now, 'ok', '', { request_id: id }));
}

/** Check (docs/tiktok-api.md §1.3): only the fields asked for; the status follows the clock. */
export function check(
  ctx: SandboxContext,
  url: URL,
  body: Record<string, unknown>,
  grant: Grant,
  response: ServerResponse,
): void {
  const { clock } = ctx;
  const fields = (url.searchParams.get('fields') ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (fields.length === 0 || fields.some((f) => !CHECK_FIELDS.includes(f))) {
    apiError(
      response,
      clock.now(),
      400,
      'invalid_params',
      `The query parameter \`fields\` is required; valid fields: ${CHECK_FIELDS.join(', ')}.`,
    );
    return;
  }
  const request = requestFor(ctx, body, grant, response);
  if (!request) return;
  const now = clock.now();
  const all: Record<string, unknown> = {
    request_id: request.id,
    apply_time: request.applyTime,
    collect_time: now >= request.collectAt ? Math.floor(request.collectAt / SECOND) : 0,
    status: requestState(request, now),
    data_format: request.dataFormat,
    category_selection_list: request.categories,
  };
  const data = Object.fromEntries(fields.map((f) => [f, all[f]]));
  sendJsonText(response, 200, envelope(clock.now(), 'ok', '', data));
}

/** Cancel (docs/tiktok-api.md §1.4): a pending or ready request becomes `cancelled`. */
export function cancel(
  ctx: SandboxContext,
  body: Record<string, unknown>,
  grant: Grant,
  response: ServerResponse,
): void {
  const { clock } = ctx;
  const request = requestFor(ctx, body, grant, response);
  if (!request) return;
  const state = requestState(request, clock.now());
  if (state !== 'pending' && state !== 'downloading') {
    apiError(
      response,
      clock.now(),
      400,
      'invalid_params',
      `The request is ${state} and cannot be cancelled.`,
    );
    return;
  }
  request.cancelled = true;
  sendJsonText(response, 200, envelope(clock.now(), 'ok', ''));
}

/**
 * Download (docs/tiktok-api.md §1.5): streams the rendered zip, honouring `Range` when
 * `acceptRanges` is on, and applies the download faults (reset, truncation, JSON body, pacing).
 */
export async function download(
  ctx: SandboxContext,
  request: IncomingMessage,
  body: Record<string, unknown>,
  grant: Grant,
  response: ServerResponse,
): Promise<void> {
  const { settings, faults, clock } = ctx;
  const found = requestFor(ctx, body, grant, response);
  if (!found) return;
  const state = requestState(found, clock.now());
  if (state !== 'downloading') {
    // What TikTok answers for a request that is not ready is UNVERIFIED; this follows the documented failure example.
    send(
      response,
      400,
      envelope(
        clock.now(),
        'invalid_params',
        `The data of this request is not available for download (status ${state}).`,
        {},
        {
          http_status_code: 400,
        },
      ),
      { 'content-type': 'application/json; charset=utf-8' },
    );
    return;
  }
  const jsonFault = faults.take(faults.jsonBodies);
  if (jsonFault) {
    send(
      response,
      jsonFault.status,
      envelope(
        clock.now(),
        'internal_error',
        'Something went wrong while preparing the file. Please try again later.',
        {},
        {
          http_status_code: jsonFault.status,
        },
      ),
      { 'content-type': jsonFault.contentType },
    );
    return;
  }
  const file = await archiveFor(ctx, found);
  const size = (await stat(file)).size;
  let start = 0;
  const headers: Record<string, string> = { 'content-type': 'application/zip' };
  if (settings.acceptRanges) headers['accept-ranges'] = 'bytes';
  let status = 200;
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  if (settings.acceptRanges && !settings.ignoreRangeRequests && range && Number(range[1]) < size) {
    start = Number(range[1]);
    status = 206;
    headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
  }
  const reset = faults.take(faults.downloadResets);
  const truncate = reset ? undefined : faults.take(faults.downloadTruncations);
  if (!truncate) headers['content-length'] = String(size - start);
  response.writeHead(status, headers);
  const limit = reset?.afterBytes ?? truncate?.afterBytes ?? Number.POSITIVE_INFINITY;
  let sent = 0;
  const slow = faults.takeSlow();
  const stream = createReadStream(file, { start, highWaterMark: slow?.chunkBytes ?? 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let piece = chunk;
      if (sent + piece.length > limit) piece = piece.subarray(0, Math.max(0, limit - sent));
      if (piece.length > 0 && !response.write(piece)) {
        await new Promise<void>((resolve) => {
          response.once('drain', resolve);
          response.once('close', resolve);
        });
      }
      sent += piece.length;
      if (response.destroyed) return;
      if (sent >= limit) break;
      if (slow) await new Promise((resolve) => setTimeout(resolve, slow.delayMs));
    }
  } finally {
    stream.destroy();
  }
  if (reset) {
    // Let the bytes written so far reach the client, then break the connection mid-body.
    await new Promise((resolve) => setTimeout(resolve, 20));
    request.socket.destroy();
    return;
  }
  response.end();
}

/** Expires one request (or every unexpired one) now; the `expireEarly` fault. Returns how many. */
export function expireEarly(ctx: SandboxContext, requestId: string | undefined): number {
  const { clock } = ctx;
  let count = 0;
  for (const request of ctx.state.requests.values()) {
    if (requestId !== undefined && request.id.toString() !== requestId) continue;
    const state = requestState(request, clock.now());
    if (state === 'pending' || state === 'downloading') {
      request.readyAt = Math.min(request.readyAt, clock.now());
      request.expireAt = clock.now();
      count++;
    }
  }
  return count;
}

/** The user's request named by `body.request_id`, or undefined after answering 400. */
function requestFor(
  ctx: SandboxContext,
  body: Record<string, unknown>,
  grant: Grant,
  response: ServerResponse,
): SandboxRequest | undefined {
  const id = body.request_id;
  const text = isLosslessNumber(id) ? (id as LosslessNumber).value : undefined;
  const found = text && /^[0-9]+$/.test(text) ? ctx.state.requests.get(text) : undefined;
  if (!found || found.account !== grant.account) {
    apiError(
      response,
      ctx.clock.now(),
      400,
      'invalid_params',
      'Incorrect `request_id`. Please validate the request.',
    );
    return undefined;
  }
  return found;
}

/** Renders the request's archive once, from the user as of the request; a failed render is retried. */
function archiveFor(ctx: SandboxContext, request: SandboxRequest): Promise<string> {
  request.archive ??= (async () => {
    const file = path.join(ctx.workDir, `${request.id}.zip`);
    const categories = request.categories.filter(
      (c): c is string => typeof c === 'string' && c in CATEGORY_TYPE,
    );
    await writeExport(
      request.user,
      {
        era: request.account.era,
        format: request.dataFormat === 'text' ? 'txt' : 'json',
        categories: categories as never,
      },
      file,
    );
    return file;
  })();
  request.archive.catch(() => {
    request.archive = undefined;
  });
  return request.archive;
}

/** Sends `portability.download.ready` when the request becomes ready (docs/tiktok-api.md §3). */
function scheduleReady(ctx: SandboxContext, request: SandboxRequest): void {
  const { clock, settings } = ctx;
  // Without a webhook URL nothing is sent, so no timer is needed (status is computed from the clock).
  if (!ctx.webhooks.url) return;
  void (async () => {
    try {
      await clock.sleep(request.readyAt - clock.now(), ctx.signal);
    } catch {
      return;
    }
    if (requestState(request, clock.now()) !== 'downloading') return;
    sendEvent(
      ctx.webhooks,
      settings.clientKey,
      clock.now(),
      'portability.download.ready',
      request.account,
      { request_id: request.id },
      settings.readyEventOpenId,
    );
  })();
}
