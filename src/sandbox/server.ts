import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isLosslessNumber, type LosslessNumber, parse, stringify } from 'lossless-json';
import { DAY, MINUTE, SECOND } from '../duration.js';
import { type Logger, silentLogger } from '../logger.js';
import { writeExport } from '../synthetic/index.js';
import { type Clock, SimulatedClock } from '../tiktok/clock.js';
import { type Endpoint, Faults } from './faults.js';
import {
  type AuthorizationCode,
  CATEGORY_TYPE,
  createAccount,
  type Grant,
  type IssuedToken,
  logId,
  requestState,
  type SandboxAccount,
  type SandboxAccountOptions,
  type SandboxRequest,
  SCOPES,
  scopesToConsume,
  userForNewRequest,
} from './state.js';
import { type WebhookDelivery, WebhookSender } from './webhooks.js';

const CHECK_FIELDS = [
  'request_id',
  'apply_time',
  'collect_time',
  'status',
  'data_format',
  'category_selection_list',
];
const DATA_FORMATS = ['json', 'text'];
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export interface SandboxOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  clientKey?: string;
  clientSecret?: string;
  /** Registered redirect URIs; a `*` port matches any port (desktop apps). Default `http://127.0.0.1:*\/callback/`. */
  redirectUris?: readonly string[];
  /** Default: a {@link SimulatedClock} that tests advance. */
  clock?: Clock;
  accounts?: readonly SandboxAccountOptions[];
  /** From Add to `downloading` (default 60 s). */
  readyDelayMs?: number;
  /** From `downloading` to `expired` (default 4 days, as documented). */
  expiryMs?: number;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  /** Hand out a new refresh token on every refresh, invalidating the old one (default true). */
  rotateRefreshTokens?: boolean;
  /** Challenge encoding the token endpoint checks: TikTok's desktop doc says hex (default). */
  pkceEncoding?: 'hex' | 'base64url' | 'either';
  requirePkce?: boolean;
  /** The first request id (default 7412345678901234567, above 2^53). */
  firstRequestId?: bigint;
  /** Refuse an Add while the user has a request still pending (default true; TikTok's rule is UNVERIFIED). */
  oneRequestAtATime?: boolean;
  webhook?: {
    url?: string;
    maxAttempts?: number;
    initialDelayMs?: number;
    /** TikTok's example of download.ready has no user_openid (default false, like the docs). */
    includeOpenId?: boolean;
    /** Send `authorization.removed` when a grant is revoked (default true). */
    authorizationRemoved?: boolean;
  };
  /** Requests per endpoint per minute before 429 (default 1000, as documented). */
  rateLimitPerMinute?: number;
  /** Advertise `Accept-Ranges: bytes` on Download and honour Range (undocumented at TikTok; default false). */
  acceptRanges?: boolean;
  /** With `acceptRanges`, still answer Range requests with the whole file (200), as some servers do. */
  ignoreRangeRequests?: boolean;
  faults?: Faults;
  logger?: Logger;
}

export interface ConsentDecision {
  /** Which sandbox user signs in (default the first). */
  account?: string;
  /** Scopes granted; default: the requested ones the user agrees to. */
  grant?: readonly string[];
  /** Answer `error=access_denied`. */
  deny?: boolean;
}

export interface Sandbox {
  /** API base URL (`https://open.tiktokapis.com` stand-in). */
  readonly url: string;
  /** Consent base URL (`https://www.tiktok.com` stand-in); the same server. */
  readonly consentUrl: string;
  readonly clientKey: string;
  readonly clientSecret: string;
  readonly clock: Clock;
  readonly faults: Faults;
  readonly accounts: ReadonlyMap<string, SandboxAccount>;
  readonly webhooks: {
    readonly deliveries: readonly WebhookDelivery[];
    setUrl(url: string | undefined): void;
    redeliver(delivery: WebhookDelivery): Promise<number | undefined>;
    sign(rawBody: string, timestampSeconds: number): string;
    idle(): Promise<void>;
  };
  /** Queues how the next consent is answered. */
  consent(decision: ConsentDecision): void;
  /**
   * Plays the browser: opens a consent URL, follows TikTok's redirect to the app's redirect URI and
   * returns that URI with its query (`code`, `scopes`, `state` or `error`).
   */
  browse(consentUrl: string): Promise<{ location: string; status: number }>;
  /** Requests made so far, by id. */
  requests(): ReadonlyArray<{
    requestId: string;
    username: string;
    status: string;
    categories: unknown[];
    dataFormat: string;
  }>;
  /** Counts of requests per endpoint (for tests). */
  readonly hits: Readonly<Record<Endpoint, number>>;
  close(): Promise<void>;
}

/**
 * TikTok on loopback, following the documentation (docs/tiktok-api.md §1–3, §6) rather than our client:
 * Login Kit consent with PKCE, token/refresh/revoke, Add/Check/Cancel/Download with the documented
 * validation and envelopes, signed webhooks, rate limits and injectable faults. Exports are rendered
 * from seeded synthetic users that evolve between requests.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const clock = options.clock ?? new SimulatedClock();
  const logger = options.logger ?? silentLogger();
  const faults = options.faults ?? new Faults();
  const clientKey = options.clientKey ?? 'sbxclientkey0001';
  const clientSecret = options.clientSecret ?? randomBytes(16).toString('hex');
  const redirectUris = options.redirectUris ?? ['http://127.0.0.1:*/callback/'];
  const readyDelayMs = options.readyDelayMs ?? 60 * SECOND;
  const expiryMs = options.expiryMs ?? 4 * DAY;
  const accessTtl = options.accessTokenTtlSeconds ?? 86_400;
  const refreshTtl = options.refreshTokenTtlSeconds ?? 31_536_000;
  const rotate = options.rotateRefreshTokens ?? true;
  const pkceEncoding = options.pkceEncoding ?? 'hex';
  const requirePkce = options.requirePkce ?? true;
  const oneAtATime = options.oneRequestAtATime ?? true;
  const rateLimit = options.rateLimitPerMinute ?? 1000;
  const acceptRanges = options.acceptRanges ?? false;
  const workDir = await mkdtemp(path.join(tmpdir(), 'tiktok-sandbox-'));
  const lifetime = new AbortController();

  const accounts = new Map<string, SandboxAccount>();
  (options.accounts ?? [{ username: 'sandbox.user' }]).forEach((account, index) => {
    accounts.set(account.username, createAccount(account, index, clock.now()));
  });
  const codes = new Map<string, AuthorizationCode>();
  const accessTokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, Grant>();
  const grants: Grant[] = [];
  const requests = new Map<string, SandboxRequest>();
  const consentQueue: ConsentDecision[] = [];
  const windows = new Map<Endpoint, number[]>();
  const hits: Record<Endpoint, number> = {
    authorize: 0,
    token: 0,
    revoke: 0,
    add: 0,
    check: 0,
    cancel: 0,
    download: 0,
  };
  let nextRequestId = options.firstRequestId ?? 7_412_345_678_901_234_567n;

  const webhooks = new WebhookSender({
    url: options.webhook?.url,
    clientSecret,
    clock,
    logger,
    maxAttempts: options.webhook?.maxAttempts ?? 8,
    initialDelayMs: options.webhook?.initialDelayMs ?? 30 * SECOND,
    signal: lifetime.signal,
  });
  const sendEvent = (
    event: string,
    account: SandboxAccount,
    content: Record<string, unknown>,
    withOpenId: boolean,
  ) => {
    const body: Record<string, unknown> = {
      client_key: clientKey,
      event,
      create_time: Math.floor(clock.now() / 1000),
      ...(withOpenId ? { user_openid: account.openId } : {}),
      content: stringify(content),
    };
    return webhooks.send(body, (value) => stringify(value) ?? '');
  };

  const revokeGrant = async (grant: Grant, reason: number) => {
    if (grant.revoked) return;
    grant.revoked = true;
    refreshTokens.delete(grant.refreshToken);
    for (const [token, issued] of accessTokens) if (issued.grant === grant) accessTokens.delete(token);
    if (options.webhook?.authorizationRemoved ?? true) {
      sendEvent('authorization.removed', grant.account, { reason }, true);
    }
  };
  faults.onRevoke = async (username, reason) => {
    for (const grant of grants) if (grant.account.username === username) await revokeGrant(grant, reason);
  };
  faults.onExpireEarly = (requestId) => {
    let count = 0;
    for (const request of requests.values()) {
      if (requestId !== undefined && request.id.toString() !== requestId) continue;
      const state = requestState(request, clock.now());
      if (state === 'pending' || state === 'downloading') {
        request.readyAt = Math.min(request.readyAt, clock.now());
        request.expireAt = clock.now();
        count++;
      }
    }
    return count;
  };

  // ---- helpers -------------------------------------------------------------------------------

  const envelope = (code: string, message: string, data?: unknown, extra: Record<string, unknown> = {}) =>
    stringify({
      ...(data === undefined ? {} : { data }),
      error: { code, message, log_id: logId(clock.now()), ...extra },
    }) ?? '';

  const apiError = (
    response: ServerResponse,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) =>
    send(response, status, envelope(code, message, {}), {
      'content-type': 'application/json; charset=utf-8',
      ...headers,
    });

  const oauthError = (response: ServerResponse, status: number, error: string, description: string) =>
    send(
      response,
      status,
      JSON.stringify({ error, error_description: description, log_id: logId(clock.now()) }),
      {
        'content-type': 'application/json; charset=utf-8',
      },
    );

  const limited = (endpoint: Endpoint): number | undefined => {
    const now = clock.now();
    const window = (windows.get(endpoint) ?? []).filter((at) => at > now - MINUTE);
    windows.set(endpoint, window);
    if (window.length >= rateLimit) return Math.max(1, Math.ceil((window[0]! + MINUTE - now) / SECOND));
    window.push(now);
    return undefined;
  };

  const authenticate = (request: IncomingMessage, response: ServerResponse): Grant | undefined => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const issued = match ? accessTokens.get(match[1]!) : undefined;
    if (!issued || issued.grant.revoked || issued.expiresAt <= clock.now()) {
      apiError(
        response,
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
        401,
        'scope_not_authorized',
        'The user did not authorize the scope required for completing this request.',
      );
      return undefined;
    }
    return issued.grant;
  };

  const issueTokens = (grant: Grant) => {
    const accessToken = `act.${randomBytes(24).toString('base64url')}`;
    accessTokens.set(accessToken, { grant, expiresAt: clock.now() + accessTtl * SECOND });
    return {
      access_token: accessToken,
      expires_in: accessTtl,
      open_id: grant.account.openId,
      refresh_expires_in: Math.max(1, Math.floor((grant.refreshExpiresAt - clock.now()) / SECOND)),
      refresh_token: grant.refreshToken,
      scope: [...grant.scopes].join(','),
      token_type: 'Bearer',
    };
  };

  const requestFor = (body: Record<string, unknown>, grant: Grant, response: ServerResponse) => {
    const id = body.request_id;
    const text = isLosslessNumber(id) ? (id as LosslessNumber).value : undefined;
    if (!text || !/^[0-9]+$/.test(text)) {
      apiError(response, 400, 'invalid_params', 'Incorrect `request_id`. Please validate the request.', {});
      return undefined;
    }
    const found = requests.get(text);
    if (!found || found.account !== grant.account) {
      apiError(response, 400, 'invalid_params', 'Incorrect `request_id`. Please validate the request.');
      return undefined;
    }
    return found;
  };

  const archiveFor = (request: SandboxRequest): Promise<string> => {
    request.archive ??= (async () => {
      const file = path.join(workDir, `${request.id}.zip`);
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
  };

  const scheduleReady = (request: SandboxRequest) => {
    // Without a webhook URL nothing is sent, so no timer is needed (status is computed from the clock).
    if (!webhooks.url) return;
    void (async () => {
      try {
        await clock.sleep(request.readyAt - clock.now(), lifetime.signal);
      } catch {
        return;
      }
      if (requestState(request, clock.now()) !== 'downloading') return;
      sendEvent(
        'portability.download.ready',
        request.account,
        { request_id: request.id },
        options.webhook?.includeOpenId ?? false,
      );
    })();
  };

  // ---- endpoints -----------------------------------------------------------------------------

  const authorize = (url: URL, response: ServerResponse) => {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('client_key') !== clientKey) {
      send(response, 400, 'client_key is missing or unknown.', { 'content-type': 'text/plain' });
      return;
    }
    if (!redirectUris.some((pattern) => redirectMatches(pattern, redirectUri))) {
      send(response, 400, 'redirect_uri does not match a registered redirect URI.', {
        'content-type': 'text/plain',
      });
      return;
    }
    const state = q.get('state');
    const back = (params: Record<string, string>) => {
      const target = new URL(redirectUri);
      for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
      if (state !== null) target.searchParams.set('state', state);
      response.writeHead(302, { location: target.toString() });
      response.end();
    };
    if (q.get('response_type') !== 'code') {
      back({ error: 'unsupported_response_type', error_description: 'response_type must be code.' });
      return;
    }
    const requested = (q.get('scope') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = requested.filter(
      (scope) => !(SCOPES as readonly string[]).includes(scope) && scope !== 'user.info.basic',
    );
    if (requested.length === 0 || unknown.length > 0) {
      back({
        error: 'invalid_scope',
        error_description: `Unknown or missing scope: ${unknown.join(',') || '(none)'}.`,
      });
      return;
    }
    const challenge = q.get('code_challenge') ?? undefined;
    if (requirePkce && (!challenge || q.get('code_challenge_method') !== 'S256')) {
      back({
        error: 'invalid_request',
        error_description: 'code_challenge and code_challenge_method=S256 are required.',
      });
      return;
    }
    const decision = consentQueue.shift() ?? {};
    if (decision.deny) {
      back({ error: 'access_denied', error_description: 'The user denied the authorization.' });
      return;
    }
    const account = decision.account ? accounts.get(decision.account) : accounts.values().next().value;
    if (!account) {
      back({ error: 'server_error', error_description: 'No such sandbox user.' });
      return;
    }
    const granted = (decision.grant ?? requested).filter(
      (scope) => requested.includes(scope) && (!account.grants || account.grants.includes(scope)),
    );
    if (granted.length === 0) {
      back({ error: 'access_denied', error_description: 'The user granted none of the requested scopes.' });
      return;
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      account,
      scopes: granted,
      redirectUri,
      challenge,
      expiresAt: clock.now() + 10 * MINUTE,
      used: false,
    });
    back({ code, scopes: granted.join(',') });
  };

  const token = (form: URLSearchParams, contentType: string, response: ServerResponse) => {
    if (!contentType.includes('application/x-www-form-urlencoded')) {
      oauthError(response, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded.');
      return;
    }
    if (form.get('client_key') !== clientKey || form.get('client_secret') !== clientSecret) {
      oauthError(response, 401, 'invalid_client', 'Client key or secret is invalid.');
      return;
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (!code || code.used || code.expiresAt <= clock.now()) {
        oauthError(response, 400, 'invalid_grant', 'Authorization code is expired, already used or unknown.');
        return;
      }
      if (form.get('redirect_uri') !== code.redirectUri) {
        oauthError(
          response,
          400,
          'invalid_grant',
          'redirect_uri does not match the one of the authorization request.',
        );
        return;
      }
      const verifier = form.get('code_verifier');
      if (code.challenge !== undefined || requirePkce) {
        if (!verifier || !VERIFIER.test(verifier)) {
          oauthError(response, 400, 'invalid_request', 'code_verifier is missing or malformed.');
          return;
        }
        const digest = createHash('sha256').update(verifier).digest();
        const accepted =
          pkceEncoding === 'either'
            ? [digest.toString('hex'), digest.toString('base64url')]
            : [digest.toString(pkceEncoding)];
        if (!code.challenge || !accepted.includes(code.challenge)) {
          oauthError(response, 400, 'invalid_grant', 'code_verifier does not match the code_challenge.');
          return;
        }
      }
      code.used = true;
      const grant: Grant = {
        id: grants.length + 1,
        account: code.account,
        scopes: new Set(code.scopes),
        consumed: new Set(),
        revoked: false,
        refreshToken: `rft.${randomBytes(24).toString('base64url')}`,
        refreshExpiresAt: clock.now() + refreshTtl * SECOND,
      };
      grants.push(grant);
      refreshTokens.set(grant.refreshToken, grant);
      send(response, 200, JSON.stringify(issueTokens(grant)), {
        'content-type': 'application/json; charset=utf-8',
      });
      return;
    }
    if (grantType === 'refresh_token') {
      const grant = refreshTokens.get(form.get('refresh_token') ?? '');
      if (!grant || grant.revoked || grant.refreshExpiresAt <= clock.now()) {
        oauthError(response, 400, 'invalid_grant', 'Refresh token is invalid or expired.');
        return;
      }
      if (rotate) {
        refreshTokens.delete(grant.refreshToken);
        grant.refreshToken = `rft.${randomBytes(24).toString('base64url')}`;
        refreshTokens.set(grant.refreshToken, grant);
      }
      send(response, 200, JSON.stringify(issueTokens(grant)), {
        'content-type': 'application/json; charset=utf-8',
      });
      return;
    }
    oauthError(
      response,
      400,
      'unsupported_grant_type',
      `grant_type \`${grantType ?? ''}\` is not supported.`,
    );
  };

  const revoke = async (form: URLSearchParams, response: ServerResponse) => {
    if (form.get('client_key') !== clientKey || form.get('client_secret') !== clientSecret) {
      oauthError(response, 401, 'invalid_client', 'Client key or secret is invalid.');
      return;
    }
    const value = form.get('token') ?? '';
    const grant = accessTokens.get(value)?.grant ?? refreshTokens.get(value);
    if (!grant) {
      oauthError(response, 400, 'invalid_request', 'token is missing or unknown.');
      return;
    }
    await revokeGrant(grant, 5);
    send(response, 200, '', {});
  };

  const add = (url: URL, body: Record<string, unknown>, grant: Grant, response: ServerResponse) => {
    const fields = url.searchParams.get('fields');
    if (!fields?.split(',').includes('request_id')) {
      apiError(
        response,
        400,
        'invalid_params',
        'The query parameter `fields` is required and must be `request_id`.',
      );
      return;
    }
    if (!DATA_FORMATS.includes(body.data_format as string)) {
      apiError(response, 400, 'invalid_params', '`data_format` must be one of json, text.');
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
        401,
        'scope_not_authorized',
        'The user did not authorize the scope required for the requested categories.',
      );
      return;
    }
    if (oneAtATime) {
      for (const other of requests.values()) {
        if (other.account === grant.account && requestState(other, clock.now()) === 'pending') {
          apiError(
            response,
            400,
            'invalid_params',
            'A data request of this user is still being prepared; wait for it or cancel it.',
          );
          return;
        }
      }
    }
    for (const scope of consume) grant.consumed.add(scope);
    const id = nextRequestId;
    nextRequestId += 7919n;
    const now = clock.now();
    const request: SandboxRequest = {
      id,
      account: grant.account,
      grant,
      dataFormat: body.data_format as 'json' | 'text',
      categories: list,
      applyTime: Math.floor(now / SECOND),
      collectAt: now + Math.min(readyDelayMs / 2, MINUTE),
      readyAt: now + readyDelayMs,
      expireAt: now + readyDelayMs + expiryMs,
      cancelled: false,
      user: userForNewRequest(grant.account, now),
      archive: undefined,
    };
    requests.set(id.toString(), request);
    scheduleReady(request);
    sendJsonText(response, 200, envelope('ok', '', { request_id: id }));
  };

  const check = (url: URL, body: Record<string, unknown>, grant: Grant, response: ServerResponse) => {
    const fields = (url.searchParams.get('fields') ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    if (fields.length === 0 || fields.some((f) => !CHECK_FIELDS.includes(f))) {
      apiError(
        response,
        400,
        'invalid_params',
        `The query parameter \`fields\` is required; valid fields: ${CHECK_FIELDS.join(', ')}.`,
      );
      return;
    }
    const request = requestFor(body, grant, response);
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
    sendJsonText(response, 200, envelope('ok', '', data));
  };

  const cancel = (body: Record<string, unknown>, grant: Grant, response: ServerResponse) => {
    const request = requestFor(body, grant, response);
    if (!request) return;
    const state = requestState(request, clock.now());
    if (state !== 'pending' && state !== 'downloading') {
      apiError(response, 400, 'invalid_params', `The request is ${state} and cannot be cancelled.`);
      return;
    }
    request.cancelled = true;
    sendJsonText(response, 200, envelope('ok', ''));
  };

  const download = async (
    request: IncomingMessage,
    body: Record<string, unknown>,
    grant: Grant,
    response: ServerResponse,
  ) => {
    const found = requestFor(body, grant, response);
    if (!found) return;
    const state = requestState(found, clock.now());
    if (state !== 'downloading') {
      // What TikTok answers for a request that is not ready is UNVERIFIED; this follows the documented failure example.
      send(
        response,
        400,
        envelope(
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
    const file = await archiveFor(found);
    const size = (await stat(file)).size;
    let start = 0;
    const headers: Record<string, string> = { 'content-type': 'application/zip' };
    if (acceptRanges) headers['accept-ranges'] = 'bytes';
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (acceptRanges && !options.ignoreRangeRequests && range && Number(range[1]) < size) {
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
  };

  // ---- routing -------------------------------------------------------------------------------

  const routes: Record<string, Endpoint> = {
    'GET /v2/auth/authorize/': 'authorize',
    'POST /v2/oauth/token/': 'token',
    'POST /v2/oauth/revoke/': 'revoke',
    'POST /v2/user/data/add/': 'add',
    'POST /v2/user/data/check/': 'check',
    'POST /v2/user/data/cancel/': 'cancel',
    'POST /v2/user/data/download/': 'download',
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://sandbox');
    const endpoint = routes[`${request.method} ${url.pathname}`];
    if (!endpoint) {
      apiError(response, 404, 'invalid_params', `No such endpoint: ${request.method} ${url.pathname}.`);
      return;
    }
    hits[endpoint]++;
    const raw = await readBody(request);
    if (faults.take(faults.connectionResets, endpoint)) {
      request.socket.destroy();
      return;
    }
    const oauth = endpoint === 'token' || endpoint === 'revoke' || endpoint === 'authorize';
    const failure = faults.take(faults.serverErrorFaults, endpoint);
    if (failure) {
      if (oauth) oauthError(response, failure.status, 'server_error', 'Injected server error.');
      else
        apiError(response, failure.status, 'internal_error', 'Something went wrong. Please try again later.');
      return;
    }
    const throttled = faults.take(faults.rateLimitFaults, endpoint);
    const waitSeconds = throttled ? throttled.retryAfterSeconds : oauth ? undefined : limited(endpoint);
    if (waitSeconds !== undefined) {
      const retryAfter = throttled?.asHttpDate
        ? new Date(clock.now() + waitSeconds * SECOND).toUTCString()
        : String(waitSeconds);
      apiError(
        response,
        429,
        'rate_limit_exceeded',
        'The API rate limit was exceeded. Please try again later.',
        {
          'retry-after': retryAfter,
        },
      );
      return;
    }

    if (endpoint === 'authorize') return authorize(url, response);
    if (endpoint === 'token' || endpoint === 'revoke') {
      const form = new URLSearchParams(raw.toString('utf8'));
      if (endpoint === 'token') return token(form, request.headers['content-type'] ?? '', response);
      return revoke(form, response);
    }
    const grant = authenticate(request, response);
    if (!grant) return;
    let body: Record<string, unknown>;
    try {
      const parsed = parse(raw.toString('utf8') || '{}');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      apiError(response, 400, 'invalid_params', 'The request body is not a JSON object.');
      return;
    }
    switch (endpoint) {
      case 'add':
        return add(url, body, grant, response);
      case 'check':
        return check(url, body, grant, response);
      case 'cancel':
        return cancel(body, grant, response);
      case 'download':
        return download(request, body, grant, response);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'sandbox request failed');
      if (!response.headersSent) apiError(response, 500, 'internal_error', 'Sandbox failure.');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const base = `http://${address.address}:${address.port}`;

  let closed = false;
  return {
    url: base,
    consentUrl: base,
    clientKey,
    clientSecret,
    clock,
    faults,
    accounts,
    hits,
    webhooks: {
      get deliveries() {
        return webhooks.deliveries;
      },
      setUrl(url) {
        webhooks.url = url;
      },
      redeliver: (delivery) => webhooks.redeliver(delivery),
      sign: (rawBody, timestampSeconds) => webhooks.sign(rawBody, timestampSeconds),
      idle: () => webhooks.idle(),
    },
    consent(decision) {
      consentQueue.push(decision);
    },
    async browse(consentUrl) {
      const answer = await fetch(consentUrl, { redirect: 'manual' });
      await answer.arrayBuffer();
      const location = answer.headers.get('location');
      if (answer.status !== 302 || !location) {
        throw new Error(`The sandbox consent page answered HTTP ${answer.status} without a redirect.`);
      }
      const landing = await fetch(location, { redirect: 'manual' }).catch(() => undefined);
      await landing?.arrayBuffer().catch(() => undefined);
      return { location, status: landing?.status ?? 0 };
    },
    requests() {
      return [...requests.values()].map((request) => ({
        requestId: request.id.toString(),
        username: request.account.username,
        status: requestState(request, clock.now()),
        categories: request.categories,
        dataFormat: request.dataFormat,
      }));
    },
    async close() {
      if (closed) return;
      closed = true;
      lifetime.abort();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

function redirectMatches(pattern: string, uri: string): boolean {
  if (pattern === uri) return true;
  if (!pattern.includes(':*')) return false;
  try {
    const target = new URL(uri);
    const [before, after] = pattern.split(':*') as [string, string];
    return (
      `${target.protocol}//${target.hostname}` === before &&
      target.pathname + target.search === after &&
      target.port !== ''
    );
  } catch {
    return false;
  }
}

function send(response: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  response.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  response.end(body);
}

function sendJsonText(response: ServerResponse, status: number, body: string): void {
  send(response, status, body, { 'content-type': 'application/json; charset=utf-8' });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
