import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'lossless-json';
import { silentLogger } from '../logger.js';
import { listen } from '../server/listen.js';
import { type Clock, SimulatedClock } from '../tiktok/clock.js';
import { createState, MINUTE, resolveSettings, type SandboxContext, SECOND } from './context.js';
import { type Endpoint, Faults } from './faults.js';
import { authorize, revoke, revokeGrant, token } from './oauth-endpoints.js';
import type { ConsentDecision, SandboxOptions } from './options.js';
import { add, authenticate, cancel, check, download, expireEarly } from './portability-endpoints.js';
import { apiError, oauthError, readBody } from './replies.js';
import { requestState, type SandboxAccount } from './state.js';
import { type WebhookDelivery, WebhookSender } from './webhooks.js';

const ROUTES: Record<string, Endpoint> = {
  'GET /v2/auth/authorize/': 'authorize',
  'POST /v2/oauth/token/': 'token',
  'POST /v2/oauth/revoke/': 'revoke',
  'POST /v2/user/data/add/': 'add',
  'POST /v2/user/data/check/': 'check',
  'POST /v2/user/data/cancel/': 'cancel',
  'POST /v2/user/data/download/': 'download',
};

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
  const settings = resolveSettings(options);
  const workDir = await mkdtemp(path.join(tmpdir(), 'tiktok-sandbox-'));
  const lifetime = new AbortController();
  const state = createState(options, clock.now());
  const hits: Record<Endpoint, number> = {
    authorize: 0,
    token: 0,
    revoke: 0,
    add: 0,
    check: 0,
    cancel: 0,
    download: 0,
  };
  const webhooks = new WebhookSender({
    url: options.webhook?.url,
    clientSecret: settings.clientSecret,
    clock,
    logger,
    maxAttempts: options.webhook?.maxAttempts ?? 8,
    initialDelayMs: options.webhook?.initialDelayMs ?? 30 * SECOND,
    signal: lifetime.signal,
  });
  const ctx: SandboxContext = {
    settings,
    state,
    clock,
    logger,
    faults,
    webhooks,
    workDir,
    signal: lifetime.signal,
  };
  faults.onRevoke = async (username, reason) => {
    for (const grant of state.grants) {
      if (grant.account.username === username) await revokeGrant(ctx, grant, reason);
    }
  };
  faults.onExpireEarly = (requestId) => expireEarly(ctx, requestId);

  const limited = rateLimiter(clock, settings.rateLimitPerMinute);
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://sandbox');
    const endpoint = ROUTES[`${request.method} ${url.pathname}`];
    if (!endpoint) {
      apiError(
        response,
        clock.now(),
        404,
        'invalid_params',
        `No such endpoint: ${request.method} ${url.pathname}.`,
      );
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
      if (oauth) oauthError(response, clock.now(), failure.status, 'server_error', 'Injected server error.');
      else
        apiError(
          response,
          clock.now(),
          failure.status,
          'internal_error',
          'Something went wrong. Please try again later.',
        );
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
        clock.now(),
        429,
        'rate_limit_exceeded',
        'The API rate limit was exceeded. Please try again later.',
        {
          'retry-after': retryAfter,
        },
      );
      return;
    }

    if (endpoint === 'authorize') return authorize(ctx, url, request.headers.accept ?? '', response);
    if (endpoint === 'token' || endpoint === 'revoke') {
      const form = new URLSearchParams(raw.toString('utf8'));
      if (endpoint === 'token') return token(ctx, form, request.headers['content-type'] ?? '', response);
      return revoke(ctx, form, response);
    }
    const grant = authenticate(ctx, request, response);
    if (!grant) return;
    let body: Record<string, unknown>;
    try {
      const parsed = parse(raw.toString('utf8') || '{}');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      apiError(response, clock.now(), 400, 'invalid_params', 'The request body is not a JSON object.');
      return;
    }
    switch (endpoint) {
      case 'add':
        return add(ctx, url, body, grant, response);
      case 'check':
        return check(ctx, url, body, grant, response);
      case 'cancel':
        return cancel(ctx, body, grant, response);
      case 'download':
        return download(ctx, request, body, grant, response);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'sandbox request failed');
      if (!response.headersSent) apiError(response, clock.now(), 500, 'internal_error', 'Sandbox failure.');
      else response.destroy();
    });
  });
  const listening = await listen(server, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const base = `http://${listening.address}:${listening.port}`;

  let closed = false;
  return {
    url: base,
    consentUrl: base,
    clientKey: settings.clientKey,
    clientSecret: settings.clientSecret,
    clock,
    faults,
    accounts: state.accounts,
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
      state.consentQueue.push(decision);
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
      return [...state.requests.values()].map((request) => ({
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
      await listening.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * TikTok's documented limit (docs/tiktok-api.md §0): `perMinute` requests per endpoint in a sliding
 * minute. Returns the seconds to wait when over it (and counts nothing), else counts the request.
 */
function rateLimiter(clock: Clock, perMinute: number): (endpoint: Endpoint) => number | undefined {
  const windows = new Map<Endpoint, number[]>();
  return (endpoint) => {
    const now = clock.now();
    const window = (windows.get(endpoint) ?? []).filter((at) => at > now - MINUTE);
    windows.set(endpoint, window);
    if (window.length >= perMinute) return Math.max(1, Math.ceil((window[0]! + MINUTE - now) / SECOND));
    window.push(now);
    return undefined;
  };
}
